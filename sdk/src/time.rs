//! Times and durations as agents write them: `now`, `15m`, `2h`, `7d`, `now-1h`,
//! RFC 3339 and Unix seconds; and durations rendered for people.
//!
//! ```
//! use plue_plugin_sdk::time::{parse_duration, parse_time, human_duration};
//! let now = 1_700_000_000.0;
//! assert_eq!(parse_duration("1h30m").unwrap(), 5400.0);
//! assert_eq!(parse_time("15m", now).unwrap(), now - 900.0);
//! assert_eq!(parse_time("now", now).unwrap(), now);
//! assert_eq!(parse_time("2023-11-14T22:13:20Z", now).unwrap(), now);
//! assert_eq!(parse_time("1700000000", now).unwrap(), now);
//! assert_eq!(human_duration(5400.0), "1h 30m");
//! ```

use chrono::{DateTime, SecondsFormat, Utc};

/// Seconds since the Unix epoch, now.
pub fn now() -> f64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    d.as_secs_f64()
}

/// A duration in seconds from `500ms`, `30s`, `15m`, `2h`, `7d`, `1w`, or a
/// combination such as `1h30m`. A bare number means seconds.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration: use a number with a unit, such as 15m, 2h or 7d".into());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return if secs.is_finite() && secs >= 0.0 {
            Ok(secs)
        } else {
            Err(format!(
                "duration `{text}` must be a non-negative number of seconds"
            ))
        };
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| {
                format!("duration `{text}` has a number without a unit (use ms, s, m, h, d or w)")
            })?;
        if digits == 0 {
            return Err(format!(
                "duration `{text}` is not like 15m, 2h, 7d or 1h30m"
            ));
        }
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("duration `{text}` has a bad number"))?;
        let unit_len = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len() - digits);
        let unit = &rest[digits..digits + unit_len];
        let factor = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "w" => 604800.0,
            "y" => 31_536_000.0,
            _ => {
                return Err(format!(
                    "duration `{text}` has unknown unit `{unit}` (use ms, s, m, h, d or w)"
                ));
            }
        };
        total += number * factor;
        rest = &rest[digits + unit_len..];
    }
    Ok(total)
}

/// A point in time, in Unix seconds, from `now`, `now-15m`, a relative duration
/// meaning that long ago (`15m`, `-15m`), RFC 3339, or Unix seconds (or
/// milliseconds, when the number is too large to be seconds).
pub fn parse_time(text: &str, now: f64) -> Result<f64, String> {
    let s = text.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rest) = s.strip_prefix("now-").or_else(|| s.strip_prefix("now - ")) {
        return parse_duration(rest).map(|d| now - d);
    }
    if let Some(rest) = s.strip_prefix("now+") {
        return parse_duration(rest).map(|d| now + d);
    }
    if let Ok(n) = s.parse::<f64>() {
        if !n.is_finite() || n < 0.0 {
            return Err(format!("time `{text}` is not a valid Unix timestamp"));
        }
        // Seconds until the year 5138; beyond that it must be milliseconds.
        return Ok(if n > 1e11 { n / 1000.0 } else { n });
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9);
    }
    let relative = s.strip_prefix('-').unwrap_or(s);
    parse_duration(relative).map(|d| now - d).map_err(|_| {
        format!("time `{text}` is not understood: use now, a duration ago such as 15m or 2h, now-1h, RFC 3339 (2026-01-02T15:04:05Z) or Unix seconds")
    })
}

/// Nanoseconds since the Unix epoch, now (Loki's unit).
pub fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

/// RFC 3339 in UTC with milliseconds, from Unix nanoseconds:
/// `2026-01-02T03:04:05.678Z`.
///
/// ```
/// assert_eq!(plue_plugin_sdk::time::rfc3339_ms(1_700_000_000_123_456_789), "2023-11-14T22:13:20.123Z");
/// ```
pub fn rfc3339_ms(unix_nanos: i64) -> String {
    DateTime::from_timestamp_nanos(unix_nanos).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// RFC 3339 in UTC, to the second: `2026-01-02T03:04:05Z`.
pub fn rfc3339(unix_seconds: f64) -> String {
    DateTime::<Utc>::from_timestamp(unix_seconds.floor() as i64, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("{unix_seconds}"))
}

/// A duration in seconds for people: `340 ms`, `12.5 s`, `4m 10s`, `1h 30m`, `3d 2h`.
pub fn human_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "unknown".into();
    }
    let neg = if seconds < 0.0 { "-" } else { "" };
    let s = seconds.abs();
    let text = if s < 1.0 {
        format!("{} ms", trim_float(s * 1000.0, 1))
    } else if s < 60.0 {
        format!("{} s", trim_float(s, 1))
    } else if s < 3600.0 {
        let m = (s / 60.0).floor();
        format!("{}m {}s", m, (s - m * 60.0).floor())
    } else if s < 86400.0 {
        let h = (s / 3600.0).floor();
        format!("{}h {}m", h, ((s - h * 3600.0) / 60.0).floor())
    } else {
        let d = (s / 86400.0).floor();
        format!("{}d {}h", d, ((s - d * 86400.0) / 3600.0).floor())
    };
    let text = text
        .replace(" 0s", "")
        .replace(" 0m", "")
        .replace(" 0h", "");
    format!("{neg}{text}")
}

/// "5m ago", relative to `now`.
pub fn ago(unix_seconds: f64, now: f64) -> String {
    format!("{} ago", human_duration(now - unix_seconds))
}

/// A float with at most `decimals` decimals and no trailing zeros.
pub fn trim_float(value: f64, decimals: usize) -> String {
    let s = format!("{value:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (input, secs) in [
            ("500ms", 0.5),
            ("30s", 30.0),
            ("15m", 900.0),
            ("2h", 7200.0),
            ("7d", 604800.0),
            ("1w", 604800.0),
            ("1h30m", 5400.0),
            ("90", 90.0),
            ("1.5h", 5400.0),
        ] {
            assert_eq!(parse_duration(input), Ok(secs), "{input}");
        }
        for bad in ["", "abc", "15x", "m", "-5m", "5m3"] {
            assert!(parse_duration(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn times() {
        let now = 1_000_000.0;
        for (input, t) in [
            ("now", now),
            ("", now),
            ("now-1h", now - 3600.0),
            ("1h", now - 3600.0),
            ("-1h", now - 3600.0),
            ("now+5m", now + 300.0),
            ("1700000000000", 1_700_000_000.0),
            ("1970-01-12T13:46:40Z", 1_000_000.0),
            ("1970-01-12T14:46:40+01:00", 1_000_000.0),
        ] {
            assert_eq!(parse_time(input, now), Ok(t), "{input}");
        }
        assert!(
            parse_time("yesterday", now)
                .unwrap_err()
                .contains("RFC 3339")
        );
    }

    #[test]
    fn human() {
        for (secs, text) in [
            (0.34, "340 ms"),
            (12.5, "12.5 s"),
            (250.0, "4m 10s"),
            (3600.0, "1h"),
            (90000.0, "1d 1h"),
            (-60.0, "-1m"),
            (f64::NAN, "unknown"),
        ] {
            assert_eq!(human_duration(secs), text);
        }
    }
}
