//! Retries and no-retries under injected faults (counted at `/_mock/requests`),
//! the quota pacer, key redaction, and paging to the end of long lists.

mod common;

use std::time::Duration;

use common::{in_hours, Env};
use futures_util::StreamExt;
use parsec_teams::*;
use parsec_teams_mock::{Fixture, MockConfig};
use serde_json::json;

#[tokio::test]
async fn get_is_retried_on_5xx_until_it_succeeds() {
    let env = Env::start().await;
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/members/3", "times": 2, "status": 503})).await;
    let fast = env.client.with_options(RequestOptions { max_retries: Some(2), ..Default::default() });
    let m = fast.members().get(3).await.unwrap();
    assert_eq!(m.user_id, Some(3));
    let seen = env.seen("GET", "/members/3").await;
    assert_eq!(seen.iter().map(|r| r["status"].as_u64().unwrap()).collect::<Vec<_>>(), vec![503, 503, 200]);
}

#[tokio::test]
async fn retries_stop_at_max_retries_and_say_so() {
    let env = Env::start().await;
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/groups", "times": 5, "status": 502, "body": "{\"message\": \"bad gateway\"}"}))
        .await;
    let e = env
        .client
        .with_options(RequestOptions { max_retries: Some(1), ..Default::default() })
        .groups()
        .list(GroupsListParams::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(e.status(), Some(502));
    assert_eq!(e.message(), "bad gateway");
    assert_eq!(e.retries_taken(), 1);
    assert!(e.retryable());
    assert!(!e.may_have_been_applied(), "a GET changes nothing");
    let id = e.request_id().expect("request id kept on the error");
    assert!(e.to_string().contains(id), "and in the message: {e}");
    assert_eq!(env.seen("GET", "/groups").await.len(), 2);
}

#[tokio::test]
async fn post_is_never_retried_after_a_5xx() {
    let env = Env::start().await;
    env.fault(json!({"method": "POST", "path": "/v1/teams/*/groups", "times": 3, "status": 500})).await;
    let e = env.client.groups().create(GroupsCreateParams::new("Once", true, false, false)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(e.retries_taken(), 0);
    assert!(!e.retryable());
    assert!(e.may_have_been_applied());
    assert_eq!(env.seen("POST", "/groups").await.len(), 1, "sent exactly once");
}

#[tokio::test]
async fn post_is_retried_after_429() {
    let env = Env::start().await;
    env.fault(json!({"method": "POST", "path": "/v1/teams/*/member-invites", "times": 1, "status": 429, "retry_after": 0})).await;
    let page = env.client.invites().create(InvitesCreateParams::new(vec!["retry@corp.example.com".into()])).await.unwrap();
    assert_eq!(page.data.len(), 1);
    let seen = env.seen("POST", "/member-invites").await;
    assert_eq!(seen.iter().map(|r| r["status"].as_u64().unwrap()).collect::<Vec<_>>(), vec![429, 200]);
}

#[tokio::test]
async fn a_long_retry_after_raises_at_once() {
    let env = Env::start().await;
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/machines", "times": 1, "status": 429, "retry_after": 300})).await;
    let e = env.client.machines().list(MachinesListParams::default()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(300.0));
    assert_eq!(e.retries_taken(), 0);
    assert!(e.retryable());
    assert_eq!(env.seen("GET", "/machines").await.len(), 1);
}

#[tokio::test]
async fn timeouts_retry_gets_but_not_posts() {
    let env = Env::start().await;
    let quick = env.client_with(env.options().timeout(Duration::from_millis(300)).max_retries(1));
    // A slow GET times out, then the retry succeeds.
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/members/4", "times": 1, "delay_ms": 1500})).await;
    assert_eq!(quick.members().get(4).await.unwrap().user_id, Some(4));
    assert_eq!(env.seen("GET", "/members/4").await.len(), 2);

    // A slow POST times out: the server acted, the client must not send it again.
    env.fault(json!({"method": "POST", "path": "/v1/teams/*/groups", "times": 1, "delay_ms": 1500})).await;
    let e = quick.groups().create(GroupsCreateParams::new("Slow", true, false, false)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.may_have_been_applied());
    assert!(!e.retryable());
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(env.seen("POST", "/groups").await.len(), 1);
    let groups = env.client.groups().list(GroupsListParams::default().name("Slow")).await.unwrap();
    assert_eq!(groups.count, Some(1), "the group exists once");
}

#[tokio::test]
async fn dropped_connections_retry_gets_but_not_posts() {
    let env = Env::start().await;
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/app-rules", "times": 1, "drop_connection": true})).await;
    let rules = env.client.app_rules().list(AppRulesListParams::default()).await.unwrap();
    assert_eq!(rules.count, Some(3));
    let seen = env.seen("GET", "/app-rules").await;
    assert_eq!(seen.iter().map(|r| r["status"].as_u64().unwrap()).collect::<Vec<_>>(), vec![0, 200]);

    env.fault(json!({"method": "POST", "path": "/v1/teams/*/resend-member-invites", "times": 1, "drop_connection": true})).await;
    let e = env.client.invites().resend(InvitesResendParams::new(vec!["new.hire1@example.com".into()])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.may_have_been_applied());
    assert_eq!(env.seen("POST", "/resend-member-invites").await.len(), 1);
}

#[tokio::test]
async fn a_post_that_never_connected_is_retried() {
    // Nothing listens on this port: the connection is never made, so even a POST is safe to retry.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = common::new_client(ClientOptions::new().api_key("tapi_t.k").base_url(format!("http://127.0.0.1:{port}")).max_retries(2));
    let e = client.groups().create(GroupsCreateParams::new("Nope", true, false, false)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection);
    assert_eq!(e.retries_taken(), 2);
    assert!(e.retryable());
    assert!(!e.may_have_been_applied());
}

#[tokio::test]
async fn the_pacer_keeps_a_script_under_the_quota() {
    let config = MockConfig { quota_window: Duration::from_secs(2), ..Default::default() };
    let env = Env::with_config(config).await;
    let paced = env.client_with(env.options().quota(QuotaConfig { limit: 50, window: Duration::from_secs(2), enabled: true }));
    let clone = paced.with_options(RequestOptions::default());
    // A copy with its own connection pool still counts against the same quota:
    // unshared, its 20 calls would take the window to 60 and meet the block.
    let own_pool = paced.with_own_pool().unwrap();
    for i in 0..60 {
        let c = [&paced, &clone, &own_pool][i % 3];
        c.audit_log().list_events(AuditLogListEventsParams::new(1)).await.unwrap();
    }
    let statuses: Vec<u64> = env.seen("GET", "/events").await.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses.len(), 60);
    assert!(statuses.iter().all(|s| *s == 200), "never a 429: {statuses:?}");
    let status = clone.quota_status();
    let events = status.iter().find(|q| q.name == "audit_log").unwrap();
    assert_eq!(events.limit, 50);
    assert!(events.remaining < 50 && events.refills_in.is_some(), "{events:?}");
    assert!(status.iter().any(|q| q.name == "invites_create") && status.iter().any(|q| q.name == "invites_resend"));

    // Without pacing the service's block is what the caller meets: at once, with retry_after.
    env.advance_clock(10).await;
    let unpaced = env
        .client_with(env.options().quota(QuotaConfig { enabled: false, ..Default::default() }).max_retry_wait(Duration::from_millis(100)));
    let mut errors = Vec::new();
    for _ in 0..55 {
        if let Err(e) = unpaced.audit_log().list_events(AuditLogListEventsParams::new(1)).await {
            errors.push(e);
        }
    }
    // 50 go through in the fresh window, the 51st earns the block, the 4 after it meet it.
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert_eq!(env.seen("GET", "/events").await.len(), 60 + 55, "each failed at once, unretried");
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::RateLimited && e.retry_after().is_some_and(|s| s >= 1.0)), "{errors:?}");
    // The block follows the mock clock: once it has passed, calls go through again.
    env.advance_clock(3).await;
    unpaced.audit_log().list_events(AuditLogListEventsParams::new(1)).await.unwrap();
}

#[tokio::test]
async fn a_known_block_fails_fast_without_sending() {
    let env = Env::start().await;
    let client = env.client_with(env.options().max_retry_wait(Duration::from_secs(1)));
    env.fault(json!({"method": "POST", "path": "/v1/teams/*/member-invites", "times": 1, "status": 429, "retry_after": 120})).await;
    let e = client.invites().create(InvitesCreateParams::new(vec!["x@corp.example.com".into()])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    let blocked = client.quota_status().into_iter().find(|q| q.name == "invites_create").unwrap();
    assert!(blocked.blocked_for.is_some());
    let e = client.invites().create(InvitesCreateParams::new(vec!["y@corp.example.com".into()])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert!(e.retry_after().unwrap() > 100.0);
    assert_eq!(env.seen("POST", "/member-invites").await.len(), 1, "the second call was not sent");
}

#[tokio::test]
async fn the_key_never_shows() {
    let env = Env::start().await;
    let secret = env.mock.api_key().split_once('.').unwrap().1.to_owned();
    let shown =
        [format!("{:?}", env.client), format!("{:?}", env.options()), format!("{:?}", env.admin()), format!("{:?}", env.client.caller())];
    for s in &shown {
        assert!(!s.contains(&secret), "{s}");
        assert!(!s.contains(env.mock.admin_token()), "{s}");
    }
    assert!(shown[0].contains("<redacted>"));
    env.fault(json!({"path": "/v1/teams/*/members/8", "times": 1, "status": 400, "body": "not json"})).await;
    let e = env.client.members().get(8).await.unwrap_err();
    for s in [e.to_string(), format!("{e:?}")] {
        assert!(!s.contains(&secret), "{s}");
    }
    assert_eq!(e.body(), Some("not json"));
    assert_eq!(e.message(), "Bad Request");
}

#[tokio::test]
async fn undecodable_bodies_are_decode_errors() {
    let env = Env::start().await;
    env.fault(json!({"path": "/v1/teams/*/members/9", "times": 1, "status": 200, "body": "{not json"})).await;
    let e = env.client.members().get(9).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert_eq!(e.status(), Some(200));
    assert!(e.request_id().is_some());
}

#[tokio::test]
async fn tolerant_models_keep_unknown_fields() {
    let env = Env::start().await;
    env.fault(json!({"path": "/v1/teams/*/members/9", "times": 1, "status": 200, "body": "{\"data\": {\"user_id\": 9, \"nickname\": \"nine\", \"created_at\": \"not a time\"}}"})).await;
    let m = env.client.members().get(9).await.unwrap();
    assert_eq!(m.user_id, Some(9));
    assert_eq!(m.email, None, "a missing field never fails a call");
    assert_eq!(m.created_at, None);
    assert_eq!(m.extra["nickname"], "nine");
}

#[tokio::test]
async fn paging_to_the_end_of_more_than_a_thousand_members() {
    let mut fixture = Fixture::default();
    let template = fixture.members[49].clone();
    for uid in 51..=1_234u64 {
        let mut m = template.clone();
        m.user_id = uid;
        m.email = format!("bulk{uid}@example.com");
        m.name = format!("Bulk {uid}");
        m.is_owner = false;
        m.has_api_key = false;
        fixture.members.push(m);
    }
    let env = Env::with_config(MockConfig { fixture: Some(fixture), ..Default::default() }).await;
    let mut stream = env.client.members().iter(MembersListParams::default());
    let mut ids = Vec::new();
    while let Some(m) = stream.next().await {
        ids.push(m.unwrap().user_id.unwrap());
    }
    assert_eq!(ids.len(), 1_234);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1_234);
    let pages = env.seen("GET", "/members").await;
    assert_eq!(pages.len(), 7, "1,234 members in pages of 200");
    assert_eq!(pages[6]["query"], "offset=1200&limit=200");

    // A guest invite to a bulk member spends no credit (the mock knows all 1,234).
    let host = env.client.machines().get("tm_001").await.unwrap().peer_id.unwrap();
    let before = env.client.guest_access().credits().await.unwrap().balance;
    env.client
        .guest_access()
        .create(GuestAccessCreateParams::new(host, "bulk1000@example.com", "Bulk", true, true, true, "UTC", in_hours(1), in_hours(2), "hi"))
        .await
        .unwrap();
    assert_eq!(env.client.guest_access().credits().await.unwrap().balance, before);
}

#[tokio::test]
async fn user_agent_names_the_package_and_language() {
    let env = Env::start().await;
    let client = env.client_with(env.options().language("python 3.11.7"));
    client.members().get(3).await.unwrap();
    let log = env.requests().await;
    let ua = log[0]["user_agent"].as_str().unwrap_or_default().to_owned();
    assert_eq!(ua, format!("parsec-teams/{} (python 3.11.7)", parsec_teams::VERSION));
    env.client.members().get(3).await.unwrap();
    let ua = env.requests().await[1]["user_agent"].as_str().unwrap_or_default().to_owned();
    assert!(ua.starts_with(&format!("parsec-teams/{} (rust ", parsec_teams::VERSION)), "{ua}");
}

/// A minimal HTTP/1.1 server that answers every request on a connection with
/// one member and keeps the connection open; it counts the connections made.
async fn counting_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let accepted = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            accepted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                loop {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            let body = r#"{"data": {"user_id": 3}}"#;
                            let head =
                                format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
                            if sock.write_all(format!("{head}{body}").as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (url, count)
}

#[tokio::test]
async fn idle_pooled_connections_are_dropped_before_a_server_would_close_them() {
    use std::sync::atomic::Ordering;
    let (url, connections) = counting_server().await;
    let client = common::new_client(ClientOptions::new().api_key("tapi_t.k").base_url(url).pool_idle_timeout(Duration::from_millis(200)));
    client.members().get(3).await.unwrap();
    client.members().get(3).await.unwrap();
    assert_eq!(connections.load(Ordering::SeqCst), 1, "a busy connection is reused");
    tokio::time::sleep(Duration::from_millis(700)).await;
    client.members().get(3).await.unwrap();
    assert_eq!(connections.load(Ordering::SeqCst), 2, "an idle one is not: a fresh connection is made");
}
