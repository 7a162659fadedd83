//! The mock under hostile or absurd input (issue 11): every bad request gets a
//! 4xx and the server goes on; memory stays bounded; slow or greedy clients
//! cannot stall the others; the control routes are guarded beyond loopback.

mod common;

use common::T;
use parsec_teams_mock::{MockConfig, MockServer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server still answers a plain request (after something that may have killed a handler).
async fn still_serving(t: &T) {
    let r = t.get("members?offset=0&limit=1").await;
    assert_eq!(r.status, 200, "the server goes on");
    assert_eq!(t.ctl("GET", "clock", None).await.status, 200);
}

/// Reads until EOF or `wait` elapses; `None` on timeout.
async fn read_to_eof(s: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    tokio::time::timeout(wait, s.read_to_end(&mut out)).await.ok().map(|r| {
        r.ok();
        out
    })
}

async fn raw_request(addr: std::net::SocketAddr, head: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

// ------------------------------------------------------------------ panics on input

#[tokio::test]
async fn invalid_utf8_path_param_is_a_4xx_not_a_panic() {
    let t = T::new().await;
    let admin = t.admin_token();
    for (method, path) in [
        ("GET", "/api/v1/teams/%FF"),
        ("PUT", "/api/v1/teams/%FF"),
        ("DELETE", "/api/v1/teams/%C3%28"),
        ("POST", "/api/v1/teams/1/users/%FF"),
        ("DELETE", "/api/v1/users/%FE/remove_from_all_teams"),
        ("GET", "/api/v1/teams/%FF/access_rights?type=assets"),
    ] {
        let r = t.call(method, path, Some(&admin), Some(json!({"team": {"name": "x"}}))).await;
        assert_eq!(r.status, 400, "{method} {path}: {}", r.text);
        assert!(r.message().contains("UTF-8"), "{}", r.message());
    }
    let team = t.team.clone();
    let r = t.get(&format!("/v1/teams/{team}/machines/%FF")).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = t.get("/v1/teams/%FF/members?offset=0&limit=1").await;
    assert_eq!(r.status, 400, "{}", r.text);
    still_serving(&t).await;
}

#[tokio::test]
async fn clock_advance_out_of_range_is_400_and_server_goes_on() {
    let t = T::new().await;
    for bad in [json!(1e12), json!(-1), json!(-0.5), json!(1e300), json!(u64::MAX), json!("10"), json!(true), json!(null)] {
        let r = t.ctl("POST", "clock", Some(json!({ "advance_seconds": bad }))).await;
        assert_eq!(r.status, 400, "advance_seconds {bad}: {}", r.text);
        assert!(r.message().starts_with("advance_seconds:"), "{}", r.message());
        still_serving(&t).await;
    }
    // Not valid JSON at all (1e400 does not fit a float).
    let r = t.http.post(format!("{}/_mock/clock", t.base)).body(r#"{"advance_seconds": 1e400}"#).send().await.unwrap();
    assert_eq!(r.status(), 400);
    // The total offset is bounded too: two large steps that each fit, not together.
    let r = t.ctl("POST", "clock", Some(json!({"advance_seconds": 3_000_000_000u64}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t.ctl("POST", "clock", Some(json!({"advance_seconds": 3_000_000_000u64}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    still_serving(&t).await;
    // Quota windows, invites and events all use the far-future clock without panicking.
    for _ in 0..52 {
        let r = t.get("events?limit=1").await;
        assert!(r.status == 200 || r.status == 429, "{}", r.text);
    }
    assert_eq!(t.post("member-invites", json!({"emails": ["far@future.com"]})).await.status, 200);
}

#[tokio::test]
async fn huge_quota_window_is_refused_at_start() {
    let cfg = MockConfig { quota_window: Duration::from_secs(1_000_000_000_000), ..MockConfig::default() };
    let e = MockServer::start(cfg).await.expect_err("a window of 30,000 years is refused");
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn fault_rule_values_are_bounded() {
    let t = T::new().await;
    for bad in [
        json!({"path": "/v1/**", "delay_ms": 1e15}),
        json!({"path": "/v1/**", "delay_ms": 86_400_001}),
        json!({"path": "/v1/**", "status": 99}),
        json!({"path": "/v1/**", "status": 600}),
        json!({"path": "/v1/**", "headers": {"bad header": "x"}}),
        json!({"path": "/v1/**", "headers": {"location": "a\nb"}}),
        json!({"path": "/v1/**", "headers": {"location": 3}}),
        json!({"path": "/v1/**", "headers": ["location"]}),
        json!({"path": "/v1/**", "body": "x".repeat(1024 * 1024 + 1)}),
    ] {
        let r = t.ctl("POST", "faults", Some(bad.clone())).await;
        assert_eq!(r.status, 400, "{bad:.80}: {}", r.text);
    }
    assert_eq!(t.ctl("GET", "faults", None).await.json["data"], json!([]));
}

// ------------------------------------------------------------------ bounded memory

#[tokio::test]
async fn oversized_body_gets_413_before_parsing() {
    let t = T::new().await;
    let big = format!("{{\"group_name\": \"{}\"}}", "x".repeat(8 * 1024 * 1024));
    let r = t
        .http
        .post(format!("{}/v1/teams/{}/groups", t.base, t.team))
        .bearer_auth(&t.key)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("body"), "{v}");
    // Chunked (no Content-Length): cut off at the same limit, answered while the client still sends.
    let s = raw_request(
        t.server.addr(),
        &format!(
            "POST /v1/teams/{}/groups HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
            t.team, t.key
        ),
    )
    .await;
    let (mut rd, mut wr) = s.into_split();
    // The write half stays open until the answer is read (hyper drops a request whose client half-closes).
    let writer = tokio::spawn(async move {
        let chunk = vec![b'x'; 1024 * 1024];
        for _ in 0..9 {
            if wr.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.is_err()
                || wr.write_all(&chunk).await.is_err()
                || wr.write_all(b"\r\n").await.is_err()
            {
                return wr;
            }
        }
        let _ = wr.write_all(b"0\r\n\r\n").await;
        wr
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), rd.read_to_end(&mut answer)).await;
    drop(writer.await);
    assert!(answer.starts_with(b"HTTP/1.1 413"), "{}", String::from_utf8_lossy(&answer[..answer.len().min(200)]));
    still_serving(&t).await;
    // The refused requests are logged without their bodies.
    let log = t.ctl("GET", "requests", None).await.json;
    let refused: Vec<&Value> = log.as_array().unwrap().iter().filter(|e| e["status"] == 413).collect();
    assert_eq!(refused.len(), 2);
    assert!(refused.iter().all(|e| e["body"].is_null()));
}

#[tokio::test]
async fn request_log_keeps_raw_bodies_truncated_at_a_cap() {
    let t = T::new().await;
    let name = "n".repeat(100 * 1024);
    let r = t.post("groups", json!({"group_name": name})).await;
    assert_eq!(r.status, 400);
    let body = json!({"group_name": "Small", "allow_connections_within_group": false});
    t.post("groups", body.clone()).await;
    // Not JSON: kept as text.
    let r = t.http.post(format!("{}/v1/teams/{}/groups", t.base, t.team)).bearer_auth(&t.key).body("not json {").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let log = t.ctl("GET", "requests", None).await.json;
    let e = log.as_array().unwrap();
    assert_eq!(e.len(), 3);
    let kept = e[0]["body"].as_str().expect("a truncated body is shown as text");
    assert_eq!(kept.len(), 64 * 1024, "kept up to the cap");
    assert!(kept.starts_with("{\"group_name\":\"nnnn"));
    assert_eq!(e[0]["body_truncated"], true);
    assert_eq!(e[0]["body_size"], 100 * 1024 + 17);
    assert_eq!(e[1]["body"], body);
    assert_eq!(e[1]["body_truncated"], false);
    assert_eq!(e[2]["body"], "not json {");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_log_is_bounded_in_bytes() {
    let t = T::new().await;
    let body = bytes::Bytes::from(format!("{{\"group_name\": \"{}\"}}", "b".repeat(60 * 1024)));
    let url = format!("{}/v1/teams/{}/groups", t.base, t.team);
    let n = 700;
    let senders: Vec<_> = (0..10)
        .map(|_| {
            let (http, url, key, body) = (t.http.clone(), url.clone(), t.key.clone(), body.clone());
            tokio::spawn(async move {
                for _ in 0..n / 10 {
                    let r = http.post(&url).bearer_auth(&key).body(body.clone()).send().await.unwrap();
                    assert_eq!(r.status(), 400);
                }
            })
        })
        .collect();
    for s in senders {
        s.await.unwrap();
    }
    let _ = t.get("members?offset=0&limit=1").await;
    // Only the sizes are read (the bodies skipped): 30 MB of JSON.
    #[derive(serde::Deserialize)]
    struct Entry {
        method: String,
        body_size: usize,
        #[allow(dead_code)]
        body: serde::de::IgnoredAny,
    }
    let raw = t.http.get(format!("{}/_mock/requests", t.base)).send().await.unwrap().bytes().await.unwrap();
    let e: Vec<Entry> = serde_json::from_slice(&raw).unwrap();
    let kept_bytes: usize = e.iter().map(|x| x.body_size).sum();
    assert!(e.len() < n, "the oldest entries went: {} kept", e.len());
    assert!(kept_bytes <= 32 * 1024 * 1024, "{kept_bytes} bytes of bodies kept");
    assert!(e.len() >= 400, "but not more than needed: {} kept", e.len());
    assert_eq!(e.last().unwrap().method, "GET", "the newest entry is kept");
}

#[tokio::test]
async fn unauthenticated_request_bodies_are_not_logged() {
    let t = T::new().await;
    let secret = json!({"group_name": "leaked?", "password": "hunter2"});
    assert_eq!(t.call("POST", "groups", None, Some(secret.clone())).await.status, 401);
    assert_eq!(t.call("POST", "groups", Some("tapi_wrong.key"), Some(secret.clone())).await.status, 401);
    assert_eq!(t.call("PUT", "/api/v1/teams/1", Some("pta_nobody"), Some(secret.clone())).await.status, 401);
    // Faulted requests too: the fault answers before any auth.
    t.ctl("POST", "faults", Some(json!({"path": "/v1/**", "status": 503}))).await;
    assert_eq!(t.call("POST", "groups", None, Some(secret.clone())).await.status, 503);
    t.ctl("POST", "faults", Some(json!({"path": "/v1/**", "status": 503}))).await;
    assert_eq!(t.call("POST", "groups", Some(&t.key.clone()), Some(secret.clone())).await.status, 503);
    let admin = t.admin_token();
    assert_eq!(t.call("PUT", "/api/v1/teams/1", Some(&admin), Some(json!({"team": {"name": "Eng"}}))).await.status, 200);
    let log = t.ctl("GET", "requests", None).await.json;
    let e = log.as_array().unwrap();
    assert_eq!(e.len(), 6);
    for x in &e[..4] {
        assert!(x["body"].is_null(), "{x}");
    }
    assert_eq!(e[4]["body"], secret, "an authenticated body is kept");
    assert_eq!(e[5]["body"], json!({"team": {"name": "Eng"}}));
    assert_eq!(log.to_string().matches("hunter2").count(), 1);
}

// ------------------------------------------------------------------ list checks

fn many_emails(n: usize) -> Value {
    Value::Array((0..n).map(|i| Value::String(format!("user{i}@example.com"))).collect())
}

/// Sends `big` in the background; while it is being processed, a small GET
/// must complete quickly; then the big one completes too.
async fn big_request_does_not_stall(t: &T, method: &str, path: &str, big: Value, expect: u16) {
    let (http, url, key) = (t.http.clone(), format!("{}/v1/teams/{}/{}", t.base, t.team, path), t.key.clone());
    let bytes = serde_json::to_vec(&big).unwrap();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let started = Instant::now();
    let big_call = tokio::spawn(async move {
        let r = http.request(method, url).bearer_auth(key).header("content-type", "application/json").body(bytes).send().await.unwrap();
        (r.status().as_u16(), started.elapsed())
    });
    // Let the big request reach the server and start its checks.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let small = Instant::now();
    let quick = t.client_with_timeout(Duration::from_secs(5));
    let r = quick.get(format!("{}/v1/teams/{}/groups?offset=0&limit=1", t.base, t.team)).bearer_auth(&t.key).send().await;
    let small_took = small.elapsed();
    assert!(r.is_ok_and(|r| r.status() == 200), "the small GET was stalled ({small_took:?})");
    let (status, took) = tokio::time::timeout(Duration::from_secs(30), big_call).await.expect("the big request finishes").unwrap();
    assert_eq!(status, expect);
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_list_of_200000_does_not_stall_other_requests() {
    let t = T::new().await;
    // invites.update and invites.cancel take any number of emails; every one is checked.
    big_request_does_not_stall(&t, "PUT", "member-invites", json!({"emails": many_emails(200_000)}), 404).await;
    // Duplicates are still detected (create wants them unique) and dropped (update keeps one).
    let r = t.post("member-invites", json!({"emails": ["a@b.com", "x@y.com", "A@B.com"]})).await;
    assert_eq!((r.status, r.message()), (400, "emails: items must be unique"));
    let r = t.put("member-invites", json!({"emails": ["new.hire1@example.com", "NEW.HIRE1@example.com"], "group_id": 3})).await;
    assert_eq!((r.status, r.json["count"].clone()), (200, json!(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_50000_pending_invites_is_linear_under_the_lock() {
    // Every email is valid and pending, so the work left under the state lock
    // (finding each invite, removing them) runs over all of them.
    let mut fixture = parsec_teams_mock::Fixture::default();
    let template = fixture.member_invites[0].clone();
    let now = time::OffsetDateTime::now_utc();
    let emails: Vec<String> = (0..50_000).map(|i| format!("pending{i}@example.com")).collect();
    for e in &emails {
        fixture.member_invites.push(parsec_teams_mock::MemberInvite {
            email: e.clone(),
            created_at: now,
            expires_at: now + time::Duration::days(7),
            ..template.clone()
        });
    }
    let t = T::with(MockConfig { fixture: Some(fixture), ..MockConfig::default() }).await;
    big_request_does_not_stall(&t, "POST", "cancel-member-invites", json!({ "emails": emails }), 204).await;
    assert_eq!(t.get("member-invites?offset=0&limit=1").await.json["count"], 4, "only the fixture's own pending invites are left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_lists_of_200000_are_checked_in_linear_time() {
    let t = T::new().await;
    let ids: Vec<u64> = (1..=200_000).collect();
    // Unique check over all of them, then 404 for the first unknown member.
    big_request_does_not_stall(&t, "POST", "groups/1/remove-members", json!({"user_ids": ids}), 404).await;
    big_request_does_not_stall(&t, "POST", "app-rules/tar_default/assign", json!({"user_ids": ids}), 404).await;
    let r = t.post("groups/1/remove-members", json!({"user_ids": [3, 4, 3]})).await;
    assert_eq!((r.status, r.message()), (400, "user_ids: items must be unique"));
    // Event names in a query string: unique, checked linearly.
    let names: Vec<String> = (0..8_000).map(|i| format!("e{i}")).collect();
    let r = t.get(&format!("events?limit=1&event_names={}", names.join(","))).await;
    assert_eq!(r.status, 200, "{}", r.message());
    let r = t.get("events?limit=1&event_names=a,b,a").await;
    assert_eq!((r.status, r.message()), (400, "event_names: items must be unique"));
}

// ------------------------------------------------------------------ connections

#[tokio::test]
async fn header_read_timeout_closes_slow_clients() {
    let t = T::with(MockConfig { header_read_timeout: Duration::from_millis(300), ..MockConfig::default() }).await;
    // Half a request head, then silence.
    let mut s = raw_request(t.server.addr(), "GET /_mock/clock HTTP/1.1\r\nhost: x\r\n").await;
    let started = Instant::now();
    let got = read_to_eof(&mut s, Duration::from_secs(5)).await;
    assert!(got.is_some(), "the server closed the slow connection");
    assert!(started.elapsed() >= Duration::from_millis(250), "{:?}", started.elapsed());
    // A connection that sends nothing at all is closed too.
    let mut s = TcpStream::connect(t.server.addr()).await.unwrap();
    assert!(read_to_eof(&mut s, Duration::from_secs(5)).await.is_some());
    still_serving(&t).await;
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let t = T::with(MockConfig { max_connections: 2, ..MockConfig::default() }).await;
    let addr = t.server.addr();
    let head = "GET /_mock/clock HTTP/1.1\r\nhost: x\r\n\r\n";
    let mut a = raw_request(addr, head).await;
    let mut b = raw_request(addr, head).await;
    let mut buf = [0u8; 512];
    assert!(a.read(&mut buf).await.unwrap() > 0);
    assert!(b.read(&mut buf).await.unwrap() > 0);
    // Both stay open (keep-alive): a third connection is not served...
    let mut c = raw_request(addr, head).await;
    let early = tokio::time::timeout(Duration::from_millis(300), c.read(&mut buf)).await;
    assert!(early.is_err(), "a third connection was served while two were open");
    // ...until one of the two closes.
    drop(a);
    let n = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await.expect("served after a slot freed").unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
    drop(b);
    drop(c);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_in_flight_are_bounded_and_must_arrive_in_time() {
    let t = T::with(MockConfig { header_read_timeout: Duration::from_millis(1500), ..MockConfig::default() }).await;
    let addr = t.server.addr();
    let head = format!(
        "POST /v1/teams/{}/groups HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\n",
        t.team, t.key
    );
    // Four chunked uploads (unknown length: 8 MiB each) that stall hold the whole 32 MiB budget.
    let mut stalled = Vec::new();
    for _ in 0..4 {
        stalled.push(raw_request(addr, &format!("{head}transfer-encoding: chunked\r\n\r\n1\r\n{{\r\n")).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    // A fifth large body waits for room...
    let body = format!("{{\"group_name\": \"{}\"}}", "w".repeat(100 * 1024));
    let mut waiting = raw_request(addr, &format!("{head}content-length: {}\r\n\r\n{body}", body.len())).await;
    let mut buf = [0u8; 256];
    assert!(tokio::time::timeout(Duration::from_millis(300), waiting.read(&mut buf)).await.is_err(), "a fifth large body was read at once");
    // ...while small requests go on.
    assert_eq!(t.get("groups?offset=0&limit=1").await.status, 200);
    // The stalled uploads get 408 once the timeout passes; then the fifth is answered.
    for s in stalled.iter_mut() {
        let answer = read_to_eof(s, Duration::from_secs(10)).await.expect("answered");
        assert!(answer.starts_with(b"HTTP/1.1 408"), "{}", String::from_utf8_lossy(&answer));
    }
    assert!(started.elapsed() >= Duration::from_millis(1300), "{:?}", started.elapsed());
    let n = tokio::time::timeout(Duration::from_secs(10), waiting.read(&mut buf)).await.expect("answered after the budget freed").unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 400"), "{}", String::from_utf8_lossy(&buf[..n]));
    let log = t.ctl("GET", "requests", None).await.json;
    assert_eq!(log.as_array().unwrap().iter().filter(|e| e["status"] == 408).count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_rules_are_capped() {
    let t = T::new().await;
    let url = format!("{}/_mock/faults", t.base);
    let adders: Vec<_> = (0..10)
        .map(|k| {
            let (http, url) = (t.http.clone(), url.clone());
            tokio::spawn(async move {
                for i in 0..100 {
                    let r = http.post(&url).json(&json!({"path": format!("/v1/nothing/{k}/{i}")})).send().await.unwrap();
                    assert_eq!(r.status(), 200, "rule {k}/{i}");
                }
            })
        })
        .collect();
    for a in adders {
        a.await.unwrap();
    }
    let r = t.ctl("POST", "faults", Some(json!({"path": "/v1/one-too-many"}))).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.message().contains("1000"), "{}", r.message());
    assert_eq!(t.ctl("GET", "faults", None).await.json["data"].as_array().unwrap().len(), 1000);
    assert_eq!(t.ctl("DELETE", "faults", None).await.status, 204);
    assert_eq!(t.ctl("POST", "faults", Some(json!({"path": "/v1/again"}))).await.status, 200);
}

// ------------------------------------------------------------------ control routes

#[tokio::test]
async fn control_routes_require_the_admin_token_beyond_loopback() {
    let t = T::with(MockConfig { host: "0.0.0.0".into(), ..MockConfig::default() }).await;
    let admin = t.admin_token();
    for (method, path) in [
        ("GET", "state"),
        ("GET", "requests"),
        ("DELETE", "requests"),
        ("POST", "reset"),
        ("GET", "faults"),
        ("POST", "faults"),
        ("GET", "clock"),
        ("POST", "clock"),
        ("POST", "join"),
        ("POST", "credits"),
    ] {
        let r = t.call(method, &format!("/_mock/{path}"), None, Some(json!({"path": "/v1/**", "advance_seconds": 1}))).await;
        assert_eq!(r.status, 401, "{method} /_mock/{path} without a token");
        let r = t.call(method, &format!("/_mock/{path}"), Some(&t.key.clone()), None).await;
        assert_eq!(r.status, 401, "{method} /_mock/{path} with the API key");
    }
    let r = t.call("GET", "/_mock/clock", Some(&admin), None).await;
    assert_eq!(r.status, 200);
    let r = t.call("POST", "/_mock/credits", Some(&admin), Some(json!({"balance": 7}))).await;
    assert_eq!(r.status, 200);
    assert_eq!(t.get("guest-access-invite-credits").await.json, json!({"balance": 7}));
    // On loopback (every other test) no token is needed.
    let local = T::new().await;
    assert_eq!(local.ctl("GET", "clock", None).await.status, 200);
}

#[tokio::test]
async fn state_masks_secrets() {
    let t = T::new().await;
    let st = t.state().await;
    let text = st.to_string();
    let key = t.key.clone();
    let secret = key.split_once('.').unwrap().1;
    assert!(!text.contains(secret), "the API key's secret is not in the state");
    assert!(!text.contains(&t.admin_token()));
    assert!(!text.contains("0badc0de98765432"), "nor the non-admin token");
    assert!(!text.contains("members-only"), "nor extra keys");
    assert_eq!(st["api_key"], "tapi_1or58Uz1O6ObcpGCN9.****");
    assert_eq!(st["admin_token"], "pta_admin_0001_****");
    assert_eq!(st["admin"]["non_admin_token"], "pta_user_0003_****");
    let users = st["admin"]["users"].as_array().unwrap();
    assert!(users.iter().all(|u| u["token"].as_str().unwrap().ends_with("_****")), "{:?}", users[4]);
    assert_eq!(users[3]["token"], "pta_user_0004_****");
    let keys = st["api_keys"].as_array().unwrap();
    assert_eq!(keys.last().unwrap()["key"], "tapi_limited.****");
    // The rest is still there, in clear.
    assert_eq!(st["members"].as_array().unwrap().len(), 50);
    assert_eq!(st["team_id"], t.team);
}

// ------------------------------------------------------------------ fault modes for the fault matrix

async fn group_count(t: &T) -> usize {
    t.state().await["groups"].as_array().unwrap().len()
}

fn new_group(name: &str) -> Value {
    json!({"group_name": name, "allow_connections_within_group": false, "show_user_assigned_managed_hosts": false, "show_personal_hosts": false})
}

#[tokio::test]
async fn fault_act_first_then_drop_connection() {
    let t = T::new().await;
    let r = t
        .ctl("POST", "faults", Some(json!({"method": "POST", "path": "/v1/teams/*/groups", "act_first": true, "drop_connection": true})))
        .await;
    assert_eq!((r.status, r.json["data"]["act_first"].clone()), (200, json!(true)));
    let url = format!("{}/v1/teams/{}/groups", t.base, t.team);
    let e = t.http.post(&url).bearer_auth(&t.key).json(&new_group("Acted")).send().await.expect_err("no answer");
    assert!(!e.is_connect(), "{e}");
    assert_eq!(group_count(&t).await, 7, "the group was created before the connection dropped");
    let log = t.ctl("GET", "requests", None).await.json;
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert_eq!(log[0]["status"], 0);
}

#[tokio::test]
async fn fault_act_first_then_status_and_delay() {
    let t = T::new().await;
    t.ctl("POST", "faults", Some(json!({"path": "/v1/teams/*/groups", "act_first": true, "status": 503, "delay_ms": 200}))).await;
    let started = Instant::now();
    let r = t.post("groups", new_group("Acted")).await;
    assert_eq!((r.status, r.message()), (503, "injected fault"));
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(group_count(&t).await, 7, "created, then answered 503");
    // Without act_first the same fault does not act.
    t.ctl("POST", "faults", Some(json!({"path": "/v1/teams/*/groups", "status": 503}))).await;
    assert_eq!(t.post("groups", new_group("Not")).await.status, 503);
    assert_eq!(group_count(&t).await, 7);
    // act_first with only a delay: the answer is the real one, late (the client may have timed out).
    t.ctl("POST", "faults", Some(json!({"path": "/v1/teams/*/groups", "act_first": true, "delay_ms": 1000}))).await;
    let quick = t.client_with_timeout(Duration::from_millis(300));
    let e = quick.post(format!("{}/v1/teams/{}/groups", t.base, t.team)).bearer_auth(&t.key).json(&new_group("Late")).send().await;
    assert!(e.is_err_and(|e| e.is_timeout()));
    assert_eq!(group_count(&t).await, 8, "applied although the client timed out");
}

#[tokio::test]
async fn fault_truncated_body() {
    let t = T::new().await;
    t.ctl("POST", "faults", Some(json!({"method": "POST", "path": "/v1/teams/*/groups", "truncate_body": true}))).await;
    let body = serde_json::to_string(&new_group("Cut")).unwrap();
    let mut s = raw_request(
        t.server.addr(),
        &format!(
            "POST /v1/teams/{}/groups HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            t.team,
            t.key,
            body.len()
        ),
    )
    .await;
    let raw = read_to_eof(&mut s, Duration::from_secs(5)).await.expect("the server closes");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, sent) = text.split_once("\r\n\r\n").expect("headers were sent");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let declared: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse().unwrap()))
        .expect("a Content-Length");
    assert!(sent.len() < declared, "{} bytes sent of {declared} declared", sent.len());
    assert!(sent.starts_with("{\"data\":{"), "{sent}");
    assert_eq!(group_count(&t).await, 7, "the server acted");
    // Through an HTTP client: the body is an error; a 204 becomes a cut 200.
    t.ctl("POST", "faults", Some(json!({"method": "DELETE", "path": "/v1/teams/*/machines/*", "truncate_body": true}))).await;
    let r = t.http.delete(format!("{}/v1/teams/{}/machines/tm_020", t.base, t.team)).bearer_auth(&t.key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.is_err());
    assert_eq!(t.state().await["machines"].as_array().unwrap().len(), 19);
}

#[tokio::test]
async fn fault_headers_set_a_location() {
    let t = T::new().await;
    let r = t
        .ctl(
            "POST",
            "faults",
            Some(json!({"path": "/v1/teams/*/members", "status": 302, "headers": {"location": "http://elsewhere.example/x"}})),
        )
        .await;
    assert_eq!(r.json["data"]["headers"], json!({"location": "http://elsewhere.example/x"}));
    let no_redirects = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = no_redirects.get(format!("{}/v1/teams/{}/members?offset=0&limit=1", t.base, t.team)).bearer_auth(&t.key).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "http://elsewhere.example/x");
    assert!(r.headers().contains_key("x-request-id"));
}

#[test]
fn binary_checks_its_connection_limits() {
    for args in [["--max-connections", "0"], ["--max-connections", "x"], ["--header-read-timeout", "0"], ["--header-read-timeout", "1e300"]]
    {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_parsec-teams-mock")).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&format!("{}: ", args[0])) && !stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("unknown argument"), "{stderr}");
    }
}

#[test]
fn binary_refuses_a_huge_quota_window_without_panicking() {
    for w in ["1e300", "1e12", "inf", "0", "-5"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_parsec-teams-mock")).args(["--quota-window", w]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--quota-window {w}: {stderr}");
        assert!(stderr.contains("--quota-window"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// The clients accept arguments nested up to 128 levels (the contract's limit), and
/// a body wraps them in an object or two more: the mock must parse what they send
/// (serde_json alone stops at 127 levels), and still refuse absurd nesting with a 400.
#[tokio::test]
async fn bodies_nested_as_deep_as_the_clients_send_are_parsed() {
    let t = T::new().await;
    let post = |body: String| {
        t.http
            .post(format!("{}/v1/teams/{}/groups", t.base, t.team))
            .bearer_auth(&t.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let nested = |n: usize| {
        format!("{{\"group_name\": \"deep\", \"allow_connections_within_group\": true, \"show_user_assigned_managed_hosts\": true, \"show_personal_hosts\": false, \"extra\": {}0{}}}", "[".repeat(n), "]".repeat(n))
    };
    let r = post(nested(130)).await.unwrap();
    assert!(r.status().is_success(), "130 levels: {} {}", r.status(), r.text().await.unwrap());
    let r = post(nested(100_000)).await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("nested"), "{v}");
    still_serving(&t).await;
}
