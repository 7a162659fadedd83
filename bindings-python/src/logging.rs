//! Forwards the core's log records (target `parsec_teams`: method, path,
//! status, attempt, elapsed) to Python's `logging` module, logger
//! `parsec_teams`. Off until Python sets a level (`set_log_level`), so the
//! hot path never takes the GIL for logging nobody reads.

use log::{Level, LevelFilter, Log, Metadata, Record};
use parsec_teams::env::LogLevel;
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
            Level::Error => LogLevel::Error,
            Level::Warn => LogLevel::Warn,
            Level::Info => LogLevel::Info,
            Level::Debug => LogLevel::Debug,
            Level::Trace => LogLevel::Trace,
        }
        .python_level();
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

/// `_native.env_log_level()`: the `logging` level `PARSEC_TEAMS_LOG` asks for
/// (the core's one parser, `core::env::log_level`), `None` when it is off.
#[pyfunction]
pub fn env_log_level() -> Option<u32> {
    let level = parsec_teams::env::log_level();
    (level != LogLevel::Off).then(|| level.python_level())
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
