"""The base of every result object: attribute access for every field (unknown
ones too), ``to_dict()``, ``==`` and a readable ``repr``.

The native module builds results straight from the response bytes: each model
instance is made with ``object.__new__`` and handed the decoded JSON object as
its ``__dict__``, so constructing one costs one allocation and attribute access
is a plain instance lookup. Fields the service did not send read as ``None``
(class attributes of the generated models).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
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


_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))")


def parse_timestamp(value: Any) -> Optional[datetime]:
    """An RFC 3339 date-time with its offset as a timezone-aware ``datetime``;
    anything else (no offset, no such date, not text) is None, as the core's
    tolerant models read it. Digits beyond microseconds are dropped."""
    if not isinstance(value, str):
        return None
    m = _RFC3339.fullmatch(value)
    if m is None:
        return None
    y, mo, d, h, mi, sec, frac, z, sign, oh, om = m.groups()
    try:
        tz = timezone.utc
        if not z:
            offset = timedelta(hours=int(oh), minutes=int(om))
            tz = timezone(-offset if sign == "-" else offset)
        micro = int((frac or "0")[:6].ljust(6, "0"))
        return datetime(int(y), int(mo), int(d), int(h), int(mi), min(int(sec), 59), micro, tzinfo=tz)
    except ValueError:  # no such date or time, an offset of a day or more
        return None


def timestamp(name: str) -> Any:
    """The property of a model field the description types as a timestamp:
    it reads as a timezone-aware ``datetime`` (None when the service's text
    does not parse); ``to_dict()`` keeps the text the service sent."""

    def get(self: Any) -> Optional[datetime]:
        return parse_timestamp(self.__dict__.get(name))

    def set(self: Any, value: Any) -> None:
        self.__dict__[name] = value.isoformat() if isinstance(value, datetime) else value

    return property(get, set, doc=f"``{name}`` as a timezone-aware datetime (None when absent or not RFC 3339).")


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
