"""Test your own scripts offline: the mock server of the SDK, in-process.

    from parsec_teams.testing import MockServer

    def test_my_script():
        with MockServer() as mock:
            client = mock.client()
            client.groups.create(group_name="NY", allow_connections_within_group=True,
                                 show_personal_hosts=False)
            assert mock.requests(method="POST")[-1]["path"].endswith("/groups")

The server runs on a free loopback port in a thread of this process (no
network, no separate binary). The helpers drive its ``/_mock/`` routes: inject
faults, read the request log, move the clock, reset the state.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _native
from ._generated import AdminClient, AsyncAdminClient, AsyncClient, Client

__all__ = ["MockServer"]

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MockServer:
    """The stateful mock of the Parsec Teams and team-administration APIs.

    Args:
        fixture: starting data: a dict or a JSON file path in the shape of
            ``GET /_mock/state`` (default: the deterministic default fixture).
        quota_window: seconds of the quota window and block (default 300).
        keys: extra API keys holding only the named permissions,
            ``{"tapi_x.y": ["View Team Members"]}``.
        host, port: where to listen (default a free loopback port).

    Starts at once; stops on ``stop()`` or at the end of a ``with`` block.
    """

    def __init__(
        self,
        *,
        fixture: Union[None, str, "os.PathLike[str]", Mapping[str, Any]] = None,
        quota_window: Optional[float] = None,
        keys: Optional[Mapping[str, Sequence[str]]] = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        path: Optional[str] = None
        text: Optional[str] = None
        if isinstance(fixture, Mapping):
            text = json.dumps(fixture)
        elif fixture is not None:
            path = os.fspath(fixture)
        self._native = _native.NativeMockServer(
            host, port, path, text, quota_window, [(k, list(v)) for k, v in (keys or {}).items()]
        )

    # -- what a client needs ---------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._native.base_url

    @property
    def api_key(self) -> str:
        """An API key holding every permission."""
        return self._native.api_key

    @property
    def team_id(self) -> str:
        return self._native.team_id

    @property
    def admin_token(self) -> str:
        """A token of the team-administration API."""
        return self._native.admin_token

    def client(self, **options: Any) -> Client:
        """A ``Client`` of this server (keyword options as ``Client``'s)."""
        options.setdefault("api_key", self.api_key)
        options.setdefault("team_id", self.team_id)
        return Client(base_url=self.base_url, **options)

    def async_client(self, **options: Any) -> AsyncClient:
        """An ``AsyncClient`` of this server."""
        options.setdefault("api_key", self.api_key)
        options.setdefault("team_id", self.team_id)
        return AsyncClient(base_url=self.base_url, **options)

    def admin_client(self, **options: Any) -> AdminClient:
        """An ``AdminClient`` of this server."""
        options.setdefault("token", self.admin_token)
        return AdminClient(self.base_url, **options)

    def async_admin_client(self, **options: Any) -> AsyncAdminClient:
        """An ``AsyncAdminClient`` of this server."""
        options.setdefault("token", self.admin_token)
        return AsyncAdminClient(self.base_url, **options)

    # -- the /_mock/ routes ------------------------------------------------------------
    def _control(self, method: str, route: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + "/_mock/" + route, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with _opener.open(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"mock control route {method} /_mock/{route} failed: {e.code} {e.read().decode(errors='replace')}") from None
        return json.loads(raw) if raw.strip() else None

    def reset(self) -> None:
        """Back to the fixture state; quotas, faults and the request log cleared."""
        self._control("POST", "reset")

    def add_fault(
        self,
        path: str,
        *,
        method: Optional[str] = None,
        times: int = 1,
        status: Optional[int] = None,
        retry_after: Optional[float] = None,
        delay_ms: Optional[int] = None,
        drop_connection: bool = False,
        body: Optional[str] = None,
    ) -> None:
        """The next ``times`` requests matching ``method`` and ``path`` (a glob:
        ``/v1/teams/*/members``) get this answer instead: a ``status`` (with
        ``retry_after`` and a raw ``body``), a delay, or a dropped connection."""
        fault: Dict[str, Any] = {"path": path, "times": times}
        for k, v in (("method", method), ("status", status), ("retry_after", retry_after), ("delay_ms", delay_ms), ("body", body)):
            if v is not None:
                fault[k] = v
        if drop_connection:
            fault["drop_connection"] = True
        self._control("POST", "faults", fault)

    def requests(self, *, method: Optional[str] = None, path: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every request the server received since the last reset (``method``,
        ``path``, ``query``, ``body``, ``status``, ``request_id``), optionally
        only those of one method or whose path ends with ``path``."""
        log: List[Dict[str, Any]] = self._control("GET", "requests") or []
        return [
            r
            for r in log
            if (method is None or r.get("method") == method.upper()) and (path is None or str(r.get("path", "")).endswith(path))
        ]

    def state(self) -> Dict[str, Any]:
        """The whole current state (members, groups, machines, invites, credits, quotas)."""
        state: Dict[str, Any] = self._control("GET", "state")
        return state

    def advance_clock(self, seconds: float) -> str:
        """Moves the mock's clock forward; returns the new time (RFC 3339)."""
        self._control("POST", "clock", {"advance_seconds": seconds})
        return self.now()

    def now(self) -> str:
        """The mock's current time (RFC 3339)."""
        return str(self._control("GET", "clock")["now"])

    def join(self, email: str) -> Any:
        """A pending member invite of ``email`` is accepted: the invitee joins."""
        return self._control("POST", "join", {"email": email})

    def set_credits(self, balance: int) -> None:
        """Sets the guest access credit balance."""
        self._control("POST", "credits", {"balance": balance})

    # -- lifetime ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._native.running

    def stop(self) -> None:
        """Stops serving (idempotent)."""
        self._native.stop()

    def __enter__(self) -> "MockServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"MockServer(base_url={self.base_url!r}, team_id={self.team_id!r})"
