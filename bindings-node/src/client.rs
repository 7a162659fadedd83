//! The generic call path: one `call` for every operation of the table, a
//! paginator over the core's `Paginator`, the `request` escape hatch, and the
//! cancel token an `AbortSignal` drives.
//!
//! Arguments cross as JSON text (keyed by wire names). Small results cross as
//! the JSON text of the decoded result, which JavaScript parses with
//! `JSON.parse` (no `Value` tree is built in Rust: the core decodes straight
//! into a `RawValue`); large ones (pages) as a tape (`tape.rs`), which
//! `tape.js` turns into objects several times faster than `JSON.parse`.

use std::future::Future;
use std::sync::Arc;

use napi::bindgen_prelude::{check_status, sys, Either, FnArgs, Function, ToNapiValue, TypeName};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{JsValue, Result, Status, ValueType};
use napi_derive::napi;
use parsec_teams::error::{catch_panic, catch_panic_sync};
use parsec_teams::escape::RawRequest;
use parsec_teams::options::{self, OptionValues};
use parsec_teams::pagination::Paginator;
use parsec_teams::spec::{Operation, ResultKind, OPERATIONS};
use parsec_teams::validate::parse_json_text;
use parsec_teams::{AdminClient, AdminClientOptions, Caller, Client, ClientOptions, Error as CoreError, RawResponse, RequestOptions};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::{watch, Mutex};

use crate::errors::ErrorRecord;
use crate::local::Local;

/// The option values of `Client` / `AdminClient` as JavaScript passes them:
/// the core's option names (camelCase), in the core's units (durations in
/// seconds), unchecked: [`ClientOptions::from_values`] and
/// [`AdminClientOptions::from_values`] check them, with the same ranges and
/// errors as in every language.
#[napi(object)]
pub struct OptionValuesJs {
    pub api_key: Option<String>,
    pub team_id: Option<String>,
    pub base_url: Option<String>,
    /// The admin client's base URL (the core's option `admin_base_url`; Node calls it `baseUrl`).
    pub admin_base_url: Option<String>,
    pub token: Option<String>,
    pub timeout: Option<f64>,
    pub max_retries: Option<f64>,
    pub max_retry_wait: Option<f64>,
    pub pool_idle_timeout: Option<f64>,
    pub proxy: Option<String>,
    pub quota_pacing: Option<bool>,
    pub quota_limit: Option<f64>,
    pub quota_window: Option<f64>,
    /// `node <version>`, for the User-Agent.
    pub language: Option<String>,
}

/// A whole number of JavaScript (a double) for an integer option, or the
/// core's validation error (rule `type`).
fn whole(name: &str, v: f64) -> std::result::Result<i64, CoreError> {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Ok(v as i64)
    } else {
        Err(CoreError::validation(name, format!("must be a whole number, got {v}")).with_rule("type"))
    }
}

impl OptionValuesJs {
    fn values(self) -> std::result::Result<OptionValues, CoreError> {
        let mut v = OptionValues::default();
        v.api_key = self.api_key;
        v.team_id = self.team_id;
        v.base_url = self.base_url.or(self.admin_base_url);
        v.token = self.token;
        v.timeout = self.timeout;
        v.max_retries = self.max_retries.map(|n| whole("max_retries", n)).transpose()?;
        v.max_retry_wait = self.max_retry_wait;
        v.pool_idle_timeout = self.pool_idle_timeout;
        v.proxy = self.proxy;
        v.quota_pacing = self.quota_pacing;
        v.quota_limit = self.quota_limit.map(|n| whole("quota_limit", n)).transpose()?;
        v.quota_window = self.quota_window;
        v.language = self.language;
        Ok(v)
    }
}

/// JSON text for JavaScript's `JSON.parse`. ASCII text (the usual case) is
/// handed to V8 as Latin-1, a plain copy, instead of going through UTF-8 decoding.
pub struct JsonText(pub String);

impl TypeName for JsonText {
    fn type_name() -> &'static str {
        "String"
    }
    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ToNapiValue for JsonText {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        if !val.0.is_ascii() {
            return String::to_napi_value(env, val.0);
        }
        let mut out = std::ptr::null_mut();
        check_status!(sys::napi_create_string_latin1(env, val.0.as_ptr().cast(), val.0.len() as isize, &mut out))?;
        Ok(out)
    }
}

/// Results at least this long (bytes of JSON) go to JavaScript as a tape: below
/// it, `JSON.parse` of the text costs a few microseconds and a tape would not pay.
pub const TAPE_MIN: usize = 2048;

/// A result for JavaScript: JSON text, or a tape that `tape.js` decodes
/// (an array `[ops: Int32Array, nums: Float64Array, strs: string]`).
pub enum Body {
    Text(JsonText),
    Tape(crate::tape::Tape),
}

impl Body {
    /// `json` as a tape, when it is at least `min_len` bytes and encodable.
    fn tape(json: &[u8], min_len: usize) -> Option<Body> {
        (json.len() >= min_len).then(|| crate::tape::encode(json)).flatten().map(Body::Tape)
    }

    /// `text` as a tape when it is at least `min_len` bytes and encodable, else as text.
    pub fn of_text(text: String, min_len: usize) -> Body {
        Body::tape(text.as_bytes(), min_len).unwrap_or(Body::Text(JsonText(text)))
    }
}

impl TypeName for Body {
    fn type_name() -> &'static str {
        "String | Array"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for Body {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        match val {
            Body::Text(text) => JsonText::to_napi_value(env, text),
            Body::Tape(tape) => {
                let mut array = std::ptr::null_mut();
                check_status!(sys::napi_create_array_with_length(env, 3, &mut array))?;
                let parts = [
                    typed_array(env, &tape.ops, sys::TypedarrayType::int32_array)?,
                    typed_array(env, &tape.nums, sys::TypedarrayType::float64_array)?,
                    JsonText::to_napi_value(env, JsonText(tape.strs))?,
                ];
                for (i, part) in parts.into_iter().enumerate() {
                    check_status!(sys::napi_set_element(env, array, i as u32, part))?;
                }
                Ok(array)
            }
        }
    }
}

/// A typed array over a copy of `data` in memory V8 owns. Copying (tens of KiB,
/// about a microsecond) beats handing V8 the Rust buffer: an external buffer
/// needs a finalizer and counts as external memory, which made V8 run far
/// more full garbage collections when every page brought two.
unsafe fn typed_array<T: Copy>(env: sys::napi_env, data: &[T], kind: sys::napi_typedarray_type) -> Result<sys::napi_value> {
    let bytes = std::mem::size_of_val(data);
    let mut buffer = std::ptr::null_mut();
    let mut dest = std::ptr::null_mut();
    check_status!(sys::napi_create_arraybuffer(env, bytes, &mut dest, &mut buffer))?;
    if bytes > 0 {
        // SAFETY: `dest` is a fresh buffer of `bytes` bytes.
        std::ptr::copy_nonoverlapping(data.as_ptr().cast::<u8>(), dest.cast::<u8>(), bytes);
    }
    let mut out = std::ptr::null_mut();
    check_status!(sys::napi_create_typedarray(env, kind, data.len(), buffer, 0, &mut out))?;
    Ok(out)
}

/// Delivers finished calls to JavaScript on the threaded path (the Node-thread
/// path of `local.rs` calls the same callback directly): ONE threadsafe function per client
/// (weak, so it never keeps the event loop alive by itself; the JavaScript
/// layer holds a ref'd handle while calls are in flight), instead of a
/// threadsafe function and a promise per call. Completions that finish
/// together are delivered in one turn of the event loop.
/// The arguments of `onComplete(id, status, body, headers, requestId,
/// retriesTaken, flags, error)`: positional, so no object is built through
/// N-API per call (flags: 1 aborted, 2 done, 4 unchecked).
pub type CompletionArgs = FnArgs<(u32, u32, Option<Body>, Option<String>, Option<String>, u32, u32, Option<ErrorRecord>)>;
type Completer = ThreadsafeFunction<CompletionArgs, (), CompletionArgs, Status, false, true>;

fn complete(done: &Completer, id: u32, r: NativeResponse) {
    // NonBlocking on an unbounded queue only fails while the environment is closing.
    let _ = done.call(r.into_args(id), ThreadsafeFunctionCallMode::NonBlocking);
}

/// Runs one call's future and always reports back, even if the future panics
/// (a Promise left pending forever would also keep Node alive): on the Node
/// thread's own runtime when `local` is set (see `local.rs`), else on the
/// shared multi-thread runtime, reporting through the client's threadsafe function.
fn run_and_complete<F>(done: &Arc<Completer>, local: Option<Local>, id: u32, fut: F)
where
    F: Future<Output = NativeResponse> + Send + 'static,
{
    match local {
        Some(client) => crate::local::spawn(client, id, guarded(fut)),
        None => {
            let done = done.clone();
            match parsec_teams::runtime::shared_runtime() {
                Ok(rt) => drop(rt.spawn(async move { complete(&done, id, guarded(fut).await) })),
                Err(e) => complete(&done, id, NativeResponse::failed(&e)),
            }
        }
    }
}

/// `fut`'s response, or an `InternalError` one if it panicked (the core's
/// `catch_panic`: the future is not polled again).
async fn guarded<F>(fut: F) -> NativeResponse
where
    F: Future<Output = NativeResponse> + Send + 'static,
{
    catch_panic(async { Ok(fut.await) }).await.unwrap_or_else(|e| NativeResponse::failed(&e))
}

/// What one native call resolves to. Exactly one of `body` (the result as
/// JSON text or tape; for pages of `nextPage`, the items), `error`, `aborted` or
/// `done` (a paginator at its end) is meaningful.
#[derive(Default)]
pub struct NativeResponse {
    pub status: u32,
    pub body: Option<Body>,
    /// Response headers as `name: value` lines joined by `\n`.
    pub headers: Option<String>,
    pub request_id: Option<String>,
    pub retries_taken: u32,
    pub error: Option<ErrorRecord>,
    pub aborted: bool,
    pub done: bool,
    /// `body` is the response body as received: `JSON.parse` it, and on failure
    /// ask `checkResult` for the core's decoding of it.
    pub unchecked: bool,
}

impl NativeResponse {
    /// The arguments of `onComplete` for call `id`.
    pub fn into_args(self, id: u32) -> CompletionArgs {
        let flags = u32::from(self.aborted) | u32::from(self.done) << 1 | u32::from(self.unchecked) << 2;
        FnArgs::from((id, self.status, self.body, self.headers, self.request_id, self.retries_taken, flags, self.error))
    }

    fn failed(e: &CoreError) -> Self {
        NativeResponse { error: Some(e.into()), ..Default::default() }
    }

    fn ok(raw: &RawResponse, body: Body) -> Self {
        let mut headers = String::with_capacity(256);
        for (name, value) in &raw.headers {
            if let Ok(v) = value.to_str() {
                if !headers.is_empty() {
                    headers.push('\n');
                }
                headers.push_str(name.as_str());
                headers.push_str(": ");
                headers.push_str(v);
            }
        }
        NativeResponse {
            status: u32::from(raw.status),
            body: Some(body),
            headers: Some(headers),
            request_id: raw.request_id.clone(),
            retries_taken: raw.retries_taken,
            ..Default::default()
        }
    }
}

/// What `checkResult` found: the result's JSON text, or the error.
#[napi(object, object_from_js = false)]
pub struct CheckedResult {
    pub body: Option<String>,
    pub error: Option<ErrorRecord>,
}

/// Cancels the native calls it was passed to; `AbortSignal` listeners call `cancel()`.
/// Cancelling drops the Rust future, which closes the request.
#[napi]
pub struct CancelToken {
    tx: watch::Sender<bool>,
}

#[napi]
impl CancelToken {
    #[napi(constructor, catch_unwind)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        CancelToken { tx: watch::channel(false).0 }
    }

    /// Cancels every call this token was given (now and later).
    #[napi(catch_unwind)]
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }
}

/// Runs `work`, or stops (dropping it) as soon as `cancel` fires.
async fn cancellable<F>(cancel: Option<watch::Receiver<bool>>, work: F) -> NativeResponse
where
    F: Future<Output = NativeResponse>,
{
    let Some(mut rx) = cancel else {
        return work.await;
    };
    let cancelled = async move {
        if rx.wait_for(|c| *c).await.is_err() {
            // The token was collected without being cancelled: never fire.
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        biased;
        _ = cancelled => NativeResponse { aborted: true, ..Default::default() },
        r = work => r,
    }
}

/// Per-call overrides (`timeout` in seconds), checked by the core against the options' ranges.
fn request_options(timeout: Option<f64>, max_retries: Option<f64>) -> std::result::Result<RequestOptions, CoreError> {
    Ok(RequestOptions {
        timeout: timeout.map(|s| options::duration_value("timeout", s)).transpose()?,
        max_retries: max_retries.map(|n| whole("max_retries", n).and_then(|n| options::int_value("max_retries", n))).transpose()?,
    })
}

fn parse_args(args: &str) -> std::result::Result<Map<String, Value>, CoreError> {
    if args.is_empty() {
        return Ok(Map::new());
    }
    // The core's reader of a binding's JSON text (a parameter of 128 levels inside the object parses;
    // the core's validation then names a deeper one).
    match parse_json_text(args, "params") {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(CoreError::validation("params", "must be an object of named parameters").with_rule("type")),
        Err(e) => Err(e),
    }
}

/// The result for JavaScript, and whether JavaScript must still check it.
///
/// For the kinds whose result is the whole body (the `_` arm of the core's
/// `RawResponse::decode`: pages, credits, admin objects and lists) the body
/// goes to JavaScript as it came: as a tape when large (encoding it is the
/// check), else as text that V8's `JSON.parse` checks anyway; only when that
/// fails does `checkResult` run the core's own decoding (empty bodies,
/// `APIResponseError`). That saves a second full parse of every page. Other
/// kinds get the core's decoding here.
fn result_body(op: &Operation, raw: &RawResponse) -> std::result::Result<(Body, bool), CoreError> {
    if matches!(op.result, ResultKind::Page(_) | ResultKind::EventPage | ResultKind::Credits | ResultKind::Object(_) | ResultKind::List(_))
    {
        if let Some(tape) = Body::tape(&raw.data, TAPE_MIN) {
            return Ok((tape, false));
        }
        if let Ok(text) = std::str::from_utf8(&raw.data) {
            return Ok((Body::Text(JsonText(text.to_owned())), true));
        }
    }
    decoded_text(op, raw).map(|t| (Body::of_text(t, TAPE_MIN), false))
}

/// The body of an escape-hatch response for `JSON.parse` (or as a tape),
/// exactly as received: checked to be JSON (else the core's
/// `APIResponseError`) but not re-serialized, since a parse and print through
/// `serde_json::Value` can change a number's last digit and key order;
/// `null` when empty.
fn raw_body(raw: &RawResponse) -> std::result::Result<Body, CoreError> {
    if raw.data.is_empty() {
        return Ok(Body::Text(JsonText("null".into())));
    }
    if let Some(tape) = Body::tape(&raw.data, TAPE_MIN) {
        return Ok(tape);
    }
    match (serde_json::from_slice::<&RawValue>(&raw.data), std::str::from_utf8(&raw.data)) {
        (Ok(_), Ok(text)) => Ok(Body::Text(JsonText(text.to_owned()))),
        // The core's error for the body (a JSON error, or invalid UTF-8).
        _ => raw.json().map(|v| Body::Text(JsonText(v.to_string()))),
    }
}

/// The decoded result as JSON text, with the core's decoding rules (`data`
/// unwrapped, empty bodies, decode errors). Tries a `RawValue` first so no
/// `Value` tree is built; anything unusual goes through `Value`.
fn decoded_text(op: &Operation, raw: &RawResponse) -> std::result::Result<String, CoreError> {
    if !matches!(op.result, ResultKind::Empty) {
        if let Ok(v) = raw.decode::<Box<RawValue>>(op.result) {
            return Ok(v.get().to_owned());
        }
    }
    Ok(raw.decode::<Value>(op.result)?.to_string())
}

fn test_panic(what: &str) -> NativeResponse {
    panic!("test panic ({what})")
}

fn operation(op: u32) -> Result<&'static Operation> {
    OPERATIONS.get(op as usize).copied().ok_or_else(|| napi::Error::from_reason(format!("no operation #{op}")))
}

#[derive(Clone)]
enum AnyClient {
    Teams(Client),
    Admin(AdminClient),
}

impl AnyClient {
    fn caller(&self) -> &Caller {
        match self {
            AnyClient::Teams(c) => c.caller(),
            AnyClient::Admin(c) => c.caller(),
        }
    }

    fn with_own_pool(&self) -> std::result::Result<AnyClient, CoreError> {
        Ok(match self {
            AnyClient::Teams(c) => AnyClient::Teams(c.with_own_pool()?),
            AnyClient::Admin(c) => AnyClient::Admin(c.with_own_pool()?),
        })
    }
}

/// One `Client` or `AdminClient` of the core, and the channel its calls finish through.
#[napi]
pub struct NativeClient {
    client: AnyClient,
    done: Arc<Completer>,
    /// This thread's driver's handle of the completion callback (`local.rs`), if calls run on this thread.
    local: Option<Local>,
    /// For calls started while this thread already has several in flight: the
    /// same client (credentials, options, quota pacer) with a connection pool
    /// of its own, run on the shared worker threads, so that many concurrent
    /// calls spread over the CPUs. Built on first need.
    offload: std::sync::OnceLock<Option<AnyClient>>,
}

/// A client of the Teams API (`api == "teams"`) or the admin API (`"admin"`),
/// or the `ValidationError` of its options. Every call of the client finishes
/// by calling `onComplete(id, status, body, headers, requestId, retriesTaken, flags, error)`.
#[napi(catch_unwind)]
pub fn create_client(
    api: String,
    values: OptionValuesJs,
    #[napi(
        ts_arg_type = "(id: number, status: number, body: string | null, headers: string | null, requestId: string | null, retriesTaken: number, flags: number, error: ErrorRecord | null) => void"
    )]
    on_complete: Function<CompletionArgs, ()>,
) -> Result<Either<NativeClient, ErrorRecord>> {
    let raw = on_complete.value();
    let local = crate::local::register(raw.env, raw.value);
    let done = on_complete.build_threadsafe_function::<CompletionArgs>().callee_handled::<false>().weak::<true>().build()?;
    Ok(match catch_panic_sync(|| build_client(&api, values)) {
        Ok(client) => Either::A(NativeClient { client, done: Arc::new(done), local, offload: Default::default() }),
        Err(e) => Either::B((&e).into()),
    })
}

/// The core's client for `api`, its options checked by the core (`from_values`).
fn build_client(api: &str, values: OptionValuesJs) -> std::result::Result<AnyClient, CoreError> {
    let v = values.values()?;
    match api {
        "teams" => Client::new(ClientOptions::from_values(&v)?).map(AnyClient::Teams),
        "admin" => AdminClient::new(AdminClientOptions::from_values(&v)?).map(AnyClient::Admin),
        other => Err(CoreError::validation("api", format!("unknown API {other:?}"))),
    }
}

impl NativeClient {
    fn caller(&self) -> &Caller {
        self.client.caller()
    }

    /// Where the next call runs: on this thread while it has few calls in
    /// flight (lowest latency: no thread hand-off), else on the worker threads
    /// (throughput: the HTTP work of many calls spreads over the CPUs, and this
    /// thread keeps to JavaScript). The client to use and the driver number if local.
    fn route(&self) -> (&AnyClient, Option<Local>) {
        match self.local {
            Some(n) if !crate::local::busy() => (&self.client, Some(n)),
            Some(n) => match self.offload.get_or_init(|| self.client.with_own_pool().ok()) {
                Some(offload) => (offload, None),
                None => (&self.client, Some(n)),
            },
            None => (&self.client, None),
        }
    }
}

#[napi]
impl NativeClient {
    /// Which API this client talks to: `"teams"` or `"admin"`.
    #[napi(getter, catch_unwind)]
    pub fn api(&self) -> &'static str {
        match &self.client {
            AnyClient::Teams(_) => "teams",
            AnyClient::Admin(_) => "admin",
        }
    }

    /// Whether calls run on this Node thread (`local.rs`) rather than on the shared worker threads.
    #[napi(getter, catch_unwind)]
    pub fn on_node_thread(&self) -> bool {
        self.local.is_some()
    }

    /// The base URL, without a trailing slash.
    #[napi(getter, catch_unwind)]
    pub fn base_url(&self) -> String {
        match &self.client {
            AnyClient::Teams(c) => c.base_url().to_owned(),
            AnyClient::Admin(c) => c.base_url().to_owned(),
        }
    }

    /// The team of a Teams client (empty for the admin client).
    #[napi(getter, catch_unwind)]
    pub fn team_id(&self) -> String {
        match &self.client {
            AnyClient::Teams(c) => c.team_id().to_owned(),
            AnyClient::Admin(_) => String::new(),
        }
    }

    /// Starts operation `op` (its index in `operationTable()`) with `args`, the
    /// JSON text of the arguments keyed by wire names; `onComplete` receives
    /// the outcome with this `id` (API errors in `error`, for `errors.js` to raise).
    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &self,
        id: u32,
        op: u32,
        args: String,
        timeout: Option<f64>,
        max_retries: Option<f64>,
        cancel: Option<&CancelToken>,
    ) -> Result<()> {
        let op = operation(op)?;
        let (client, local) = self.route();
        let caller = client.caller().clone();
        let rx = cancel.map(|c| c.tx.subscribe());
        let work = Box::pin(async move {
            let run = async {
                let opts = request_options(timeout, max_retries)?;
                let caller = if opts == RequestOptions::default() { caller } else { caller.with_options(opts) };
                let raw = caller.call(op, parse_args(&args)?).await?;
                let (body, unchecked) = result_body(op, &raw)?;
                let mut response = NativeResponse::ok(&raw, body);
                response.unchecked = unchecked;
                Ok::<_, CoreError>(response)
            };
            run.await.unwrap_or_else(|e| NativeResponse::failed(&e))
        });
        run_and_complete(&self.done, local, id, cancellable(rx, work));
        Ok(())
    }

    /// The core's decoding of a body `JSON.parse` refused (see `unchecked`):
    /// the result in `body`, or the `APIResponseError` in `error`.
    #[napi(catch_unwind)]
    pub fn check_result(&self, op: u32, status: u32, request_id: Option<String>, body: String) -> Result<CheckedResult> {
        let op = operation(op)?;
        let raw = RawResponse {
            status: u16::try_from(status).unwrap_or(200),
            headers: reqwest::header::HeaderMap::new(),
            request_id,
            retries_taken: 0,
            data: bytes::Bytes::from(body),
        };
        Ok(match decoded_text(op, &raw) {
            Ok(text) => CheckedResult { body: Some(text), error: None },
            Err(e) => CheckedResult { body: None, error: Some((&e).into()) },
        })
    }

    /// A paginator over every page of list operation `op`.
    #[napi(catch_unwind)]
    pub fn paginate(&self, op: u32, args: String, timeout: Option<f64>, max_retries: Option<f64>) -> Result<NativePaginator> {
        let op = operation(op)?;
        let state = request_options(timeout, max_retries).and_then(|opts| {
            let caller = self.caller().with_options(opts);
            Paginator::new(caller, op, parse_args(&args)?)
        });
        Ok(NativePaginator {
            done: self.done.clone(),
            local: self.local,
            state: Arc::new(Mutex::new(match state {
                Ok(p) => PagerState::Ready(p),
                Err(e) => PagerState::Failed(Some(e)),
            })),
        })
    }

    /// The escape hatch: `method path` with `query` (JSON text of an object)
    /// and `body` (JSON text), parsed and encoded by the core
    /// (`escape::RawRequest`); the same auth, retries, errors and logging.
    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn request(
        &self,
        id: u32,
        method: String,
        path: String,
        query: Option<String>,
        body: Option<String>,
        timeout: Option<f64>,
        max_retries: Option<f64>,
        cancel: Option<&CancelToken>,
    ) -> Result<()> {
        let (client, local) = self.route();
        let client = client.clone();
        let rx = cancel.map(|c| c.tx.subscribe());
        let work = Box::pin(async move {
            let run = async {
                let opts = request_options(timeout, max_retries)?;
                let req = RawRequest::from_text(&method, &path, query.as_deref(), body.as_deref())?;
                let raw = match &client {
                    AnyClient::Teams(c) => c.with_options(opts).send_raw(&req).await?,
                    AnyClient::Admin(c) => c.with_options(opts).send_raw(&req).await?,
                };
                Ok::<_, CoreError>(NativeResponse::ok(&raw, raw_body(&raw)?))
            };
            run.await.unwrap_or_else(|e| NativeResponse::failed(&e))
        });
        run_and_complete(&self.done, local, id, cancellable(rx, work));
        Ok(())
    }

    /// For the package's own tests: panics synchronously in this entry point
    /// (`place == "sync"`), or inside the call's task on whichever path calls
    /// take, which must come back as an `InternalError` either way.
    #[napi(catch_unwind, js_name = "__panicForTests")]
    pub fn panic_for_tests(&self, id: u32, place: String) {
        if place == "sync" {
            test_panic(&place);
        }
        let (_, local) = self.route();
        run_and_complete(&self.done, local, id, async move { test_panic(&place) });
    }

    /// How many calls each paced quota has left, as JSON text: the core's
    /// serialised `QuotaStatus` list (durations in seconds).
    #[napi(catch_unwind)]
    pub fn quota_status(&self) -> String {
        let list = match &self.client {
            AnyClient::Teams(c) => c.quota_status(),
            AnyClient::Admin(_) => Vec::new(),
        };
        serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
    }
}

enum PagerState {
    Ready(Paginator),
    /// The arguments were refused; the error is raised by the first `nextPage`.
    Failed(Option<CoreError>),
}

/// Walks every page of one list call (the core's `Paginator`).
#[napi]
pub struct NativePaginator {
    state: Arc<Mutex<PagerState>>,
    done: Arc<Completer>,
    local: Option<Local>,
}

#[napi]
impl NativePaginator {
    /// Fetches the next page; `onComplete` receives its items as JSON text in
    /// `body`, or `done` at the end.
    #[napi(catch_unwind)]
    pub fn next_page(&self, id: u32, cancel: Option<&CancelToken>) {
        let state = self.state.clone();
        let rx = cancel.map(|c| c.tx.subscribe());
        let work = Box::pin(async move {
            let mut guard = state.lock().await;
            let pager = match &mut *guard {
                PagerState::Ready(p) => p,
                PagerState::Failed(e) => {
                    return match e.take() {
                        Some(e) => NativeResponse::failed(&e),
                        None => NativeResponse { done: true, ..Default::default() },
                    }
                }
            };
            match pager.next_page::<Box<RawValue>>().await {
                Ok(Some(items)) => {
                    let len = items.iter().map(|i| i.get().len() + 1).sum::<usize>();
                    let mut body = String::with_capacity(len + 2);
                    body.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            body.push(',');
                        }
                        body.push_str(item.get());
                    }
                    body.push(']');
                    NativeResponse { status: 200, body: Some(Body::of_text(body, TAPE_MIN)), ..Default::default() }
                }
                Ok(None) => NativeResponse { done: true, ..Default::default() },
                Err(e) => NativeResponse::failed(&e),
            }
        });
        run_and_complete(&self.done, self.local, id, cancellable(rx, work));
    }
}
