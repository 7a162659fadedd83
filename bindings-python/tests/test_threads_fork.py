"""One client shared by 32 threads; the GIL released while a request waits; fork safety."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import parsec_teams as pt


def test_32_threads_share_one_client(client, mock) -> None:
    errors = []
    seen = []

    def work(i: int) -> None:
        try:
            for j in range(10):
                uid = (i * 10 + j) % 50 + 1
                assert client.members.get(uid).user_id == uid
            seen.append(len(client.members.list(limit=5).data))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert seen == [5] * 32
    assert len(mock.requests()) == 32 * 11


def test_gil_is_released_while_a_request_waits(client, mock) -> None:
    mock.add_fault("/v1/teams/*/members/*", method="GET", delay_ms=600, times=1)
    counter = 0
    stop = False

    def spin() -> None:
        nonlocal counter
        while not stop:
            counter += 1

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.05)
    before = counter
    client.members.get(1)
    during = counter - before
    stop = True
    t.join()
    # A pure-Python thread ran (millions of increments) while the call waited 0.6 s.
    assert during > 100_000, during


def _child_uses_client(client: pt.Client, q: "multiprocessing.Queue[object]") -> None:
    try:
        q.put(client.members.get(4).user_id)
    except Exception as e:  # pragma: no cover
        q.put(repr(e))


def test_client_made_before_fork_works_in_the_child(client, mock) -> None:
    assert client.members.get(1).user_id == 1  # the parent's runtime and pool are in use
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            code = 0 if client.members.get(3).user_id == 3 and client.members.list(limit=2).count == 50 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert client.members.get(1).user_id == 1  # the parent still works


def test_multiprocessing_fork_pool(client, mock) -> None:
    client.members.get(1)
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_child_uses_client, args=(client, q)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [q.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(30)
    assert results == [4, 4, 4]
    assert all(p.exitcode == 0 for p in procs)


def test_async_client_after_fork(mock) -> None:
    import asyncio

    c = mock.async_client()
    asyncio.run(c.members.get(1))
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if asyncio.run(c.members.get(5)).user_id == 5 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_ctrl_c_interrupts_a_waiting_call(client, mock, ctrl_c) -> None:
    import _thread

    import pytest

    mock.add_fault("/v1/teams/*/members/*", method="GET", delay_ms=5000, times=1)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        client.members.get(1)
    assert time.monotonic() - started < 2.0
    timer.join()
    assert client.members.get(2).user_id == 2
