//! The HTTP side: shared app state, the accept loop (one hyper connection per
//! socket, each killable for `drop_connection` faults), fault injection, the
//! request log and the request ids.

use crate::clock::Clock;
use crate::permissions;
use crate::state::{Fixture, State};
use crate::validate::{ApiError, ApiResult, Reply};
use crate::MockConfig;
use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

/// Most requests kept in the request log; the oldest are dropped beyond it.
pub const REQUEST_LOG_CAP: usize = 100_000;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// What an API key may do.
#[derive(Debug, Clone, Copy)]
pub struct KeyInfo {
    pub perms: u64,
    pub user_id: u64,
}

/// A request body, parsed once.
#[derive(Debug)]
pub enum BodyData {
    Empty,
    Json(Value),
    Invalid { raw: String, error: String },
}

static EMPTY_OBJECT: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

impl BodyData {
    fn parse(bytes: &[u8]) -> BodyData {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return BodyData::Empty;
        }
        match serde_json::from_slice(bytes) {
            Ok(v) => BodyData::Json(v),
            Err(e) => BodyData::Invalid { raw: String::from_utf8_lossy(bytes).into_owned(), error: e.to_string() },
        }
    }

    /// The body as a JSON object (an empty body counts as `{}`); 400 otherwise.
    pub fn object(&self) -> ApiResult<&Map<String, Value>> {
        match self {
            BodyData::Empty => Ok(&EMPTY_OBJECT),
            BodyData::Json(Value::Object(m)) => Ok(m),
            BodyData::Json(_) => Err(ApiError::bad("body", "must be a JSON object")),
            BodyData::Invalid { error, .. } => Err(ApiError::bad("body", format!("invalid JSON: {error}"))),
        }
    }

    fn log_value(&self) -> Value {
        match self {
            BodyData::Empty => Value::Null,
            BodyData::Json(v) => v.clone(),
            BodyData::Invalid { raw, .. } => Value::String(raw.clone()),
        }
    }
}

/// Per-request context handed to the routes as an extension.
#[derive(Debug)]
pub struct ReqInfo {
    pub bearer: Option<String>,
    pub body: BodyData,
}

/// A queued fault (`POST /_mock/faults`).
#[derive(Debug, Clone, Serialize)]
pub struct FaultRule {
    pub method: Option<String>,
    pub path: String,
    /// Matching requests still to be faulted.
    pub times: u64,
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub delay_ms: u64,
    pub drop_connection: bool,
    pub body: Option<String>,
    #[serde(skip)]
    segments: Vec<String>,
}

impl FaultRule {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        method: Option<String>,
        path: String,
        times: u64,
        status: Option<u16>,
        retry_after: Option<u64>,
        delay_ms: u64,
        drop_connection: bool,
        body: Option<String>,
    ) -> FaultRule {
        let segments = split_path(&path).map(str::to_string).collect();
        FaultRule { method, path, times, status, retry_after, delay_ms, drop_connection, body, segments }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if self.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(method)) {
            return false;
        }
        path_matches(&self.segments, path)
    }
}

fn split_path(p: &str) -> impl Iterator<Item = &str> {
    p.split('?').next().unwrap_or("").split('/').filter(|s| !s.is_empty())
}

fn segment_matches(pattern: &str, seg: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if !pattern.contains('*') {
        return pattern == seg;
    }
    // Glob inside one segment: `member*`, `*-invites`, `a*b`.
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if seg.len() < first.len() + last.len() || !seg.starts_with(first) || !seg.ends_with(last) {
        return false;
    }
    let mut rest = &seg[first.len()..seg.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// `*` = one segment; a last `*` = one or more segments; a last `**` = zero or more.
pub fn path_matches(pattern: &[String], path: &str) -> bool {
    let segs: Vec<&str> = split_path(path).collect();
    for (i, p) in pattern.iter().enumerate() {
        let last = i + 1 == pattern.len();
        if last && p == "**" {
            return true;
        }
        let Some(seg) = segs.get(i) else { return false };
        if !segment_matches(p, seg) {
            return false;
        }
        if last && p == "*" {
            return true;
        }
    }
    segs.len() == pattern.len()
}

/// One line of `GET /_mock/requests`.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub request_id: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub body: Value,
    /// The `User-Agent` header, or null.
    pub user_agent: Option<String>,
    /// The status answered; 0 when the connection was dropped.
    pub status: u16,
    /// Real monotonic milliseconds since the server started, when the request arrived.
    pub elapsed_ms: f64,
}

/// Everything the routes share.
pub struct App {
    pub team_id: String,
    pub keys: HashMap<String, KeyInfo>,
    pub clock: Clock,
    pub quota_window: Duration,
    pub state: Mutex<State>,
    pub initial: Fixture,
    faults: Mutex<Vec<FaultRule>>,
    fault_count: AtomicUsize,
    log: Mutex<VecDeque<LogEntry>>,
    req_seq: AtomicU64,
    req_prefix: u32,
    started: Instant,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, msg)
}

impl App {
    pub fn new(config: &MockConfig) -> std::io::Result<App> {
        let mut fixture = config.fixture.clone().unwrap_or_default();
        let key_user = fixture.members.iter().find(|m| m.has_api_key).map(|m| m.user_id).unwrap_or(2);
        for (key, perms) in &config.keys {
            permissions::bits_of(perms).map_err(|p| invalid(format!("--key {key}: unknown permission {p:?}")))?;
            fixture.api_keys.push(crate::state::ApiKeyEntry { key: key.clone(), user_id: key_user, permissions: perms.clone() });
        }
        let mut keys = HashMap::new();
        for k in &fixture.api_keys {
            let perms =
                permissions::bits_of(&k.permissions).map_err(|p| invalid(format!("api key {}: unknown permission {p:?}", k.key)))?;
            keys.insert(k.key.clone(), KeyInfo { perms, user_id: k.user_id });
        }
        keys.insert(fixture.api_key.clone(), KeyInfo { perms: permissions::all_bits(), user_id: key_user });
        Ok(App {
            team_id: fixture.team_id.clone(),
            keys,
            clock: Clock::default(),
            quota_window: config.quota_window,
            state: Mutex::new(State::new(fixture.clone())),
            initial: fixture,
            faults: Mutex::new(Vec::new()),
            fault_count: AtomicUsize::new(0),
            log: Mutex::new(VecDeque::new()),
            req_seq: AtomicU64::new(0),
            req_prefix: rand::random(),
            started: Instant::now(),
        })
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Back to the starting fixture; quotas, faults, clock offset and request log cleared.
    pub fn reset(&self) {
        *self.state() = State::new(self.initial.clone());
        self.clear_faults();
        self.clock.reset();
        self.clear_log();
    }

    pub fn add_fault(&self, rule: FaultRule) {
        let mut f = lock(&self.faults);
        f.push(rule);
        self.fault_count.store(f.len(), Ordering::Release);
    }

    pub fn faults(&self) -> Vec<FaultRule> {
        lock(&self.faults).clone()
    }

    pub fn clear_faults(&self) {
        let mut f = lock(&self.faults);
        f.clear();
        self.fault_count.store(0, Ordering::Release);
    }

    /// The first queued fault matching the request (its `times` decremented).
    fn take_fault(&self, method: &str, path: &str) -> Option<FaultRule> {
        if self.fault_count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut f = lock(&self.faults);
        let i = f.iter().position(|r| r.times > 0 && r.matches(method, path))?;
        f[i].times -= 1;
        let rule = if f[i].times == 0 { f.remove(i) } else { f[i].clone() };
        self.fault_count.store(f.len(), Ordering::Release);
        Some(rule)
    }

    fn push_log(&self, entry: LogEntry) {
        let mut log = lock(&self.log);
        if log.len() >= REQUEST_LOG_CAP {
            log.pop_front();
        }
        log.push_back(entry);
    }

    pub fn log_json(&self) -> Vec<u8> {
        let log = lock(&self.log);
        let (a, b) = log.as_slices();
        let all: Vec<&LogEntry> = a.iter().chain(b.iter()).collect();
        serde_json::to_vec(&all).unwrap_or_default()
    }

    pub fn clear_log(&self) {
        lock(&self.log).clear();
    }

    fn next_request_id(&self) -> String {
        let n = self.req_seq.fetch_add(1, Ordering::Relaxed);
        format!("req_{:08x}{:012x}", self.req_prefix, n)
    }
}

/// Turns a reply into an HTTP response.
pub fn reply_to_response(r: Reply) -> Response<Body> {
    let mut b = Response::builder().status(r.status);
    if r.body.is_some() {
        b = b.header(header::CONTENT_TYPE, "application/json");
    }
    if let Some(s) = r.retry_after {
        b = b.header(header::RETRY_AFTER, s);
    }
    b.body(r.body.map(Body::from).unwrap_or_else(Body::empty)).expect("valid response")
}

/// Makes sure every error answer is JSON `{"message": ...}` (axum's own
/// rejections are plain text).
async fn json_errors(resp: Response<Body>) -> Response<Body> {
    let status = resp.status();
    let is_json = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, MAX_BODY).await.map(|b| String::from_utf8_lossy(&b).trim().to_string()).unwrap_or_default();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("Error").to_string() } else { text };
    let mut r = reply_to_response(ApiError::new(status, message).into());
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            r.headers_mut().insert(k.clone(), v.clone());
        }
    }
    r
}

fn bearer(req: &axum::http::request::Parts) -> Option<String> {
    let v = req.headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// Handles one request: faults, routing, JSON errors, request id, request log.
/// Generic over the body so the fuzz targets can call it in-process ([`crate::fuzzing`]).
pub(crate) async fn handle<B>(app: Arc<App>, router: Router, kill: Arc<Notify>, req: Request<B>) -> Response<Body>
where
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let elapsed_ms = app.started.elapsed().as_secs_f64() * 1000.0;
    let request_id = app.next_request_id();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let logged = !(path == "/_mock" || path.starts_with("/_mock/"));
    let bytes = axum::body::to_bytes(Body::new(body), MAX_BODY).await;
    let body = match &bytes {
        Ok(b) => BodyData::parse(b),
        Err(e) => BodyData::Invalid { raw: String::new(), error: format!("unreadable body: {e}") },
    };
    let method = parts.method.to_string();
    let query = parts.uri.query().map(str::to_string);
    let user_agent = if logged { parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string) } else { None };
    let log = |status: u16, body: &BodyData| {
        if logged {
            app.push_log(LogEntry {
                request_id: request_id.clone(),
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                body: body.log_value(),
                user_agent: user_agent.clone(),
                status,
                elapsed_ms,
            });
        }
    };

    let mut hold_back = None;
    if logged {
        if let Some(fault) = app.take_fault(&method, &path) {
            if fault.status.is_none() && !fault.drop_connection {
                // Handled at once; only the answer is held back, so a client that
                // times out has still had its request applied.
                hold_back = Some(Duration::from_millis(fault.delay_ms));
            } else if fault.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
            }
            if fault.drop_connection {
                log(0, &body);
                kill.notify_one();
                return std::future::pending().await;
            }
            if let Some(status) = fault.status {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let text = fault.body.unwrap_or_else(|| r#"{"message": "injected fault"}"#.to_string());
                let ctype = if serde_json::from_str::<Value>(&text).is_ok() { "application/json" } else { "text/plain; charset=utf-8" };
                let mut b = Response::builder().status(status).header(header::CONTENT_TYPE, ctype).header("x-request-id", &request_id);
                if let Some(s) = fault.retry_after {
                    b = b.header(header::RETRY_AFTER, s);
                }
                log(status.as_u16(), &body);
                return b.body(Body::from(text)).expect("valid response");
            }
        }
    }

    let info = Arc::new(ReqInfo { bearer: bearer(&parts), body });
    let mut req = Request::from_parts(parts, Body::empty());
    req.extensions_mut().insert(info.clone());
    let resp = match router.oneshot(req).await {
        Ok(r) => r,
        Err(e) => match e {},
    };
    let mut resp = json_errors(resp).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    log(resp.status().as_u16(), &info.body);
    if let Some(d) = hold_back {
        tokio::time::sleep(d).await;
    }
    resp
}

/// The full router: Teams API, team-administration API, control routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .merge(crate::teams_api::routes())
        .merge(crate::admin_api::routes())
        .merge(crate::control::routes())
        .fallback(|| async { reply_to_response(ApiError::new(StatusCode::NOT_FOUND, "Not Found").into()) })
        .method_not_allowed_fallback(|| async {
            reply_to_response(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").into())
        })
        .with_state(app)
}

/// Accepts connections until `shutdown` changes (or its sender is dropped).
pub async fn serve(listener: TcpListener, app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    let router = router(app.clone());
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (app, router, mut stop) = (app.clone(), router.clone(), shutdown.clone());
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let k = kill.clone();
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (app, router, kill) = (app.clone(), router.clone(), k.clone());
                async move { Ok::<_, Infallible>(handle(app, router, kill, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = kill.notified() => {}
                _ = stop.changed() => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, path: &str) -> bool {
        let segs: Vec<String> = split_path(p).map(str::to_string).collect();
        path_matches(&segs, path)
    }

    #[test]
    fn fault_patterns() {
        assert!(m("/v1/teams/*/members", "/v1/teams/abc/members"));
        assert!(!m("/v1/teams/*/members", "/v1/teams/abc/members/3"));
        assert!(m("/v1/teams/*/members/*", "/v1/teams/abc/members/3"));
        assert!(m("/v1/teams/*", "/v1/teams/abc/members/3"));
        assert!(!m("/v1/teams/*", "/v1/teams"));
        assert!(m("/v1/teams/**", "/v1/teams"));
        assert!(m("/v1/**", "/v1/teams/x/groups/1"));
        assert!(m("/v1/teams/*/member*", "/v1/teams/x/member-invites"));
        assert!(!m("/v1/teams/*/member*", "/v1/teams/x/machines"));
        assert!(m("/api/v1/teams", "/api/v1/teams/"));
    }
}
