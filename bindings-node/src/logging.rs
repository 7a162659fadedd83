//! `PARSEC_TEAMS_LOG=debug|info|trace|warn|error` turns the core's logging on
//! without code: its `tracing` events (target `parsec_teams`, never the key) go
//! to stderr, Node's usual place for diagnostics.

use tracing_subscriber::EnvFilter;

pub fn init_from_env() {
    let Ok(level) = std::env::var("PARSEC_TEAMS_LOG") else {
        return;
    };
    let level = level.trim().to_ascii_lowercase();
    if !matches!(level.as_str(), "trace" | "debug" | "info" | "warn" | "error") {
        return;
    }
    let filter = EnvFilter::new(format!("off,parsec_teams={level},parsec_teams_mock=off"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false).try_init();
}
