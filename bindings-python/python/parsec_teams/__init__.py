"""parsec_teams: the Python SDK of the Parsec for Teams API and the
team-administration API, on a Rust core.

    from parsec_teams import Client
    with Client() as client:                       # PARSEC_API_KEY from the environment
        page = client.members.list(limit=50)       # page.data, page.count
        for member in client.members.iter():       # every page
            print(member.email)

Errors are the classes of ``parsec_teams`` (``NotFoundError``, ``RateLimitError``,
...); logs go to the ``logging`` logger ``parsec_teams`` (``PARSEC_TEAMS_LOG=debug``
turns them on without code); ``parsec_teams.testing.MockServer`` runs the mock
server in-process for offline tests.
"""

from __future__ import annotations

import os as _os

from . import _native
from ._exceptions import (
    EXCEPTIONS as _EXCEPTIONS,
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalError,
    InternalServerError,
    NotFoundError,
    ParsecError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    ValidationError,
)
from ._models import BaseModel, Credits, EventPage, Page, QuotaStatus, RawResponse, RequestOptions
from ._generated import (
    MODELS as _MODELS,
    AccessRight,
    AdminClient,
    AppRule,
    AsyncAdminClient,
    AsyncClient,
    Client,
    Event,
    Group,
    GuestInvite,
    Machine,
    Member,
    MemberInvite,
    Team,
)

__version__: str = _native.__version__

__all__ = [
    "__version__",
    "Client",
    "AsyncClient",
    "AdminClient",
    "AsyncAdminClient",
    "BaseModel",
    "Page",
    "EventPage",
    "Credits",
    "RawResponse",
    "RequestOptions",
    "QuotaStatus",
    "Member",
    "Group",
    "Machine",
    "GuestInvite",
    "MemberInvite",
    "AppRule",
    "Event",
    "Team",
    "AccessRight",
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

_native.register(
    dict(_EXCEPTIONS),
    {**_MODELS, "Page": Page, "EventPage": EventPage, "Credits": Credits, "RawResponse": RawResponse},
)

# A client made before os.fork() keeps working in the child: the runtime and
# the connection pools are rebuilt there on first use.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_native.after_fork_in_child)


def _log_from_env() -> None:
    """``PARSEC_TEAMS_LOG``, read by the core's one parser: a level turns the
    ``parsec_teams`` logger on, with a stderr handler if it has none."""
    level = _native.env_log_level()
    if level is None:
        return
    import logging
    import sys

    logger = logging.getLogger("parsec_teams")
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


_log_from_env()
