#![allow(dead_code)]
//! Helpers shared by the integration tests: a started server and a thin HTTP client.

use parsec_teams_mock::{MockConfig, MockServer};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

pub struct T {
    pub server: MockServer,
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
    pub team: String,
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn message(&self) -> &str {
        self.json["message"].as_str().unwrap_or("")
    }
}

pub const LIMITED_KEY: &str = "tapi_limited.members-only";

impl T {
    pub async fn new() -> T {
        Self::with(MockConfig::default()).await
    }

    pub async fn with(mut config: MockConfig) -> T {
        config.keys.push((LIMITED_KEY.to_string(), vec!["View Team Members".to_string(), "Create Team Invites".to_string()]));
        let server = MockServer::start(config).await.expect("start");
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        T { base: server.base_url().to_string(), key: server.api_key().to_string(), team: server.team_id().to_string(), server, http }
    }

    /// A request to `path` (absolute, e.g. `/v1/...`, or team-relative when it does not start with `/`).
    pub async fn call(&self, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> Resp {
        let url =
            if path.starts_with('/') { format!("{}{}", self.base, path) } else { format!("{}/v1/teams/{}/{}", self.base, self.team, path) };
        let mut rb = self.http.request(Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some(k) = key {
            rb = rb.bearer_auth(k);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("send");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, json, text }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, Some(&self.key.clone()), None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(&self.key.clone()), Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(&self.key.clone()), Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.call("DELETE", path, Some(&self.key.clone()), None).await
    }
    pub async fn delete_body(&self, path: &str, body: Value) -> Resp {
        self.call("DELETE", path, Some(&self.key.clone()), Some(body)).await
    }
    pub async fn ctl(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call(method, &format!("/_mock/{path}"), None, body).await
    }
    pub async fn state(&self) -> Value {
        self.ctl("GET", "state", None).await.json
    }
    pub async fn advance(&self, secs: u64) {
        let r = self.ctl("POST", "clock", Some(serde_json::json!({ "advance_seconds": secs }))).await;
        assert_eq!(r.status, 200);
    }
    pub async fn admin(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        self.call(method, &format!("/api/v1/{path}"), token, body).await
    }
    pub fn admin_token(&self) -> String {
        self.server.admin_token().to_string()
    }
    pub fn client_with_timeout(&self, t: Duration) -> reqwest::Client {
        reqwest::Client::builder().no_proxy().timeout(t).build().unwrap()
    }
}

/// A future RFC 3339 timestamp, `hours` from now.
pub fn in_hours(hours: i64) -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + hours * 3600;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}
