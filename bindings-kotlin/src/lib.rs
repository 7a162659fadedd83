//! The uniffi exports of the Kotlin/JVM package over the core.
//!
//! This layer is deliberately generic: one entry point per call shape (an
//! operation id + parameters in, the decoded result out), a pager, the escape
//! hatch and an in-process mock server. The typed Kotlin surface
//! (`client.members.list(...)`) is generated from `docs/description.json` by
//! `codegen/gen_kotlin.py` on top of it.
//!
//! JSON goes in as text (parsed and bounded by the core) and comes out as one
//! byte array in a compact encoding (the [`json`] module) that the Kotlin
//! layer reads in one pass: the core decodes the response, no token objects
//! or JSON text cross to the JVM.
//! Options go to `ClientOptions::from_values` / `AdminClientOptions::from_values`
//! unchanged (one validation, in the core); the environment, the log level,
//! the runtime and the decoding are the core's.

// NativeError is the record uniffi hands to Kotlin: every attribute of the
// contract's error tree, by value (uniffi records cannot box). It is built
// once per failed call, so its size on the error path does not matter.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use parsec_teams::error::{catch_panic, catch_panic_sync};
use parsec_teams::escape::RawRequest;
use parsec_teams::options::{duration_value, int_value};
use parsec_teams::pagination::Paginator;
use parsec_teams::spec::{Api, Operation, OPERATIONS};
use parsec_teams::validate::parse_json_text;
use parsec_teams::{AdminClient, AdminClientOptions, Caller, Client, ClientOptions, Error, OptionValues, RequestOptions};
use serde_json::{Map, Value};

uniffi::setup_scaffolding!("parsecteams");

mod direct;
pub mod json;

/// Every failure of a call, carrying the attributes of the contract's error
/// tree; the Kotlin layer raises the class named by `class_name`.
#[derive(Debug, uniffi::Error)]
pub enum NativeError {
    Failed {
        /// The class of the error tree (`NotFoundError`, `ValidationError`, ...).
        class_name: String,
        /// The contract's `message` (the body's `message` for a status error).
        detail: String,
        /// The full description (method, path, retries, request id).
        text: String,
        status: Option<u16>,
        body: Option<String>,
        request_id: Option<String>,
        retry_after: Option<f64>,
        retryable: bool,
        retries_taken: u32,
        may_have_been_applied: bool,
        field: Option<String>,
        rule: Option<String>,
    },
}

impl std::fmt::Display for NativeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let NativeError::Failed { text, .. } = self;
        f.write_str(text)
    }
}

impl From<Error> for NativeError {
    fn from(e: Error) -> Self {
        NativeError::Failed {
            class_name: e.kind().class_name().to_owned(),
            detail: e.message().to_owned(),
            text: e.to_string(),
            status: e.status(),
            body: e.body().map(str::to_owned),
            request_id: e.request_id().map(str::to_owned),
            retry_after: e.retry_after(),
            retryable: e.retryable(),
            retries_taken: e.retries_taken(),
            may_have_been_applied: e.may_have_been_applied(),
            field: e.field().map(str::to_owned),
            rule: e.rule().map(str::to_owned),
        }
    }
}

type Res<T> = std::result::Result<T, NativeError>;

/// The raw option values of a client, in the core's canonical units
/// (durations in seconds); `None` = not given (environment, then default).
/// Checked by the core only.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct NativeOptions {
    pub api_key: Option<String>,
    pub team_id: Option<String>,
    pub base_url: Option<String>,
    pub token: Option<String>,
    pub timeout: Option<f64>,
    pub max_retries: Option<i64>,
    pub max_retry_wait: Option<f64>,
    pub pool_idle_timeout: Option<f64>,
    pub proxy: Option<String>,
    pub quota_pacing: Option<bool>,
    pub quota_limit: Option<i64>,
    pub quota_window: Option<f64>,
    /// `kotlin <version>` for the User-Agent.
    pub language: Option<String>,
}

impl NativeOptions {
    fn values(self) -> OptionValues {
        let mut v = OptionValues::default();
        v.api_key = self.api_key;
        v.team_id = self.team_id;
        v.base_url = self.base_url;
        v.token = self.token;
        v.timeout = self.timeout;
        v.max_retries = self.max_retries;
        v.max_retry_wait = self.max_retry_wait;
        v.pool_idle_timeout = self.pool_idle_timeout;
        v.proxy = self.proxy;
        v.quota_pacing = self.quota_pacing;
        v.quota_limit = self.quota_limit;
        v.quota_window = self.quota_window;
        v.language = self.language;
        v
    }
}

/// A successful call: status, request id, retries taken and the decoded
/// result (in the encoding of the [`json`] module), as the `direct` module
/// hands it to the JVM.
#[derive(Debug, Clone)]
pub struct NativeResponse {
    pub status: u16,
    pub request_id: Option<String>,
    pub retries_taken: u32,
    pub data: Vec<u8>,
}

fn init_logging() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let level = parsec_teams::env::log_level();
        if level != parsec_teams::env::LogLevel::Off {
            let filter = tracing_subscriber::EnvFilter::new(level.filter_directive());
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false).try_init();
        }
    });
}

/// The operation of description id `teams.members.list` / `admin.teams.list`.
fn operation(id: &str) -> Res<&'static Operation> {
    static BY_ID: OnceLock<HashMap<String, &'static Operation>> = OnceLock::new();
    let table = BY_ID.get_or_init(|| {
        OPERATIONS
            .iter()
            .copied()
            .map(|op| {
                let api = match op.api {
                    Api::Teams => "teams",
                    Api::Admin => "admin",
                };
                (format!("{api}.{}", op.qualified_name()), op)
            })
            .collect()
    });
    table.get(id).copied().ok_or_else(|| Error::validation("operation", format!("no operation {id:?}")).into())
}

fn request_options(timeout: Option<f64>, max_retries: Option<i64>) -> Res<Option<RequestOptions>> {
    if timeout.is_none() && max_retries.is_none() {
        return Ok(None);
    }
    Ok(Some(RequestOptions {
        timeout: timeout.map(|t| duration_value("timeout", t)).transpose()?,
        max_retries: max_retries.map(|n| int_value("max_retries", n)).transpose()?,
    }))
}

fn args_of(params: &str) -> Res<Map<String, Value>> {
    match parse_json_text(params, "params")? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        _ => Err(Error::validation("params", "must be an object").into()),
    }
}

fn runtime() -> Res<&'static tokio::runtime::Runtime> {
    Ok(parsec_teams::runtime::shared_runtime()?)
}

/// A task on the shared runtime that is aborted when dropped: a Kotlin
/// coroutine cancelled while awaiting it drops the uniffi future, which drops
/// this, which cancels the request.
struct Task<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for Task<parsec_teams::Result<T>> {
    type Output = Res<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Res<T>> {
        Pin::new(&mut self.0).poll(cx).map(|r| match r {
            Ok(r) => r.map_err(NativeError::from),
            Err(e) => Err(Error::from_panic(Box::new(format!("the call's task ended: {e}"))).into()),
        })
    }
}

fn spawn<T: Send + 'static>(fut: impl Future<Output = parsec_teams::Result<T>> + Send + 'static) -> Res<Task<parsec_teams::Result<T>>> {
    Ok(Task(runtime()?.spawn(catch_panic(fut))))
}

/// Runs `fut` as a task on the runtime's workers and parks the calling thread
/// until it ends. The request, its connection's task and the I/O driver then
/// stay on one worker, and the caller is woken once; polling the call on the
/// caller's thread (`block_on(fut)`) instead crossed threads at every step of
/// the exchange (request to the connection task, head, body, end), which cost
/// more CPU in context switches than the whole call does in Rust.
fn block<T: Send + 'static>(fut: impl Future<Output = parsec_teams::Result<T>> + Send + 'static) -> Res<T> {
    let rt = runtime()?;
    rt.block_on(spawn(fut)?)
}

async fn call_op(caller: Caller, op: &'static Operation, args: Map<String, Value>) -> parsec_teams::Result<NativeResponse> {
    let raw = caller.call(op, args).await?;
    // Straight from the body's JSON into the encoding (no Value tree).
    let json::Encoded(data) = raw.decode(op.result)?;
    Ok(NativeResponse { status: raw.status, request_id: raw.request_id, retries_taken: raw.retries_taken, data })
}

async fn send_raw(caller: Caller, req: RawRequest) -> parsec_teams::Result<NativeResponse> {
    let r = caller.send_raw(&req).await?;
    let data = r.json()?;
    Ok(NativeResponse { status: r.status, request_id: r.request_id, retries_taken: r.retries_taken, data: json::to_bytes(&data) })
}

/// A `Client` or an `AdminClient` of the core (one object: the calls are the same).
#[derive(uniffi::Object)]
pub struct NativeClient {
    api: Api,
    caller: Caller,
    teams: Option<Client>,
}

impl NativeClient {
    /// The call's caller (`base` with the per-call options), operation and arguments.
    fn prepared(
        &self,
        base: &Caller,
        op: &str,
        params: &str,
        timeout: Option<f64>,
        max_retries: Option<i64>,
    ) -> Res<(Caller, &'static Operation, Map<String, Value>)> {
        let op = operation(op)?;
        if op.api != self.api {
            let e = Error::validation("operation", format!("{} is an operation of the other API's client", op.qualified_name()))
                .with_rule("api");
            return Err(e.into());
        }
        let caller = match request_options(timeout, max_retries)? {
            Some(o) => base.with_options(o),
            None => base.clone(),
        };
        Ok((caller, op, args_of(params)?))
    }

    fn raw_request(&self, method: &str, path: &str, query: Option<&str>, body: Option<&str>) -> Res<RawRequest> {
        let query = query.map(|q| parse_json_text(q, "query")).transpose()?;
        let body = body.map(|b| parse_json_text(b, "body")).transpose()?;
        Ok(RawRequest::new(method, path, query.as_ref(), body)?)
    }
}

#[uniffi::export]
impl NativeClient {
    /// A client of the Parsec for Teams API from raw option values.
    #[uniffi::constructor]
    pub fn teams(options: NativeOptions) -> Res<Arc<NativeClient>> {
        init_logging();
        catch_panic_sync(|| {
            let client = Client::new(ClientOptions::from_values(&options.values())?)?;
            Ok(Arc::new(NativeClient { api: Api::Teams, caller: client.caller().clone(), teams: Some(client) }))
        })
        .map_err(NativeError::from)
    }

    /// A client of the team-administration API from raw option values.
    #[uniffi::constructor]
    pub fn admin(options: NativeOptions) -> Res<Arc<NativeClient>> {
        init_logging();
        catch_panic_sync(|| {
            let client = AdminClient::new(AdminClientOptions::from_values(&options.values())?)?;
            Ok(Arc::new(NativeClient { api: Api::Admin, caller: client.caller().clone(), teams: None }))
        })
        .map_err(NativeError::from)
    }

    /// The pages of list operation `op`, fetched one by one.
    pub fn pager(&self, op: String, params: String, timeout: Option<f64>, max_retries: Option<i64>) -> Res<Arc<NativePager>> {
        let (caller, op, args) = self.prepared(&self.caller, &op, &params, timeout, max_retries)?;
        let pages = catch_panic_sync(|| Paginator::new(caller, op, args))?;
        Ok(Arc::new(NativePager { pages: Arc::new(tokio::sync::Mutex::new(pages)) }))
    }

    /// The paced quotas: calls left in the window and when it refills (a list
    /// of objects; empty for an `AdminClient`).
    pub fn quota_status(&self) -> Vec<u8> {
        let list = self.teams.as_ref().map(Client::quota_status).unwrap_or_default();
        json::to_bytes(&serde_json::to_value(list).unwrap_or(Value::Null))
    }

    /// This client's number for the calls' direct path (the `direct`
    /// module: every call but the pager's), valid until `parsec_teams_kt_release`.
    pub fn direct_handle(self: Arc<Self>) -> u64 {
        direct::register(self)
    }

    /// The team id (empty for an `AdminClient`).
    pub fn team_id(&self) -> String {
        self.teams.as_ref().map(|c| c.team_id().to_owned()).unwrap_or_default()
    }
}

/// The pages of one list operation, in order.
#[derive(uniffi::Object)]
pub struct NativePager {
    pages: Arc<tokio::sync::Mutex<Paginator>>,
}

async fn next_page(pages: Arc<tokio::sync::Mutex<Paginator>>) -> parsec_teams::Result<Option<Vec<u8>>> {
    let mut pages = pages.lock().await;
    Ok(pages.next_page::<Value>().await?.map(|items| json::to_bytes(&Value::Array(items))))
}

#[uniffi::export]
impl NativePager {
    /// The next page's items (a list), `None` after the last page.
    pub async fn next_page(&self) -> Res<Option<Vec<u8>>> {
        spawn(next_page(self.pages.clone()))?.await
    }

    /// [`NativePager::next_page`], blocking the calling thread.
    pub fn next_page_blocking(&self) -> Res<Option<Vec<u8>>> {
        block(next_page(self.pages.clone()))
    }
}

/// The mock server of `parsec-teams-mock`, serving in this process on the
/// shared runtime until `close()`.
#[derive(uniffi::Object)]
pub struct NativeMockServer {
    server: Mutex<Option<parsec_teams_mock::MockServer>>,
    base_url: String,
    team_id: String,
    api_key: String,
    admin_token: String,
}

#[uniffi::export]
impl NativeMockServer {
    /// Starts a mock on a free loopback port. `quota_window` (s) shrinks the
    /// quota window; `keys` are `KEY=Permission,Permission` extra keys;
    /// `header_read_timeout` (s) closes idle connections sooner (default 30).
    #[uniffi::constructor]
    pub fn start(quota_window: Option<f64>, keys: Vec<String>, header_read_timeout: Option<f64>) -> Res<Arc<NativeMockServer>> {
        init_logging();
        let mut config = parsec_teams_mock::MockConfig::default();
        if let Some(w) = quota_window {
            config.quota_window = duration_value("quota_window", w)?;
        }
        if let Some(t) = header_read_timeout {
            // A mock setting, not a client option: checked here.
            if !(t.is_finite() && t > 0.0 && t <= 86_400.0) {
                return Err(Error::validation("idle_timeout", "must be more than 0 and at most 86400 seconds").with_rule("range").into());
            }
            config.header_read_timeout = std::time::Duration::from_secs_f64(t);
        }
        for k in keys {
            let Some((key, perms)) = k.split_once('=') else {
                return Err(Error::validation("keys", "each key is KEY=Permission,Permission").into());
            };
            config.keys.push((key.to_owned(), perms.split(',').map(|p| p.trim().to_owned()).collect()));
        }
        let server = block(async move {
            parsec_teams_mock::MockServer::start(config)
                .await
                .map_err(|e| Error::from_panic(Box::new(format!("the mock server did not start: {e}"))))
        })?;
        Ok(Arc::new(NativeMockServer {
            base_url: server.base_url().to_owned(),
            team_id: server.team_id().to_owned(),
            api_key: server.api_key().to_owned(),
            admin_token: server.admin_token().to_owned(),
            server: Mutex::new(Some(server)),
        }))
    }

    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }
    pub fn team_id(&self) -> String {
        self.team_id.clone()
    }
    pub fn api_key(&self) -> String {
        self.api_key.clone()
    }
    pub fn admin_token(&self) -> String {
        self.admin_token.clone()
    }

    /// Stops serving (also done when the object is freed).
    pub fn stop(&self) {
        let server = self.server.lock().map(|mut s| s.take()).unwrap_or(None);
        drop(server);
    }
}

/// The SDK version (`0.1.0`).
#[uniffi::export]
pub fn sdk_version() -> String {
    parsec_teams::VERSION.to_owned()
}
