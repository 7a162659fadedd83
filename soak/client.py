"""Soak client (Python package): steady calls until the deadline, then one
JSON line of counts. Usage: client.py BASE_URL API_KEY TEAM_ID SECONDS PAUSE_MS"""

import json
import sys
import time

import parsec_teams as pt


def main() -> int:
    base_url, api_key, team_id, seconds, pause_ms = sys.argv[1:6]
    client = pt.Client(api_key, team_id=team_id, base_url=base_url, max_retries=0)
    deadline = time.monotonic() + float(seconds)
    pause = float(pause_ms) / 1000
    calls = unexpected = 0
    while time.monotonic() < deadline:
        try:
            page = client.members.list(limit=50)
            user_id = page.data[0].user_id
            client.members.get(user_id)
            client.groups.list(limit=20)
            client.machines.list(limit=20)
            sum(1 for _ in client.members.iter(limit=5))
            calls += 5
        except pt.ParsecError as e:  # none expected: count them
            unexpected += 1
            print(f"python: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        try:
            client.members.get(999_999)
            unexpected += 1
        except pt.NotFoundError:
            calls += 1
        try:
            client.members.list(limit=0)
            unexpected += 1
        except pt.ValidationError:
            calls += 1
        time.sleep(pause)
    print(json.dumps({"client": "python", "calls": calls, "unexpected": unexpected}))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
