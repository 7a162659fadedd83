//! Forwards the core's log records (target `parsec_teams`: method, path,
//! status, attempt, elapsed) to Python's `logging` module, logger
//! `parsec_teams`. Off until Python sets a level (`set_log_level`), so the
//! hot path never takes the GIL for logging nobody reads.

use log::{Level, LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

struct PyLogger;

static LOGGER: PyLogger = PyLogger;
static PY_LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

impl Log for PyLogger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= log::max_level() && m.target().starts_with("parsec_teams")
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error => 40,
            Level::Warn => 30,
            Level::Info => 20,
            Level::Debug => 10,
            Level::Trace => 5,
        };
        let message = record.args().to_string();
        Python::attach(|py| {
            let logger = PY_LOGGER.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
                Ok(py.import("logging")?.call_method1("getLogger", ("parsec_teams",))?.unbind())
            });
            if let Ok(logger) = logger {
                if let Err(e) = logger.bind(py).call_method1("log", (level, message)) {
                    e.print(py);
                }
            }
        });
    }

    fn flush(&self) {}
}

/// Installs the bridge (once, at import).
pub fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(LevelFilter::Off);
    }
}

/// `_native.set_log_level(level)`: the effective level of the Python logger
/// `parsec_teams` (a `logging` number); above CRITICAL turns forwarding off.
#[pyfunction]
pub fn set_log_level(level: i64) {
    let filter = match level {
        l if l <= 0 => LevelFilter::Off,
        l if l <= 5 => LevelFilter::Trace,
        l if l <= 10 => LevelFilter::Debug,
        l if l <= 20 => LevelFilter::Info,
        l if l <= 30 => LevelFilter::Warn,
        l if l <= 50 => LevelFilter::Error,
        _ => LevelFilter::Off,
    };
    log::set_max_level(filter);
}
