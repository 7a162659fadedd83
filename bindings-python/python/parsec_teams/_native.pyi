# Type stubs of the native module (hand-written: it is small and generic; the
# per-operation surface is generated into _generated.pyi).
import asyncio
from typing import Any, Dict, List, Optional, Tuple, final


__version__: str
__all__ = [
    "LoopBridge",
    "NativeClient",
    "NativeMockServer",
    "Pages",
    "TaskHandle",
    "__version__",
    "_panic_for_tests",
    "after_fork_in_child",
    "op_id",
    "register",
    "env_log_level",
    "set_log_level",
]

def op_id(api: str, resource: str, name: str) -> int: ...
def after_fork_in_child() -> None: ...
def register(exceptions: Dict[str, type], models: Dict[str, type]) -> None: ...
def set_log_level(level: int) -> None: ...
def env_log_level() -> Optional[int]: ...
def _panic_for_tests(place: str, bridge: LoopBridge, future: asyncio.Future[Any]) -> TaskHandle: ...

@final
class TaskHandle:
    def abort(self) -> None: ...

@final
class LoopBridge:
    def __new__(cls) -> LoopBridge: ...
    def fileno(self) -> int: ...
    def drain(self) -> None: ...

@final
class Pages:
    def next_page(self) -> Optional[List[Any]]: ...
    def spawn_next(self, bridge: LoopBridge, future: asyncio.Future[Any]) -> TaskHandle: ...

@final
class NativeClient:
    @staticmethod
    def new(api: str, values: Optional[Dict[str, Any]], language: str) -> NativeClient: ...
    def with_options(self, timeout: Optional[float] = None, max_retries: Optional[int] = None) -> NativeClient: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def describe(self) -> Tuple[str, str, float, int]: ...
    def call(self, op: int, args: Optional[Dict[str, Any]], options: Optional[Dict[str, Any]] = None) -> Any: ...
    def call_raw(self, op: int, args: Optional[Dict[str, Any]], options: Optional[Dict[str, Any]] = None) -> Any: ...
    def spawn_call(
        self,
        op: int,
        args: Optional[Dict[str, Any]],
        options: Optional[Dict[str, Any]],
        raw: bool,
        bridge: LoopBridge,
        future: asyncio.Future[Any],
    ) -> TaskHandle: ...
    def pages(self, op: int, args: Optional[Dict[str, Any]], options: Optional[Dict[str, Any]] = None) -> Pages: ...
    def request(
        self,
        method: str,
        path: str,
        query: Optional[Dict[str, Any]] = None,
        body: Any = None,
        options: Optional[Dict[str, Any]] = None,
    ) -> Any: ...
    def spawn_request(
        self,
        method: str,
        path: str,
        query: Optional[Dict[str, Any]],
        body: Any,
        options: Optional[Dict[str, Any]],
        bridge: LoopBridge,
        future: asyncio.Future[Any],
    ) -> TaskHandle: ...
    def quota_status(self) -> List[Dict[str, Any]]: ...

@final
class NativeMockServer:
    def __new__(
        cls,
        host: str = ...,
        port: int = 0,
        fixture: Optional[str] = None,
        fixture_json: Optional[str] = None,
        quota_window: Optional[float] = None,
        keys: List[Tuple[str, List[str]]] = ...,
    ) -> NativeMockServer: ...
    @property
    def base_url(self) -> str: ...
    @property
    def team_id(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    @property
    def admin_token(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def stop(self) -> None: ...
    @staticmethod
    def permissions() -> List[str]: ...
