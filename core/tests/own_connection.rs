//! `Caller::with_own_connection` (one keep-alive HTTP/1.1 connection of the
//! caller's own, the transport of Kotlin's blocking calls) against the pool:
//! the same bytes on the wire, the same errors. `make test-rust` also runs
//! the whole core suite on it (`PARSEC_TEAMS_TEST_TRANSPORT=connection`).

mod common;

use std::time::Duration;

use common::scripted::{Scripted, Seen};
use parsec_teams::*;
use serde_json::json;
use tokio::io::AsyncWriteExt;

/// The header lines sorted (the order is each library's own), and the rest.
fn wire(seen: &Seen) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut headers = seen.headers.clone();
    headers.sort();
    (seen.line.clone(), headers, seen.body.clone())
}

async fn send_each_kind(client: &Client) {
    let _ = client.members().get(3).await;
    let _ = client.groups().create(GroupsCreateParams::new("Ops", true, false, false)).await;
    let _ = client.members().list(MembersListParams::default().email("a+b@example.com").limit(5)).await;
    // The escape hatch, with what the URL parser rewrites: a space, a non-ASCII letter, a query.
    let _ = client.request(HttpMethod::Get, "/v1/teams/{team_id}/odd path/ü", &[("q", "a b&c")], None).await;
    let _ = client.request(HttpMethod::Put, "v1/x?y=1", &[("z", "2")], Some(&json!({"k": [1, "v"]}))).await;
}

#[tokio::test]
async fn either_transport_sends_the_same_requests() {
    for prefix in ["", "/api/"] {
        let server = Scripted::start(vec![(200, vec![], r#"{"data": {}}"#.into())]).await;
        let options = || ClientOptions::new().api_key("tapi_team1.secret").base_url(format!("{}{prefix}", server.url)).max_retries(0);
        send_each_kind(&Client::new(options()).unwrap()).await;
        let pooled = server.seen();
        send_each_kind(&Client::new(options()).unwrap().with_own_connection().unwrap()).await;
        let all = server.seen();
        let own = &all[pooled.len()..];
        assert_eq!(pooled.len(), 5, "{pooled:?}");
        assert_eq!(own.len(), 5, "{own:?}");
        for (p, o) in pooled.iter().zip(own) {
            assert_eq!(wire(o), wire(p), "the same request on either transport (prefix {prefix:?})");
        }
        let hosts: Vec<_> = own.iter().flat_map(|s| s.headers.iter().filter(|(k, _)| k == "host")).collect();
        assert_eq!(hosts.len(), 5, "one Host header each: {hosts:?}");
        assert!(own[0].line.starts_with(&format!("GET {}/v1/teams/team1/members/3", prefix.trim_end_matches('/'))), "{}", own[0].line);
    }
}

/// A server that answers the TLS handshake with plain HTTP: the handshake fails.
async fn not_tls() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            let _ = sock.shutdown().await;
        }
    });
    url
}

#[tokio::test]
async fn a_failed_tls_handshake_is_a_connection_never_made_on_either_transport() {
    let url = not_tls().await;
    let client =
        Client::new(ClientOptions::new().api_key("tapi_team1.secret").base_url(url).max_retries(2).timeout(Duration::from_secs(5)))
            .unwrap();
    for (name, client) in [("pool", client.clone()), ("own connection", client.with_own_connection().unwrap())] {
        // A POST: retried only because nothing was sent.
        let e = client.groups().create(GroupsCreateParams::new("Ops", true, false, false)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Connection, "{name}: {e}");
        assert!(e.message().starts_with("could not connect"), "{name}: {e}");
        assert!(e.retryable() && !e.may_have_been_applied(), "{name}: {e:?}");
        assert_eq!(e.retries_taken(), 2, "{name}");
    }
}

#[tokio::test]
async fn a_slow_answer_times_out_and_the_connection_is_not_reused() {
    let env = common::Env::start().await;
    let client = Client::new(env.options().timeout(Duration::from_millis(300)).max_retries(0)).unwrap().with_own_connection().unwrap();
    client.members().get(3).await.unwrap();
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/members/3", "times": 1, "delay_ms": 1000})).await;
    let e = client.members().get(3).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    // The late answer to the timed-out call must not be read as this one's.
    let member = client.members().get(4).await.unwrap();
    assert_eq!(member.user_id, Some(4));
}
