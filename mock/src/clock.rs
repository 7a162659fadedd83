//! The mock clock: real time plus an offset that `POST /_mock/clock` grows.

use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime};

/// Largest total offset (100 years), so every date the mock computes stays far
/// inside what dates can hold.
pub const MAX_OFFSET_SECONDS: u64 = 36_525 * 86_400;

/// Real UTC time shifted by a settable number of milliseconds.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// The current mock time, truncated to milliseconds.
    pub fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        let t = now.checked_add(Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))).unwrap_or(now);
        let ms = t.millisecond();
        t.replace_millisecond(ms).unwrap_or(t)
    }

    /// Moves the clock forward by `seconds` (may be fractional); refused (the
    /// clock unchanged) unless `seconds` is finite, >= 0 and the total offset
    /// stays within [`MAX_OFFSET_SECONDS`].
    pub fn advance(&self, seconds: f64) -> Result<(), String> {
        let max_ms = (MAX_OFFSET_SECONDS * 1000) as i64;
        if !(seconds.is_finite() && seconds >= 0.0 && seconds <= MAX_OFFSET_SECONDS as f64) {
            return Err(format!("must be a number in 0..{MAX_OFFSET_SECONDS}"));
        }
        let step = (seconds * 1000.0).round() as i64;
        self.offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |cur| cur.checked_add(step).filter(|t| *t <= max_ms))
            .map(|_| ())
            .map_err(|cur| {
                format!("would move the clock more than {MAX_OFFSET_SECONDS} seconds ahead in all (it is {} s ahead)", cur / 1000)
            })
    }

    /// Back to real time.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

/// RFC 3339 text of a timestamp.
pub fn fmt(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Parses an RFC 3339 timestamp.
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}
