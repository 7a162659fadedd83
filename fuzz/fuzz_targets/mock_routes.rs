//! The mock server's request handling (faults, routing, JSON errors, request
//! log) in-process, fed sequences of arbitrary requests: method, path, query
//! and body, with the API key, the admin token, a bogus token or none.
//!
//! Input: requests separated by NUL bytes (at most 8), each `A METHOD TARGET\nBODY`
//! where `A` picks the credentials (`0` none, `1` the API key, `2` the admin
//! token, `3` a bogus token; the byte modulo 4) and `{team}` in TARGET stands
//! for the fixture's team id. Each input starts from the fixture (`POST /_mock/reset`); the clock
//! is tokio's paused clock, so delay faults cost no real time.
//!
//! Invariants: never panics; every request is answered (unless a fault that
//! drops the connection was queued) with a status below 600 and an
//! `x-request-id`; a 5xx only with the status of a queued fault; every error
//! answer not injected by a fault is JSON `{"message": "..."}`; every answer
//! labelled JSON parses as JSON.
#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, Method, Request};
use libfuzzer_sys::fuzz_target;
use parsec_teams_mock::fuzzing::InProcess;
use parsec_teams_mock::MockConfig;
use serde_json::Value;

const MAX_REQUESTS: usize = 8;

/// What the input queued through `POST /_mock/faults` so far.
#[derive(Default)]
struct Faults {
    statuses: HashSet<u16>,
    drops: bool,
}

impl Faults {
    fn note(&mut self, answer: &Value) {
        let rule = answer.get("data").unwrap_or(answer);
        if let Some(s) = rule.get("status").and_then(Value::as_u64) {
            self.statuses.insert(s as u16);
        }
        if rule.get("drop_connection") == Some(&Value::Bool(true)) {
            self.drops = true;
        }
    }
}

/// One mock for the process (building its router costs more than a whole
/// input), reset to the fixture before each input.
fn mock() -> &'static InProcess {
    static MOCK: OnceLock<InProcess> = OnceLock::new();
    MOCK.get_or_init(|| InProcess::new(&MockConfig::default()).expect("mock"))
}

async fn reset(mock: &InProcess) {
    let req = Request::post("/_mock/reset").header(header::AUTHORIZATION, format!("Bearer {}", mock.admin_token())).body(Body::empty());
    let resp = mock.handle(req.expect("request")).await.expect("an answer");
    assert!(resp.status().is_success(), "POST /_mock/reset: {}", resp.status());
}

async fn run(requests: Vec<&[u8]>) {
    let mock = mock();
    reset(mock).await;
    let mut faults = Faults::default();
    for raw in requests {
        let Some((&auth, rest)) = raw.split_first() else { continue };
        let text = String::from_utf8_lossy(rest);
        let (line, body) = text.split_once('\n').unwrap_or((&text, ""));
        let (method, target) = line.split_once(' ').unwrap_or((line, "/"));
        let target = target.replace("{team}", mock.team_id());
        let Ok(method) = Method::from_bytes(method.as_bytes()) else { continue };
        let mut req = Request::builder().method(method.clone()).uri(target.as_str());
        let bearer = match auth % 4 {
            0 => None,
            1 => Some(mock.api_key().to_owned()),
            2 => Some(mock.admin_token().to_owned()),
            _ => Some("tapi_bogus.token".to_owned()),
        };
        if let Some(b) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
        }
        let Ok(req) = req.body(Body::from(body.to_owned())) else { continue };
        let path = req.uri().path().to_owned();
        let is_control = path == "/_mock" || path.starts_with("/_mock/");
        let what = format!("{method} {target}");

        let Some(resp) = mock.handle(req).await else {
            assert!(faults.drops && !is_control, "{what}: connection dropped without a drop_connection fault");
            continue;
        };
        let status = resp.status().as_u16();
        assert!(status < 600, "{what}: status {status}");
        assert!(resp.headers().contains_key("x-request-id"), "{what}: no x-request-id");
        let json =
            resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
        let injected = !is_control && faults.statuses.contains(&status);
        if status >= 500 {
            assert!(injected, "{what}: {status} without a fault: {}", String::from_utf8_lossy(&bytes));
        }
        let parsed = if json {
            Some(serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|e| panic!("{what}: JSON answer does not parse ({e})")))
        } else {
            None
        };
        if status >= 400 && !injected {
            let message = parsed.as_ref().and_then(|v| v.get("message")).and_then(Value::as_str);
            assert!(message.is_some(), "{what}: error {status} is not {{\"message\": ...}}: {}", String::from_utf8_lossy(&bytes));
        }
        if is_control && method == Method::POST && path.trim_end_matches('/') == "/_mock/faults" && status == 200 {
            faults.note(parsed.as_ref().expect("a queued fault is answered with JSON"));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let requests: Vec<&[u8]> = data.split(|b| *b == 0).take(MAX_REQUESTS).collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().expect("runtime");
    rt.block_on(run(requests));
});
