//! `parsec_teams.testing.MockServer`'s native half: the mock server of
//! `parsec-teams-mock`, started in this process on its own thread.

use std::sync::Mutex;
use std::time::Duration;

use parsec_teams_mock::{Fixture, MockConfig, MockServer, ALL_PERMISSIONS};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

#[pyclass(frozen, module = "parsec_teams._native")]
pub struct NativeMockServer {
    server: Mutex<Option<MockServer>>,
    #[pyo3(get)]
    base_url: String,
    #[pyo3(get)]
    team_id: String,
    #[pyo3(get)]
    api_key: String,
    #[pyo3(get)]
    admin_token: String,
}

#[pymethods]
impl NativeMockServer {
    /// Starts the mock on `host:port` (0 = a free port) and returns once it listens.
    #[new]
    #[pyo3(signature = (host="127.0.0.1".to_owned(), port=0, fixture=None, fixture_json=None, quota_window=None, keys=Vec::new()))]
    fn new(
        py: Python<'_>,
        host: String,
        port: u16,
        fixture: Option<String>,
        fixture_json: Option<String>,
        quota_window: Option<f64>,
        keys: Vec<(String, Vec<String>)>,
    ) -> PyResult<NativeMockServer> {
        crate::errors::guard(py, || {
            let mut config = MockConfig { host, port, ..MockConfig::default() };
            if let Some(path) = fixture {
                config.fixture = Some(Fixture::from_file(&path).map_err(|e| PyValueError::new_err(format!("fixture {path}: {e}")))?);
            }
            if let Some(text) = fixture_json {
                config.fixture = Some(Fixture::from_json(&text).map_err(|e| PyValueError::new_err(format!("fixture: {e}")))?);
            }
            if let Some(w) = quota_window {
                config.quota_window = Duration::try_from_secs_f64(w)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| PyValueError::new_err("quota_window must be a positive, finite number of seconds"))?;
            }
            for (_, perms) in &keys {
                if let Some(bad) = perms.iter().find(|p| !ALL_PERMISSIONS.contains(&p.as_str())) {
                    return Err(PyValueError::new_err(format!("unknown permission {bad:?}; known: {}", ALL_PERMISSIONS.join(", "))));
                }
            }
            config.keys = keys;
            let server = py
                .detach(move || MockServer::start_background(config))
                .map_err(|e| PyOSError::new_err(format!("could not start the mock server: {e}")))?;
            Ok(NativeMockServer {
                base_url: server.base_url().to_owned(),
                team_id: server.team_id().to_owned(),
                api_key: server.api_key().to_owned(),
                admin_token: server.admin_token().to_owned(),
                server: Mutex::new(Some(server)),
            })
        })
    }

    /// Stops serving (idempotent).
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        crate::errors::guard(py, || {
            let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
            py.detach(move || drop(server));
            Ok(())
        })
    }

    #[getter]
    fn running(&self) -> bool {
        self.server.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// The permission names the mock knows.
    #[staticmethod]
    fn permissions() -> Vec<&'static str> {
        ALL_PERMISSIONS.to_vec()
    }
}
