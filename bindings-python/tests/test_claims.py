"""README claims no other test exercised: PARSEC_TEAMS_WORKER_THREADS, quota
pacing through the binding, MockServer(quota_window=...), AdminClient's
environment variables, the admin token never shown."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time

import pytest

import parsec_teams as pt
from parsec_teams.testing import MockServer


# --- PARSEC_TEAMS_WORKER_THREADS -------------------------------------------------------

def runtime_threads(mock: MockServer, value: "str | None") -> int:
    """Threads of the tokio runtime (named "parsec-teams") in a fresh process after one call."""
    code = textwrap.dedent(
        f"""
        import os, parsec_teams as pt
        c = pt.Client(api_key={mock.api_key!r}, base_url={mock.base_url!r})
        assert c.members.get(1).user_id == 1
        import time
        def named():
            return [open(f"/proc/self/task/{{t}}/comm").read().strip() for t in os.listdir("/proc/self/task")].count("parsec-teams")
        # A new thread names itself once it first runs: on a loaded machine that
        # can lag the call, so read until three reads 50 ms apart agree.
        seen = [named()]
        while len(seen) < 3 or len(set(seen[-3:])) > 1:
            time.sleep(0.05)
            seen.append(named())
            if len(seen) > 100:
                break
        print(seen[-1])
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PARSEC_TEAMS_WORKER_THREADS"}
    if value is not None:
        env["PARSEC_TEAMS_WORKER_THREADS"] = value
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def test_worker_threads_from_the_environment(mock) -> None:
    # The core's documented default (core/src/env.rs): half the CPUs, from 1 to 4.
    default = max(1, min(4, len(os.sched_getaffinity(0)) // 2))
    assert runtime_threads(mock, None) == default
    assert runtime_threads(mock, "3") == 3
    assert runtime_threads(mock, "0") == default  # out of range: the default
    assert runtime_threads(mock, "lots") == default


# --- quota pacing and the mock's quota_window ------------------------------------------

@pytest.fixture
def short_window():
    with MockServer(quota_window=1.0) as m:
        yield m


def test_mock_helper_quota_window(short_window) -> None:
    m = short_window
    with m.client(quota_pacing=False, max_retries=0) as c:
        for _ in range(50):
            c.audit_log.list_events(limit=1)
        with pytest.raises(pt.RateLimitError) as info:
            c.audit_log.list_events(limit=1)
        assert info.value.retry_after == 1  # the 1 s window, not the default 300 s
        m.advance_clock(1.5)  # the block lasts one window
        assert len(c.audit_log.list_events(limit=1).data) == 1
    assert [r["status"] for r in m.requests()] == [200] * 50 + [429, 200]


def test_quota_pacing_through_the_binding(short_window) -> None:
    m = short_window
    with m.client(quota_window=1.0, max_retries=0) as c:
        started = time.monotonic()
        for _ in range(51):
            c.audit_log.list_events(limit=1)
        elapsed = time.monotonic() - started
        status = {q["name"]: q for q in c.quota_status()}["audit_log"]
        assert status["window"] == 1.0 and status["limit"] == 50
    seen = m.requests()
    # the 51st call waited for the window instead of earning a 429
    assert [r["status"] for r in seen] == [200] * 51
    assert seen[50]["elapsed_ms"] - seen[0]["elapsed_ms"] >= 950
    assert 0.95 <= elapsed < 5.0


async def test_quota_pacing_through_the_binding_async(short_window) -> None:
    import asyncio

    m = short_window
    async with m.async_client(quota_window=1.0, max_retries=0) as c:
        await asyncio.gather(*(c.audit_log.list_events(limit=1) for _ in range(51)))
    seen = m.requests()
    assert [r["status"] for r in seen] == [200] * 51
    assert seen[50]["elapsed_ms"] - seen[0]["elapsed_ms"] >= 950


def test_quota_window_option_is_validated(mock) -> None:
    for bad in (0, -1, float("nan"), 1e300):
        with pytest.raises(pt.ValidationError) as info:
            mock.client(quota_window=bad)
        assert info.value.field == "quota_window"


# --- AdminClient and its environment ------------------------------------------------------

def test_admin_client_reads_its_environment(mock, monkeypatch) -> None:
    monkeypatch.setenv("PARSEC_ADMIN_BASE_URL", mock.base_url)
    monkeypatch.setenv("PARSEC_ADMIN_TOKEN", mock.admin_token)
    with pt.AdminClient() as a:
        assert a.teams.get(id="1").id is not None
    seen = mock.requests()
    assert len(seen) == 1 and seen[0]["path"] == "/api/v1/teams/1" and seen[0]["status"] == 200
    # an argument wins over the environment
    monkeypatch.setenv("PARSEC_ADMIN_BASE_URL", "http://127.0.0.1:9")
    with pt.AdminClient(mock.base_url) as a:
        a.teams.list()
    assert len(mock.requests()) == 2
    monkeypatch.setenv("PARSEC_ADMIN_BASE_URL", mock.base_url)
    monkeypatch.setenv("PARSEC_ADMIN_TOKEN", "wrong-token")
    with pt.AdminClient(max_retries=0) as a, pytest.raises(pt.AuthenticationError):
        a.teams.list()
    monkeypatch.delenv("PARSEC_ADMIN_TOKEN")
    with pytest.raises(pt.ValidationError) as info:
        pt.AdminClient()
    assert info.value.field == "token"
    monkeypatch.delenv("PARSEC_ADMIN_BASE_URL")
    with pytest.raises(pt.ValidationError) as info:
        pt.AsyncAdminClient(token=mock.admin_token)
    assert info.value.field == "base_url"


def test_admin_token_never_in_repr_errors_or_logs(mock, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="parsec_teams")
    token = mock.admin_token
    with mock.admin_client(max_retries=1) as a:
        mock.add_fault("/api/v1/teams/*", method="GET", status=500, times=5)
        with pytest.raises(pt.InternalServerError) as info:
            a.teams.get(id="1")
        texts = [repr(a), str(info.value), repr(info.value), repr(vars(info.value))]
    texts += [r.getMessage() for r in caplog.records]
    assert any("/api/v1/teams/1" in t for t in texts)  # the logs did capture the call
    for text in texts:
        assert token not in text
