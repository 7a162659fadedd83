"""Load: 32 Python threads x 2,000 calls on one client."""

from __future__ import annotations

import threading


def test_32_threads_x_2000_calls_on_one_client(client, mock) -> None:
    threads_n, calls_n = 32, 2_000
    results = [[0] * calls_n for _ in range(threads_n)]
    errors = []

    def work(i: int) -> None:
        try:
            get = client.members.get
            row = results[i]
            for j in range(calls_n):
                row[j] = get((i + j) % 50 + 1).user_id
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for i in range(threads_n):
        assert results[i] == [(i + j) % 50 + 1 for j in range(calls_n)], i
    seen = mock.requests()
    assert len(seen) == threads_n * calls_n
    assert all(r["status"] == 200 for r in seen)
