//! Fixed-window request quotas with a block after the limit is exceeded.

use crate::state::QuotaState;
use crate::validate::ApiError;
use std::time::Duration;
use time::OffsetDateTime;

/// Requests allowed per window.
pub const LIMIT: u32 = 50;

/// Names of the quota'd operations.
pub const AUDIT_LOG: &str = "audit_log.list_events";
pub const INVITES_CREATE: &str = "invites.create";
pub const INVITES_RESEND: &str = "invites.resend";

fn ceil_secs(d: time::Duration) -> u64 {
    let ms = d.whole_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}

/// Counts one request against `q` at `now`. The window starts at the first counted
/// request and lasts `window`; request `LIMIT + 1` inside it is refused and starts a
/// block as long as the window. Requests during a block are refused, not counted.
pub fn check(q: &mut QuotaState, name: &str, now: OffsetDateTime, window: Duration) -> Result<(), ApiError> {
    let window = time::Duration::try_from(window).unwrap_or(time::Duration::seconds(300));
    if let Some(until) = q.blocked_until {
        if now < until {
            let secs = ceil_secs(until - now);
            return Err(ApiError::too_many(format!("{name}: quota of {LIMIT} requests exceeded; blocked for {secs} more seconds"), secs));
        }
        q.blocked_until = None;
        q.window_start = None;
        q.count = 0;
    }
    match q.window_start {
        Some(start) if now < start + window => {}
        _ => {
            q.window_start = Some(now);
            q.count = 0;
        }
    }
    q.count += 1;
    if q.count > LIMIT {
        q.blocked_until = Some(now + window);
        let secs = ceil_secs(window);
        return Err(ApiError::too_many(format!("{name}: quota of {LIMIT} requests per window exceeded; blocked for {secs} seconds"), secs));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn window_then_block() {
        let mut q = QuotaState::default();
        let t = datetime!(2025-01-01 00:00:00 UTC);
        let w = Duration::from_secs(300);
        for _ in 0..50 {
            check(&mut q, "x", t, w).unwrap();
        }
        let e = check(&mut q, "x", t + time::Duration::seconds(10), w).unwrap_err();
        assert_eq!(e.retry_after, Some(300));
        let e = check(&mut q, "x", t + time::Duration::seconds(110), w).unwrap_err();
        assert_eq!(e.retry_after, Some(200));
        check(&mut q, "x", t + time::Duration::seconds(311), w).unwrap();
        assert_eq!(q.count, 1);
        // A new window after the old one ends.
        let mut q = QuotaState::default();
        check(&mut q, "x", t, w).unwrap();
        check(&mut q, "x", t + time::Duration::seconds(301), w).unwrap();
        assert_eq!(q.count, 1);
    }
}
