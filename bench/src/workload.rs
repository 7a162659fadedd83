//! The three clients and the three cases, measured the same way.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parsec_teams::{spec, Client, ClientOptions, MembersListParams};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, USER_AGENT};
use serde_json::{Map, Value};

use crate::mock::MockProcess;
use crate::BoxError;

/// Member ids the `members.get` cases cycle through.
pub const GET_IDS: usize = 50;
/// Page size of the `members.list` case.
pub const PAGE_LIMIT: i64 = 200;
/// Concurrency of the concurrent case.
pub const CONCURRENCY: usize = 64;

/// Who makes the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// One `reqwest::Client`, `serde_json::from_slice::<Value>`, `["data"]`.
    Bare,
    /// The core's typed surface: `client.members().get(id)` / `.list(..)`.
    Core,
    /// The core's generic path the bindings use: `caller().call_json(op, args)`.
    CoreJson,
}

impl Which {
    pub const ALL: [Which; 3] = [Which::Bare, Which::Core, Which::CoreJson];

    pub fn label(self) -> &'static str {
        match self {
            Which::Bare => "bare reqwest",
            Which::Core => "core (typed)",
            Which::CoreJson => "core (call_json)",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Which::Bare => "bare",
            Which::Core => "core",
            Which::CoreJson => "core-json",
        }
    }

    pub fn parse(s: &str) -> Option<Which> {
        Which::ALL.into_iter().find(|w| w.key() == s)
    }
}

/// What is requested, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `n` `members.get`, one after the other.
    Sequential,
    /// `n` `members.get` from [`CONCURRENCY`] tasks sharing one client.
    Concurrent,
    /// `n` `members.list(limit=200)` pages, one after the other.
    Pages,
}

impl Case {
    pub const ALL: [Case; 3] = [Case::Sequential, Case::Concurrent, Case::Pages];

    pub fn label(self) -> &'static str {
        match self {
            Case::Sequential => "members.get, sequential",
            Case::Concurrent => "members.get, concurrency 64",
            Case::Pages => "members.list(limit=200), sequential",
        }
    }
}

/// One measured run.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub requests: usize,
    pub wall: Duration,
    /// getrusage(RUSAGE_SELF) user + system delta: the client process only.
    pub cpu: Duration,
    /// The mock process's CPU delta, when /proc tells.
    pub mock_cpu: Option<Duration>,
}

impl Sample {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64()
    }
    pub fn cpu_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.requests as f64
    }
    pub fn mock_cpu_us(&self) -> Option<f64> {
        self.mock_cpu.map(|c| c.as_secs_f64() * 1e6 / self.requests as f64)
    }
}

/// This process's user + system CPU time (every thread).
pub fn self_cpu_time() -> Duration {
    // SAFETY: getrusage fills the zeroed struct we own.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut ru) != 0 {
            return Duration::ZERO;
        }
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The bare client and the core client, both pointed at the mock.
#[derive(Clone)]
pub struct Clients {
    bare: reqwest::Client,
    /// `{base}/v1/teams/{team}/members`.
    members_url: Arc<str>,
    core: Client,
}

/// The `language` part of the User-Agent; both clients send the same header.
const LANGUAGE: &str = "rust bench";

impl Clients {
    pub fn new(base_url: &str, team_id: &str, api_key: &str) -> Result<Clients, BoxError> {
        let core = Client::new(ClientOptions::new().api_key(api_key).team_id(team_id).base_url(base_url).language(LANGUAGE))?;
        // Same default headers and socket options as the core's own client.
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {api_key}"))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(USER_AGENT, HeaderValue::from_str(&format!("parsec-teams/{} ({LANGUAGE})", parsec_teams::VERSION))?);
        let bare =
            reqwest::Client::builder().default_headers(headers).pool_idle_timeout(Duration::from_secs(20)).tcp_nodelay(true).build()?;
        let members_url = format!("{}/v1/teams/{team_id}/members", core.base_url()).into();
        Ok(Clients { bare, members_url, core })
    }

    pub fn from_mock(mock: &MockProcess) -> Result<Clients, BoxError> {
        Clients::new(&mock.base_url, &mock.team_id, &mock.api_key)
    }

    /// The same client settings from `PARSEC_BASE_URL`, `PARSEC_TEAM_ID` and
    /// `PARSEC_API_KEY` (the callgrind child; keeps the key off the command line).
    pub fn from_env() -> Result<Clients, BoxError> {
        let var = |n: &str| std::env::var(n).map_err(|_| format!("{n} is not set"));
        Clients::new(&var("PARSEC_BASE_URL")?, &var("PARSEC_TEAM_ID")?, &var("PARSEC_API_KEY")?)
    }

    /// One `members.get`.
    pub async fn get(&self, which: Which, user_id: i64) -> Result<(), BoxError> {
        match which {
            Which::Bare => {
                let resp = self.bare.get(format!("{}/{user_id}", self.members_url)).send().await?;
                if !resp.status().is_success() {
                    return Err(format!("members.get {user_id}: HTTP {}", resp.status()).into());
                }
                let body = resp.bytes().await?;
                let mut v: Value = serde_json::from_slice(&body)?;
                let data = v.get_mut("data").map(Value::take).ok_or("no data")?;
                black_box(data);
            }
            Which::Core => {
                black_box(self.core.members().get(user_id).await?);
            }
            Which::CoreJson => {
                let mut args = Map::new();
                args.insert("user_id".to_owned(), Value::from(user_id));
                let resp = self.core.caller().call_json(&spec::MEMBERS_GET, args).await?;
                black_box(resp.data);
            }
        }
        Ok(())
    }

    /// One `members.list(offset, limit=200)`; checks the page is full.
    pub async fn page(&self, which: Which, offset: i64) -> Result<(), BoxError> {
        let len = match which {
            Which::Bare => {
                let resp = self.bare.get(format!("{}?offset={offset}&limit={PAGE_LIMIT}", self.members_url)).send().await?;
                if !resp.status().is_success() {
                    return Err(format!("members.list: HTTP {}", resp.status()).into());
                }
                let body = resp.bytes().await?;
                let v: Value = serde_json::from_slice(&body)?;
                let len = v["data"].as_array().map_or(0, Vec::len);
                black_box(v);
                len
            }
            Which::Core => {
                let page = self.core.members().list(MembersListParams::default().limit(PAGE_LIMIT).offset(offset)).await?;
                let len = page.data.len();
                black_box(page);
                len
            }
            Which::CoreJson => {
                let mut args = Map::new();
                args.insert("offset".to_owned(), Value::from(offset));
                args.insert("limit".to_owned(), Value::from(PAGE_LIMIT));
                let resp = self.core.caller().call_json(&spec::MEMBERS_LIST, args).await?;
                let len = resp.data["data"].as_array().map_or(0, Vec::len);
                black_box(resp.data);
                len
            }
        };
        if len != PAGE_LIMIT as usize {
            return Err(format!("members.list offset {offset}: {len} items, expected {PAGE_LIMIT}").into());
        }
        Ok(())
    }

    /// `n` requests of `case` by `which`, measured (wall, client CPU, mock CPU).
    pub fn run(
        &self,
        rt: &tokio::runtime::Runtime,
        mock: Option<&MockProcess>,
        which: Which,
        case: Case,
        n: usize,
        page_offsets: i64,
    ) -> Result<Sample, BoxError> {
        let mock_before = mock.and_then(MockProcess::cpu_time);
        let cpu_before = self_cpu_time();
        let started = Instant::now();
        rt.block_on(self.drive(which, case, n, page_offsets))?;
        let wall = started.elapsed();
        let cpu = self_cpu_time().saturating_sub(cpu_before);
        let mock_cpu = match (mock_before, mock.and_then(MockProcess::cpu_time)) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        Ok(Sample { requests: n, wall, cpu, mock_cpu })
    }

    /// The requests themselves, on the runtime's worker threads (not on the
    /// thread blocked in `block_on`).
    async fn drive(&self, which: Which, case: Case, n: usize, page_offsets: i64) -> Result<(), BoxError> {
        match case {
            Case::Sequential => {
                let me = self.clone();
                tokio::spawn(async move {
                    for i in 0..n {
                        me.get(which, (i % GET_IDS) as i64 + 1).await?;
                    }
                    Ok::<(), BoxError>(())
                })
                .await??;
            }
            Case::Concurrent => {
                let next = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..CONCURRENCY)
                    .map(|_| {
                        let me = self.clone();
                        let next = next.clone();
                        tokio::spawn(async move {
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                if i >= n {
                                    return Ok::<(), BoxError>(());
                                }
                                me.get(which, (i % GET_IDS) as i64 + 1).await?;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await??;
                }
            }
            Case::Pages => {
                let me = self.clone();
                tokio::spawn(async move {
                    for i in 0..n as i64 {
                        me.page(which, (i % page_offsets.max(1)) * PAGE_LIMIT).await?;
                    }
                    Ok::<(), BoxError>(())
                })
                .await??;
            }
        }
        Ok(())
    }
}
