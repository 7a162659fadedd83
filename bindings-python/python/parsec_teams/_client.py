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


class ClientBase(_SyncBase, _TeamsMixin):
    """The sync client of the Parsec for Teams API (its constructor and
    resources are generated from docs/description.json)."""


class AsyncClientBase(_AsyncBase, _TeamsMixin):
    """The asyncio client of the Parsec for Teams API."""


class AdminClientBase(_SyncBase):
    """The sync client of the team-administration API."""


class AsyncAdminClientBase(_AsyncBase):
    """The asyncio client of the team-administration API."""
