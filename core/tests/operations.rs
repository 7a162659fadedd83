//! Every operation of both APIs, called through the typed surface against the
//! in-process mock, asserting the result and what the server's state became.
#![allow(deprecated)] // the deprecated operations are tested too

mod common;

use common::{in_hours, Env};
use futures_util::StreamExt;
use parsec_teams::*;
use serde_json::{json, Value};

fn member_ids(state: &Value) -> Vec<i64> {
    state["members"].as_array().unwrap().iter().map(|m| m["user_id"].as_i64().unwrap()).collect()
}

fn find<'a>(state: &'a Value, list: &str, key: &str, value: Value) -> Option<&'a Value> {
    state[list].as_array().unwrap().iter().find(|x| x[key] == value)
}

#[tokio::test]
async fn members_list_get_remove() {
    let env = Env::start().await;
    let m = env.client.members();

    let page = m.list(MembersListParams::default()).await.unwrap();
    assert_eq!(page.count, Some(50));
    assert_eq!(page.data.len(), 50);
    let first = &page.data[0];
    assert_eq!(first.user_id, Some(1));
    assert!(first.email.as_deref().unwrap().ends_with("@example.com"));
    assert!(first.created_at.is_some(), "timestamps are parsed");

    let admins = m.list(MembersListParams::default().is_admin(true)).await.unwrap();
    assert!(admins.data.iter().all(|x| x.is_admin == Some(true)));
    assert_eq!(admins.count, Some(admins.data.len() as u64));
    let fixture_admins = env.state().await["members"].as_array().unwrap().iter().filter(|m| m["is_admin"] == true).count();
    assert!(fixture_admins >= 2, "the fixture has admins to find");
    assert_eq!(admins.data.len(), fixture_admins);

    let in_group = m.list(MembersListParams::default().group_id(6).limit(2)).await.unwrap();
    assert_eq!(in_group.data.len(), 2);
    assert!(in_group.count.unwrap() > 2);
    assert!(in_group.data.iter().all(|x| x.group_ids.as_ref().unwrap().contains(&6)));

    let email = first.email.clone().unwrap();
    let by_email = m.list(MembersListParams::default().email(email.clone())).await.unwrap();
    assert_eq!(by_email.data[0].email.as_deref(), Some(email.as_str()));

    let seven = m.get(7).await.unwrap();
    assert_eq!(seven.user_id, Some(7));
    let e = m.get(9999).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.status(), Some(404));

    // Member 5 has machine tm_003 assigned: removal unassigns it.
    m.remove(5, MembersRemoveParams::default()).await.unwrap();
    let state = env.state().await;
    assert!(!member_ids(&state).contains(&5));
    let tm3 = find(&state, "machines", "id", json!("tm_003")).unwrap();
    assert!(tm3["user_id"].is_null(), "the removed member's machine is unassigned: {tm3}");
    assert_eq!(tm3["assignment"], "unassigned");

    // The owner and the API-key holder cannot be removed.
    for uid in [1, 2] {
        let e = m.remove(uid, MembersRemoveParams::default().send_email(false)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
        assert!(e.request_id().is_some() && e.to_string().contains(e.request_id().unwrap()));
    }
    assert!(member_ids(&env.state().await).contains(&1));
    let removes = env.seen("DELETE", "/members/").await;
    assert_eq!(removes.len(), 3);
    assert_eq!(removes[1]["query"], "send_email=false");
}

#[tokio::test]
async fn members_iter_walks_every_page() {
    let env = Env::start().await;
    let all: Vec<Member> = env.client.members().iter(MembersListParams::default().limit(20)).map(|m| m.unwrap()).collect().await;
    assert_eq!(all.len(), 50);
    let mut ids: Vec<i64> = all.iter().map(|m| m.user_id.unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids, member_ids(&env.state().await), "every member once");
    let pages = env.seen("GET", "/members").await;
    assert_eq!(pages.len(), 3, "50 members in pages of 20");
    assert_eq!(pages[2]["query"], "offset=40&limit=20");
}

#[tokio::test]
async fn groups_lifecycle() {
    let env = Env::start().await;
    let g = env.client.groups();

    let list = g.list(GroupsListParams::default()).await.unwrap();
    assert_eq!(list.count, Some(6));
    let named = g.list(GroupsListParams::default().name("sign")).await.unwrap();
    assert_eq!(named.data.len(), 1);
    assert_eq!(named.data[0].name.as_deref(), Some("Design"));

    // Left out while allow is true: show_group_assigned_managed_hosts defaults to true.
    let created = g.create(GroupsCreateParams::new("NY - Designers", true, true, false)).await.unwrap();
    let id = created.id.unwrap();
    assert_eq!(created.name.as_deref(), Some("NY - Designers"));
    assert_eq!(created.show_group_assigned_managed_hosts, Some(true));
    assert_eq!(created.show_user_assigned_managed_hosts, Some(true));
    assert_eq!(created.show_personal_hosts, Some(false));
    let sent = env.seen("POST", "/groups").await;
    assert_eq!(
        sent[0]["body"],
        json!({"group_name": "NY - Designers", "allow_connections_within_group": true, "show_user_assigned_managed_hosts": true, "show_personal_hosts": false})
    );

    // Left out while allow is false: stored as false.
    let closed = g.create(GroupsCreateParams::new("Closed", false, false, false)).await.unwrap();
    assert_eq!(closed.show_group_assigned_managed_hosts, Some(false));

    assert_eq!(g.get(id).await.unwrap().name.as_deref(), Some("NY - Designers"));
    let updated = g.update(id, GroupsUpdateParams::default().group_name("NY Design").show_personal_hosts(true)).await.unwrap();
    assert_eq!(updated.name.as_deref(), Some("NY Design"));
    assert_eq!(updated.show_personal_hosts, Some(true));
    // Turning connections off turns the flags off.
    let off = g.update(id, GroupsUpdateParams::default().allow_connections_within_group(false)).await.unwrap();
    assert_eq!(off.allow_connections_within_group, Some(false));
    assert_eq!(off.show_personal_hosts, Some(false));
    // ...and the server refuses a flag while connections are off, although the request alone looks fine.
    let e = g.update(id, GroupsUpdateParams::default().show_personal_hosts(true)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest, "{e}");
    assert!(e.message().contains("show_personal_hosts"), "{e}");

    // Members: assign keeps other groups, the deprecated add replaces them.
    let before = env.state().await;
    let mut expected = find(&before, "members", "user_id", json!(10)).unwrap()["group_ids"].as_array().unwrap().clone();
    assert!(!expected.is_empty(), "member 10 starts in a group");
    expected.push(json!(id));
    g.assign_members(id, GroupsAssignMembersParams::new(vec![10, 11])).await.unwrap();
    let state = env.state().await;
    let m10 = find(&state, "members", "user_id", json!(10)).unwrap();
    assert_eq!(m10["group_ids"].as_array().unwrap(), &expected, "assign keeps the old group: {m10}");
    g.add_members(id, GroupsAddMembersParams::new(vec![11])).await.unwrap();
    let state = env.state().await;
    assert_eq!(find(&state, "members", "user_id", json!(11)).unwrap()["group_ids"], json!([id]));
    g.remove_members(id, GroupsRemoveMembersParams::new(vec![10, 11])).await.unwrap();
    let state = env.state().await;
    assert!(!find(&state, "members", "user_id", json!(10)).unwrap()["group_ids"].as_array().unwrap().contains(&json!(id)));
    let in_group = env.client.members().list(MembersListParams::default().group_id(id)).await.unwrap();
    assert_eq!(in_group.count, Some(0));

    // Permitted groups, per direction.
    g.add_permitted_groups(2, GroupsAddPermittedGroupsParams::new(vec![3, 4], Direction::Outgoing, true, false, false)).await.unwrap();
    let pg = |s: &Value| find(s, "groups", "id", json!(2)).unwrap()["permitted_groups"].as_array().unwrap().clone();
    let now = pg(&env.state().await);
    assert!(now.iter().any(|p| p["group_id"] == 3 && p["direction"] == "outgoing"));
    g.update_permitted_group(2, 3, GroupsUpdatePermittedGroupParams::new(Direction::Outgoing).show_personal_hosts(true)).await.unwrap();
    let now = pg(&env.state().await);
    let p3 = now.iter().find(|p| p["group_id"] == 3 && p["direction"] == "outgoing").unwrap();
    assert_eq!(p3["show_personal_hosts"], true);
    // Not permitted in the incoming direction: 404.
    let e = g.update_permitted_group(2, 3, GroupsUpdatePermittedGroupParams::new(Direction::Incoming)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    g.remove_permitted_groups(2, GroupsRemovePermittedGroupsParams::new(vec![3, 4], Direction::Outgoing)).await.unwrap();
    let now = pg(&env.state().await);
    assert!(!now.iter().any(|p| p["direction"] == "outgoing" && (p["group_id"] == 3 || p["group_id"] == 4)));
    let removal = env.seen("DELETE", "/permitted-groups").await;
    assert_eq!(removal[0]["body"], json!({"group_ids": [3, 4], "direction": "outgoing"}), "DELETE carries a JSON body");

    g.delete(id).await.unwrap();
    assert_eq!(g.get(id).await.unwrap_err().kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn guest_access_lifecycle_spends_and_refunds_credits() {
    let env = Env::start().await;
    let ga = env.client.guest_access();
    let balance = |c: Credits| c.balance.unwrap();
    let before = balance(ga.credits().await.unwrap());
    assert_eq!(before, 25);

    let list = ga.list(GuestAccessListParams::default()).await.unwrap();
    assert_eq!(list.count, Some(5));
    let one = ga.get("gai_001").await.unwrap();
    assert_eq!(one.id.as_deref(), Some("gai_001"));
    assert!(one.starts_at.is_some());

    let host = env.client.machines().get("tm_004").await.unwrap().peer_id.unwrap();
    let create = |email: &str| {
        GuestAccessCreateParams::new(
            host.clone(),
            email,
            "Review",
            false,
            true,
            false,
            "Europe/Paris",
            in_hours(2),
            in_hours(4),
            "Welcome!",
        )
    };
    let invite = ga.create(create("outside@partner.com").send_email(true)).await.unwrap();
    let id = invite.id.clone().unwrap();
    assert_eq!(invite.guest_email.as_deref(), Some("outside@partner.com"));
    assert_eq!(balance(ga.credits().await.unwrap()), before - 1, "an outside guest spends a credit");

    // A team member as guest spends nothing.
    let member_email = env.client.members().get(20).await.unwrap().email.unwrap();
    let member_invite = ga.create(create(&member_email)).await.unwrap();
    assert_eq!(balance(ga.credits().await.unwrap()), before - 1);

    let updated = ga.update(&id, GuestAccessUpdateParams::default().keyboard(true).time_zone("America/New_York")).await.unwrap();
    assert_eq!(updated.keyboard, Some(true));
    assert_eq!(updated.time_zone.as_deref(), Some("America/New_York"));

    ga.kick_guest("gai_002").await.unwrap();
    let state = env.state().await;
    assert_eq!(find(&state, "guest_invites", "id", json!("gai_002")).unwrap()["guest_connected"], false);

    // Cancelling an unused invite refunds its credit; the member's invite had none to refund.
    ga.cancel(&id, GuestAccessCancelParams::default().send_email(true)).await.unwrap();
    assert_eq!(balance(ga.credits().await.unwrap()), before);
    ga.cancel(member_invite.id.as_deref().unwrap(), GuestAccessCancelParams::default()).await.unwrap();
    assert_eq!(balance(ga.credits().await.unwrap()), before);
    assert_eq!(ga.get(&id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(env.seen("DELETE", &format!("/guest-access-invites/{id}")).await[0]["query"], "send_email=true");

    // No credits left: the server refuses an outside guest.
    env.client.request(HttpMethod::Get, "/v1/teams/{team_id}/guest-access-invite-credits", &[], None).await.unwrap();
    let reset = reqwest::Client::new()
        .post(format!("{}/_mock/credits", env.mock.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"balance": 0}"#)
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success());
    let e = ga.create(create("another@partner.com")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(!e.retryable(), "a 409 is not retried");
}

#[tokio::test]
async fn machines_and_assignments() {
    let env = Env::start().await;
    let m = env.client.machines();
    let all = m.list(MachinesListParams::default()).await.unwrap();
    assert_eq!(all.count, Some(20));
    for (assignment, kind) in [
        (Assignment::Member, "member"),
        (Assignment::Group, "group"),
        (Assignment::Reservation, "reservation"),
        (Assignment::Unassigned, "unassigned"),
    ] {
        let page = m.list(MachinesListParams::default().assignment(assignment)).await.unwrap();
        assert!(!page.data.is_empty(), "{kind}");
        assert!(page.data.iter().all(|x| x.assignment.as_deref() == Some(kind)), "{kind}");
    }
    let online = m.list(MachinesListParams::default().is_online(true)).await.unwrap();
    assert!(online.data.iter().all(|x| x.is_online == Some(true)));
    let of_user = m.list(MachinesListParams::default().user_id(3)).await.unwrap();
    assert_eq!(of_user.data[0].id.as_deref(), Some("tm_001"));
    let of_group = m.list(MachinesListParams::default().team_group_id(1)).await.unwrap();
    assert_eq!(of_group.data.len(), 2);
    let guest = m.list(MachinesListParams::default().is_guest_access(true).limit(200)).await.unwrap();
    assert!(guest.data.iter().all(|x| x.is_guest_access == Some(true)));
    let named = m.list(MachinesListParams::default().name("render")).await.unwrap();
    assert!(named.data.iter().all(|x| x.name.as_deref().unwrap().starts_with("Render")));
    let email = env.client.members().get(3).await.unwrap().email.unwrap();
    let by_email = m.list(MachinesListParams::default().email(email)).await.unwrap();
    assert_eq!(by_email.data[0].id.as_deref(), Some("tm_001"));

    let tm = m.get("tm_017").await.unwrap();
    assert_eq!(tm.assignment.as_deref(), Some("unassigned"));
    let renamed = m
        .update("tm_017", MachinesUpdateParams::default().name("Spare X").is_guest_access(true).team_app_rule_id("tar_default"))
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Spare X"));
    assert_eq!(renamed.team_app_rule_id.as_deref(), Some("tar_default"));
    let e = m.update("tm_017", MachinesUpdateParams::default().team_app_rule_id("tar_nope")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);

    let to_member = m.set_assignment("tm_017", MachinesSetAssignmentParams::default().user_id(30)).await.unwrap();
    assert_eq!(to_member.user_id, Some(30));
    assert_eq!(to_member.assignment.as_deref(), Some("member"));
    let to_groups = m.set_assignment("tm_017", MachinesSetAssignmentParams::default().team_group_ids(vec![1, 2])).await.unwrap();
    assert_eq!(to_groups.team_group_ids, Some(vec![1, 2]));
    assert_eq!(to_groups.assignment.as_deref(), Some("group"));
    let deprecated = m.create_assignment("tm_018", MachinesCreateAssignmentParams::default().team_group_id(3)).await.unwrap();
    assert_eq!(deprecated.assignment.as_deref(), Some("group"));

    // An email of someone not in the team makes a reservation; joining turns it into a member assignment.
    let reserved = m.set_assignment("tm_019", MachinesSetAssignmentParams::default().email("new.hire1@example.com")).await.unwrap();
    assert_eq!(reserved.assignment.as_deref(), Some("reservation"));
    let joined = env.join("new.hire1@example.com").await;
    let uid = joined["data"]["user_id"].as_i64().unwrap();
    let after = m.get("tm_019").await.unwrap();
    assert_eq!((after.assignment.as_deref(), after.user_id), (Some("member"), Some(uid)));

    m.remove_assignment("tm_017").await.unwrap();
    assert_eq!(m.get("tm_017").await.unwrap().assignment.as_deref(), Some("unassigned"));

    // tm_009 has users 11 and 16 connected.
    m.kick_user("tm_009", 11).await.unwrap();
    let state = env.state().await;
    assert_eq!(find(&state, "machines", "id", json!("tm_009")).unwrap()["connected_user_ids"], json!([16]));

    m.delete("tm_020").await.unwrap();
    assert_eq!(m.get("tm_020").await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(env.seen("DELETE", "/machines/tm_020").await.len(), 1);
}

#[tokio::test]
async fn app_rules_assign_and_unassign() {
    let env = Env::start().await;
    let r = env.client.app_rules();
    let list = r.list(AppRulesListParams::default()).await.unwrap();
    assert_eq!(list.count, Some(3));
    assert!(list.data.iter().any(|x| x.id.as_deref() == Some("tar_restricted")));

    r.assign("tar_restricted", AppRulesAssignParams::default().user_ids(vec![30, 31]).team_machine_ids(vec!["tm_017".into()]))
        .await
        .unwrap();
    assert_eq!(env.client.members().get(30).await.unwrap().team_app_rule_id.as_deref(), Some("tar_restricted"));
    assert_eq!(env.client.machines().get("tm_017").await.unwrap().team_app_rule_id.as_deref(), Some("tar_restricted"));
    r.unassign("tar_restricted", AppRulesUnassignParams::default().user_ids(vec![30])).await.unwrap();
    assert_eq!(env.client.members().get(30).await.unwrap().team_app_rule_id, None);
    let e = r.assign("tar_restricted", AppRulesAssignParams::default().user_ids(vec![9999])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = r.assign("tar_missing", AppRulesAssignParams::default().user_ids(vec![30])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn member_invites_lifecycle() {
    let env = Env::start().await;
    let i = env.client.invites();
    let pending = i.list(InvitesListParams::default()).await.unwrap();
    let emails: Vec<String> = pending.data.iter().map(|x| x.email.clone().unwrap()).collect();
    assert!(emails.contains(&"new.hire1@example.com".to_owned()));
    assert!(!emails.contains(&"old.invite@example.com".to_owned()), "expired invites are not pending: {emails:?}");

    let created = i
        .create(InvitesCreateParams::new(vec!["a1@corp.example.com".into(), "a2@corp.example.com".into()]).group_id(2).send_email(true))
        .await
        .unwrap();
    assert_eq!(created.data.len(), 2);
    assert!(created.data.iter().all(|x| x.join_url.as_deref().is_some_and(|u| u.starts_with("https://"))));
    let expires = created.data[0].expires_at.unwrap();
    let created_at = created.data[0].created_at.unwrap_or_else(time::OffsetDateTime::now_utc);
    assert_eq!((expires - created_at).whole_days(), 7, "invites expire after a week");

    let updated =
        i.update(InvitesUpdateParams::new(vec!["a1@corp.example.com".into()]).group_id(3).team_app_rule_id("tar_default")).await.unwrap();
    assert_eq!(updated.data[0].group_id, Some(3));

    // Six days later, resending extends the expiry by a week from now.
    env.advance_clock(6 * 86_400).await;
    let resent = i.resend(InvitesResendParams::new(vec!["a1@corp.example.com".into()])).await.unwrap();
    let new_expiry = resent.data[0].expires_at.unwrap();
    assert!(new_expiry - expires >= time::Duration::days(5), "{expires} -> {new_expiry}");
    // Two more days: a2 has expired, a1 has not.
    env.advance_clock(2 * 86_400).await;
    let pending: Vec<String> = i.iter(InvitesListParams::default()).map(|x| x.unwrap().email.unwrap()).collect().await;
    assert!(pending.contains(&"a1@corp.example.com".to_owned()));
    assert!(!pending.contains(&"a2@corp.example.com".to_owned()));

    i.create(InvitesCreateParams::new(vec!["a3@corp.example.com".into()])).await.unwrap();
    i.cancel(InvitesCancelParams::new(vec!["a1@corp.example.com".into()])).await.unwrap();
    i.cancel_deprecated(InvitesCancelDeprecatedParams::new(vec!["a3@corp.example.com".into()])).await.unwrap();
    let pending: Vec<String> = i.iter(InvitesListParams::default()).map(|x| x.unwrap().email.unwrap()).collect().await;
    assert!(!pending.contains(&"a1@corp.example.com".to_owned()));
    assert!(!pending.contains(&"a3@corp.example.com".to_owned()));
    assert_eq!(env.seen("DELETE", "/member-invites").await[0]["body"], json!({"emails": ["a3@corp.example.com"]}));

    // Inviting somebody who already is a member conflicts.
    let member = env.client.members().get(4).await.unwrap().email.unwrap();
    let e = i.create(InvitesCreateParams::new(vec![member])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(!e.may_have_been_applied(), "a 409 says the server did not act");
}

#[tokio::test]
async fn audit_log_pages_follow_next_cursor() {
    let env = Env::start().await;
    let a = env.client.audit_log();
    let page = a.list_events(AuditLogListEventsParams::new(100)).await.unwrap();
    assert_eq!(page.data.len(), 100);
    let cursor = page.next_cursor.clone().expect("more events");
    assert_eq!(cursor.len(), 27);
    let ev = &page.data[0];
    assert_eq!(ev.id.as_deref().map(str::len), Some(27));
    assert!(ev.event_name.is_some() && ev.created_at.is_some() && ev.data.is_some());

    let next = a.list_events(AuditLogListEventsParams::new(10).cursor(cursor.clone())).await.unwrap();
    assert_eq!(next.data[0].id.as_deref(), Some(cursor.as_str()), "cursor is inclusive");
    let after = a.list_events(AuditLogListEventsParams::new(10).after(cursor.clone())).await.unwrap();
    assert_eq!(after.data[0].id, next.data[1].id, "after is exclusive");

    let all: Vec<Event> = a.iter_events(AuditLogListEventsParams::new(150)).map(|e| e.unwrap()).collect().await;
    assert_eq!(all.len(), 320);
    let ids: Vec<&str> = all.iter().map(|e| e.id.as_deref().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats");
    let sent = env.seen("GET", "/events").await;
    assert_eq!(sent.len(), 3 + 3, "3 single pages, then 320 events in pages of 150");
    assert!(sent[4]["query"].as_str().unwrap().contains("cursor="));

    let name = all[0].event_name.clone().unwrap();
    let filtered =
        a.list_events(AuditLogListEventsParams::new(1000).event_names(vec![name.clone()]).user_id(all[0].user_id.unwrap())).await.unwrap();
    assert!(!filtered.data.is_empty());
    assert!(filtered.data.iter().all(|e| e.event_name.as_deref() == Some(name.as_str()) && e.user_id == all[0].user_id));
    let start = all[10].created_at.unwrap();
    let end = all[5].created_at.unwrap();
    let window = a.list_events(AuditLogListEventsParams::new(1000).start_at(start).end_at(end)).await.unwrap();
    assert_eq!(window.data.len(), 6);
    let q = env.seen("GET", "/events").await.last().unwrap()["query"].as_str().unwrap().to_owned();
    assert!(q.contains("start_at=") && q.contains("end_at="), "{q}");
}

#[tokio::test]
async fn state_changes_are_audited() {
    let env = Env::start().await;
    let before = env.client.audit_log().list_events(AuditLogListEventsParams::new(1)).await.unwrap().data[0].id.clone();
    env.client.groups().create(GroupsCreateParams::new("Audited", true, false, false)).await.unwrap();
    let newest = env.client.audit_log().list_events(AuditLogListEventsParams::new(1)).await.unwrap().data.remove(0);
    assert_ne!(newest.id, before);
    assert!(newest.event_name.unwrap().contains("group"));
}

#[tokio::test]
async fn admin_api_every_operation() {
    let env = Env::start().await;
    let admin = env.admin();
    let t = admin.teams();
    let teams = t.list().await.unwrap();
    assert_eq!(teams.len(), env.state().await["admin"]["teams"].as_array().unwrap().len());
    assert!(teams.len() >= 2);
    let owned = t.list_owned().await.unwrap();
    assert!(!owned.is_empty() && owned.len() < teams.len());
    assert_eq!(t.get("1").await.unwrap().name.as_deref(), Some("Engineering"));

    let created = t.create(AdminTeamsCreateParams::new("Ops").quota(10_737_418_240).quota_mail_sent(true)).await.unwrap();
    let sent = env.seen("POST", "/api/v1/teams").await;
    assert_eq!(
        sent[0]["body"],
        json!({"team": {"name": "Ops", "quota": "10737418240", "quota_mail_sent": "true"}}),
        "quota and flag go as strings"
    );
    let id = created.id.clone().unwrap();
    let id = id.as_str().map(str::to_owned).unwrap_or_else(|| id.to_string());
    assert_eq!(created.quota, Some(json!("10737418240")));

    let updated = t.update(&id, AdminTeamsUpdateParams::default().name("Operations").quota(1024)).await.unwrap();
    assert_eq!(updated.name.as_deref(), Some("Operations"));
    let added = t.add_user(&id, "7").await.unwrap();
    assert!(added.user_ids.unwrap().iter().any(|u| u == &json!(7) || u == &json!("7")));
    t.remove_user(&id, "7").await.unwrap();
    let rights = t.access_rights("1", AdminTeamsAccessRightsParams::new(AccessRightsType::Projects)).await.unwrap();
    assert!(!rights.is_empty());
    assert_eq!(env.seen("GET", "/access_rights").await[0]["query"], "type=projects");

    let u = admin.users();
    u.assign_to_all_teams("12").await.unwrap();
    let all = t.list().await.unwrap();
    assert!(all.iter().all(|team| team.user_ids.as_ref().unwrap().iter().any(|x| x == &json!(12) || x == &json!("12"))));
    u.remove_from_all_teams("12").await.unwrap();
    let all = t.list().await.unwrap();
    assert!(all.iter().all(|team| !team.user_ids.as_ref().unwrap().iter().any(|x| x == &json!(12) || x == &json!("12"))));

    t.delete(&id).await.unwrap();
    assert_eq!(t.get(&id).await.unwrap_err().kind(), ErrorKind::NotFound);

    // A non-admin token may read but not write; a bad token is refused.
    let user = AdminClient::new(AdminClientOptions::new().base_url(env.mock.base_url()).token("pta_user_0003_0badc0de98765432")).unwrap();
    assert!(user.teams().list().await.is_ok());
    assert_eq!(user.teams().delete("1").await.unwrap_err().kind(), ErrorKind::PermissionDenied);
    let nobody = AdminClient::new(AdminClientOptions::new().base_url(env.mock.base_url()).token("nope")).unwrap();
    assert_eq!(nobody.teams().list().await.unwrap_err().kind(), ErrorKind::Authentication);
}

#[tokio::test]
async fn permissions_and_auth() {
    use parsec_teams_mock::MockConfig;
    let config =
        MockConfig { keys: vec![("tapi_1or58Uz1O6ObcpGCN9.readonly".into(), vec!["View Team Members".into()])], ..Default::default() };
    let env = Env::with_config(config).await;
    let ro = env.client_with(env.options().api_key("tapi_1or58Uz1O6ObcpGCN9.readonly"));
    assert!(ro.members().get(3).await.is_ok());
    let e = ro.groups().list(GroupsListParams::default()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(e.status(), Some(403));
    assert!(!e.retryable());
    let bad = env.client_with(env.options().api_key("tapi_1or58Uz1O6ObcpGCN9.wrong"));
    let e = bad.members().get(3).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(!e.to_string().contains("wrong"), "the key never shows in an error: {e}");
}

#[tokio::test]
async fn raw_request_escape_hatch_and_request_ids() {
    let env = Env::start().await;
    let raw = env.client.request(HttpMethod::Get, "/v1/teams/{team_id}/members/3", &[], None).await.unwrap();
    assert_eq!(raw.status, 200);
    assert_eq!(raw.json().unwrap()["data"]["user_id"], 3);
    let log = env.requests().await;
    assert_eq!(raw.request_id.as_deref(), log[0]["request_id"].as_str(), "the result keeps x-request-id");

    let resp = env.client.caller().call_json(&spec::MEMBERS_LIST, serde_json::from_value(json!({"limit": 2})).unwrap()).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.data["data"].as_array().unwrap().len(), 2);
    assert_eq!(resp.data["count"], 50);
    assert!(resp.request_id.is_some());
    let created = env
        .client
        .request(HttpMethod::Post, "v1/teams/{team_id}/groups", &[], Some(&json!({"group_name": "Raw", "allow_connections_within_group": true, "show_user_assigned_managed_hosts": false, "show_personal_hosts": false})))
        .await
        .unwrap();
    assert_eq!(created.json().unwrap()["data"]["name"], "Raw");
    let e =
        env.client.request(HttpMethod::Get, "/v1/teams/{team_id}/members", &[("offset", "0"), ("limit", "500")], None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest, "the mock enforces limit <= 200 itself: {e}");
}
