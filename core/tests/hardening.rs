//! The core findings of the security review (issue 11), each over real HTTP:
//! against the mock, or against a small scripted server for what the mock
//! cannot send (odd `Retry-After` values, redirects, pages that never end).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::scripted::Scripted;
use common::Env;
use futures_util::StreamExt;
use parsec_teams::spec::{Api, Location, Ty, OPERATIONS};
use parsec_teams::*;
use serde_json::{json, Map, Value};

/// Fails the test instead of hanging it when the client sleeps too long.
async fn within<T>(secs: u64, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), fut).await.expect("the call returned in time")
}

fn scripted_client(url: &str) -> Client {
    common::new_client(ClientOptions::new().api_key("tapi_team1.secret").base_url(url).timeout(Duration::from_secs(5)))
}

#[tokio::test]
async fn dot_path_segments_are_refused() {
    let env = Env::start().await;
    let admin = env.admin();
    let mut checked = 0;
    for op in OPERATIONS.iter() {
        for p in op.params.iter().filter(|p| p.location == Location::Path && matches!(p.ty, Ty::Str { .. })) {
            for bad in [".", "..", "%2e", "%2E%2e", ".%2E", "%2e."] {
                let mut args = Map::new();
                args.insert(p.name.to_owned(), Value::from(bad));
                let caller = if op.api == Api::Admin { admin.caller() } else { env.client.caller() };
                let e = caller.call(op, args).await.unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Validation, "{} {} = {bad:?}: {e}", op.qualified_name(), p.name);
                assert_eq!(e.field(), Some(p.name), "{e}");
                assert_eq!(e.rule(), Some("dot_segment"), "{e}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 6 * 8, "every string path parameter of both APIs: {checked}");
    // The typed methods of the issue's examples.
    let e = admin.teams().remove_user("..", "5").await.unwrap_err();
    assert_eq!((e.kind(), e.field()), (ErrorKind::Validation, Some("team_id")));
    let e = env.client.machines().delete(".").await.unwrap_err();
    assert_eq!((e.kind(), e.field()), (ErrorKind::Validation, Some("machine_id")));
    // The client's own team id, given or taken from the key.
    for team in [".", "..", "%2e%2E"] {
        let e = Client::new(env.options().team_id(team)).unwrap_err();
        assert_eq!((e.kind(), e.field(), e.rule()), (ErrorKind::Validation, Some("team_id"), Some("dot_segment")), "{team:?}");
        let e = Client::new(env.options().api_key(format!("tapi_{team}.secret"))).unwrap_err();
        assert_eq!((e.kind(), e.field()), (ErrorKind::Validation, Some("team_id")), "{team:?}: {e}");
    }
    // The escape hatch's path, built by a caller from its own input, the same.
    for path in [
        "/v1/teams/{team_id}/machines/..",
        "/v1/teams/{team_id}/./machines",
        "v1/teams/%2E%2e/users/5?x=1",
        "/v1/teams/{team_id}/machines/%2e",
    ] {
        let e = env.client.request(HttpMethod::Delete, path, &[], None).await.unwrap_err();
        assert_eq!((e.kind(), e.field(), e.rule()), (ErrorKind::Validation, Some("path"), Some("dot_segment")), "{path}: {e}");
        let e = admin.request(HttpMethod::Delete, path, &[], None).await.unwrap_err();
        assert_eq!(e.rule(), Some("dot_segment"), "{path}: {e}");
    }
    assert!(env.requests().await.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn path_values_are_percent_encoded() {
    let env = Env::start().await;
    let e = env.client.machines().get("a/b?c#d%2e..").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let log = env.requests().await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["path"], format!("/v1/teams/{}/machines/a%2Fb%3Fc%23d%252e..", env.mock.team_id()));
    assert_eq!(log[0]["query"], Value::Null);
}

#[tokio::test]
async fn a_long_retry_after_on_a_5xx_fails_at_once() {
    let env = Env::start().await;
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/members/3", "times": 1, "status": 503, "retry_after": 3600})).await;
    let started = Instant::now();
    let e = within(10, env.client.members().get(3)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.retry_after(), Some(3600.0));
    assert_eq!(e.retries_taken(), 0);
    assert_eq!(env.seen("GET", "/members/3").await.len(), 1);
}

#[tokio::test]
async fn huge_retry_after_values_give_an_error_not_a_panic() {
    let env = Env::start().await;
    for value in ["1e300", "99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT", "18446744073709551616"] {
        let client = env.client_with(env.options());
        env.clear_requests().await;
        for path in ["/v1/teams/*/events", "/v1/teams/*/member-invites"] {
            env.fault(
                json!({"path": path, "times": 1, "status": 429, "headers": {"retry-after": value}, "body": "{\"message\": \"slow down\"}"}),
            )
            .await;
        }
        let e = within(10, client.audit_log().list_events(AuditLogListEventsParams::new(1))).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited, "{value}: {e}");
        assert!(e.retry_after().is_some_and(|s| s > 1e9), "{value}: {e:?}");
        let e = within(10, client.invites().create(InvitesCreateParams::new(vec!["a@corp.example.com".into()]))).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited, "{value}: {e}");
        // The pacer's block is known now: the next call fails at once, unsent.
        let e = within(10, client.audit_log().list_events(AuditLogListEventsParams::new(1))).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited, "{value}: {e}");
        assert!(client.quota_status().iter().any(|q| q.name == "audit_log" && q.blocked_for.is_some()));
        assert_eq!(env.requests().await.len(), 2, "{value}");
    }
    // Values that are no number of seconds at all are ignored (backoff instead), never a panic.
    let client = env.client_with(env.options().max_retries(0));
    for value in ["inf", "NaN", "-5", "1e-400", "Mon, 99 Foo 2026"] {
        env.fault(json!({"path": "/v1/teams/*/events", "times": 1, "status": 429, "headers": {"retry-after": value}})).await;
        let e = within(10, client.audit_log().list_events(AuditLogListEventsParams::new(1))).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited, "{value}: {e}");
    }
}

#[tokio::test]
async fn a_huge_quota_window_does_not_panic() {
    let env = Env::start().await;
    let client = env.client_with(
        env.options().quota(QuotaConfig { limit: 1, window: Duration::MAX, enabled: true }).max_retry_wait(Duration::from_millis(50)),
    );
    client.audit_log().list_events(AuditLogListEventsParams::new(1)).await.unwrap();
    let status = client.quota_status();
    assert!(status.iter().any(|q| q.name == "audit_log" && q.remaining == 0 && q.refills_in.is_some()), "{status:?}");
    let e = within(10, client.audit_log().list_events(AuditLogListEventsParams::new(1))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert_eq!(env.seen("GET", "/events").await.len(), 1);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let target = Scripted::start(vec![(200, vec!["content-type: application/json".into()], r#"{"data": {"user_id": 3}}"#.into())]).await;
    for (status, method) in [(307u16, HttpMethod::Post), (302, HttpMethod::Get), (308, HttpMethod::Put)] {
        let location = format!("{}/elsewhere?email=someone@corp.example.com", target.url);
        let server = Scripted::start(vec![(status, vec![format!("Location: {location}")], String::new())]).await;
        let client = scripted_client(&server.url);
        let body = json!({"group_name": "x"});
        let e = client.request(method, "/v1/teams/{team_id}/groups", &[], (method != HttpMethod::Get).then_some(&body)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Api, "{e}");
        assert_eq!(e.kind().class_name(), "APIStatusError");
        assert_eq!(e.status(), Some(status));
        assert!(!e.retryable());
        assert!(e.message().contains(&format!("{}/elsewhere", target.url)), "names the Location: {e}");
        assert!(!e.to_string().contains('@'), "{e}");
        assert_eq!(server.seen().len(), 1, "not retried");
    }
    assert!(target.seen().is_empty(), "never followed: {:?}", target.seen());

    // The same through the mock: a Location back to the mock itself, with a query.
    let env = Env::start().await;
    let location = format!("{}/v1/teams/{}/members/4?email=someone@corp.example.com", env.mock.base_url(), env.mock.team_id());
    for status in [301, 302, 303, 307, 308] {
        env.fault(json!({"path": "/v1/teams/*/members/3", "times": 1, "status": status, "headers": {"location": location}})).await;
        let e = env.client.members().get(3).await.unwrap_err();
        assert_eq!((e.kind(), e.status(), e.retries_taken()), (ErrorKind::Api, Some(status), 0), "{e}");
        assert!(e.message().contains("/members/4") && !e.message().contains('@'), "{e}");
    }
    env.fault(json!({"path": "/v1/teams/*/members/3", "times": 1, "status": 307, "body": ""})).await;
    let e = env.client.members().get(3).await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Api, Some(307)), "{e}");
    assert!(e.message().contains("without a Location"), "{e}");
    assert_eq!(env.seen("GET", "/members/3").await.len(), 6);
    assert!(env.seen("GET", "/members/4").await.is_empty(), "never followed");
}

#[tokio::test]
async fn depth_limit_is_128_levels() {
    fn nested(levels: usize) -> Value {
        let mut v = json!("x");
        for _ in 0..levels {
            v = json!([v]);
        }
        v
    }
    let env = Env::start().await;
    // {"group_name": [[...]]}: the object is one level.
    let ok = json!({ "group_name": nested(validate::MAX_DEPTH - 1) });
    let e = env.client.request(HttpMethod::Post, "/v1/teams/{team_id}/groups", &[], Some(&ok)).await.unwrap_err();
    assert!(e.kind().is_http() && e.request_id().is_some(), "128 levels are sent (the mock refuses the name): {e}");
    // (The mock's log now holds that body, deeper than serde_json reads by default.)
    env.clear_requests().await;

    let deep = json!({ "group_name": nested(validate::MAX_DEPTH) });
    let e = env.client.request(HttpMethod::Post, "/v1/teams/{team_id}/groups", &[], Some(&deep)).await.unwrap_err();
    assert_eq!((e.kind(), e.field(), e.rule()), (ErrorKind::Validation, Some("body"), Some("depth")), "{e}");

    // Parameters of the generic path: the depth is checked before the types.
    let mut args = Map::new();
    args.insert("user_ids".into(), nested(validate::MAX_DEPTH + 1));
    let e = env.client.caller().call(&spec::GROUPS_ADD_MEMBERS, args).await.unwrap_err();
    assert_eq!((e.kind(), e.field(), e.rule()), (ErrorKind::Validation, Some("user_ids"), Some("depth")), "{e}");
    let mut args = Map::new();
    args.insert("user_ids".into(), nested(validate::MAX_DEPTH));
    let e = env.client.caller().call(&spec::GROUPS_ADD_MEMBERS, args).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_ne!(e.rule(), Some("depth"), "128 levels pass the depth check: {e}");
    assert!(env.requests().await.is_empty(), "nothing more was sent");
}

#[tokio::test]
async fn may_have_been_applied_survives_a_later_404() {
    let env = Env::start().await;
    let quick = env.client_with(env.options().timeout(Duration::from_millis(300)).max_retries(1));
    // Handled at once, its answer held back past the timeout: the first attempt deleted the group.
    env.fault(json!({"method": "DELETE", "path": "/v1/teams/*/groups/2", "times": 1, "delay_ms": 1000})).await;
    let e = quick.groups().delete(2).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.retries_taken(), 1);
    assert!(e.may_have_been_applied(), "the first attempt acted: {e:?}");
    assert!(e.to_string().contains("may have been applied"), "{e}");
    let seen = env.seen("DELETE", "/groups/2").await;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1]["status"], 404);

    // Acted, then the connection dropped: the retry meets 404.
    env.fault(json!({"method": "DELETE", "path": "/v1/teams/*/machines/tm_003", "times": 1, "act_first": true, "drop_connection": true}))
        .await;
    let e = quick.machines().delete("tm_003").await.unwrap_err();
    assert_eq!((e.kind(), e.retries_taken()), (ErrorKind::NotFound, 1), "{e}");
    assert!(e.may_have_been_applied(), "{e:?}");
    let seen = env.seen("DELETE", "/machines/tm_003").await;
    assert_eq!(seen.iter().map(|r| r["status"].as_u64().unwrap()).collect::<Vec<_>>(), vec![0, 404]);

    // A 5xx before a 409 counts too.
    env.fault(json!({"method": "PUT", "path": "/v1/teams/*/groups/3", "times": 1, "status": 502})).await;
    env.fault(json!({"method": "PUT", "path": "/v1/teams/*/groups/3", "times": 1, "status": 409})).await;
    let body = json!({"group_name": "Renamed"});
    let e = quick.request(HttpMethod::Put, "/v1/teams/{team_id}/groups/3", &[], Some(&body)).await.unwrap_err();
    assert_eq!((e.kind(), e.retries_taken()), (ErrorKind::Conflict, 1), "{e}");
    assert!(e.may_have_been_applied(), "{e:?}");
}

#[tokio::test]
async fn errors_and_logs_never_carry_query_strings() {
    let (logs, _guard) = common::capture_logs();

    let email = "private.person@corp.example.com";
    let env = Env::start().await;
    let quick = env.client_with(env.options().timeout(Duration::from_millis(200)).max_retries(1));
    // A timeout, a dropped connection, and a connection never made.
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/members", "times": 2, "delay_ms": 600})).await;
    let timeout = quick.members().list(MembersListParams::default().email(email)).await.unwrap_err();
    assert_eq!(timeout.kind(), ErrorKind::Timeout);
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/members", "times": 2, "drop_connection": true})).await;
    let dropped = quick.members().list(MembersListParams::default().email(email)).await.unwrap_err();
    assert_eq!(dropped.kind(), ErrorKind::Connection);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = common::new_client(ClientOptions::new().api_key("tapi_t.k").base_url(format!("http://127.0.0.1:{port}")).max_retries(0));
    let refused = closed.members().list(MembersListParams::default().email(email)).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Connection);
    for e in [&timeout, &dropped, &refused] {
        for text in [e.message().to_owned(), e.to_string(), format!("{e:?}")] {
            assert!(!text.contains('@') && !text.contains("email=") && !text.contains('?'), "{text}");
        }
        assert!(e.path().is_some_and(|p| p.ends_with("/members")), "{:?}", e.path());
        assert!(e.to_string().contains("GET "), "method and path kept: {e}");
    }
    let text = logs.text();
    let ours: Vec<&str> = text.lines().filter(|l| l.contains("parsec_teams")).collect();
    assert!(ours.iter().any(|l| l.contains("request failed")), "{text}");
    for line in ours {
        assert!(!line.contains('@') && !line.contains("email="), "{line}");
    }
}

/// Items taken from `stream` until its first error; fails when it ends
/// without one or goes on past 50 items (an endless loop).
async fn until_error<T>(stream: &mut (impl futures_util::Stream<Item = Result<T>> + Unpin)) -> (usize, Error) {
    let mut items = 0;
    loop {
        match within(10, stream.next()).await {
            Some(Ok(_)) => items += 1,
            Some(Err(e)) => return (items, e),
            None => panic!("the stream ended without noticing the loop"),
        }
        assert!(items < 50, "still iterating after {items} items: an endless loop");
    }
}

fn event(id: &str) -> Value {
    json!({"id": id, "event_name": "member.joined", "user_id": 1, "data": {}, "created_at": "2026-01-01T00:00:00Z"})
}

#[tokio::test]
async fn iter_detects_a_repeated_cursor() {
    let page = |id: &str, next: &str| {
        let cursor = format!("{next:0>27}"); // a KSUID
        (200, vec!["content-type: application/json".to_owned()], json!({"data": [event(id)], "next_cursor": cursor}).to_string())
    };
    // B, then C, then B again: an endless cycle.
    let server = Scripted::start(vec![page("1", "B"), page("2", "C"), page("3", "B")]).await;
    let client = scripted_client(&server.url);
    let mut events = client.audit_log().iter_events(AuditLogListEventsParams::new(1));
    let (items, err) = until_error(&mut events).await;
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.message().contains("next_cursor"), "{err}");
    assert_eq!(items, 3);
    assert!(events.next().await.is_none(), "the stream ends after the error");
}

#[tokio::test]
async fn iter_detects_a_server_that_ignores_offset() {
    let body = json!({"data": [{"user_id": 1, "email": "a@b.co"}, {"user_id": 2, "email": "c@d.co"}]}).to_string();
    let server = Scripted::start(vec![(200, vec!["content-type: application/json".into()], body)]).await;
    let client = scripted_client(&server.url);
    let mut members = client.members().iter(MembersListParams::default());
    let (items, err) = until_error(&mut members).await;
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.message().contains("offset"), "{err}");
    assert_eq!(items, 2, "the first page is delivered once");
    let lines: Vec<String> = server.seen().into_iter().map(|s| s.line).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains("offset=2"), "{lines:?}");

    // With a count too large to ever reach, the same.
    let body = json!({"data": [{"user_id": 1}], "count": 1_000_000_000_000u64}).to_string();
    let server = Scripted::start(vec![(200, vec!["content-type: application/json".into()], body)]).await;
    let mut members = scripted_client(&server.url).members().iter(MembersListParams::default());
    let (items, err) = until_error(&mut members).await;
    assert_eq!((items, err.kind()), (1, ErrorKind::Decode), "{err}");
}

/// The gaps between consecutive requests the mock logged, in milliseconds.
fn gaps(log: &[Value]) -> Vec<f64> {
    let at: Vec<f64> = log.iter().map(|r| r["elapsed_ms"].as_f64().expect("elapsed_ms")).collect();
    at.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Gets member 3 (one 503 with a Retry-After of about a second is queued) and
/// checks the wait: at the client and between the two attempts the mock saw.
async fn waited_about_a_second(env: &Env) {
    let started = Instant::now();
    assert_eq!(within(10, env.client.members().get(3)).await.unwrap().user_id, Some(3));
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(950) && elapsed < Duration::from_secs(4), "{elapsed:?}");
    let g = gaps(&env.seen("GET", "/members/3").await);
    assert_eq!(g.len(), 1);
    assert!(g[0] >= 950.0 && g[0] < 4000.0, "gap between attempts at the mock: {g:?}");
}

#[tokio::test]
async fn a_short_retry_after_is_waited() {
    let env = Env::start().await;
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/members/3", "times": 1, "status": 503, "retry_after": 1})).await;
    waited_about_a_second(&env).await;
}

#[tokio::test]
async fn backoff_waits_and_is_jittered() {
    let env = Env::start().await;
    // 0.5 s, 1 s and 2 s caps: full jitter, so each wait is uniform below its cap.
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/members/3", "times": 3, "status": 503})).await;
    let client = env.client_with(env.options().max_retries(3));
    client.members().get(3).await.unwrap();
    let g = gaps(&env.seen("GET", "/members/3").await);
    assert_eq!(g.len(), 3, "{g:?}");
    for (i, gap) in g.iter().enumerate() {
        assert!(*gap < 500.0 * 2f64.powi(i as i32) + 400.0, "wait {i} above its cap: {g:?}");
    }
    // A client that retries at once would show ~1 ms gaps; the chance that three
    // jittered waits sum below 60 ms is about 1e-4, that all three match within 3 ms smaller still.
    assert!(g.iter().sum::<f64>() >= 60.0, "backoff waited: {g:?}");
    assert!(g.iter().any(|x| (x - g[0]).abs() > 3.0), "jittered: {g:?}");
}

#[tokio::test]
async fn a_future_http_date_retry_after_is_honoured() {
    let env = Env::start().await;
    let when = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let date = when.format(&time::format_description::well_known::Rfc2822).unwrap().replace("+0000", "GMT");
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/members/3", "times": 1, "status": 503, "headers": {"retry-after": date}})).await;
    // The date has whole seconds: between 1 and 2 s from now.
    waited_about_a_second(&env).await;
}

#[tokio::test]
async fn extreme_options_do_not_panic() {
    let panics = count_panics();
    let env = Env::start().await;
    let client = env.client_with(
        env.options()
            .timeout(Duration::MAX)
            .max_retries(u32::MAX)
            .max_retry_wait(Duration::MAX)
            .pool_idle_timeout(Duration::MAX)
            .quota(QuotaConfig { limit: u32::MAX, window: Duration::MAX, enabled: true }),
    );
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/events", "times": 1, "status": 429, "retry_after": 0})).await;
    client.audit_log().list_events(AuditLogListEventsParams::new(1)).await.unwrap();
    client.members().get(3).await.unwrap();
    client.with_options(RequestOptions { timeout: Some(Duration::MAX), max_retries: Some(u32::MAX) }).members().get(3).await.unwrap();
    // Let the pool's idle sweeper run (it once added pool_idle_timeout to an Instant and panicked).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let admin = common::new_admin(
        AdminClientOptions::new()
            .base_url(env.mock.base_url())
            .token(env.mock.admin_token())
            .timeout(Duration::MAX)
            .max_retry_wait(Duration::MAX)
            .pool_idle_timeout(Duration::MAX),
    );
    admin.caller().call(&spec::ADMIN_TEAMS_LIST, Map::new()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(panics.load(std::sync::atomic::Ordering::SeqCst), 0, "no panic anywhere");
}

/// Counts panics anywhere in the process (a panic in a spawned task never reaches the caller).
fn count_panics() -> Arc<std::sync::atomic::AtomicUsize> {
    let panics = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = panics.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        previous(info)
    }));
    panics
}

#[tokio::test]
async fn hostile_server_answers_never_panic() {
    let panics = count_panics();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let json = |s: &str| vec!["content-type: application/json".to_owned(), format!("x-request-id: {s}")];
    let replies: Vec<(u16, Vec<String>, String)> = vec![
        (200, json("r1"), r#"{"data": 5}"#.into()),
        (200, json("r2"), r#"{"data": [1, "x", null, {"user_id": "nope"}], "count": -1, "next_cursor": 5}"#.into()),
        (200, json("r3"), format!(r#"{{"data": {deep}}}"#)),
        (200, json("r4"), r#"{"data": {"user_id": 1e400, "group_ids": [1e999]}, "count": 1e30}"#.into()),
        (200, json("r5"), r#"{"data": [{"user_id": 1}], "count": 18446744073709551616}"#.into()),
        (200, json("r6"), r#"{"data": [{"user_id": 1}], "next_cursor": "", "count": null}"#.into()),
        (204, json("r7"), "ignored".into()),
        (999, json("ünïcödé"), "\u{0}\u{1}".into()),
        (429, vec!["Retry-After: 1e308".into(), "Retry-After: -1".into()], "{}".into()),
        (503, vec!["Retry-After: 0.0000001".into()], "{\"message\": 5}".into()),
        (400, json("r9"), format!(r#"{{"message": {deep}}}"#)),
        (200, vec!["content-type: text/html".into()], "<html>".into()),
    ];
    for reply in replies {
        let label = format!("{} {:?} {:.40}", reply.0, reply.1, reply.2);
        let server = Scripted::start(vec![reply]).await;
        let client = common::new_client(ClientOptions::new().api_key("tapi_team1.secret").base_url(&server.url).max_retries(1));
        let _ = within(20, client.members().get(3)).await;
        let _ = within(20, client.caller().call_json(&spec::MEMBERS_LIST, Map::new())).await;
        let _ = within(20, client.request(HttpMethod::Get, "/x", &[], None)).await.map(|r| r.json());
        let mut members = client.members().iter(MembersListParams::default());
        for _ in 0..5 {
            if within(20, members.next()).await.is_none() {
                break;
            }
        }
        let mut events = client.audit_log().iter_events(AuditLogListEventsParams::new(1));
        for _ in 0..5 {
            if within(20, events.next()).await.is_none() {
                break;
            }
        }
        assert_eq!(panics.load(std::sync::atomic::Ordering::SeqCst), 0, "{label}");
    }
}

/// Found by the Node binding's random differential test: numbers decoded through
/// a `serde_json::Value` must be the same f64 as the text says (what `JSON.parse`,
/// Python's `json` and every careful decoder give), not off by one in the last place.
#[tokio::test]
async fn floats_in_results_decode_to_the_nearest_f64() {
    let texts = [
        "0.30000000000000004",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
        "5e-324",
        "0.1",
        "9007199254740993.0",
        "1.0000000000000002",
    ];
    let body = format!("{{\"data\": [{}]}}", texts.join(", "));
    let server = Scripted::start(vec![(200, vec!["content-type: application/json".into()], body)]).await;
    let client = scripted_client(&server.url);
    let raw = client.request(HttpMethod::Get, "/v1/teams/{team_id}/floats", &[], None).await.unwrap();
    let v = raw.json().unwrap();
    let got: Vec<f64> = v["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let want: Vec<f64> = texts.iter().map(|t| t.parse::<f64>().unwrap()).collect();
    for ((g, w), t) in got.iter().zip(&want).zip(texts) {
        assert_eq!(g.to_bits(), w.to_bits(), "{t}: decoded {g:e}, nearest f64 is {w:e}");
    }
}

/// A page field that only the other kind of list uses (`count` beside an audit-log
/// page, `next_cursor` beside an offset page) is an unknown field to the walk, as it
/// is to the typed page: it must not fail `iter` where `list` decodes the same body.
#[tokio::test]
async fn iter_ignores_the_page_field_of_the_other_list_kind() {
    let json = || vec!["content-type: application/json".to_owned()];
    let body = json!({"data": [event("1")], "count": -1}).to_string();
    let server = Scripted::start(vec![(200, json(), body)]).await;
    let client = scripted_client(&server.url);
    let page = within(10, client.audit_log().list_events(AuditLogListEventsParams::new(1))).await.expect("the typed page decodes");
    assert_eq!(page.data.len(), 1);
    let mut events = client.audit_log().iter_events(AuditLogListEventsParams::new(1));
    assert!(within(10, events.next()).await.expect("an item").is_ok(), "the walk decodes the same page");
    assert!(within(10, events.next()).await.is_none(), "no next_cursor: the walk ends");

    let body = json!({"data": [{"user_id": 1, "email": "a@b.co"}], "count": 1, "next_cursor": 5}).to_string();
    let server = Scripted::start(vec![(200, json(), body)]).await;
    let client = scripted_client(&server.url);
    let page = within(10, client.members().list(MembersListParams::default())).await.expect("the typed page decodes");
    assert_eq!(page.data.len(), 1);
    let mut members = client.members().iter(MembersListParams::default());
    assert!(within(10, members.next()).await.expect("an item").is_ok(), "the walk decodes the same page");
    assert!(within(10, members.next()).await.is_none(), "count reached: the walk ends");
}
