//! The one place where the core's errors become Python exceptions.

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
    exc.setattr("method", err.method())?;
    exc.setattr("path", err.path())?;
    Ok(PyErr::from_value(exc))
}
