"""Every operation of the table, sync and async, checked against what the mock saw."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import pathlib
from typing import Any, Callable, Dict, List, Tuple

import pytest

import parsec_teams as pt


def future(hours: float) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=hours)).replace(microsecond=0).isoformat()


# (resource, name, kwargs, expected result class, method, path suffix)
TEAMS: List[Tuple[str, str, Callable[[], Dict[str, Any]], Any]] = [
    ("audit_log", "list_events", lambda: {"limit": 10, "event_names": ["machine.unassigned"]}, pt.EventPage),
    ("groups", "list", lambda: {"name": "Eng"}, pt.Page),
    ("groups", "create", lambda: {"group_name": "NY", "allow_connections_within_group": True, "show_user_assigned_managed_hosts": True, "show_personal_hosts": False}, pt.Group),
    ("groups", "get", lambda: {"group_id": 1}, pt.Group),
    ("groups", "update", lambda: {"group_id": 2, "group_name": "Design team"}, pt.Group),
    ("groups", "delete", lambda: {"group_id": 5}, type(None)),
    ("groups", "remove_members", lambda: {"group_id": 1, "user_ids": [1]}, type(None)),
    ("groups", "add_permitted_groups", lambda: {"group_id": 4, "group_ids": [1], "direction": "incoming", "show_group_assigned_managed_hosts": True, "show_user_assigned_managed_hosts": False, "show_personal_hosts": False}, type(None)),
    ("groups", "remove_permitted_groups", lambda: {"group_id": 1, "group_ids": [2], "direction": "outgoing"}, type(None)),
    ("groups", "update_permitted_group", lambda: {"group_id": 1, "permitted_group_id": 2, "direction": "outgoing", "show_personal_hosts": False}, type(None)),
    ("groups", "add_members", lambda: {"group_id": 2, "user_ids": [3]}, type(None)),
    ("groups", "assign_members", lambda: {"group_id": 2, "user_ids": [4]}, type(None)),
    ("guest_access", "get", lambda: {"invite_id": "gai_001"}, pt.GuestInvite),
    ("guest_access", "update", lambda: {"invite_id": "gai_001", "keyboard": False}, pt.GuestInvite),
    ("guest_access", "cancel", lambda: {"invite_id": "gai_003"}, type(None)),
    ("guest_access", "list", lambda: {"limit": 2}, pt.Page),
    ("guest_access", "create", lambda: {"host_peer_id": "27rm63mS7SRgxcRzqCZUmnHFUAq", "guest_email": "g@partner.com", "event_name": "Demo", "keyboard": True, "mouse": True, "gamepad": False, "time_zone": "Europe/Paris", "starts_at": future(1), "expires_at": future(3), "message": "hi"}, pt.GuestInvite),
    ("guest_access", "kick_guest", lambda: {"invite_id": "gai_002"}, type(None)),
    ("guest_access", "credits", lambda: {}, pt.Credits),
    ("machines", "list", lambda: {"assignment": "member", "limit": 5}, pt.Page),
    ("machines", "update", lambda: {"machine_id": "tm_001", "name": "Renamed"}, pt.Machine),
    ("machines", "delete", lambda: {"machine_id": "tm_020"}, type(None)),
    ("machines", "get", lambda: {"machine_id": "tm_002"}, pt.Machine),
    ("machines", "create_assignment", lambda: {"machine_id": "tm_003", "user_id": 10}, pt.Machine),
    ("machines", "remove_assignment", lambda: {"machine_id": "tm_004"}, type(None)),
    ("machines", "set_assignment", lambda: {"machine_id": "tm_005", "team_group_ids": [1, 2]}, pt.Machine),
    ("machines", "kick_user", lambda: {"machine_id": "tm_001", "user_id": 3}, type(None)),
    ("app_rules", "list", lambda: {}, pt.Page),
    ("app_rules", "unassign", lambda: {"app_rule_id": "tar_creative", "user_ids": [11]}, type(None)),
    ("app_rules", "assign", lambda: {"app_rule_id": "tar_default", "team_machine_ids": ["tm_005"]}, type(None)),
    ("members", "list", lambda: {"is_admin": True}, pt.Page),
    ("members", "remove", lambda: {"user_id": 30}, type(None)),
    ("members", "get", lambda: {"user_id": 2}, pt.Member),
    ("invites", "list", lambda: {}, pt.Page),
    ("invites", "create", lambda: {"emails": ["a@example.com", "b@example.com"], "group_id": 1}, pt.Page),
    ("invites", "update", lambda: {"emails": ["new.hire1@example.com"], "group_id": 2}, pt.Page),
    ("invites", "cancel", lambda: {"emails": ["new.hire1@example.com"]}, type(None)),
    ("invites", "cancel_deprecated", lambda: {"emails": ["new.hire2@example.com"]}, type(None)),
    ("invites", "resend", lambda: {"emails": ["new.hire1@example.com"]}, pt.Page),
]

ADMIN: List[Tuple[str, str, Callable[[], Dict[str, Any]], Any]] = [
    ("teams", "list", lambda: {}, list),
    ("teams", "list_owned", lambda: {}, list),
    ("teams", "get", lambda: {"id": "1"}, pt.Team),
    ("teams", "create", lambda: {"name": "Ops", "quota": 1073741824, "quota_mail_sent": False}, pt.Team),
    ("teams", "update", lambda: {"id": "1", "name": "Renamed", "quota": 5}, pt.Team),
    ("teams", "delete", lambda: {"id": "2"}, type(None)),
    ("teams", "add_user", lambda: {"team_id": "1", "user_id": "15"}, pt.Team),
    ("teams", "remove_user", lambda: {"team_id": "1", "user_id": "1"}, type(None)),
    ("users", "assign_to_all_teams", lambda: {"user_id": "7"}, type(None)),
    ("users", "remove_from_all_teams", lambda: {"user_id": "7"}, type(None)),
    ("teams", "access_rights", lambda: {"id": "1", "type": "assets"}, list),
]

DESCRIPTION = json.loads((pathlib.Path(__file__).resolve().parents[2] / "docs" / "description.json").read_text())
TABLE = [
    {
        "api": op["api"],
        "resource": op["names"]["python"]["resource"],
        "name": op["names"]["python"]["method"],
        "http_method": op["method"],
        "path": op["path"],
        "deprecated": op["deprecated"],
        "doc": op["doc"],
        "params": [{"name": p["names"]["python"], "location": p["location"], "required": p["required"]} for p in op["params"]],
    }
    for op in DESCRIPTION["operations"]
]


def test_every_operation_of_the_description_is_covered() -> None:
    covered = {("teams", r, n) for r, n, _, _ in TEAMS} | {("admin", r, n) for r, n, _, _ in ADMIN}
    assert covered == {(op["api"], op["resource"], op["name"]) for op in TABLE}
    counts = DESCRIPTION["counts"]
    assert (len(TEAMS), len(ADMIN), len(TEAMS) + len(ADMIN)) == (counts["teams"], counts["admin"], counts["operations"])


def spec(api: str, resource: str, name: str) -> Dict[str, Any]:
    return next(op for op in TABLE if (op["api"], op["resource"], op["name"]) == (api, resource, name))


def check_seen(mock, op: Dict[str, Any], kwargs: Dict[str, Any]) -> None:
    log = mock.requests()
    assert log, "the server saw no request"
    last = log[-1]
    assert last["method"] == op["http_method"]
    path = op["path"]
    if op["api"] == "teams":
        path = path.replace("{team_id}", mock.team_id)
    for p in op["params"]:
        if p["location"] == "path":
            path = path.replace("{" + p["name"] + "}", str(kwargs[p["name"]]))
    assert last["path"] == path
    assert 200 <= last["status"] < 300, last
    body_params = {p["name"] for p in op["params"] if p["location"].startswith("body")}
    sent = last.get("body")
    if isinstance(sent, str) and sent:
        sent = json.loads(sent)
    for name in body_params & kwargs.keys():
        holder = sent.get("team", sent) if isinstance(sent, dict) else {}
        assert name in holder, f"{name} not sent in {sent!r}"


def check_result(result: Any, expected: Any) -> None:
    assert isinstance(result, expected), (type(result), expected)
    if isinstance(result, pt.Page):
        assert isinstance(result.data, list) and result.count is not None
        for item in result.data:
            assert isinstance(item, pt.BaseModel)
    if isinstance(result, list):
        for item in result:
            assert isinstance(item, pt.BaseModel)


@pytest.mark.parametrize("resource,name,kwargs,expected", TEAMS, ids=[f"{r}.{n}" for r, n, _, _ in TEAMS])
def test_teams_operation_sync(mock, resource, name, kwargs, expected) -> None:
    kw = kwargs()
    with mock.client() as c:
        with pytest.warns(DeprecationWarning) if spec("teams", resource, name)["deprecated"] else _nothing():
            result = getattr(getattr(c, resource), name)(**kw)
    check_result(result, expected)
    check_seen(mock, spec("teams", resource, name), kw)


@pytest.mark.parametrize("resource,name,kwargs,expected", TEAMS, ids=[f"{r}.{n}" for r, n, _, _ in TEAMS])
async def test_teams_operation_async(mock, resource, name, kwargs, expected) -> None:
    kw = kwargs()
    async with mock.async_client() as c:
        with pytest.warns(DeprecationWarning) if spec("teams", resource, name)["deprecated"] else _nothing():
            result = await getattr(getattr(c, resource), name)(**kw)
    check_result(result, expected)
    check_seen(mock, spec("teams", resource, name), kw)


@pytest.mark.parametrize("resource,name,kwargs,expected", ADMIN, ids=[f"{r}.{n}" for r, n, _, _ in ADMIN])
def test_admin_operation_sync(mock, resource, name, kwargs, expected) -> None:
    kw = kwargs()
    with mock.admin_client() as c:
        result = getattr(getattr(c, resource), name)(**kw)
    check_result(result, expected)
    check_seen(mock, spec("admin", resource, name), kw)


@pytest.mark.parametrize("resource,name,kwargs,expected", ADMIN, ids=[f"{r}.{n}" for r, n, _, _ in ADMIN])
async def test_admin_operation_async(mock, resource, name, kwargs, expected) -> None:
    kw = kwargs()
    async with mock.async_admin_client() as c:
        result = await getattr(getattr(c, resource), name)(**kw)
    check_result(result, expected)
    check_seen(mock, spec("admin", resource, name), kw)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: object) -> None:
        return None


def test_required_arguments_may_be_positional(client, mock) -> None:
    assert client.members.get(2).user_id == 2
    assert client.groups.get(1).name == "Engineering"


def test_signatures_follow_the_table() -> None:
    import inspect

    clients = {pt.Client: pt.Client(api_key="tapi_t.s", base_url="http://127.0.0.1:9"), pt.AdminClient: pt.AdminClient("http://127.0.0.1:9", token="t")}
    for op in TABLE:
        cls = pt.Client if op["api"] == "teams" else pt.AdminClient
        res = {"teams": "", "admin": "Admin"}[op["api"]] + "".join(w.title() for w in op["resource"].split("_")) + "Resource"
        method = getattr(getattr(pt._generated, res), op["name"])
        params = list(inspect.signature(method).parameters.values())[1:]
        names = [p.name for p in params]
        assert names[-1] == "options"
        assert set(names[:-1]) == {p["name"] for p in op["params"]}
        required = [p["name"] for p in op["params"] if p["required"]]
        assert names[: len(required)] == required
        for p in params[: len(required)]:
            # left out, a required parameter reaches the core, whose ValidationError names it
            assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.default is None
        for p in params[len(required):]:
            assert p.kind is inspect.Parameter.KEYWORD_ONLY
        assert op["doc"][:30] in (method.__doc__ or "")
        # the client class of the operation's API exposes the resource
        assert isinstance(getattr(clients[cls], op["resource"]), getattr(pt._generated, res))


def test_datetime_objects_are_sent_as_rfc3339(client, mock) -> None:
    start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    invite = client.guest_access.create(
        host_peer_id="27rm63mS7SRgxcRzqCZUmnHFUAq", guest_email="d@partner.com", event_name="E",
        keyboard=True, mouse=True, gamepad=True, time_zone="UTC", starts_at=start,
        expires_at=start + dt.timedelta(hours=1), message="m",
    )
    assert invite.guest_email == "d@partner.com"
    body = mock.requests(method="POST")[-1]["body"]
    body = json.loads(body) if isinstance(body, str) else body
    assert body["starts_at"].startswith(str(start.year))


def test_escape_hatch_request(client, mock) -> None:
    out = client.request("GET", "/v1/teams/{team_id}/members/3")
    assert out["data"]["user_id"] == 3
    assert mock.requests()[-1]["path"].endswith("/members/3")


async def test_escape_hatch_request_async(mock) -> None:
    async with mock.async_client() as c:
        out = await c.request("GET", "/v1/teams/{team_id}/members", query={"offset": 0, "limit": 2})
    assert len(out["data"]) == 2
    assert mock.requests()[-1]["query"] in ("offset=0&limit=2", {"offset": "0", "limit": "2"})


def test_quota_status(client) -> None:
    names = {q["name"] for q in client.quota_status()}
    assert {"audit_log", "invites_create", "invites_resend"} <= names
    client.invites.create(emails=["q@example.com"])
    q = {q["name"]: q for q in client.quota_status()}["invites_create"]
    assert q["remaining"] == q["limit"] - 1
