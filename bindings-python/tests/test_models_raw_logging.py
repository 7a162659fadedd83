"""Result objects, raw responses and logging."""

from __future__ import annotations

import logging
import subprocess
import sys

import parsec_teams as pt


def test_models(client, mock) -> None:
    m = client.members.get(1)
    assert isinstance(m, pt.Member) and isinstance(m, pt.BaseModel)
    assert (m.user_id, m.email, m.is_admin) == (1, "ada.lovelace@example.com", True)
    # unknown fields are kept and reachable
    assert m.is_owner is True
    d = m.to_dict()
    assert d["is_owner"] is True and d["user_id"] == 1
    # ==, repr
    assert m == client.members.get(1)
    assert m != client.members.get(2)
    assert repr(m).startswith("Member(user_id=1, email='ada.lovelace@example.com'")
    # a field the service did not send reads as None
    assert pt.Member(user_id=5).email is None
    assert pt.Member(user_id=5) == pt.Member(user_id=5)


def test_page_and_nested(client) -> None:
    page = client.members.list(limit=3)
    assert isinstance(page, pt.Page) and page.count == 50 and len(page) == 3
    assert [type(x) for x in page] == [pt.Member] * 3
    d = page.to_dict()
    assert d["count"] == 50 and d["data"][0]["user_id"] == 1 and isinstance(d["data"][0], dict)
    credits = client.guest_access.credits()
    assert isinstance(credits, pt.Credits) and credits.balance == 25
    events = client.audit_log.list_events(limit=3)
    assert isinstance(events.data[0], pt.Event) and isinstance(events.data[0].data, dict)


def test_raw_response(client, mock) -> None:
    raw = client.with_raw_response.members.get(2)
    assert isinstance(raw, pt.RawResponse)
    assert raw.status == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.request_id and raw.request_id == raw.headers["x-request-id"] == mock.requests()[-1]["request_id"]
    assert raw.parse() == client.members.get(2)
    empty = client.with_raw_response.members.remove(40)
    assert empty.status in (200, 204) and empty.data is None


async def test_raw_response_async(mock) -> None:
    async with mock.async_client() as c:
        raw = await c.with_raw_response.groups.list(limit=2)
    assert raw.status == 200 and isinstance(raw.data, pt.Page) and len(raw.data.data) == 2


def test_logging_through_the_logging_module(mock, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="parsec_teams")
    with mock.client() as c:  # the level is read when the client is made
        c.members.get(1)
        mock.add_fault("/v1/teams/*/members/*", method="GET", status=503, retry_after=0, times=1)
        c.members.get(2)
    records = [r for r in caplog.records if r.name == "parsec_teams"]
    text = "\n".join(r.getMessage() for r in records)
    assert "GET" in text and "/members/1" in text and "200" in text and "attempt" in text and "elapsed" in text
    assert "retrying" in text
    secret = mock.api_key.split(".", 1)[1]
    assert secret not in text and mock.api_key not in text


def test_logging_from_the_environment(mock) -> None:
    code = (
        "import parsec_teams as pt\n"
        f"c = pt.Client(api_key={mock.api_key!r}, base_url={mock.base_url!r})\n"
        "c.members.get(1)\n"
    )
    env = {"PARSEC_TEAMS_LOG": "debug", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "parsec_teams" in out.stderr and "/members/1" in out.stderr
    assert mock.api_key.split(".", 1)[1] not in out.stderr
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_user_agent_as_the_mock_recorded_it(mock) -> None:
    import asyncio
    import platform

    expected = f"parsec-teams/{pt.__version__} (python {platform.python_version()})"
    with mock.client() as c:
        c.members.get(1)
    with mock.admin_client() as a:
        a.teams.list()

    async def both() -> None:
        async with mock.async_client() as ac:
            await ac.members.get(2)
        async with mock.async_admin_client() as aa:
            await aa.teams.list()

    asyncio.run(both())
    seen = mock.requests()
    assert len(seen) == 4
    assert [r["user_agent"] for r in seen] == [expected] * 4


def test_closed_client(mock) -> None:
    c = mock.client()
    c.close()
    assert c.closed
    try:
        c.members.get(1)
    except pt.ParsecError as e:
        assert "closed" in str(e)
    else:  # pragma: no cover
        raise AssertionError("a closed client must refuse calls")
