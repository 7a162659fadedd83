//! Client-side pacing of the documented quotas (50 requests per 5 minutes for
//! the audit log, invite creation and invite resending), shared by every clone
//! of one client, so a script that stays inside one client never earns the
//! service's 5-minute block.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

/// How the client paces quota'd operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaConfig {
    /// Requests allowed in one window (default 50).
    pub limit: u32,
    /// Length of the window (default 5 minutes).
    pub window: Duration,
    /// Whether to pace at all (default true). Without pacing, the service's
    /// 429 and its `Retry-After` are what the caller sees.
    pub enabled: bool,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            limit: 50,
            window: Duration::from_secs(300),
            enabled: true,
        }
    }
}

/// What one quota has left.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaStatus {
    /// The quota's name: `audit_log`, `invites_create` or `invites_resend`.
    pub name: &'static str,
    pub limit: u32,
    /// Requests that may be sent now without waiting.
    pub remaining: u32,
    pub window: Duration,
    /// When the next slot frees up (None when `remaining == limit`).
    pub refills_in: Option<Duration>,
    /// Set while the service has blocked this quota (after a 429).
    pub blocked_for: Option<Duration>,
}

#[derive(Default)]
struct Window {
    sent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

/// The pacer: a sliding log of send times per quota. Any fixed window the
/// service may use lies inside some sliding window, so staying under the limit
/// in every sliding window never trips the service's quota.
pub(crate) struct Pacer {
    config: QuotaConfig,
    windows: Mutex<HashMap<&'static str, Window>>,
}

impl Pacer {
    pub fn new(config: QuotaConfig) -> Pacer {
        Pacer {
            config,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request under `quota` may be sent and records it. Fails
    /// at once when the service has blocked the quota for longer than `max_wait`.
    pub async fn acquire(&self, quota: &'static str, max_wait: Duration) -> Result<()> {
        if !self.config.enabled {
            return Ok(());
        }
        loop {
            let wait = {
                let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
                let w = windows.entry(quota).or_default();
                let now = Instant::now();
                match w.blocked_until {
                    Some(until) if until > now => {
                        let wait = until - now;
                        if wait > max_wait {
                            let mut e = Error::new(
                                ErrorKind::RateLimited,
                                format!(
                                    "the service blocked the {quota} quota; it refills in {:.0}s",
                                    wait.as_secs_f64().ceil()
                                ),
                            );
                            e.inner.retry_after = Some(wait.as_secs_f64().ceil());
                            e.inner.retryable = true;
                            return Err(e);
                        }
                        wait
                    }
                    _ => {
                        w.blocked_until = None;
                        while w
                            .sent
                            .front()
                            .is_some_and(|t| now.duration_since(*t) >= self.config.window)
                        {
                            w.sent.pop_front();
                        }
                        if (w.sent.len() as u32) < self.config.limit {
                            w.sent.push_back(now);
                            return Ok(());
                        }
                        (w.sent[0] + self.config.window).saturating_duration_since(now)
                    }
                }
            };
            tracing::info!(target: "parsec_teams", quota, wait_ms = wait.as_millis() as u64, "pacing: waiting for the quota window");
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Records that the service answered 429 for `quota`, blocking it for `secs`.
    pub fn block(&self, quota: &'static str, secs: f64) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let w = windows.entry(quota).or_default();
        w.blocked_until = Some(Instant::now() + Duration::from_secs_f64(secs.max(0.0)));
    }

    pub fn status(&self, quotas: &[&'static str]) -> Vec<QuotaStatus> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        quotas
            .iter()
            .map(|&name| {
                let w = windows.entry(name).or_default();
                while w
                    .sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.config.window)
                {
                    w.sent.pop_front();
                }
                let used = w.sent.len() as u32;
                QuotaStatus {
                    name,
                    limit: self.config.limit,
                    remaining: self.config.limit.saturating_sub(used),
                    window: self.config.window,
                    refills_in: w
                        .sent
                        .front()
                        .map(|t| (*t + self.config.window).saturating_duration_since(now)),
                    blocked_for: w.blocked_until.filter(|u| *u > now).map(|u| u - now),
                }
            })
            .collect()
    }
}
