"""Runs the conformance scenarios against one surface and compares.

    python3 harness.py SURFACE -- RUNNER_COMMAND...     (run every scenario)
    python3 harness.py --check -- RUST_RUNNER            (scenario files and coverage only)

The harness owns everything that is the same for every language: the mock
servers (the `parsec-teams-mock` binary, reset before each scenario), the
control routes, the comparison and the report. The runner is the only part
written per surface: it makes clients and calls operations through that
surface's public API, speaking the line protocol of README.md. Operation
names and counts come from the core's table (`conformance-rust --table`).
Prints one line `conformance SURFACE: P passed, F failed`; exit 1 if F > 0.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
MOCK = os.environ.get("PARSEC_TEAMS_MOCK", "")
READONLY_KEY_SECRET = "readonly"  # the mock's extra key: tapi_<team>.readonly holds only View Team Members
STEP_DEADLINE = 15.0
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# ---------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------

KSUID = re.compile(r"^[0-9A-Za-z]{27}$")
REQUEST_ID = re.compile(r"^req_[0-9a-f]{20}$")
USER_AGENT = re.compile(r"^parsec-teams/(\S+) \(([a-z]+) ([^()]+)\)$")
# The runner's hello: "$user_agent" must name its language and SDK version.
HELLO: Dict[str, Any] = {}


def user_agent_ok(act: Any) -> bool:
    """`parsec-teams/<version> (<language> <language version>)` (API.md), naming
    the runner's language and the SDK version it reports."""
    m = USER_AGENT.match(act) if isinstance(act, str) else None
    return bool(m) and m.group(2) == HELLO.get("language") and m.group(1) == HELLO.get("version")


def shorthand(exp: str, act: Any) -> Optional[str]:
    """`$...` strings are patterns; None when `act` fits."""
    ok = {
        "$any": act is not None,
        "$string": isinstance(act, str),
        "$nonempty": isinstance(act, str) and act != "",
        "$ksuid": isinstance(act, str) and bool(KSUID.match(act)),
        "$request_id": isinstance(act, str) and bool(REQUEST_ID.match(act)),
        "$int": isinstance(act, int) and not isinstance(act, bool),
        "$number": isinstance(act, (int, float)) and not isinstance(act, bool),
        "$null": act is None,
        "$list": isinstance(act, list),
        "$user_agent": user_agent_ok(act),
    }.get(exp)
    if ok is None:
        return f"unknown pattern {exp}"
    return None if ok else f"expected {exp}, got {json.dumps(act)}"


def compare(exp: Any, act: Any, where: str, out: List[str]) -> None:
    """Dicts: every expected key (a subset); lists: same length, element-wise;
    `{"$len": n}` a list's length only; `{"$contains": s}` a substring; else equality."""
    if isinstance(exp, str) and exp.startswith("$"):
        msg = shorthand(exp, act)
        if msg:
            out.append(f"{where}: {msg}")
        return
    if isinstance(exp, dict) and "$len" in exp:
        if not isinstance(act, list) or len(act) != exp["$len"]:
            out.append(f"{where}: expected a list of {exp['$len']}, got {json.dumps(act)[:200]}")
        return
    if isinstance(exp, dict) and "$contains" in exp:
        if not isinstance(act, str) or exp["$contains"] not in act:
            out.append(f"{where}: expected a string containing {exp['$contains']!r}, got {json.dumps(act)[:200]}")
        return
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            out.append(f"{where}: expected an object, got {json.dumps(act)[:200]}")
            return
        for k, v in exp.items():
            if k not in act and v != "$null":
                out.append(f"{where}.{k}: missing (expected {json.dumps(v)})")
            else:
                compare(v, act.get(k), f"{where}.{k}", out)
        return
    if isinstance(exp, list):
        if not isinstance(act, list) or len(act) != len(exp):
            out.append(f"{where}: expected {json.dumps(exp)[:300]}, got {json.dumps(act)[:300]}")
            return
        for i, (e, a) in enumerate(zip(exp, act)):
            compare(e, a, f"{where}[{i}]", out)
        return
    if isinstance(exp, bool) or isinstance(act, bool):
        if exp is not act:
            out.append(f"{where}: expected {json.dumps(exp)}, got {json.dumps(act)}")
        return
    if exp != act:
        out.append(f"{where}: expected {json.dumps(exp)}, got {json.dumps(act)[:300]}")


def exact(exp: Any, act: Any, where: str, out: List[str]) -> None:
    """Exact equality for request bodies (patterns still allowed at any depth)."""
    if isinstance(exp, str) and exp.startswith("$"):
        compare(exp, act, where, out)
    elif isinstance(exp, dict) and isinstance(act, dict):
        for k in sorted(set(exp) | set(act)):
            if k not in act:
                out.append(f"{where}.{k}: not sent (expected {json.dumps(exp[k])})")
            elif k not in exp:
                out.append(f"{where}.{k}: sent {json.dumps(act[k])}, not expected")
            else:
                exact(exp[k], act[k], f"{where}.{k}", out)
    elif isinstance(exp, list) and isinstance(act, list) and len(exp) == len(act):
        for i, (e, a) in enumerate(zip(exp, act)):
            exact(e, a, f"{where}[{i}]", out)
    else:
        compare(exp, act, where, out)


# ---------------------------------------------------------------------------
# the mocks
# ---------------------------------------------------------------------------


class Mock:
    def __init__(self, quota_window: Optional[float]) -> None:
        args = [MOCK, "--port", "0"]
        if quota_window is not None:
            args += ["--quota-window", str(quota_window)]
        # The default fixture's team id is fixed (mock/README.md); checked below.
        team = "1or58Uz1O6ObcpGCN9"
        args += ["--key", f"tapi_{team}.{READONLY_KEY_SECRET}=View Team Members"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.info = json.loads(self.proc.stdout.readline())
        assert self.info["team_id"] == team, self.info
        self.base_url = self.info["base_url"]

    def control(self, method: str, route: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + "/_mock/" + route, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with _opener.open(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.strip() else None

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# ---------------------------------------------------------------------------
# the runner process
# ---------------------------------------------------------------------------


class Runner:
    def __init__(self, command: List[str]) -> None:
        self.command = command
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.hello = self.read(120)

    def read(self, deadline: float) -> Dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], deadline)
        if not ready:
            raise TimeoutError(f"the runner gave no answer within {deadline} s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the runner exited (status {self.proc.poll()})")
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            raise RuntimeError(f"the runner printed something that is not JSON: {line[:300]!r}") from None

    def send(self, *fields: Any) -> Dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\t".join(str(f) for f in fields) + "\n")
        self.proc.stdin.flush()
        return self.read(STEP_DEADLINE)

    def restart(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.start()

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def ms(v: Optional[float]) -> str:
    return "-1" if v is None else repr(float(v) * 1000.0)


def count(v: Optional[int]) -> str:
    return "-1" if v is None else str(int(v))


# ---------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------


def load_scenarios() -> List[Dict[str, Any]]:
    out = []
    for path in sorted(SCENARIOS.glob("*.json")):
        s = json.loads(path.read_text())
        s["_file"] = path.name
        if s.get("name") != path.stem:
            raise SystemExit(f"{path.name}: its name must be the file name ({s.get('name')!r})")
        out.append(s)
    return out


def check(scenarios: List[Dict[str, Any]], table: List[Dict[str, Any]]) -> List[str]:
    """Scenario files name real operations, and every operation of the core's
    table has a happy-path scenario (a step of mode `call` expected to succeed)."""
    names = {op["name"] for op in table}
    problems = []
    happy = set()
    for s in scenarios:
        for i, step in enumerate(s["steps"]):
            if step["op"] not in names:
                problems.append(f"{s['_file']}: step {i}: {step['op']} is not an operation of the core's table")
            if step.get("mode", "call") == "call" and "error" not in step.get("expect", {}):
                happy.add(step["op"])
    for op in table:
        if op["name"] not in happy:
            problems.append(f"coverage: no scenario calls {op['name']} on its happy path")
    return problems


def substitute(v: Any, env: Dict[str, str]) -> Any:
    if isinstance(v, str):
        for k, x in env.items():
            v = v.replace("{" + k + "}", x)
        return v
    if isinstance(v, list):
        return [substitute(x, env) for x in v]
    if isinstance(v, dict):
        return {k: substitute(x, env) for k, x in v.items()}
    return v


def expand_nest(v: Any) -> Any:
    """`{"$nest": n, "value": v}` is v inside n nested lists (deeper than many JSON
    parsers take: a runner that says `"nest": true` in its hello expands it itself)."""
    if isinstance(v, dict) and set(v) == {"$nest", "value"}:
        out = expand_nest(v["value"])
        for _ in range(v["$nest"]):
            out = [out]
        return out
    if isinstance(v, list):
        return [expand_nest(x) for x in v]
    if isinstance(v, dict):
        return {k: expand_nest(x) for k, x in v.items()}
    return v


def control_steps(mock: Mock, actions: List[Dict[str, Any]], env: Dict[str, str]) -> None:
    for a in actions:
        mock.control(a.get("method", "POST"), a["route"], substitute(a.get("body"), env))


def run_scenario(s: Dict[str, Any], runner: Runner, mocks: Dict[Any, Mock]) -> List[str]:
    window = s.get("mock", {}).get("quota_window")
    if window not in mocks:
        mocks[window] = Mock(window)
    mock = mocks[window]
    mock.control("POST", "reset")
    info = mock.info
    env = {"team_id": info["team_id"], "base_url": info["base_url"]}
    control_steps(mock, s.get("mock", {}).get("setup", []), env)
    diffs: List[str] = []
    c = s.get("client", {})
    quota = c.get("quota", {})
    runner.send("reset")
    key = substitute(c.get("api_key", info["api_key"]), env)
    q_enabled = {True: "1", False: "0", None: "-1"}[quota.get("enabled")]
    for api, secret in (("teams", key), ("admin", substitute(c.get("admin_token", info["admin_token"]), env))):
        base_url = substitute(c.get("base_url", info["base_url"]), env)
        ans = runner.send("client", api, base_url, secret, info["team_id"], ms(c.get("timeout")),
                          count(c.get("max_retries")), ms(c.get("max_retry_wait")), q_enabled, ms(quota.get("window")))
        if not ans.get("ok"):
            return [f"client ({api}): could not be made: {json.dumps(ans)}"]
    for i, step in enumerate(s["steps"]):
        control_steps(mock, step.get("before", []), env)
        opts = step.get("options", {})
        exp = substitute(step.get("expect", {}), env)
        for rep in range(step.get("repeat", 1)):
            where = f"step {i} ({step['op']}{'' if step.get('repeat', 1) == 1 else f' #{rep + 1}'})"
            params = substitute(step.get("params", {}), env)
            if not runner.hello.get("nest"):
                params = expand_nest(params)
            ans = runner.send("call", step.get("mode", "call"), step["op"], json.dumps(params),
                              ms(opts.get("timeout")), count(opts.get("max_retries")))
            if "protocol_error" in ans:
                diffs.append(f"{where}: the runner failed: {ans['protocol_error']}")
                continue
            if "error" in exp:
                if ans.get("ok"):
                    diffs.append(f"{where}: expected {exp['error'].get('class')}, the call succeeded with {json.dumps(ans.get('result'))[:300]}")
                    continue
                compare(exp["error"], ans["error"], f"{where} error", diffs)
                if "error_ancestry" in exp and runner.hello.get("class_tree"):
                    compare(exp["error_ancestry"], ans["error"].get("ancestry"), f"{where} error ancestry", diffs)
            else:
                if not ans.get("ok"):
                    diffs.append(f"{where}: expected success, got {json.dumps(ans.get('error'))[:600]}")
                    continue
                if "result" in exp:
                    compare(exp["result"], ans.get("result"), f"{where} result", diffs)
                if "raw" in exp and runner.hello.get("raw"):
                    compare(exp["raw"], ans.get("raw"), f"{where} raw", diffs)
    seen = mock.control("GET", "requests")
    if "requests" in s:
        expected = substitute(s["requests"], env)
        if len(seen) != len(expected):
            diffs.append(f"requests: the mock saw {len(seen)}, expected {len(expected)}: "
                         + json.dumps([(r["method"], r["path"], r.get("query"), r["status"]) for r in seen])[:1200])
        else:
            for j, (e, a) in enumerate(zip(expected, seen)):
                for k, v in e.items():
                    (exact if k == "body" else compare)(v, a.get(k), f"request {j}.{k}", diffs)
    if "request_count" in s and len(seen) != s["request_count"]:
        diffs.append(f"requests: the mock saw {len(seen)}, expected {s['request_count']}")
    for t in s.get("timing", []):
        a, b = t["between"]
        if max(a, b) >= len(seen):
            diffs.append(f"timing {t}: only {len(seen)} requests")
            continue
        gap = seen[b]["elapsed_ms"] - seen[a]["elapsed_ms"]
        if gap < t["min_ms"] or gap > t.get("max_ms", 1e12):
            diffs.append(f"timing: requests {a}..{b} were {gap:.0f} ms apart, expected {t['min_ms']}..{t.get('max_ms', 'inf')} ms")
    return diffs


def main() -> int:
    args = sys.argv[1:]
    sep = args.index("--")
    opts, command = args[:sep], args[sep + 1:]
    scenarios = load_scenarios()
    if opts == ["--check"]:
        table = json.loads(subprocess.run(command + ["--table"], check=True, capture_output=True, text=True).stdout)
        problems = check(scenarios, table)
        for p in problems:
            print(p, file=sys.stderr)
        print(f"conformance scenarios: {len(scenarios)} files, {len(table)} operations in the core's table, "
              f"{'all' if not problems else 'NOT all'} covered")
        return 1 if problems else 0
    surface = opts[0]
    only = set(opts[1:])
    mocks: Dict[Any, Mock] = {}
    runner = Runner(command)
    HELLO.update(runner.hello)
    passed = failed = 0
    try:
        for s in scenarios:
            if only and s["name"] not in only:
                continue
            started = time.monotonic()
            try:
                diffs = run_scenario(s, runner, mocks)
            except (TimeoutError, RuntimeError) as e:
                diffs = [str(e)]
                runner.restart()
            took = time.monotonic() - started
            if diffs:
                failed += 1
                print(f"FAIL {surface} {s['name']} ({took:.1f} s)", file=sys.stderr)
                for d in diffs:
                    print(f"    {d}", file=sys.stderr)
            else:
                passed += 1
                if os.environ.get("CONFORMANCE_VERBOSE"):
                    print(f"ok   {surface} {s['name']} ({took:.1f} s)", file=sys.stderr)
    finally:
        runner.stop()
        for m in mocks.values():
            m.stop()
    print(f"conformance {surface}: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
