//! The pieces every binding takes from the core instead of writing its own
//! (issue 10 §1): options from raw values, the escape hatch's method, query and
//! body, and the quota status as JSON — over real HTTP against the mock.

mod common;

use common::Env;
use parsec_teams::{escape, options, Client, ClientOptions, ErrorKind, OptionValues};
use serde_json::{json, Value};

/// The raw values a binding would pass for this mock.
fn values(env: &Env) -> OptionValues {
    let mut v = OptionValues::default();
    v.api_key = Some(env.mock.api_key().to_owned());
    v.base_url = Some(env.mock.base_url().to_owned());
    v
}

#[tokio::test]
async fn a_client_from_raw_values_uses_them() {
    let env = Env::start().await;
    let mut v = values(&env);
    v.quota_limit = Some(7);
    v.quota_window = Some(60.0);
    v.max_retries = Some(0);
    v.timeout = Some(5.0);
    let client = Client::new(ClientOptions::from_values(&v).unwrap()).unwrap();
    client.members().get(3).await.unwrap();
    client.audit_log().list_events(parsec_teams::AuditLogListEventsParams::new(1)).await.unwrap();
    let status = client.quota_status();
    let audit = status.iter().find(|q| q.name == "audit_log").unwrap();
    assert_eq!((audit.limit, audit.remaining), (7, 6));
    let as_json = serde_json::to_value(audit).unwrap();
    assert_eq!(as_json["limit"], 7);
    assert_eq!(as_json["remaining"], 6);
    assert_eq!(as_json["window"], 60.0);
    assert!(as_json["refills_in"].as_f64().is_some_and(|s| s > 0.0 && s <= 60.0), "{as_json}");
    assert_eq!(as_json["blocked_for"], Value::Null);
}

#[tokio::test]
async fn a_bad_raw_value_is_refused_before_any_request() {
    let env = Env::start().await;
    env.clear_requests().await;
    type Patch = fn(&mut OptionValues);
    let patches: [(&str, Patch); 3] = [
        ("max_retries", |v| v.max_retries = Some(101)),
        ("timeout", |v| v.timeout = Some(0.0)),
        ("quota_window", |v| v.quota_window = Some(-1.0)),
    ];
    for (field, patch) in patches {
        let mut v = values(&env);
        patch(&mut v);
        let e = ClientOptions::from_values(&v).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert_eq!((e.field(), e.rule()), (Some(field), Some("range")), "{e}");
        assert!(e.message().starts_with(&format!("{field}: must be ")), "{e}");
    }
    assert!(env.requests().await.is_empty());
    // The defaults the table documents are the ones a client built without values uses.
    assert_eq!(options::option("max_retries").unwrap().default, options::OptionDefault::Int(options::DEFAULT_MAX_RETRIES.into()));
}

#[tokio::test]
async fn the_escape_hatch_takes_method_query_and_body_parsed_by_the_core() {
    let env = Env::start().await;
    env.clear_requests().await;
    let get = escape::RawRequest::new(
        "get",
        "/v1/teams/{team_id}/events",
        Some(&json!({"limit": 2, "event_names": ["a b", "c,d"], "user_id": null})),
        None,
    )
    .unwrap();
    env.client.send_raw(&get).await.unwrap();
    let post = escape::RawRequest::from_text(
        "Post",
        "/v1/teams/{team_id}/groups",
        None,
        Some(r#"{"group_name": "Escape", "allow_connections_within_group": true, "show_user_assigned_managed_hosts": false, "show_personal_hosts": false}"#),
    )
    .unwrap();
    let created = env.client.send_raw(&post).await.unwrap().json().unwrap();
    assert_eq!(created["data"]["name"], "Escape", "{created}");
    let log = env.requests().await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["method"], "GET");
    // The same encoding as the typed operation's: a literal comma between items.
    assert_eq!(log[0]["query"], "limit=2&event_names=a%20b,c%2Cd");
    env.clear_requests().await;
    let typed = parsec_teams::AuditLogListEventsParams::new(2).event_names(vec!["a b".into(), "c,d".into()]);
    env.client.audit_log().list_events(typed).await.unwrap();
    assert_eq!(env.requests().await[0]["query"], "event_names=a%20b,c%2Cd&limit=2");
    assert_eq!(log[1]["method"], "POST");
    assert_eq!(log[1]["body"]["group_name"], "Escape");
}
