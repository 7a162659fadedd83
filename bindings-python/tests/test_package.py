"""The package as built: generated surface fresh, stubs agree with the runtime,
mypy --strict passes on the examples, the mock runs from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_DIR = os.path.dirname(HERE)
ROOT = os.path.dirname(PKG_DIR)


def run(*args: str, cwd: str = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, timeout=600)


def test_generated_files_are_fresh() -> None:
    out = run(sys.executable, os.path.join(PKG_DIR, "codegen", "generate.py"), "--check")
    assert out.returncode == 0, out.stdout + out.stderr


def test_installed_package_matches_the_sources() -> None:
    import parsec_teams

    installed = os.path.dirname(parsec_teams.__file__)
    assert installed.endswith("site-packages/parsec_teams"), installed  # the wheel, not the source tree
    for name in ("_generated.py", "_generated.pyi", "_client.py", "_models.py", "testing.py", "py.typed"):
        with open(os.path.join(installed, name)) as a, open(os.path.join(PKG_DIR, "python", "parsec_teams", name)) as b:
            assert a.read() == b.read(), f"{name}: the installed wheel is stale (make -C bindings-python build)"


def test_stubtest() -> None:
    out = run(sys.executable, "-m", "mypy.stubtest", "parsec_teams", "--allowlist", os.path.join(HERE, "stubtest-allowlist.txt"), cwd=PKG_DIR)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_strict_on_examples() -> None:
    out = run(sys.executable, "-m", "mypy", "--strict", "--cache-dir", os.path.join(PKG_DIR, ".mypy_cache"), os.path.join(ROOT, "examples", "python"), cwd=PKG_DIR)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mock_from_the_command_line() -> None:
    p = subprocess.Popen([sys.executable, "-m", "parsec_teams.mock", "--quota-window", "5"], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        info = json.loads(p.stdout.readline())
        assert set(info) == {"base_url", "team_id", "api_key", "admin_token"}
        import parsec_teams as pt

        with pt.Client(api_key=info["api_key"], base_url=info["base_url"]) as c:
            assert c.members.get(1).user_id == 1
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(info["base_url"] + "/_mock/requests") as r:
            assert len(json.loads(r.read())) == 1
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0


def test_demo_runs() -> None:
    out = run(sys.executable, os.path.join(ROOT, "examples", "python", "onboard.py"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "audit" in out.stdout.lower()
