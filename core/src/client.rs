//! The clients and the one request path every operation goes through:
//! check, encode, pace, send, retry, decode.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER, USER_AGENT};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::connection::{Exchanged, SendError};
use crate::error::{Error, ErrorKind, Result};
use crate::quota::{Pacer, QuotaConfig, QuotaStatus};
use crate::spec::{Api, HttpMethod, Operation, ResultKind, OPERATIONS};
use crate::validate;

/// The default base URL of the Parsec Teams API.
pub const DEFAULT_BASE_URL: &str = "https://api.parsec.app";
/// The SDK version, as sent in the `User-Agent`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
const REQUEST_ID: &str = "x-request-id";
/// The longest `pool_idle_timeout` taken; a longer one counts as this.
const LONGEST_POOL_IDLE: Duration = crate::options::MAX_DURATION;

/// Options of a [`Client`]. Every field left `None` falls back to the
/// environment (`PARSEC_API_KEY`, `PARSEC_TEAM_ID`, `PARSEC_BASE_URL`) and then
/// to the defaults of the API contract.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Bearer key `tapi_<team>.<secret>`. Never printed, logged or put in an error.
    pub api_key: Option<String>,
    /// The `{team_id}` path segment; defaults to the part of the key between `tapi_` and `.`.
    pub team_id: Option<String>,
    /// Defaults to `https://api.parsec.app`. Plain `http://` only for loopback hosts.
    pub base_url: Option<String>,
    /// Per attempt; default 30 s.
    pub timeout: Option<Duration>,
    /// Default 2.
    pub max_retries: Option<u32>,
    /// The longest wait the server can ask for that the client sleeps
    /// through (a `Retry-After` on a 429 or a 5xx, or the quota block after a
    /// 429); a longer one fails the call at once with `retry_after` set.
    /// Default 60 s.
    pub max_retry_wait: Option<Duration>,
    /// Client-side quota pacing.
    pub quota: QuotaConfig,
    /// Idle pooled connections are closed after this long (default 20 s, at
    /// most a day), well before servers usually close them, so a stale socket
    /// never fails a request.
    pub pool_idle_timeout: Option<Duration>,
    /// `<language> <version>` for the `User-Agent`, set by the bindings (default `rust <rustc version>`).
    pub language: Option<String>,
    /// An explicit proxy URL (`http://` or `https://`, may carry `user:password@`)
    /// for every request. A loopback base URL never goes through any proxy;
    /// an `https` base URL without this option honours `HTTPS_PROXY`,
    /// `ALL_PROXY` and `NO_PROXY` from the environment.
    pub proxy: Option<String>,
}

impl ClientOptions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn api_key(mut self, v: impl Into<String>) -> Self {
        self.api_key = Some(v.into());
        self
    }
    pub fn team_id(mut self, v: impl Into<String>) -> Self {
        self.team_id = Some(v.into());
        self
    }
    pub fn base_url(mut self, v: impl Into<String>) -> Self {
        self.base_url = Some(v.into());
        self
    }
    pub fn timeout(mut self, v: Duration) -> Self {
        self.timeout = Some(v);
        self
    }
    pub fn max_retries(mut self, v: u32) -> Self {
        self.max_retries = Some(v);
        self
    }
    pub fn max_retry_wait(mut self, v: Duration) -> Self {
        self.max_retry_wait = Some(v);
        self
    }
    pub fn quota(mut self, v: QuotaConfig) -> Self {
        self.quota = v;
        self
    }
    pub fn pool_idle_timeout(mut self, v: Duration) -> Self {
        self.pool_idle_timeout = Some(v);
        self
    }
    pub fn language(mut self, v: impl Into<String>) -> Self {
        self.language = Some(v.into());
        self
    }
    /// See [`ClientOptions::proxy`](struct.ClientOptions.html#structfield.proxy).
    pub fn proxy(mut self, v: impl Into<String>) -> Self {
        self.proxy = Some(v.into());
        self
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("team_id", &self.team_id)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

/// Options of an [`AdminClient`]; `None` fields fall back to `PARSEC_ADMIN_BASE_URL`
/// (required) and `PARSEC_ADMIN_TOKEN`.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct AdminClientOptions {
    pub base_url: Option<String>,
    /// Sent as `Authorization: Bearer <token>`; never printed, logged or put in an error.
    pub token: Option<String>,
    pub timeout: Option<Duration>,
    pub max_retries: Option<u32>,
    pub max_retry_wait: Option<Duration>,
    pub pool_idle_timeout: Option<Duration>,
    pub language: Option<String>,
    /// An explicit proxy URL; the same rules as [`ClientOptions::proxy`](struct.ClientOptions.html#structfield.proxy).
    pub proxy: Option<String>,
}

impl AdminClientOptions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn base_url(mut self, v: impl Into<String>) -> Self {
        self.base_url = Some(v.into());
        self
    }
    pub fn token(mut self, v: impl Into<String>) -> Self {
        self.token = Some(v.into());
        self
    }
    pub fn timeout(mut self, v: Duration) -> Self {
        self.timeout = Some(v);
        self
    }
    pub fn max_retries(mut self, v: u32) -> Self {
        self.max_retries = Some(v);
        self
    }
    pub fn language(mut self, v: impl Into<String>) -> Self {
        self.language = Some(v.into());
        self
    }
    pub fn max_retry_wait(mut self, v: Duration) -> Self {
        self.max_retry_wait = Some(v);
        self
    }
    pub fn pool_idle_timeout(mut self, v: Duration) -> Self {
        self.pool_idle_timeout = Some(v);
        self
    }
    /// See [`AdminClientOptions::proxy`](struct.AdminClientOptions.html#structfield.proxy).
    pub fn proxy(mut self, v: impl Into<String>) -> Self {
        self.proxy = Some(v.into());
        self
    }
}

impl fmt::Debug for AdminClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminClientOptions")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

/// Per-call overrides of the client's timeout and retry count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestOptions {
    pub timeout: Option<Duration>,
    pub max_retries: Option<u32>,
}

/// A successful response: status, headers, request id and the decoded result.
#[derive(Debug, Clone)]
pub struct Response<T> {
    pub status: u16,
    pub headers: HeaderMap,
    /// The `x-request-id` response header, when present.
    pub request_id: Option<String>,
    /// Retries made before this response arrived.
    pub retries_taken: u32,
    pub data: T,
}

/// A response of the raw [`Client::request`] escape hatch or an undecoded call.
pub type RawResponse = Response<Bytes>;

impl RawResponse {
    /// The body as JSON (`null` when empty).
    pub fn json(&self) -> Result<Value> {
        if self.data.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.data).map_err(|e| self.decode_error(e))
    }

    fn decode_error(&self, e: serde_json::Error) -> Error {
        let mut err = Error::new(ErrorKind::Decode, format!("could not decode the response body: {e}"));
        err.inner.status = Some(self.status);
        err.inner.request_id = self.request_id.clone();
        err.inner.body = Some(String::from_utf8_lossy(&self.data[..self.data.len().min(2048)]).into_owned());
        err
    }

    /// Decodes the body as the result of an operation of kind `kind`.
    pub fn decode<T: DeserializeOwned>(&self, kind: ResultKind) -> Result<T> {
        #[derive(Deserialize)]
        #[serde(bound(deserialize = "T: Deserialize<'de>"))]
        struct Envelope<T> {
            #[serde(default)]
            data: Option<T>,
        }
        let empty = || T::deserialize(Value::Object(Map::new())).map_err(|e| self.decode_error(e));
        if kind == ResultKind::Empty {
            return T::deserialize(Value::Null).or_else(|_| empty());
        }
        // One UTF-8 check of the whole body (fast, vectorized) instead of one per string.
        let text = std::str::from_utf8(&self.data).map_err(|e| {
            let mut err = Error::new(ErrorKind::Decode, format!("the response body is not UTF-8: {e}"));
            err.inner.status = Some(self.status);
            err.inner.request_id = self.request_id.clone();
            err
        })?;
        if text.trim().is_empty() {
            return empty();
        }
        match kind {
            ResultKind::Data(_) => match serde_json::from_str::<Envelope<T>>(text) {
                Ok(Envelope { data: Some(v) }) => Ok(v),
                Ok(Envelope { data: None }) => empty(),
                Err(e) => Err(self.decode_error(e)),
            },
            _ => serde_json::from_str(text).map_err(|e| self.decode_error(e)),
        }
    }
}

/// Shared by every clone of a client: the connection pool, the credentials
/// and the quota pacer.
pub(crate) struct Transport {
    http: Http,
    api: Api,
    base_url: String,
    team_id: String,
    /// `team_id` percent-encoded once, as it goes into every path.
    team_segment: String,
    max_retry_wait: Duration,
    /// Shared with the transports of [`Caller::with_own_pool`].
    pacer: Arc<Pacer>,
    http_config: HttpConfig,
}

/// How requests go out.
enum Http {
    /// reqwest's connection pool (every client, unless told otherwise).
    Pool(reqwest::Client),
    /// One keep-alive connection of this caller's own ([`Caller::with_own_connection`]).
    Connection(crate::connection::Connection),
}

/// What a connection pool is built from, kept to build another ([`Caller::with_own_pool`]).
#[derive(Clone)]
struct HttpConfig {
    /// Authorization (marked sensitive: never printed) and User-Agent.
    headers: HeaderMap,
    pool_idle: Duration,
    proxy: ProxyRule,
}

/// Which proxy, if any, the connection pool uses.
#[derive(Clone)]
enum ProxyRule {
    /// A loopback base URL: never a proxy, whatever the environment says.
    Never,
    /// `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` from the environment.
    FromEnv,
    /// The `proxy` option.
    Explicit(reqwest::Url),
}

impl ProxyRule {
    fn new(base_url: &str, option: Option<&str>) -> Result<ProxyRule> {
        // A bad option is refused whatever the base URL, so a script that works
        // against a loopback mock does not fail only once pointed at the service.
        let explicit = match option {
            None => None,
            Some(raw) => {
                // The URL may carry credentials: never echo it in the error.
                let url = reqwest::Url::parse(raw)
                    .map_err(|e| Error::validation("proxy", format!("must be an absolute http(s) URL ({e})")).with_rule("url"))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
                    return Err(Error::validation("proxy", "must be an http:// or https:// URL with a host").with_rule("url"));
                }
                Some(url)
            }
        };
        if is_loopback_url(base_url) {
            return Ok(ProxyRule::Never);
        }
        Ok(explicit.map_or(ProxyRule::FromEnv, ProxyRule::Explicit))
    }
}

fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

fn is_loopback_url(url: &str) -> bool {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(is_loopback_host)).unwrap_or(false)
}

impl HttpConfig {
    fn new(auth: &str, language: Option<&str>, pool_idle: Option<Duration>, proxy: ProxyRule) -> Result<HttpConfig> {
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {auth}"))
            .map_err(|_| Error::validation("api_key", "must contain only visible ASCII characters").with_rule("ascii"))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(
            USER_AGENT,
            HeaderValue::from_str(&user_agent(language)).map_err(|_| Error::validation("language", "must be ASCII").with_rule("ascii"))?,
        );
        // The pool's sweeper adds this to an Instant: keep it far from overflow.
        let pool_idle = pool_idle.unwrap_or(crate::options::DEFAULT_POOL_IDLE_TIMEOUT).min(LONGEST_POOL_IDLE);
        Ok(HttpConfig { headers, pool_idle, proxy })
    }

    /// Whether a proxy may carry a request: the `proxy` option, or (for an
    /// https base URL) a proxy variable in the environment, `NO_PROXY` aside.
    fn proxy_may_apply(&self) -> bool {
        match &self.proxy {
            ProxyRule::Never => false,
            ProxyRule::Explicit(_) => true,
            ProxyRule::FromEnv => ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"]
                .iter()
                .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty())),
        }
    }

    fn build(&self) -> Result<reqwest::Client> {
        let builder = reqwest::Client::builder()
            .default_headers(self.headers.clone())
            .pool_idle_timeout(self.pool_idle)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none());
        let builder = match &self.proxy {
            ProxyRule::Never => builder.no_proxy(),
            ProxyRule::FromEnv => builder,
            ProxyRule::Explicit(url) => builder.proxy(
                reqwest::Proxy::all(url.clone())
                    .map_err(|_| Error::validation("proxy", "must be an http:// or https:// URL with a host").with_rule("url"))?,
            ),
        };
        builder.build().map_err(|e| Error::new(ErrorKind::Connection, format!("could not build the HTTP client: {e}")))
    }
}

/// The request path shared by [`Client`] and [`AdminClient`]: one transport
/// plus this handle's timeout and retry count.
#[derive(Clone)]
pub struct Caller {
    transport: Arc<Transport>,
    timeout: Duration,
    max_retries: u32,
}

/// The client of the Parsec for Teams API. Cheap to clone; clones share the
/// connection pool and the quota pacer.
#[derive(Clone)]
pub struct Client {
    pub(crate) caller: Caller,
}

/// The client of the team-administration API.
#[derive(Clone)]
pub struct AdminClient {
    pub(crate) caller: Caller,
}

fn env(name: &str) -> Option<String> {
    crate::env::var(name)
}

fn check_base_url(raw: &str, field: &str) -> Result<String> {
    let url = reqwest::Url::parse(raw)
        .map_err(|e| Error::validation(field, format!("must be an absolute http(s) URL ({e})")).with_rule("url"))?;
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => {}
        "http" => {
            if !is_loopback_host(host) {
                return Err(Error::validation(
                    field,
                    "plain http:// is only allowed for loopback hosts (localhost, 127.0.0.0/8, ::1); use https://",
                )
                .with_rule("url"));
            }
        }
        other => return Err(Error::validation(field, format!("must use https:// (got {other}://)")).with_rule("url")),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::validation(field, "must not carry credentials, a query or a fragment").with_rule("url"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn user_agent(language: Option<&str>) -> String {
    let lang = language.map(str::to_owned).unwrap_or_else(|| format!("rust {}", env!("PARSEC_TEAMS_RUSTC_VERSION")));
    format!("parsec-teams/{VERSION} ({lang})")
}

impl Client {
    /// A client from `options`, falling back to the environment and defaults.
    pub fn new(options: ClientOptions) -> Result<Client> {
        let api_key = options
            .api_key
            .or_else(|| env(crate::env::PARSEC_API_KEY))
            .ok_or_else(|| Error::validation("api_key", "is required (pass it or set PARSEC_API_KEY)").with_rule("required"))?;
        let team_id = match options.team_id.or_else(|| env(crate::env::PARSEC_TEAM_ID)) {
            Some(t) => t,
            None => api_key
                .strip_prefix("tapi_")
                .and_then(|rest| rest.split_once('.'))
                .map(|(team, _)| team.to_owned())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    Error::validation("team_id", "is required: pass it, set PARSEC_TEAM_ID, or use a key of the form tapi_<team>.<secret>")
                        .with_rule("required")
                })?,
        };
        if team_id.is_empty() {
            return Err(Error::validation("team_id", "must not be empty").with_rule("length"));
        }
        validate::check_path_segment("team_id", &team_id)?;
        let base_url = check_base_url(
            &options.base_url.or_else(|| env(crate::env::PARSEC_BASE_URL)).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            "base_url",
        )?;
        let proxy = ProxyRule::new(&base_url, options.proxy.as_deref())?;
        let http_config = HttpConfig::new(&api_key, options.language.as_deref(), options.pool_idle_timeout, proxy)?;
        Ok(Client {
            caller: Caller {
                transport: Arc::new(Transport {
                    http: Http::Pool(http_config.build()?),
                    http_config,
                    api: Api::Teams,
                    base_url,
                    team_segment: validate::path_segment(&team_id),
                    team_id,
                    max_retry_wait: options.max_retry_wait.unwrap_or(crate::options::DEFAULT_MAX_RETRY_WAIT),
                    pacer: Arc::new(Pacer::new(options.quota)),
                }),
                timeout: options.timeout.unwrap_or(crate::options::DEFAULT_TIMEOUT),
                max_retries: options.max_retries.unwrap_or(crate::options::DEFAULT_MAX_RETRIES),
            },
        })
    }

    /// A client configured from the environment alone.
    pub fn from_env() -> Result<Client> {
        Client::new(ClientOptions::default())
    }

    /// A copy with other per-call options; it shares the pool and the pacer.
    pub fn with_options(&self, options: RequestOptions) -> Client {
        Client { caller: self.caller.with_options(options) }
    }

    /// A copy with a connection pool of its own; see [`Caller::with_own_pool`].
    pub fn with_own_pool(&self) -> Result<Client> {
        Ok(Client { caller: self.caller.with_own_pool()? })
    }

    /// A copy with one connection of its own; see [`Caller::with_own_connection`].
    pub fn with_own_connection(&self) -> Result<Client> {
        Ok(Client { caller: self.caller.with_own_connection()? })
    }

    /// The team this client works on.
    pub fn team_id(&self) -> &str {
        &self.caller.transport.team_id
    }
    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.caller.transport.base_url
    }

    /// How many calls each paced quota has left in its window, and when it refills.
    pub fn quota_status(&self) -> Vec<QuotaStatus> {
        let mut names: Vec<&'static str> = OPERATIONS.iter().filter_map(|op| op.quota).collect();
        names.dedup();
        self.caller.transport.pacer.status(&names)
    }

    /// The escape hatch for endpoints this SDK does not cover yet: same auth,
    /// retries, errors and logging; `{team_id}` in `path` is filled in, and a
    /// `.` or `..` segment (as given or percent-encoded) is refused before sending.
    pub async fn request(&self, method: HttpMethod, path: &str, query: &[(&str, &str)], body: Option<&Value>) -> Result<RawResponse> {
        self.caller.request(method, path, query, body).await
    }

    /// The escape hatch with a [`RawRequest`](crate::escape::RawRequest) (what
    /// the bindings use: method, query and body parsed and encoded by the core).
    pub async fn send_raw(&self, req: &crate::escape::RawRequest) -> Result<RawResponse> {
        self.caller.send_raw(req).await
    }

    /// The generic call path: any operation of the table with JSON arguments.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }
}

impl AdminClient {
    /// An admin client from `options`, falling back to `PARSEC_ADMIN_BASE_URL` and `PARSEC_ADMIN_TOKEN`.
    pub fn new(options: AdminClientOptions) -> Result<AdminClient> {
        let base_url = options
            .base_url
            .or_else(|| env(crate::env::PARSEC_ADMIN_BASE_URL))
            .ok_or_else(|| Error::validation("base_url", "is required (pass it or set PARSEC_ADMIN_BASE_URL)").with_rule("required"))?;
        let base_url = check_base_url(&base_url, "base_url")?;
        let token = options
            .token
            .or_else(|| env(crate::env::PARSEC_ADMIN_TOKEN))
            .ok_or_else(|| Error::validation("token", "is required (pass it or set PARSEC_ADMIN_TOKEN)").with_rule("required"))?;
        let proxy = ProxyRule::new(&base_url, options.proxy.as_deref())?;
        let http_config = HttpConfig::new(&token, options.language.as_deref(), options.pool_idle_timeout, proxy).map_err(|e| {
            if e.field() == Some("api_key") {
                Error::validation("token", "must contain only visible ASCII characters").with_rule("ascii")
            } else {
                e
            }
        })?;
        Ok(AdminClient {
            caller: Caller {
                transport: Arc::new(Transport {
                    http: Http::Pool(http_config.build()?),
                    http_config,
                    api: Api::Admin,
                    base_url,
                    team_id: String::new(),
                    team_segment: String::new(),
                    max_retry_wait: options.max_retry_wait.unwrap_or(crate::options::DEFAULT_MAX_RETRY_WAIT),
                    pacer: Arc::new(Pacer::new(QuotaConfig { enabled: false, ..QuotaConfig::default() })),
                }),
                timeout: options.timeout.unwrap_or(crate::options::DEFAULT_TIMEOUT),
                max_retries: options.max_retries.unwrap_or(crate::options::DEFAULT_MAX_RETRIES),
            },
        })
    }

    pub fn from_env() -> Result<AdminClient> {
        AdminClient::new(AdminClientOptions::default())
    }

    pub fn with_options(&self, options: RequestOptions) -> AdminClient {
        AdminClient { caller: self.caller.with_options(options) }
    }

    /// A copy with a connection pool of its own; see [`Caller::with_own_pool`].
    pub fn with_own_pool(&self) -> Result<AdminClient> {
        Ok(AdminClient { caller: self.caller.with_own_pool()? })
    }

    /// A copy with one connection of its own; see [`Caller::with_own_connection`].
    pub fn with_own_connection(&self) -> Result<AdminClient> {
        Ok(AdminClient { caller: self.caller.with_own_connection()? })
    }

    pub fn base_url(&self) -> &str {
        &self.caller.transport.base_url
    }

    /// The escape hatch: same auth, retries, errors and logging.
    pub async fn request(&self, method: HttpMethod, path: &str, query: &[(&str, &str)], body: Option<&Value>) -> Result<RawResponse> {
        self.caller.request(method, path, query, body).await
    }

    /// The escape hatch with a [`RawRequest`](crate::escape::RawRequest) (what
    /// the bindings use: method, query and body parsed and encoded by the core).
    pub async fn send_raw(&self, req: &crate::escape::RawRequest) -> Result<RawResponse> {
        self.caller.send_raw(req).await
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.caller.transport.base_url)
            .field("team_id", &self.caller.transport.team_id)
            .field("api_key", &"<redacted>")
            .field("timeout", &self.caller.timeout)
            .field("max_retries", &self.caller.max_retries)
            .finish()
    }
}

impl fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminClient")
            .field("base_url", &self.caller.transport.base_url)
            .field("token", &"<redacted>")
            .field("timeout", &self.caller.timeout)
            .field("max_retries", &self.caller.max_retries)
            .finish()
    }
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller").field("base_url", &self.transport.base_url).field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// Turns a parameter struct into the JSON arguments of the generic path.
pub fn to_args<P: Serialize>(params: &P) -> Map<String, Value> {
    match serde_json::to_value(params) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// One prepared request, reused across retries.
struct Prepared {
    method: HttpMethod,
    url: String,
    /// Where the path lies in `url` (for logs and errors).
    path: std::ops::Range<usize>,
    body: Option<Bytes>,
    quota: Option<&'static str>,
    /// Whether `url` is written as the URL parser would write it (an
    /// operation's: every value percent-encoded by the core), so that its
    /// path and query can be sent as they are.
    canonical: bool,
}

impl Prepared {
    fn path_str(&self) -> &str {
        &self.url[self.path.clone()]
    }
}

impl Caller {
    /// A copy with other per-call options.
    pub fn with_options(&self, options: RequestOptions) -> Caller {
        Caller {
            transport: self.transport.clone(),
            timeout: options.timeout.unwrap_or(self.timeout),
            max_retries: options.max_retries.unwrap_or(self.max_retries),
        }
    }

    /// A copy with the same credentials, options and quota pacer, but a
    /// connection pool of its own. For bindings that run calls on more than
    /// one tokio runtime: a pooled connection is served by the runtime that
    /// opened it, so each runtime should have its own pool, while the quotas,
    /// which belong to the key, stay counted in one place.
    pub fn with_own_pool(&self) -> Result<Caller> {
        self.with_http(Http::Pool(self.transport.http_config.build()?))
    }

    /// A copy with the same credentials, options and quota pacer whose
    /// requests go over one keep-alive HTTP/1.1 connection of its own, opened
    /// on first use (and again when the server closes it) on the runtime of
    /// the call, without the pool's layers: for a binding that makes blocking
    /// calls one at a time on a thread's own current-thread runtime, where
    /// the pool's bookkeeping is most of the client's cost. The rules stay
    /// the pool's: rustls with the same roots, the timeout over the whole
    /// exchange, connect failures told apart, no redirects, idle connections
    /// closed after `pool_idle_timeout`. Calls that overlap each get a
    /// connection; one is kept. Where a proxy may apply (the `proxy` option,
    /// or a proxy variable in the environment for an https base URL) this is
    /// [`Caller::with_own_pool`], which honours it.
    pub fn with_own_connection(&self) -> Result<Caller> {
        let c = &self.transport.http_config;
        if c.proxy_may_apply() {
            return self.with_own_pool();
        }
        self.with_http(Http::Connection(crate::connection::Connection::new(&self.transport.base_url, &c.headers, c.pool_idle)?))
    }

    fn with_http(&self, http: Http) -> Result<Caller> {
        let t = &self.transport;
        Ok(Caller {
            transport: Arc::new(Transport {
                http,
                http_config: t.http_config.clone(),
                api: t.api,
                base_url: t.base_url.clone(),
                team_id: t.team_id.clone(),
                team_segment: t.team_segment.clone(),
                max_retry_wait: t.max_retry_wait,
                pacer: t.pacer.clone(),
            }),
            ..self.clone()
        })
    }

    /// Checks `args` against `op` and returns what would be sent, without sending.
    pub fn prepare(&self, op: &Operation, mut args: Map<String, Value>) -> Result<validate::Encoded> {
        if op.api != self.transport.api {
            return Err(
                Error::validation("operation", format!("{} belongs to the other API's client", op.qualified_name())).with_rule("api")
            );
        }
        validate::check(op, &mut args)?;
        Ok(validate::encode(op, &self.transport.team_segment, &args))
    }

    /// Calls `op` with JSON `args` and returns the undecoded response. The
    /// arguments are checked before anything is sent.
    pub async fn call(&self, op: &Operation, args: Map<String, Value>) -> Result<RawResponse> {
        let enc = self.prepare(op, args)?;
        let base = &self.transport.base_url;
        let mut url = String::with_capacity(base.len() + enc.path.len() + enc.query.len());
        url.push_str(base);
        url.push_str(&enc.path);
        let path = base.len()..url.len();
        url.push_str(&enc.query);
        self.send(Prepared { method: op.method, url, path, body: enc.body.map(Bytes::from), quota: op.quota, canonical: true }).await
    }

    /// Calls `op` and decodes its result as `T` (the inner object of a
    /// `{"data": ...}` answer, the whole body otherwise).
    pub async fn call_typed<T: DeserializeOwned>(&self, op: &Operation, args: Map<String, Value>) -> Result<T> {
        self.call(op, args).await?.decode(op.result)
    }

    /// Calls `op` and decodes the result as JSON, keeping status and headers.
    pub async fn call_json(&self, op: &Operation, args: Map<String, Value>) -> Result<Response<Value>> {
        let raw = self.call(op, args).await?;
        let data = raw.decode::<Value>(op.result)?;
        Ok(Response { status: raw.status, headers: raw.headers, request_id: raw.request_id, retries_taken: raw.retries_taken, data })
    }

    /// The raw escape hatch ([`Client::request`]): same auth, retries, errors and logging.
    /// A segment of `path` that is `.` or `..` (or percent-encodes one) is
    /// refused like a path parameter would be: the URL would fold it away.
    pub async fn request(&self, method: HttpMethod, path: &str, query: &[(&str, &str)], body: Option<&Value>) -> Result<RawResponse> {
        let (mut url, p) = self.raw_url(path)?;
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 && p.end == url.len() { '?' } else { '&' });
            url.extend(percent_encoding::utf8_percent_encode(k, percent_encoding::NON_ALPHANUMERIC));
            url.push('=');
            url.extend(percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC));
        }
        self.request_url(method, url, p, body).await
    }

    /// Sends a [`RawRequest`](crate::escape::RawRequest) of the escape hatch
    /// (method, query and body parsed by the core): the same checks and
    /// transport as [`Caller::request`].
    pub async fn send_raw(&self, req: &crate::escape::RawRequest) -> Result<RawResponse> {
        let (mut url, p) = self.raw_url(&req.path)?;
        if !req.query.is_empty() {
            url.push(if p.end == url.len() { '?' } else { '&' });
            url.push_str(&req.query);
        }
        self.request_url(req.method, url, p, req.body.as_ref()).await
    }

    /// The URL of an escape-hatch `path` (a `.` or `..` segment refused) and where its path lies.
    fn raw_url(&self, path: &str) -> Result<(String, std::ops::Range<usize>)> {
        for segment in path.split(['?', '#']).next().unwrap_or_default().split('/') {
            validate::check_path_segment("path", segment)?;
        }
        let mut url = self.transport.base_url.clone();
        if !path.starts_with('/') {
            url.push('/');
        }
        url.push_str(&path.replace("{team_id}", &self.transport.team_segment));
        let p = self.transport.base_url.len()..url.find('?').unwrap_or(url.len());
        Ok((url, p))
    }

    async fn request_url(&self, method: HttpMethod, url: String, p: std::ops::Range<usize>, body: Option<&Value>) -> Result<RawResponse> {
        let body = match body {
            Some(b) => {
                validate::check_depth("body", b)?;
                Some(Bytes::from(
                    serde_json::to_vec(b)
                        .map_err(|e| Error::validation("body", format!("cannot be encoded as JSON: {e}")).with_rule("json"))?,
                ))
            }
            None => None,
        };
        self.send(Prepared { method, path: p, url, body, quota: None, canonical: false }).await
    }

    /// Sends with pacing and retries as the API contract says.
    async fn send(&self, req: Prepared) -> Result<RawResponse> {
        let t = &*self.transport;
        let method = match req.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Delete => reqwest::Method::DELETE,
        };
        let idempotent = req.method.is_idempotent();
        let mut attempt: u32 = 0;
        // Once any attempt of a non-GET may have acted, the final error says so,
        // whatever later attempts met (a retried DELETE that then meets 404).
        let mut applied = false;
        loop {
            let slot = match req.quota {
                Some(q) => t.pacer.acquire(q, t.max_retry_wait).await.map_err(|e| self.annotate(e, &req, attempt, applied))?,
                None => None,
            };
            let started = Instant::now();
            let outcome = match &t.http {
                Http::Connection(c) => c.exchange(method.clone(), &req.url, req.canonical, req.body.as_ref(), self.timeout).await,
                Http::Pool(http) => self.send_pooled(http, &method, &req).await,
            };
            if let Some(slot) = slot {
                t.pacer.complete(slot);
            }
            let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
            let (err, wait) = match outcome {
                Ok((status, headers, body)) => {
                    let request_id = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
                    tracing::debug!(target: "parsec_teams", method = req.method.as_str(), path = req.path_str(), status, attempt, elapsed_ms, request_id = request_id.as_deref().unwrap_or(""), "response");
                    if (200..300).contains(&status) {
                        return Ok(Response { status, headers, request_id, retries_taken: attempt, data: body });
                    }
                    let retry_after = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
                    let mut err = if (300..400).contains(&status) { redirect_error(status, &headers) } else { http_error(status, &body) };
                    err.inner.request_id = request_id;
                    err.inner.retry_after = retry_after;
                    let retryable = status == 429 || (idempotent && RETRYABLE_SERVER_STATUSES.contains(&status));
                    err.inner.retryable = retryable;
                    err.inner.may_have_been_applied = status >= 500 && req.method != HttpMethod::Get;
                    if let (429, Some(q), Some(secs)) = (status, req.quota, retry_after) {
                        t.pacer.block(q, secs);
                    }
                    if !retryable {
                        return Err(self.annotate(err, &req, attempt, applied));
                    }
                    // A server's wait is slept through only up to max_retry_wait;
                    // a longer one (or one no Duration can hold) fails at once.
                    let wait = match retry_after.map(Duration::try_from_secs_f64) {
                        None => None,
                        Some(Ok(d)) if d <= t.max_retry_wait => Some(d),
                        Some(_) => return Err(self.annotate(err, &req, attempt, applied)),
                    };
                    (err, wait)
                }
                Err(SendError { connect, timeout, message }) => {
                    let kind = if timeout && !connect { ErrorKind::Timeout } else { ErrorKind::Connection };
                    let what = if connect {
                        "could not connect"
                    } else if timeout {
                        "the request timed out"
                    } else {
                        "the connection failed"
                    };
                    let mut err = Error::new(kind, format!("{what}: {message}"));
                    // The server surely did not act when the connection was never made.
                    err.inner.retryable = connect || idempotent;
                    err.inner.may_have_been_applied = !connect && req.method != HttpMethod::Get;
                    tracing::debug!(target: "parsec_teams", method = req.method.as_str(), path = req.path_str(), attempt, elapsed_ms, error = %err.message(), "request failed");
                    if !err.inner.retryable {
                        return Err(self.annotate(err, &req, attempt, applied));
                    }
                    (err, None)
                }
            };
            applied |= err.inner.may_have_been_applied;
            if attempt >= self.max_retries {
                return Err(self.annotate(err, &req, attempt, applied));
            }
            let wait = wait.unwrap_or_else(|| backoff(attempt));
            tracing::info!(target: "parsec_teams", method = req.method.as_str(), path = req.path_str(), attempt, wait_ms = wait.as_millis() as u64, error = %err.message(), "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt on reqwest's pool: the status, headers and whole body.
    async fn send_pooled(
        &self,
        http: &reqwest::Client,
        method: &reqwest::Method,
        req: &Prepared,
    ) -> std::result::Result<Exchanged, SendError> {
        let mut rb = http.request(method.clone(), &req.url).timeout(self.timeout);
        if let Some(body) = &req.body {
            rb = rb.header(CONTENT_TYPE, "application/json").body(body.clone());
        }
        let answer = match rb.send().await {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let headers = std::mem::take(resp.headers_mut());
                resp.bytes().await.map(|b| (status, headers, b))
            }
            Err(e) => Err(e),
        };
        answer.map_err(|e| SendError {
            connect: e.is_connect(),
            timeout: e.is_timeout(),
            // The URL carries the query (emails among them): keep the method and path only.
            message: error_chain(&e.without_url()),
        })
    }

    fn annotate(&self, mut err: Error, req: &Prepared, attempt: u32, applied: bool) -> Error {
        err.inner.retries_taken = attempt;
        err.inner.may_have_been_applied |= applied;
        err.inner.method = Some(req.method.as_str());
        err.inner.path = Some(req.path_str().to_owned());
        err
    }
}

/// The server statuses after which an idempotent request (GET, PUT, DELETE)
/// is retried; 429 is retried for every method.
pub const RETRYABLE_SERVER_STATUSES: [u16; 4] = [500, 502, 503, 504];
/// The first backoff's ceiling, doubled at each attempt.
pub const BACKOFF_BASE_SECS: f64 = 0.5;
/// The ceiling no backoff exceeds.
pub const BACKOFF_CAP_SECS: f64 = 8.0;

/// Exponential backoff with full jitter: uniform in [0, min(8 s, 0.5 s * 2^attempt)].
fn backoff(attempt: u32) -> Duration {
    let cap = (BACKOFF_BASE_SECS * 2f64.powi(attempt.min(16) as i32)).min(BACKOFF_CAP_SECS);
    Duration::from_secs_f64(rand::random::<f64>() * cap)
}

/// `Retry-After` as seconds or as an HTTP date.
fn parse_retry_after(v: &str) -> Option<f64> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        // `abs` turns -0 into 0; every other negative value is refused.
        return (secs.is_finite() && secs >= 0.0).then_some(secs.abs());
    }
    let when = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()?;
    Some(((when - OffsetDateTime::now_utc()).as_seconds_f64()).max(0.0))
}

/// A 3xx: redirects are not followed (the service never redirects; following
/// one could carry the key or a body elsewhere). The message names the target,
/// without its query.
fn redirect_error(status: u16, headers: &HeaderMap) -> Error {
    let location = headers.get(LOCATION).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let message = match location {
        Some(loc) => {
            let target = loc.split(['?', '#']).next().unwrap_or_default();
            let target: String = target.chars().take(512).collect();
            format!("the server redirected to {target} (redirects are not followed)")
        }
        None => "the server answered a redirect without a Location (redirects are not followed)".to_owned(),
    };
    let mut err = Error::new(ErrorKind::Api, message);
    err.inner.status = Some(status);
    err
}

fn http_error(status: u16, body: &Bytes) -> Error {
    let text = String::from_utf8_lossy(&body[..body.len().min(8192)]).into_owned();
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| {
            let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("HTTP error");
            reason.to_owned()
        });
    let mut err = Error::new(ErrorKind::from_status(status), message);
    err.inner.status = Some(status);
    err.inner.body = Some(text);
    err
}

pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(3.0));
        assert_eq!(parse_retry_after(" 1.5 "), Some(1.5));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0.0));
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("1e300"), Some(1e300));
        for not_a_wait in ["inf", "-inf", "NaN", "-0.5", ""] {
            assert_eq!(parse_retry_after(not_a_wait), None, "{not_a_wait}");
        }
        let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT").unwrap();
        assert!(far > 2.5e11 && Duration::try_from_secs_f64(far).is_ok(), "{far}");
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        for attempt in (0..40).chain([u32::MAX]) {
            let d = backoff(attempt);
            assert!(d <= Duration::from_secs(8), "{d:?}");
            assert!(d.as_secs_f64() <= 0.5 * 2f64.powi(attempt.min(16) as i32));
        }
        // Full jitter: uniform in [0, 0.5 s] for the first retry. The chance that
        // 400 draws miss either end's tenth, or that their mean is off by more
        // than 5 standard deviations, is below 1e-6.
        let draws: Vec<f64> = (0..400).map(|_| backoff(0).as_secs_f64()).collect();
        assert!(draws.iter().any(|d| *d < 0.05), "backoff waits little sometimes");
        assert!(draws.iter().any(|d| *d > 0.45), "and nearly the cap sometimes");
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.25).abs() < 5.0 * 0.1443 / 20.0, "mean {mean}");
        let late: Vec<f64> = (0..400).map(|_| backoff(10).as_secs_f64()).collect();
        assert!(late.iter().any(|d| *d > 7.0), "the 8 s cap is reached");
    }

    #[test]
    fn base_url_rules() {
        assert!(check_base_url("http://127.0.0.1:8080", "base_url").is_ok());
        assert!(check_base_url("http://localhost", "base_url").is_ok());
        assert!(check_base_url("http://[::1]:9", "base_url").is_ok());
        assert!(check_base_url("https://api.parsec.app/", "base_url").is_ok());
        let e = check_base_url("http://api.parsec.app", "base_url").unwrap_err();
        assert_eq!(e.field(), Some("base_url"));
        assert!(check_base_url("ftp://x", "base_url").is_err());
        assert!(check_base_url("https://user:pw@host", "base_url").is_err());
    }

    #[test]
    fn a_bad_proxy_is_refused_even_for_a_loopback_base_url() {
        for bad in ["not a url", "ftp://proxy:21", "http://"] {
            for base in ["http://127.0.0.1:9", "https://api.parsec.app"] {
                let e = ProxyRule::new(base, Some(bad)).err().unwrap_or_else(|| panic!("{bad} accepted for {base}"));
                assert_eq!(e.field(), Some("proxy"), "{bad} for {base}");
            }
        }
        assert!(matches!(ProxyRule::new("http://127.0.0.1:9", Some("http://proxy:3128")), Ok(ProxyRule::Never)));
        assert!(matches!(ProxyRule::new("https://api.parsec.app", Some("http://proxy:3128")), Ok(ProxyRule::Explicit(_))));
        assert!(matches!(ProxyRule::new("https://api.parsec.app", None), Ok(ProxyRule::FromEnv)));
    }
}
