"""Memory stays flat over 100,000 calls and 10,000 with_options copies.

The mock runs in this process and keeps a log of every request, so it is
reset every 10,000 calls: what is measured is the client's memory."""

from __future__ import annotations

import gc


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def test_memory_is_flat(client, mock) -> None:
    get = client.members.get
    for _ in range(10_000):  # warm up: pools, allocator arenas, caches
        get(1)
    mock.reset()
    gc.collect()
    before = rss_kib()
    for i in range(100_000):
        get(i % 50 + 1)
        if i % 10_000 == 9_999:
            mock.reset()
    for i in range(10_000):
        copy = client.with_options(timeout=5.0, max_retries=1)
        if i % 1000 == 0:
            copy.members.get(1)
    mock.reset()
    gc.collect()
    grown = rss_kib() - before
    assert grown < 4 * 1024, f"RSS grew by {grown} KiB"
