//! The environment variables of the SDK, read in one place with one set of
//! rules. A variable that is unset or empty counts as not set.

use std::fmt;

/// The API key of a `Client` when none is passed.
pub const PARSEC_API_KEY: &str = "PARSEC_API_KEY";
/// The team of a `Client` when none is passed.
pub const PARSEC_TEAM_ID: &str = "PARSEC_TEAM_ID";
/// The base URL of a `Client` when none is passed.
pub const PARSEC_BASE_URL: &str = "PARSEC_BASE_URL";
/// The base URL of an `AdminClient` when none is passed.
pub const PARSEC_ADMIN_BASE_URL: &str = "PARSEC_ADMIN_BASE_URL";
/// The token of an `AdminClient` when none is passed.
pub const PARSEC_ADMIN_TOKEN: &str = "PARSEC_ADMIN_TOKEN";
/// The log level ([`parse_log_level`]).
pub const PARSEC_TEAMS_LOG: &str = "PARSEC_TEAMS_LOG";
/// Worker threads of a binding's shared runtime ([`parse_worker_threads`]).
pub const PARSEC_TEAMS_WORKER_THREADS: &str = "PARSEC_TEAMS_WORKER_THREADS";

/// The most worker threads accepted from [`PARSEC_TEAMS_WORKER_THREADS`].
pub const MAX_WORKER_THREADS: usize = 64;

/// One environment variable the SDK reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    /// The canonical option it stands in for (see [`crate::options::OPTIONS`]), if any.
    pub option: Option<&'static str>,
    /// `Client`, `AdminClient` or `runtime`.
    pub used_by: &'static str,
    /// True for a secret (never printed).
    pub secret: bool,
    pub doc: &'static str,
}

/// Every environment variable the SDK reads.
pub const ENV_VARS: &[EnvVar] = &[
    EnvVar { name: PARSEC_API_KEY, option: Some("api_key"), used_by: "Client", secret: true, doc: "The API key when none is passed." },
    EnvVar {
        name: PARSEC_TEAM_ID,
        option: Some("team_id"),
        used_by: "Client",
        secret: false,
        doc: "The team when none is passed (else taken from the key).",
    },
    EnvVar { name: PARSEC_BASE_URL, option: Some("base_url"), used_by: "Client", secret: false, doc: "The base URL when none is passed." },
    EnvVar {
        name: PARSEC_ADMIN_BASE_URL,
        option: Some("admin_base_url"),
        used_by: "AdminClient",
        secret: false,
        doc: "The admin API's base URL when none is passed.",
    },
    EnvVar { name: PARSEC_ADMIN_TOKEN, option: Some("token"), used_by: "AdminClient", secret: true, doc: "The admin token when none is passed." },
    EnvVar {
        name: PARSEC_TEAMS_LOG,
        option: None,
        used_by: "runtime",
        secret: false,
        doc: "Log level: off (also 0, false, no, none), error, warn (warning), info, debug (also 1, true, yes, on), trace; case and surrounding spaces ignored; anything else is off. Logs go to each language's usual logger (stderr for Node and C).",
    },
    EnvVar {
        name: PARSEC_TEAMS_WORKER_THREADS,
        option: None,
        used_by: "runtime",
        secret: false,
        doc: "Worker threads of the bindings' shared runtime: 1 to 64; default half the CPUs, from 1 to 4. Any other value is the default.",
    },
];

/// The value of `name`, `None` when unset, empty or not Unicode.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A log level of [`PARSEC_TEAMS_LOG`], from quietest to loudest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// Every level, quietest first.
    pub const ALL: [LogLevel; 6] = [LogLevel::Off, LogLevel::Error, LogLevel::Warn, LogLevel::Info, LogLevel::Debug, LogLevel::Trace];

    /// The name, as a `tracing` filter directive takes it (`off`, `error`, ... `trace`).
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    /// The number of Python's `logging` module for this level (`Off` is
    /// above CRITICAL; `Trace` is 5, below DEBUG).
    pub const fn python_level(self) -> u32 {
        match self {
            LogLevel::Off => 100,
            LogLevel::Error => 40,
            LogLevel::Warn => 30,
            LogLevel::Info => 20,
            LogLevel::Debug => 10,
            LogLevel::Trace => 5,
        }
    }

    /// A `tracing` filter of the SDK's own events at this level (nothing
    /// else: a target directive matches by prefix, so the mock's
    /// `parsec_teams_mock` is switched off by name).
    pub fn filter_directive(self) -> String {
        format!("off,parsec_teams={},parsec_teams_mock=off", self.as_str())
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one parser of [`PARSEC_TEAMS_LOG`]: case and surrounding spaces are
/// ignored; `off`, `0`, `false`, `no`, `none` and the empty string are off;
/// `error`, `warn` (or `warning`), `info`, `debug`, `trace` are those levels;
/// `1`, `true`, `yes`, `on` are `debug`; anything else is off.
pub fn parse_log_level(value: &str) -> LogLevel {
    match value.trim().to_ascii_lowercase().as_str() {
        "error" => LogLevel::Error,
        "warn" | "warning" => LogLevel::Warn,
        "info" => LogLevel::Info,
        "debug" | "1" | "true" | "yes" | "on" => LogLevel::Debug,
        "trace" => LogLevel::Trace,
        _ => LogLevel::Off,
    }
}

/// The level [`PARSEC_TEAMS_LOG`] asks for (`Off` when unset).
pub fn log_level() -> LogLevel {
    var(PARSEC_TEAMS_LOG).map_or(LogLevel::Off, |v| parse_log_level(&v))
}

/// Sends the SDK's own `tracing` events to stderr at the level
/// [`PARSEC_TEAMS_LOG`] asks for (nothing when it is off), once per process;
/// for the bindings whose language's usual place for diagnostics is stderr
/// (C, Node). A subscriber the program installed first is left alone.
#[cfg(feature = "stderr-log")]
pub fn init_stderr_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let level = log_level();
        if level == LogLevel::Off {
            return;
        }
        let filter = tracing_subscriber::EnvFilter::new(level.filter_directive());
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false).try_init();
    });
}

/// The default number of worker threads: half the CPUs, from 1 to 4.
pub fn default_worker_threads(cpus: usize) -> usize {
    (cpus / 2).clamp(1, 4)
}

/// The one parser of [`PARSEC_TEAMS_WORKER_THREADS`]: a whole number from 1
/// to [`MAX_WORKER_THREADS`] (spaces ignored), else the default for `cpus`.
pub fn parse_worker_threads(value: Option<&str>, cpus: usize) -> usize {
    value
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=MAX_WORKER_THREADS).contains(n))
        .unwrap_or_else(|| default_worker_threads(cpus))
}

/// Worker threads of a binding's shared runtime, from [`PARSEC_TEAMS_WORKER_THREADS`]
/// and the number of CPUs of this machine.
pub fn worker_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    parse_worker_threads(var(PARSEC_TEAMS_WORKER_THREADS).as_deref(), cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_have_one_parser() {
        for (text, level) in [
            ("", LogLevel::Off),
            ("off", LogLevel::Off),
            ("0", LogLevel::Off),
            ("none", LogLevel::Off),
            ("verbose", LogLevel::Off),
            (" ERROR ", LogLevel::Error),
            ("Warning", LogLevel::Warn),
            ("warn", LogLevel::Warn),
            ("info", LogLevel::Info),
            ("DEBUG", LogLevel::Debug),
            ("1", LogLevel::Debug),
            ("true", LogLevel::Debug),
            ("trace", LogLevel::Trace),
        ] {
            assert_eq!(parse_log_level(text), level, "{text:?}");
        }
        assert_eq!(LogLevel::Info.filter_directive(), "off,parsec_teams=info,parsec_teams_mock=off");
        assert_eq!(LogLevel::Debug.python_level(), 10);
        assert!(LogLevel::Error < LogLevel::Trace);
    }

    #[test]
    fn worker_threads_have_one_default() {
        assert_eq!(parse_worker_threads(None, 2), 1);
        assert_eq!(parse_worker_threads(None, 1), 1);
        assert_eq!(parse_worker_threads(None, 6), 3);
        assert_eq!(parse_worker_threads(None, 64), 4);
        assert_eq!(parse_worker_threads(Some(" 8 "), 2), 8);
        assert_eq!(parse_worker_threads(Some("0"), 8), 4);
        assert_eq!(parse_worker_threads(Some("65"), 2), 1);
        assert_eq!(parse_worker_threads(Some("many"), 2), 1);
    }

    #[test]
    fn every_option_an_env_var_stands_for_exists() {
        for v in ENV_VARS {
            if let Some(o) = v.option {
                let spec = crate::options::option(o).unwrap_or_else(|| panic!("{} names {o}", v.name));
                assert!(matches!(spec.default, crate::options::OptionDefault::Env(name, _) if name == v.name), "{}", v.name);
            }
        }
    }
}
