//! Stack traces that a log shipper split into one entry per line (Promtail or Alloy
//! without a multiline stage, Docker's json-file driver), put back together, so that
//! `search_exceptions` and `find_errors` see one entry per trace, whole, as they do
//! when the shipper joins them.
//!
//! A query returns only the lines that match it (a `Traceback …` head, a V8 `at …`
//! frame). Each single-line entry that may be part of a trace is looked up again in its
//! own stream, a few seconds either side; that stream's lines are cut into blocks (a
//! line continues the block before it when it follows within [`GAP_NS`] and reads as a
//! trace continuation: indented, a Zig frame, a Rust panic's message, a Python
//! exception line after its frames), and the entry is replaced by its block. Parts of
//! one trace come back as one entry.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use plue_plugin_sdk::ToolError;
use regex::Regex;

use crate::logql;
use crate::loki::{Direction, Entry, Labels, Loki};
use crate::window::Window;

/// The longest pause between two lines of one trace.
pub const GAP_NS: i64 = 1_000_000_000;
/// How far either side of a part its stream is read again.
const AROUND_NS: i64 = 5_000_000_000;
/// Most look-ups per call; parts beyond them stay as they are (and are counted).
pub const MAX_LOOKUPS: usize = 25;
/// Lines read per look-up.
const LOOKUP_LINES: usize = 1000;

struct Patterns {
    part: Regex,
    zig_frame: Regex,
    exception_line: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |p: &str| Regex::new(p).expect("static pattern");
        Patterns {
            part: re(concat!(
                r#"^Traceback \(most recent call last\):|^\s+File ""#,
                r"|panicked at|^thread \d+ panic: |\.zig:\d+:\d+: 0x[0-9a-fA-F]+ in |\berror\.\w+\s*$",
                r"|^[\w.$]*(?:Error|Exception)\b|^\s+at \S",
            )),
            zig_frame: re(r"^\S+\.zig:\d+:\d+: 0x[0-9a-fA-F]+ in "),
            exception_line: re(r"^[A-Za-z_][\w.]*(?::|$)"),
        }
    })
}

/// Whether a single-line entry may be one line of a split trace.
pub fn may_be_part(line: &str) -> bool {
    !line.contains('\n') && patterns().part.is_match(line)
}

/// Whether `line` continues the trace whose lines so far are `block`.
pub fn continues(block: &[&str], line: &str) -> bool {
    let (Some(head), Some(last)) = (block.first(), block.last()) else {
        return false;
    };
    let indented = |l: &str| l.starts_with([' ', '\t']);
    let python = head.starts_with("Traceback (most recent call last):");
    let rust = head.contains("panicked at");
    // A Python trace ends with its exception line, a Rust one with its `note:`.
    if (python && block.len() > 1 && !indented(last)) || (rust && last.starts_with("note: ")) {
        return false;
    }
    if line.trim().is_empty() {
        return false;
    }
    if indented(line) || line.starts_with('}') || patterns().zig_frame.is_match(line) {
        return true;
    }
    if rust {
        return block.len() == 1 || line == "stack backtrace:" || line.starts_with("note: ");
    }
    python && patterns().exception_line.is_match(line)
}

/// Consecutive entries of one stream (oldest first) cut into traces: the index ranges
/// of the blocks.
pub fn blocks(entries: &[Entry]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if let Some(b) = out.last_mut() {
            let lines: Vec<&str> = entries[b.clone()].iter().map(|e| e.line.as_str()).collect();
            if e.ts - entries[i - 1].ts <= GAP_NS && continues(&lines, &e.line) {
                b.end = i + 1;
                continue;
            }
        }
        out.push(i..i + 1);
    }
    out
}

/// `entries` with each split trace's parts replaced by the whole trace (once), and how
/// many parts were left as they are because the look-ups ran out.
pub fn rejoin(loki: &Loki, entries: Vec<Entry>) -> Result<(Vec<Entry>, usize), ToolError> {
    // Per stream, the times around which to read it again, merged when they overlap.
    let mut spans: BTreeMap<Labels, Vec<(i64, i64)>> = BTreeMap::new();
    for e in entries.iter().filter(|e| may_be_part(&e.line)) {
        spans
            .entry(e.labels.clone())
            .or_default()
            .push((e.ts - AROUND_NS, e.ts + AROUND_NS));
    }
    let mut lookups: Vec<(Labels, i64, i64)> = Vec::new();
    for (labels, mut s) in spans {
        s.sort_unstable();
        for (a, b) in s {
            match lookups.last_mut() {
                Some((l, _, end)) if *l == labels && a <= *end => *end = (*end).max(b),
                _ => lookups.push((labels.clone(), a, b)),
            }
        }
    }
    let skipped_spans = lookups.split_off(lookups.len().min(MAX_LOOKUPS));
    // (stream, ts, line) of a part → its whole trace.
    let mut whole: BTreeMap<(Labels, i64, String), Entry> = BTreeMap::new();
    for (labels, start, end) in &lookups {
        let mut around = loki.logs(
            &exact_selector(labels),
            &Window::between(*start, end + 1),
            LOOKUP_LINES,
            Direction::Forward,
        )?;
        around.sort_by_key(|e| e.ts);
        for b in blocks(&around) {
            if b.len() < 2 {
                continue;
            }
            let parts = &around[b];
            let joined = Entry {
                ts: parts[0].ts,
                line: parts
                    .iter()
                    .map(|p| p.line.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                labels: labels.clone(),
            };
            for p in parts {
                whole.insert((labels.clone(), p.ts, p.line.clone()), joined.clone());
            }
        }
    }
    let skipped = entries
        .iter()
        .filter(|e| {
            may_be_part(&e.line)
                && skipped_spans
                    .iter()
                    .any(|(l, a, b)| *l == e.labels && (*a..=*b).contains(&e.ts))
        })
        .count();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let e = whole
            .get(&(e.labels.clone(), e.ts, e.line.clone()))
            .cloned()
            .unwrap_or(e);
        if seen.insert((e.labels.clone(), e.ts, e.line.clone())) {
            out.push(e);
        }
    }
    Ok((out, skipped))
}

/// The selector of exactly the stream with `labels`.
fn exact_selector(labels: &BTreeMap<String, String>) -> String {
    let matchers: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", logql::string(v)))
        .collect();
    format!("{{{}}}", matchers.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn entries(lines: &[(i64, &str)]) -> Vec<Entry> {
        let labels = Rc::new(BTreeMap::from([("service".to_string(), "x".to_string())]));
        lines
            .iter()
            .map(|(ms, l)| Entry {
                ts: ms * 1_000_000,
                line: l.to_string(),
                labels: labels.clone(),
            })
            .collect()
    }

    fn check(lines: &[(i64, &str)], expected: &[std::ops::Range<usize>]) {
        assert_eq!(blocks(&entries(lines)), expected, "{lines:?}");
    }

    #[test]
    fn traces_split_line_by_line_are_cut_back_into_blocks() {
        check(
            &[
                (0, r#"{"level":"info"}"#),
                (10, "Traceback (most recent call last):"),
                (10, r#"  File "/app/a.py", line 3, in f"#),
                (10, "    g()"),
                (11, "KeyError: 'k'"),
                (12, "    not part of it"),
                (20, "RangeError: Invalid time value"),
                (20, "    at f (/app/x.ts:1:2)"),
                (20, "}"),
                (3000, "    at g (/app/y.ts:1:2)"),
            ],
            &[0..1, 1..5, 5..6, 6..9, 9..10],
        );
        check(
            &[
                (0, "thread 'main' panicked at src/main.rs:88:14:"),
                (0, "called `Option::unwrap()` on a `None` value"),
                (0, "stack backtrace:"),
                (0, "   0: rust_begin_unwind"),
                (0, "note: Some details are omitted"),
                (0, "next line"),
                (1, "error(git): open failed: error.FileNotFound"),
                (1, "/app/src/git/repo.zig:57:13: 0x10c4410 in open (server)"),
                (1, "    return error.FileNotFound;"),
                (1, "info(http): GET / 200"),
            ],
            &[0..5, 5..6, 6..9, 9..10],
        );
    }

    #[test]
    fn parts() {
        for line in [
            "Traceback (most recent call last):",
            "TimeoutError: upload timed out",
            "    at f (/app/x.ts:1:2)",
            "thread 4182 panic: index out of bounds",
            "error(git): failed: error.FileNotFound",
        ] {
            assert!(may_be_part(line), "{line}");
        }
        for line in [
            r#"{"level":"error","message":"Error: x"}"#,
            "error(db): connection refused (attempt 3)",
            "a\nb Traceback (most recent call last):",
        ] {
            assert!(!may_be_part(line), "{line}");
        }
        assert_eq!(
            exact_selector(&BTreeMap::from([
                ("a".to_string(), "x\"y".to_string()),
                ("b".to_string(), "z".to_string())
            ])),
            r#"{a="x\"y", b="z"}"#
        );
    }
}
