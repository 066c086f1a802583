//! What one log entry says, whatever shape its service writes: JSON (`message` or
//! `msg`, `level` or `severity`, pino's numeric levels), logfmt, Zig `std.log`
//! (`error(scope): …`), Python `logging` (`time - logger - LEVEL - message`), plain
//! text with a leading timestamp, and multi-line stack traces.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use crate::logql::Level;
use crate::traces::{self, Trace};

/// A parsed entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub level: Option<Level>,
    /// One line saying what happened.
    pub message: String,
    /// The other fields of a JSON line (in key order, nested keys joined with `.`) or
    /// of a logfmt line (in the line's order), or the logger of a Python line.
    pub fields: Vec<(String, String)>,
    /// The stack trace the entry holds, if any.
    pub trace: Option<Trace>,
}

impl Parsed {
    /// The field `name`, if the line has it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

const TIME_KEYS: [&str; 5] = ["time", "ts", "timestamp", "@timestamp", "t"];
const LEVEL_KEYS: [&str; 4] = ["level", "severity", "lvl", "log.level"];
const MESSAGE_KEYS: [&str; 3] = ["message", "msg", "@message"];
/// Fields of a JSON or logfmt line that may hold a whole stack trace (browser
/// telemetry's `stack`, pino's `err.stack`, OpenTelemetry's `exception.stacktrace`).
const STACK_KEYS: [&str; 5] = [
    "stack",
    "err.stack",
    "error.stack",
    "exception.stacktrace",
    "stack_trace",
];

struct Patterns {
    levels: Vec<(Level, Regex)>,
    logfmt_start: Regex,
    zig: Regex,
    python: Regex,
    timestamp: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |p: &str| Regex::new(p).expect("static pattern");
        Patterns {
            levels: Level::ALL.iter().map(|l| (*l, re(l.pattern()))).collect(),
            logfmt_start: re(r"^[A-Za-z_][\w.\-]*="),
            zig: re(r"^(err|error|warn|warning|info|debug)\([\w.\-]*\): "),
            python: re(
                r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d+)? - (\S+) - (CRITICAL|FATAL|ERROR|WARNING|WARN|INFO|DEBUG) - (.*)$",
            ),
            timestamp: re(r"^\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?(?: UTC)?\s+"),
        }
    })
}

/// The level a word names (`ERROR`, `warning`, `crit`, …).
pub fn level_word(word: &str) -> Option<Level> {
    match word.to_ascii_lowercase().as_str() {
        "err" | "error" | "fatal" | "crit" | "critical" | "alert" | "emerg" | "emergency"
        | "panic" => Some(Level::Error),
        "warn" | "warning" => Some(Level::Warn),
        "info" | "information" | "notice" => Some(Level::Info),
        "debug" | "trace" => Some(Level::Debug),
        _ => None,
    }
}

/// The level of a line by the patterns the LogQL filters use (most severe first).
pub fn classify(line: &str) -> Option<Level> {
    patterns()
        .levels
        .iter()
        .find(|(_, r)| r.is_match(line))
        .map(|(l, _)| *l)
}

/// Parse one entry.
pub fn parse(entry: &str) -> Parsed {
    let trimmed = entry.trim();
    if trimmed.starts_with('{')
        && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed)
    {
        return structured(flatten_json(&map), entry);
    }
    let first = entry.lines().next().unwrap_or("").trim_end();
    let p = patterns();
    if p.logfmt_start.is_match(first) && !entry.contains('\n') {
        let pairs = logfmt(first);
        if pairs.len() >= 2 {
            return structured(pairs, entry);
        }
    }
    if let Some(trace) = traces::detect(entry) {
        return Parsed {
            level: Some(Level::Error),
            message: trace.summary.clone(),
            fields: Vec::new(),
            trace: Some(trace),
        };
    }
    if let Some(c) = p.zig.captures(first) {
        return Parsed {
            level: level_word(&c[1]),
            message: first.to_string(),
            fields: Vec::new(),
            trace: None,
        };
    }
    if let Some(c) = p.python.captures(first) {
        return Parsed {
            level: level_word(&c[2]),
            message: c[3].to_string(),
            fields: vec![("logger".into(), c[1].to_string())],
            trace: None,
        };
    }
    let message = p.timestamp.replace(first, "").trim().to_string();
    Parsed {
        level: classify(entry),
        message,
        fields: Vec::new(),
        trace: None,
    }
}

/// A JSON or logfmt line from its key/value pairs.
fn structured(pairs: Vec<(String, String)>, entry: &str) -> Parsed {
    let mut level = None;
    let mut message = None;
    let mut fields = Vec::new();
    for (k, v) in pairs {
        if LEVEL_KEYS.contains(&k.as_str()) && level.is_none() {
            level = level_word(&v).or_else(|| pino_level(&v));
        } else if MESSAGE_KEYS.contains(&k.as_str()) && message.is_none() {
            message = Some(v);
        } else if !TIME_KEYS.contains(&k.as_str()) {
            fields.push((k, v));
        }
    }
    let message = message
        .map(|m| m.lines().next().unwrap_or("").to_string())
        .unwrap_or_else(|| entry.trim().to_string());
    let trace = fields
        .iter()
        .filter(|(k, _)| STACK_KEYS.contains(&k.as_str()))
        .find_map(|(_, v)| traces::detect(v).map(|t| t.with_text(v)));
    Parsed {
        level: level.or_else(|| classify(entry)),
        message,
        fields,
        trace,
    }
}

/// pino's numeric levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
fn pino_level(v: &str) -> Option<Level> {
    match v.parse::<u32>().ok()? {
        0..=29 => Some(Level::Debug),
        30..=39 => Some(Level::Info),
        40..=49 => Some(Level::Warn),
        _ => Some(Level::Error),
    }
}

/// Scalar JSON values as text, nested objects flattened with `.`, in key order
/// (`serde_json` keeps objects sorted).
fn flatten_json(map: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    fn walk(prefix: &str, map: &serde_json::Map<String, Value>, out: &mut Vec<(String, String)>) {
        for (k, v) in map {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                Value::Object(m) => walk(&key, m, out),
                Value::Null => {}
                Value::String(s) => out.push((key, s.clone())),
                other => out.push((key, other.to_string())),
            }
        }
    }
    let mut out = Vec::new();
    walk("", map, &mut out);
    out
}

/// logfmt pairs: `key=value`, `key="quoted \" value"`, bare `key`. An unterminated
/// quote takes the rest of the line.
pub fn logfmt(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return out;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            if chars.next_if_eq(&'"').is_some() {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('n') => value.push('\n'),
                            Some('t') => value.push('\t'),
                            Some(other) => value.push(other),
                            None => {}
                        },
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    value.push(c);
                }
            }
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(entry: &str, level: Option<Level>, message: &str, fields: &[(&str, &str)]) {
        let p = parse(entry);
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            (p.level, p.message.as_str(), &p.fields),
            (level, message, &fields),
            "{entry}"
        );
    }

    #[test]
    fn shapes() {
        use Level::*;
        check(
            r#"{"time":"x","level":"error","message":"failed","request_id":"r1","status":404,"ctx":{"user":7}}"#,
            Some(Error),
            "failed",
            &[("ctx.user", "7"), ("request_id", "r1"), ("status", "404")],
        );
        check(
            r#"{"severity":"warning","msg":"slow","ok":true}"#,
            Some(Warn),
            "slow",
            &[("ok", "true")],
        );
        check(r#"{"level":30,"msg":"hi"}"#, Some(Info), "hi", &[]);
        check(
            r#"{"event":"x"}"#,
            None,
            r#"{"event":"x"}"#,
            &[("event", "x")],
        );
        check(
            r#"ts=2026-01-02T03:04:05Z level=warn msg="step \"b\" finished" run_id=45 duration_ms=3200"#,
            Some(Warn),
            r#"step "b" finished"#,
            &[("run_id", "45"), ("duration_ms", "3200")],
        );
        check(
            r#"ts=x level=info msg="artifact upload started path=/tmp/out"#,
            Some(Info),
            "artifact upload started path=/tmp/out",
            &[],
        );
        check(
            "error(db): connection refused (attempt 3)",
            Some(Error),
            "error(db): connection refused (attempt 3)",
            &[],
        );
        check(
            "2026-01-02 03:04:05,123 - runner.executor - ERROR - Step 'build' failed",
            Some(Error),
            "Step 'build' failed",
            &[("logger", "runner.executor")],
        );
        check(
            "2026-01-02 03:04:05.123 UTC [1] LOG:  checkpoint starting: time",
            Some(Info),
            "[1] LOG:  checkpoint starting: time",
            &[],
        );
        check("plain words", None, "plain words", &[]);
        let p = parse("Traceback (most recent call last):\n  File \"a.py\", line 1\nKeyError: 'k'");
        assert_eq!(
            (p.level, p.message.as_str()),
            (Some(Error), "KeyError: 'k'")
        );
        assert_eq!(p.trace.unwrap().exception, "KeyError");
    }

    #[test]
    fn stacks_in_json_fields() {
        // What ui/telemetry sends for an uncaught error in Chromium.
        let stack = "TypeError: Cannot read properties of null (reading 'owner')\n    at renderHeader (http://127.0.0.1:8080/app.js:3:22)\n    at http://127.0.0.1:8080/app.js:9:3";
        let entry = serde_json::json!({
            "level": "error",
            "message": "TypeError: Cannot read properties of null (reading 'owner')",
            "service": "web",
            "request_id": "page-0123456789abcdef",
            "stack": stack,
        })
        .to_string();
        let p = parse(&entry);
        assert_eq!(p.level, Some(Level::Error));
        assert_eq!(
            p.message,
            "TypeError: Cannot read properties of null (reading 'owner')"
        );
        let t = p.trace.expect("the stack field is a trace");
        assert_eq!(
            (t.language, t.exception.as_str(), t.text.as_deref()),
            (crate::logql::Language::Typescript, "TypeError", Some(stack))
        );
        // The raw line is what LogQL filters: the pattern must find the escaped frames.
        let re = regex::Regex::new(crate::logql::Language::Typescript.pattern()).unwrap();
        assert!(re.is_match(&entry), "{entry}");
        // Firefox's frame shape, in a JSON field and on its own lines.
        let firefox = "TypeError: x is null\nrender@https://shop.example/app.js:3:22\n";
        let entry =
            serde_json::json!({"level": "error", "message": "x", "stack": firefox}).to_string();
        assert!(re.is_match(&entry), "{entry}");
        assert_eq!(parse(&entry).trace.unwrap().exception, "TypeError");
        // A `stack` field without frames is no trace, and a message alone never is.
        for entry in [
            r#"{"level":"error","message":"x","stack":"Error: no frames here"}"#,
            r#"{"level":"error","message":"TypeError: x\n    at f (/a.js:1:2)"}"#,
        ] {
            assert_eq!(parse(entry).trace, None, "{entry}");
        }
        assert!(!re.is_match(r#"{"message":"mail bob@https://x.example/a.js:1:2 later"}"#));
    }

    #[test]
    fn logfmt_pairs() {
        assert_eq!(
            logfmt(r#"a=1 b="x y" c= d e="q\"t""#),
            [
                ("a", "1"),
                ("b", "x y"),
                ("c", ""),
                ("d", ""),
                ("e", "q\"t")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .to_vec()
        );
    }
}
