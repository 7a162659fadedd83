"""The exception hierarchy of the API contract.

Everything derives from :class:`ParsecError`; errors of a request from
:class:`APIError` (``status``, ``message``, ``body``, ``request_id``); answers
with an error status from :class:`APIStatusError`. A bad argument is a
:class:`ValidationError`, which is also a :class:`ValueError`, raised before
anything is sent. A defect inside the SDK (a caught panic) is an
:class:`InternalError`, never pyo3's ``PanicException``. Every error says what happened to the request:
``retryable``, ``retries_taken`` and ``may_have_been_applied``.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

__all__ = [
    "ParsecError",
    "ValidationError",
    "InternalError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "APIResponseError",
]


class ParsecError(Exception):
    """Base of every error of the SDK. ``str(error)`` includes the status,
    method, path and request id; ``message`` is the service's own message."""

    message: str
    status: Optional[int] = None
    body: Optional[str] = None
    request_id: Optional[str] = None
    retry_after: Optional[float] = None
    retryable: bool = False
    retries_taken: int = 0
    may_have_been_applied: bool = False
    field: Optional[str] = None
    rule: Optional[str] = None
    method: Optional[str] = None
    path: Optional[str] = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ParsecError, ValueError):
    """A bad argument, caught before any request was sent; ``field`` names it,
    ``rule`` names the broken rule for the structural checks (``depth``: lists
    and dicts nested deeper than 128 levels, cycles among them; ``fork``: a
    ``Pages`` iterator used in a child process)."""


class InternalError(ParsecError):
    """A defect inside the SDK (a panic of its Rust core, caught): please report
    it with the message. Not an :class:`APIError`: it says nothing about the
    service; the client stays usable."""


class APIError(ParsecError):
    """An error of a request: the service's answer, or no answer."""


class APIStatusError(APIError):
    """The service answered with an unsuccessful status (``status``)."""

    status: Optional[int]


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key lacks the operation's permission."""


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409."""


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429, or a client-side quota wait longer than ``max_retry_wait``;
    ``retry_after`` is how many seconds to wait."""


class InternalServerError(APIStatusError):
    """500 and above."""


class APIConnectionError(APIError):
    """The connection could not be made or broke."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class APIResponseError(APIError):
    """The response body could not be decoded."""


EXCEPTIONS: Dict[str, Type[ParsecError]] = {name: globals()[name] for name in __all__}
