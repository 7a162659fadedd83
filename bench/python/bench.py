#!/usr/bin/env python3
"""parsec_teams vs requests, httpx and aiohttp, against the mock server.

The mock runs in a separate process (``python -m parsec_teams.mock``), so its
CPU is not counted as the client's. Every response is decoded fully into
Python objects (``.json()`` for the others, models for parsec_teams). Each
case runs in interleaved rounds (the clients take turns); the report gives
the median requests per second and the median client CPU time (user + sys
of this process, from getrusage) per request, and writes
bench/python/RESULTS.md.

    python bench/python/bench.py [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Awaitable, Callable, Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(fn: Callable[[], int]) -> Tuple[float, float]:
    """(requests per second, client CPU microseconds per request)."""
    c0, t0 = cpu(), time.perf_counter()
    n = fn()
    t1, c1 = time.perf_counter(), cpu()
    return n / (t1 - t0), (c1 - c0) / n * 1e6


def fixture(members: int) -> str:
    from parsec_teams.testing import MockServer

    with MockServer() as m:
        state = m.state()
    base = state["members"]
    template = base[-1]
    for i in range(len(base) + 1, members + 1):
        base.append({**template, "user_id": i, "email": f"bench{i}@example.com", "name": f"Bench User {i}", "is_owner": False, "has_api_key": False, "group_ids": [1, 2]})
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(state, f)
    f.close()
    return f.name


def start_mock(fixture_path: str) -> Tuple[subprocess.Popen, Dict[str, str]]:
    p = subprocess.Popen(
        [sys.executable, "-m", "parsec_teams.mock", "--fixture", fixture_path],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None
    info = json.loads(p.stdout.readline())
    return p, info


# --- cases ---------------------------------------------------------------------------------


def sync_cases(info: Dict[str, str], n: int) -> Dict[str, Callable[[], int]]:
    import httpx
    import requests

    import parsec_teams as pt

    base = info["base_url"]
    url = f"{base}/v1/teams/{info['team_id']}/members/"
    headers = {"Authorization": f"Bearer {info['api_key']}"}
    client = pt.Client(api_key=info["api_key"], team_id=info["team_id"], base_url=base)
    session = requests.Session()
    session.headers.update(headers)
    hx = httpx.Client(headers=headers)

    def ours() -> int:
        get = client.members.get
        for i in range(n):
            m = get(i % 1000 + 1)
        assert m.user_id
        return n

    def req() -> int:
        for i in range(n):
            m = session.get(url + str(i % 1000 + 1)).json()["data"]
        assert m["user_id"]
        return n

    def hxc() -> int:
        for i in range(n):
            m = hx.get(url + str(i % 1000 + 1)).json()["data"]
        assert m["user_id"]
        return n

    return {"parsec_teams.Client": ours, "requests.Session": req, "httpx.Client": hxc}


def page_cases(info: Dict[str, str], n: int) -> Dict[str, Callable[[], int]]:
    import aiohttp
    import httpx
    import requests

    import parsec_teams as pt

    base = info["base_url"]
    url = f"{base}/v1/teams/{info['team_id']}/members"
    headers = {"Authorization": f"Bearer {info['api_key']}"}
    client = pt.Client(api_key=info["api_key"], team_id=info["team_id"], base_url=base)
    session = requests.Session()
    session.headers.update(headers)
    hx = httpx.Client(headers=headers)
    loop = asyncio.new_event_loop()
    aclient = pt.AsyncClient(api_key=info["api_key"], team_id=info["team_id"], base_url=base)

    async def mk() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(headers=headers)

    aio = loop.run_until_complete(mk())
    CLEANUPS.append(lambda: loop.run_until_complete(aio.close()))

    def offs(i: int) -> int:
        return (i * 200) % 800

    def ours() -> int:
        lst = client.members.list
        for i in range(n):
            page = lst(limit=200, offset=offs(i))
        assert len(page.data) == 200 and page.data[-1].email
        return n

    def ours_async() -> int:
        async def run() -> None:
            lst = aclient.members.list
            for i in range(n):
                page = await lst(limit=200, offset=offs(i))
            assert len(page.data) == 200

        loop.run_until_complete(run())
        return n

    def req() -> int:
        for i in range(n):
            page = session.get(url, params={"limit": 200, "offset": offs(i)}).json()
        assert len(page["data"]) == 200
        return n

    def hxc() -> int:
        for i in range(n):
            page = hx.get(url, params={"limit": 200, "offset": offs(i)}).json()
        assert len(page["data"]) == 200
        return n

    def aioh() -> int:
        async def run() -> None:
            for i in range(n):
                async with aio.get(url, params={"limit": 200, "offset": offs(i)}) as r:
                    page = await r.json()
            assert len(page["data"]) == 200

        loop.run_until_complete(run())
        return n

    return {
        "parsec_teams.Client": ours,
        "parsec_teams.AsyncClient": ours_async,
        "requests.Session": req,
        "httpx.Client": hxc,
        "aiohttp (sequential)": aioh,
    }


def async_cases(info: Dict[str, str], n: int, concurrency: int, httpx_n: int) -> Dict[str, Callable[[], int]]:
    import aiohttp
    import httpx

    import parsec_teams as pt

    base = info["base_url"]
    url = f"{base}/v1/teams/{info['team_id']}/members/"
    headers = {"Authorization": f"Bearer {info['api_key']}"}

    def run_workers(make_one: Callable[[Any], Callable[[int], Awaitable[Any]]], setup: Callable[[], Awaitable[Any]], teardown: Callable[[Any], Awaitable[None]], total: int) -> int:
        async def main() -> None:
            ctx = await setup()
            one = make_one(ctx)
            per = total // concurrency

            async def worker(w: int) -> None:
                for i in range(per):
                    await one((w * per + i) % 1000 + 1)

            await asyncio.gather(*(worker(w) for w in range(concurrency)))
            await teardown(ctx)

        asyncio.run(main())
        return (total // concurrency) * concurrency

    client = pt.AsyncClient(api_key=info["api_key"], team_id=info["team_id"], base_url=base)

    async def ours_setup() -> Any:
        return client

    async def noop(_: Any) -> None:
        return None

    def ours_one(c: Any) -> Callable[[int], Awaitable[Any]]:
        get = c.members.get

        async def one(uid: int) -> Any:
            m = await get(uid)
            return m.user_id

        return one

    async def aio_setup() -> Any:
        return aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=concurrency))

    async def aio_close(s: Any) -> None:
        await s.close()

    def aio_one(s: Any) -> Callable[[int], Awaitable[Any]]:
        async def one(uid: int) -> Any:
            async with s.get(url + str(uid)) as r:
                return (await r.json())["data"]["user_id"]

        return one

    async def hx_setup() -> Any:
        return httpx.AsyncClient(headers=headers, limits=httpx.Limits(max_connections=concurrency))

    async def hx_close(c: Any) -> None:
        await c.aclose()

    def hx_one(c: Any) -> Callable[[int], Awaitable[Any]]:
        async def one(uid: int) -> Any:
            r = await c.get(url + str(uid))
            return r.json()["data"]["user_id"]

        return one

    return {
        "parsec_teams.AsyncClient": lambda: run_workers(ours_one, ours_setup, noop, n),
        "aiohttp.ClientSession": lambda: run_workers(aio_one, aio_setup, aio_close, n),
        f"httpx.AsyncClient ({httpx_n} requests)": lambda: run_workers(hx_one, hx_setup, hx_close, httpx_n),
    }


PAIRED: Dict[Tuple[str, str, str], float] = {}
CLEANUPS: List[Callable[[], Any]] = []


def run_case(name: str, cases: Dict[str, Callable[[], int]], rounds: int) -> Dict[str, Tuple[float, float]]:
    results: Dict[str, List[Tuple[float, float]]] = {k: [] for k in cases}
    for k, fn in cases.items():  # warm-up: connections, imports, caches
        fn() if "httpx.AsyncClient" not in k else None
    for r in range(rounds):
        order = list(cases)
        order = order[r % len(order):] + order[: r % len(order)]
        for k in order:
            results[k].append(measure(cases[k]))
            print(f"  {name} round {r + 1}: {k}: {results[k][-1][0]:,.0f} req/s, {results[k][-1][1]:,.0f} us CPU/req", flush=True)
    # Paired ratios: each round's parsec_teams rate over the other's in the same round.
    for a in results:
        for b in results:
            if a.startswith("parsec_teams") and not b.startswith("parsec_teams"):
                PAIRED[(name, a, b)] = statistics.median(x[0] / y[0] for x, y in zip(results[a], results[b]))
                PAIRED[(name, a, b + " cpu")] = statistics.median(x[1] / y[1] for x, y in zip(results[a], results[b]))
    return {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in results.items()}


def import_time() -> float:
    times = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", "import time; t = time.perf_counter(); import parsec_teams; print(time.perf_counter() - t)"],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout))
    return statistics.median(times) * 1e3


def wheel_size() -> str:
    wheels = glob.glob(os.path.join(ROOT, "bindings-python", "dist", "*.whl"))
    if not wheels:
        return "n/a"
    w = max(wheels, key=os.path.getmtime)
    return f"{os.path.getsize(w) / 1e6:.1f} MB ({os.path.basename(w)})"


def table(title: str, res: Dict[str, Tuple[float, float]], ours: str, note: str = "") -> List[str]:
    base_rps, base_cpu = res[ours]
    lines = [f"### {title}", ""]
    if note:
        lines += [note, ""]
    lines += ["| client | req/s (median) | CPU µs/req (median) | parsec_teams speed-up | parsec_teams CPU share |", "| --- | ---: | ---: | ---: | ---: |"]
    for k, (rps, c) in res.items():
        sp = "—" if k.startswith("parsec_teams") else f"{base_rps / rps:.2f}x"
        share = "—" if k.startswith("parsec_teams") else f"{base_cpu / c:.2f}"
        lines.append(f"| {k} | {rps:,.0f} | {c:,.0f} | {sp} | {share} |")
    return lines + [""]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer requests (smoke run)")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    n_sync, n_async, n_pages, httpx_async_n = (2000, 10000, 500, 640) if not args.quick else (200, 1280, 50, 256)
    fx = fixture(1000)
    proc, info = start_mock(fx)
    try:
        print("sync: sequential members.get", flush=True)
        s = run_case("sync", sync_cases(info, n_sync), args.rounds)
        print("async: members.get at concurrency 64", flush=True)
        a = run_case("async", async_cases(info, n_async, 64, httpx_async_n), args.rounds)
        print("pages: members.list(limit=200)", flush=True)
        p = run_case("pages", page_cases(info, n_pages), args.rounds)
    finally:
        for cleanup in CLEANUPS:
            cleanup()
        proc.terminate()
        proc.wait(10)
        os.unlink(fx)
    imp = import_time()
    ws = wheel_size()

    def ratio(res: Dict[str, Tuple[float, float]], a: str, b: str) -> float:
        return res[a][0] / res[b][0]

    sync_req = ratio(s, "parsec_teams.Client", "requests.Session")
    sync_hx = ratio(s, "parsec_teams.Client", "httpx.Client")
    cpu_share = s["parsec_teams.Client"][1] / s["requests.Session"][1]
    async_aio = ratio(a, "parsec_teams.AsyncClient", "aiohttp.ClientSession")
    pages_req = ratio(p, "parsec_teams.Client", "requests.Session")
    pages_aio_sync = ratio(p, "parsec_teams.Client", "aiohttp (sequential)")
    pages_aio_async = ratio(p, "parsec_teams.AsyncClient", "aiohttp (sequential)")

    def pr(case: str, a: str, b: str) -> str:
        v = PAIRED.get((case, a, b))
        return "" if v is None else f" (paired: {v:.2f})"

    def ok(v: float, target: float, lower: bool = False) -> str:
        return "met" if (v <= target if lower else v >= target) else "**missed**"

    lines = [
        "## Python (`bench/python/bench.py`)",
        "",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, CPython {platform.python_version()}, {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f} (a shared machine: expect noise; CPU figures are steadier).",
        f"Mock server in a separate process (`python -m parsec_teams.mock`, fixture of 1,000 members); {args.rounds} interleaved rounds, medians; every response decoded fully into Python objects (`.json()` for the others, models for parsec_teams). CPU = user + sys time of the client process per request (getrusage, includes the client's tokio threads).",
        "",
        "Ratios are of the medians; in parentheses, the median of the per-round (paired) ratios.",
        "",
        "| target | measured | |",
        "| --- | ---: | --- |",
        f"| sync: >= 3x requests | {sync_req:.2f}x{pr('sync', 'parsec_teams.Client', 'requests.Session')} | {ok(sync_req, 3)} |",
        f"| sync: >= 2x httpx | {sync_hx:.2f}x{pr('sync', 'parsec_teams.Client', 'httpx.Client')} | {ok(sync_hx, 2)} |",
        f"| sync: CPU/request <= 1/3 of requests' | {cpu_share:.2f}{pr('sync', 'parsec_teams.Client', 'requests.Session cpu')} | {ok(cpu_share, 1 / 3, lower=True)} |",
        f"| async (c=64): >= 2x aiohttp | {async_aio:.2f}x{pr('async', 'parsec_teams.AsyncClient', 'aiohttp.ClientSession')} | {ok(async_aio, 2)} |",
        f"| pages: >= 2x requests | {pages_req:.2f}x{pr('pages', 'parsec_teams.Client', 'requests.Session')} | {ok(pages_req, 2)} |",
        f"| pages: >= 1.5x aiohttp | {pages_aio_sync:.2f}x (sync Client){pr('pages', 'parsec_teams.Client', 'aiohttp (sequential)')}, {pages_aio_async:.2f}x (AsyncClient){pr('pages', 'parsec_teams.AsyncClient', 'aiohttp (sequential)')} | {ok(max(pages_aio_sync, pages_aio_async), 1.5)} |",
        "",
        f"Wheel: {ws}. `import parsec_teams`: {imp:.0f} ms (median of 5 fresh interpreters).",
        "",
    ]
    lines += table(f"sync: {n_sync} sequential `members.get`", s, "parsec_teams.Client")
    lines += table(f"async: {n_async} `members.get`, 64 concurrent", a, "parsec_teams.AsyncClient", note=f"httpx.AsyncClient makes only {httpx_async_n} requests per round (it is ~20x slower; the rate is what counts).")
    lines += table(f"pages: {n_pages} sequential `members.list(limit=200)`", p, "parsec_teams.Client", note="Speed-up and CPU share columns compare with the sync `parsec_teams.Client`.")
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
