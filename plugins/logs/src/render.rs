//! How log entries are shown to an agent: one compact line each (time, service,
//! level, message, other fields), the rest of a multi-line entry indented below it
//! and cut, everything within a character budget; and the same entries as
//! structured content.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::line::{self, Parsed};
use crate::logql::Level;
use crate::loki::Entry;
use crate::window::rfc3339_ms;

/// Characters of text a tool's answer aims to stay within.
pub const TEXT_BUDGET: usize = 24_000;

/// An entry with what it says and which service wrote it.
#[derive(Debug, Clone)]
pub struct Item {
    pub entry: Entry,
    pub parsed: Parsed,
    pub service: String,
}

impl Item {
    /// Parse `entry`, naming its service by `service_label`.
    pub fn new(entry: Entry, service_label: &str) -> Item {
        let parsed = line::parse(&entry.line);
        let service = service_name(&entry.labels, service_label);
        Item {
            entry,
            parsed,
            service,
        }
    }

    /// The entry as structured content.
    pub fn json(&self) -> LogLine {
        LogLine {
            time: rfc3339_ms(self.entry.ts),
            service: self.service.clone(),
            level: self.parsed.level.map(|l| l.as_str().to_string()),
            message: cut(&self.parsed.message, 1000),
            fields: self
                .parsed
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), cut(v, 500)))
                .collect(),
            line: cut(&self.entry.line, 4000),
        }
    }
}

/// `text` cut to `max` characters.
pub fn cut(text: &str, max: usize) -> String {
    plue_plugin_sdk::text::truncate_chars(text, max).0
}

/// Parse entries.
pub fn items(entries: Vec<Entry>, service_label: &str) -> Vec<Item> {
    entries
        .into_iter()
        .map(|e| Item::new(e, service_label))
        .collect()
}

/// The service an entry belongs to: its `service_label` value, else `container=…`,
/// `container_name=…` or `job=…` for streams without one.
pub fn service_name(labels: &BTreeMap<String, String>, service_label: &str) -> String {
    if let Some(v) = labels.get(service_label).filter(|v| !v.is_empty()) {
        return v.clone();
    }
    for fallback in ["container", "container_name", "app", "job"] {
        if let Some(v) = labels.get(fallback).filter(|v| !v.is_empty()) {
            return format!("{fallback}={v}");
        }
    }
    "unknown".into()
}

// One log entry in structured content.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LogLine {
    pub time: String,
    // The service label's value, or `container=<name>` for a stream without one.
    pub service: String,
    // `error`, `warn`, `info` or `debug`; absent when the line shows none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    // What the line says: `message`/`msg` of JSON and logfmt lines, the text of plain
    // lines, the exception line of a stack trace (cut at 1000 characters).
    pub message: String,
    // The other fields of a JSON or logfmt line (values cut at 500 characters).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    // The raw entry (cut at 4000 characters).
    pub line: String,
}

/// `ERROR`, `WARN `, `INFO `, `DEBUG` or `-    `, padded to 5.
pub fn level_tag(level: Option<Level>) -> &'static str {
    match level {
        Some(Level::Error) => "ERROR",
        Some(Level::Warn) => "WARN ",
        Some(Level::Info) => "INFO ",
        Some(Level::Debug) => "DEBUG",
        None => "-    ",
    }
}

/// `2026-01-02T03:04:05.678Z [api] ERROR message  key=value …`, at most 400 characters.
pub fn headline(item: &Item) -> String {
    let mut s = format!(
        "{} [{}] {} {}",
        rfc3339_ms(item.entry.ts),
        item.service,
        level_tag(item.parsed.level),
        item.parsed.message
    );
    let fields: Vec<String> = item
        .parsed
        .fields
        .iter()
        .map(|(k, v)| {
            let v = plue_plugin_sdk::text::truncate_chars(&v.replace('\n', "⏎"), 80).0;
            if v.contains(' ') {
                format!("{k}=\"{v}\"")
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    if !fields.is_empty() {
        s.push_str("  ");
        s.push_str(&fields.join(" "));
    }
    plue_plugin_sdk::text::truncate_chars(&s, 400).0
}

/// The headline, then (for a multi-line entry) its lines indented, at most `max_lines`.
pub fn block(item: &Item, max_lines: usize) -> String {
    let mut s = headline(item);
    let lines: Vec<&str> = item.entry.line.lines().collect();
    if lines.len() > 1 {
        for l in lines.iter().take(max_lines) {
            s.push_str("\n    ");
            s.push_str(&plue_plugin_sdk::text::truncate_chars(l, 300).0);
        }
        if lines.len() > max_lines {
            let more = plue_plugin_sdk::text::count(lines.len() - max_lines, "more line");
            s.push_str(&format!("\n    … {more}"));
        }
    }
    s
}

/// Text blocks appended while they fit in a character budget.
pub struct Budget {
    left: usize,
    /// Blocks appended.
    pub shown: usize,
    /// Blocks that did not fit.
    pub omitted: usize,
}

impl Budget {
    /// A budget of `chars` characters.
    pub fn new(chars: usize) -> Budget {
        Budget {
            left: chars,
            shown: 0,
            omitted: 0,
        }
    }

    /// Append `block` and a newline to `out` if it fits (the first block always does).
    pub fn push(&mut self, out: &mut String, block: &str) -> bool {
        let n = block.chars().count() + 1;
        if self.omitted == 0 && (n <= self.left || self.shown == 0) {
            out.push_str(block);
            out.push('\n');
            self.left = self.left.saturating_sub(n);
            self.shown += 1;
            true
        } else {
            self.omitted += 1;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn item(labels: &[(&str, &str)], line: &str) -> Item {
        let labels = Rc::new(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        Item::new(
            Entry {
                ts: 1_764_000_000_123_000_000,
                line: line.into(),
                labels,
            },
            "service",
        )
    }

    #[test]
    fn lines_and_blocks() {
        let i = item(
            &[("service", "api")],
            r#"{"level":"error","message":"boom","path":"/a b","status":500}"#,
        );
        assert_eq!(
            headline(&i),
            r#"2025-11-24T16:00:00.123Z [api] ERROR boom  path="/a b" status=500"#
        );
        let i = item(&[("container", "pg")], "LOG:  ready");
        assert_eq!(
            headline(&i),
            "2025-11-24T16:00:00.123Z [container=pg] INFO  LOG:  ready"
        );
        let i = item(
            &[],
            "Traceback (most recent call last):\n  File \"a.py\"\n  x\nKeyError: 'k'",
        );
        assert_eq!(
            block(&i, 2),
            "2025-11-24T16:00:00.123Z [unknown] ERROR KeyError: 'k'\n    Traceback (most recent call last):\n      File \"a.py\"\n    … 2 more lines"
        );
        let j = i.json();
        assert_eq!(
            (j.level.as_deref(), j.message.as_str()),
            (Some("error"), "KeyError: 'k'")
        );
    }

    #[test]
    fn budget_stops_at_the_first_block_that_does_not_fit() {
        let mut out = String::new();
        let mut b = Budget::new(10);
        assert!(b.push(&mut out, "0123456789abc"));
        assert!(!b.push(&mut out, "x"));
        assert!(!b.push(&mut out, "y"));
        assert_eq!(
            (out.as_str(), b.shown, b.omitted),
            ("0123456789abc\n", 1, 2)
        );
    }
}
