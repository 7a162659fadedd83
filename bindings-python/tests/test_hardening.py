"""Findings of the security review (issue 11), Python side: no panic reaches
Python, cyclic or deep input is refused, iterators survive fork(), the proxy
option, huge option values."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from typing import Any, Dict

import pytest

import parsec_teams as pt
from parsec_teams import _native

GROUPS = "/v1/teams/{team_id}/groups"


class DictMutator:
    """Looks like a date; converting it adds a key to the dict being converted
    (pyo3's dict iterator panics on that: a real panic inside an entry point)."""

    def __init__(self, target: Dict[str, Any]) -> None:
        self.target = target

    def isoformat(self) -> str:
        self.target["added_while_converting"] = 1
        return "2030-01-01T00:00:00Z"


def mutating_body() -> Dict[str, Any]:
    body: Dict[str, Any] = {"first": 1}
    body["when"] = DictMutator(body)
    body["last"] = 2
    return body


def check_internal(e: BaseException) -> None:
    assert type(e) is pt.InternalError, type(e).__mro__
    assert isinstance(e, pt.ParsecError) and not isinstance(e, pt.APIError)
    assert isinstance(e, Exception)  # a PanicException is a BaseException only
    assert "internal error in parsec-teams" in str(e)
    assert "dictionary changed size during iteration" in str(e)


# --- 1. no panic reaches Python --------------------------------------------------------

def test_panic_in_a_sync_entry_point_is_an_internal_error(client, mock) -> None:
    with pytest.raises(pt.ParsecError) as info:
        client.request("POST", GROUPS, body=mutating_body())
    check_internal(info.value)
    assert mock.requests() == []
    assert client.members.get(1).user_id == 1  # the client goes on


async def test_panic_in_an_async_entry_point_is_an_internal_error(mock) -> None:
    async with mock.async_client() as c:
        with pytest.raises(pt.ParsecError) as info:
            await asyncio.wait_for(c.request("POST", GROUPS, body=mutating_body()), 10)
        check_internal(info.value)
        assert (await c.members.get(2)).user_id == 2
    assert [r["path"] for r in mock.requests()] == [f"/v1/teams/{mock.team_id}/members/2"]


async def test_panic_inside_an_async_task_resolves_the_future() -> None:
    from parsec_teams._client import _await_native

    for where in ("task", "finish"):
        with pytest.raises(pt.ParsecError) as info:
            # wait_for: a future left pending forever fails here instead of hanging.
            await asyncio.wait_for(_await_native(lambda b, f: _native._panic_for_tests(where, b, f)), 10)
        e = info.value
        assert type(e) is pt.InternalError and not isinstance(e, pt.APIError)
        assert f"deliberate panic in the {where}" in str(e)


def test_panic_in_the_mock_helper_is_not_a_panic_exception() -> None:
    # quota_window=1e300 used to overflow the conversion to a Duration.
    with pytest.raises(ValueError, match="quota_window"):
        pt.testing.MockServer(quota_window=1e300)


@pytest.mark.parametrize("value", [1e300, float("inf"), float("nan"), 0, -1])
def test_huge_or_bad_timeouts_are_validation_errors(mock, value) -> None:
    # The core's rules: a timeout is more than 0; max_retry_wait may be 0 (never sleep).
    rule = "range" if value == value and abs(value) != float("inf") else "finite"
    makers = [
        ("timeout", lambda: mock.client(timeout=value)),
        ("timeout", lambda: mock.admin_client(timeout=value)),
        ("timeout", lambda: mock.client().with_options(timeout=value)),
        ("timeout", lambda: mock.client().members.get(1, options={"timeout": value})),
    ]
    if value != 0:
        makers.append(("max_retry_wait", lambda: mock.async_client(max_retry_wait=value)))
    for field, make in makers:
        with pytest.raises(pt.ValidationError) as info:
            make()
        assert (info.value.field, info.value.rule) == (field, rule)
    assert mock.requests() == []


async def test_huge_timeout_per_call_is_a_validation_error_async(mock) -> None:
    async with mock.async_client() as c:
        with pytest.raises(pt.ValidationError) as info:
            await asyncio.wait_for(c.members.get(1, options={"timeout": 1e300}), 10)
    assert info.value.field == "timeout"


# --- 2. cyclic and deep input ------------------------------------------------------------

def nested_list(depth: int) -> Any:
    v: Any = "leaf"
    for _ in range(depth):
        v = [v]
    return v


def nested_dict(depth: int) -> Any:
    v: Any = "leaf"
    for _ in range(depth):
        v = {"k": v}
    return v


def cyclic_list() -> Any:
    a: Any = []
    a.append(a)
    return a


def cyclic_dict() -> Any:
    d: Any = {}
    d["self"] = d
    return d


BAD_INPUT = {
    "cyclic_list": cyclic_list,
    "cyclic_dict": cyclic_dict,
    "list_10000_deep": lambda: nested_list(10_000),
    "dict_10000_deep": lambda: nested_dict(10_000),
    "list_129_deep": lambda: nested_list(129),
    "dict_129_deep": lambda: nested_dict(129),
}


@pytest.mark.parametrize("make", BAD_INPUT.values(), ids=list(BAD_INPUT))
def test_cyclic_or_deep_input_is_a_depth_validation_error(client, mock, make) -> None:
    with pytest.raises(pt.ValidationError) as info:
        client.request("POST", GROUPS, body=make())
    assert info.value.field == "body" and info.value.rule == "depth"
    assert "128" in str(info.value)
    with pytest.raises(pt.ValidationError) as info:
        client.groups.assign_members(group_id=1, user_ids=make())
    assert info.value.field == "user_ids" and info.value.rule == "depth"
    with pytest.raises(pt.ValidationError) as info:
        client.request("GET", "/v1/teams/{team_id}/members", query={"email": make()})
    assert info.value.field == "query.email" and info.value.rule == "depth"
    assert mock.requests() == []


@pytest.mark.parametrize("make", [cyclic_list, lambda: nested_dict(10_000)], ids=["cyclic", "deep"])
async def test_cyclic_or_deep_input_is_a_depth_validation_error_async(mock, make) -> None:
    async with mock.async_client() as c:
        with pytest.raises(pt.ValidationError) as info:
            await asyncio.wait_for(c.request("POST", GROUPS, body=make()), 10)
        assert info.value.rule == "depth"
        with pytest.raises(pt.ValidationError) as info:
            await asyncio.wait_for(c.groups.assign_members(group_id=1, user_ids=make()), 10)
        assert info.value.field == "user_ids" and info.value.rule == "depth"
    assert mock.requests() == []


def test_128_levels_are_still_accepted(client, mock) -> None:
    # The escape hatch sends any body: the mock refuses its shape, but it got all 128 levels.
    for make in (nested_list, nested_dict):
        with pytest.raises(pt.APIStatusError):
            client.request("POST", GROUPS, body=make(128), options={"max_retries": 0})
        body = mock.requests(method="POST")[-1]["body"]
        if isinstance(body, str):  # the mock's JSON parser stops at 127 levels: it logs the text
            body = json.loads(body)
        depth = 0
        while isinstance(body, (list, dict)):
            body = body[0] if isinstance(body, list) else body["k"]
            depth += 1
        assert (depth, body) == (128, "leaf")


def test_cyclic_and_deep_input_in_a_subprocess(mock) -> None:
    # A stack overflow kills the interpreter (SIGSEGV): here it shows as a failure.
    code = textwrap.dedent(
        f"""
        import parsec_teams as pt
        c = pt.Client(api_key={mock.api_key!r}, base_url={mock.base_url!r})
        a = []; a.append(a)
        deep = "x"
        for _ in range(100_000):
            deep = [deep]
        deep_dict = "x"
        for _ in range(100_000):
            deep_dict = {{"k": deep_dict}}
        for value in (a, deep, deep_dict):
            for call in (lambda: c.request("POST", "/v1/teams/{{team_id}}/groups", body=value),
                         lambda: c.groups.assign_members(group_id=1, user_ids=value)):
                try:
                    call()
                except pt.ValidationError as e:
                    assert e.rule == "depth", e
                else:
                    raise AssertionError("accepted")
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    assert out.stdout.strip() == "ok"


# --- 3. fork: a Pages iterator made before fork() ---------------------------------------

def _run_in_child(fn: Any, timeout: float = 20.0) -> int:
    """Runs fn() in a forked child; its exit code (or -1 when it hung and was killed)."""
    pid = os.fork()
    if pid == 0:  # child
        code = 99
        try:
            code = fn()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return -1


FORK_ERROR = "made before os.fork()"


def test_pages_iterator_made_before_fork_fails_at_once_in_the_child(mock) -> None:
    with mock.client(timeout=60) as c:
        it = c.members.iter(limit=20)
        first = [next(it).user_id for _ in range(25)]  # two pages fetched, a live connection in the pool
        assert first == list(range(1, 26))

        def child() -> int:
            started = time.monotonic()
            rest = []
            try:
                for m in it:  # items 26..40 are already in the parent's page
                    rest.append(m.user_id)
            except pt.ValidationError as e:
                if FORK_ERROR not in str(e) or e.field != "iterator" or e.rule != "fork":
                    return 4
            else:
                return 5
            if rest != list(range(26, 41)) or time.monotonic() - started > 5:
                return 6
            # a new iteration in the child works
            return 0 if [m.user_id for m in c.members.iter(limit=20)] == list(range(1, 51)) else 7

        assert _run_in_child(child) == 0
        # the parent's iterator goes on
        assert [m.user_id for m in it] == list(range(26, 51))


def test_async_pages_iterator_made_before_fork_fails_at_once_in_the_child(mock) -> None:
    c = mock.async_client(timeout=60)
    agen = c.members.iter(limit=20).__aiter__()
    loop = asyncio.new_event_loop()
    try:
        assert [loop.run_until_complete(agen.__anext__()).user_id for _ in range(25)] == list(range(1, 26))

        def child() -> int:
            async def rest() -> Any:
                got = []
                try:
                    while True:
                        got.append((await agen.__anext__()).user_id)
                except pt.ValidationError as e:
                    return got, str(e)

            started = time.monotonic()
            got, error = asyncio.run(rest())
            ok = got == list(range(26, 41)) and FORK_ERROR in error and time.monotonic() - started < 5
            return 0 if ok else 3

        assert _run_in_child(child) == 0
        assert loop.run_until_complete(agen.__anext__()).user_id == 26  # the parent goes on
        loop.run_until_complete(agen.aclose())
    finally:
        loop.close()


# --- 4. the proxy option -----------------------------------------------------------------

REMOTE = "https://api.example.test"  # never contacted: the clients fail to build


def test_proxy_option_is_validated(mock) -> None:
    for make in (
        lambda: pt.Client(api_key=mock.api_key, base_url=REMOTE, proxy="not a url"),
        lambda: pt.AsyncClient(api_key=mock.api_key, base_url=REMOTE, proxy="ftp://proxy.example:21"),
        lambda: pt.AdminClient(REMOTE, token=mock.admin_token, proxy="::"),
        lambda: pt.AsyncAdminClient(REMOTE, token=mock.admin_token, proxy="socks5://p:1080"),
    ):
        with pytest.raises(pt.ValidationError) as info:
            make()
        assert info.value.field == "proxy"


def test_proxy_option_is_passed_through_and_loopback_is_never_proxied(mock) -> None:
    import socket

    # A "proxy" that records whether anything connects to it.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.settimeout(0.2)
    proxy = f"http://127.0.0.1:{s.getsockname()[1]}"
    try:
        with mock.client(proxy=proxy) as c:
            assert c.members.get(1).user_id == 1
        with mock.admin_client(proxy=proxy) as a:
            assert a.teams.get(id="1").id is not None

        async def both() -> None:
            async with mock.async_client(proxy=proxy) as ac:
                assert (await ac.members.get(2)).user_id == 2
            async with mock.async_admin_client(proxy=proxy) as aa:
                assert isinstance(await aa.teams.list(), list)

        asyncio.run(both())
        with pytest.raises(socket.timeout):
            s.accept()
    finally:
        s.close()
    assert len(mock.requests()) == 4


def test_https_base_url_goes_through_the_proxy_option() -> None:
    import socket
    import threading

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    seen: list = []

    def serve() -> None:
        conn, _ = s.accept()
        with conn:
            conn.settimeout(5)
            seen.append(conn.recv(4096))
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with pt.Client(api_key="tapi_t.s3cr3t", base_url="https://api.example.test", proxy=f"http://127.0.0.1:{s.getsockname()[1]}", max_retries=0, timeout=5) as c:
            with pytest.raises(pt.APIConnectionError):
                c.members.get(1)
        t.join(5)
        assert seen and seen[0].startswith(b"CONNECT api.example.test:443 ")
        assert b"s3cr3t" not in seen[0]  # the key travels inside the TLS tunnel only
    finally:
        s.close()
