//! The one place where the core's errors become Python exceptions, and where
//! panics stop: every entry point runs inside [`guard`], so a panic becomes
//! `parsec_teams.InternalError` instead of pyo3's `PanicException`.

use std::panic::{self, AssertUnwindSafe};

use parsec_teams::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::registry;

/// A core error as an instance of its Python exception class, with every
/// attribute the contract names (`status`, `message`, `body`, `request_id`,
/// `retry_after`, ...). The message never holds the key: the core keeps it out.
pub fn to_py(py: Python<'_>, err: &Error) -> PyErr {
    match build(py, err) {
        Ok(e) => e,
        Err(e) => e,
    }
}

/// A core result with its error as a Python exception.
pub fn check<T>(py: Python<'_>, r: parsec_teams::Result<T>) -> PyResult<T> {
    r.map_err(|e| to_py(py, &e))
}

/// The process's shared runtime (`core::runtime`, rebuilt after a fork).
pub fn runtime(py: Python<'_>) -> PyResult<&'static tokio::runtime::Runtime> {
    check(py, parsec_teams::runtime::shared_runtime())
}

/// The `InternalError` for a caught panic.
pub fn from_panic(py: Python<'_>, payload: Box<dyn std::any::Any + Send>) -> PyErr {
    to_py(py, &Error::from_panic(payload))
}

/// Runs the body of an entry point; a panic inside it becomes `InternalError`.
pub fn guard<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(from_panic(py, p)))
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let reg = registry::get(py)?;
    let name = err.kind().class_name();
    let cls = reg.exceptions.get(name).ok_or_else(|| PyRuntimeError::new_err(format!("no exception class {name}")))?;
    let exc = cls.bind(py).call1((err.to_string(),))?;
    exc.setattr("message", err.message())?;
    exc.setattr("status", err.status())?;
    exc.setattr("body", err.body())?;
    exc.setattr("request_id", err.request_id())?;
    exc.setattr("retry_after", err.retry_after())?;
    exc.setattr("retryable", err.retryable())?;
    exc.setattr("retries_taken", err.retries_taken())?;
    exc.setattr("may_have_been_applied", err.may_have_been_applied())?;
    exc.setattr("field", err.field())?;
    exc.setattr("rule", err.rule())?;
    exc.setattr("method", err.method())?;
    exc.setattr("path", err.path())?;
    Ok(PyErr::from_value(exc))
}
