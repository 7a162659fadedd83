//! The core logs every attempt through `tracing` (method, path, status,
//! attempt, elapsed, request id) and never the key.

mod common;

use common::Env;
use parsec_teams::*;
use serde_json::json;

#[tokio::test]
async fn attempts_are_logged_without_the_key() {
    let (logs, _guard) = common::capture_logs();

    let env = Env::start().await;
    env.fault(json!({"method": "GET", "path": "/v1/teams/*/members/6", "times": 1, "status": 503})).await;
    env.client.members().get(6).await.unwrap();
    let _ = env.client.groups().create(GroupsCreateParams::new("Logged", true, false, false)).await.unwrap();

    let text = logs.text();
    let secret = env.mock.api_key().split_once('.').unwrap().1;
    assert!(!text.contains(secret), "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("parsec_teams")).collect();
    let members = format!("/v1/teams/{}/members/6", env.mock.team_id());
    assert!(
        lines.iter().any(|l| l.contains("response") && l.contains(&members) && l.contains("status=503") && l.contains("attempt=0")),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.contains("retrying") && l.contains(&members)), "{text}");
    assert!(
        lines.iter().any(|l| l.contains(&members)
            && l.contains("status=200")
            && l.contains("attempt=1")
            && l.contains("request_id=\"req_")
            && l.contains("elapsed_ms")),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.contains("method=\"POST\"") || l.contains("method=POST")), "{text}");
}
