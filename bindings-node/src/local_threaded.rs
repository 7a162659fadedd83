//! Outside Linux there is no Node-thread path (it finds the runtime's epoll
//! descriptor through `/proc`): this stands in for `local.rs` with the same
//! functions, and every call takes the threaded path (`client::run_and_complete`).

use std::future::Future;

use napi::bindgen_prelude::sys;

use crate::client::NativeResponse;

/// A client registered with a Node-thread driver: none can exist here.
#[derive(Clone, Copy)]
pub enum Local {}

/// Always `None`: the threaded path.
pub fn register(_env: sys::napi_env, _on_complete: sys::napi_value) -> Option<Local> {
    None
}

/// Never busy: no call runs on the Node thread.
pub fn busy() -> bool {
    false
}

/// Unreachable: no `Local` value exists.
pub fn spawn<F>(local: Local, _id: u32, _fut: F)
where
    F: Future<Output = NativeResponse> + Send + 'static,
{
    match local {}
}
