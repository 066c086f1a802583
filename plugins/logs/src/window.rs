//! The time window a tool looks at, from the agent's `start` and `end` (`1h`,
//! `now-30m`, RFC 3339, Unix seconds), held in Unix nanoseconds as Loki wants them,
//! and the RFC 3339 (UTC) rendering of Loki's nanosecond timestamps.

use chrono::{DateTime, SecondsFormat};
use plue_plugin_sdk::ToolError;
use plue_plugin_sdk::time::{parse_duration, parse_time};

use crate::logql;

pub use plue_plugin_sdk::time::rfc3339_ms;

/// `ns` as RFC 3339 in UTC to the second.
pub fn rfc3339_s(ns: i64) -> String {
    DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A half-open window `[start, end)` in Unix nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub start_ns: i64,
    pub end_ns: i64,
    /// `last 1h` when the window ends now and `start` was a duration.
    relative: Option<String>,
}

impl Window {
    /// The window from `start` to `end` (default now), as of `now_ns`.
    pub fn parse(start: &str, end: Option<&str>, now_ns: i64) -> Result<Window, ToolError> {
        let at = |name: &str, text: &str| -> Result<i64, ToolError> {
            let text = text.trim();
            if text.is_empty() || text.eq_ignore_ascii_case("now") {
                return Ok(now_ns);
            }
            let secs = parse_time(text, now_ns as f64 / 1e9)
                .map_err(|e| ToolError::invalid(format!("`{name}`: {e}")))?;
            Ok((secs * 1e9).round() as i64)
        };
        let end_text = end
            .map(str::trim)
            .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("now"));
        let start_ns = at("start", start)?;
        let end_ns = match end_text {
            Some(e) => at("end", e)?,
            None => now_ns,
        };
        if start_ns >= end_ns {
            return Err(ToolError::invalid(format!(
                "`start` ({}) must be before `end` ({})",
                rfc3339_s(start_ns),
                rfc3339_s(end_ns)
            )));
        }
        let lookback = start
            .trim()
            .trim_start_matches("now-")
            .trim_start_matches('-');
        // A duration with a unit; a bare number is a Unix time.
        let is_duration =
            parse_duration(lookback).is_ok() && lookback.contains(char::is_alphabetic);
        let relative = (end_text.is_none() && is_duration).then(|| format!("last {lookback}"));
        Ok(Window {
            start_ns,
            end_ns,
            relative,
        })
    }

    /// The window `[start_ns, end_ns)`.
    pub fn between(start_ns: i64, end_ns: i64) -> Window {
        Window {
            start_ns,
            end_ns,
            relative: None,
        }
    }

    /// The window's length in seconds.
    pub fn seconds(&self) -> f64 {
        (self.end_ns - self.start_ns) as f64 / 1e9
    }

    /// The window's length as a LogQL range (`1h`).
    pub fn range(&self) -> String {
        logql::range(self.seconds())
    }

    /// `the last 1h (2026-01-02T02:04:05Z to 2026-01-02T03:04:05Z)`, or the two times.
    pub fn describe(&self) -> String {
        let span = format!("{} to {}", rfc3339_s(self.start_ns), rfc3339_s(self.end_ns));
        match &self.relative {
            Some(r) => format!("the {r} ({span})"),
            None => span,
        }
    }

    /// The window for structured content.
    pub fn json(&self) -> WindowJson {
        WindowJson {
            start: rfc3339_ms(self.start_ns),
            end: rfc3339_ms(self.end_ns),
        }
    }
}

// A window in structured content.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct WindowJson {
    /// Inclusive.
    pub start: String,
    /// Exclusive.
    pub end: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000_000_000;

    #[test]
    fn windows() {
        let w = Window::parse("1h", None, NOW).unwrap();
        assert_eq!((w.start_ns, w.end_ns), (NOW - 3_600_000_000_000, NOW));
        assert_eq!(w.range(), "1h");
        assert_eq!(
            w.describe(),
            "the last 1h (2025-11-24T15:00:00Z to 2025-11-24T16:00:00Z)"
        );
        let w = Window::parse("now-30m", Some("now"), NOW).unwrap();
        assert_eq!(
            w.describe(),
            "the last 30m (2025-11-24T15:30:00Z to 2025-11-24T16:00:00Z)"
        );
        let w = Window::parse("2025-11-24T15:00:00Z", Some("2025-11-24T15:20:00Z"), NOW).unwrap();
        assert_eq!(w.range(), "20m");
        assert_eq!(w.describe(), "2025-11-24T15:00:00Z to 2025-11-24T15:20:00Z");
        let w = Window::parse("1763996400", None, NOW).unwrap();
        assert_eq!(w.describe(), "2025-11-24T15:00:00Z to 2025-11-24T16:00:00Z");
        assert!(
            Window::parse("now", None, NOW)
                .unwrap_err()
                .to_string()
                .contains("must be before")
        );
        assert!(
            Window::parse("yesterday", None, NOW)
                .unwrap_err()
                .to_string()
                .contains("`start`")
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_ms(NOW + 123_456_789), "2025-11-24T16:00:00.123Z");
        assert_eq!(rfc3339_s(NOW + 999_000_000), "2025-11-24T16:00:00Z");
    }
}
