//! The mock clock: real time plus an offset that `POST /_mock/clock` grows.

use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime};

/// Real UTC time shifted by a settable number of milliseconds.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// The current mock time, truncated to milliseconds.
    pub fn now(&self) -> OffsetDateTime {
        let t = OffsetDateTime::now_utc() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed));
        let ms = t.millisecond();
        t.replace_millisecond(ms).unwrap_or(t)
    }

    /// Moves the clock forward by `seconds` (may be fractional).
    pub fn advance(&self, seconds: f64) {
        self.offset_ms.fetch_add((seconds * 1000.0).round() as i64, Ordering::Relaxed);
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
