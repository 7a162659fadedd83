"""Onboarding a new team: create a group, invite members, assign a machine,
issue a guest invite, read the audit log.

Runs against the mock server embedded in the package (no network):

    python examples/python/onboard.py

Against the real service, set PARSEC_API_KEY and pass --live.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from typing import List

import parsec_teams as pt
from parsec_teams.testing import MockServer


def onboard(client: pt.Client) -> None:
    group = client.groups.create(
        group_name="New York studio",
        allow_connections_within_group=True,
        show_user_assigned_managed_hosts=True,
        show_personal_hosts=False,
    )
    print(f"created group {group.id}: {group.name}")

    emails = ["ny.artist1@example.com", "ny.artist2@example.com"]
    invites = client.invites.create(emails=emails, group_id=group.id)
    for invite in invites.data:
        print(f"invited {invite.email}: {invite.join_url} (expires {invite.expires_at})")

    unassigned = client.machines.list(assignment="unassigned", limit=1)
    if unassigned.data and unassigned.data[0].id is not None:
        machine = client.machines.set_assignment(unassigned.data[0].id, team_group_ids=[group.id or 0])
        print(f"assigned machine {machine.name} to group {group.id}")

    start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    host = client.machines.list(is_online=True, limit=1).data[0]
    guest = client.guest_access.create(
        host_peer_id=host.peer_id or "",
        guest_email="client@partner.example",
        event_name="Storyboard review",
        keyboard=True,
        mouse=True,
        gamepad=False,
        time_zone="America/New_York",
        starts_at=start,
        expires_at=start + dt.timedelta(hours=2),
        message="Welcome to the review!",
    )
    print(f"guest invite {guest.id} for {guest.guest_email}; credits left: {client.guest_access.credits().balance}")

    try:
        client.members.get(999_999)
    except pt.NotFoundError as e:
        print(f"as expected: {e.status} {e.message} (request {e.request_id})")

    recent: List[pt.Event] = client.audit_log.list_events(limit=5).data
    print("audit log, latest events:")
    for event in recent:
        print(f"  {event.created_at} {event.event_name} by user {event.user_id}")


async def count_members(client: pt.AsyncClient) -> int:
    return sum([1 async for _ in client.members.iter()])


def main() -> int:
    if "--live" in sys.argv:
        with pt.Client() as client:
            onboard(client)
        return 0
    with MockServer() as mock:
        with mock.client() as client:
            onboard(client)
        total = asyncio.run(count_members(mock.async_client()))
        print(f"the team now has {total} members; the server saw {len(mock.requests())} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
