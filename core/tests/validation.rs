//! Every rule of the seeds, on both sides: the client refuses bad input before
//! anything is sent (the error names the field), and the mock refuses the same
//! input when the client's checks are bypassed with raw HTTP.

mod common;

use common::{in_hours_str, Env};
use parsec_teams::spec::{self, Api, Operation};
use parsec_teams::ErrorKind;
use serde_json::{json, Map, Value};

struct Case {
    op: &'static Operation,
    args: Value,
    /// The field the client's error must name.
    field: &'static str,
    /// The status the mock answers when the check is bypassed (None where the
    /// rule cannot be expressed on the wire, e.g. a wrongly typed path segment).
    server: Option<u16>,
}

fn obj(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().expect("args are an object")
}

/// `base` with `patch` applied (a null in `patch` removes the key).
fn with(base: &Value, patch: Value) -> Value {
    let mut m = obj(base);
    for (k, v) in obj(&patch) {
        if v.is_null() {
            m.remove(&k);
        } else {
            m.insert(k, v);
        }
    }
    Value::Object(m)
}

fn cases(host: &str) -> Vec<Case> {
    let group = json!({"group_name": "Valid", "allow_connections_within_group": true, "show_user_assigned_managed_hosts": false, "show_personal_hosts": false});
    let permitted = json!({"group_id": 1, "group_ids": [2], "direction": "incoming", "show_group_assigned_managed_hosts": false, "show_user_assigned_managed_hosts": false, "show_personal_hosts": false});
    let guest = json!({
        "host_peer_id": host, "guest_email": "g@partner.com", "event_name": "E", "keyboard": true, "mouse": true, "gamepad": false,
        "time_zone": "UTC", "starts_at": in_hours_str(1), "expires_at": in_hours_str(2), "message": "hi"
    });
    let events = json!({"limit": 10});
    let ksuid = "0ujssxh0cECutqzMgbtXSGnjorm";
    let many: Vec<String> = (0..201).map(|i| format!("u{i}@ex.com")).collect();
    let c = |op, args, field, server| Case { op, args, field, server };
    vec![
        // groups
        c(&spec::GROUPS_CREATE, with(&group, json!({"group_name": "A"})), "group_name", Some(400)),
        c(&spec::GROUPS_CREATE, with(&group, json!({"group_name": "x".repeat(65)})), "group_name", Some(400)),
        c(&spec::GROUPS_CREATE, with(&group, json!({"allow_connections_within_group": null})), "allow_connections_within_group", Some(400)),
        c(&spec::GROUPS_CREATE, with(&group, json!({"show_personal_hosts": null})), "show_personal_hosts", Some(400)),
        c(
            &spec::GROUPS_CREATE,
            with(&group, json!({"allow_connections_within_group": false, "show_personal_hosts": true})),
            "show_personal_hosts",
            Some(400),
        ),
        c(
            &spec::GROUPS_CREATE,
            with(&group, json!({"allow_connections_within_group": false, "show_group_assigned_managed_hosts": true})),
            "show_group_assigned_managed_hosts",
            Some(400),
        ),
        c(
            &spec::GROUPS_CREATE,
            with(&group, json!({"allow_connections_within_group": "yes"})),
            "allow_connections_within_group",
            Some(400),
        ),
        c(
            &spec::GROUPS_UPDATE,
            json!({"group_id": 1, "allow_connections_within_group": false, "show_user_assigned_managed_hosts": true}),
            "show_user_assigned_managed_hosts",
            Some(400),
        ),
        c(&spec::GROUPS_UPDATE, json!({"group_id": 1, "group_name": "B"}), "group_name", Some(400)),
        c(&spec::GROUPS_LIST, json!({"limit": 0}), "limit", Some(400)),
        c(&spec::GROUPS_LIST, json!({"limit": 201}), "limit", Some(400)),
        c(&spec::GROUPS_LIST, json!({"offset": -1}), "offset", Some(400)),
        c(&spec::GROUPS_GET, json!({"group_id": "abc"}), "group_id", None),
        c(&spec::GROUPS_GET, json!({}), "group_id", None),
        c(&spec::GROUPS_REMOVE_MEMBERS, json!({"group_id": 1, "user_ids": [3, 3]}), "user_ids", Some(400)),
        c(&spec::GROUPS_ADD_PERMITTED_GROUPS, with(&permitted, json!({"group_ids": []})), "group_ids", Some(400)),
        c(&spec::GROUPS_ADD_PERMITTED_GROUPS, with(&permitted, json!({"group_ids": [2, 2]})), "group_ids", Some(400)),
        c(&spec::GROUPS_ADD_PERMITTED_GROUPS, with(&permitted, json!({"direction": "sideways"})), "direction", Some(400)),
        c(&spec::GROUPS_ADD_PERMITTED_GROUPS, with(&permitted, json!({"show_personal_hosts": null})), "show_personal_hosts", Some(400)),
        c(&spec::GROUPS_REMOVE_PERMITTED_GROUPS, json!({"group_id": 1, "group_ids": [], "direction": "incoming"}), "group_ids", Some(400)),
        c(&spec::GROUPS_UPDATE_PERMITTED_GROUP, json!({"group_id": 1, "permitted_group_id": 2}), "direction", Some(400)),
        c(&spec::GROUPS_ADD_MEMBERS, json!({"group_id": 1, "user_ids": []}), "user_ids", Some(400)),
        c(&spec::GROUPS_ASSIGN_MEMBERS, json!({"group_id": 1, "user_ids": [4, 4]}), "user_ids", Some(400)),
        // audit log
        c(&spec::AUDIT_LOG_LIST_EVENTS, json!({}), "limit", Some(400)),
        c(&spec::AUDIT_LOG_LIST_EVENTS, json!({"limit": 1001}), "limit", Some(400)),
        c(&spec::AUDIT_LOG_LIST_EVENTS, with(&events, json!({"cursor": ksuid, "after": ksuid})), "after", Some(400)),
        c(&spec::AUDIT_LOG_LIST_EVENTS, with(&events, json!({"cursor": &ksuid[1..]})), "cursor", Some(400)),
        c(&spec::AUDIT_LOG_LIST_EVENTS, with(&events, json!({"after": "0ujssxh0cECutqzMgbtXSGnjor!"})), "after", Some(400)),
        c(&spec::AUDIT_LOG_LIST_EVENTS, with(&events, json!({"user_id": 0})), "user_id", Some(400)),
        c(&spec::AUDIT_LOG_LIST_EVENTS, with(&events, json!({"event_names": ["a", "a"]})), "event_names", Some(400)),
        c(&spec::AUDIT_LOG_LIST_EVENTS, with(&events, json!({"start_at": "yesterday"})), "start_at", Some(400)),
        // guest access
        c(&spec::GUEST_ACCESS_CREATE, with(&guest, json!({"guest_email": "not-an-email"})), "guest_email", Some(400)),
        c(&spec::GUEST_ACCESS_CREATE, with(&guest, json!({"starts_at": in_hours_str(-1)})), "starts_at", Some(400)),
        c(&spec::GUEST_ACCESS_CREATE, with(&guest, json!({"expires_at": in_hours_str(1)})), "expires_at", Some(400)),
        c(&spec::GUEST_ACCESS_CREATE, with(&guest, json!({"message": null})), "message", Some(400)),
        c(&spec::GUEST_ACCESS_CREATE, with(&guest, json!({"keyboard": null})), "keyboard", Some(400)),
        c(&spec::GUEST_ACCESS_UPDATE, json!({"invite_id": "gai_001", "time_zone": "NY"}), "time_zone", Some(400)),
        c(
            &spec::GUEST_ACCESS_UPDATE,
            json!({"invite_id": "gai_001", "starts_at": in_hours_str(5), "expires_at": in_hours_str(4)}),
            "expires_at",
            Some(400),
        ),
        c(&spec::GUEST_ACCESS_LIST, json!({"limit": 500}), "limit", Some(400)),
        // machines
        c(&spec::MACHINES_LIST, json!({"assignment": "bogus"}), "assignment", Some(400)),
        c(&spec::MACHINES_LIST, json!({"email": "x"}), "email", Some(400)),
        c(&spec::MACHINES_SET_ASSIGNMENT, json!({"machine_id": "tm_017"}), "user_id / team_group_ids / email", Some(400)),
        c(
            &spec::MACHINES_SET_ASSIGNMENT,
            json!({"machine_id": "tm_017", "user_id": 3, "team_group_ids": [1]}),
            "team_group_ids",
            Some(400),
        ),
        c(
            &spec::MACHINES_SET_ASSIGNMENT,
            json!({"machine_id": "tm_017", "email": "a@b.co", "team_group_ids": [1]}),
            "team_group_ids",
            Some(400),
        ),
        c(&spec::MACHINES_CREATE_ASSIGNMENT, json!({"machine_id": "tm_017"}), "user_id / team_group_id / email", Some(400)),
        c(&spec::MACHINES_CREATE_ASSIGNMENT, json!({"machine_id": "tm_017", "user_id": 3, "team_group_id": 1}), "team_group_id", Some(400)),
        c(&spec::MACHINES_CREATE_ASSIGNMENT, json!({"machine_id": "tm_017", "email": "bad@"}), "email", Some(400)),
        c(&spec::MACHINES_UPDATE, json!({"machine_id": "", "name": "x"}), "machine_id", None),
        // app rules
        c(&spec::APP_RULES_ASSIGN, json!({"app_rule_id": "tar_default"}), "user_ids / team_machine_ids", Some(400)),
        c(
            &spec::APP_RULES_UNASSIGN,
            json!({"app_rule_id": "tar_default", "user_ids": [], "team_machine_ids": []}),
            "user_ids / team_machine_ids",
            Some(400),
        ),
        // members
        c(&spec::MEMBERS_LIST, json!({"is_admin": "yes"}), "is_admin", Some(400)),
        c(&spec::MEMBERS_GET, json!({"user_id": 3, "bogus": 1}), "bogus", None),
        // member invites
        c(&spec::INVITES_CREATE, json!({"emails": []}), "emails", Some(400)),
        c(&spec::INVITES_CREATE, json!({"emails": many}), "emails", Some(400)),
        c(&spec::INVITES_CREATE, json!({"emails": ["a@b.co", "a@b.co"]}), "emails", Some(400)),
        c(&spec::INVITES_CREATE, json!({"emails": ["a@b.co", "nope"]}), "emails[1]", Some(400)),
        c(&spec::INVITES_RESEND, json!({"emails": ["a@b.co", "a@b.co"]}), "emails", Some(400)),
        c(&spec::INVITES_UPDATE, json!({"emails": ["x"]}), "emails[0]", Some(400)),
        c(&spec::INVITES_CANCEL_DEPRECATED, json!({"emails": []}), "emails", Some(400)),
        // team administration
        c(&spec::ADMIN_TEAMS_CREATE, json!({"quota": 10}), "name", Some(422)),
        c(&spec::ADMIN_TEAMS_CREATE, json!({"name": "X", "quota": -1}), "quota", Some(422)),
        c(&spec::ADMIN_TEAMS_ACCESS_RIGHTS, json!({"id": "1", "type": "files"}), "type", Some(422)),
        c(&spec::ADMIN_TEAMS_ACCESS_RIGHTS, json!({"id": "1"}), "type", Some(422)),
    ]
}

#[tokio::test]
async fn client_refuses_before_sending_and_mock_refuses_too() {
    let env = Env::start().await;
    let admin = env.admin();
    let host = env.client.machines().get("tm_004").await.unwrap().peer_id.unwrap();
    env.clear_requests().await;

    let cases = cases(&host);
    for case in &cases {
        let caller = match case.op.api {
            Api::Teams => env.client.caller(),
            Api::Admin => admin.caller(),
        };
        let err = caller.call_json(case.op, obj(&case.args)).await.expect_err(&format!("{} {}", case.op.qualified_name(), case.args));
        assert_eq!(err.kind(), ErrorKind::Validation, "{}: {err}", case.op.qualified_name());
        assert_eq!(err.field(), Some(case.field), "{}: {err}", case.op.qualified_name());
        assert!(err.message().starts_with(case.field), "the message names the field: {err}");
        assert!(err.status().is_none() && err.request_id().is_none());
    }
    assert_eq!(env.requests().await, Vec::<Value>::new(), "no request was sent for any bad input");

    // Now bypass the client's checks: the same arguments, encoded as they would be, sent raw.
    let mut misses = Vec::new();
    for case in cases.iter().filter(|c| c.server.is_some()) {
        let mut args = obj(&case.args);
        for p in case.op.params {
            if let (Some(spec::DefaultValue::Int(d)), false) = (p.default, args.contains_key(p.name)) {
                args.insert(p.name.to_owned(), json!(d));
            }
        }
        let enc = parsec_teams::validate::encode(case.op, env.mock.team_id(), &args);
        let token = (case.op.api == Api::Admin).then(|| env.mock.admin_token());
        let (status, body) = env.raw_bytes(case.op.method.as_str(), &format!("{}{}", enc.path, enc.query), enc.body.clone(), token).await;
        let message = body["message"].as_str().unwrap_or_default();
        let stem = case.field.split(['[', ' ']).next().unwrap();
        if Some(status) != case.server || !message.contains(stem) {
            misses.push(format!("{} {} -> {status} {body}", case.op.qualified_name(), case.args));
        }
    }
    assert!(misses.is_empty(), "the mock must refuse each of these, naming the field:\n{}", misses.join("\n"));
}

#[tokio::test]
async fn configuration_is_checked() {
    use parsec_teams::{AdminClient, AdminClientOptions, Client, ClientOptions};
    let e = Client::new(ClientOptions::new().api_key("tapi_team.secret").base_url("http://api.parsec.app")).unwrap_err();
    assert_eq!((e.kind(), e.field()), (ErrorKind::Validation, Some("base_url")));
    let e = Client::new(ClientOptions::new().api_key("not-a-team-key").base_url("https://api.parsec.app")).unwrap_err();
    assert_eq!(e.field(), Some("team_id"));
    let ok = Client::new(ClientOptions::new().api_key("tapi_abc123.s3cr3t-value")).unwrap();
    assert_eq!(ok.team_id(), "abc123");
    assert_eq!(ok.base_url(), "https://api.parsec.app");
    let e = AdminClient::new(AdminClientOptions::new().token("t")).unwrap_err();
    assert_eq!(e.field(), Some("base_url"));
}

#[tokio::test]
async fn every_operation_has_a_checked_table_entry() {
    // Each operation's path parameters exist in its template and vice versa.
    // The counts are the checked-in description's (docs/description.json), not literals.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/description.json")).unwrap();
    let counts = serde_json::from_str::<Value>(&text).unwrap()["counts"].clone();
    assert_eq!(spec::OPERATIONS.len() as u64, counts["operations"].as_u64().unwrap());
    let teams = spec::OPERATIONS.iter().filter(|op| op.api == spec::Api::Teams).count() as u64;
    assert_eq!((teams, spec::OPERATIONS.len() as u64 - teams), (counts["teams"].as_u64().unwrap(), counts["admin"].as_u64().unwrap()));
    for op in spec::OPERATIONS {
        for p in op.params.iter().filter(|p| p.location == spec::Location::Path) {
            assert!(op.path.contains(&format!("{{{}}}", p.name)), "{}: {}", op.qualified_name(), p.name);
        }
        let mut rest = op.path;
        while let Some(i) = rest.find('{') {
            let end = rest[i..].find('}').unwrap() + i;
            let name = &rest[i + 1..end];
            assert!(name == "team_id" || op.param(name).is_some(), "{}: {{{name}}} has no parameter", op.qualified_name());
            rest = &rest[end + 1..];
        }
    }
    let table = parsec_teams::table::table_json();
    assert_eq!(table.as_array().unwrap().len(), spec::OPERATIONS.len());
    // Cross-field rules are structured data, not Rust Debug text.
    let rules: Vec<&Value> = table.as_array().unwrap().iter().flat_map(|op| op["rules"].as_array().unwrap()).collect();
    assert!(!rules.is_empty() && rules.iter().all(|r| r["kind"].is_string()), "{rules:?}");
    assert_eq!(table[0]["name"], "list_events");
    assert_eq!(table[0]["iter_name"], "iter_events");
}
