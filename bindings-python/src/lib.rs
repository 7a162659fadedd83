//! `parsec_teams._native`: the pyo3 module under the `parsec_teams` package.
//! It converts arguments and results and maps errors; the core does the rest
//! (HTTP, validation, retries, pacing, pagination).

mod bridge;
mod client;
mod convert;
mod errors;
mod logging;
mod mock;
mod registry;

use parsec_teams::spec::{Api, OPERATIONS};
use pyo3::prelude::*;

/// The index of an operation in the core's table (what `call` takes).
#[pyfunction]
fn op_id(py: Python<'_>, api: &str, resource: &str, name: &str) -> PyResult<usize> {
    errors::guard(py, || {
        let api = match api {
            "teams" => Api::Teams,
            "admin" => Api::Admin,
            _ => return Err(pyo3::exceptions::PyValueError::new_err("api: teams or admin")),
        };
        OPERATIONS
            .iter()
            .position(|op| op.api == api && op.resource == resource && op.name == name)
            .ok_or_else(|| pyo3::exceptions::PyValueError::new_err(format!("no operation {resource}.{name}")))
    })
}

/// Called in a child process after `os.fork()` (besides the core's own
/// `pthread_atfork` handler): the runtime and every client's connection pool
/// are rebuilt lazily on next use (`core::runtime`).
#[pyfunction]
fn after_fork_in_child() {
    parsec_teams::runtime::after_fork_in_child();
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install();
    parsec_teams::runtime::install_fork_handler();
    m.add("__version__", parsec_teams::VERSION)?;
    m.add_class::<client::NativeClient>()?;
    m.add_class::<client::Pages>()?;
    m.add_class::<bridge::LoopBridge>()?;
    m.add_class::<bridge::TaskHandle>()?;
    m.add_class::<mock::NativeMockServer>()?;
    m.add_function(wrap_pyfunction!(op_id, m)?)?;
    m.add_function(wrap_pyfunction!(after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(registry::register, m)?)?;
    m.add_function(wrap_pyfunction!(logging::set_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(logging::env_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(bridge::panic_for_tests, m)?)?;
    Ok(())
}
