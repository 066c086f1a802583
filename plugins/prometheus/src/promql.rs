//! Building PromQL and API parameters from what an agent typed: quoted label values,
//! validated range windows, times in every accepted form, label names in URL paths,
//! and a caret under the position of a PromQL parse error.

use plue_plugin_sdk::ToolError;
use plue_plugin_sdk::time::{human_duration, parse_duration, parse_time};

/// A PromQL string literal for `value` (Go's rules, as LogQL).
pub use plue_plugin_sdk::quote::go_string as quote;

/// `value` with RE2 metacharacters escaped, for an `=~` matcher that must match it exactly.
pub fn regex_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A range window (`[5m]`) the agent asked for, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Length in seconds.
    pub seconds: f64,
    /// As PromQL writes it, for example `900s`.
    pub promql: String,
    /// For people, for example `15m`.
    pub human: String,
}

/// Parse the `duration` argument: `30s`, `15m`, `2h`, `7d`, `1h30m`, or seconds.
pub fn window(text: &str) -> Result<Window, ToolError> {
    let seconds =
        parse_duration(text).map_err(|e| ToolError::invalid(format!("`duration`: {e}")))?;
    if seconds < 1.0 {
        return Err(ToolError::invalid(format!(
            "`duration` {text} is too short: rates need at least two samples, use 1m or more"
        )));
    }
    if seconds > 366.0 * 86400.0 {
        return Err(ToolError::invalid(format!(
            "`duration` {text} is longer than a year: use at most 365d"
        )));
    }
    let ms = (seconds * 1000.0).round() as u64;
    let promql = if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    };
    Ok(Window {
        seconds,
        promql,
        human: human_duration(seconds),
    })
}

/// Parse a time argument named `name` (now, 15m ago, RFC 3339, Unix seconds).
pub fn time_arg(name: &str, text: Option<&str>, now: f64) -> Result<f64, ToolError> {
    match text {
        None => Ok(now),
        Some(text) => {
            parse_time(text, now).map_err(|e| ToolError::invalid(format!("`{name}`: {e}")))
        }
    }
}

/// The label name as the `/api/v1/label/<name>/values` path segment wants it: legacy
/// names as they are, other (UTF-8) names in Prometheus's `U__` escaping.
pub fn label_path_segment(name: &str) -> String {
    let legacy = name
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
        && !name.is_empty();
    if legacy {
        return name.to_string();
    }
    let mut out = String::from("U__");
    for c in name.chars() {
        match c {
            '_' => out.push_str("__"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            c => out.push_str(&format!("_{:x}_", c as u32)),
        }
    }
    plue_plugin_sdk::http::encode(&out)
}

/// For a PromQL parse error message (`… 1:6: parse error: …`), the failing line of
/// `query` with a caret under the column.
pub fn caret(query: &str, message: &str) -> Option<String> {
    let at = message.find(": parse error")?;
    let head = &message[..at];
    let position = head.rsplit(' ').next()?;
    let (line, col) = position.split_once(':')?;
    let line: usize = line.parse().ok()?;
    let col: usize = col.parse().ok()?;
    let text = query.lines().nth(line.checked_sub(1)?)?;
    // The column counts bytes from 1; show the caret under the right character.
    let before = text.get(..col.checked_sub(1)?.min(text.len()))?;
    Some(format!("{text}\n{}^", " ".repeat(before.chars().count())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(regex_literal("plue-api.v1|x"), r"plue-api\.v1\|x");
    }

    #[test]
    fn windows() {
        let w = window("15m").unwrap();
        assert_eq!(
            (w.seconds, w.promql.as_str(), w.human.as_str()),
            (900.0, "900s", "15m")
        );
        assert_eq!(window("1.5s").unwrap().promql, "1500ms");
        for bad in ["", "abc", "0s", "500ms", "2y"] {
            assert!(window(bad).is_err(), "{bad}");
        }
        assert!(window("x").unwrap_err().to_string().contains("`duration`"));
    }

    #[test]
    fn times() {
        assert_eq!(time_arg("time", None, 100.0).unwrap(), 100.0);
        assert_eq!(time_arg("time", Some("1m"), 100.0).unwrap(), 40.0);
        assert!(
            time_arg("start", Some("yesterday"), 100.0)
                .unwrap_err()
                .to_string()
                .contains("`start`")
        );
    }

    #[test]
    fn label_segments() {
        assert_eq!(label_path_segment("job"), "job");
        assert_eq!(label_path_segment("__name__"), "__name__");
        assert_eq!(label_path_segment("http.status"), "U__http_2e_status");
        assert_eq!(label_path_segment("a b"), "U__a_20_b");
    }

    #[test]
    fn carets() {
        let msg = r#"invalid parameter "query": 1:6: parse error: unexpected end of input"#;
        assert_eq!(caret("rate(", msg).unwrap(), "rate(\n     ^");
        let msg = "2:3: parse error: x";
        assert_eq!(caret("a +\nb c", msg).unwrap(), "b c\n  ^");
        assert_eq!(caret("x", "no position"), None);
    }
}
