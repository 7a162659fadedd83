//! The native half of the `parsec-teams` npm package.
//!
//! Deliberately small: ONE generic call path (`NativeClient.call`) serves every
//! operation of the core's table, a paginator wraps the core's
//! [`parsec_teams::pagination::Paginator`], a cancel token lets an
//! `AbortSignal` drop the Rust future, and `NativeMockServer` wraps the
//! `parsec-teams-mock` server. The per-operation JavaScript surface and its
//! TypeScript declarations are generated from [`operation_table`] by
//! `codegen/generate.mjs`; the JavaScript error classes live in `errors.js` and
//! are chosen by [`errors::class_of`], the one place that maps `ErrorKind`.
//!
//! Futures run on the calling Node thread's own current-thread runtime, driven
//! by libuv (`local.rs`), or, where that is unavailable, on napi-rs' shared
//! multi-thread runtime. Neither keeps the event loop alive by itself, so a
//! finished script exits on its own; a pending Promise keeps Node alive only
//! while its request is in flight. Large results cross as tapes (`tape.rs`).

// napi-derive registers exports only outside `cfg(test)`, so the unit-test build sees them as unused.
#![cfg_attr(test, allow(dead_code))]

mod client;
mod errors;
// The Node-thread path needs /proc and epoll; elsewhere every call takes the threaded path.
#[cfg(all(target_os = "linux", not(parsec_teams_node_threaded_only)))]
mod local;
#[cfg(not(all(target_os = "linux", not(parsec_teams_node_threaded_only))))]
#[path = "local_threaded.rs"]
mod local;
mod logging;
mod mock;
mod tape;

use napi_derive::napi;

/// The SDK version (the core's).
#[napi(catch_unwind)]
pub fn version() -> String {
    parsec_teams::VERSION.to_string()
}

/// The operation table of both APIs as JSON text (`parsec_teams::table::table_json`),
/// in the order of `parsec_teams::spec::OPERATIONS`: an operation's index in it is
/// the `op` argument of `NativeClient.call`.
#[napi(catch_unwind)]
pub fn operation_table() -> String {
    parsec_teams::table::table_json().to_string()
}

/// The keys of tape shape `id` as JSON text (`tape.js` compiles one constructor per shape).
#[napi(catch_unwind)]
pub fn tape_shape(id: u32) -> Option<String> {
    tape::shape_keys(id)
}

/// `text` as it would reach JavaScript as a result: a tape (`[ops, nums, strs]`)
/// when large enough and encodable, else the text. For tests of `tape.js` against this encoder.
#[napi(catch_unwind)]
pub fn tape_encode(text: String, #[napi(ts_arg_type = "number | undefined")] min_len: Option<u32>) -> client::Body {
    client::Body::of_text(text, min_len.map_or(client::TAPE_MIN, |n| n as usize))
}

/// Worker threads of the shared tokio runtime: half the CPUs, from 1 to 4.
/// HTTP I/O is light next to the JavaScript side (V8's `JSON.parse` runs on
/// the main thread), and few workers keep a request and its connection task
/// on one thread (fewer cross-thread wake-ups; on 2 CPUs one worker measured
/// best). `PARSEC_TEAMS_WORKER_THREADS` overrides.
fn worker_threads() -> usize {
    std::env::var("PARSEC_TEAMS_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| (n.get() / 2).clamp(1, 4)).unwrap_or(1))
}

#[napi_derive::module_init]
fn init() {
    logging::init_from_env();
    if let Ok(rt) =
        tokio::runtime::Builder::new_multi_thread().worker_threads(worker_threads()).thread_name("parsec-teams").enable_all().build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}
