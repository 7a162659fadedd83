//! Onboarding a small team, end to end, against the embedded mock server:
//! create a group, invite members, assign a machine, issue a guest invite and
//! read the audit log.
//!
//! Run it with `make demo` (or `cargo run -p parsec-teams --example onboard`).
//! Against the real service, drop the mock and set PARSEC_API_KEY instead.

use futures_util::StreamExt;
use parsec_teams::*;
use parsec_teams_mock::{MockConfig, MockServer};

#[tokio::main]
async fn main() -> Result<()> {
    let mock = MockServer::start(MockConfig::default()).await.expect("the mock server starts");
    println!("mock Parsec Teams API at {}", mock.base_url());
    let client = Client::new(ClientOptions::new().api_key(mock.api_key()).base_url(mock.base_url()))?;

    // 1. A group for the new designers, who may see each other's computers.
    let group = client.groups().create(GroupsCreateParams::new("NY - Designers", true, true, false)).await?;
    let group_id = group.id.expect("a group has an id");
    println!("created group {group_id} {:?}", group.name.unwrap_or_default());

    // 2. Invite two designers into it.
    let emails = vec!["ada@studio.example.com".to_owned(), "grace@studio.example.com".to_owned()];
    let invites = client.invites().create(InvitesCreateParams::new(emails.clone()).group_id(group_id)).await?;
    for invite in &invites.data {
        println!("invited {} -> {}", invite.email.as_deref().unwrap_or("?"), invite.join_url.as_deref().unwrap_or("?"));
    }

    // 3. Reserve an unassigned team computer for Ada: it becomes hers when she joins.
    let spare = client.machines().list(MachinesListParams::default().assignment(Assignment::Unassigned).limit(1)).await?;
    let machine = spare.data.first().and_then(|m| m.id.clone()).expect("the fixture has unassigned machines");
    let reserved = client.machines().set_assignment(&machine, MachinesSetAssignmentParams::default().email(emails[0].clone())).await?;
    println!("machine {machine} is now: {}", reserved.assignment.unwrap_or_default());

    // 4. A guest reviewer on that machine tomorrow, for two hours.
    let peer_id = reserved.peer_id.expect("machines have a peer id");
    let start = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let guest = client
        .guest_access()
        .create(GuestAccessCreateParams::new(
            peer_id,
            "reviewer@agency.example.com",
            "Portfolio review",
            true,
            true,
            false,
            "America/New_York",
            start,
            start + time::Duration::hours(2),
            "Welcome! Your session starts tomorrow.",
        ))
        .await?;
    let credits = client.guest_access().credits().await?;
    println!("guest invite {} issued; {} credits left", guest.id.unwrap_or_default(), credits.balance.unwrap_or_default());

    // 5. Bad input never leaves the machine: the error names the field and the rule.
    if let Err(e) = client.groups().create(GroupsCreateParams::new("X", true, false, false)).await {
        println!("refused before sending: {e}");
    }

    // 6. What happened, from the audit log (newest first).
    let mut events = client.audit_log().iter_events(AuditLogListEventsParams::new(100));
    let mut shown = 0;
    while let Some(event) = events.next().await {
        let event = event?;
        println!("audit: {} {} (user {:?})", event.id.unwrap_or_default(), event.event_name.unwrap_or_default(), event.user_id);
        shown += 1;
        if shown == 5 {
            break;
        }
    }
    let quota = client.quota_status();
    for q in quota {
        println!("quota {}: {}/{} left", q.name, q.remaining, q.limit);
    }
    Ok(())
}
