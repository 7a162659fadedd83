//! The native half of the `parsec-teams` npm package.
//!
//! Deliberately small: ONE generic call path (`NativeClient.call`) serves every
//! operation of the core's table, a paginator wraps the core's
//! [`parsec_teams::pagination::Paginator`], a cancel token lets an
//! `AbortSignal` drop the Rust future, and `NativeMockServer` wraps the
//! `parsec-teams-mock` server. The per-operation JavaScript surface and its
//! TypeScript declarations and the error classes (`errors.js`, chosen by the
//! core's `ErrorKind::code`) are generated from docs/description.json by
//! `codegen/generate.mjs`; [`operation_table`] lets `index.js` check at load
//! that the generated surface matches this addon.
//!
//! Futures run on the calling Node thread's own current-thread runtime, driven
//! by libuv (`local.rs`), or, where that is unavailable, on the core's shared
//! multi-thread runtime (`parsec_teams::runtime::shared_runtime`). Neither keeps the event loop alive by itself, so a
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

/// The deepest nesting of arrays and objects the core accepts in a parameter or body.
#[napi(catch_unwind)]
pub fn max_depth() -> u32 {
    parsec_teams::validate::MAX_DEPTH as u32
}

/// The core's ValidationError (rule `depth`) for `field`, for a value the
/// JavaScript layer found nested too deep (or cyclic) before serialising it.
#[napi(catch_unwind)]
pub fn depth_error(field: String) -> errors::ErrorRecord {
    (&parsec_teams::validate::depth_error(&field)).into()
}

/// Logging (`PARSEC_TEAMS_LOG`, to stderr) and fork handling come from the
/// core (`parsec_teams::env`, `parsec_teams::runtime`); the threaded path runs
/// on the core's shared runtime (`PARSEC_TEAMS_WORKER_THREADS`), created on first use.
#[napi_derive::module_init]
fn init() {
    parsec_teams::env::init_stderr_logging();
    parsec_teams::runtime::install_fork_handler();
}
