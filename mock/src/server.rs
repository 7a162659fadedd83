//! The HTTP side: shared app state, the accept loop (one hyper connection per
//! socket, each killable for `drop_connection` faults; a cap on connections
//! and a header-read timeout), body limits, fault injection, the request log
//! (bounded in entries and bytes) and the request ids.

use crate::clock::Clock;
use crate::permissions;
use crate::state::{Fixture, State};
use crate::validate::{ApiError, ApiResult, Reply};
use crate::MockConfig;
use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use bytes::Bytes;
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify, Semaphore};
use tower::ServiceExt;

/// Most requests kept in the request log; the oldest are dropped beyond it.
pub const REQUEST_LOG_CAP: usize = 100_000;
/// Most bytes the request log holds (bodies, paths, queries, user agents and a
/// fixed cost per entry); the oldest entries are dropped beyond it.
pub const REQUEST_LOG_BYTES: usize = 32 * 1024 * 1024;
/// Most bytes of one request body kept in the log; longer ones are cut.
pub const LOGGED_BODY_CAP: usize = 64 * 1024;
/// Largest request body accepted; larger ones get 413 without being parsed.
pub const MAX_BODY: usize = 8 * 1024 * 1024;
/// How much of a refused body is read and discarded (so the client can read the 413).
const MAX_DRAIN: usize = 64 * 1024 * 1024;
/// Most fault rules queued at once.
pub const MAX_FAULTS: usize = 1000;
/// Largest `body` of a fault rule.
pub const MAX_FAULT_BODY: usize = 1024 * 1024;
/// Longest `delay_ms` of a fault rule (a day).
pub const MAX_FAULT_DELAY_MS: u64 = 86_400_000;
/// Bodies up to this size are read without taking from the in-flight budget.
const SMALL_BODY: usize = 64 * 1024;
/// Most bytes of large request bodies read and handled at once (a body of
/// unknown length counts as [`MAX_BODY`]); further large requests wait.
pub const BODY_BUDGET: usize = 32 * 1024 * 1024;
/// Fixed cost of a log entry beyond its strings, for the byte bound.
const LOG_ENTRY_OVERHEAD: usize = 160;

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
    Invalid { error: String },
}

static EMPTY_OBJECT: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

/// The deepest nesting of arrays and objects a request body may have.
const BODY_MAX_NESTING: usize = 512;

/// How deep the arrays and objects of JSON text nest (brackets inside strings
/// do not count); invalid text gets some number and fails to parse later.
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

impl BodyData {
    fn parse(bytes: &[u8]) -> BodyData {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return BodyData::Empty;
        }
        // The clients send arguments nested up to 128 levels inside a body object;
        // serde_json alone stops at 127. Nesting is counted first (no recursion),
        // so only bodies within BODY_MAX_NESTING are parsed without that limit.
        if nesting(bytes) > BODY_MAX_NESTING {
            return BodyData::Invalid { error: format!("nested deeper than {BODY_MAX_NESTING} levels") };
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        de.disable_recursion_limit();
        match Value::deserialize(&mut de).and_then(|v| de.end().map(|()| v)) {
            Ok(v) => BodyData::Json(v),
            Err(e) => BodyData::Invalid { error: e.to_string() },
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
    /// Handle the request (apply it to the state) first, then delay / fail.
    pub act_first: bool,
    /// Handle the request, then send the headers with a Content-Length larger
    /// than the part of the body sent, and close.
    pub truncate_body: bool,
    /// Extra headers on a `status` answer (e.g. `location`).
    pub headers: BTreeMap<String, String>,
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
        FaultRule {
            method,
            path,
            times,
            status,
            retry_after,
            delay_ms,
            drop_connection,
            body,
            act_first: false,
            truncate_body: false,
            headers: BTreeMap::new(),
            segments,
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if self.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(method)) {
            return false;
        }
        path_matches(&self.segments, path)
    }

    /// Whether the request is handled before the fault applies.
    fn acts(&self) -> bool {
        self.act_first || self.truncate_body || (self.status.is_none() && !self.drop_connection)
    }

    fn size(&self) -> usize {
        self.path.len() + self.body.as_ref().map_or(0, String::len) + self.headers.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
    }

    /// The `status` answer of the fault.
    fn response(&self, status: u16, request_id: &str) -> Response<Body> {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let text = self.body.clone().unwrap_or_else(|| r#"{"message": "injected fault"}"#.to_string());
        let ctype =
            if serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() { "application/json" } else { "text/plain; charset=utf-8" };
        let mut r = Response::new(Body::from(text));
        *r.status_mut() = status;
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        if let Ok(v) = HeaderValue::from_str(request_id) {
            h.insert("x-request-id", v);
        }
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        // Checked when the rule was queued.
        for (k, v) in &self.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                h.insert(k, v);
            }
        }
        r
    }
}

/// Checks the extra headers of a fault rule: names and values HTTP allows.
pub fn fault_headers(v: Option<&Value>) -> Result<BTreeMap<String, String>, String> {
    let map = match v {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err("must be an object of header names to string values".into()),
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let Value::String(v) = v else { return Err(format!("{k:?}: the value must be a string")) };
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| format!("{k:?} is not a valid header name"))?;
        HeaderValue::from_str(v).map_err(|_| format!("{k:?}: not a valid header value"))?;
        out.insert(name.as_str().to_string(), v.clone());
    }
    Ok(out)
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

/// One line of `GET /_mock/requests`. The body is kept as raw bytes (cut at
/// [`LOGGED_BODY_CAP`]) and only parsed when the log is read.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub request_id: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The request body as received (up to the cap); `None` when empty, not
    /// kept (unauthenticated) or refused.
    pub body: Option<Bytes>,
    /// Bytes of the body as received.
    pub body_size: usize,
    /// The `User-Agent` header, or null.
    pub user_agent: Option<String>,
    /// The status answered; 0 when the connection was dropped.
    pub status: u16,
    /// Real monotonic milliseconds since the server started, when the request arrived.
    pub elapsed_ms: f64,
}

impl LogEntry {
    fn cost(&self) -> usize {
        LOG_ENTRY_OVERHEAD
            + self.request_id.len()
            + self.method.len()
            + self.path.len()
            + self.query.as_ref().map_or(0, String::len)
            + self.user_agent.as_ref().map_or(0, String::len)
            + self.body.as_ref().map_or(0, Bytes::len)
    }
}

/// The logged body: its JSON when whole and valid, else its text (lossy), else null.
struct LoggedBody<'a>(&'a LogEntry);

impl Serialize for LoggedBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(b) = self.0.body.as_ref().filter(|b| !b.iter().all(u8::is_ascii_whitespace)) else {
            return s.serialize_none();
        };
        if b.len() == self.0.body_size {
            // Valid JSON goes out as it came (checked, not rebuilt).
            if let Ok(v) = serde_json::from_slice::<&serde_json::value::RawValue>(b) {
                return v.serialize(s);
            }
        }
        s.serialize_str(&String::from_utf8_lossy(b))
    }
}

impl Serialize for LogEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(10))?;
        m.serialize_entry("request_id", &self.request_id)?;
        m.serialize_entry("method", &self.method)?;
        m.serialize_entry("path", &self.path)?;
        m.serialize_entry("query", &self.query)?;
        m.serialize_entry("body", &LoggedBody(self))?;
        m.serialize_entry("body_size", &self.body_size)?;
        m.serialize_entry("body_truncated", &self.body.as_ref().is_some_and(|b| b.len() < self.body_size))?;
        m.serialize_entry("user_agent", &self.user_agent)?;
        m.serialize_entry("status", &self.status)?;
        m.serialize_entry("elapsed_ms", &self.elapsed_ms)?;
        m.end()
    }
}

/// The request log and the bytes it holds.
#[derive(Default)]
struct Log {
    entries: VecDeque<LogEntry>,
    bytes: usize,
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
    log: Mutex<Log>,
    req_seq: AtomicU64,
    req_prefix: u32,
    started: Instant,
    /// Every admin-API token (admin users do not change after start): requests
    /// bearing one, or an API key, are authenticated and their bodies logged.
    admin_tokens: HashSet<String>,
    /// Control routes need the admin token (the server listens beyond loopback).
    guard_control: bool,
    header_read_timeout: Duration,
    max_connections: usize,
    /// [`BODY_BUDGET`] in KiB.
    body_budget: Semaphore,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, msg)
}

/// Longest quota window accepted (100 years, like the clock offset).
pub const MAX_QUOTA_WINDOW: Duration = Duration::from_secs(crate::clock::MAX_OFFSET_SECONDS);

impl App {
    /// `guard_control`: control routes need the admin token (listening beyond loopback).
    pub fn new(config: &MockConfig, guard_control: bool) -> std::io::Result<App> {
        if config.quota_window > MAX_QUOTA_WINDOW || config.quota_window.is_zero() {
            return Err(invalid(format!("quota_window must be more than 0 and at most {} seconds", MAX_QUOTA_WINDOW.as_secs())));
        }
        if config.max_connections == 0 {
            return Err(invalid("max_connections must be at least 1".into()));
        }
        if config.header_read_timeout.is_zero() {
            return Err(invalid("header_read_timeout must be more than 0".into()));
        }
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
        let mut admin_tokens: HashSet<String> = fixture.admin.users.iter().map(|u| u.token.clone()).collect();
        admin_tokens.insert(fixture.admin_token.clone());
        Ok(App {
            team_id: fixture.team_id.clone(),
            keys,
            clock: Clock::default(),
            quota_window: config.quota_window,
            state: Mutex::new(State::new(fixture.clone())),
            initial: fixture,
            faults: Mutex::new(Vec::new()),
            fault_count: AtomicUsize::new(0),
            log: Mutex::new(Log::default()),
            req_seq: AtomicU64::new(0),
            req_prefix: rand::random(),
            started: Instant::now(),
            admin_tokens,
            guard_control,
            header_read_timeout: config.header_read_timeout,
            max_connections: config.max_connections,
            body_budget: Semaphore::new(BODY_BUDGET / 1024),
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

    /// Queues a rule; refused (the message says why) when [`MAX_FAULTS`] are queued.
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), String> {
        let mut f = lock(&self.faults);
        if f.len() >= MAX_FAULTS {
            return Err(format!("at most {MAX_FAULTS} fault rules may be queued; DELETE /_mock/faults clears them"));
        }
        if f.iter().map(FaultRule::size).sum::<usize>() + rule.size() > MAX_FAULTS * 1024 + 16 * MAX_FAULT_BODY {
            return Err("the queued fault rules are too large in all".into());
        }
        f.push(rule);
        self.fault_count.store(f.len(), Ordering::Release);
        Ok(())
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
        let cost = entry.cost();
        let mut log = lock(&self.log);
        while log.entries.len() >= REQUEST_LOG_CAP || (log.bytes + cost > REQUEST_LOG_BYTES && !log.entries.is_empty()) {
            if let Some(old) = log.entries.pop_front() {
                log.bytes -= old.cost();
            }
        }
        log.bytes += cost;
        log.entries.push_back(entry);
    }

    pub fn log_json(&self) -> Vec<u8> {
        // Copied out (bodies are shared, not copied) so requests are not held up while it is encoded.
        let entries: Vec<LogEntry> = lock(&self.log).entries.iter().cloned().collect();
        serde_json::to_vec(&entries).unwrap_or_default()
    }

    pub fn clear_log(&self) {
        let mut log = lock(&self.log);
        log.entries.clear();
        log.bytes = 0;
    }

    /// Whether `bearer` is an API key or an admin-API token of this server.
    fn authenticated(&self, bearer: Option<&str>) -> bool {
        bearer.is_some_and(|t| self.keys.contains_key(t) || self.admin_tokens.contains(t))
    }

    /// Whether a control request may go on.
    fn control_allowed(&self, bearer: Option<&str>) -> bool {
        !self.guard_control || bearer == Some(self.initial.admin_token.as_str())
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

/// Why a request body was not read.
enum BodyError {
    TooLarge,
    Unreadable(String),
    /// A large body not received within the header-read timeout.
    TooSlow,
}

/// Reads the whole body, at most `limit` bytes (one chunk is kept as is, without a copy).
async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: axum::body::HttpBody<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut rest: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|e| BodyError::Unreadable(e.into().to_string()))?;
        let Ok(data) = frame.into_data() else { continue };
        total = total.saturating_add(data.len());
        if total > limit {
            // Read (and drop) what the client still sends, up to a bound, so it sees the 413.
            let drain = async {
                let mut drained = total;
                while let Some(Ok(f)) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
                    drained = drained.saturating_add(f.data_ref().map_or(0, Bytes::len));
                    if drained > MAX_DRAIN {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
            return Err(BodyError::TooLarge);
        }
        match &first {
            None => first = Some(data),
            Some(f) => {
                if rest.is_empty() {
                    rest.extend_from_slice(f);
                }
                rest.extend_from_slice(&data);
            }
        }
    }
    Ok(if rest.is_empty() { first.unwrap_or_default() } else { Bytes::from(rest) })
}

/// A body that sends `chunk`, pauses (so it is flushed), then fails: the
/// connection closes before the declared Content-Length is reached.
struct CutBody {
    chunk: Option<Bytes>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl hyper::body::Body for CutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(c) = self.chunk.take().filter(|c| !c.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(c))));
        }
        let pause = self.pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(20))));
        match pause.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::other("body cut by a truncate_body fault")))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// `resp` with a Content-Length larger than the half of its body that is sent
/// (a 204 becomes a 200: it has no body to cut).
async fn truncated(resp: Response<Body>) -> Response<Body> {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    if parts.status == StatusCode::NO_CONTENT || parts.status == StatusCode::NOT_MODIFIED {
        parts.status = StatusCode::OK;
    }
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len() + 16));
    let chunk = bytes.slice(..bytes.len() / 2);
    Response::from_parts(parts, Body::new(CutBody { chunk: Some(chunk), pause: None }))
}

fn with_request_id(mut resp: Response<Body>, request_id: &str) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Handles one request: control-route guard, body limit, faults, routing, JSON
/// errors, request id, request log. Generic over the body so the fuzz targets
/// can call it in-process ([`crate::fuzzing`]).
pub(crate) async fn handle<B>(app: Arc<App>, router: Router, kill: Arc<Notify>, req: Request<B>) -> Response<Body>
where
    B: axum::body::HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let elapsed_ms = app.started.elapsed().as_secs_f64() * 1000.0;
    let request_id = app.next_request_id();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let control = path == "/_mock" || path.starts_with("/_mock/");
    let logged = !control;
    let bearer = bearer(&parts);
    if control && !app.control_allowed(bearer.as_deref()) {
        let e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: control routes need the admin token when the mock listens beyond loopback",
        );
        return with_request_id(reply_to_response(e.into()), &request_id);
    }
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // Large bodies (and those of unknown length) wait for room in the budget,
    // held until the answer is made: memory for bodies in flight stays bounded.
    let hint = axum::body::HttpBody::size_hint(&body);
    let large = match hint.exact() {
        Some(n) => n > SMALL_BODY as u64 && n <= MAX_BODY as u64,
        None => hint.upper().is_none_or(|n| n > SMALL_BODY as u64),
    };
    let _budget = if large {
        let kib = hint.exact().map_or(MAX_BODY, |n| n as usize).div_ceil(1024).min(MAX_BODY / 1024);
        app.body_budget.acquire_many(kib as u32).await.ok()
    } else {
        None
    };
    let bytes = if declared.is_some_and(|n| n > MAX_BODY as u64) {
        // Refused unread; what the client still sends is drained by read_body's bound.
        read_body(body, 0).await.and(Err(BodyError::TooLarge))
    } else if large {
        // A large body holds part of the budget: it must arrive in time.
        tokio::time::timeout(app.header_read_timeout, read_body(body, MAX_BODY)).await.unwrap_or(Err(BodyError::TooSlow))
    } else {
        read_body(body, MAX_BODY).await
    };
    let method = parts.method.to_string();
    let query = parts.uri.query().map(str::to_string);
    let user_agent = if logged { parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string) } else { None };
    // Bodies of unauthenticated requests are not kept; long ones are cut.
    // (Checked only for a body: the lookup hashes the token, work a GET need not do.)
    let keep_body = || logged && app.authenticated(bearer.as_deref());
    let (body_size, kept) = match &bytes {
        Ok(b) if !b.is_empty() && keep_body() => (b.len(), Some(Bytes::copy_from_slice(&b[..b.len().min(LOGGED_BODY_CAP)]))),
        Ok(b) => (b.len(), None),
        Err(_) => (declared.unwrap_or(0).min(usize::MAX as u64) as usize, None),
    };
    let log = |status: u16| {
        if logged {
            app.push_log(LogEntry {
                request_id: request_id.clone(),
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                body: kept.clone(),
                body_size,
                user_agent: user_agent.clone(),
                status,
                elapsed_ms,
            });
        }
    };
    let body = match bytes {
        Ok(b) => BodyData::parse(&b),
        Err(BodyError::TooLarge) => {
            log(413);
            let e = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("body: larger than the {MAX_BODY}-byte limit"));
            let mut r = with_request_id(reply_to_response(e.into()), &request_id);
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        Err(BodyError::TooSlow) => {
            log(408);
            let secs = app.header_read_timeout.as_secs_f64();
            let e = ApiError::new(StatusCode::REQUEST_TIMEOUT, format!("body: not received within {secs} s"));
            let mut r = with_request_id(reply_to_response(e.into()), &request_id);
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        Err(BodyError::Unreadable(e)) => BodyData::Invalid { error: format!("unreadable body: {e}") },
    };

    let fault = if logged { app.take_fault(&method, &path) } else { None };
    if let Some(f) = fault.as_ref().filter(|f| !f.acts()) {
        // Answered without handling the request.
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        if f.drop_connection {
            log(0);
            kill.notify_one();
            return std::future::pending().await;
        }
        if let Some(status) = f.status {
            log(status);
            return f.response(status, &request_id);
        }
    }

    let info = Arc::new(ReqInfo { bearer, body });
    let mut req = Request::from_parts(parts, Body::empty());
    req.extensions_mut().insert(info);
    let resp = match router.oneshot(req).await {
        Ok(r) => r,
        Err(e) => match e {},
    };
    let resp = with_request_id(json_errors(resp).await, &request_id);
    let Some(f) = fault else {
        log(resp.status().as_u16());
        return resp;
    };
    // The request has been applied; now the fault: delay, then drop / cut / replace / hold back.
    if f.drop_connection {
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        log(0);
        kill.notify_one();
        return std::future::pending().await;
    }
    let status = f.status.filter(|_| !f.truncate_body).unwrap_or(resp.status().as_u16());
    log(status);
    if f.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
    }
    if f.truncate_body {
        return truncated(resp).await;
    }
    match f.status {
        Some(s) => f.response(s, &request_id),
        None => resp,
    }
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
/// At most `max_connections` are served at once; more wait to be accepted.
pub async fn serve(listener: TcpListener, app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    let router = router(app.clone());
    let slots = Arc::new(Semaphore::new(app.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(true).timer(TokioTimer::new()).header_read_timeout(app.header_read_timeout);
    loop {
        let accepted = tokio::select! {
            r = async {
                let slot = slots.clone().acquire_owned().await;
                (slot, listener.accept().await)
            } => r,
            _ = shutdown.changed() => break,
        };
        let (slot, stream) = match accepted {
            (Ok(slot), Ok((s, _))) => (slot, s),
            _ => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (app, router, mut stop, http) = (app.clone(), router.clone(), shutdown.clone(), http.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let kill = Arc::new(Notify::new());
            let k = kill.clone();
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (app, router, kill) = (app.clone(), router.clone(), k.clone());
                async move { Ok::<_, Infallible>(handle(app, router, kill, req).await) }
            });
            let conn = http.serve_connection(TokioIo::new(stream), svc);
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
