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
//! Futures run on napi-rs' shared multi-thread tokio runtime. Its worker threads
//! are not libuv handles, so a finished script exits on its own; a pending
//! Promise keeps Node alive only while its request is in flight.

// napi-derive registers exports only outside `cfg(test)`, so the unit-test build sees them as unused.
#![cfg_attr(test, allow(dead_code))]

mod client;
mod errors;
mod logging;
mod mock;

use napi_derive::napi;

/// The SDK version (the core's).
#[napi]
pub fn version() -> String {
    parsec_teams::VERSION.to_string()
}

/// The operation table of both APIs as JSON text (`parsec_teams::table::table_json`),
/// in the order of `parsec_teams::spec::OPERATIONS`: an operation's index in it is
/// the `op` argument of `NativeClient.call`.
#[napi]
pub fn operation_table() -> String {
    parsec_teams::table::table_json().to_string()
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
