#!/usr/bin/env python3
"""Old build vs current build, side by side in one run (bench/compare.sh).

Every language's client is run as a separate process per (build, case): an old
build (a git worktree at another revision, built by compare.sh) and the current
one, in interleaved rounds (the order alternating every round), so that load
drifts on a shared machine hit both alike. Figures per request:

* client CPU: getrusage / process.cpuUsage of the client process over the
  measured calls only (user + system, every thread), reported by the client;
* mock CPU: the mock process's CPU (sum of /proc/<pid>/task/*/schedstat) over
  the same calls, sampled by this driver at the client's "warm" handshake;
* instructions (callgrind, user space only): the client process traced for N
  and 2N calls, Ir/request = (I(2N) - I(N)) / N; and the mock traced the same
  way, served by one fixed client.

Phases:
  shared  both clients against ONE mock (the current build's): client cost only;
  own     each client against its own build's mock: what a user of each build sees;
  mock    the current client against the old and the new mock: the mock's cost.

Writes bench/compare/RESULTS.md (merged into bench/RESULTS.md by
bench/merge_results.py). See bench/README.md, "Old vs new".
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import glob
import json
import os
import pathlib
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
MEMBERS = 1000

# Requests per measured run (timed rounds) and the N of the callgrind pass (N and 2N).
TIMED_N = {"get": 2000, "conc": 10000, "pages": 500}
CG_N = {"get": 1000, "conc": 2000, "pages": 50}
CASES = {
    "node": ["get", "conc", "pages"],
    "python": ["get", "conc", "pages"],
    "c": ["get", "conc"],
    "rust": ["get", "pages"],
}
CASE_LABEL = {
    "get": "members.get, sequential",
    "conc": "members.get, concurrent",
    "pages": "members.list(limit=200), sequential",
}
# Cases traced under callgrind (the concurrent ones depend on scheduling, and valgrind runs one thread at a time).
CG_CASES = {"node": ["get", "pages"], "python": ["get", "pages"], "c": ["get", "conc"]}
CONC_LABEL = {"node": "64 in flight", "python": "AsyncClient, 64 tasks", "c": "8 pthreads", "rust": ""}


def log(*a: object) -> None:
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- mock
class Mock:
    def __init__(self, binary: str, fixture: str, valgrind_out: str | None = None) -> None:
        cmd = [binary, "--port", "0", "--fixture", fixture]
        self.traced = valgrind_out
        if valgrind_out:
            cmd = traced(valgrind_out) + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"mock {binary} did not start")
        self.info = json.loads(line)
        self.env = {
            "PARSEC_BASE_URL": self.info["base_url"],
            "PARSEC_TEAM_ID": str(self.info["team_id"]),
            "PARSEC_API_KEY": self.info["api_key"],
        }

    def cpu_ns(self) -> int:
        total = 0
        for f in glob.glob(f"/proc/{self.proc.pid}/task/*/schedstat"):
            try:
                total += int(open(f).read().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # a thread that ended between glob and open
        return total

    def reset(self) -> None:
        # Keeps the request log (and the mock's memory) small between runs.
        req = urllib.request.Request(self.info["base_url"] + "/_mock/reset", method="POST", data=b"")
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)


def make_fixture(mock_bin: str, path: str) -> None:
    """The default fixture with its members extended to 1,000 (members 1..50 kept)."""
    tmp = pathlib.Path(path).with_suffix(".empty.json")
    m = subprocess.Popen([mock_bin, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    info = json.loads(m.stdout.readline())
    state = json.loads(urllib.request.urlopen(info["base_url"] + "/_mock/state", timeout=10).read())
    m.send_signal(signal.SIGTERM)
    m.wait()
    for i in range(len(state["members"]) + 1, MEMBERS + 1):
        state["members"].append({
            "user_id": i, "email": f"member{i}@example.com", "name": f"Member {i}", "is_admin": i % 7 == 0,
            "is_owner": False, "has_api_key": False, "group_ids": [1 + i % 6], "team_app_rule_id": None,
            "created_at": "2024-01-01T00:00:00Z",
        })
    state.pop("quotas", None)
    pathlib.Path(path).write_text(json.dumps(state))
    tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- clients
class Build:
    """One build's artifacts: {mock, node, python, c, rust} (paths; absent ones skipped)."""

    def __init__(self, name: str, spec: dict) -> None:
        self.name = name
        self.spec = spec

    def client_cmd(self, lang: str, case: str, n: int) -> list[str]:
        s = self.spec
        if lang == "node":
            return ["node", str(HERE / "client_node.mjs"), s["node"], case, str(n)]
        if lang == "python":
            return [s["python"], str(HERE / "client_py.py"), case, str(n)]
        if lang == "c":
            # bench/c/bench_members_get.c: CALLS THREADS WARMUP --handshake
            return [s["c"], str(n), "8" if case == "conc" else "1", "400" if case == "conc" else "50", "--handshake"]
        if lang == "rust":
            which, kase = case.split(":") if ":" in case else ("core", case)
            return [s["rust"], "--callgrind-child", which, kase, str(n)]
        raise ValueError(lang)


def traced(out: str) -> list[str]:
    """valgrind's callgrind, instrumentation off until `callgrind_control -i on` (start-up runs several times faster)."""
    return ["valgrind", "--tool=callgrind", "--quiet", "--instr-atstart=no", f"--callgrind-out-file={out}"]


def cg_control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cg_newest(out: str) -> str:
    """The newest dump (`callgrind_control -d` writes OUT.1, OUT.2, ...)."""
    return max(glob.glob(out + ".*"), key=lambda f: int(f.rsplit(".", 1)[1]) if f.rsplit(".", 1)[1].isdigit() else -1)


def cg_dumped(out: str) -> int:
    return callgrind_total(cg_newest(out))


# The native library of each binding, as callgrind names its object file.
NATIVE_OBJECT = {"node": ".node", "python": "_native", "c": "libparsec_teams"}


def components(dump: str, lang: str) -> dict:
    """The dump's instructions split: `native` (the binding's Rust library: core, HTTP, runtime)
    and `jit` (V8's optimising compiler, still at work after the warm-up: noise, not the SDK's cost)."""
    text = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", "--inclusive=no", dump],
                          capture_output=True, text=True, check=True).stdout
    native = jit = 0
    for line in text.splitlines():
        m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*?)(?:\s+\[([^\]]*)\])?\s*$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        ir, where, obj = int(m.group(1).replace(",", "")), m.group(2), m.group(3) or ""
        if NATIVE_OBJECT.get(lang, "\0") in obj.rsplit("/", 1)[-1]:
            native += ir
        elif "v8::internal::compiler::" in where or "v8::internal::maglev::" in where:
            jit += ir
    return {"native": native, "jit": jit}


def run_client(cmd: list[str], mock: Mock, valgrind_out: str | None = None, lang: str = "") -> dict:
    """Runs one handshaking client; returns cpu_s, wall_s and the mock's CPU (ns) over the measured calls.
    valgrind_out: the client traced, instructions counted over the measured calls only (ir). A traced
    mock (mock.traced) has its instructions over the same calls counted too (mock_ir)."""
    if valgrind_out:
        cmd = traced(valgrind_out) + cmd
    env = {**os.environ, **mock.env}
    env.pop("PARSEC_TEAMS_LOG", None)
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    line = p.stdout.readline().strip()
    if line != "warm":
        p.kill()
        raise SystemExit(f"{' '.join(cmd)}: expected 'warm', got {line!r}")
    if valgrind_out:
        cg_control(p.pid, "-z")
        cg_control(p.pid, "-i", "on")
    if mock.traced:
        cg_control(mock.proc.pid, "-z")
        cg_control(mock.proc.pid, "-i", "on")
    m0 = mock.cpu_ns()
    p.stdin.write("go\n")
    p.stdin.flush()
    out = p.stdout.readline()
    m1 = mock.cpu_ns()
    r = {}
    if mock.traced:
        cg_control(mock.proc.pid, "-d")
        cg_control(mock.proc.pid, "-i", "off")
        r["mock_ir"] = cg_dumped(mock.traced)
    if valgrind_out and out.strip():
        cg_control(p.pid, "-d")
        r["ir"] = cg_dumped(valgrind_out)
        r.update(components(cg_newest(valgrind_out), lang))
    p.stdin.close()
    rc = p.wait(timeout=600)
    if rc != 0 or not out.strip():
        raise SystemExit(f"{' '.join(cmd)}: exit {rc}, output {out!r}")
    r.update(json.loads(out))
    r["mock_ns"] = m1 - m0
    return r


def run_plain(cmd: list[str], mock: Mock, valgrind_out: str | None = None) -> None:
    """A client without the handshake (the Rust bench's --callgrind-child)."""
    if valgrind_out:
        cmd = ["valgrind", "--tool=callgrind", "--quiet", f"--callgrind-out-file={valgrind_out}"] + cmd
    env = {**os.environ, **mock.env}
    env.pop("PARSEC_TEAMS_LOG", None)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def callgrind_total(path: str) -> int:
    text = pathlib.Path(path).read_text(errors="replace")
    for key in ("summary:", "totals:"):
        m = re.search(rf"^{key}\s+(\d+)", text, re.M)
        if m:
            return int(m.group(1))
    raise SystemExit(f"no total in {path}")


# --------------------------------------------------------------------------- phases
def timed_phase(builds: list[Build], langs: list[str], rounds: int, mocks: dict[str, Mock], scale: float) -> dict:
    """rows[(lang, case, build)] = list of per-round dicts. mocks: build name -> mock serving its client."""
    rows: dict = {}
    for r in range(rounds):
        for lang in langs:
            for case in CASES[lang]:
                if lang == "rust":
                    continue  # the Rust core: callgrind only (its bench, bench/run.sh, has the timed figures)
                n = max(1, int(TIMED_N[case] * scale))
                order = builds if (r + langs.index(lang) + CASES[lang].index(case)) % 2 == 0 else builds[::-1]
                for b in order:
                    mock = mocks[b.name]
                    mock.reset()
                    res = run_client(b.client_cmd(lang, case, n), mock)
                    res["n"] = n
                    rows.setdefault((lang, case, b.name), []).append(res)
                    log(f"  round {r + 1} {lang:6} {case:5} {b.name}: {res['cpu_s'] / n * 1e6:7.1f} us CPU/req, "
                        f"{n / res['wall_s']:8.0f} req/s, mock {res['mock_ns'] / n / 1e3:5.1f} us/req")
    return rows


def callgrind_phase(builds: list[Build], langs: list[str], mock: Mock, scale: float, tmp: str, jobs: int) -> dict:
    """ir[(lang, case, build)] = (N, instructions per request of the client process).

    Node, Python, C: one traced run, instrumentation switched on at the handshake
    (after start-up and warm-up) and the counts dumped right after the N calls.
    Rust (the bench's --callgrind-child, no handshake): N and 2N calls, (I(2N) - I(N)) / N.
    Instruction counts do not depend on load, so `jobs` traced clients run at once."""

    def one(lang: str, case: str, b: Build) -> tuple:
        base = case.split(":")[-1]
        n = max(2, int(CG_N[base] * scale))
        t0 = time.monotonic()
        out = os.path.join(tmp, f"cg-{lang}-{case.replace(':', '-')}-{b.name}")
        if lang == "rust":
            totals = []
            for k in (n, 2 * n):
                run_plain(b.client_cmd(lang, case, k), mock, f"{out}-{k}.out")
                totals.append(callgrind_total(f"{out}-{k}.out"))
            per = (totals[1] - totals[0]) / n
            parts = {}
        else:
            r = run_client(b.client_cmd(lang, case, n), mock, f"{out}.out", lang)
            per = r["ir"] / n
            parts = {"native": r["native"] / n, "jit": r["jit"] / n}
        log(f"  callgrind {lang:6} {case:15} {b.name}: {per:,.0f} Ir/req {parts} ({time.monotonic() - t0:.0f} s)")
        return (lang, case, b.name), (n, per, parts)

    work = []
    for lang in langs:
        cases = ["core:get", "core:pages", "core-json:get", "core-json:pages"] if lang == "rust" else CG_CASES[lang]
        work += [(lang, case, b) for case in cases for b in builds]
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(pool.map(lambda w: one(*w), work))


def mock_callgrind_phase(builds: list[Build], fixture: str, client: Build, lang: str, scale: float, tmp: str) -> dict:
    """Each build's mock traced (both at once) while one fixed client makes N calls: ir[(case, build)] = (n, Ir/request)."""

    def one(b: Build) -> dict:
        ir = {}
        m = Mock(b.spec["mock"], fixture, valgrind_out=os.path.join(tmp, f"cg-mock-{b.name}.out"))
        try:
            for case in [c for c in ["get", "pages"] if c in CASES[lang]]:
                n = max(2, int(CG_N[case] * scale))
                t0 = time.monotonic()
                per = run_client(client.client_cmd(lang, case, n), m)["mock_ir"] / n
                ir[(case, b.name)] = (n, per)
                log(f"  callgrind mock {case:5} {b.name}: {per:,.0f} Ir/req ({time.monotonic() - t0:.0f} s)")
        finally:
            m.stop()
        return ir

    out: dict = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(builds)) as pool:
        for ir in pool.map(one, builds):
            out.update(ir)
    return {k: out[k] for k in sorted(out, key=lambda k: (k[0] != "get", k[1] != "old"))}


# --------------------------------------------------------------------------- report
def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def timed_table(rows: dict, langs: list[str], old: str, new: str) -> list[str]:
    out = [
        "| language | case | old CPU µs/req | new CPU µs/req | CPU new/old (paired median) | old req/s | new req/s | mock CPU µs/req old→new |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for lang in langs:
        for case in CASES[lang]:
            a, b = rows.get((lang, case, old)), rows.get((lang, case, new))
            if not a or not b:
                continue
            cpu = lambda rs: [x["cpu_s"] / x["n"] * 1e6 for x in rs]  # noqa: E731
            rate = lambda rs: [x["n"] / x["wall_s"] for x in rs]  # noqa: E731
            mck = lambda rs: [x["mock_ns"] / x["n"] / 1e3 for x in rs]  # noqa: E731
            paired = med([y / x for x, y in zip(cpu(a), cpu(b))])
            label = CASE_LABEL[case] + (f" ({CONC_LABEL[lang]})" if case == "conc" else "")
            out.append(
                f"| {lang} | {label} | {med(cpu(a)):.1f} | {med(cpu(b)):.1f} | **{paired:.3f}** | "
                f"{med(rate(a)):,.0f} | {med(rate(b)):,.0f} | {med(mck(a)):.1f} → {med(mck(b)):.1f} |"
            )
    return out


def ir_table(ir: dict, langs: list[str], old: str, new: str) -> list[str]:
    out = [
        "| language | case | N | old Ir/req | new Ir/req | new/old | without V8's optimising compiler: old → new (new/old) | native library only: old → new (new/old) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (lang, case, build), (n, o, po) in ir.items():
        if build != old or (lang, case, new) not in ir:
            continue
        _, nw, pn = ir[(lang, case, new)]
        which, base = case.split(":") if ":" in case else ("", case)
        label = CASE_LABEL[base] + (f" ({CONC_LABEL[lang]})" if base == "conc" else "") + (f" [{which}]" if which else "")
        nojit = "—"
        if po.get("jit") or pn.get("jit"):
            a, b = o - po["jit"], nw - pn["jit"]
            nojit = f"{a:,.0f} → {b:,.0f} (**{b / a:.3f}**)"
        nat = f"{po['native']:,.0f} → {pn['native']:,.0f} (**{pn['native'] / po['native']:.3f}**)" if po.get("native") else "—"
        out.append(f"| {lang} | {label} | {n:,} | {o:,.0f} | {nw:,.0f} | **{nw / o:.3f}** | {nojit} | {nat} |")
    return out


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the mocks are stopped (finally)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--builds", required=True, help="JSON file: {old: {rev, mock, node, python, c, rust}, new: {...}}")
    ap.add_argument("--langs", default="node,python,c,rust")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of the shared-mock phase (default 5)")
    ap.add_argument("--own-rounds", type=int, default=3, help="rounds of the own-mock phase (default 3; 0 skips it)")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--phases", default="shared,own,callgrind,mock-callgrind", help="which of shared,own,callgrind,mock-callgrind (default all)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="traced clients at once in the callgrind pass (default: CPUs)")
    ap.add_argument("--quick", action="store_true", help="1/10 of the requests, 1 round each; RESULTS.md left alone")
    ap.add_argument("--results", default=str(HERE / "RESULTS.md"))
    a = ap.parse_args()
    spec = json.loads(pathlib.Path(a.builds).read_text())
    old, new = Build("old", spec["old"]), Build("new", spec["new"])
    builds = [old, new]
    langs = [l for l in a.langs.split(",") if l]
    for l in langs:
        for b in builds:
            if not b.spec.get(l):
                raise SystemExit(f"no {l} client in the {b.name} build")
    scale = 0.1 if a.quick else 1.0
    rounds = 1 if a.quick else a.rounds
    own_rounds = min(1, a.own_rounds) if a.quick else a.own_rounds
    started = dt.datetime.now(dt.timezone.utc)
    load0 = os.getloadavg()
    tmp = tempfile.mkdtemp(prefix="parsec-teams-compare-")
    fixture = os.path.join(tmp, "fixture.json")
    make_fixture(new.spec["mock"], fixture)
    mock_new = Mock(new.spec["mock"], fixture)
    mock_old = Mock(old.spec["mock"], fixture)
    try:
        phases = set(a.phases.split(","))
        shared, own = {}, {}
        if rounds and "shared" in phases:
            log(f"shared mock (the new build's), {rounds} rounds")
            shared = timed_phase(builds, langs, rounds, {"old": mock_new, "new": mock_new}, scale)
        if own_rounds and "own" in phases:
            log(f"own mocks, {own_rounds} rounds")
            own = timed_phase(builds, langs, own_rounds, {"old": mock_old, "new": mock_new}, scale)
        ir, mock_ir, mock_driver = {}, {}, ""
        if not a.no_callgrind and shutil.which("valgrind") and "callgrind" in phases:
            log("callgrind: clients against the new mock")
            ir = callgrind_phase(builds, langs, mock_new, scale, tmp, a.jobs)
        if not a.no_callgrind and shutil.which("valgrind") and "mock-callgrind" in phases:
            driver = next((l for l in ["node", "python", "c"] if l in langs), None)
            if driver:
                mock_driver = driver
                log(f"callgrind: the mocks, served by the new {driver} client")
                mock_ir = mock_callgrind_phase(builds, fixture, new, driver, scale, tmp)
    finally:
        mock_new.stop()
        mock_old.stop()
        if os.environ.get("COMPARE_KEEP"):
            log(f"kept the callgrind outputs in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    load1 = os.getloadavg()
    finished = dt.datetime.now(dt.timezone.utc)

    cpu = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    lines = [
        "## Old vs new build, side by side (`bench/compare.sh`)",
        "",
        f"Written by `bench/compare.sh {spec['old'].get('rev', '?')}`; do not edit by hand. "
        f"Old: `{spec['old'].get('rev', '?')}` ({spec['old'].get('desc', '')}); new: `{spec['new'].get('rev', '?')}` ({spec['new'].get('desc', '')}). "
        f"Run {started:%Y-%m-%d %H:%M}–{finished:%H:%M} UTC on {os.cpu_count()} CPUs ({cpu}), load average {load0[0]:.1f} at the start, {load1[0]:.1f} at the end; "
        f"Node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip() if 'node' in langs else '-'}, "
        f"{platform.python_implementation()} {platform.python_version()} (driver). "
        "Every client is its own process (one per build, case and round), warmed up, then measured; the old and the new build alternate "
        "(the order flipping every round), so load drifts hit both alike. CPU = the client process's user + system time over the measured calls "
        "(every thread), per request; mock CPU = the mock process's schedstat time over the same calls. New/old > 1 means the current build "
        "costs more; the issue's criterion is within 5% (0.95–1.05).",
        "",
    ]
    if shared:
        lines += [f"### Both builds against one mock (the new build's): client cost, {rounds} rounds, medians", ""]
        lines += timed_table(shared, langs, "old", "new") + [""]
    if own:
        lines += [f"### Each build against its own mock: what a user sees, {own_rounds} rounds, medians", ""]
        lines += timed_table(own, langs, "old", "new") + [""]
    if ir:
        lines += [
            "### Instructions per request (callgrind), client process",
            "",
            "Each client traced under `valgrind --tool=callgrind` against the new mock (native, untraced), instrumentation switched "
            "on after start-up and warm-up and the counts dumped right after the N measured calls: Ir/req = I / N. User-space "
            "instructions only, every thread. The concurrent cases run serialised under valgrind (one thread at a time). Rust: the "
            "bench's `--callgrind-child` (typed `core`, and `core-json`, the bindings' generic path), N and 2N calls, "
            "Ir/req = (I(2N) − I(N)) / N. Node's V8 is still compiling hot functions with its optimising compiler during the "
            "measured calls (tens of thousands of Ir per request, varying run to run), so the count without it is the steady "
            "figure; the native library column is the binding's Rust code (core, HTTP, tokio) alone.",
            "",
        ]
        lines += ir_table(ir, langs, "old", "new") + [""]
    if mock_ir:
        lines += [
            "### Instructions per request (callgrind), mock process",
            "",
            f"The mock traced (instrumentation on for the N measured calls only) while the new build's {mock_driver} client makes them natively.",
            "",
            "| case | N | old mock Ir/req | new mock Ir/req | new/old |",
            "|---|---:|---:|---:|---:|",
        ]
        for (case, build), (n, o) in mock_ir.items():
            if build != "old":
                continue
            nw = mock_ir[(case, "new")][1]
            lines.append(f"| {CASE_LABEL[case]} | {n:,} | {o:,.0f} | {nw:,.0f} | **{nw / o:.3f}** |")
        lines.append("")
    text = "\n".join(lines).rstrip() + "\n"
    print(text)
    if not a.quick:
        pathlib.Path(a.results).write_text(text)
        log(f"wrote {a.results}")


if __name__ == "__main__":
    main()
