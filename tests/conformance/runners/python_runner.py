"""The Python runners of the conformance scenarios (sync and async).

    python python_runner.py sync|async

Speaks the line protocol of tests/conformance/README.md on stdin/stdout,
through the public API of the installed ``parsec_teams`` package only.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import sys
import warnings
from typing import Any, Dict, Optional

import parsec_teams
from parsec_teams import AdminClient, AsyncAdminClient, AsyncClient, Client, ParsecError

warnings.simplefilter("ignore", DeprecationWarning)
MODE = sys.argv[1] if len(sys.argv) > 1 else "sync"
ASYNC = MODE == "async"


def plain(v: Any) -> Any:
    if hasattr(v, "to_dict"):
        return plain(v.to_dict())
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v


def ancestry(e: BaseException) -> list:
    """The SDK's own classes of the error, leaf first (ValueError and Exception left out)."""
    return [c.__name__ for c in type(e).__mro__ if c.__module__.startswith("parsec_teams")]


def error_json(e: ParsecError) -> Dict[str, Any]:
    return {
        "class": type(e).__name__,
        "ancestry": ancestry(e),
        "status": e.status,
        "message": e.message,
        "request_id": e.request_id,
        "retryable": e.retryable,
        "retries_taken": e.retries_taken,
        "may_have_been_applied": e.may_have_been_applied,
        "retry_after": e.retry_after,
        "field": e.field,
        "rule": e.rule,
    }


def num(v: str) -> Optional[float]:
    x = float(v)
    return None if x < 0 else x


clients: Dict[str, Any] = {}


def make_client(f: list) -> Dict[str, Any]:
    _, api, base_url, key, team_id, timeout_ms, retries, wait_ms, quota, window_ms = f
    timeout = None if num(timeout_ms) is None else float(timeout_ms) / 1e3
    max_retries = None if num(retries) is None else int(retries)
    wait = None if num(wait_ms) is None else float(wait_ms) / 1e3
    if api == "admin":
        cls = AsyncAdminClient if ASYNC else AdminClient
        clients["admin"] = cls(base_url, token=key, timeout=timeout, max_retries=max_retries, max_retry_wait=wait)
    else:
        cls = AsyncClient if ASYNC else Client
        kw: Dict[str, Any] = {}
        if quota == "0":
            kw["quota_pacing"] = False
        if num(window_ms) is not None:
            kw["quota_window"] = float(window_ms) / 1e3
        clients["teams"] = cls(api_key=key, team_id=team_id, base_url=base_url, timeout=timeout,
                               max_retries=max_retries, max_retry_wait=wait, **kw)
    return {"ok": True}


async def call(f: list) -> Dict[str, Any]:
    _, mode, name, params, timeout_ms, retries = f
    parts = name.split(".")
    api = "admin" if parts[0] == "admin" else "teams"
    resource, method = parts[-2], parts[-1]
    client = clients[api]
    kwargs = json.loads(params)
    options: Dict[str, Any] = {}
    if num(timeout_ms) is not None:
        options["timeout"] = float(timeout_ms) / 1e3
    if num(retries) is not None:
        options["max_retries"] = int(retries)
    if options:
        kwargs["options"] = options
    if mode == "iter":
        fn = getattr(getattr(client, resource), method.replace("list", "iter", 1))
        if ASYNC:
            items = [plain(x) async for x in fn(**kwargs)]
        else:
            items = [plain(x) for x in fn(**kwargs)]
        return {"ok": True, "result": items}
    if mode == "raw":
        fn = getattr(getattr(client.with_raw_response, resource), method)
        raw = fn(**kwargs)
        if ASYNC:
            raw = await raw
        return {"ok": True, "result": plain(raw.data), "raw": {"status": raw.status, "request_id": raw.request_id}}
    fn = getattr(getattr(client, resource), method)
    result = fn(**kwargs)
    if ASYNC:
        result = await result
    return {"ok": True, "result": plain(result)}


async def main() -> None:
    print(json.dumps({"surface": "python-" + MODE, "language": "python", "class_tree": True, "raw": True, "version": parsec_teams.__version__}), flush=True)
    for line in sys.stdin:
        f = line.rstrip("\n").split("\t")
        try:
            if f[0] == "client":
                answer = make_client(f)
            elif f[0] == "call":
                answer = await call(f)
            elif f[0] == "reset":
                clients.clear()
                answer = {"ok": True}
            else:
                answer = {"ok": False, "protocol_error": "bad command " + line}
        except ParsecError as e:
            answer = {"ok": False, "error": error_json(e)}
        except Exception as e:  # noqa: BLE001 - reported to the harness as what it is
            answer = {"ok": False, "protocol_error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer, default=str), flush=True)


asyncio.run(main())
