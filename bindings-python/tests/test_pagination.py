"""Pages and iterators over more than 1,000 items, sync and async."""

from __future__ import annotations

from typing import Any, Dict

import pytest

import parsec_teams as pt
from parsec_teams.testing import MockServer


def big_fixture(n_members: int) -> Dict[str, Any]:
    with MockServer() as m:
        state = m.state()
    members = state["members"]
    template = members[-1]
    for i in range(len(members) + 1, n_members + 1):
        members.append({**template, "user_id": i, "email": f"user{i}@example.com", "name": f"User {i}", "is_owner": False, "has_api_key": False, "group_ids": []})
    return state


@pytest.fixture(scope="module")
def big() -> Any:
    with MockServer(fixture=big_fixture(1234)) as m:
        yield m


def test_iter_walks_every_page(big) -> None:
    big.reset()
    with big.client() as c:
        ids = [m.user_id for m in c.members.iter()]
    assert len(ids) == 1234 and len(set(ids)) == 1234
    gets = big.requests(method="GET")
    assert len(gets) == 7  # 200 per page by default
    assert all("limit=200" in str(r["query"]) or r["query"].get("limit") == "200" for r in gets)


def test_iter_with_filter_and_page_size(big) -> None:
    big.reset()
    with big.client() as c:
        page = c.members.list(limit=10, offset=1200)
        assert isinstance(page, pt.Page) and page.count == 1234 and len(page.data) == 10
        assert page.data[0].user_id == 1201
        items = list(c.members.iter(limit=150, offset=1000))
    assert len(items) == 234
    assert len(big.requests(method="GET")) == 1 + 2


async def test_async_iter(big) -> None:
    big.reset()
    async with big.async_client() as c:
        ids = [m.user_id async for m in c.members.iter(limit=200)]
    assert len(ids) == 1234 and ids == sorted(ids)


def test_audit_log_iter_events_follows_the_cursor(mock) -> None:
    with mock.client() as c:
        first = c.audit_log.list_events(limit=100)
        assert isinstance(first, pt.EventPage) and first.next_cursor
        events = list(c.audit_log.iter_events(limit=100))
    expected = sorted((e["id"] for e in mock.state()["events"]), reverse=True)  # newest first
    assert len(expected) == 320
    assert [e.id for e in events] == expected
    queries = [str(r["query"]) for r in mock.requests(path="/events")]
    assert len(queries) == 1 + 4 and queries[1] == "limit=100"
    cursors = [q.split("&cursor=", 1)[1] for q in queries[2:]]
    assert all(q.startswith("limit=100&cursor=") for q in queries[2:]) and len(set(cursors)) == 3


async def test_async_iter_events(mock) -> None:
    async with mock.async_client() as c:
        events = [e async for e in c.audit_log.iter_events(limit=200)]
    assert [e.id for e in events] == sorted((e["id"] for e in mock.state()["events"]), reverse=True)
    assert all(isinstance(e, pt.Event) for e in events)
    assert len(mock.requests(path="/events")) == 2


def test_iter_is_lazy_and_validates(client, mock) -> None:
    it = client.members.iter(limit=500)
    assert mock.requests() == []
    with pytest.raises(pt.ValidationError):
        next(it)
    assert mock.requests() == []
