//! Shared test support: the in-process mock, clients pointed at it, and the
//! mock's control routes (`/_mock/...`) to inject faults and read what the
//! server saw.
#![allow(dead_code)]

pub mod scripted;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use parsec_teams::{AdminClient, AdminClientOptions, Client, ClientOptions};
use parsec_teams_mock::{MockConfig, MockServer};
use serde_json::{json, Value};

/// Which transport the suites' clients use: reqwest's pool, or with
/// `PARSEC_TEAMS_TEST_TRANSPORT=connection` (`make test-rust` runs the
/// suites both ways) one connection of the client's own
/// (`Caller::with_own_connection`, the transport of Kotlin's blocking calls).
fn own_connection() -> bool {
    std::env::var("PARSEC_TEAMS_TEST_TRANSPORT").is_ok_and(|t| t == "connection")
}

/// `client` as it is, or its copy with its own connection (`own`), by the transport under test.
fn on_transport_under_test<C>(client: parsec_teams::Result<C>, own: impl FnOnce(&C) -> parsec_teams::Result<C>) -> C {
    let client = client.expect("client");
    if own_connection() {
        own(&client).expect("a client with its own connection")
    } else {
        client
    }
}

/// A client from `opts` on the transport under test.
pub fn new_client(opts: ClientOptions) -> Client {
    on_transport_under_test(Client::new(opts), Client::with_own_connection)
}

/// An admin client from `opts` on the transport under test.
pub fn new_admin(opts: AdminClientOptions) -> AdminClient {
    on_transport_under_test(AdminClient::new(opts), AdminClient::with_own_connection)
}

pub struct Env {
    pub mock: MockServer,
    pub client: Client,
    http: reqwest::Client,
}

impl Env {
    pub async fn start() -> Env {
        Env::with_config(MockConfig::default()).await
    }

    pub async fn with_config(config: MockConfig) -> Env {
        let mock = MockServer::start(config).await.expect("mock starts");
        let client = new_client(options(&mock));
        Env { mock, client, http: reqwest::Client::new() }
    }

    pub fn client_with(&self, opts: ClientOptions) -> Client {
        new_client(opts)
    }

    pub fn options(&self) -> ClientOptions {
        options(&self.mock)
    }

    pub fn admin(&self) -> AdminClient {
        new_admin(AdminClientOptions::new().base_url(self.mock.base_url()).token(self.mock.admin_token()).max_retries(0))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.mock.base_url(), path)
    }

    /// Every request the server received since the last reset.
    pub async fn requests(&self) -> Vec<Value> {
        let v = self.get_json("/_mock/requests").await;
        v.as_array().cloned().expect("request log is a list")
    }

    pub async fn clear_requests(&self) {
        self.http.delete(self.url("/_mock/requests")).send().await.unwrap().error_for_status().unwrap();
    }

    pub async fn state(&self) -> Value {
        self.get_json("/_mock/state").await
    }

    async fn get_json(&self, path: &str) -> Value {
        let bytes = self.http.get(self.url(path)).send().await.unwrap().bytes().await.unwrap();
        serde_json::from_slice(&bytes).expect("control route answers JSON")
    }

    async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap())
            .send()
            .await
            .unwrap()
    }

    pub async fn fault(&self, fault: Value) {
        self.post_json("/_mock/faults", &fault).await.error_for_status().unwrap();
    }

    pub async fn advance_clock(&self, seconds: i64) {
        self.post_json("/_mock/clock", &json!({"advance_seconds": seconds})).await.error_for_status().unwrap();
    }

    pub async fn join(&self, email: &str) -> Value {
        let r = self.post_json("/_mock/join", &json!({"email": email})).await;
        assert!(r.status().is_success(), "join {email}: {}", r.status());
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }

    /// A raw HTTP call that bypasses every client-side check: how the tests
    /// prove the mock enforces each rule on its own.
    pub async fn raw(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let path = path.replace("{team}", self.mock.team_id());
        let mut rb = self.http.request(method.parse().unwrap(), self.url(&path)).bearer_auth(self.mock.api_key());
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(serde_json::to_vec(&b).unwrap());
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        assert!(r.headers().contains_key("x-request-id"), "every answer carries x-request-id");
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Sends exactly these bytes with `token` (the API key when None): no client-side checks at all.
    pub async fn raw_bytes(&self, method: &str, path_and_query: &str, body: Option<Vec<u8>>, token: Option<&str>) -> (u16, Value) {
        let mut rb = self.http.request(method.parse().unwrap(), self.url(path_and_query)).bearer_auth(token.unwrap_or(self.mock.api_key()));
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// The requests the server saw for `method` on paths containing `needle`.
    pub async fn seen(&self, method: &str, needle: &str) -> Vec<Value> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| r["method"] == method && r["path"].as_str().is_some_and(|p| p.contains(needle)))
            .collect()
    }
}

/// What the SDK logged through `tracing` while the guard lives (this thread only).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures DEBUG and above as plain text until the guard is dropped.
pub fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::DEBUG).with_ansi(false).with_writer(move || writer.clone()).finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

pub fn options(mock: &MockServer) -> ClientOptions {
    ClientOptions::new().api_key(mock.api_key()).base_url(mock.base_url()).timeout(Duration::from_secs(5))
}

/// The time `hours` from now.
pub fn in_hours(hours: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + time::Duration::hours(hours)
}

/// The same as an RFC 3339 string.
pub fn in_hours_str(hours: i64) -> String {
    in_hours(hours).format(&time::format_description::well_known::Rfc3339).unwrap()
}
