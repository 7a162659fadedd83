"""Retries and no-retries under injected faults, as the server saw them."""

from __future__ import annotations

import pytest

import parsec_teams as pt

MEMBER = "/v1/teams/*/members/*"
GROUPS = "/v1/teams/*/groups"


def test_get_is_retried_after_503(mock) -> None:
    mock.add_fault(MEMBER, method="GET", status=503, retry_after=0, times=2)
    with mock.client(max_retries=2) as c:
        raw = c.with_raw_response.members.get(1)
    assert raw.status == 200 and raw.retries_taken == 2 and raw.data.user_id == 1
    assert [r["status"] for r in mock.requests()] == [503, 503, 200]


def test_get_gives_up_after_max_retries(mock) -> None:
    mock.add_fault(MEMBER, method="GET", status=502, retry_after=0, times=5)
    with mock.client(max_retries=1) as c, pytest.raises(pt.InternalServerError) as info:
        c.members.get(1)
    assert info.value.retries_taken == 1
    assert len(mock.requests()) == 2


def test_no_retries_with_max_retries_zero_per_call(mock) -> None:
    mock.add_fault(MEMBER, method="GET", status=503, retry_after=0, times=5)
    with mock.client(max_retries=2) as c, pytest.raises(pt.InternalServerError):
        c.members.get(1, options={"max_retries": 0})
    assert len(mock.requests()) == 1


def test_with_options_copy(mock) -> None:
    mock.add_fault(MEMBER, method="GET", status=503, retry_after=0, times=5)
    with mock.client(max_retries=3) as c:
        c0 = c.with_options(max_retries=0)
        assert "max_retries=0" in repr(c0)
        with pytest.raises(pt.InternalServerError):
            c0.members.get(1)
    assert len(mock.requests()) == 1


def test_post_is_not_retried_after_500(mock) -> None:
    mock.add_fault(GROUPS, method="POST", status=500, times=5)
    with mock.client(max_retries=3) as c, pytest.raises(pt.InternalServerError) as info:
        c.groups.create(group_name="NY", allow_connections_within_group=True, show_user_assigned_managed_hosts=True, show_personal_hosts=False)
    assert info.value.may_have_been_applied
    assert not info.value.retryable
    assert len(mock.requests(method="POST")) == 1


def test_post_is_retried_after_429(mock) -> None:
    mock.add_fault(GROUPS, method="POST", status=429, retry_after=0, times=1)
    with mock.client(max_retries=2) as c:
        g = c.groups.create(group_name="NY", allow_connections_within_group=True, show_user_assigned_managed_hosts=True, show_personal_hosts=False)
    assert g.name == "NY"
    assert [r["status"] for r in mock.requests(method="POST")] == [429, 200]


def test_post_is_not_retried_after_a_dropped_connection(mock) -> None:
    mock.add_fault(GROUPS, method="POST", drop_connection=True, times=5)
    with mock.client(max_retries=3) as c, pytest.raises(pt.APIConnectionError) as info:
        c.groups.create(group_name="NY", allow_connections_within_group=True, show_user_assigned_managed_hosts=True, show_personal_hosts=False)
    assert info.value.retries_taken == 0


def gaps_ms(entries) -> list:
    """Milliseconds between the arrivals of successive requests, as the mock saw them."""
    return [b["elapsed_ms"] - a["elapsed_ms"] for a, b in zip(entries, entries[1:])]


def test_get_is_retried_after_a_timeout(mock) -> None:
    mock.add_fault(MEMBER, method="GET", delay_ms=1500, times=1)
    with mock.client(timeout=0.3, max_retries=1) as c:
        raw = c.with_raw_response.members.get(1)
    assert raw.data.user_id == 1 and raw.retries_taken == 1
    seen = mock.requests()
    assert len(seen) == 2 and seen[1]["status"] == 200
    # the second attempt started after the 0.3 s timeout (plus a backoff of at most 0.5 s), not after the 1.5 s delay
    assert 290 <= gaps_ms(seen)[0] < 1400


def test_short_retry_after_is_waited(mock) -> None:
    import time

    mock.add_fault(MEMBER, method="GET", status=503, retry_after=1, times=1)
    with mock.client(max_retries=1) as c:
        started = time.monotonic()
        raw = c.with_raw_response.members.get(1)
        elapsed = time.monotonic() - started
    assert raw.retries_taken == 1
    assert 0.95 <= elapsed < 3.0
    seen = mock.requests()
    assert [r["status"] for r in seen] == [503, 200]
    assert 950 <= gaps_ms(seen)[0] < 3000


async def test_short_retry_after_is_waited_async(mock) -> None:
    import time

    mock.add_fault(GROUPS, method="POST", status=429, retry_after=1, times=1)
    async with mock.async_client(max_retries=1) as c:
        started = time.monotonic()
        g = await c.groups.create(group_name="NY", allow_connections_within_group=True, show_user_assigned_managed_hosts=True, show_personal_hosts=False)
        elapsed = time.monotonic() - started
    assert g.name == "NY"
    assert 0.95 <= elapsed < 3.0
    seen = mock.requests(method="POST")
    assert [r["status"] for r in seen] == [429, 200]
    assert 950 <= gaps_ms(seen)[0] < 3000


def test_backoff_waits_with_jitter(mock) -> None:
    # 503 without Retry-After: the first retry waits uniformly in [0, 0.5 s] (full jitter).
    n = 6
    with mock.client(max_retries=1) as c:
        for i in range(n):
            mock.add_fault(MEMBER, method="GET", status=503, times=1)
            assert c.with_raw_response.members.get(i + 1).retries_taken == 1
    seen = mock.requests()
    assert [r["status"] for r in seen] == [503, 200] * n
    gaps = [b["elapsed_ms"] - a["elapsed_ms"] for a, b in zip(seen[::2], seen[1::2])]
    assert all(0 <= g < 750 for g in gaps), gaps
    # A client that retries at once fails this (its 6 gaps add up to a few ms;
    # full jitter makes a sum below 150 ms a 1-in-10^5 event) ...
    assert sum(gaps) > 150, gaps
    # ... and so does one that always waits the same time.
    assert max(gaps) - min(gaps) > 20, gaps


async def test_async_retries(mock) -> None:
    mock.add_fault(MEMBER, method="GET", status=503, retry_after=0, times=2)
    async with mock.async_client(max_retries=2) as c:
        raw = await c.with_raw_response.members.get(1)
    assert raw.retries_taken == 2
    assert [r["status"] for r in mock.requests()] == [503, 503, 200]


def test_http_date_retry_after_is_waited() -> None:
    # The mock sends Retry-After in seconds only: a local server answers 503
    # with an HTTP date two seconds ahead, then 200.
    import email.utils
    import http.server
    import json
    import threading
    import time

    arrivals: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            arrivals.append(time.monotonic())
            if len(arrivals) == 1:
                body, status = b'{"message": "busy"}', 503
                until = email.utils.formatdate(int(time.time()) + 2, usegmt=True)
            else:
                body, status = json.dumps({"data": {"user_id": 1, "email": "a@example.com"}}).encode(), 200
                until = None
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            if until:
                self.send_header("retry-after", until)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        with pt.Client(api_key="tapi_t.s", base_url=f"http://127.0.0.1:{server.server_address[1]}", max_retries=1) as c:
            raw = c.with_raw_response.members.get(1)
        assert raw.retries_taken == 1 and raw.data.user_id == 1
        assert len(arrivals) == 2
        # the date is whole seconds: 1 to 2 s ahead when it was sent
        assert 0.95 <= arrivals[1] - arrivals[0] < 4.0
    finally:
        server.shutdown()
        server.server_close()
