//! The mock server in its own process, so that its CPU time never lands in the
//! client's `getrusage(RUSAGE_SELF)`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use parsec_teams_mock::Fixture;
use serde_json::Value;

use crate::BoxError;

/// How many members the benchmark fixture holds (pages of 200 must be full).
pub const FIXTURE_MEMBERS: u64 = 1_000;

/// A running `parsec-teams-mock` child process; killed on drop.
pub struct MockProcess {
    child: Child,
    pub base_url: String,
    pub team_id: String,
    pub api_key: String,
}

/// The default fixture with members extended to [`FIXTURE_MEMBERS`]. Members
/// 1..=50 (the owner, the key holder, ...) are kept as they are; the others are
/// copies of member 50 (no group, no app rule) with their own id, name and email.
pub fn fixture_json() -> Result<Vec<u8>, BoxError> {
    let mut fixture = Fixture::default();
    let template = fixture.members.iter().max_by_key(|m| m.user_id).cloned().ok_or("the default fixture has no members")?;
    for uid in template.user_id + 1..=FIXTURE_MEMBERS {
        let mut m = template.clone();
        m.user_id = uid;
        m.email = format!("bench.member{uid}@example.com");
        m.name = format!("Bench Member {uid}");
        m.is_admin = false;
        m.is_owner = false;
        m.has_api_key = false;
        m.group_ids.clear();
        m.team_app_rule_id = None;
        m.created_at = template.created_at + time::Duration::minutes(uid as i64);
        fixture.members.push(m);
    }
    Ok(serde_json::to_vec(&fixture)?)
}

impl MockProcess {
    /// Starts `bin --port 0 --fixture <generated file>` and reads its first
    /// stdout line (`{"base_url", "team_id", "api_key", ...}`).
    pub fn start(bin: &Path) -> Result<MockProcess, BoxError> {
        if !bin.is_file() {
            return Err(format!("mock binary {} not found (build it: cargo build --release -p parsec-teams-mock)", bin.display()).into());
        }
        let fixture = std::env::temp_dir().join(format!("parsec-teams-bench-fixture-{}.json", std::process::id()));
        std::fs::write(&fixture, fixture_json()?)?;
        let started = Self::spawn(bin, &fixture);
        let _ = std::fs::remove_file(&fixture);
        started
    }

    fn spawn(bin: &Path, fixture: &PathBuf) -> Result<MockProcess, BoxError> {
        let mut child = Command::new(bin)
            .arg("--port")
            .arg("0")
            .arg("--fixture")
            .arg(fixture)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
        let mut line = String::new();
        let read = child.stdout.take().map(|out| BufReader::new(out).read_line(&mut line));
        let info: Value = match read {
            Some(Ok(n)) if n > 0 => serde_json::from_str(line.trim())?,
            _ => {
                let _ = child.kill();
                let status = child.wait()?;
                return Err(format!("the mock exited before listening ({status})").into());
            }
        };
        let field = |name: &str| -> Result<String, BoxError> {
            info.get(name).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("the mock's first line has no {name:?}").into())
        };
        let (base_url, team_id, api_key) = match (field("base_url"), field("team_id"), field("api_key")) {
            (Ok(b), Ok(t), Ok(k)) => (b, t, k),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        Ok(MockProcess { child, base_url, team_id, api_key })
    }

    /// The mock process's CPU time so far (from /proc, Linux only): the sum of
    /// its threads' `schedstat` run times (nanoseconds), else `stat`'s
    /// utime + stime (clock ticks, 10 ms).
    pub fn cpu_time(&self) -> Option<Duration> {
        schedstat_cpu_time(self.child.id()).or_else(|| proc_cpu_time(self.child.id()))
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        // SIGTERM first (the mock shuts down cleanly), SIGKILL if it lingers.
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The on-CPU time of every live thread of a process, in nanoseconds.
fn schedstat_cpu_time(pid: u32) -> Option<Duration> {
    let mut total: u64 = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = entry.ok()?.path().join("schedstat");
        let text = std::fs::read_to_string(path).ok()?;
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// utime + stime of a process, from `/proc/<pid>/stat` (clock ticks).
fn proc_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 2 (comm) is in parentheses and may hold spaces: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz <= 0 {
        return None;
    }
    Some(Duration::from_secs_f64((utime + stime) as f64 / hz as f64))
}
