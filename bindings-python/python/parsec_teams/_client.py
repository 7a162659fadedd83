"""The hand-written half of the clients: construction, options, context
management and the generic call paths. The resources and their methods are
generated (``_generated.py``) from the core's operation table."""

from __future__ import annotations

import sys
import weakref
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Tuple, TypeVar

if TYPE_CHECKING:
    import asyncio

from . import _native
from ._native import LoopBridge, NativeClient, TaskHandle
from ._models import QuotaStatus, RequestOptions

__all__ = ["ClientBase", "AsyncClientBase", "AdminClientBase", "AsyncAdminClientBase", "Resource"]

_LANGUAGE = "python {}.{}.{}".format(*sys.version_info[:3])

# asyncio and logging are imported on first use: `import parsec_teams` stays
# fast for scripts that need neither.
_aio: Any = None


def _asyncio() -> Any:
    global _aio
    if _aio is None:
        import asyncio

        _aio = asyncio
    return _aio

_Self = TypeVar("_Self", bound="_Base")


def _sync_log_level() -> None:
    """Forward the core's records only at levels the ``parsec_teams`` logger takes."""
    import logging

    logger = logging.getLogger("parsec_teams")
    level = logger.getEffectiveLevel()
    _native.set_log_level(level if logger.isEnabledFor(level) else 100)


class Resource:
    """A group of operations (``client.members``, ``client.groups``, ...)."""

    __slots__ = ("_call", "_iter")

    def __init__(self, call: Callable[..., Any], iter: Callable[..., Any]) -> None:
        self._call = call
        self._iter = iter


# --- asyncio completion -------------------------------------------------------------

_bridges: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopBridge]" = weakref.WeakKeyDictionary()
_last: Optional[Tuple["weakref.ReferenceType[asyncio.AbstractEventLoop]", LoopBridge]] = None


def _bridge(loop: asyncio.AbstractEventLoop) -> LoopBridge:
    """The completion bridge of ``loop`` (one per loop, made on first use)."""
    global _last
    last = _last
    if last is not None and last[0]() is loop:
        return last[1]
    bridge = _bridges.get(loop)
    if bridge is None:
        bridge = LoopBridge()
        try:
            loop.add_reader(bridge.fileno(), bridge.drain)
        except NotImplementedError:  # pragma: no cover - e.g. the Windows proactor loop
            raise RuntimeError("parsec_teams.AsyncClient needs an event loop with add_reader (a selector loop)") from None
        _bridges[loop] = bridge
    _last = (weakref.ref(loop), bridge)
    return bridge


async def _await_native(start: Callable[[LoopBridge, "asyncio.Future[Any]"], TaskHandle]) -> Any:
    aio = _aio or _asyncio()
    loop = aio.get_running_loop()
    future: "asyncio.Future[Any]" = loop.create_future()
    task = start(_bridge(loop), future)
    try:
        return await future
    except aio.CancelledError:
        task.abort()  # drops the Rust future: the request stops
        raise


# --- clients ---------------------------------------------------------------------------


class _Base:
    _native: NativeClient
    _raw_class: Any

    def _setup(self, native: NativeClient) -> None:
        self._native = native
        self._init_resources(*self._paths(raw=False))

    def _paths(self, raw: bool) -> Tuple[Callable[..., Any], Callable[..., Any]]:
        raise NotImplementedError

    def _init_resources(self, call: Any, iter: Any) -> None:
        raise NotImplementedError

    @property
    def with_raw_response(self) -> Any:
        """The same operations, each returning a ``RawResponse`` (status, headers, parsed result)."""
        return self._raw_class(*self._paths(raw=True))

    def with_options(self: _Self, *, timeout: Optional[float] = None, max_retries: Optional[int] = None) -> _Self:
        """A copy with another timeout (seconds) or retry count, sharing the connection pool and quota pacer."""
        copy = object.__new__(type(self))
        copy._setup(self._native.with_options(timeout, max_retries))
        return copy

    @property
    def closed(self) -> bool:
        return self._native.closed

    def __repr__(self) -> str:
        team_id, base_url, timeout, max_retries = self._native.describe()
        team = f"team_id={team_id!r}, " if team_id else ""
        return f"{type(self).__name__}({team}base_url={base_url!r}, timeout={timeout}, max_retries={max_retries})"


class _SyncBase(_Base):
    def _paths(self, raw: bool) -> Tuple[Callable[..., Any], Callable[..., Any]]:
        return (self._native.call_raw if raw else self._native.call), self._iter

    def _iter(self, op: int, args: Dict[str, Any], options: Optional[RequestOptions]) -> Iterator[Any]:
        pages = self._native.pages(op, args, options)  # type: ignore[arg-type]
        next_page = pages.next_page
        while True:
            items = next_page()
            if items is None:
                return
            yield from items

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Dict[str, Any]] = None,
        body: Any = None,
        options: Optional[RequestOptions] = None,
    ) -> Any:
        """The escape hatch for endpoints the SDK does not cover yet: same auth,
        retries, errors and logging; ``{team_id}`` in ``path`` is filled in; the
        JSON answer comes back as plain data."""
        return self._native.request(method, path, query, body, options)  # type: ignore[arg-type]

    def close(self) -> None:
        """Closes the connection pool (shared with ``with_options`` copies)."""
        self._native.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _AsyncBase(_Base):
    def _paths(self, raw: bool) -> Tuple[Callable[..., Any], Callable[..., Any]]:
        return (self._acall_raw if raw else self._acall), self._aiter

    async def _acall(self, op: int, args: Dict[str, Any], options: Optional[RequestOptions]) -> Any:
        # _await_native, inlined: this is the hot path of every async call.
        aio = _aio or _asyncio()
        loop = aio.get_running_loop()
        future = loop.create_future()
        task = self._native.spawn_call(op, args, options, False, _bridge(loop), future)  # type: ignore[arg-type]
        try:
            return await future
        except aio.CancelledError:
            task.abort()  # drops the Rust future: the request stops
            raise

    async def _acall_raw(self, op: int, args: Dict[str, Any], options: Optional[RequestOptions]) -> Any:
        spawn = self._native.spawn_call
        return await _await_native(lambda b, f: spawn(op, args, options, True, b, f))  # type: ignore[arg-type]

    async def _aiter(self, op: int, args: Dict[str, Any], options: Optional[RequestOptions]) -> AsyncIterator[Any]:
        pages = self._native.pages(op, args, options)  # type: ignore[arg-type]
        spawn_next = pages.spawn_next
        while True:
            items = await _await_native(spawn_next)
            if items is None:
                return
            for item in items:
                yield item

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Dict[str, Any]] = None,
        body: Any = None,
        options: Optional[RequestOptions] = None,
    ) -> Any:
        """The escape hatch for endpoints the SDK does not cover yet (see ``Client.request``)."""
        spawn = self._native.spawn_request
        return await _await_native(lambda b, f: spawn(method, path, query, body, options, b, f))  # type: ignore[arg-type]

    async def close(self) -> None:
        """Closes the connection pool (shared with ``with_options`` copies)."""
        self._native.close()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _TeamsMixin(_Base):
    def quota_status(self) -> List[QuotaStatus]:
        """How many calls each client-side quota has left in its window, and when it refills."""
        return self._native.quota_status()  # type: ignore[return-value]


def _native_client(api: str, values: Dict[str, Any]) -> NativeClient:
    """The native client of ``api`` from the constructor's keywords, passed
    through unchanged: the core checks every value (one ``ValidationError``
    with ``field`` and ``rule``) and reads the environment for what is left out."""
    _sync_log_level()
    del values["self"]
    return NativeClient.new(api, values, _LANGUAGE)


_TEAMS_DOC = """The client of the Parsec for Teams API{kind}.

    Every keyword is an option of the core's options table (names, defaults,
    ranges and environment variables: ``docs/reference/options.md``); left
    out (``None``), the environment or the default applies.

    Args:
        api_key: ``tapi_<team>.<secret>`` (default: env ``PARSEC_API_KEY``). Never printed or logged.
        team_id: the team (default: env ``PARSEC_TEAM_ID``, else the part of the key after ``tapi_``).
        base_url: default env ``PARSEC_BASE_URL``, else ``https://api.parsec.app``.
        timeout: seconds per attempt (default 30).
        max_retries: retries of a retryable failure, 0 to 100 (default 2).
        max_retry_wait: the longest server-requested wait slept through, seconds (default 60).
        pool_idle_timeout: seconds after which an idle pooled connection is closed (default 20).
        proxy: an ``http://`` or ``https://`` proxy URL for every request (a
            loopback ``base_url`` never uses one; an ``https`` one otherwise
            follows ``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY``).
        quota: pace the documented quotas on the client side (default True).
        quota_limit: requests per window of each paced quota (default 50, the service's).
        quota_window: seconds of the paced quota window (default 300, the service's).
    """


class ClientBase(_SyncBase, _TeamsMixin):
    __doc__ = _TEAMS_DOC.format(kind="")

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        team_id: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        max_retry_wait: Optional[float] = None,
        pool_idle_timeout: Optional[float] = None,
        proxy: Optional[str] = None,
        quota: Optional[bool] = None,
        quota_limit: Optional[int] = None,
        quota_window: Optional[float] = None,
    ) -> None:
        self._setup(_native_client("teams", locals()))


class AsyncClientBase(_AsyncBase, _TeamsMixin):
    __doc__ = _TEAMS_DOC.format(kind=" for asyncio (every operation is awaited)")

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        team_id: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        max_retry_wait: Optional[float] = None,
        pool_idle_timeout: Optional[float] = None,
        proxy: Optional[str] = None,
        quota: Optional[bool] = None,
        quota_limit: Optional[int] = None,
        quota_window: Optional[float] = None,
    ) -> None:
        self._setup(_native_client("teams", locals()))


_ADMIN_DOC = """The client of the team-administration API{kind}.

    Every keyword is an option of the core's options table
    (``docs/reference/options.md``); left out, the environment or the default applies.

    Args:
        base_url: the server (default: env ``PARSEC_ADMIN_BASE_URL``; required).
        token: bearer token (default: env ``PARSEC_ADMIN_TOKEN``). Never printed or logged.
        timeout: seconds per attempt (default 30).
        max_retries: retries of a retryable failure, 0 to 100 (default 2).
        max_retry_wait: the longest server-requested wait slept through, seconds (default 60).
        pool_idle_timeout: seconds after which an idle pooled connection is closed (default 20).
        proxy: an ``http://`` or ``https://`` proxy URL (same rules as ``Client``'s).
    """


class AdminClientBase(_SyncBase):
    __doc__ = _ADMIN_DOC.format(kind="")

    def __init__(
        self,
        base_url: Optional[str] = None,
        *,
        token: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        max_retry_wait: Optional[float] = None,
        pool_idle_timeout: Optional[float] = None,
        proxy: Optional[str] = None,
    ) -> None:
        self._setup(_native_client("admin", locals()))


class AsyncAdminClientBase(_AsyncBase):
    __doc__ = _ADMIN_DOC.format(kind=" for asyncio")

    def __init__(
        self,
        base_url: Optional[str] = None,
        *,
        token: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        max_retry_wait: Optional[float] = None,
        pool_idle_timeout: Optional[float] = None,
        proxy: Optional[str] = None,
    ) -> None:
        self._setup(_native_client("admin", locals()))
