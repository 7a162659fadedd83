//! Instructions per request under `valgrind --tool=callgrind`: steadier than
//! wall time on a noisy, shared machine. This binary re-runs itself under
//! valgrind (the mock stays a native process, not traced) for N and 2N
//! sequential requests (`members.get`, and pages of 200); the difference
//! divided by N removes the setup (runtime, client, TLS config, first connection).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::mock::MockProcess;
use crate::workload::{Case, Clients, Which};
use crate::BoxError;

/// The first argument of the traced child.
pub const CHILD_FLAG: &str = "--callgrind-child";

/// A traced workload: `members.get` or pages of 200, N and 2N requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgCase {
    Get,
    Pages,
}

impl CgCase {
    pub fn key(self) -> &'static str {
        match self {
            CgCase::Get => "get",
            CgCase::Pages => "pages",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            CgCase::Get => "members.get, sequential",
            CgCase::Pages => "members.list(limit=200), sequential",
        }
    }
}

/// The instruction counts of one client in one case.
#[derive(Debug, Clone)]
pub struct Row {
    pub case: CgCase,
    pub which: Which,
    /// Requests of the smaller run (the larger one makes twice as many).
    pub n: usize,
    /// Total instructions of the client process for `n` and `2n` requests.
    pub small: u64,
    pub large: u64,
}

/// The callgrind pass.
#[derive(Debug, Clone)]
pub struct Callgrind {
    pub valgrind: String,
    pub rows: Vec<Row>,
}

impl Row {
    /// Instructions per request: (I(2n) - I(n)) / n.
    pub fn per_request(&self) -> f64 {
        (self.large as f64 - self.small as f64) / self.n as f64
    }
}

pub fn available() -> bool {
    Command::new("valgrind").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().map(|s| s.success()).unwrap_or(false)
}

/// Runs bare, core and core-json for N and 2N sequential requests under
/// callgrind against `mock`: 2,000 `members.get`, 100 pages of 200.
pub fn run(mock: &MockProcess, quick: bool) -> Result<Callgrind, BoxError> {
    let version = Command::new("valgrind").arg("--version").output().map_err(|e| format!("valgrind: {e}"))?;
    let valgrind = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for (case, n) in [(CgCase::Get, 2_000), (CgCase::Pages, 100)] {
        let n = if quick { n / 10 } else { n };
        for which in Which::ALL {
            let small = traced(&exe, mock, which, case.key(), n)?;
            let large = traced(&exe, mock, which, case.key(), 2 * n)?;
            let row = Row { case, which, n, small, large };
            eprintln!(
                "callgrind {:<36} {:<17} {n}: {small} Ir, {}: {large} Ir -> {:.0} Ir/request",
                case.label(),
                which.label(),
                2 * n,
                row.per_request()
            );
            rows.push(row);
        }
    }
    Ok(Callgrind { valgrind, rows })
}

/// Total instructions of one traced run of `requests` `members.get`.
fn traced(exe: &Path, mock: &MockProcess, which: Which, case: &str, requests: usize) -> Result<u64, BoxError> {
    let out = std::env::temp_dir().join(format!("parsec-teams-bench-callgrind-{}-{}-{requests}.out", std::process::id(), which.key()));
    let result = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .arg(CHILD_FLAG)
        .arg(which.key())
        .arg(case)
        .arg(requests.to_string())
        // The key goes by environment, never on a command line.
        .env("PARSEC_BASE_URL", &mock.base_url)
        .env("PARSEC_TEAM_ID", &mock.team_id)
        .env("PARSEC_API_KEY", &mock.api_key)
        .env_remove("PARSEC_TEAMS_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("could not run valgrind: {e}"));
    let text = std::fs::read_to_string(&out);
    let _ = std::fs::remove_file(&out);
    let output = result?;
    if !output.status.success() {
        return Err(format!(
            "valgrind ({} x {}) failed: {}\n{}",
            which.key(),
            requests,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let text = text.map_err(|e| format!("no callgrind output: {e}"))?;
    parse_total(&text).ok_or_else(|| "no `summary:` or `totals:` line in the callgrind output".into())
}

/// The total of the first event (Ir) of a callgrind output file.
fn parse_total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The traced child: `<which> <requests>` sequential `members.get`, client
/// settings from the environment.
pub fn child(args: &[String]) -> Result<(), BoxError> {
    let (which, case, requests) = match args {
        [w, c, n] => {
            let which = Which::parse(w).ok_or_else(|| format!("unknown client {w:?}"))?;
            let case = match c.as_str() {
                "get" => Case::Sequential,
                "pages" => Case::Pages,
                // Not in the default pass (the 2-worker runtime adds jitter): for investigations.
                "concurrent" => Case::Concurrent,
                other => return Err(format!("unknown case {other:?}").into()),
            };
            (which, case, n.parse::<usize>()?)
        }
        _ => return Err(format!("usage: {CHILD_FLAG} bare|core|core-json get|pages|concurrent REQUESTS").into()),
    };
    // A current-thread runtime: under valgrind (which runs one thread at a time
    // anyway) it makes the counts repeat to within a few instructions per request,
    // where the 2-worker runtime's work stealing and parking add a few % of jitter.
    let rt =
        if case == Case::Concurrent { crate::runtime()? } else { tokio::runtime::Builder::new_current_thread().enable_all().build()? };
    let clients = Clients::from_env()?;
    let page_offsets = (crate::mock::FIXTURE_MEMBERS as i64 / crate::workload::PAGE_LIMIT).max(1);
    clients.run(&rt, None, which, case, requests, page_offsets)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_total;

    #[test]
    fn callgrind_totals() {
        assert_eq!(parse_total("events: Ir\nsummary: 12345\n"), Some(12345));
        assert_eq!(parse_total("events: Ir\ntotals: 777 3\n"), Some(777));
        assert_eq!(parse_total("events: Ir\n"), None);
    }
}
