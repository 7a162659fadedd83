//! The blocking calls' direct path: plain C functions beside uniffi's, bound
//! on the JVM by JNA's direct mapping with only numbers and byte arrays
//! (`Support.kt`, `Direct`).
//!
//! Why: every call through uniffi's Kotlin makes JNA build `Structure`s (a call
//! status per call, one per `RustBuffer` returned), each on JNA-tracked
//! `Memory` freed by a cleaner thread. Measured on this package, a uniffi
//! method that only returns a short string cost 30–60 µs of CPU on the JVM;
//! a blocking `members.get` made four such crossings. Here a call is one JNA
//! call taking primitives and arrays, a copy of the result into a Java array
//! and one call to free it. The objects, the pager, the suspend calls, the
//! mock and the errors' classes stay uniffi's.
//!
//! A blocking call runs on the calling thread, on a current-thread tokio
//! runtime of that thread's own, with a connection of its own per client
//! (`Caller::with_own_connection`: same credentials, options and quota
//! pacer; one keep-alive HTTP/1.1 connection without reqwest's pool and
//! layers, or a pool of its own where a proxy may apply). The
//! request, the connection and the wait for the answer are then all on the
//! caller's thread: no hand-off to a worker and back, which cost two
//! wake-ups per call. Before a call that follows an idle spell (100 ms
//! without a call on the thread) the thread's runtime polls its I/O driver
//! once (`yield_now`), so a pooled connection the server closed while the
//! thread was idle is seen as closed before it could be picked.
//!
//! A suspend call goes the same direct way: [`parsec_teams_kt_call_async`]
//! starts it as a task on the shared runtime under a number the JVM chose,
//! and the task hands its result to the one JNA callback the JVM registered
//! ([`parsec_teams_kt_set_done`]) with that number. Cancelling the coroutine
//! calls [`parsec_teams_kt_cancel`], which aborts the task (and with it the
//! request). uniffi's future protocol instead polled through several
//! callbacks and `Structure`s per call.
//!
//! A client is reached by a number from [`NativeClient::direct_handle`], kept
//! in a table here: a stale or made-up number is an error, never a dangling
//! pointer. A result is a buffer this module allocates and
//! [`parsec_teams_kt_free`] frees:
//!
//! - byte 0: `0` a result, then the value `[status, request_id, retries_taken, data]`;
//! - byte 0: `1` an error, then an object of [`NativeError`]'s fields;
//!
//! each value in the encoding of [`crate::json`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use parsec_teams::error::catch_panic;
use parsec_teams::escape::RawRequest;
use parsec_teams::{Caller, Error};
use serde_json::Value;

use crate::json::Writer;
use crate::{NativeClient, NativeError, NativeResponse, Res};

/// The JVM's completion callback: (call number, result address, length).
type Done = extern "C" fn(i64, i64, i64);

static DONE: OnceLock<Done> = OnceLock::new();

/// The started suspend calls that can still be cancelled, by number.
fn started() -> &'static Mutex<HashMap<i64, tokio::task::AbortHandle>> {
    static STARTED: OnceLock<Mutex<HashMap<i64, tokio::task::AbortHandle>>> = OnceLock::new();
    STARTED.get_or_init(Default::default)
}

/// Starts `call` as task `id` on the shared runtime; its result goes to the
/// JVM's callback unless the call was cancelled first.
fn start(id: i64, call: impl Future<Output = parsec_teams::Result<NativeResponse>> + Send + 'static) -> Res<()> {
    let done = *DONE.get().ok_or_else(|| Error::from_panic(Box::new("the JVM's completion callback is not registered")))?;
    let rt = crate::runtime()?;
    // Held while spawning, so the task cannot finish (and look itself up)
    // before it is registered.
    let mut tasks = started().lock().unwrap_or_else(|p| p.into_inner());
    let task = rt.spawn(async move {
        let result = catch_panic(call).await.map_err(NativeError::from);
        let mut len = 0i64;
        let ptr = encode(result, &mut len);
        let waited = started().lock().unwrap_or_else(|p| p.into_inner()).remove(&id).is_some();
        if waited {
            done(id, ptr, len);
        } else {
            // SAFETY: just handed over, not given to anyone.
            unsafe { parsec_teams_kt_free(ptr, len) };
        }
    });
    tasks.insert(id, task.abort_handle());
    Ok(())
}

/// A calling thread's runtime and its clients' own connections.
struct Local {
    rt: tokio::runtime::Runtime,
    /// Per client number: the client (to drop entries of freed clients) and
    /// its caller with this thread's pool.
    callers: Vec<(u64, Weak<NativeClient>, Caller)>,
    /// When this thread's last call ended.
    last: Instant,
}

/// After this long without a call, the thread's I/O driver is polled once
/// before the next call (module docs): a server closes an idle connection
/// after seconds, not within a burst of calls, so back-to-back calls skip it.
const IDLE_CHECK: Duration = Duration::from_millis(100);

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Runs the call `f` makes with this thread's caller of `client` on this
/// thread's runtime (module docs).
fn on_this_thread<T, F>(handle: u64, client: &Arc<NativeClient>, f: impl FnOnce(Caller) -> Res<F>) -> Res<T>
where
    F: Future<Output = parsec_teams::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        // A thread of a runtime already: a coroutine resumed, by an unconfined
        // dispatcher, inside a suspend call's completion on one of the shared
        // runtime's workers. No runtime can be entered here, and a task
        // spawned from here would wait in this worker's own slot, so the
        // worker hands its other tasks to a new thread while this one waits.
        if rt.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return Err(Error::validation("thread", "a blocking call cannot run inside a single-threaded tokio runtime")
                .with_rule("blocking")
                .into());
        }
        let call = f(client.caller.clone())?;
        return tokio::task::block_in_place(|| rt.block_on(catch_panic(call))).map_err(NativeError::from);
    }
    LOCAL.with(|cell| {
        let mut cell = cell.borrow_mut();
        let local = match &mut *cell {
            Some(local) => local,
            empty => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::from_panic(Box::new(format!("could not start this thread's parsec-teams runtime: {e}"))))?;
                empty.insert(Local { rt, callers: Vec::new(), last: Instant::now() })
            }
        };
        let base = match local.callers.iter().find(|(h, _, _)| *h == handle) {
            Some((_, _, caller)) => caller.clone(),
            None => {
                local.callers.retain(|(_, client, _)| client.strong_count() > 0);
                let caller = client.caller.with_own_connection()?;
                local.callers.push((handle, Arc::downgrade(client), caller.clone()));
                caller
            }
        };
        let call = f(base)?;
        let idle = local.last.elapsed() >= IDLE_CHECK;
        let result = local.rt.block_on(catch_panic(async move {
            if idle {
                tokio::task::yield_now().await;
            }
            call.await
        }));
        local.last = Instant::now();
        result.map_err(NativeError::from)
    })
}

fn table() -> &'static RwLock<HashMap<u64, Arc<NativeClient>>> {
    static TABLE: OnceLock<RwLock<HashMap<u64, Arc<NativeClient>>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

/// Registers `client` for the direct calls; its number until [`release`].
pub(crate) fn register(client: Arc<NativeClient>) -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    table().write().unwrap_or_else(|p| p.into_inner()).insert(id, client);
    id
}

fn client(handle: u64) -> Res<Arc<NativeClient>> {
    let clients = table().read().unwrap_or_else(|p| p.into_inner());
    clients.get(&handle).cloned().ok_or_else(|| Error::validation("client", "is closed").with_rule("open").into())
}

/// The bytes `len` long at `ptr`, as text (`None` for a negative length).
///
/// # Safety
/// `ptr` is valid for `len` bytes when `len` > 0 (JNA passes a Java array's copy).
unsafe fn text<'a>(ptr: *const u8, len: i32, field: &str) -> Res<Option<&'a str>> {
    if len < 0 {
        return Ok(None);
    }
    if len == 0 {
        return Ok(Some(""));
    }
    if ptr.is_null() {
        return Err(Error::validation(field, "is missing").into());
    }
    // SAFETY: the caller's contract.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len as usize) };
    std::str::from_utf8(bytes).map(Some).map_err(|_| Error::validation(field, "must be UTF-8").with_rule("utf8").into())
}

/// The buffer handed to the JVM: its length in `*out_len`, its address returned.
fn hand_over(bytes: Vec<u8>, out_len: *mut i64) -> i64 {
    let bytes = bytes.into_boxed_slice();
    if !out_len.is_null() {
        // SAFETY: `out_len` is the JVM's `long[1]`, copied in and out by JNA.
        unsafe { *out_len = bytes.len() as i64 };
    }
    Box::into_raw(bytes) as *mut u8 as i64
}

fn encode(result: Res<NativeResponse>, out_len: *mut i64) -> i64 {
    let mut w = Writer::new();
    match result {
        Ok(r) => {
            w.raw(0);
            w.array(4);
            w.value(&Value::from(r.status));
            w.value(&r.request_id.map(Value::from).unwrap_or(Value::Null));
            w.value(&Value::from(r.retries_taken));
            w.bytes(&r.data);
        }
        Err(NativeError::Failed {
            class_name,
            detail,
            text,
            status,
            body,
            request_id,
            retry_after,
            retryable,
            retries_taken,
            may_have_been_applied,
            field,
            rule,
        }) => {
            w.raw(1);
            let error = serde_json::json!({
                "class_name": class_name, "detail": detail, "text": text, "status": status, "body": body,
                "request_id": request_id, "retry_after": retry_after, "retryable": retryable,
                "retries_taken": retries_taken, "may_have_been_applied": may_have_been_applied,
                "field": field, "rule": rule,
            });
            w.value(&error);
        }
    }
    hand_over(w.finish(), out_len)
}

fn guarded(out_len: *mut i64, f: impl FnOnce() -> Res<NativeResponse>) -> i64 {
    let result = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(Error::from_panic(p).into()));
    encode(result, out_len)
}

/// A call's parts as the JVM passes them: the client, operation and
/// parameters, `timeout` NaN and `max_retries` `i64::MIN` for the client's own.
struct Call<'a> {
    client: Arc<NativeClient>,
    op: &'a str,
    params: &'a str,
    timeout: Option<f64>,
    max_retries: Option<i64>,
}

impl Call<'_> {
    /// # Safety
    /// `op` and `params` are valid for their lengths.
    unsafe fn of<'a>(
        handle: u64,
        op: *const u8,
        op_len: i32,
        params: *const u8,
        params_len: i32,
        timeout: f64,
        max_retries: i64,
    ) -> Res<Call<'a>> {
        Ok(Call {
            // SAFETY: the caller's contract.
            op: unsafe { text(op, op_len, "operation") }?.unwrap_or_default(),
            params: unsafe { text(params, params_len, "params") }?.unwrap_or("{}"),
            timeout: (!timeout.is_nan()).then_some(timeout),
            max_retries: (max_retries != i64::MIN).then_some(max_retries),
            client: client(handle)?,
        })
    }

    /// The call's future with `base` (a caller of this client) and the per-call options.
    fn future(&self, base: &Caller) -> Res<impl Future<Output = parsec_teams::Result<NativeResponse>> + Send + 'static> {
        let (caller, op, args) = self.client.prepared(base, self.op, self.params, self.timeout, self.max_retries)?;
        Ok(crate::call_op(caller, op, args))
    }
}

/// The escape hatch's client and request as the JVM passes them (`query`
/// and `body` JSON text, absent with a negative length).
///
/// # Safety
/// Every pointer is valid for its length.
#[allow(clippy::too_many_arguments)]
unsafe fn raw_of(
    handle: u64,
    method: *const u8,
    method_len: i32,
    path: *const u8,
    path_len: i32,
    query: *const u8,
    query_len: i32,
    body: *const u8,
    body_len: i32,
) -> Res<(Arc<NativeClient>, RawRequest)> {
    // SAFETY: the caller's contract.
    let method = unsafe { text(method, method_len, "method") }?.unwrap_or_default();
    let path = unsafe { text(path, path_len, "path") }?.unwrap_or_default();
    let query = unsafe { text(query, query_len, "query") }?;
    let body = unsafe { text(body, body_len, "body") }?;
    let client = client(handle)?;
    let req = client.raw_request(method, path, query, body)?;
    Ok((client, req))
}

/// A blocking call on this thread's runtime: operation `op` (description id, UTF-8),
/// `params` (JSON text); `timeout` in seconds or NaN for the client's;
/// `max_retries` or `i64::MIN` for the client's.
///
/// # Safety
/// `op` and `params` are valid for their lengths; `out_len` for one `i64`.
#[no_mangle]
pub unsafe extern "C" fn parsec_teams_kt_call(
    handle: u64,
    op: *const u8,
    op_len: i32,
    params: *const u8,
    params_len: i32,
    timeout: f64,
    max_retries: i64,
    out_len: *mut i64,
) -> i64 {
    guarded(out_len, || {
        // SAFETY: the caller's contract.
        let call = unsafe { Call::of(handle, op, op_len, params, params_len, timeout, max_retries) }?;
        on_this_thread(handle, &call.client, |base| call.future(&base))
    })
}

/// A blocking escape-hatch request on this thread's runtime; `query` and
/// `body` are JSON text, or absent with a negative length.
///
/// # Safety
/// Every pointer is valid for its length; `out_len` for one `i64`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn parsec_teams_kt_request(
    handle: u64,
    method: *const u8,
    method_len: i32,
    path: *const u8,
    path_len: i32,
    query: *const u8,
    query_len: i32,
    body: *const u8,
    body_len: i32,
    out_len: *mut i64,
) -> i64 {
    guarded(out_len, || {
        // SAFETY: the caller's contract.
        let (client, req) = unsafe { raw_of(handle, method, method_len, path, path_len, query, query_len, body, body_len) }?;
        on_this_thread(handle, &client, |caller| Ok(crate::send_raw(caller, req)))
    })
}

/// Registers the JVM's completion callback for the suspend calls (once; later
/// calls are ignored).
#[no_mangle]
pub extern "C" fn parsec_teams_kt_set_done(done: Done) {
    let _ = DONE.set(done);
}

fn started_or_error(out_len: *mut i64, f: impl FnOnce() -> Res<()>) -> i64 {
    match catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(Error::from_panic(p).into())) {
        Ok(()) => 0,
        Err(e) => encode(Err(e), out_len),
    }
}

/// [`parsec_teams_kt_call`] as suspend call `id`: 0 when started (the result
/// comes to the callback), else the address of an error result (as
/// [`parsec_teams_kt_call`]'s) found before starting.
///
/// # Safety
/// As [`parsec_teams_kt_call`].
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn parsec_teams_kt_call_async(
    handle: u64,
    op: *const u8,
    op_len: i32,
    params: *const u8,
    params_len: i32,
    timeout: f64,
    max_retries: i64,
    id: i64,
    out_len: *mut i64,
) -> i64 {
    started_or_error(out_len, || {
        // SAFETY: the caller's contract.
        let call = unsafe { Call::of(handle, op, op_len, params, params_len, timeout, max_retries) }?;
        start(id, call.future(&call.client.caller)?)
    })
}

/// [`parsec_teams_kt_request`] as suspend call `id` (returns as
/// [`parsec_teams_kt_call_async`]).
///
/// # Safety
/// As [`parsec_teams_kt_request`].
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn parsec_teams_kt_request_async(
    handle: u64,
    method: *const u8,
    method_len: i32,
    path: *const u8,
    path_len: i32,
    query: *const u8,
    query_len: i32,
    body: *const u8,
    body_len: i32,
    id: i64,
    out_len: *mut i64,
) -> i64 {
    started_or_error(out_len, || {
        // SAFETY: the caller's contract.
        let (client, req) = unsafe { raw_of(handle, method, method_len, path, path_len, query, query_len, body, body_len) }?;
        start(id, crate::send_raw(client.caller.clone(), req))
    })
}

/// Cancels suspend call `id`: its task is aborted (the request with it) and
/// its result, if it comes anyway, is dropped. Unknown numbers are ignored.
#[no_mangle]
pub extern "C" fn parsec_teams_kt_cancel(id: i64) {
    let _ = catch_unwind(|| {
        if let Some(task) = started().lock().unwrap_or_else(|p| p.into_inner()).remove(&id) {
            task.abort();
        }
    });
}

/// Frees a result of [`parsec_teams_kt_call`] / [`parsec_teams_kt_request`].
///
/// # Safety
/// `ptr` and `len` are a result and its length, freed once.
#[no_mangle]
pub unsafe extern "C" fn parsec_teams_kt_free(ptr: i64, len: i64) {
    if ptr != 0 {
        // SAFETY: made by `hand_over` from a boxed slice of this length.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr as *mut u8, len as usize)) });
    }
}

/// Forgets a client's number (the client itself lives on while uniffi's
/// object or a call in flight holds it).
#[no_mangle]
pub extern "C" fn parsec_teams_kt_release(handle: u64) {
    let _ = catch_unwind(|| table().write().unwrap_or_else(|p| p.into_inner()).remove(&handle));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_or_unknown_handle_is_an_error_not_a_crash() {
        let mut len = 0i64;
        let op = b"teams.members.get";
        // SAFETY: valid pointers and lengths.
        let ptr =
            unsafe { parsec_teams_kt_call(987_654, op.as_ptr(), op.len() as i32, std::ptr::null(), -1, f64::NAN, i64::MIN, &mut len) };
        assert!(ptr != 0 && len > 1);
        // SAFETY: as handed over.
        let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) }.to_vec();
        unsafe { parsec_teams_kt_free(ptr, len) };
        assert_eq!(bytes[0], 1, "an error");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("ValidationError") && text.contains("is closed"), "{text}");
    }

    #[test]
    fn text_refuses_bad_utf8_with_the_field_named() {
        let bad = [0xffu8, 0xfe];
        // SAFETY: valid for its length.
        let e = unsafe { text(bad.as_ptr(), 2, "params") }.unwrap_err();
        let NativeError::Failed { field, rule, .. } = e;
        assert_eq!((field.as_deref(), rule.as_deref()), (Some("params"), Some("utf8")));
    }
}
