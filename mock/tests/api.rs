//! Integration tests: start the mock in-process and drive it over HTTP.

mod common;

use common::{in_hours, LIMITED_KEY, T};
use parsec_teams_mock::{Fixture, MockConfig, MockServer, ALL_PERMISSIONS};
use serde_json::{json, Value};
use std::time::Duration;

fn ids(v: &Value, field: &str) -> Vec<Value> {
    v["data"].as_array().unwrap().iter().map(|x| x[field].clone()).collect()
}

fn find<'a>(list: &'a Value, field: &str, value: Value) -> Option<&'a Value> {
    list.as_array().unwrap().iter().find(|x| x[field] == value)
}

// ------------------------------------------------------------------ auth

#[tokio::test]
async fn auth_401_403_and_request_ids() {
    let t = T::new().await;
    let r = t.call("GET", "members?offset=0&limit=5", None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json, json!({"message": "Unauthorized"}));
    assert!(r.header("x-request-id").unwrap().starts_with("req_"));

    let r = t.call("GET", "members?offset=0&limit=5", Some("tapi_nope.nope"), None).await;
    assert_eq!(r.status, 401);

    // The limited key works where it has the permission, 403 elsewhere.
    let r = t.call("GET", "members?offset=0&limit=5", Some(LIMITED_KEY), None).await;
    assert_eq!(r.status, 200);
    let r = t.call("GET", "machines?offset=0&limit=5", Some(LIMITED_KEY), None).await;
    assert_eq!(r.status, 403);
    assert!(r.message().contains("View Team Computers"), "{}", r.message());
    let r = t.call("DELETE", "members/30", Some(LIMITED_KEY), None).await;
    assert_eq!(r.status, 403);

    // Another team's path.
    let r = t.get("/v1/teams/someOtherTeam/members?offset=0&limit=5").await;
    assert_eq!(r.status, 403);

    // Request ids are unique and on every answer, 204s included.
    let a = t.get("members?offset=0&limit=1").await;
    let b = t.delete("machines/tm_020").await;
    assert_eq!(b.status, 204);
    assert_eq!(b.text, "");
    let (ra, rb) = (a.header("x-request-id").unwrap(), b.header("x-request-id").unwrap());
    assert_ne!(ra, rb);
    let c = t.ctl("GET", "clock", None).await;
    assert!(c.header("x-request-id").is_some());

    // Unknown routes and methods are JSON too.
    let r = t.get("nothing-here").await;
    assert_eq!(r.status, 404);
    assert!(r.json["message"].is_string());
    let r = t.call("PATCH", "members", Some(&t.key), None).await;
    assert_eq!(r.status, 405);
    assert!(r.json["message"].is_string());
}

#[tokio::test]
async fn permission_names_are_the_seed_names() {
    assert_eq!(ALL_PERMISSIONS.len(), 28);
    for p in ["Access Audit Log", "Team Machine Kick Guest", "Manage App Rule Assignments", "Delete Team Invite", "Delete Team Invites"] {
        assert!(ALL_PERMISSIONS.contains(&p), "{p}");
    }
    // An unknown permission name refuses to start.
    let cfg = MockConfig { keys: vec![("k".into(), vec!["View Everything".into()])], ..MockConfig::default() };
    assert!(MockServer::start(cfg).await.is_err());
}

#[tokio::test]
async fn validation_errors_are_json_400() {
    let t = T::new().await;
    let r = t.get("members?offset=0").await;
    assert_eq!((r.status, r.message()), (400, "limit: is required"));
    let r = t.get("members?offset=-1&limit=5").await;
    assert_eq!(r.status, 400);
    assert!(r.message().starts_with("offset:"));
    let r = t.get("members?offset=0&limit=201").await;
    assert!(r.message().starts_with("limit:"));
    let r = t.get("members?offset=0&limit=5&is_admin=yes").await;
    assert_eq!(r.status, 400);
    let r = t.get("groups/abc").await;
    assert_eq!(r.status, 400);
    // Not JSON at all.
    let resp = t
        .http
        .post(format!("{}/v1/teams/{}/groups", t.base, t.team))
        .bearer_auth(&t.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = resp.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().starts_with("body: invalid JSON"));
    // Wrong types.
    let r = t.post("groups", json!({"group_name": 5, "allow_connections_within_group": true})).await;
    assert_eq!((r.status, r.message()), (400, "group_name: must be a string"));
    let r = t.post("groups", json!({"group_name": "Okay", "allow_connections_within_group": "yes"})).await;
    assert_eq!(r.status, 400);
    assert!(r.message().starts_with("allow_connections_within_group:"));
    let r = t.post("groups", json!({"group_name": "X", "allow_connections_within_group": true})).await;
    assert_eq!((r.status, r.message()), (400, "group_name: must be 2..64 characters"));
}

// ------------------------------------------------------------------ members

#[tokio::test]
async fn members_pagination_filters_and_get() {
    let t = T::new().await;
    let r = t.get("members?offset=0&limit=20").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["count"], 50);
    assert_eq!(r.json["data"].as_array().unwrap().len(), 20);
    assert_eq!(r.json["data"][0]["user_id"], 1);
    let r = t.get("members?offset=40&limit=20").await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 10);
    assert_eq!(r.json["data"][0]["user_id"], 41);
    let r = t.get("members?offset=60&limit=20").await;
    assert_eq!((r.json["count"].as_u64(), r.json["data"].as_array().unwrap().len()), (Some(50), 0));

    let r = t.get("members?offset=0&limit=200&is_admin=true").await;
    assert_eq!(ids(&r.json, "user_id"), vec![json!(1), json!(2), json!(3), json!(10), json!(25)]);
    let r = t.get("members?offset=0&limit=200&group_id=6").await;
    assert_eq!(r.json["count"], 5);
    let r = t.get("members?offset=0&limit=200&email=ada.lovelace%40example.com").await;
    assert_eq!(r.json["count"], 1);
    assert_eq!(r.json["data"][0]["user_id"], 1);

    let r = t.get("members/7").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["data"]["user_id"], 7);
    for f in ["email", "name", "is_admin", "group_ids", "team_app_rule_id", "created_at"] {
        assert!(r.json["data"].get(f).is_some(), "{f}");
    }
    assert_eq!(t.get("members/999").await.status, 404);
}

#[tokio::test]
async fn members_remove_rules() {
    let t = T::new().await;
    let r = t.delete("members/1").await;
    assert_eq!(r.status, 409);
    assert!(r.message().contains("owner"));
    let r = t.delete("members/2").await;
    assert_eq!(r.status, 409);
    assert!(r.message().contains("API key"));
    assert_eq!(t.delete("members/999").await.status, 404);

    // Member 3 has tm_001 and is in groups 3 and 6.
    let m = t.get("machines/tm_001").await;
    assert_eq!((m.json["data"]["user_id"].clone(), m.json["data"]["assignment"].clone()), (json!(3), json!("member")));
    let before = t.get("groups/6").await.json["data"]["member_count"].as_u64().unwrap();
    let r = t.delete("members/3?send_email=false").await;
    assert_eq!(r.status, 204);
    assert_eq!(t.get("members/3").await.status, 404);
    let m = t.get("machines/tm_001").await;
    assert_eq!(m.json["data"]["user_id"], Value::Null);
    assert_eq!(m.json["data"]["assignment"], "unassigned");
    assert_eq!(t.get("members?offset=0&limit=1").await.json["count"], 49);
    let after = t.get("groups/6").await.json["data"]["member_count"].as_u64().unwrap();
    assert_eq!(after, before - 1);
    let r = t.get("members?offset=0&limit=200&group_id=6").await;
    assert!(!ids(&r.json, "user_id").contains(&json!(3)));
    // An audit event was appended, newest first.
    let ev = t.get("events?limit=1").await;
    assert_eq!(ev.json["data"][0]["event_name"], "member.removed");
    assert_eq!(ev.json["data"][0]["data"]["user_id"], 3);
}

// ------------------------------------------------------------------ groups

#[tokio::test]
async fn groups_crud_and_show_flags() {
    let t = T::new().await;
    let r = t.get("groups?offset=0&limit=50").await;
    assert_eq!(r.json["count"], 6);
    let r = t.get("groups?offset=0&limit=50&name=eng").await;
    assert_eq!(ids(&r.json, "name"), vec![json!("Engineering")]);

    // allow true, show_group left out: defaults to true; the other two to false.
    let r = t.post("groups", json!({"group_name": "NY", "allow_connections_within_group": true, "show_user_assigned_managed_hosts": false, "show_personal_hosts": true})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let g = &r.json["data"];
    assert_eq!(g["id"], 7);
    assert_eq!(g["name"], "NY");
    assert_eq!(
        (g["show_group_assigned_managed_hosts"].clone(), g["show_user_assigned_managed_hosts"].clone(), g["show_personal_hosts"].clone()),
        (json!(true), json!(false), json!(true))
    );
    // allow false: all stored false; null is fine; true is an error.
    let r = t
        .post("groups", json!({"group_name": "Closed", "allow_connections_within_group": false, "show_group_assigned_managed_hosts": null, "show_user_assigned_managed_hosts": false, "show_personal_hosts": false}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["data"]["show_group_assigned_managed_hosts"], false);
    let closed = r.json["data"]["id"].as_u64().unwrap();
    let r = t.post("groups", json!({"group_name": "Bad", "allow_connections_within_group": false, "show_user_assigned_managed_hosts": false, "show_personal_hosts": true})).await;
    assert_eq!(r.status, 400);
    assert!(r.message().starts_with("show_personal_hosts:"), "{}", r.message());
    // show_user_assigned_managed_hosts and show_personal_hosts are required on create.
    let r = t
        .post("groups", json!({"group_name": "NoFlags", "allow_connections_within_group": true, "show_user_assigned_managed_hosts": true}))
        .await;
    assert_eq!((r.status, r.message()), (400, "show_personal_hosts: is required (a boolean)"));
    let r = t.post("groups", json!({"group_name": "Missing"})).await;
    assert_eq!(r.status, 400);
    assert!(r.message().starts_with("allow_connections_within_group:"));

    // Update: flags keep their values when left out.
    let r = t.put("groups/7", json!({"show_user_assigned_managed_hosts": true})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["data"]["show_personal_hosts"], true);
    assert_eq!(r.json["data"]["show_user_assigned_managed_hosts"], true);
    // Turning allow off stores the flags as false; a true flag with it is an error.
    let r = t.put("groups/7", json!({"allow_connections_within_group": false, "show_personal_hosts": true})).await;
    assert_eq!(r.status, 400);
    let r = t.put("groups/7", json!({"allow_connections_within_group": false, "group_name": "NYC"})).await;
    assert_eq!(r.status, 200);
    let g = &r.json["data"];
    assert_eq!(
        (g["name"].clone(), g["show_personal_hosts"].clone(), g["show_group_assigned_managed_hosts"].clone()),
        (json!("NYC"), json!(false), json!(false))
    );
    let r = t.put(&format!("groups/{closed}"), json!({"show_group_assigned_managed_hosts": true})).await;
    assert_eq!(r.status, 400, "group {closed} does not allow connections");
    // Switching allow back on: show_group defaults to true again.
    let r = t.put("groups/7", json!({"allow_connections_within_group": true})).await;
    assert_eq!(r.json["data"]["show_group_assigned_managed_hosts"], true);

    assert_eq!(t.get("groups/7").await.json["data"]["name"], "NYC");
    assert_eq!(t.get("groups/99").await.status, 404);
    assert_eq!(t.put("groups/99", json!({})).await.status, 404);

    // Delete removes it from members and machines.
    assert_eq!(t.delete("groups/1").await.status, 204);
    assert_eq!(t.get("groups/1").await.status, 404);
    assert_eq!(t.delete("groups/1").await.status, 404);
    let m = t.get("members/1").await;
    assert_eq!(m.json["data"]["group_ids"], json!([6]));
    let m = t.get("machines/tm_009").await;
    assert_eq!(m.json["data"]["assignment"], "unassigned");
}

#[tokio::test]
async fn add_members_replaces_assign_members_keeps() {
    let t = T::new().await;
    assert_eq!(t.get("members/1").await.json["data"]["group_ids"], json!([1, 6]));
    assert_eq!(t.post("groups/2/add-members", json!({"user_ids": [1, 41]})).await.status, 204);
    assert_eq!(t.get("members/1").await.json["data"]["group_ids"], json!([1, 6, 2]));
    assert_eq!(t.get("members/41").await.json["data"]["group_ids"], json!([2]));
    assert_eq!(t.post("groups/3/members", json!({"user_ids": [1]})).await.status, 204);
    assert_eq!(t.get("members/1").await.json["data"]["group_ids"], json!([3]));

    assert_eq!(t.post("groups/3/remove-members", json!({"user_ids": [1]})).await.status, 204);
    assert_eq!(t.get("members/1").await.json["data"]["group_ids"], json!([]));

    assert_eq!(t.post("groups/3/members", json!({"user_ids": []})).await.status, 400);
    assert_eq!(t.post("groups/3/add-members", json!({"user_ids": [4, 4]})).await.status, 400);
    assert_eq!(t.post("groups/3/add-members", json!({"user_ids": [999]})).await.status, 404);
    assert_eq!(t.post("groups/99/add-members", json!({"user_ids": [4]})).await.status, 404);
}

#[tokio::test]
async fn permitted_groups() {
    let t = T::new().await;
    let flags = json!({"show_group_assigned_managed_hosts": true, "show_user_assigned_managed_hosts": false, "show_personal_hosts": true});
    let mut body = json!({"group_ids": [1, 2], "direction": "outgoing"});
    body.as_object_mut().unwrap().extend(flags.as_object().unwrap().clone());
    assert_eq!(t.post("groups/3/permitted-groups", body.clone()).await.status, 204);
    let g = t.get("groups/3").await.json["data"].clone();
    let p = find(&g["permitted_groups"], "group_id", json!(1)).unwrap();
    assert_eq!((p["direction"].clone(), p["show_personal_hosts"].clone()), (json!("outgoing"), json!(true)));

    // Group 3 does not allow connections within itself: no true flag towards itself.
    let mut own = body.clone();
    own["group_ids"] = json!([3]);
    let r = t.post("groups/3/permitted-groups", own).await;
    assert_eq!(r.status, 400);
    let mut bad = body.clone();
    bad["direction"] = json!("sideways");
    assert_eq!(t.post("groups/3/permitted-groups", bad).await.status, 400);
    let mut missing = body.clone();
    missing["group_ids"] = json!([99]);
    assert_eq!(t.post("groups/3/permitted-groups", missing).await.status, 404);
    let mut empty = body.clone();
    empty["group_ids"] = json!([]);
    assert_eq!(t.post("groups/3/permitted-groups", empty).await.status, 400);

    // Update: only in the direction it is permitted.
    let r = t.put("groups/3/permitted-groups/1", json!({"direction": "incoming", "show_personal_hosts": false})).await;
    assert_eq!(r.status, 404);
    let r = t.put("groups/3/permitted-groups/1", json!({"direction": "outgoing", "show_personal_hosts": false})).await;
    assert_eq!(r.status, 204);
    let g = t.get("groups/3").await.json["data"].clone();
    let p = find(&g["permitted_groups"], "group_id", json!(1)).unwrap();
    assert_eq!((p["show_personal_hosts"].clone(), p["show_group_assigned_managed_hosts"].clone()), (json!(false), json!(true)));
    assert_eq!(t.put("groups/3/permitted-groups/1", json!({})).await.status, 400);

    // Remove.
    assert_eq!(t.delete_body("groups/3/permitted-groups", json!({"group_ids": [1], "direction": "outgoing"})).await.status, 204);
    assert_eq!(t.delete_body("groups/3/permitted-groups", json!({"group_ids": [1], "direction": "outgoing"})).await.status, 404);
    let g = t.get("groups/3").await.json["data"].clone();
    assert_eq!(g["permitted_groups"].as_array().unwrap().len(), 1);
    assert_eq!(t.delete_body("groups/3/permitted-groups", json!({"direction": "outgoing"})).await.status, 400);
}

// ------------------------------------------------------------------ guest access

fn guest_body(email: &str, host: &str) -> Value {
    json!({
        "host_peer_id": host, "guest_email": email, "event_name": "Demo", "keyboard": true, "mouse": true,
        "gamepad": false, "time_zone": "America/New_York", "starts_at": in_hours(2), "expires_at": in_hours(5),
        "message": "Welcome", "send_email": false
    })
}

#[tokio::test]
async fn guest_access_credits_spent_and_refunded() {
    let t = T::new().await;
    let credits = || async { t.get("guest-access-invite-credits").await.json["balance"].as_u64().unwrap() };
    assert_eq!(credits().await, 25);
    let host = t.get("machines/tm_004").await.json["data"]["peer_id"].as_str().unwrap().to_string();

    let r = t.get("guest-access-invites?offset=0&limit=2").await;
    assert_eq!((r.json["count"].as_u64(), r.json["data"].as_array().unwrap().len()), (Some(5), 2));

    // A non-member spends a credit.
    let r = t.post("guest-access-invites", guest_body("outsider@partner.com", &host)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.json["data"]["guest_email"], "outsider@partner.com");
    assert_eq!(credits().await, 24);
    // A member does not.
    let r = t.post("guest-access-invites", guest_body("ada.lovelace@example.com", &host)).await;
    assert_eq!(r.status, 200);
    let member_invite = r.json["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(credits().await, 24);

    assert_eq!(t.get(&format!("guest-access-invites/{id}")).await.json["data"]["id"], json!(id));
    let r = t.put(&format!("guest-access-invites/{id}"), json!({"keyboard": false, "time_zone": "Europe/Paris"})).await;
    assert_eq!(r.status, 200);
    assert_eq!((r.json["data"]["keyboard"].clone(), r.json["data"]["time_zone"].clone()), (json!(false), json!("Europe/Paris")));
    assert_eq!(t.put(&format!("guest-access-invites/{id}"), json!({"time_zone": "X"})).await.status, 400);
    assert_eq!(t.put(&format!("guest-access-invites/{id}"), json!({"expires_at": in_hours(1)})).await.status, 400);

    // Cancelling an unused invite refunds its credit; a member's invite refunds nothing.
    assert_eq!(t.delete(&format!("guest-access-invites/{id}?send_email=true")).await.status, 204);
    assert_eq!(credits().await, 25);
    assert_eq!(t.get(&format!("guest-access-invites/{id}")).await.status, 404);
    assert_eq!(t.delete(&format!("guest-access-invites/{member_invite}")).await.status, 204);
    assert_eq!(credits().await, 25);
    // gai_002 was used: no refund.
    assert_eq!(t.delete("guest-access-invites/gai_002").await.status, 204);
    assert_eq!(credits().await, 25);
    // gai_001 unused, spent: refund.
    assert_eq!(t.delete("guest-access-invites/gai_001").await.status, 204);
    assert_eq!(credits().await, 26);

    // No credits left: 409 for a non-member, fine for a member.
    assert_eq!(t.ctl("POST", "credits", Some(json!({"balance": 0}))).await.status, 200);
    let r = t.post("guest-access-invites", guest_body("outsider@partner.com", &host)).await;
    assert_eq!(r.status, 409);
    assert_eq!(t.post("guest-access-invites", guest_body("ada.lovelace@example.com", &host)).await.status, 200);
}

#[tokio::test]
async fn guest_access_validation_and_kick() {
    let t = T::new().await;
    let host = t.get("machines/tm_004").await.json["data"]["peer_id"].as_str().unwrap().to_string();
    let mut b = guest_body("x@partner.com", &host);
    b["starts_at"] = json!(in_hours(-1));
    let r = t.post("guest-access-invites", b).await;
    assert_eq!((r.status, r.message()), (400, "starts_at: must be in the future"));
    let mut b = guest_body("x@partner.com", &host);
    b["expires_at"] = json!(in_hours(1));
    let r = t.post("guest-access-invites", b).await;
    assert_eq!((r.status, r.message()), (400, "expires_at: must be after starts_at"));
    let mut b = guest_body("not-an-email", &host);
    assert_eq!(t.post("guest-access-invites", b.clone()).await.status, 400);
    b["guest_email"] = json!("x@partner.com");
    b.as_object_mut().unwrap().remove("message");
    assert_eq!(t.post("guest-access-invites", b).await.message(), "message: is required");
    assert_eq!(t.post("guest-access-invites", guest_body("x@partner.com", "1pUe1weinVRfcejzWTq9srLpsTb")).await.status, 404);

    // starts_at in the future by the mock clock: after advancing, the old time is past.
    let mut b = guest_body("x@partner.com", &host);
    b["starts_at"] = json!(in_hours(2));
    b["expires_at"] = json!(in_hours(30));
    t.advance(3 * 3600).await;
    assert_eq!(t.post("guest-access-invites", b).await.status, 400);

    assert_eq!(t.get("guest-access-invites/gai_002").await.json["data"]["guest_connected"], true);
    assert_eq!(t.delete("guest-access-invites/gai_002/guest").await.status, 204);
    assert_eq!(t.get("guest-access-invites/gai_002").await.json["data"]["guest_connected"], false);
    assert_eq!(t.delete("guest-access-invites/gai_999/guest").await.status, 404);
}

// ------------------------------------------------------------------ machines

#[tokio::test]
async fn machines_list_filters() {
    let t = T::new().await;
    let count = |q: &'static str| {
        let t = &t;
        async move {
            let r = t.get(&format!("machines?offset=0&limit=200{q}")).await;
            assert_eq!(r.status, 200, "{q}: {}", r.text);
            r.json["count"].as_u64().unwrap()
        }
    };
    assert_eq!(count("").await, 20);
    assert_eq!(count("&assignment=member").await, 8);
    assert_eq!(count("&assignment=group").await, 5);
    assert_eq!(count("&assignment=reservation").await, 3);
    assert_eq!(count("&assignment=unassigned").await, 4);
    assert_eq!(count("&user_id=3").await, 1);
    assert_eq!(count("&team_group_id=1").await, 2);
    assert_eq!(count("&name=render").await, 5);
    assert_eq!(count("&is_online=true").await, 10);
    assert_eq!(count("&is_guest_access=true").await, 5);
    assert_eq!(count("&email=grace.lovelace%40example.com").await, 0);
    assert_eq!(count("&email=alan.lovelace%40example.com").await, 1);
    assert_eq!(t.get("machines?offset=0&limit=5&assignment=other").await.status, 400);
    let r = t.get("machines?offset=5&limit=5").await;
    assert_eq!(ids(&r.json, "id"), ["tm_006", "tm_007", "tm_008", "tm_009", "tm_010"].map(|s| json!(s)).to_vec());
    let m = &t.get("machines/tm_009").await.json["data"];
    assert_eq!(m["peer_id"].as_str().unwrap().len(), 27);
    assert_eq!(t.get("machines/tm_999").await.status, 404);
}

#[tokio::test]
async fn machines_update_assign_kick_delete() {
    let t = T::new().await;
    let r = t.put("machines/tm_017", json!({"name": "Renamed", "is_guest_access": true, "team_app_rule_id": "tar_default"})).await;
    assert_eq!(r.status, 200);
    assert_eq!((r.json["data"]["name"].clone(), r.json["data"]["team_app_rule_id"].clone()), (json!("Renamed"), json!("tar_default")));
    assert_eq!(t.put("machines/tm_017", json!({"team_app_rule_id": "tar_nope"})).await.status, 404);
    assert_eq!(t.put("machines/tm_017", json!({"is_guest_access": "no"})).await.status, 400);

    // Assignment rules.
    let r = t.put("machines/tm_017/assignment", json!({})).await;
    assert_eq!(r.status, 400);
    let r = t.put("machines/tm_017/assignment", json!({"user_id": 5, "team_group_ids": [1]})).await;
    assert_eq!(r.status, 400);
    let r = t.post("machines/tm_017/assignment", json!({"email": "ada.lovelace@example.com", "team_group_id": 1})).await;
    assert_eq!(r.status, 400);
    assert_eq!(t.put("machines/tm_017/assignment", json!({"user_id": 999})).await.status, 404);
    assert_eq!(t.put("machines/tm_017/assignment", json!({"team_group_ids": [99]})).await.status, 404);

    let r = t.put("machines/tm_017/assignment", json!({"team_group_ids": [1, 2]})).await;
    assert_eq!(r.status, 200);
    assert_eq!((r.json["data"]["assignment"].clone(), r.json["data"]["team_group_ids"].clone()), (json!("group"), json!([1, 2])));
    let r = t.put("machines/tm_017/assignment", json!({"user_id": 5})).await;
    assert_eq!((r.json["data"]["assignment"].clone(), r.json["data"]["user_id"].clone()), (json!("member"), json!(5)));
    assert_eq!(r.json["data"]["email"], t.get("members/5").await.json["data"]["email"]);
    // Deprecated create: an email of a member assigns to the member.
    let r = t.post("machines/tm_018/assignment", json!({"email": "ada.lovelace@example.com"})).await;
    assert_eq!((r.json["data"]["assignment"].clone(), r.json["data"]["user_id"].clone()), (json!("member"), json!(1)));
    let r = t.post("machines/tm_018/assignment", json!({"team_group_id": 4})).await;
    assert_eq!((r.json["data"]["assignment"].clone(), r.json["data"]["team_group_ids"].clone()), (json!("group"), json!([4])));

    assert_eq!(t.delete("machines/tm_018/assignment").await.status, 204);
    let m = t.get("machines/tm_018").await.json["data"].clone();
    assert_eq!((m["assignment"].clone(), m["team_group_ids"].clone(), m["user_id"].clone()), (json!("unassigned"), json!([]), Value::Null));

    // kick_user: tm_009 has users 11 and 16 connected.
    assert_eq!(t.delete("machines/tm_009/users/11").await.status, 204);
    assert_eq!(t.get("machines/tm_009").await.json["data"]["connected_user_ids"], json!([16]));
    assert_eq!(t.delete("machines/tm_009/users/999").await.status, 404);
    assert_eq!(t.delete("machines/tm_999/users/11").await.status, 404);

    assert_eq!(t.delete("machines/tm_009").await.status, 204);
    assert_eq!(t.get("machines/tm_009").await.status, 404);
    assert_eq!(t.delete("machines/tm_009").await.status, 404);
}

#[tokio::test]
async fn reservation_then_join_becomes_member_assignment() {
    let t = T::new().await;
    let r = t.put("machines/tm_019/assignment", json!({"email": "brand.new@example.com"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.json["data"]["assignment"].clone(), r.json["data"]["reserved_email"].clone()),
        (json!("reservation"), json!("brand.new@example.com"))
    );

    // No invite yet: cannot join.
    assert_eq!(t.ctl("POST", "join", Some(json!({"email": "brand.new@example.com"}))).await.status, 404);
    let r = t.post("member-invites", json!({"emails": ["brand.new@example.com"], "group_id": 2, "team_app_rule_id": "tar_creative"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t.ctl("POST", "join", Some(json!({"email": "brand.new@example.com"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let m = r.json["data"].clone();
    assert_eq!(m["user_id"], 51);
    assert_eq!(m["group_ids"], json!([2]));
    assert_eq!(m["team_app_rule_id"], "tar_creative");
    let machine = t.get("machines/tm_019").await.json["data"].clone();
    assert_eq!(
        (machine["assignment"].clone(), machine["user_id"].clone(), machine["reserved_email"].clone()),
        (json!("member"), json!(51), Value::Null)
    );
    // The invite is gone, the member is listed.
    let inv = t.get("member-invites?offset=0&limit=200").await;
    assert!(find(&inv.json["data"], "email", json!("brand.new@example.com")).is_none());
    assert_eq!(t.get("members/51").await.status, 200);
    let ev = t.get("events?limit=1").await;
    assert_eq!(ev.json["data"][0]["event_name"], "member.joined");
    // Fixture reservations: joining new.hire1 turns tm_014 into a member assignment.
    let r = t.ctl("POST", "join", Some(json!({"email": "new.hire1@example.com"}))).await;
    assert_eq!(r.status, 200);
    assert_eq!(t.get("machines/tm_014").await.json["data"]["user_id"], 52);
}

// ------------------------------------------------------------------ app rules

#[tokio::test]
async fn app_rules_assign_unassign() {
    let t = T::new().await;
    let r = t.get("app-rules?offset=0&limit=10").await;
    assert_eq!(r.json["count"], 3);
    assert_eq!(ids(&r.json, "id"), vec![json!("tar_default"), json!("tar_creative"), json!("tar_restricted")]);

    assert_eq!(t.post("app-rules/tar_default/assign", json!({"user_ids": [20], "team_machine_ids": ["tm_017"]})).await.status, 204);
    assert_eq!(t.get("members/20").await.json["data"]["team_app_rule_id"], "tar_default");
    assert_eq!(t.get("machines/tm_017").await.json["data"]["team_app_rule_id"], "tar_default");
    let rule = t.get("app-rules?offset=0&limit=1").await.json["data"][0].clone();
    assert!(rule["user_ids"].as_array().unwrap().contains(&json!(20)));
    assert!(rule["team_machine_ids"].as_array().unwrap().contains(&json!("tm_017")));

    assert_eq!(t.post("app-rules/tar_default/unassign", json!({"user_ids": [20]})).await.status, 204);
    assert_eq!(t.get("members/20").await.json["data"]["team_app_rule_id"], Value::Null);
    assert_eq!(t.post("app-rules/tar_default/unassign", json!({})).await.status, 400);
    assert_eq!(t.post("app-rules/tar_nope/assign", json!({"user_ids": [20]})).await.status, 404);
    assert_eq!(t.post("app-rules/tar_default/assign", json!({"user_ids": [999]})).await.status, 404);
    assert_eq!(t.post("app-rules/tar_default/assign", json!({"team_machine_ids": ["tm_999"]})).await.status, 404);
}

// ------------------------------------------------------------------ member invites

#[tokio::test]
async fn invites_create_update_cancel_and_expiry() {
    let t = T::new().await;
    let r = t.get("member-invites?offset=0&limit=50").await;
    assert_eq!(r.json["count"], 4, "the fixture's expired invite is not listed");

    let r = t.post("member-invites", json!({"emails": ["a1@new.com", "a2@new.com"], "group_id": 1, "send_email": true})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["count"], 2);
    let inv = &r.json["data"][0];
    assert_eq!(inv["email"], "a1@new.com");
    assert!(inv["join_url"].as_str().unwrap().starts_with("https://"));
    assert_eq!(inv["group_id"], 1);
    assert!(inv["expires_at"].is_string());

    assert_eq!(t.post("member-invites", json!({"emails": ["ada.lovelace@example.com"]})).await.status, 409);
    assert_eq!(t.post("member-invites", json!({"emails": ["x@y.com", "x@y.com"]})).await.status, 400);
    assert_eq!(t.post("member-invites", json!({"emails": []})).await.status, 400);
    assert_eq!(t.post("member-invites", json!({"emails": ["nope"]})).await.status, 400);
    assert_eq!(t.post("member-invites", json!({"emails": ["x@y.com"], "group_id": 99})).await.status, 404);
    let too_many: Vec<String> = (0..201).map(|i| format!("u{i}@many.com")).collect();
    assert_eq!(t.post("member-invites", json!({ "emails": too_many })).await.status, 400);
    // team_app_rule_id needs Manage App Rule Assignments too.
    let r = t
        .call("POST", "member-invites", Some(LIMITED_KEY), Some(json!({"emails": ["r@new.com"], "team_app_rule_id": "tar_default"})))
        .await;
    assert_eq!(r.status, 403);
    assert!(r.message().contains("Manage App Rule Assignments"));
    let r = t.call("POST", "member-invites", Some(LIMITED_KEY), Some(json!({"emails": ["r@new.com"]}))).await;
    assert_eq!(r.status, 200);

    // Update.
    let r = t.put("member-invites", json!({"emails": ["a1@new.com"], "group_id": 2, "team_app_rule_id": "tar_restricted"})).await;
    assert_eq!(r.status, 200);
    assert_eq!((r.json["data"][0]["group_id"].clone(), r.json["data"][0]["team_app_rule_id"].clone()), (json!(2), json!("tar_restricted")));
    assert_eq!(t.put("member-invites", json!({"emails": ["nobody@new.com"]})).await.status, 404);

    // Cancel (both forms).
    assert_eq!(t.post("cancel-member-invites", json!({"emails": ["a2@new.com"]})).await.status, 204);
    assert_eq!(t.delete_body("member-invites", json!({"emails": ["r@new.com"]})).await.status, 204);
    assert_eq!(t.delete_body("member-invites", json!({"emails": ["r@new.com"]})).await.status, 404);
    let r = t.get("member-invites?offset=0&limit=50").await;
    assert_eq!(r.json["count"], 5);

    // Expiry by the mock clock, then resend revives for another week.
    t.advance(8 * 86_400).await;
    let r = t.get("member-invites?offset=0&limit=50").await;
    assert_eq!(r.json["count"], 0);
    assert_eq!(t.put("member-invites", json!({"emails": ["a1@new.com"]})).await.status, 404);
    let r = t.post("resend-member-invites", json!({"emails": ["a1@new.com"], "send_email": true})).await;
    assert_eq!(r.status, 200);
    let now = t.ctl("GET", "clock", None).await.json["now"].as_str().unwrap().to_string();
    let expires = r.json["data"][0]["expires_at"].as_str().unwrap().to_string();
    assert!(expires > now);
    assert_eq!(t.get("member-invites?offset=0&limit=50").await.json["count"], 1);
    t.advance(6 * 86_400).await;
    assert_eq!(t.get("member-invites?offset=0&limit=50").await.json["count"], 1);
    t.advance(2 * 86_400).await;
    assert_eq!(t.get("member-invites?offset=0&limit=50").await.json["count"], 0);
    assert_eq!(t.post("resend-member-invites", json!({"emails": ["never@new.com"]})).await.status, 404);
}

// ------------------------------------------------------------------ audit log

#[tokio::test]
async fn events_paging_cursor_after_and_filters() {
    let t = T::new().await;
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("events?limit=100&cursor={c}"),
            None => "events?limit=100".to_string(),
        };
        let r = t.get(&q).await;
        assert_eq!(r.status, 200, "{}", r.text);
        all.extend(r.json["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()));
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert!(all.len() >= 300, "{}", all.len());
    let mut sorted = all.clone();
    sorted.sort();
    sorted.reverse();
    sorted.dedup();
    assert_eq!(all, sorted, "newest first, no duplicates");
    assert!(all.iter().all(|id| id.len() == 27));

    // cursor inclusive, after exclusive.
    let r = t.get(&format!("events?limit=2&cursor={}", all[10])).await;
    assert_eq!(r.json["data"][0]["id"], json!(all[10]));
    assert_eq!(r.json["next_cursor"], json!(all[12]));
    let r = t.get(&format!("events?limit=2&after={}", all[10])).await;
    assert_eq!(r.json["data"][0]["id"], json!(all[11]));

    assert_eq!(t.get(&format!("events?limit=2&cursor={0}&after={0}", all[1])).await.status, 400);
    assert_eq!(t.get("events?limit=2&cursor=tooshort").await.status, 400);
    assert_eq!(t.get("events?limit=2&cursor=!!!!!!!!!!!!!!!!!!!!!!!!!!!").await.status, 400);
    assert_eq!(t.get("events?limit=1001").await.status, 400);
    assert_eq!(t.get("events").await.status, 400);
    assert_eq!(t.get("events?limit=5&user_id=0").await.status, 400);
    assert_eq!(t.get("events?limit=5&event_names=a,a").await.status, 400);

    let r = t.get("events?limit=1000&event_names=member.joined,group.created").await;
    let names: Vec<Value> = ids(&r.json, "event_name");
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| n == "member.joined" || n == "group.created"));
    let r = t.get("events?limit=1000&user_id=7").await;
    assert!(ids(&r.json, "user_id").iter().all(|u| u == 7));
    let r = t.get("events?limit=1000&start_at=2024-02-01T00:00:00Z&end_at=2024-02-02T00:00:00Z").await;
    let n = r.json["data"].as_array().unwrap().len();
    assert!((3..=5).contains(&n), "{n}");
    assert_eq!(r.json["next_cursor"], Value::Null);
}

// ------------------------------------------------------------------ quotas

#[tokio::test]
async fn quota_blocks_the_51st_request_until_the_window_passes() {
    let t = T::new().await;
    for i in 0..50 {
        assert_eq!(t.get("events?limit=1").await.status, 200, "request {i}");
    }
    let r = t.get("events?limit=1").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("300"));
    assert!(r.message().contains("quota"));
    // Other quotas are independent.
    assert_eq!(t.post("resend-member-invites", json!({"emails": ["intern@example.com"]})).await.status, 200);
    t.advance(100).await;
    let r = t.get("events?limit=1").await;
    assert_eq!(r.status, 429);
    let left: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((199..=200).contains(&left), "{left}");
    t.advance(201).await;
    assert_eq!(t.get("events?limit=1").await.status, 200);
    let st = t.state().await;
    assert_eq!(st["quotas"]["audit_log.list_events"]["count"], 1);
}

#[tokio::test]
async fn quota_window_is_configurable() {
    let t = T::with(MockConfig { quota_window: Duration::from_secs(10), ..MockConfig::default() }).await;
    for _ in 0..50 {
        assert_eq!(t.post("member-invites", json!({"emails": ["q@quota.com"]})).await.status, 200);
    }
    let r = t.post("member-invites", json!({"emails": ["q@quota.com"]})).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("10")));
    t.advance(11).await;
    assert_eq!(t.post("member-invites", json!({"emails": ["q@quota.com"]})).await.status, 200);
}

// ------------------------------------------------------------------ faults

#[tokio::test]
async fn faults_status_retry_after_and_method() {
    let t = T::new().await;
    let r = t
        .ctl("POST", "faults", Some(json!({"method": "GET", "path": "/v1/teams/*/members", "times": 2, "status": 503, "retry_after": 1})))
        .await;
    assert_eq!(r.status, 200);
    for _ in 0..2 {
        let r = t.get("members?offset=0&limit=1").await;
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.json, json!({"message": "injected fault"}));
        assert!(r.header("x-request-id").is_some());
    }
    assert_eq!(t.get("members?offset=0&limit=1").await.status, 200);

    // Method filter and raw body.
    t.ctl("POST", "faults", Some(json!({"method": "POST", "path": "/v1/teams/*/groups", "status": 500, "body": "boom"}))).await;
    assert_eq!(t.get("groups?offset=0&limit=1").await.status, 200);
    let r = t.post("groups", json!({"group_name": "Faulty", "allow_connections_within_group": false, "show_user_assigned_managed_hosts": false, "show_personal_hosts": false})).await;
    assert_eq!((r.status, r.text.as_str()), (500, "boom"));
    assert_eq!(t.get("groups?offset=0&limit=1").await.json["count"], 6, "the faulted request was not handled");

    // Trailing ** matches the rest; DELETE clears.
    t.ctl("POST", "faults", Some(json!({"path": "/v1/**", "times": 5, "status": 502}))).await;
    assert_eq!(t.get("machines/tm_001").await.status, 502);
    assert_eq!(t.ctl("DELETE", "faults", None).await.status, 204);
    assert_eq!(t.get("machines/tm_001").await.status, 200);
    assert_eq!(t.ctl("POST", "faults", Some(json!({"status": 500}))).await.status, 400);
}

#[tokio::test]
async fn faults_drop_connection() {
    let t = T::new().await;
    t.ctl("POST", "faults", Some(json!({"path": "/v1/teams/*/members/*", "drop_connection": true}))).await;
    let err = t.http.get(format!("{}/v1/teams/{}/members/5", t.base, t.team)).bearer_auth(&t.key).send().await;
    assert!(err.is_err(), "the connection was closed without an answer");
    // The next one is fine, and the log shows status 0.
    assert_eq!(t.get("members/5").await.status, 200);
    let log = t.ctl("GET", "requests", None).await.json;
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0]["status"].clone(), entries[1]["status"].clone()), (json!(0), json!(200)));
}

#[tokio::test]
async fn faults_delay_then_normal_handling() {
    let t = T::new().await;
    t.ctl("POST", "faults", Some(json!({"method": "POST", "path": "/v1/teams/*/groups", "delay_ms": 400}))).await;
    let quick = t.client_with_timeout(Duration::from_millis(100));
    let r = quick
        .post(format!("{}/v1/teams/{}/groups", t.base, t.team))
        .bearer_auth(&t.key)
        .json(&json!({"group_name": "Late", "allow_connections_within_group": true, "show_user_assigned_managed_hosts": false, "show_personal_hosts": false}))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    // The server still acted after the delay.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = t.get("groups?offset=0&limit=50&name=Late").await;
    assert_eq!(r.json["count"], 1);
    // Delay plus status.
    t.ctl("POST", "faults", Some(json!({"path": "/v1/teams/*/groups", "delay_ms": 150, "status": 504}))).await;
    let start = std::time::Instant::now();
    assert_eq!(t.get("groups?offset=0&limit=1").await.status, 504);
    assert!(start.elapsed() >= Duration::from_millis(150));
}

// ------------------------------------------------------------------ request log, reset, state

#[tokio::test]
async fn request_log() {
    let t = T::new().await;
    let a = t.get("members?offset=0&limit=1").await;
    let b = t.post("groups", json!({"group_name": "Logged", "allow_connections_within_group": false, "show_user_assigned_managed_hosts": false, "show_personal_hosts": false})).await;
    let _ = t.delete("members/1").await;
    t.state().await; // control routes are not logged
    let log = t.ctl("GET", "requests", None).await.json;
    let e = log.as_array().unwrap();
    assert_eq!(e.len(), 3);
    assert_eq!(e[0]["method"], "GET");
    assert_eq!(e[0]["path"], format!("/v1/teams/{}/members", t.team));
    assert_eq!(e[0]["query"], "offset=0&limit=1");
    assert_eq!(e[0]["body"], Value::Null);
    assert_eq!(e[0]["status"], 200);
    assert!(e[0]["user_agent"].is_null(), "reqwest sends no User-Agent by default");
    assert_eq!(e[0]["request_id"], json!(a.header("x-request-id").unwrap()));
    assert_eq!(
        e[1]["body"],
        json!({"group_name": "Logged", "allow_connections_within_group": false, "show_user_assigned_managed_hosts": false, "show_personal_hosts": false})
    );
    assert_eq!(e[1]["query"], Value::Null);
    assert_eq!(e[1]["request_id"], json!(b.header("x-request-id").unwrap()));
    assert_eq!((e[2]["method"].clone(), e[2]["status"].clone()), (json!("DELETE"), json!(409)));
    assert_eq!(t.ctl("DELETE", "requests", None).await.status, 204);
    assert_eq!(t.ctl("GET", "requests", None).await.json, json!([]));
}

#[tokio::test]
async fn reset_and_state() {
    let t = T::new().await;
    let st = t.state().await;
    assert_eq!(st["team_id"], t.team);
    assert_eq!(st["members"].as_array().unwrap().len(), 50);
    assert_eq!(st["groups"].as_array().unwrap().len(), 6);
    assert_eq!(st["machines"].as_array().unwrap().len(), 20);
    assert_eq!(st["app_rules"].as_array().unwrap().len(), 3);
    assert_eq!(st["member_invites"].as_array().unwrap().len(), 5);
    assert_eq!(st["guest_invites"].as_array().unwrap().len(), 5);
    assert_eq!(st["credits"], 25);
    assert_eq!(st["events"].as_array().unwrap().len(), 320);
    assert_eq!(st["admin"]["users"].as_array().unwrap().len(), 20);
    assert!(st["quotas"].is_object());

    // Mutate everything reset covers.
    assert_eq!(t.delete("members/30").await.status, 204);
    t.ctl("POST", "credits", Some(json!({"balance": 3}))).await;
    t.advance(86_400).await;
    t.ctl("POST", "faults", Some(json!({"path": "/v1/**", "status": 500, "times": 100}))).await;
    for _ in 0..51 {
        let _ = t.get("events?limit=1").await;
    }
    t.admin("DELETE", "teams/1", Some(&t.admin_token()), None).await;
    assert_eq!(t.ctl("POST", "reset", None).await.status, 204);

    assert_eq!(t.get("members/30").await.status, 200);
    assert_eq!(t.get("guest-access-invite-credits").await.json, json!({"balance": 25}));
    assert_eq!(t.get("events?limit=1").await.status, 200, "quota and faults cleared");
    let log = t.ctl("GET", "requests", None).await.json;
    assert_eq!(log.as_array().unwrap().len(), 3);
    assert_eq!(t.admin("GET", "teams/1", Some(&t.admin_token()), None).await.status, 200);
    let st = t.state().await;
    assert_eq!(st["events"].as_array().unwrap().len(), 320);
    // Clock offset cleared: invites are pending again.
    assert_eq!(t.get("member-invites?offset=0&limit=50").await.json["count"], 4);
}

#[tokio::test]
async fn fixture_roundtrip_from_state() {
    let t = T::new().await;
    assert_eq!(t.delete("members/30").await.status, 204);
    let st = t.state().await;
    let fixture = Fixture::from_json(&st.to_string()).unwrap();
    assert_eq!(fixture.members.len(), 49);
    let t2 = T::with(MockConfig { fixture: Some(fixture), ..MockConfig::default() }).await;
    assert_eq!(t2.get("members/30").await.status, 404);
    assert_eq!(t2.get("members?offset=0&limit=1").await.json["count"], 49);
    let d = Fixture::default();
    assert_eq!(d.team_id, "1or58Uz1O6ObcpGCN9");
    assert!(d.api_key.starts_with("tapi_1or58Uz1O6ObcpGCN9."));
}

// ------------------------------------------------------------------ admin API

#[tokio::test]
async fn admin_api() {
    let t = T::new().await;
    let admin = t.admin_token();
    let st = t.state().await;
    // The state shows tokens masked (`pta_user_0003_****`): the fixture's non-admin token.
    let user_token = "pta_user_0003_0badc0de98765432".to_string();
    let a = |m: &'static str, p: String, tok: Option<String>, b: Option<Value>| {
        let t = &t;
        async move { t.admin(m, &p, tok.as_deref(), b).await }
    };
    let tok = Some(admin.clone());
    let user = Some(user_token.clone());

    assert_eq!(a("GET", "teams".into(), None, None).await.status, 401);
    assert_eq!(a("GET", "teams".into(), Some("bogus".into()), None).await.status, 401);
    let r = a("GET", "teams".into(), tok.clone(), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json.as_array().unwrap().len(), 4);
    assert_eq!(
        r.json[0],
        json!({"id": "1", "name": "Engineering", "quota": "1073741824", "quota_mail_sent": false, "owner_id": 1, "user_ids": [1, 2, 3, 4, 5, 6]})
    );
    let r = a("GET", "teams/user_owned".into(), tok.clone(), None).await;
    assert_eq!(r.json.as_array().unwrap().iter().map(|t| t["id"].clone()).collect::<Vec<_>>(), vec![json!("1"), json!("3")]);
    // Non-admins can read, not write.
    assert_eq!(a("GET", "teams".into(), user.clone(), None).await.status, 200);
    assert_eq!(a("GET", "teams/2".into(), user.clone(), None).await.status, 200);
    let r = a("GET", "teams/user_owned".into(), user.clone(), None).await;
    assert_eq!(r.json, json!([st["admin"]["teams"][1]]));
    assert_eq!(a("POST", "teams".into(), user.clone(), Some(json!({"team": {"name": "X"}}))).await.status, 403);
    assert_eq!(a("DELETE", "teams/2".into(), user.clone(), None).await.status, 403);
    assert_eq!(a("GET", "teams/2/access_rights?type=assets".into(), user.clone(), None).await.status, 403);

    assert_eq!(a("GET", "teams/99".into(), tok.clone(), None).await.status, 404);
    let r =
        a("POST", "teams".into(), tok.clone(), Some(json!({"team": {"name": "Ops", "quota": "2048", "quota_mail_sent": "true"}}))).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json, json!({"id": "5", "name": "Ops", "quota": "2048", "quota_mail_sent": true, "owner_id": 1, "user_ids": [1]}));
    for (body, field) in [
        (json!({"team": {"quota": "1"}}), "team[name]"),
        (json!({}), "team[name]"),
        (json!({"team": {"name": 5}}), "team[name]"),
        (json!({"team": {"name": "Q", "quota": 1024}}), "team[quota]"),
        (json!({"team": {"name": "Q", "quota": "-1"}}), "team[quota]"),
        (json!({"team": {"name": "Q", "quota_mail_sent": true}}), "team[quota_mail_sent]"),
    ] {
        let r = a("POST", "teams".into(), tok.clone(), Some(body.clone())).await;
        assert_eq!(r.status, 422, "{body}");
        assert!(r.message().starts_with(field), "{body}: {}", r.message());
    }
    let r = a("PUT", "teams/5".into(), tok.clone(), Some(json!({"team": {"quota": null, "name": "Ops2"}}))).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.json["name"].clone(), r.json["quota"].clone(), r.json["quota_mail_sent"].clone()),
        (json!("Ops2"), Value::Null, json!(true))
    );
    assert_eq!(a("PUT", "teams/5".into(), tok.clone(), Some(json!({"team": {"quota": "x"}}))).await.status, 422);
    assert_eq!(a("PUT", "teams/99".into(), tok.clone(), Some(json!({"team": {}}))).await.status, 404);

    let r = a("POST", "teams/5/users/7".into(), tok.clone(), None).await;
    assert_eq!((r.status, r.json["user_ids"].clone()), (200, json!([1, 7])));
    assert_eq!(a("POST", "teams/5/users/77".into(), tok.clone(), None).await.status, 404);
    assert_eq!(a("POST", "teams/55/users/7".into(), tok.clone(), None).await.status, 404);
    assert_eq!(a("DELETE", "teams/5/users/7".into(), tok.clone(), None).await.status, 204);
    assert_eq!(a("DELETE", "teams/5/users/7".into(), tok.clone(), None).await.status, 404);

    assert_eq!(a("POST", "users/20/assign_to_all_teams".into(), tok.clone(), None).await.status, 204);
    let r = a("GET", "teams".into(), tok.clone(), None).await;
    assert!(r.json.as_array().unwrap().iter().all(|t| t["user_ids"].as_array().unwrap().contains(&json!(20))));
    assert_eq!(a("DELETE", "users/20/remove_from_all_teams".into(), tok.clone(), None).await.status, 204);
    let r = a("GET", "teams".into(), tok.clone(), None).await;
    assert!(r.json.as_array().unwrap().iter().all(|t| !t["user_ids"].as_array().unwrap().contains(&json!(20))));
    assert_eq!(a("POST", "users/99/assign_to_all_teams".into(), tok.clone(), None).await.status, 404);

    let r = a("GET", "teams/2/access_rights?type=projects".into(), tok.clone(), None).await;
    assert_eq!(r.status, 200);
    let rights = r.json.as_array().unwrap();
    assert!(!rights.is_empty());
    assert!(rights.iter().all(|x| x["type"] == "projects" && x["team_id"] == "2"));
    assert_eq!(a("GET", "teams/2/access_rights".into(), tok.clone(), None).await.status, 422);
    assert_eq!(a("GET", "teams/2/access_rights?type=files".into(), tok.clone(), None).await.status, 422);

    assert_eq!(a("DELETE", "teams/5".into(), tok.clone(), None).await.status, 204);
    assert_eq!(a("GET", "teams/5".into(), tok.clone(), None).await.status, 404);
    assert_eq!(a("DELETE", "teams/5".into(), tok.clone(), None).await.status, 404);
}

// ------------------------------------------------------------------ background start, binary

fn raw_get(addr: std::net::SocketAddr, path: &str, key: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn start_background_for_sync_callers() {
    let server = MockServer::start_background(MockConfig::default()).unwrap();
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
    let resp = raw_get(server.addr(), &format!("/v1/teams/{}/guest-access-invite-credits", server.team_id()), server.api_key());
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.to_ascii_lowercase().contains("x-request-id: req_"));
    assert!(resp.ends_with(r#"{"balance":25}"#), "{resp}");
    let addr = server.addr();
    server.shutdown();
    std::thread::sleep(Duration::from_millis(50));
    assert!(std::net::TcpStream::connect(addr).is_err(), "stopped listening");
}

#[test]
fn binary_prints_one_json_line_and_stops_on_sigterm() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_parsec-teams-mock"))
        .args(["--port", "0", "--quota-window", "30", "--key", "tapi_cli.key=View Team Members,View Groups"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    let base = v["base_url"].as_str().unwrap();
    assert_eq!(v["team_id"], "1or58Uz1O6ObcpGCN9");
    assert!(v["api_key"].as_str().unwrap().starts_with("tapi_1or58Uz1O6ObcpGCN9."));
    assert!(v["admin_token"].is_string());
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let resp = raw_get(addr, "/v1/teams/1or58Uz1O6ObcpGCN9/groups?offset=0&limit=1", "tapi_cli.key");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let resp = raw_get(addr, "/v1/teams/1or58Uz1O6ObcpGCN9/machines?offset=0&limit=1", "tapi_cli.key");
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let code = child.wait().unwrap();
    assert_eq!(code.code(), Some(0));
}

// ------------------------------------------------------------------ throughput (manual)

/// `cargo test --release -p parsec-teams-mock --test api -- --ignored --nocapture throughput`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn throughput() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = MockServer::start_background(MockConfig::default()).unwrap();
    let req =
        format!("GET /v1/teams/{}/members/7 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", server.team_id(), server.api_key());
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (req, addr) = (req.clone(), server.addr());
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut buf = vec![0u8; 8192];
            let mut n = 0u64;
            while std::time::Instant::now() < deadline {
                s.write_all(req.as_bytes()).await.unwrap();
                let mut got = 0;
                loop {
                    got += s.read(&mut buf[got..]).await.unwrap();
                    let text = std::str::from_utf8(&buf[..got]).unwrap_or("");
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text[..end]
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .map(|v| v.trim().parse().unwrap())
                            .unwrap_or(0);
                        if got >= end + 4 + len {
                            break;
                        }
                    }
                }
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    println!("throughput: {} requests/s", total / 3);
}

#[tokio::test]
async fn request_log_entries_carry_elapsed_ms() {
    let t = T::new().await;
    let before = std::time::Instant::now();
    let _ = t.get("members?offset=0&limit=1").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let _ = t.get("members?offset=0&limit=1").await;
    let waited = before.elapsed().as_secs_f64() * 1000.0;
    let log = t.ctl("GET", "requests", None).await.json;
    let e = log.as_array().unwrap();
    let (a, b) = (e[0]["elapsed_ms"].as_f64().unwrap(), e[1]["elapsed_ms"].as_f64().unwrap());
    assert!(a >= 0.0, "{a}");
    let gap = b - a;
    assert!(gap >= 150.0 && gap <= waited, "gap {gap} ms, waited {waited} ms");
}
