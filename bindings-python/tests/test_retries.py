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


def test_get_is_retried_after_a_timeout(mock) -> None:
    mock.add_fault(MEMBER, method="GET", delay_ms=1500, times=1)
    with mock.client(timeout=0.3, max_retries=1) as c:
        assert c.members.get(1).user_id == 1


async def test_async_retries(mock) -> None:
    mock.add_fault(MEMBER, method="GET", status=503, retry_after=0, times=2)
    async with mock.async_client(max_retries=2) as c:
        raw = await c.with_raw_response.members.get(1)
    assert raw.retries_taken == 2
    assert [r["status"] for r in mock.requests()] == [503, 503, 200]
