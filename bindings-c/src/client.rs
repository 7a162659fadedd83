//! Clients, the generic call path every operation funnels into, the raw
//! escape hatch, quota status and auto-paginating iterators.

use std::collections::VecDeque;
use std::ffi::{c_char, c_int};
use std::sync::{Arc, Mutex, PoisonError};

use parsec_teams::escape::RawRequest;
use parsec_teams::pagination::Paginator;
use parsec_teams::runtime::{fork_generation, ForkLocal};
use parsec_teams::spec::{find_operation, Api, Operation};
use parsec_teams::{AdminClient, AdminClientOptions, Caller, Client, ClientOptions, Error, OptionValues, RawResponse, Result};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::ffi::{
    block_on, clear_out, free_box, guard, guard_status, hold, non_null, opt_str, opt_string, parse_params, release, req_str, take_options,
    write_json, write_text,
};
use crate::status::{pt_error, pt_status};

/// The version of the options structs this header describes; set by
/// `pt_client_options_init` / `pt_admin_client_options_init`. Version 2 added
/// `proxy`, version 3 `pool_idle_timeout_ms`, each at the end of both structs.
/// A struct of an older version (from a program compiled against an older
/// header) is still read, up to the fields it has; a newer one is refused.
pub const PT_OPTIONS_VERSION: u32 = 3;

/// What the `User-Agent` says about the caller's language: `c`, the C
/// standard the header requires and the C compiler of the library's build
/// (`c C99; gcc 12.2.0`), as `build.rs` found it.
const LANGUAGE: &str = concat!("c C99; ", env!("PARSEC_TEAMS_C_COMPILER"));

/// Options of `pt_client_new`. Initialise with `pt_client_options_init`, then
/// set what you need. Strings are copied: they may be freed once
/// `pt_client_new` returns.
#[repr(C)]
pub struct pt_client_options {
    /// Must be `PT_OPTIONS_VERSION` (set by `pt_client_options_init`).
    pub version: u32,
    /// Bearer key `tapi_<team>.<secret>`; NULL: env `PARSEC_API_KEY`.
    /// Never printed, logged or put in an error.
    pub api_key: *const c_char,
    /// The `{team_id}` path segment; NULL: env `PARSEC_TEAM_ID`, else the part
    /// of the key between `tapi_` and `.`.
    pub team_id: *const c_char,
    /// NULL: env `PARSEC_BASE_URL`, else `https://api.parsec.app`. Plain
    /// `http://` only for loopback hosts.
    pub base_url: *const c_char,
    /// Timeout of each attempt in milliseconds, more than 0 and at most
    /// 86400000; negative: the default (30000).
    pub timeout_ms: i64,
    /// Retries of retryable failures, 0 (never retry) to 100; negative: the default (2).
    pub max_retries: c_int,
    /// The longest `Retry-After` the client sleeps through, in milliseconds,
    /// 0 to 86400000; negative: the default (60000). A longer one fails the
    /// call at once with `PT_ERR_RATE_LIMITED`.
    pub max_retry_wait_ms: i64,
    /// Requests per window of each paced quota, 1 to 1000000; negative: the default (50).
    pub quota_limit: c_int,
    /// Length of the quota window in milliseconds, more than 0 and at most
    /// 86400000; negative: the default (300000, 5 minutes).
    pub quota_window_ms: i64,
    /// Client-side quota pacing: < 0: default (on), 0: off, > 0: on.
    pub quota_pacing: c_int,
    /// An explicit proxy URL (`http://` or `https://`, may carry
    /// `user:password@`) for every request; NULL: none given. A loopback base
    /// URL never goes through any proxy; an `https` base URL otherwise honours
    /// `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY`. A bad value: `PT_ERR_VALIDATION`
    /// with field `"proxy"`. (Added in `PT_OPTIONS_VERSION` 2.)
    pub proxy: *const c_char,
    /// Idle pooled connections are closed after this many milliseconds, more
    /// than 0 and at most 86400000; negative: the default (20000). (Added in
    /// `PT_OPTIONS_VERSION` 3.)
    pub pool_idle_timeout_ms: i64,
}

/// Options of `pt_admin_client_new`. Initialise with
/// `pt_admin_client_options_init`. Strings are copied.
#[repr(C)]
pub struct pt_admin_client_options {
    /// Must be `PT_OPTIONS_VERSION` (set by `pt_admin_client_options_init`).
    pub version: u32,
    /// Base URL of the team-administration API; NULL: env
    /// `PARSEC_ADMIN_BASE_URL` (then required).
    pub base_url: *const c_char,
    /// Sent as `Authorization: Bearer <token>`; NULL: env `PARSEC_ADMIN_TOKEN`.
    pub token: *const c_char,
    /// The rules of `pt_client_options.timeout_ms`.
    pub timeout_ms: i64,
    /// The rules of `pt_client_options.max_retries`.
    pub max_retries: c_int,
    /// The rules of `pt_client_options.max_retry_wait_ms`.
    pub max_retry_wait_ms: i64,
    /// An explicit proxy URL; NULL: none given. The rules of
    /// `pt_client_options.proxy`. (Added in `PT_OPTIONS_VERSION` 2.)
    pub proxy: *const c_char,
    /// The rules of `pt_client_options.pool_idle_timeout_ms`. (Added in
    /// `PT_OPTIONS_VERSION` 3.)
    pub pool_idle_timeout_ms: i64,
}

/// A client of the Parsec for Teams API. Opaque. Thread-safe: one client may
/// be shared by any number of threads, each call blocking only its own thread;
/// calls share one connection pool and one quota pacer. Each call holds a
/// reference on the client, so `pt_client_free` may run while calls started
/// earlier are still running: they finish normally and the client goes away
/// when the last one returns. After `fork()`, the child's calls on a client
/// made by the parent use a connection pool of the child's own.
pub struct pt_client {
    inner: Client,
    home: Home,
}

/// A client of the team-administration API. Opaque; thread-safe, reference
/// counted and usable after `fork()` like `pt_client`.
pub struct pt_admin_client {
    inner: AdminClient,
    home: Home,
}

/// The process a client was made in and, in a forked child, its caller with
/// a connection pool of the child's own: a pooled connection of the parent is
/// served by the parent's runtime threads, which do not exist in the child.
struct Home {
    generation: u64,
    forked: ForkLocal<Caller>,
}

impl Home {
    fn new() -> Home {
        Home { generation: fork_generation(), forked: ForkLocal::new() }
    }

    fn caller<'a>(&'a self, own: &'a Caller) -> Result<&'a Caller> {
        if fork_generation() == self.generation {
            Ok(own)
        } else {
            self.forked.get_or_try_init(|| own.with_own_pool())
        }
    }
}

impl pt_client {
    fn caller(&self) -> Result<&Caller> {
        self.home.caller(self.inner.caller())
    }
}

impl pt_admin_client {
    fn caller(&self) -> Result<&Caller> {
        self.home.caller(self.inner.caller())
    }
}

/// An auto-paginating walk over every item of a list operation. Opaque. It
/// keeps its client alive. Calls of `pt_iter_next` on one iterator from
/// several threads are serialized (each item comes out once). It belongs to
/// the process that made it: in a `fork()`ed child it fails at once.
pub struct pt_iter {
    generation: u64,
    state: Mutex<IterState>,
}

struct IterState {
    pages: Paginator,
    buffer: VecDeque<Box<RawValue>>,
    done: bool,
}

/// Which fields an options struct of `version` has: 1 (the first), 2 (with
/// `proxy`) or 3 (with `pool_idle_timeout_ms`). Another value is refused.
fn check_version(version: u32) -> Result<u32> {
    if (1..=PT_OPTIONS_VERSION).contains(&version) {
        Ok(version)
    } else {
        Err(Error::validation(
            "options.version",
            format!(
                "must be 1 to PT_OPTIONS_VERSION ({PT_OPTIONS_VERSION}); initialise the options with pt_client_options_init / \
                 pt_admin_client_options_init (got {version}, from a newer parsec_teams.h or no initialisation)"
            ),
        )
        .with_rule("range"))
    }
}

/// A number of milliseconds in the core's unit (seconds); negative: not set.
fn millis(v: i64) -> Option<f64> {
    (v >= 0).then(|| v as f64 / 1000.0)
}

/// A whole number; negative: not set.
fn whole(v: c_int) -> Option<i64> {
    (v >= 0).then_some(i64::from(v))
}

/// Reads one field of an options struct through a raw pointer, never making
/// a reference to the whole struct: an older caller's struct is shorter.
macro_rules! field {
    ($o:expr, $f:ident) => {
        // SAFETY: `$o` points to a readable struct of a version that has this field (checked by the caller).
        unsafe { std::ptr::addr_of!((*$o).$f).read() }
    };
}

/// Fills `options` with the defaults: every string NULL (environment, then
/// default), every number "default", `version = PT_OPTIONS_VERSION`. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn pt_client_options_init(options: *mut pt_client_options) {
    if options.is_null() {
        return;
    }
    // SAFETY: a non-NULL pointer points to a writable struct (header contract).
    unsafe {
        options.write(pt_client_options {
            version: PT_OPTIONS_VERSION,
            api_key: std::ptr::null(),
            team_id: std::ptr::null(),
            base_url: std::ptr::null(),
            timeout_ms: -1,
            max_retries: -1,
            max_retry_wait_ms: -1,
            quota_limit: -1,
            quota_window_ms: -1,
            quota_pacing: -1,
            proxy: std::ptr::null(),
            pool_idle_timeout_ms: -1,
        })
    };
}

/// Fills `options` with the defaults (see `pt_client_options_init`). NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn pt_admin_client_options_init(options: *mut pt_admin_client_options) {
    if options.is_null() {
        return;
    }
    // SAFETY: as above.
    unsafe {
        options.write(pt_admin_client_options {
            version: PT_OPTIONS_VERSION,
            base_url: std::ptr::null(),
            token: std::ptr::null(),
            timeout_ms: -1,
            max_retries: -1,
            max_retry_wait_ms: -1,
            proxy: std::ptr::null(),
            pool_idle_timeout_ms: -1,
        })
    };
}

/// The fields both options structs share (the transport options), read into
/// `$v` up to the fields `$version` has.
macro_rules! transport {
    ($o:expr, $version:expr, $v:expr) => {
        $v.timeout = millis(field!($o, timeout_ms));
        $v.max_retries = whole(field!($o, max_retries));
        $v.max_retry_wait = millis(field!($o, max_retry_wait_ms));
        if $version >= 2 {
            let proxy = field!($o, proxy);
            // SAFETY: NULL or NUL-terminated (header contract).
            $v.proxy = unsafe { opt_string(proxy, "proxy") }?;
        }
        if $version >= 3 {
            $v.pool_idle_timeout = millis(field!($o, pool_idle_timeout_ms));
        }
    };
}

/// The values of a C options struct, passed to the core unchanged but for the
/// unit (milliseconds to seconds): the core checks them (one rule set for every
/// language) and fills in what is not set from the environment and its defaults.
unsafe fn client_options(o: *const pt_client_options) -> Result<ClientOptions> {
    let mut v = OptionValues::default();
    v.language = Some(LANGUAGE.to_owned());
    if !o.is_null() {
        let version = check_version(field!(o, version))?;
        let (api_key, team_id, base_url) = (field!(o, api_key), field!(o, team_id), field!(o, base_url));
        // SAFETY: string fields are NULL or NUL-terminated (header contract).
        unsafe {
            v.api_key = opt_string(api_key, "api_key")?;
            v.team_id = opt_string(team_id, "team_id")?;
            v.base_url = opt_string(base_url, "base_url")?;
        }
        v.quota_limit = whole(field!(o, quota_limit));
        v.quota_window = millis(field!(o, quota_window_ms));
        let pacing = field!(o, quota_pacing);
        v.quota_pacing = (pacing >= 0).then_some(pacing > 0);
        transport!(o, version, v);
    }
    ClientOptions::from_values(&v)
}

/// The values of a C admin options struct (see [`client_options`]).
unsafe fn admin_options(o: *const pt_admin_client_options) -> Result<AdminClientOptions> {
    let mut v = OptionValues::default();
    v.language = Some(LANGUAGE.to_owned());
    if !o.is_null() {
        let version = check_version(field!(o, version))?;
        let (base_url, token) = (field!(o, base_url), field!(o, token));
        // SAFETY: string fields are NULL or NUL-terminated.
        unsafe {
            v.base_url = opt_string(base_url, "base_url")?;
            v.token = opt_string(token, "token")?;
        }
        transport!(o, version, v);
    }
    AdminClientOptions::from_values(&v)
}

/// Creates a client. `options` may be NULL (everything from the environment).
/// Returns NULL on failure (`PT_ERR_VALIDATION`: no key, a bad base URL, a
/// wrong `version`...) and stores the details in `*out_error` when
/// `out_error` is not NULL. Free the client with `pt_client_free`.
#[no_mangle]
pub unsafe extern "C" fn pt_client_new(options: *const pt_client_options, out_error: *mut *mut pt_error) -> *mut pt_client {
    guard(out_error, || {
        parsec_teams::env::init_stderr_logging();
        // SAFETY: header contract for `options`.
        let opts = unsafe { client_options(options) }?;
        let client = pt_client { inner: Client::new(opts)?, home: Home::new() };
        Ok(Arc::into_raw(Arc::new(client)).cast_mut())
    })
    .unwrap_or(std::ptr::null_mut())
}

/// Frees a client. NULL is fine. Calls that already began on other threads
/// finish normally (each holds the client until it returns); no call may
/// begin after this one, and the pointer may not be used afterwards
/// (iterators made from the client stay valid).
#[no_mangle]
pub unsafe extern "C" fn pt_client_free(client: *mut pt_client) {
    // SAFETY: `client` came from `pt_client_new` (header contract).
    unsafe { release(client) }
}

/// Creates a client of the team-administration API. `options` may be NULL.
/// Returns NULL on failure, with the details in `*out_error`.
#[no_mangle]
pub unsafe extern "C" fn pt_admin_client_new(
    options: *const pt_admin_client_options,
    out_error: *mut *mut pt_error,
) -> *mut pt_admin_client {
    guard(out_error, || {
        parsec_teams::env::init_stderr_logging();
        // SAFETY: header contract for `options`.
        let opts = unsafe { admin_options(options) }?;
        let client = pt_admin_client { inner: AdminClient::new(opts)?, home: Home::new() };
        Ok(Arc::into_raw(Arc::new(client)).cast_mut())
    })
    .unwrap_or(std::ptr::null_mut())
}

/// Frees an admin client. NULL is fine. The rules of `pt_client_free`: calls
/// already running finish normally; none may begin afterwards.
#[no_mangle]
pub unsafe extern "C" fn pt_admin_client_free(client: *mut pt_admin_client) {
    // SAFETY: `client` came from `pt_admin_client_new`.
    unsafe { release(client) }
}

// ---------------------------------------------------------------------------
// The generic call path
// ---------------------------------------------------------------------------

fn lookup(api: Api, resource: &str, name: &str) -> Result<&'static Operation> {
    find_operation(api, resource, name)
        .ok_or_else(|| Error::validation("operation", format!("{resource}.{name} is not an operation of the {api:?} API")))
}

fn lookup_qualified(api: Api, qualified: &str) -> Result<&'static Operation> {
    let (resource, name) = qualified.split_once('.').ok_or_else(|| {
        Error::validation("operation", format!("expected \"resource.method\" (e.g. \"members.list\"), got {qualified:?}"))
    })?;
    lookup(api, resource, name)
}

/// The one generic path: parameters in, the core's `call_json`, JSON out.
unsafe fn run(caller: &Caller, op: &'static Operation, params_json: *const c_char, out_json: *mut *mut c_char) -> Result<()> {
    // SAFETY: header contract for `params_json`.
    let mut args = unsafe { parse_params(params_json) }?;
    let response = match take_options(&mut args)? {
        Some(o) => block_on(caller.with_options(o).call(op, args))?,
        None => block_on(caller.call(op, args))?,
    }?;
    // The core's decoding (what `call_json` does), into raw JSON text instead
    // of a `Value` tree: the result is handed over as text anyway.
    let data: Box<RawValue> = response.decode(op.result)?;
    write_text(out_json, data.get())
}

/// Entry of every generated Teams operation (`pt_<resource>_<method>`).
#[doc(hidden)]
pub unsafe fn call_teams(
    resource: &str,
    name: &str,
    client: *const pt_client,
    params_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut pt_error,
) -> pt_status {
    clear_out(out_json);
    guard_status(out_error, || {
        // SAFETY: header contract for every pointer.
        unsafe {
            let client = hold(client, "client")?;
            non_null(out_json, "out_json")?;
            run(client.caller()?, lookup(Api::Teams, resource, name)?, params_json, out_json)
        }
    })
}

/// Entry of every generated admin operation (`pt_admin_<resource>_<method>`).
#[doc(hidden)]
pub unsafe fn call_admin(
    resource: &str,
    name: &str,
    client: *const pt_admin_client,
    params_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut pt_error,
) -> pt_status {
    clear_out(out_json);
    guard_status(out_error, || {
        // SAFETY: header contract for every pointer.
        unsafe {
            let client = hold(client, "client")?;
            non_null(out_json, "out_json")?;
            run(client.caller()?, lookup(Api::Admin, resource, name)?, params_json, out_json)
        }
    })
}

/// Calls any operation of the Teams API by name (`"members.list"`,
/// `"guest_access.kick_guest"`...), exactly like its `pt_<resource>_<method>`
/// function, so operations added to the core work without a new symbol.
#[no_mangle]
pub unsafe extern "C" fn pt_call(
    client: *const pt_client,
    operation: *const c_char,
    params_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut pt_error,
) -> pt_status {
    clear_out(out_json);
    guard_status(out_error, || {
        // SAFETY: header contract for every pointer.
        unsafe {
            let client = hold(client, "client")?;
            let op = lookup_qualified(Api::Teams, req_str(operation, "operation")?)?;
            non_null(out_json, "out_json")?;
            run(client.caller()?, op, params_json, out_json)
        }
    })
}

/// Calls any operation of the team-administration API by name (`"teams.list"`).
#[no_mangle]
pub unsafe extern "C" fn pt_admin_call(
    client: *const pt_admin_client,
    operation: *const c_char,
    params_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut pt_error,
) -> pt_status {
    clear_out(out_json);
    guard_status(out_error, || {
        // SAFETY: header contract for every pointer.
        unsafe {
            let client = hold(client, "client")?;
            let op = lookup_qualified(Api::Admin, req_str(operation, "operation")?)?;
            non_null(out_json, "out_json")?;
            run(client.caller()?, op, params_json, out_json)
        }
    })
}

// ---------------------------------------------------------------------------
// The escape hatch
// ---------------------------------------------------------------------------

/// The escape hatch's request, parsed and encoded by the core
/// (`parsec_teams::escape`): the method in any case, the query as the typed
/// operations encode theirs (lists comma-separated), the body as JSON.
unsafe fn raw_request(
    method: *const c_char,
    path: *const c_char,
    query_json: *const c_char,
    body_json: *const c_char,
) -> Result<RawRequest> {
    // SAFETY: header contract for every pointer.
    unsafe {
        RawRequest::from_text(
            req_str(method, "method")?,
            req_str(path, "path")?,
            opt_str(query_json, "query")?,
            opt_str(body_json, "body")?,
        )
    }
}

fn raw_result(response: RawResponse, out_json: *mut *mut c_char) -> Result<()> {
    write_json(out_json, &response.json()?)
}

/// The escape hatch for endpoints this SDK does not cover yet: same auth,
/// retries, errors and logging. `method` is `"GET"`, `"POST"`, `"PUT"` or
/// `"DELETE"` in any case; `{team_id}` in `path` is filled in; `query_json`
/// (NULL or a JSON object of strings, numbers, booleans, nulls (left out) and
/// lists of them, a list sent as one comma-separated value: `a=x,y`) becomes
/// the query string; `body_json` (NULL or any JSON) the body. Errors name the
/// fields `method`, `query` (`query.<key>`) and `body`. `*out_json` gets the
/// response body as JSON (`null` when empty).
#[no_mangle]
pub unsafe extern "C" fn pt_client_request(
    client: *const pt_client,
    method: *const c_char,
    path: *const c_char,
    query_json: *const c_char,
    body_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut pt_error,
) -> pt_status {
    clear_out(out_json);
    guard_status(out_error, || {
        // SAFETY: header contract for every pointer.
        let client = unsafe { hold(client, "client") }?;
        request_into(client.caller()?, method, path, query_json, body_json, out_json)
    })
}

/// The body of both escape hatches: parse the C strings, send through the
/// core's raw path, write the JSON result.
unsafe fn request_into(
    caller: &parsec_teams::Caller,
    method: *const c_char,
    path: *const c_char,
    query_json: *const c_char,
    body_json: *const c_char,
    out_json: *mut *mut c_char,
) -> parsec_teams::Result<()> {
    // SAFETY: header contract for every pointer.
    let req = unsafe { raw_request(method, path, query_json, body_json)? };
    non_null(out_json, "out_json")?;
    let response = block_on(caller.send_raw(&req))??;
    raw_result(response, out_json)
}

/// The escape hatch of the admin client (see `pt_client_request`).
#[no_mangle]
pub unsafe extern "C" fn pt_admin_client_request(
    client: *const pt_admin_client,
    method: *const c_char,
    path: *const c_char,
    query_json: *const c_char,
    body_json: *const c_char,
    out_json: *mut *mut c_char,
    out_error: *mut *mut pt_error,
) -> pt_status {
    clear_out(out_json);
    guard_status(out_error, || {
        // SAFETY: header contract for every pointer.
        let client = unsafe { hold(client, "client") }?;
        request_into(client.caller()?, method, path, query_json, body_json, out_json)
    })
}

// ---------------------------------------------------------------------------
// Quotas
// ---------------------------------------------------------------------------

/// How many calls each paced quota (`audit_log`, `invites_create`,
/// `invites_resend`) has left, as a JSON array of `{"name", "limit",
/// "remaining", "window", "refills_in", "blocked_for"}` (durations in seconds;
/// `refills_in` and `blocked_for` are null when not applicable). Sends nothing.
#[no_mangle]
pub unsafe extern "C" fn pt_quota_status(client: *const pt_client, out_json: *mut *mut c_char, out_error: *mut *mut pt_error) -> pt_status {
    clear_out(out_json);
    guard_status(out_error, || {
        // SAFETY: a non-NULL client came from `pt_client_new`.
        let client = unsafe { hold(client, "client") }?;
        non_null(out_json, "out_json")?;
        let list: Vec<Value> = client
            .inner
            .quota_status()
            .into_iter()
            .map(|q| {
                json!({
                    "name": q.name,
                    "limit": q.limit,
                    "remaining": q.remaining,
                    "window": q.window.as_secs_f64(),
                    "refills_in": q.refills_in.map(|d| d.as_secs_f64()),
                    "blocked_for": q.blocked_for.map(|d| d.as_secs_f64()),
                })
            })
            .collect();
        write_json(out_json, &Value::Array(list))
    })
}

// ---------------------------------------------------------------------------
// Iterators
// ---------------------------------------------------------------------------

/// Starts walking every item of a list operation of the Teams API
/// (`"members.list"`, `"audit_log.list_events"`...), page after page (offset
/// pages up to `count`; the audit log by `next_cursor`). `params_json` is as
/// for the operation (a missing `limit` of an offset list becomes 200;
/// `"_options"` applies to every page). Nothing is sent until `pt_iter_next`.
/// Free the iterator with `pt_iter_free`.
#[no_mangle]
pub unsafe extern "C" fn pt_iter_new(
    client: *const pt_client,
    operation: *const c_char,
    params_json: *const c_char,
    out_iter: *mut *mut pt_iter,
    out_error: *mut *mut pt_error,
) -> pt_status {
    clear_out(out_iter);
    guard_status(out_error, || {
        // SAFETY: header contract for every pointer.
        unsafe {
            let client = hold(client, "client")?;
            let op = lookup_qualified(Api::Teams, req_str(operation, "operation")?)?;
            non_null(out_iter, "out_iter")?;
            let mut args = parse_params(params_json)?;
            let caller = client.caller()?;
            let caller = match take_options(&mut args)? {
                Some(o) => caller.with_options(o),
                None => caller.clone(),
            };
            let pages = Paginator::new(caller, op, args)?;
            let state = Mutex::new(IterState { pages, buffer: VecDeque::new(), done: false });
            *out_iter = Box::into_raw(Box::new(pt_iter { generation: fork_generation(), state }));
            Ok(())
        }
    })
}

/// Stores the next item as a JSON object in `*out_item_json`, fetching the
/// next page when needed; at the end returns `PT_OK` with `*out_item_json`
/// set to NULL. After an error, calling again retries the same page.
/// Concurrent calls on one iterator are serialized: each waits for the one
/// before, and every item is returned exactly once. In a child process
/// (`fork()`) an iterator made by the parent fails at once with
/// `PT_ERR_VALIDATION` (field `"iter"`): make a new one in the child.
#[no_mangle]
pub unsafe extern "C" fn pt_iter_next(iter: *mut pt_iter, out_item_json: *mut *mut c_char, out_error: *mut *mut pt_error) -> pt_status {
    clear_out(out_item_json);
    guard_status(out_error, || {
        non_null(iter, "iter")?;
        non_null(out_item_json, "out_item_json")?;
        // SAFETY: a non-NULL iterator came from `pt_iter_new` and is not freed during the call.
        let it = unsafe { &*iter };
        if it.generation != fork_generation() {
            return Err(Error::validation(
                "iter",
                "was made in the parent process before fork(): its pages would come through the parent's connections; \
                 make a new iterator in this process (pt_iter_new)",
            ));
        }
        // A panic while the lock was held left the state as the last completed step.
        let mut guard = it.state.lock().unwrap_or_else(PoisonError::into_inner);
        let it = &mut *guard;
        loop {
            if let Some(item) = it.buffer.pop_front() {
                return write_text(out_item_json, item.get());
            }
            if it.done {
                return Ok(());
            }
            match block_on(it.pages.next_page::<Box<RawValue>>())?? {
                Some(items) => it.buffer.extend(items),
                None => it.done = true,
            }
        }
    })
}

/// Frees an iterator. NULL is fine. No `pt_iter_next` may be running on it.
#[no_mangle]
pub unsafe extern "C" fn pt_iter_free(iter: *mut pt_iter) {
    // SAFETY: `iter` came from `pt_iter_new`.
    unsafe { free_box(iter) }
}
