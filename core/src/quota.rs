//! Client-side pacing of the documented quotas (50 requests per 5 minutes for
//! the audit log, invite creation and invite resending), shared by every clone
//! of one client, so a script that stays inside one client never earns the
//! service's 5-minute block.

use std::collections::HashMap;
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
        use crate::options::{DEFAULT_QUOTA_LIMIT, DEFAULT_QUOTA_PACING, DEFAULT_QUOTA_WINDOW};
        QuotaConfig { limit: DEFAULT_QUOTA_LIMIT, window: DEFAULT_QUOTA_WINDOW, enabled: DEFAULT_QUOTA_PACING }
    }
}

/// What one quota has left. Serializes (serde) as
/// `{"name", "limit", "remaining", "window", "refills_in", "blocked_for"}`
/// with the durations in seconds (`null` when absent): the one shape every
/// binding returns.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QuotaStatus {
    /// The quota's name: `audit_log`, `invites_create` or `invites_resend`.
    pub name: &'static str,
    pub limit: u32,
    /// Requests that may be sent now without waiting.
    pub remaining: u32,
    #[serde(serialize_with = "seconds")]
    pub window: Duration,
    /// When the next slot frees up (None when `remaining == limit`).
    #[serde(serialize_with = "opt_seconds")]
    pub refills_in: Option<Duration>,
    /// Set while the service has blocked this quota (after a 429).
    #[serde(serialize_with = "opt_seconds")]
    pub blocked_for: Option<Duration>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn opt_seconds<S: serde::Serializer>(d: &Option<Duration>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

#[derive(Default)]
struct Window {
    /// One entry per request under way or sent within the window: its slot id
    /// and when it last could have been counted by the service.
    sent: Vec<(u64, Instant)>,
    next_slot: u64,
    blocked_until: Option<Instant>,
}

impl Window {
    fn prune(&mut self, now: Instant, window: Duration) {
        self.sent.retain(|(_, t)| now.saturating_duration_since(*t) < window);
    }

    fn oldest(&self) -> Option<Instant> {
        self.sent.iter().map(|(_, t)| *t).min()
    }
}

/// A request's place in a quota window, returned by [`Pacer::acquire`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    quota: &'static str,
    id: u64,
}

/// The pacer: a sliding log of request times per quota. Each request's entry
/// is stamped when it is sent and stamped again when its answer arrives (the
/// service counted it somewhere in between), so the entry frees up one window
/// after the latest moment the service can have counted it. Any fixed window
/// the service may use then lies inside one of the client's sliding windows,
/// and staying under the limit in every sliding window never trips the quota.
pub(crate) struct Pacer {
    config: QuotaConfig,
    windows: Mutex<HashMap<&'static str, Window>>,
}

impl Pacer {
    pub fn new(config: QuotaConfig) -> Pacer {
        Pacer { config, windows: Mutex::new(HashMap::new()) }
    }

    /// Waits until a request under `quota` may be sent and records it. Fails
    /// at once when the service has blocked the quota for longer than `max_wait`.
    pub async fn acquire(&self, quota: &'static str, max_wait: Duration) -> Result<Option<Slot>> {
        if !self.config.enabled {
            return Ok(None);
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
                                format!("the service blocked the {quota} quota; it refills in {:.0}s", wait.as_secs_f64().ceil()),
                            );
                            e.inner.retry_after = Some(wait.as_secs_f64().ceil());
                            e.inner.retryable = true;
                            return Err(e);
                        }
                        wait
                    }
                    _ => {
                        w.blocked_until = None;
                        w.prune(now, self.config.window);
                        if (w.sent.len() as u32) < self.config.limit {
                            let id = w.next_slot;
                            w.next_slot += 1;
                            w.sent.push((id, now));
                            return Ok(Some(Slot { quota, id }));
                        }
                        match w.oldest().unwrap_or(now).checked_add(self.config.window) {
                            Some(end) => end.saturating_duration_since(now),
                            None => {
                                let mut e = Error::new(
                                    ErrorKind::RateLimited,
                                    format!("the {quota} quota is used up and its window is too long to wait for"),
                                );
                                e.inner.retryable = true;
                                return Err(e);
                            }
                        }
                    }
                }
            };
            tracing::info!(target: "parsec_teams", quota, wait_ms = wait.as_millis() as u64, "pacing: waiting for the quota window");
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Stamps the slot's entry with the time the answer (or failure) arrived.
    pub fn complete(&self, slot: Slot) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = windows.get_mut(slot.quota).and_then(|w| w.sent.iter_mut().find(|(id, _)| *id == slot.id)) {
            entry.1 = Instant::now();
        }
    }

    /// Records that the service answered 429 for `quota`, blocking it for
    /// `secs` (a server value: anything beyond a day, or no number at all,
    /// counts as a day).
    pub fn block(&self, quota: &'static str, secs: f64) {
        const LONGEST: Duration = Duration::from_secs(24 * 3600);
        let wait = Duration::try_from_secs_f64(secs).unwrap_or(LONGEST).min(LONGEST);
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let w = windows.entry(quota).or_default();
        w.blocked_until = Some(now.checked_add(wait).unwrap_or(now));
    }

    pub fn status(&self, quotas: &[&'static str]) -> Vec<QuotaStatus> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        quotas
            .iter()
            .map(|&name| {
                let w = windows.entry(name).or_default();
                w.prune(now, self.config.window);
                let used = w.sent.len() as u32;
                QuotaStatus {
                    name,
                    limit: self.config.limit,
                    remaining: self.config.limit.saturating_sub(used),
                    window: self.config.window,
                    refills_in: w
                        .oldest()
                        .map(|t| t.checked_add(self.config.window).map_or(Duration::MAX, |end| end.saturating_duration_since(now))),
                    blocked_for: w.blocked_until.filter(|u| *u > now).map(|u| u - now),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_status_serializes_in_seconds() {
        let s = QuotaStatus {
            name: "audit_log",
            limit: 50,
            remaining: 49,
            window: Duration::from_secs(300),
            refills_in: Some(Duration::from_millis(1500)),
            blocked_for: None,
        };
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({"name": "audit_log", "limit": 50, "remaining": 49, "window": 300.0, "refills_in": 1.5, "blocked_for": null})
        );
    }
}
