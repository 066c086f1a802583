//! How the workflows tools write times, durations, statuses and numbers for an
//! agent: timestamps in UTC and saying so, durations with units, "running for"
//! instead of a negative number, counts with thousands separators.
//!
//! Plue stores `TIMESTAMP` without a time zone, written by PostgreSQL's `now()`
//! in UTC; every value here is read as UTC, and "now" always comes from the
//! database (`now() AT TIME ZONE 'UTC'`), never from the plugin's clock.

use chrono::NaiveDateTime;
use plue_plugin_sdk::time::human_duration;

use crate::status::Status;

/// Seconds since the Unix epoch of a PostgreSQL `timestamp` (read as UTC) or
/// `timestamptz` value as the host sends it.
pub fn epoch(ts: &str) -> Option<f64> {
    let ts = ts.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) {
        return Some(t.timestamp() as f64 + f64::from(t.timestamp_subsec_micros()) / 1e6);
    }
    let t = ts
        .parse::<NaiveDateTime>()
        .or_else(|_| NaiveDateTime::parse_from_str(ts, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()?
        .and_utc();
    Some(t.timestamp() as f64 + f64::from(t.timestamp_subsec_micros()) / 1e6)
}

/// `2026-01-02 03:04:05 UTC`, or `-` when absent or unreadable.
pub fn utc(ts: Option<&str>) -> String {
    match ts.and_then(epoch) {
        Some(secs) => format!("{} UTC", plain(secs)),
        None => "-".into(),
    }
}

/// `2026-01-02 03:04:05` (UTC, for table columns whose header says so).
pub fn plain(secs: f64) -> String {
    chrono::DateTime::from_timestamp(secs.floor() as i64, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

/// RFC 3339 in UTC to the second (`2026-01-02T03:04:05Z`), for structured content.
pub fn rfc3339(ts: Option<&str>) -> Option<String> {
    ts.and_then(epoch).map(plue_plugin_sdk::time::rfc3339)
}

/// Serialize a database time as [`rfc3339`] does, for a row that is also an answer.
pub fn rfc3339_field<S: serde::Serializer>(ts: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match rfc3339(ts.as_deref()) {
        Some(t) => s.serialize_str(&t),
        None => s.serialize_none(),
    }
}

/// The database's "now", with helpers relative to it.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Unix seconds.
    pub now: f64,
}

impl Clock {
    /// A clock from the `now_utc` column of a row.
    pub fn from_db(now_utc: &str) -> Clock {
        Clock {
            now: epoch(now_utc).unwrap_or(0.0),
        }
    }

    /// `25m ago` (or `just now`).
    pub fn ago(&self, ts: Option<&str>) -> String {
        match ts.and_then(epoch) {
            Some(t) if self.now - t < 1.0 => "just now".into(),
            Some(t) => format!("{} ago", human_duration(self.now - t)),
            None => "-".into(),
        }
    }

    /// `2026-01-02 03:04:05 UTC (25m ago)`.
    pub fn at(&self, ts: Option<&str>) -> String {
        match ts {
            Some(_) if ts.and_then(epoch).is_some() => format!("{} ({})", utc(ts), self.ago(ts)),
            _ => "-".into(),
        }
    }

    /// Seconds since `ts`.
    pub fn since(&self, ts: Option<&str>) -> Option<f64> {
        ts.and_then(epoch).map(|t| (self.now - t).max(0.0))
    }

    /// The start of a window of `hours` ending now, as `2026-01-02 03:04:05 UTC`.
    pub fn window_start(&self, hours: f64) -> String {
        format!("{} UTC", plain(self.now - hours * 3600.0))
    }
}

/// A duration for people: `1m 25s`, `340 ms`; `-` when unknown.
pub fn duration(secs: Option<f64>) -> String {
    match secs {
        Some(s) if s.is_finite() => human_duration(s.max(0.0)),
        _ => "-".into(),
    }
}

/// How long a run or step took, or has been going: `1m 25s`, `running for 7h 2m`,
/// `not started`.
pub fn took(status: &Status, started: Option<&str>, secs: Option<f64>) -> String {
    match (status, started, secs) {
        (_, None, _) => "not started".into(),
        (Status::Running, Some(_), s) => format!("running for {}", duration(s)),
        (_, Some(_), Some(s)) => duration(Some(s)),
        (_, Some(_), None) => "-".into(),
    }
}

/// `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `part / whole` in percent, rounded to one decimal; `None` when `whole` is 0.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// `33.3%`, or `n/a` for no data.
pub fn percent_text(p: Option<f64>) -> String {
    p.map(|p| format!("{}%", plue_plugin_sdk::time::trim_float(p, 1)))
        .unwrap_or_else(|| "n/a".into())
}

/// A window length for people: `1 h`, `30 min`, `7 d`, `1.5 h`.
pub fn hours_text(hours: f64) -> String {
    let trim = |v: f64| plue_plugin_sdk::time::trim_float(v, 2);
    if hours < 1.0 {
        format!("{} min", trim(hours * 60.0))
    } else if hours >= 48.0 && (hours / 24.0).fract() == 0.0 {
        format!("{} d", trim(hours / 24.0))
    } else {
        format!("{} h", trim(hours))
    }
}

/// The first non-empty line of `text`, trimmed and cut to `max` characters.
pub fn first_line(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    cut(line, max)
}

/// `text` on one line (newlines shown as `⏎`), cut to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let joined = text
        .trim()
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join(" ⏎ ");
    cut(&joined, max)
}

/// `text` cut to `max` characters with `…`.
pub fn cut(text: &str, max: usize) -> String {
    plue_plugin_sdk::text::truncate_chars(text, max).0
}

/// A workflow's name for people: its name, or why it has none.
pub fn workflow_name(name: Option<&str>, definition_id: Option<i64>) -> String {
    match (name, definition_id) {
        (Some(n), _) => n.to_string(),
        (None, Some(id)) => format!("(definition #{id})"),
        (None, None) => "(definition deleted)".into(),
    }
}

/// A pattern for `ILIKE … ESCAPE '!'` matching `needle` anywhere, with the
/// wildcards in `needle` taken literally.
pub fn like_pattern(needle: &str) -> String {
    let mut out = String::from("%");
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(
            utc(Some("2026-01-02T03:04:05.123456")),
            "2026-01-02 03:04:05 UTC"
        );
        assert_eq!(utc(Some("2026-01-02T03:04:05")), "2026-01-02 03:04:05 UTC");
        assert_eq!(
            utc(Some("2026-01-02T04:04:05+01:00")),
            "2026-01-02 03:04:05 UTC"
        );
        assert_eq!(utc(None), "-");
        assert_eq!(
            rfc3339(Some("2026-01-02T03:04:05.5")).as_deref(),
            Some("2026-01-02T03:04:05Z")
        );
        let clock = Clock::from_db("2026-01-02T03:29:05");
        assert_eq!(clock.ago(Some("2026-01-02T03:04:05")), "25m ago");
        assert_eq!(
            clock.at(Some("2026-01-02T03:04:05")),
            "2026-01-02 03:04:05 UTC (25m ago)"
        );
        assert_eq!(clock.window_start(1.0), "2026-01-02 02:29:05 UTC");
    }

    #[test]
    fn durations_and_numbers() {
        assert_eq!(
            took(&Status::Running, Some("x"), Some(25320.0)),
            "running for 7h 2m"
        );
        assert_eq!(took(&Status::Failed, Some("x"), Some(85.0)), "1m 25s");
        assert_eq!(took(&Status::Pending, None, None), "not started");
        assert_eq!(thousands(95862), "95,862");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent_text(percent(2, 4)), "50%");
        assert_eq!(percent_text(percent(0, 0)), "n/a");
        assert_eq!(hours_text(0.5), "30 min");
        assert_eq!(hours_text(168.0), "7 d");
        assert_eq!(hours_text(1.5), "1.5 h");
    }

    #[test]
    fn text_helpers() {
        assert_eq!(like_pattern("bob_smith%!"), "%bob!_smith!%!!%");
        assert_eq!(first_line("\n  a\nb", 10), "a");
        assert_eq!(one_line("a\nb\n", 10), "a ⏎ b");
        assert_eq!(workflow_name(None, None), "(definition deleted)");
    }
}
