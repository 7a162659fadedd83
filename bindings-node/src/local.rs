//! Calls on the Node thread itself: a current-thread tokio runtime driven by
//! libuv, so a request costs no cross-thread wake-ups.
//!
//! The default path of napi-rs (a multi-thread runtime, results posted back
//! through a threadsafe function) wakes a tokio worker to start each call and
//! wakes the Node thread to finish it: about 23 µs of hand-offs per call,
//! measured, next to ~60 µs for the whole HTTP exchange in Rust. Here the
//! calling thread runs the futures, as undici does, and libuv tells it when to:
//!
//! - a `uv_poll_t` watches the epoll descriptor of the runtime's I/O driver
//!   (an epoll descriptor is readable when any descriptor it watches is ready),
//!   so socket readiness and cross-thread wake-ups (the blocking pool's DNS
//!   lookups) drive the runtime;
//! - a `uv_timer_t` ticks while calls are in flight, for tokio's timers
//!   (timeouts, retry back-off, quota pacing): every millisecond after a call
//!   starts (tokio's own resolution), slowing to every 16 ms while nothing
//!   happens (see `TICK_MS`);
//! - a `uv_async_t` delivers, on the next turn of the loop, results that
//!   finished while JavaScript was calling in (a Promise must not settle
//!   inside the call that created it);
//! - finished calls go to JavaScript by `napi_make_callback`, so Promise
//!   reactions and `process.nextTick` run right after each, as for any I/O callback.
//!
//! The handles are unref'd: the JavaScript layer keeps the loop alive while
//! calls are in flight. The runtime's epoll descriptor is the one whose watch
//! list (`/proc/self/fdinfo`) holds a pipe we registered with the runtime, so
//! it cannot be another thread's (`runtime_epoll`). Every libuv and N-API set-up
//! call is checked, and teardown closes every handle and destroys the async
//! context. Where any of this is unavailable or fails (a host other than Node,
//! such as Bun, whose libuv functions are stubs; no libuv 1.x symbols; no
//! `/proc`; the descriptor not found) or `PARSEC_TEAMS_NODE_THREADS=1` is set,
//! calls take the threaded path instead (see `client::run_and_complete`).
//!
//! Linux only (`/proc`, epoll); elsewhere `local_threaded.rs` stands in.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void, CStr};
use std::future::Future;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use napi::bindgen_prelude::{sys, JsValuesTupleIntoVec};

use crate::client::NativeResponse;

// libuv's handle types and flags (uv.h): stable across libuv 1.x.
const UV_ASYNC: c_int = 1;
const UV_POLL: c_int = 8;
const UV_TIMER: c_int = 13;
const UV_READABLE: c_int = 1;
/// Timer tick while calls are in flight, in milliseconds: 1 after a call
/// starts (tokio's own resolution), doubling while ticks find nothing to
/// deliver, up to `TICK_MAX_MS`. A call waiting seconds for its answer (which
/// the poll handle reports at once) then costs ~60 wake-ups a second, not
/// 1,000, and a timer of tokio's (timeout, back-off, pacing) fires at most that late.
const TICK_MS: u64 = 1;
const TICK_MAX_MS: u64 = 16;
/// Scheduler passes per drive. Each pass runs every ready task, then polls the
/// I/O driver (and timers) without blocking. Starting a call takes one: the
/// request task and the connection task it hands the request to both run, and
/// the bytes are written. A readiness event takes two: the first collects
/// the events, the second runs the tasks they woke. Anything left over is
/// picked up by the poll handle or the next tick.
const START_PASSES: usize = 1;
const EVENT_PASSES: usize = 2;

type UvPollCb = unsafe extern "C" fn(*mut c_void, c_int, c_int);
type UvTimerCb = unsafe extern "C" fn(*mut c_void);
type UvAsyncCb = unsafe extern "C" fn(*mut c_void);

/// The libuv functions we need, looked up in the running `node` binary (which
/// exports libuv for addons) instead of linked, so a missing one means the
/// threaded path, not a failure to load.
struct Uv {
    version: unsafe extern "C" fn() -> std::ffi::c_uint,
    handle_size: unsafe extern "C" fn(c_int) -> usize,
    poll_init: unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int,
    poll_start: unsafe extern "C" fn(*mut c_void, c_int, UvPollCb) -> c_int,
    poll_stop: unsafe extern "C" fn(*mut c_void) -> c_int,
    timer_init: unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int,
    timer_start: unsafe extern "C" fn(*mut c_void, UvTimerCb, u64, u64) -> c_int,
    timer_stop: unsafe extern "C" fn(*mut c_void) -> c_int,
    async_init: unsafe extern "C" fn(*mut c_void, *mut c_void, UvAsyncCb) -> c_int,
    async_send: unsafe extern "C" fn(*mut c_void) -> c_int,
    unref: unsafe extern "C" fn(*mut c_void),
    close: unsafe extern "C" fn(*mut c_void, Option<unsafe extern "C" fn(*mut c_void)>),
}

impl Uv {
    fn load() -> Option<Uv> {
        unsafe fn sym<T: Copy>(name: &CStr) -> Option<T> {
            let p = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr());
            // SAFETY (caller): T is the function pointer type of `name` in uv.h.
            (!p.is_null()).then(|| std::mem::transmute_copy::<*mut c_void, T>(&p))
        }
        // SAFETY: each type above is the signature uv.h declares for the name.
        unsafe {
            let uv = Uv {
                version: sym(c"uv_version")?,
                handle_size: sym(c"uv_handle_size")?,
                poll_init: sym(c"uv_poll_init")?,
                poll_start: sym(c"uv_poll_start")?,
                poll_stop: sym(c"uv_poll_stop")?,
                timer_init: sym(c"uv_timer_init")?,
                timer_start: sym(c"uv_timer_start")?,
                timer_stop: sym(c"uv_timer_stop")?,
                async_init: sym(c"uv_async_init")?,
                async_send: sym(c"uv_async_send")?,
                unref: sym(c"uv_unref")?,
                close: sym(c"uv_close")?,
            };
            // libuv 1.x: the handle numbering and signatures above.
            ((uv.version)() >> 16 == 1).then_some(uv)
        }
    }

    /// A zeroed handle of `kind`, sized by this libuv (its layout is not ours to assume).
    fn alloc(&self, kind: c_int) -> Option<*mut c_void> {
        // SAFETY: uv_handle_size only reads its argument.
        let size = unsafe { (self.handle_size)(kind) };
        // A handle is at least its common fields (data, loop, type, ...): a tiny
        // size means the type numbering is not the one we know.
        if !(64..=4096).contains(&size) {
            return None;
        }
        // SAFETY: calloc of a checked size; freed by `free_handle` once libuv closed it.
        let p = unsafe { libc::calloc(1, size) };
        (!p.is_null()).then_some(p)
    }
}

unsafe extern "C" fn free_handle(handle: *mut c_void) {
    libc::free(handle);
}

/// One finished call waiting for delivery to JavaScript.
struct Finished {
    client: u32,
    id: u32,
    response: NativeResponse,
}

/// The runtime, handles and pending results of one Node thread (the main
/// thread or a worker_thread: each has its own environment and loop).
struct Driver {
    rt: tokio::runtime::Runtime,
    uv: Uv,
    env: sys::napi_env,
    async_context: sys::napi_async_context,
    poll: *mut c_void,
    timer: *mut c_void,
    /// Wakes the loop to deliver calls that finished while JavaScript was calling in.
    wake: *mut c_void,
    /// Calls started and not yet delivered; the tick runs while there are any.
    inflight: Cell<usize>,
    /// The tick's current period (see `TICK_MS`).
    tick_ms: Cell<u64>,
    finished: RefCell<Vec<Finished>>,
    /// The completion callbacks clients registered, by number.
    callbacks: RefCell<Vec<sys::napi_ref>>,
}

thread_local! {
    /// This thread's driver: set up on first use; `None` means the threaded path.
    static DRIVER: RefCell<Option<Option<&'static Driver>>> = const { RefCell::new(None) };
}

fn driver() -> Option<&'static Driver> {
    DRIVER.with(|d| *d.borrow().as_ref().unwrap_or(&None))
}

/// The descriptors of this process that are epoll instances.
fn epoll_fds() -> Vec<RawFd> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else { return Vec::new() };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let fd: RawFd = e.file_name().to_str()?.parse().ok()?;
        let target = std::fs::read_link(e.path()).ok()?;
        (target.as_os_str() == "anon_inode:[eventpoll]").then_some(fd)
    })
    .collect()
}

/// Whether epoll descriptor `ep` watches descriptor `fd` whose inode is `ino`:
/// its `/proc/self/fdinfo` has a line `tfd: <fd> events: .. data: .. pos:0 ino:<hex> sdev:..`.
fn watches(ep: RawFd, fd: RawFd, ino: u64) -> bool {
    let Ok(info) = std::fs::read_to_string(format!("/proc/self/fdinfo/{ep}")) else { return false };
    info.lines().any(|line| {
        let mut words = line.split_whitespace();
        words.next() == Some("tfd:")
            && words.next().and_then(|n| n.parse::<RawFd>().ok()) == Some(fd)
            && words.find_map(|w| w.strip_prefix("ino:")).and_then(|h| u64::from_str_radix(h, 16).ok()) == Some(ino)
    })
}

/// The epoll descriptor of `rt`'s I/O driver. A pipe of our own is registered
/// with the runtime, so it sits in that epoll set and in no other; the
/// descriptor is the epoll instance whose watch list names the pipe, by
/// descriptor number and inode (a pipe's inode is its own; the number alone
/// could be a stale entry of a closed descriptor). No other thread's epoll can
/// hold the pipe, whatever descriptors appear or vanish meanwhile, and nothing
/// is waited for.
fn runtime_epoll(rt: &tokio::runtime::Runtime) -> Option<RawFd> {
    let mut fds = [-1 as RawFd; 2];
    // SAFETY: pipe2 fills two fresh descriptors, owned below.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return None;
    }
    // SAFETY: both are ours and open; OwnedFd closes them.
    let (read, _write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let fd = read.as_raw_fd();
    // SAFETY: fstat of an open descriptor into a zeroed struct.
    let ino = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut st) != 0 {
            return None;
        }
        st.st_ino
    };
    let _context = rt.enter();
    // Registered with the runtime's driver until dropped (deregistered, then closed).
    // SAFETY: the AsyncFd owns `read`, which stays open and the same file until it is dropped.
    let registered = unsafe { tokio::io::unix::AsyncFd::register_with_interest(read, tokio::io::Interest::READABLE) }.ok()?;
    let found = epoll_fds().into_iter().find(|&ep| watches(ep, fd, ino));
    drop(registered);
    found
}

/// A current-thread runtime and the epoll descriptor of its I/O driver.
fn runtime_with_fd() -> Option<(tokio::runtime::Runtime, RawFd)> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    let fd = runtime_epoll(&rt)?;
    Some((rt, fd))
}

/// `object[name]`, unless it is missing or `undefined`.
unsafe fn property(env: sys::napi_env, object: sys::napi_value, name: &CStr) -> Option<sys::napi_value> {
    let mut value = std::ptr::null_mut();
    let mut kind = 0;
    (sys::napi_get_named_property(env, object, name.as_ptr(), &mut value) == sys::Status::napi_ok
        && sys::napi_typeof(env, value, &mut kind) == sys::Status::napi_ok
        && kind != sys::ValueType::napi_undefined)
        .then_some(value)
}

/// Whether the host is Node itself, whose libuv is real: hosts that run
/// Node addons with libuv stubs (Bun, Deno) say so in `process.versions`, and
/// their stubs abort when called.
fn host_is_node(env: sys::napi_env) -> bool {
    // SAFETY: env is the live environment of this thread; plain property reads.
    unsafe {
        let mut global = std::ptr::null_mut();
        if sys::napi_get_global(env, &mut global) != sys::Status::napi_ok {
            return false;
        }
        let Some(versions) = property(env, global, c"process").and_then(|p| property(env, p, c"versions")) else { return false };
        property(env, versions, c"node").is_some()
            && property(env, versions, c"uv").is_some()
            && property(env, versions, c"bun").is_none()
            && property(env, versions, c"deno").is_none()
    }
}

/// The three handles of a driver, allocated but not yet initialised.
struct Handles {
    poll: *mut c_void,
    timer: *mut c_void,
    wake: *mut c_void,
}

impl Handles {
    fn alloc(uv: &Uv) -> Option<Handles> {
        let [poll, timer, wake] = [uv.alloc(UV_POLL), uv.alloc(UV_TIMER), uv.alloc(UV_ASYNC)];
        if let (Some(poll), Some(timer), Some(wake)) = (poll, timer, wake) {
            return Some(Handles { poll, timer, wake });
        }
        for h in [poll, timer, wake].into_iter().flatten() {
            // SAFETY: never initialised, so plain memory.
            unsafe { libc::free(h) };
        }
        None
    }

    fn all(&self) -> [*mut c_void; 3] {
        [self.poll, self.timer, self.wake]
    }

    /// Initialises the handles on `uv_loop`, watching `fd`, unref'd, the poll
    /// handle started. On any failure every handle is released (closed if
    /// initialised, else freed) and `false` returned.
    ///
    /// SAFETY: `uv_loop` is this thread's loop; `fd` stays open while the handles live.
    unsafe fn init(&self, uv: &Uv, uv_loop: *mut c_void, fd: RawFd) -> bool {
        let steps =
            [(uv.poll_init)(uv_loop, self.poll, fd), (uv.timer_init)(uv_loop, self.timer), (uv.async_init)(uv_loop, self.wake, on_wake)];
        let initialised = steps.iter().take_while(|&&rc| rc == 0).count();
        if initialised == 3 {
            for h in self.all() {
                (uv.unref)(h);
            }
            if (uv.poll_start)(self.poll, UV_READABLE, on_poll) == 0 {
                return true;
            }
        }
        for (i, h) in self.all().into_iter().enumerate() {
            if i < initialised {
                (uv.close)(h, Some(free_handle));
            } else {
                libc::free(h);
            }
        }
        false
    }
}

/// An async context for `napi_make_callback` (destroyed in `teardown`).
unsafe fn async_context(env: sys::napi_env) -> Option<sys::napi_async_context> {
    let mut resource = std::ptr::null_mut();
    let mut name = std::ptr::null_mut();
    let mut context = std::ptr::null_mut();
    (sys::napi_create_object(env, &mut resource) == sys::Status::napi_ok
        && sys::napi_create_string_utf8(env, c"parsec-teams".as_ptr(), 12, &mut name) == sys::Status::napi_ok
        && sys::napi_async_init(env, resource, name, &mut context) == sys::Status::napi_ok
        && !context.is_null())
    .then_some(context)
}

fn setup(env: sys::napi_env) -> Option<&'static Driver> {
    if std::env::var_os("PARSEC_TEAMS_NODE_THREADS").is_some_and(|v| v == "1") || !host_is_node(env) {
        return None;
    }
    let mut uv_loop = std::ptr::null_mut();
    // SAFETY: env is the live environment of this thread.
    unsafe {
        if sys::napi_get_uv_event_loop(env, &mut uv_loop) != sys::Status::napi_ok || uv_loop.is_null() {
            return None;
        }
    }
    let uv_loop = uv_loop.cast::<c_void>();
    let uv = Uv::load()?;
    let (rt, fd) = runtime_with_fd()?;
    let handles = Handles::alloc(&uv)?;
    // SAFETY: fresh zeroed handles of the sizes libuv asked for, on this thread's
    // loop; `fd` is the runtime's, which lives as long as the driver (the
    // handles are closed before the runtime is dropped, in `teardown`).
    if !unsafe { handles.init(&uv, uv_loop, fd) } {
        return None;
    }
    // SAFETY: env is live, on its thread.
    let Some(async_context) = (unsafe { async_context(env) }) else {
        for h in handles.all() {
            // SAFETY: initialised handles of this thread's loop.
            unsafe { (uv.close)(h, Some(free_handle)) };
        }
        return None;
    };
    let Handles { poll, timer, wake } = handles;
    let driver: &'static Driver = Box::leak(Box::new(Driver {
        rt,
        uv,
        env,
        async_context,
        poll,
        timer,
        wake,
        inflight: Cell::new(0),
        tick_ms: Cell::new(TICK_MS),
        finished: RefCell::new(Vec::new()),
        callbacks: RefCell::new(Vec::new()),
    }));
    // SAFETY: the hook runs on this thread when its environment shuts down.
    unsafe {
        sys::napi_add_env_cleanup_hook(env, Some(teardown), std::ptr::null_mut());
    }
    Some(driver)
}

/// Environment shutdown (process exit, a worker_thread ending): close the
/// handles, destroy the async context and the callbacks' references, and let
/// the runtime go with its connections.
unsafe extern "C" fn teardown(_: *mut c_void) {
    no_unwind(|| unsafe { release() });
}

unsafe fn release() {
    let Some(d) = DRIVER.with(|slot| slot.borrow_mut().replace(None)).flatten() else { return };
    (d.uv.poll_stop)(d.poll);
    (d.uv.timer_stop)(d.timer);
    for h in [d.poll, d.timer, d.wake] {
        (d.uv.close)(h, Some(free_handle));
    }
    sys::napi_async_destroy(d.env, d.async_context);
    for reference in d.callbacks.borrow_mut().drain(..) {
        sys::napi_delete_reference(d.env, reference);
    }
    // SAFETY: `d` came from Box::leak in `setup` and is no longer reachable.
    let d = Box::from_raw((d as *const Driver).cast_mut());
    let Driver { rt, .. } = *d;
    rt.shutdown_background();
}

/// A client's completion callback as registered with this thread's driver.
#[derive(Clone, Copy)]
pub struct Local(u32);

/// Registers a client's completion callback with this thread's driver; the
/// number to pass to [`spawn`], or `None` for the threaded path. Clients that
/// share a callback (the JavaScript layer passes one for all) share its number,
/// so creating clients does not grow anything.
pub fn register(env: sys::napi_env, on_complete: sys::napi_value) -> Option<Local> {
    let d = DRIVER.with(|slot| *slot.borrow_mut().get_or_insert_with(|| setup(env)))?;
    let mut callbacks = d.callbacks.borrow_mut();
    for (i, known) in callbacks.iter().enumerate() {
        let mut value = std::ptr::null_mut();
        let mut same = false;
        // SAFETY: our references and a live value, on their environment's thread.
        unsafe {
            if sys::napi_get_reference_value(env, *known, &mut value) == sys::Status::napi_ok
                && sys::napi_strict_equals(env, value, on_complete, &mut same) == sys::Status::napi_ok
                && same
            {
                return Some(Local(i as u32));
            }
        }
    }
    let mut reference = std::ptr::null_mut();
    // SAFETY: a strong reference to a live function of this environment.
    if unsafe { sys::napi_create_reference(env, on_complete, 1, &mut reference) } != sys::Status::napi_ok {
        return None;
    }
    callbacks.push(reference);
    Some(Local(callbacks.len() as u32 - 1))
}

/// Calls in flight on this thread from which new calls go to the worker
/// threads instead (`NativeClient::route`). One in flight is the sequential
/// script, served fastest here; many are a burst, whose HTTP work is better
/// spread over the CPUs. `PARSEC_TEAMS_NODE_LOCAL_MAX` overrides.
fn local_max() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| std::env::var("PARSEC_TEAMS_NODE_LOCAL_MAX").ok().and_then(|v| v.parse().ok()).unwrap_or(4))
}

/// Whether this thread has enough calls in flight that the next should go to the worker threads.
pub fn busy() -> bool {
    driver().is_some_and(|d| d.inflight.get() >= local_max())
}

/// Starts `fut` on this thread's runtime and runs it as far as it goes without
/// waiting (the request is written before this returns); its result reaches
/// the client's callback from a later turn of the event loop.
pub fn spawn<F>(Local(client): Local, id: u32, fut: F)
where
    F: Future<Output = NativeResponse> + Send + 'static,
{
    let Some(d) = driver() else { return };
    d.inflight.set(d.inflight.get() + 1);
    d.rt.block_on(async move {
        tokio::spawn(async move {
            let response = fut.await;
            if let Some(d) = driver() {
                d.finished.borrow_mut().push(Finished { client, id, response });
            }
        });
        drive(START_PASSES).await;
    });
    // A call that already finished (refused arguments, say) is delivered on the
    // next turn of the loop, not inside this call; a wake-up through the poll
    // phase, so that a chain of such calls cannot keep the loop from I/O.
    if !d.finished.borrow().is_empty() {
        // SAFETY: our initialised async handle, on this thread.
        unsafe { (d.uv.async_send)(d.wake) };
    }
    // Tick while anything is in flight, for tokio's timers; fast again after
    // a new call, which may carry a short timeout.
    if d.inflight.get() == 1 || d.tick_ms.get() != TICK_MS {
        set_tick(d, TICK_MS);
    }
}

async fn drive(passes: usize) {
    for _ in 0..passes {
        tokio::task::yield_now().await;
    }
}

/// Runs a libuv callback's body: a panic must not unwind into libuv (that
/// aborts the process). Calls' own panics are caught where they run
/// (`client::guarded`); this is the last line for the driver's own code.
fn no_unwind(f: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
        eprintln!("parsec-teams: internal error in the Node-thread driver (please report it)");
    }
}

unsafe extern "C" fn on_poll(_: *mut c_void, _status: c_int, _events: c_int) {
    no_unwind(|| {
        run();
    });
}

unsafe extern "C" fn on_tick(_: *mut c_void) {
    no_unwind(|| {
        let delivered = run();
        if let Some(d) = driver() {
            if delivered == 0 && d.inflight.get() > 0 && d.tick_ms.get() < TICK_MAX_MS {
                set_tick(d, (d.tick_ms.get() * 2).min(TICK_MAX_MS));
            }
        }
    });
}

fn set_tick(d: &Driver, ms: u64) {
    d.tick_ms.set(ms);
    // SAFETY: our initialised timer on this thread's loop.
    unsafe { (d.uv.timer_start)(d.timer, on_tick, ms, ms) };
}

unsafe extern "C" fn on_wake(_: *mut c_void) {
    no_unwind(|| {
        run();
    });
}

/// Drives the runtime, then hands every finished call to JavaScript; how many.
fn run() -> usize {
    let Some(d) = driver() else { return 0 };
    d.rt.block_on(drive(EVENT_PASSES));
    // One batch per turn: calls that JavaScript starts from these callbacks and
    // that finish at once wait for the next turn (`spawn` sends a wake-up), so
    // a chain of them cannot starve the event loop.
    let batch = std::mem::take(&mut *d.finished.borrow_mut());
    let delivered = batch.len();
    for f in batch {
        d.inflight.set(d.inflight.get().saturating_sub(1));
        deliver(d, f);
    }
    if delivered > 0 && d.inflight.get() == 0 {
        // The last call in flight was delivered: no tick until the next starts.
        // SAFETY: our timer, on this thread.
        unsafe { (d.uv.timer_stop)(d.timer) };
    }
    delivered
}

/// Calls `onComplete(id, status, body, headers, requestId, retriesTaken, flags, error)`.
fn deliver(d: &Driver, f: Finished) {
    let Some(callback) = d.callbacks.borrow().get(f.client as usize).copied() else { return };
    let env = d.env;
    // SAFETY: on the environment's own thread, outside any JavaScript frame (a
    // libuv callback), inside a handle scope we open and close.
    unsafe {
        let mut scope = std::ptr::null_mut();
        if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
            return;
        }
        let mut func = std::ptr::null_mut();
        // The receiver must be an object: the global, as for a plain function call.
        let mut recv = std::ptr::null_mut();
        if let Ok(args) = f.response.into_args(f.id).into_vec(env) {
            if sys::napi_get_reference_value(env, callback, &mut func) == sys::Status::napi_ok
                && sys::napi_get_global(env, &mut recv) == sys::Status::napi_ok
            {
                let mut result = std::ptr::null_mut();
                let status = sys::napi_make_callback(env, d.async_context, recv, func, args.len(), args.as_ptr(), &mut result);
                if status == sys::Status::napi_pending_exception {
                    // The callback threw: report it as Node reports any uncaught exception.
                    let mut error = std::ptr::null_mut();
                    sys::napi_get_and_clear_last_exception(env, &mut error);
                    sys::napi_fatal_exception(env, error);
                }
            }
        }
        sys::napi_close_handle_scope(env, scope);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    fn readable(fd: RawFd, wait_ms: c_int) -> bool {
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, wait_ms) == 1 && pfd.revents & libc::POLLIN != 0 }
    }

    /// Another thread keeps creating epoll instances (each watching a pipe that
    /// is always readable) while runtimes are built here: the descriptor found
    /// must still be each runtime's own. Checked by behaviour, not by the method
    /// under test: the runtime's epoll is quiet while the runtime has nothing to
    /// do (a decoy never is), and turns readable when a socket of the runtime does.
    #[test]
    fn runtime_epoll_is_never_another_threads() {
        let stop = Arc::new(AtomicBool::new(false));
        let decoys = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut fds = [0 as RawFd; 2];
                // SAFETY: plain syscalls on descriptors this thread owns.
                unsafe {
                    assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
                    assert_eq!(libc::write(fds[1], b"x".as_ptr().cast(), 1), 1);
                }
                // New decoys appear all the time (as when worker threads start), kept open.
                let mut ring = Vec::new();
                while !stop.load(Ordering::Relaxed) && ring.len() < 2000 {
                    // SAFETY: as above.
                    unsafe {
                        let ep = libc::epoll_create1(libc::EPOLL_CLOEXEC);
                        let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: 0 };
                        libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fds[0], &mut ev);
                        ring.push(ep);
                    }
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
                ring.extend(fds);
                ring
            })
        };
        for i in 0..60 {
            let (rt, fd) = runtime_with_fd().expect("a runtime and its descriptor");
            assert!(!readable(fd, 0), "runtime {i}: descriptor {fd} is readable while its runtime is idle (another thread's epoll)");
            let listener = rt.block_on(async { tokio::net::TcpListener::bind(("127.0.0.1", 0)).await }).unwrap();
            let _peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            assert!(readable(fd, 2000), "runtime {i}: descriptor {fd} does not see its runtime's socket");
        }
        stop.store(true, Ordering::Relaxed);
        let made = decoys.join().unwrap();
        for fd in made {
            // SAFETY: the decoy thread's descriptors, no longer used.
            unsafe { libc::close(fd) };
        }
    }
}
