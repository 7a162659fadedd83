"""One client process of bench/compare.sh: the parsec_teams package of the
interpreter running it (an old or the current build's venv), one case, N
measured calls.

    python client_py.py get|conc|pages N

Reads PARSEC_BASE_URL / PARSEC_TEAM_ID / PARSEC_API_KEY. Warms up, prints
"warm" and waits for one line on stdin (the driver samples the mock's CPU
there), then makes the N calls and prints one JSON line: the process's CPU time
(getrusage: user + system, every thread, the tokio workers included) and the
wall time of the measured part; then exits at the next line or EOF. `get` and `pages` use the sync Client, `conc`
the AsyncClient with 64 tasks.
"""

import asyncio
import json
import os
import resource
import sys
import time

import parsec_teams as pt

MEMBERS = 1000
CONC = 64


def cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def main() -> None:
    kase, n = sys.argv[1], int(sys.argv[2])
    kw = dict(api_key=os.environ["PARSEC_API_KEY"], team_id=os.environ["PARSEC_TEAM_ID"], base_url=os.environ["PARSEC_BASE_URL"])
    if kase == "conc":
        client = pt.AsyncClient(**kw)

        async def conc(count: int) -> None:
            nxt = 0
            get = client.members.get

            async def worker() -> None:
                nonlocal nxt
                while nxt < count:
                    i = nxt
                    nxt += 1
                    m = await get(i % MEMBERS + 1)
                    if m.user_id != i % MEMBERS + 1:
                        raise SystemExit("wrong member")

            await asyncio.gather(*(worker() for _ in range(CONC)))

        loop = asyncio.new_event_loop()
        run = lambda count: loop.run_until_complete(conc(count))  # noqa: E731
        warm = 4 * CONC
    elif kase == "get":
        sync = pt.Client(**kw)

        def run(count: int) -> None:
            get = sync.members.get
            for i in range(count):
                if get(i % MEMBERS + 1).user_id != i % MEMBERS + 1:
                    raise SystemExit("wrong member")

        warm = 200
    elif kase == "pages":
        sync = pt.Client(**kw)

        def run(count: int) -> None:
            lst = sync.members.list
            for i in range(count):
                if len(lst(limit=200, offset=(i * 200) % MEMBERS).data) != 200:
                    raise SystemExit("short page")

        warm = 20
    else:
        raise SystemExit(f"unknown case {kase}")
    run(warm)
    print("warm", flush=True)
    sys.stdin.readline()
    c0, t0 = cpu(), time.perf_counter()
    run(n)
    wall = time.perf_counter() - t0
    print(json.dumps({"cpu_s": cpu() - c0, "wall_s": wall}), flush=True)
    sys.stdin.readline()  # until the driver is done (a traced process is dumped here), or EOF
    os._exit(0)


if __name__ == "__main__":
    main()
