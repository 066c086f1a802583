//! How values read to an agent: numbers without float noise, rates and latencies with
//! their units, percentages, series as PromQL would write them, times relative to now,
//! and "no data" in words where Prometheus says NaN.

use plue_plugin_sdk::time::{ago, parse_time, rfc3339, trim_float};

use crate::api::Labels;

/// Prometheus's sample text as a number; `None` for NaN, ±Inf and anything unparsable.
pub fn parse_value(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Prometheus's sample text for people: numbers trimmed, NaN as "no data".
pub fn raw_value(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(v) if v.is_nan() => "no data".into(),
        Ok(v) if v.is_infinite() => if v > 0.0 { "+Inf" } else { "-Inf" }.into(),
        Ok(v) => number(v),
        Err(_) => text.into(),
    }
}

/// A number with as many decimals as its size needs: `45`, `406.25`, `1.1`, `0.0244`.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        return "no data".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-4..1e15).contains(&a) {
        return format!("{v:.3e}");
    }
    let decimals = if a >= 100.0 {
        2
    } else if a >= 1.0 {
        3
    } else {
        // Four significant digits below 1.
        (4 - a.log10().floor() as i32 - 1).clamp(1, 8) as usize
    };
    trim_float(v, decimals)
}

/// `number` or "no data".
pub fn opt_number(v: Option<f64>) -> String {
    v.map(number).unwrap_or_else(|| "no data".into())
}

/// A per-second rate: `1.1 req/s`.
pub fn rate(v: f64, unit: &str) -> String {
    format!("{} {unit}", number(v))
}

/// A count over a window, rounded: `990`.
pub fn count(v: f64) -> String {
    if v >= 10.0 {
        format!("{}", v.round())
    } else {
        trim_float(v, 1)
    }
}

/// `part / whole` as a percentage (`2.44%`, `<0.01%`), or `None` when `whole` is zero.
pub fn percent(part: f64, whole: f64) -> Option<String> {
    (whole > 0.0).then(|| percent_of_ratio(part / whole))
}

/// A ratio (0.05) as a percentage (`5%`).
pub fn percent_of_ratio(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p > 0.0 && p < 0.01 {
        "<0.01%".into()
    } else {
        format!("{}%", trim_float(p, 2))
    }
}

/// Milliseconds for people: `37.5 ms`, `1.25 s` from 1250; "no data" for `None`.
pub fn millis(v: Option<f64>) -> String {
    match v {
        None => "no data".into(),
        Some(ms) if ms.abs() >= 10_000.0 => format!("{} s", trim_float(ms / 1000.0, 2)),
        Some(ms) => format!("{} ms", number(ms)),
    }
}

/// A label value quoted as PromQL writes it.
fn quoted(value: &str) -> String {
    crate::promql::quote(value)
}

/// `name{a="b", c="d"}`, the metric name first; `{}` when there are no labels.
pub fn series(labels: &Labels) -> String {
    series_without(labels, &[])
}

/// Like [`series`], leaving out the labels in `skip`.
pub fn series_without(labels: &Labels, skip: &[&str]) -> String {
    let name = labels.get("__name__").map(String::as_str).unwrap_or("");
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__" && !skip.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", quoted(v)))
        .collect();
    if rest.is_empty() && !name.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", rest.join(", "))
    }
}

/// An RFC 3339 time from Prometheus, as Unix seconds; `None` for the zero time.
pub fn timestamp(text: &str) -> Option<f64> {
    parse_time(text, 0.0)
        .ok()
        .filter(|t| *t > 0.0 && !text.trim().is_empty())
}

/// "2026-01-02T03:04:05Z (5m ago)", or "never" for the zero time.
pub fn when(text: &str, now: f64) -> String {
    match timestamp(text) {
        Some(t) => format!("{} ({})", rfc3339(t), ago(t, now)),
        None => "never".into(),
    }
}

/// "5m ago", or "never".
pub fn ago_text(text: &str, now: f64) -> String {
    timestamp(text)
        .map(|t| ago(t.min(now), now))
        .unwrap_or_else(|| "never".into())
}

/// A time of day for trend points: `14:05:00`, with the date when the span crosses days.
pub fn clock(t: f64, with_date: bool) -> String {
    let full = rfc3339(t);
    if with_date {
        // 2026-01-02T03:04:05Z → 01-02 03:04
        full.get(5..16).map(|s| s.replace('T', " ")).unwrap_or(full)
    } else {
        full.get(11..19).map(str::to_string).unwrap_or(full)
    }
}

/// Text with newlines folded and cut to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    plue_plugin_sdk::text::truncate_chars(&folded, max).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for (v, text) in [
            (45.0, "45"),
            (406.25, "406.25"),
            (9.0625, "9.062"),
            (1.1, "1.1"),
            (0.05, "0.05"),
            (1.1 / 45.0, "0.02444"),
            (492.1875, "492.19"),
            (0.0, "0"),
            (-2.5, "-2.5"),
            (1e-7, "1.000e-7"),
            (f64::NAN, "no data"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(number(v), text, "{v}");
        }
        assert_eq!(raw_value("NaN"), "no data");
        assert_eq!(raw_value("5e-02"), "0.05");
        assert_eq!(parse_value("+Inf"), None);
    }

    #[test]
    fn units() {
        assert_eq!(percent(1.1, 45.0).unwrap(), "2.44%");
        assert_eq!(percent(1.0, 0.0), None);
        assert_eq!(percent_of_ratio(0.004), "0.4%");
        assert_eq!(percent_of_ratio(0.00001), "<0.01%");
        assert_eq!(millis(Some(37.5)), "37.5 ms");
        assert_eq!(millis(Some(12_500.0)), "12.5 s");
        assert_eq!(millis(None), "no data");
        assert_eq!(rate(1.1, "req/s"), "1.1 req/s");
        assert_eq!(count(990.000001), "990");
        assert_eq!(count(0.25), "0.2");
    }

    #[test]
    fn series_names() {
        let mut l = Labels::new();
        assert_eq!(series(&l), "{}");
        l.insert("__name__".into(), "up".into());
        assert_eq!(series(&l), "up");
        l.insert("job".into(), "a\"b".into());
        l.insert("instance".into(), "x:1".into());
        assert_eq!(series(&l), r#"up{instance="x:1", job="a\"b"}"#);
        assert_eq!(series_without(&l, &["instance"]), r#"up{job="a\"b"}"#);
    }

    #[test]
    fn times() {
        assert_eq!(timestamp("0001-01-01T00:00:00Z"), None);
        assert_eq!(timestamp("1970-01-01T00:01:40.5Z"), Some(100.5));
        assert_eq!(
            when("1970-01-01T00:01:40Z", 400.0),
            "1970-01-01T00:01:40Z (5m ago)"
        );
        assert_eq!(when("0001-01-01T00:00:00Z", 400.0), "never");
        assert_eq!(clock(100.0, false), "00:01:40");
        assert_eq!(clock(100.0, true), "01-01 00:01");
        assert_eq!(one_line("a\n  b", 10), "a b");
    }
}
