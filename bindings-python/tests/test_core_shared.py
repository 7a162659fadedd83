"""Issue 10, Python side: options, environment, escape hatch and decoding go
through the core, so Python answers as every other language does. Expected
names, rules and option lists come from docs/description.json."""

from __future__ import annotations

import inspect
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

import parsec_teams as pt

DESCRIPTION = json.loads((pathlib.Path(__file__).resolve().parents[2] / "docs" / "description.json").read_text())


def python_options(client: str) -> set:
    names = {o["names"]["python"]["name"] for o in DESCRIPTION["options"] if client in o["clients"]}
    for a in DESCRIPTION["option_aliases"]:
        option = next(o for o in DESCRIPTION["options"] if o["name"] == a["option"])
        if a["language"] == "python" and client in option["clients"]:
            names.add(a["name"])  # a deprecated alias, still a keyword for one release
    return names


@pytest.mark.parametrize(
    "cls, client",
    [(pt.Client, "Client"), (pt.AsyncClient, "Client"), (pt.AdminClient, "AdminClient"), (pt.AsyncAdminClient, "AdminClient")],
)
def test_every_core_option_is_a_python_keyword(cls, client) -> None:
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert params == python_options(client)


@pytest.mark.parametrize(
    "options, field, rule",
    [
        ({"max_retries": 101}, "max_retries", "range"),
        ({"max_retries": -1}, "max_retries", "range"),
        ({"timeout": 0}, "timeout", "range"),
        ({"timeout": float("nan")}, "timeout", "finite"),
        ({"max_retry_wait": -0.5}, "max_retry_wait", "range"),
        ({"pool_idle_timeout": 0}, "pool_idle_timeout", "range"),
        ({"quota_limit": 0}, "quota_limit", "range"),
        ({"quota_window": 1e9}, "quota_window", "range"),
        ({"max_retries": 2**70}, "max_retries", "range"),
        ({"timeout": "5"}, "timeout", "type"),
    ],
)
def test_option_errors_are_the_cores_one_error(mock, options, field, rule) -> None:
    for make in (mock.client, mock.async_client):
        with pytest.raises(pt.ValidationError) as info:
            make(**options)
        assert (info.value.field, info.value.rule) == (field, rule)
    if "quota" not in field:
        with pytest.raises(pt.ValidationError) as info:
            mock.admin_client(**options)
        assert (info.value.field, info.value.rule) == (field, rule)
    assert mock.requests() == []


def test_per_call_options_are_checked_by_the_core(client, mock) -> None:
    for call in (
        lambda: client.with_options(max_retries=101),
        lambda: client.members.get(1, options={"max_retries": 101}),
    ):
        with pytest.raises(pt.ValidationError) as info:
            call()
        assert (info.value.field, info.value.rule) == ("max_retries", "range")
    with pytest.raises(pt.ValidationError) as info:
        client.members.get(1, options={"timeout": 0})
    assert (info.value.field, info.value.rule) == ("timeout", "range")
    with pytest.raises(pt.ValidationError) as info:
        client.members.get(1, options={"retries": 1})  # type: ignore[typeddict-unknown-key]
    assert (info.value.field, info.value.rule) == ("options.retries", "unsupported")
    assert mock.requests() == []


def test_quota_limit_paces_after_that_many_calls(mock) -> None:
    # A limit of 2 per 1 s window: the third call waits for the window to end.
    with mock.client(quota_limit=2, quota_window=1.0, max_retries=0) as c:
        status = {q["name"]: q for q in c.quota_status()}["audit_log"]
        assert (status["limit"], status["window"]) == (2, 1.0)
        for _ in range(3):
            c.audit_log.list_events(limit=1)
    seen = mock.requests()
    assert [r["status"] for r in seen] == [200] * 3
    assert 950 <= seen[2]["elapsed_ms"] - seen[0]["elapsed_ms"] < 10_000


def unpaced_calls_reach_the_429(mock, c) -> None:
    """With pacing off, the mock's 429 after its 50 calls reaches the caller."""
    for _ in range(50):
        c.audit_log.list_events(limit=1)
    with pytest.raises(pt.RateLimitError):
        c.audit_log.list_events(limit=1)
    assert [r["status"] for r in mock.requests()] == [200] * 50 + [429]


def test_quota_pacing_is_the_python_name(mock) -> None:
    for cls in (pt.Client, pt.AsyncClient):
        assert "quota_pacing" in inspect.signature(cls.__init__).parameters
    with mock.client(quota_pacing=False, max_retries=0) as c:
        unpaced_calls_reach_the_429(mock, c)


def test_quota_is_a_deprecated_alias(mock) -> None:
    keys = {"api_key": mock.api_key, "team_id": mock.team_id, "base_url": mock.base_url}
    for cls in (pt.Client, pt.AsyncClient):
        with pytest.warns(DeprecationWarning, match="quota_pacing") as seen:
            cls(quota=True, **keys)
        assert seen[0].filename == __file__, "the warning points at the caller"
        with pytest.warns(DeprecationWarning), pytest.raises(pt.ValidationError) as info:
            cls(quota=False, quota_pacing=False, **keys)
        assert (info.value.field, info.value.rule) == ("quota_pacing", "never_both")
    with pytest.warns(DeprecationWarning, match="quota_pacing"):
        c = pt.Client(quota=False, max_retries=0, **keys)
    with c:
        unpaced_calls_reach_the_429(mock, c)


def test_undecodable_page_item_is_an_api_response_error(mock) -> None:
    # 1e400 is valid JSON text but no float: the item cannot be decoded.
    body = '{"data": [{"user_id": 1e400}], "count": 1}'
    mock.add_fault("/v1/teams/*/members", method="GET", status=200, body=body, times=1)
    with mock.client(max_retries=0) as c, pytest.raises(pt.APIResponseError) as info:
        list(c.members.iter())
    assert not isinstance(info.value, pt.ValidationError)


def test_escape_hatch_query_is_encoded_by_the_core(client, mock) -> None:
    client.request("get", "/v1/teams/{team_id}/members", query={"offset": 0, "limit": 2, "tags": ["a,b", "c"], "skip": None, "on": True})
    # One key per list, items comma-separated, a comma inside an item encoded.
    assert mock.requests()[-1]["query"] == "offset=0&limit=2&tags=a%2Cb,c&on=true"


def test_escape_hatch_query_objects_are_refused(client, mock) -> None:
    with pytest.raises(pt.ValidationError) as info:
        client.request("GET", "/v1/teams/{team_id}/members", query={"filter": {"a": 1}})
    assert (info.value.field, info.value.rule) == ("query.filter", "type")
    with pytest.raises(pt.ValidationError) as info:
        client.request("PATCH", "/v1/teams/{team_id}/members")
    assert (info.value.field, info.value.rule) == ("method", "enum")
    assert mock.requests() == []


def run_logged(mock, value: str) -> str:
    code = (
        "import parsec_teams as pt\n"
        f"c = pt.Client(api_key={mock.api_key!r}, base_url={mock.base_url!r})\n"
        "c.members.get(1)\n"
    )
    env = {"PARSEC_TEAMS_LOG": value, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stderr


def test_log_levels_are_parsed_by_the_core(mock) -> None:
    # The core's one parser: an unknown word is off; yes/on are debug; case and spaces ignored.
    assert run_logged(mock, "verbose") == ""
    assert "/members/1" in run_logged(mock, " Yes ")
    assert "/members/1" in run_logged(mock, "TRACE")
    assert run_logged(mock, "warning") == ""  # the request lines are debug records



# --- the description's error tree and field types ---------------------------------------


def test_error_tree_is_the_descriptions() -> None:
    for e in DESCRIPTION["errors"]:
        cls = getattr(pt, e["name"])
        sdk_bases = [b.__name__ for b in cls.__bases__ if b.__module__.startswith("parsec_teams")]
        assert sdk_bases == ([e["parent"]] if e["parent"] else []), e["name"]
        for attribute in e["attributes"]:
            assert attribute in vars(cls) or attribute in cls.__annotations__, (e["name"], attribute)
    assert {e["name"] for e in DESCRIPTION["errors"]} == {n for n in pt.__all__ if n.endswith("Error")}


def test_timestamps_are_timezone_aware_datetimes(client) -> None:
    import datetime as dt

    timestamp_fields = {m: [f["name"] for f in d["fields"] if f["type"] == "timestamp"] for m, d in DESCRIPTION["models"].items()}
    member = client.members.get(1)
    assert timestamp_fields["Member"] == ["created_at"]
    assert isinstance(member.created_at, dt.datetime) and member.created_at.utcoffset() is not None
    assert member.created_at == dt.datetime.fromisoformat(member.to_dict()["created_at"].replace("Z", "+00:00"))
    assert isinstance(member.to_dict()["created_at"], str)  # the service's text, as JSON has it
    for event in client.audit_log.list_events(limit=3).data:
        assert isinstance(event.created_at, dt.datetime) and event.created_at.tzinfo is not None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-01-02T03:04:05Z", (2026, 1, 2, 3, 4, 5, 0, 0)),
        ("2026-01-02t03:04:05.123456789+02:30", (2026, 1, 2, 3, 4, 5, 123456, 150)),
        ("2026-01-02T03:04:05-01:00", (2026, 1, 2, 3, 4, 5, 0, -60)),
        ("2026-01-02T03:04:05", None),  # no offset: not an RFC 3339 timestamp
        ("2026-02-30T00:00:00Z", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_a_timestamp_that_does_not_parse_is_none(mock, text, expected) -> None:
    body = json.dumps({"data": {"user_id": 1, "created_at": text}})
    mock.add_fault("/v1/teams/*/members/1", method="GET", status=200, body=body, times=1)
    with mock.client(max_retries=0) as c:
        got = c.members.get(1).created_at
    if expected is None:
        assert got is None
    else:
        *parts, offset_minutes = expected
        assert (got.year, got.month, got.day, got.hour, got.minute, got.second, got.microsecond) == tuple(parts)
        assert got.utcoffset().total_seconds() == offset_minutes * 60
