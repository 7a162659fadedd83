"""Every error class of the contract, with its attributes, and validation before sending."""

from __future__ import annotations

import socket

import pytest

import parsec_teams as pt

MEMBERS = "/v1/teams/*/members/*"


@pytest.mark.parametrize(
    "status,cls",
    [
        (400, pt.BadRequestError),
        (401, pt.AuthenticationError),
        (403, pt.PermissionDeniedError),
        (404, pt.NotFoundError),
        (409, pt.ConflictError),
        (422, pt.UnprocessableEntityError),
        (429, pt.RateLimitError),
        (500, pt.InternalServerError),
        (503, pt.InternalServerError),
        (405, pt.APIStatusError),
    ],
)
def test_status_errors(mock, status, cls) -> None:
    mock.add_fault(MEMBERS, method="GET", status=status, times=10, body='{"message": "injected"}', retry_after=0 if status == 429 else None)
    with mock.client(max_retries=0) as c, pytest.raises(cls) as info:
        c.members.get(1)
    e = info.value
    assert isinstance(e, pt.APIStatusError) and isinstance(e, pt.APIError) and isinstance(e, pt.ParsecError)
    assert e.status == status
    assert e.message == "injected"
    assert e.body == '{"message": "injected"}'
    seen = mock.requests()
    assert len(seen) == 1 and seen[0]["status"] == status
    assert e.request_id and e.request_id == seen[0]["request_id"]
    assert e.request_id in str(e)
    assert e.method == "GET" and e.path.endswith("/members/1")
    if status == 429:
        assert e.retry_after == 0


def test_real_not_found_and_permission(mock) -> None:
    with mock.client() as c, pytest.raises(pt.NotFoundError) as info:
        c.members.get(424242)
    assert info.value.status == 404 and "424242" in info.value.message
    with pt.testing.MockServer(keys={"tapi_1or58Uz1O6ObcpGCN9.limited": ["View Team Members"]}) as m2:
        with m2.client(api_key="tapi_1or58Uz1O6ObcpGCN9.limited") as c2:
            assert c2.members.get(1).user_id == 1
            with pytest.raises(pt.PermissionDeniedError):
                c2.groups.list()
        with m2.client(api_key="tapi_1or58Uz1O6ObcpGCN9.wrong") as c3, pytest.raises(pt.AuthenticationError):
            c3.members.get(1)


def test_rate_limit_longer_than_max_retry_wait_raises_at_once(mock) -> None:
    mock.add_fault(MEMBERS, method="GET", status=429, retry_after=300, times=5)
    with mock.client(max_retries=3) as c, pytest.raises(pt.RateLimitError) as info:
        c.members.get(1)
    assert info.value.retry_after == 300
    assert len(mock.requests()) == 1


def test_connection_error(mock) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pt.Client(api_key="tapi_x.y", base_url=f"http://127.0.0.1:{port}", max_retries=0) as c:
        with pytest.raises(pt.APIConnectionError) as info:
            c.members.get(1)
    assert not isinstance(info.value, pt.APITimeoutError)
    assert info.value.status is None


def test_dropped_connection(mock) -> None:
    mock.add_fault(MEMBERS, method="GET", drop_connection=True, times=5)
    with mock.client(max_retries=0) as c, pytest.raises(pt.APIConnectionError):
        c.members.get(1)


def test_timeout(mock) -> None:
    mock.add_fault(MEMBERS, method="GET", delay_ms=2000, times=5)
    with mock.client(timeout=0.2, max_retries=0) as c, pytest.raises(pt.APITimeoutError) as info:
        c.members.get(1)
    assert isinstance(info.value, pt.APIConnectionError)
    assert info.value.retryable


def test_undecodable_body(mock) -> None:
    mock.add_fault(MEMBERS, method="GET", status=200, body="<html>not json", times=1)
    with mock.client() as c, pytest.raises(pt.APIResponseError) as info:
        c.members.get(1)
    assert "not json" in (info.value.body or "")


async def test_async_errors(mock) -> None:
    mock.add_fault(MEMBERS, method="GET", status=409, body='{"message": "busy"}')
    async with mock.async_client(max_retries=0) as c:
        with pytest.raises(pt.ConflictError) as info:
            await c.members.get(1)
        assert info.value.message == "busy"
        with pytest.raises(pt.ValidationError):
            await c.members.list(limit=0)


# --- validation: caught before anything is sent -------------------------------------

@pytest.mark.parametrize(
    "call,field",
    [
        (lambda c: c.members.list(limit=201), "limit"),
        (lambda c: c.members.list(offset=-1), "offset"),
        (lambda c: c.groups.create(group_name="x", allow_connections_within_group=True, show_user_assigned_managed_hosts=True, show_personal_hosts=False), "group_name"),
        (lambda c: c.invites.create(emails=["not-an-email"]), "emails"),
        (lambda c: c.invites.create(emails=["a@b.co", "a@b.co"]), "emails"),
        (lambda c: c.audit_log.list_events(limit=10, cursor="x" * 27, after="y" * 27), "cursor"),
        (lambda c: c.machines.list(assignment="nobody"), "assignment"),
        (lambda c: c.members.get("one"), "user_id"),
        (lambda c: c.members.get(object()), "user_id"),
        (lambda c: c.machines.set_assignment("tm_001"), None),
        (lambda c: c.members.list(options={"timeout": -1}), "timeout"),
        (lambda c: c.members.list(options={"retries": 1}), "options"),
    ],
)
def test_validation_before_sending(mock, call, field) -> None:
    with mock.client() as c, pytest.raises(pt.ValidationError) as info:
        call(c)
    e = info.value
    assert isinstance(e, ValueError)
    if field is not None:
        assert e.field.startswith(field) or (field == "cursor" and e.field in ("cursor", "after")), e
        assert e.field in str(e)
    assert mock.requests() == []


def test_missing_required_parameter_is_a_validation_error(client, mock) -> None:
    # The core's rule `required`, as in every language (scenario validation_required).
    for field, call in (
        ("user_id", lambda: client.members.get()),
        ("show_personal_hosts", lambda: client.groups.create(group_name="Ops", allow_connections_within_group=True, show_user_assigned_managed_hosts=True)),
        ("user_id", lambda: client.members.get(None)),
    ):
        with pytest.raises(pt.ValidationError) as info:
            call()
        assert (info.value.field, info.value.rule) == (field, "required")
    assert mock.requests() == []


def test_client_configuration_errors(monkeypatch) -> None:
    monkeypatch.delenv("PARSEC_API_KEY", raising=False)
    monkeypatch.delenv("PARSEC_TEAM_ID", raising=False)
    with pytest.raises(pt.ValidationError) as info:
        pt.Client()
    assert info.value.field == "api_key"
    with pytest.raises(pt.ValidationError) as info:
        pt.Client(api_key="tapi_t.s", base_url="http://example.com")
    assert info.value.field == "base_url"
    monkeypatch.setenv("PARSEC_API_KEY", "tapi_team42.secret")
    c = pt.Client()
    assert "team42" in repr(c) and "secret" not in repr(c)


def test_key_never_in_repr_or_error(mock) -> None:
    key = mock.api_key
    secret = key.split(".", 1)[1]
    with mock.client() as c:
        assert secret not in repr(c)
        mock.add_fault(MEMBERS, method="GET", status=500, times=5)
        with pytest.raises(pt.InternalServerError) as info:
            c.with_options(max_retries=0).members.get(1)
        e = info.value
        for text in (str(e), repr(e), repr(vars(e))):
            assert secret not in text


def test_secrets_never_in_errors_or_logs(mock, caplog) -> None:
    # errors.rs: "the message never holds the key" -- checked here for every
    # path a secret goes through: a malformed key, a refused key, a proxy URL
    # with a password, and the log records of those calls.
    import logging

    caplog.set_level(logging.DEBUG, logger="parsec_teams")
    texts = []
    for bad_key in ("no-prefix-s3cr3tvalue", "tapi_.s3cr3tvalue", "tapi_team s3cr3tvalue"):
        try:
            with pt.Client(api_key=bad_key, base_url=mock.base_url, max_retries=0) as c:
                c.members.get(1)
        except pt.ParsecError as e:
            texts += [str(e), repr(e), repr(vars(e))]
    with pt.Client(api_key="tapi_team.s3cr3tvalue", base_url=mock.base_url, max_retries=0) as c, pytest.raises(pt.AuthenticationError) as info:
        c.members.get(1)
    texts += [str(info.value), repr(info.value), repr(vars(info.value)), repr(c)]
    with pytest.raises(pt.ValidationError) as vinfo:
        pt.Client(api_key=mock.api_key, base_url="https://api.example.test", proxy="ftp://user:s3cr3tvalue@proxy.example")
    texts += [str(vinfo.value), repr(vars(vinfo.value))]
    texts += [r.getMessage() for r in caplog.records]
    assert any("401" in t for t in texts)  # the refused call is among what was checked
    for text in texts:
        assert "s3cr3tvalue" not in text, text
