"""``python -m parsec_teams.mock``: the mock server from the command line.

Same options and output as the ``parsec-teams-mock`` binary: once listening it
prints one JSON line ``{"base_url", "team_id", "api_key", "admin_token"}`` and
serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import List, Optional, Tuple

from . import _native


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m parsec_teams.mock",
        description="Serves the Parsec Teams API (V1) and the team-administration API from memory.",
    )
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    ap.add_argument("--fixture", help="starting data (JSON, the shape of GET /_mock/state)")
    ap.add_argument("--quota-window", type=float, help="quota window and block length in seconds (default 300)")
    ap.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="KEY=PERMS",
        help="extra API key holding only the comma-separated permissions (repeatable)",
    )
    args = ap.parse_args(argv)
    keys: List[Tuple[str, List[str]]] = []
    for spec in args.key:
        key, sep, perms = spec.partition("=")
        if not sep:
            ap.error("--key: expected KEY=PERMISSION,PERMISSION...")
        keys.append((key, [p.strip() for p in perms.split(",") if p.strip()]))
    try:
        server = _native.NativeMockServer(args.host, args.port, args.fixture, None, args.quota_window, keys)
    except (OSError, ValueError) as e:
        print(f"parsec_teams.mock: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(
        json.dumps(
            {
                "base_url": server.base_url,
                "team_id": server.team_id,
                "api_key": server.api_key,
                "admin_token": server.admin_token,
            }
        ),
        flush=True,
    )
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
