"""The base of every result object: attribute access for every field (unknown
ones too), ``to_dict()``, ``==`` and a readable ``repr``.

The native module builds results straight from the response bytes: each model
instance is made with ``object.__new__`` and handed the decoded JSON object as
its ``__dict__``, so constructing one costs one allocation and attribute access
is a plain instance lookup. Fields the service did not send read as ``None``
(class attributes of the generated models).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Generic, Iterator, List, Optional, TypedDict, TypeVar

if TYPE_CHECKING:
    from ._generated import Event

T = TypeVar("T")


def _plain(v: Any) -> Any:
    if isinstance(v, BaseModel):
        return v.to_dict()
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


class BaseModel:
    """A result object. Every field of the response is an attribute."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def to_dict(self) -> Dict[str, Any]:
        """Every field the service sent (unknown ones too), as plain JSON-like data."""
        return {k: _plain(v) for k, v in self.__dict__.items()}

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({inner})"


class Page(BaseModel, Generic[T]):
    """One page of a list operation: ``data`` (the items) and ``count`` (the total)."""

    data: List[T]
    count: Optional[int] = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class EventPage(BaseModel):
    """One page of audit-log events; ``next_cursor`` is where the next page starts."""

    data: List[Event]
    next_cursor: Optional[str] = None

    def __iter__(self) -> Iterator[Event]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class Credits(BaseModel):
    """The guest access credit balance."""

    balance: Optional[int] = None


class RawResponse(BaseModel, Generic[T]):
    """A response with its status, headers and request id, plus the parsed result in ``data``."""

    status: int
    headers: Dict[str, str]
    request_id: Optional[str]
    retries_taken: int
    data: T

    def parse(self) -> T:
        """The parsed result (what the plain call would have returned)."""
        return self.data


class RequestOptions(TypedDict, total=False):
    """Per-call overrides of the client's options."""

    timeout: float
    max_retries: int


class QuotaStatus(TypedDict):
    """What one client-side quota has left (``client.quota_status()``)."""

    name: str
    limit: int
    remaining: int
    window: float
    refills_in: Optional[float]
    blocked_for: Optional[float]
