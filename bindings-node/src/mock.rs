//! `MockServer` for Node: the `parsec-teams-mock` server started on the
//! napi tokio runtime, plus the control routes (`/_mock/...`) reached through
//! the core's own escape hatch, so tests need nothing but the package.

use std::time::Duration;

use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result};
use napi_derive::napi;
use parsec_teams::{Client, ClientOptions, HttpMethod};
use parsec_teams_mock::{Fixture, MockConfig, MockServer};
use serde_json::Value;

/// How to start the mock (every field optional).
#[napi(object)]
pub struct MockOptions {
    /// Interface to bind (default `127.0.0.1`).
    pub host: Option<String>,
    /// Port (default 0: a free one).
    pub port: Option<u32>,
    /// Starting data as JSON text (the shape of `GET /_mock/state`).
    pub fixture: Option<String>,
    /// Quota window and block length in seconds (default 300).
    pub quota_window_seconds: Option<f64>,
    /// Extra API keys as JSON text: `{"KEY": ["View Team Members", ...]}`.
    pub keys: Option<String>,
}

/// A running mock server; `stop()` (or the end of the process) stops it.
#[napi]
pub struct NativeMockServer {
    server: std::sync::Mutex<Option<MockServer>>,
    control: Client,
    base_url: String,
    team_id: String,
    api_key: String,
    admin_token: String,
}

fn config(o: MockOptions) -> std::result::Result<MockConfig, String> {
    let mut c = MockConfig::default();
    if let Some(h) = o.host {
        c.host = h;
    }
    if let Some(p) = o.port {
        c.port = u16::try_from(p).map_err(|_| "port: must be 0..65535".to_string())?;
    }
    if let Some(f) = o.fixture {
        c.fixture = Some(Fixture::from_json(&f).map_err(|e| format!("fixture: {e}"))?);
    }
    if let Some(w) = o.quota_window_seconds {
        // Duration::from_secs_f64 panics on values it cannot hold (1e300).
        if !(w > 0.0 && w <= 1e9) {
            return Err("quotaWindowSeconds: must be a positive number of seconds, at most 1e9".into());
        }
        c.quota_window = Duration::from_secs_f64(w);
    }
    if let Some(k) = o.keys {
        let map: serde_json::Map<String, Value> = serde_json::from_str(&k).map_err(|e| format!("keys: {e}"))?;
        for (key, perms) in map {
            let perms: Vec<String> =
                serde_json::from_value(perms).map_err(|_| format!("keys.{key}: must be a list of permission names"))?;
            c.keys.push((key, perms));
        }
    }
    Ok(c)
}

/// Starts a mock server; resolves once it is listening.
#[napi(ts_return_type = "Promise<NativeMockServer>", catch_unwind)]
pub fn start_mock<'env>(env: &'env Env, options: MockOptions) -> Result<PromiseRaw<'env, NativeMockServer>> {
    let config = config(options).map_err(napi::Error::from_reason)?;
    env.spawn_future(no_panic(async move {
        let server = MockServer::start(config).await.map_err(|e| napi::Error::from_reason(format!("could not start the mock: {e}")))?;
        let mut o = ClientOptions::new()
            .api_key(server.api_key())
            .team_id(server.team_id())
            .base_url(server.base_url())
            .max_retries(0)
            .language("node mock-control");
        o.timeout = Some(Duration::from_secs(30));
        let control = Client::new(o).map_err(|e| napi::Error::from_reason(e.to_string()))?;
        Ok(NativeMockServer {
            base_url: server.base_url().to_owned(),
            team_id: server.team_id().to_owned(),
            api_key: server.api_key().to_owned(),
            admin_token: server.admin_token().to_owned(),
            server: std::sync::Mutex::new(Some(server)),
            control,
        })
    }))
}

/// `fut`, with a panic inside it turned into the core's internal error (the Promise rejects).
async fn no_panic<T>(fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx)))
            .unwrap_or_else(|p| std::task::Poll::Ready(Err(napi::Error::from_reason(parsec_teams::Error::from_panic(p).to_string()))))
    })
    .await
}

#[napi]
impl NativeMockServer {
    #[napi(getter, catch_unwind)]
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }
    #[napi(getter, catch_unwind)]
    pub fn team_id(&self) -> String {
        self.team_id.clone()
    }
    #[napi(getter, catch_unwind)]
    pub fn api_key(&self) -> String {
        self.api_key.clone()
    }
    #[napi(getter, catch_unwind)]
    pub fn admin_token(&self) -> String {
        self.admin_token.clone()
    }

    /// Sends `method path` (a `/_mock/...` control route) with an optional JSON
    /// `body`; resolves with the answer's JSON text (`null` when empty).
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn control<'env>(&self, env: &'env Env, method: String, path: String, body: Option<String>) -> Result<PromiseRaw<'env, String>> {
        let client = self.control.clone();
        env.spawn_future(no_panic(async move {
            let method = match method.as_str() {
                "GET" => HttpMethod::Get,
                "POST" => HttpMethod::Post,
                "PUT" => HttpMethod::Put,
                "DELETE" => HttpMethod::Delete,
                other => return Err(napi::Error::from_reason(format!("bad method {other}"))),
            };
            let body: Option<Value> =
                body.map(|b| serde_json::from_str(&b)).transpose().map_err(|e| napi::Error::from_reason(format!("body: {e}")))?;
            let raw = client
                .request(method, &path, &[], body.as_ref())
                .await
                .map_err(|e| napi::Error::from_reason(format!("mock control {path}: {e}")))?;
            Ok(String::from_utf8_lossy(&raw.data).into_owned())
        }))
    }

    /// Stops serving (idempotent).
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        let server = self.server.lock().ok().and_then(|mut s| s.take());
        drop(server);
    }
}
