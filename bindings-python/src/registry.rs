//! The Python classes the native module builds: exception classes from
//! `_exceptions.py` and model classes from `_models.py` / `_generated.py`,
//! registered once when the package is imported.

use std::collections::HashMap;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

pub struct Registry {
    pub exceptions: HashMap<String, Py<PyType>>,
    pub models: HashMap<String, Py<PyType>>,
}

static REGISTRY: PyOnceLock<Registry> = PyOnceLock::new();

fn classes(d: &Bound<'_, PyDict>) -> PyResult<HashMap<String, Py<PyType>>> {
    let mut out = HashMap::new();
    for (k, v) in d.iter() {
        out.insert(k.extract::<String>()?, v.cast_into::<PyType>()?.unbind());
    }
    Ok(out)
}

/// `_native.register(exceptions, models)`: called once by `parsec_teams/__init__.py`.
#[pyfunction]
pub fn register(py: Python<'_>, exceptions: &Bound<'_, PyDict>, models: &Bound<'_, PyDict>) -> PyResult<()> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let reg = Registry { exceptions: classes(exceptions)?, models: classes(models)? };
        REGISTRY.set(py, reg).map_err(|_| PyRuntimeError::new_err("parsec_teams._native.register called twice"))
    }))
    .unwrap_or_else(|p| Err(PyRuntimeError::new_err(parsec_teams::Error::from_panic(p).to_string())))
}

pub fn get(py: Python<'_>) -> PyResult<&Registry> {
    REGISTRY.get(py).ok_or_else(|| PyRuntimeError::new_err("parsec_teams._native is used before parsec_teams was imported"))
}

impl Registry {
    /// An instance of model class `name` whose attributes are the keys of `dict`.
    pub fn model<'py>(&self, py: Python<'py>, name: &str, dict: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let Some(cls) = self.models.get(name) else {
            return Ok(dict);
        };
        if !dict.is_instance_of::<PyDict>() {
            return Ok(dict);
        }
        // `object.__new__(cls)` without the call machinery: the classes are
        // plain Python classes, so their `tp_alloc` is all `object.__new__` does.
        let empty = pyo3::types::PyTuple::empty(py);
        // SAFETY: `cls` is a type object (checked at registration) and `empty`
        // a tuple; PyType_GenericNew returns a new reference or NULL with an
        // exception set, which from_owned_ptr_or_err turns into an error.
        let obj = unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                pyo3::ffi::PyType_GenericNew(cls.as_ptr().cast::<pyo3::ffi::PyTypeObject>(), empty.as_ptr(), std::ptr::null_mut()),
            )?
        };
        obj.setattr(pyo3::intern!(py, "__dict__"), dict)?;
        Ok(obj)
    }
}
