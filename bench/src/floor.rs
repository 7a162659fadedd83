//! The sequential floor of this host: how fast any client can make one
//! `members.get` after another against the mock, for the benches of other
//! languages to run beside their contenders (bench/kotlin does).
//!
//! `parsec-teams-bench --floor` (with `PARSEC_BASE_URL`, `PARSEC_TEAM_ID` and
//! `PARSEC_API_KEY` set) reads commands on standard input, one per line, and
//! answers each with one line `WALL_NS CPU_NS` (or `error: ...`):
//!
//! - `raw FROM N`: N requests on one keep-alive `std::net::TcpStream`
//!   (TCP_NODELAY), each request written by hand in one `write`, the response
//!   read up to its `Content-Length` and its JSON decoded by serde_json. No
//!   HTTP library, no async runtime, one thread: the least work an HTTP/1.1
//!   client can do for the same request.
//! - `hyper FROM N`: hyper's own HTTP/1.1 client connection (one, keep-alive)
//!   on a current-thread tokio runtime, without reqwest's pool and layers: what
//!   a leaner transport on the same libraries could reach.
//! - `reqwest FROM N`: the bare reqwest + serde_json loop of the Rust bench on
//!   a current-thread tokio runtime, the way a blocking call of the Kotlin SDK
//!   runs (same HTTP stack as the SDK, without the SDK).
//!
//! Request number `i` asks for member `i % 1000 + 1` and checks the `user_id`
//! it gets, as the other benches do. CPU is this process's getrusage, so the
//! asking process's own CPU is not in it.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use serde_json::Value;

use crate::mock::FIXTURE_MEMBERS;
use crate::workload::{self_cpu_time, Clients, Which};
use crate::BoxError;

/// The command-line flag of this mode.
pub const FLAG: &str = "--floor";

/// The member asked for by request number `i`.
fn user_id(i: u64) -> u64 {
    i % FIXTURE_MEMBERS + 1
}

/// The mock's `host:port` and the path of its members, `/{prefix}/v1/teams/{team}/members/`
/// (plain http only: the floors talk to the loopback mock).
fn members_path(base_url: &str, team_id: &str) -> Result<(String, String), BoxError> {
    let rest = base_url.strip_prefix("http://").ok_or("the floors speak plain http only")?;
    let (host, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_end_matches('/');
    let prefix = if prefix.is_empty() { String::new() } else { format!("/{prefix}") };
    Ok((host.to_owned(), format!("{prefix}/v1/teams/{team_id}/members/")))
}

fn user_agent() -> String {
    format!("parsec-teams/{} (rust bench floor)", parsec_teams::VERSION)
}

/// Decodes a `members.get` body and checks it is member `user_id`.
fn check_member(body: &[u8], user_id: u64) -> Result<(), BoxError> {
    let v: Value = serde_json::from_slice(body)?;
    match v.get("data").and_then(|d| d.get("user_id")).and_then(Value::as_u64) {
        Some(got) if got == user_id => Ok(()),
        other => Err(format!("members.get {user_id}: got user_id {other:?}").into()),
    }
}

/// One keep-alive connection and the request head around the member id.
struct Raw {
    stream: TcpStream,
    /// `GET {path}/` ... the id ... ` HTTP/1.1\r\n{headers}\r\n`.
    before: String,
    after: String,
    buf: Vec<u8>,
}

impl Raw {
    fn connect(base_url: &str, team_id: &str, api_key: &str) -> Result<Raw, BoxError> {
        let (host, path) = members_path(base_url, team_id)?;
        let stream = TcpStream::connect(&host)?;
        stream.set_nodelay(true)?;
        let before = format!("GET {path}");
        let after =
            format!(" HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {api_key}\r\nuser-agent: {}\r\naccept: */*\r\n\r\n", user_agent());
        Ok(Raw { stream, before, after, buf: vec![0; 64 * 1024] })
    }

    fn get(&mut self, user_id: u64) -> Result<(), BoxError> {
        let request = format!("{}{user_id}{}", self.before, self.after);
        self.stream.write_all(request.as_bytes())?;
        let mut have = 0;
        let (head_end, length) = loop {
            let n = self.stream.read(&mut self.buf[have..])?;
            if n == 0 {
                return Err("the mock closed the connection".into());
            }
            have += n;
            if let Some(end) = self.buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                if !head.starts_with("HTTP/1.1 200") {
                    return Err(format!("members.get {user_id}: {}", head.lines().next().unwrap_or_default()).into());
                }
                let length = head
                    .lines()
                    .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim()))
                    .ok_or("no content-length")?
                    .parse::<usize>()?;
                break (end + 4, length);
            }
            if have == self.buf.len() {
                return Err("response head too long".into());
            }
        };
        let total = head_end + length;
        if total > self.buf.len() {
            self.buf.resize(total, 0);
        }
        while have < total {
            let n = self.stream.read(&mut self.buf[have..total])?;
            if n == 0 {
                return Err("the mock closed the connection mid-body".into());
            }
            have += n;
        }
        check_member(&self.buf[head_end..total], user_id)
    }
}

/// One hyper HTTP/1.1 connection, its driver spawned on the current-thread runtime.
struct Hyper {
    sender: hyper::client::conn::http1::SendRequest<http_body_util::Empty<bytes::Bytes>>,
    host: String,
    path: String,
    auth: String,
    agent: String,
}

impl Hyper {
    async fn connect(base_url: &str, team_id: &str, api_key: &str) -> Result<Hyper, BoxError> {
        let (host, path) = members_path(base_url, team_id)?;
        let stream = tokio::net::TcpStream::connect(&host).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Hyper { sender, host, path, auth: format!("Bearer {api_key}"), agent: user_agent() })
    }

    async fn get(&mut self, user_id: u64) -> Result<(), BoxError> {
        use http_body_util::BodyExt;
        let req = hyper::Request::get(format!("{}{user_id}", self.path))
            .header("host", &self.host)
            .header("authorization", &self.auth)
            .header("user-agent", &self.agent)
            .header("accept", "*/*")
            .body(http_body_util::Empty::new())?;
        self.sender.ready().await?;
        let resp = tokio::time::timeout(std::time::Duration::from_secs(60), self.sender.send_request(req)).await??;
        if !resp.status().is_success() {
            return Err(format!("members.get {user_id}: HTTP {}", resp.status()).into());
        }
        check_member(&resp.into_body().collect().await?.to_bytes(), user_id)
    }
}

/// Serves commands on standard input until it closes (module docs).
pub fn serve() -> Result<(), BoxError> {
    let var = |n: &str| std::env::var(n).map_err(|_| format!("{n} is not set"));
    let (base_url, team_id, api_key) = (var("PARSEC_BASE_URL")?, var("PARSEC_TEAM_ID")?, var("PARSEC_API_KEY")?);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let clients = Clients::new(&base_url, &team_id, &api_key)?;
    let mut raw = Raw::connect(&base_url, &team_id, &api_key)?;
    let mut hyper = rt.block_on(Hyper::connect(&base_url, &team_id, &api_key))?;
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let mut words = line.split_whitespace();
        let (what, from, n) = match (words.next(), words.next().map(str::parse::<u64>), words.next().map(str::parse::<u64>)) {
            (Some(w), Some(Ok(from)), Some(Ok(n))) => (w.to_owned(), from, n),
            _ => {
                writeln!(stdout.lock(), "error: expected `raw|hyper|reqwest FROM N`, got {line:?}")?;
                continue;
            }
        };
        let (t0, c0) = (Instant::now(), self_cpu_time());
        let result: Result<(), BoxError> = match what.as_str() {
            "raw" => (from..from + n).try_for_each(|i| raw.get(user_id(i))),
            "hyper" => rt.block_on(async {
                for i in from..from + n {
                    hyper.get(user_id(i)).await?;
                }
                Ok(())
            }),
            "reqwest" => rt.block_on(async {
                for i in from..from + n {
                    clients.get(Which::Bare, user_id(i) as i64).await?;
                }
                Ok(())
            }),
            other => Err(format!("unknown client {other:?}").into()),
        };
        let (wall, cpu) = (t0.elapsed(), self_cpu_time() - c0);
        let mut out = stdout.lock();
        match result {
            Ok(()) => writeln!(out, "{} {}", wall.as_nanos(), cpu.as_nanos())?,
            Err(e) => writeln!(out, "error: {e}")?,
        }
        out.flush()?;
    }
    Ok(())
}
