//! Log condensing: turns `workflow_logs` rows into something an agent can read
//! in one go. Pure functions, no I/O.
//!
//! * [`condense`]: agent `token` rows (one streamed chunk each) joined into
//!   text, `tool_call` / `tool_result` JSON shown compactly on one line,
//!   `stdout` / `stderr` rows split into lines.
//! * [`decisive`]: the few lines that explain a failure: the first error with
//!   its stack trace and the error lines after it (not 500 lines of passing
//!   tests), or, for an agent, its failing tool calls and its last words.
//! * [`view`]: a bounded view of a whole step (head, decisive lines, tail) with
//!   gaps that say how many rows were left out and where they start.
//! * [`normalize_error`]: an error line without numbers and ids, to find the
//!   same failure in other runs.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::fmt::cut;

/// One `workflow_logs` row (content possibly cut by the query).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogRow {
    pub log_type: String,
    pub content: String,
    pub sequence: i64,
    /// The row's 0-based position among all rows of its step (what
    /// `get_step_logs`' `offset` counts), when the query skipped some rows.
    #[serde(default)]
    pub row_index: Option<i64>,
}

impl LogRow {
    /// A row, for tests and for error messages turned into log lines.
    pub fn new(log_type: &str, content: &str, sequence: i64) -> LogRow {
        LogRow {
            log_type: log_type.into(),
            content: content.into(),
            sequence,
            row_index: None,
        }
    }

    fn index(&self, position: usize) -> usize {
        self.row_index
            .and_then(|r| usize::try_from(r).ok())
            .unwrap_or(position)
    }
}

/// What an [`Entry`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stdout,
    Stderr,
    /// An agent's text: consecutive `token` rows joined.
    Text,
    ToolCall,
    ToolResult,
    /// A line of a log type Plue does not write.
    Other,
}

/// One readable unit: a line of output, a joined text, a tool call or result.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub kind: Kind,
    /// The log type it came from (`stdout`, `token`, …).
    pub label: String,
    pub text: String,
    /// A tool result that reports an error.
    pub is_error: bool,
    /// The rows it was made from (their `row_index`, else their position in
    /// the input of [`condense`]).
    pub rows: std::ops::Range<usize>,
}

/// Rows (in sequence order) to entries.
pub fn condense(rows: &[LogRow]) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for (position, row) in rows.iter().enumerate() {
        let i = row.index(position);
        match row.log_type.as_str() {
            "token" => match out.last_mut() {
                Some(last) if last.kind == Kind::Text && last.rows.end == i => {
                    last.text.push_str(&row.content);
                    last.rows.end = i + 1;
                }
                _ => out.push(Entry {
                    kind: Kind::Text,
                    label: "token".into(),
                    text: row.content.clone(),
                    is_error: false,
                    rows: i..i + 1,
                }),
            },
            "tool_call" | "tool_result" => {
                let (kind, (text, is_error)) = if row.log_type == "tool_call" {
                    (Kind::ToolCall, (compact_call(&row.content), false))
                } else {
                    (Kind::ToolResult, compact_result(&row.content))
                };
                out.push(Entry {
                    kind,
                    label: row.log_type.clone(),
                    text,
                    is_error,
                    rows: i..i + 1,
                });
            }
            other => {
                let kind = match other {
                    "stdout" => Kind::Stdout,
                    "stderr" => Kind::Stderr,
                    _ => Kind::Other,
                };
                let content = row.content.strip_suffix('\n').unwrap_or(&row.content);
                for line in content.split('\n') {
                    out.push(Entry {
                        kind,
                        label: other.to_string(),
                        text: line.trim_end_matches('\r').to_string(),
                        is_error: false,
                        rows: i..i + 1,
                    });
                }
            }
        }
    }
    out
}

/// The tool's name in a tool_call / tool_result object.
fn tool_name(obj: &serde_json::Map<String, Json>) -> Option<String> {
    ["name", "tool", "tool_name"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Json::as_str))
        .map(str::to_string)
}

/// JSON shown on one line: strings as they are, anything else compact.
fn inline(value: &Json, max: usize) -> String {
    let text = match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    crate::fmt::one_line(&text, max)
}

/// `read_file {"path":"src/diff/parse.ts"}`.
pub fn compact_call(content: &str) -> String {
    match serde_json::from_str::<Json>(content) {
        Ok(Json::Object(obj)) => {
            let name = tool_name(&obj).unwrap_or_else(|| "?".into());
            let args = ["input", "arguments", "args", "params", "parameters"]
                .iter()
                .find_map(|k| obj.get(*k));
            match args {
                Some(a) => format!("{name} {}", inline(a, 200)),
                None => format!("{name} {}", inline(&Json::Object(obj.clone()), 200)),
            }
        }
        Ok(other) => inline(&other, 240),
        Err(_) => crate::fmt::one_line(content, 240),
    }
}

/// `run_command → error: bash: pnpm: command not found`, and whether it is an error.
pub fn compact_result(content: &str) -> (String, bool) {
    match serde_json::from_str::<Json>(content) {
        Ok(Json::Object(obj)) => {
            let name = tool_name(&obj).unwrap_or_else(|| "?".into());
            let error_field = obj
                .get("error")
                .filter(|e| !matches!(e, Json::Null | Json::Bool(false)));
            let is_error = obj.get("is_error").and_then(Json::as_bool).unwrap_or(false)
                || error_field.is_some()
                || obj.get("status").and_then(Json::as_str) == Some("error");
            let output = ["output", "content", "result", "text"]
                .iter()
                .find_map(|k| obj.get(*k))
                .or(error_field);
            let shown = output.map(|o| inline(o, 200)).unwrap_or_default();
            let sep = if is_error { " → error: " } else { " → " };
            (format!("{name}{sep}{shown}"), is_error)
        }
        Ok(other) => (inline(&other, 240), false),
        Err(_) => (crate::fmt::one_line(content, 240), false),
    }
}

/// An entry as one display line (text entries may span lines, indented).
pub fn render(entry: &Entry, max_chars: usize) -> String {
    let prefix = match entry.kind {
        Kind::Stdout => "[stdout] ".to_string(),
        Kind::Stderr => "[stderr] ".to_string(),
        Kind::Text => "[agent] ".to_string(),
        Kind::ToolCall => "[tool_call] ".to_string(),
        Kind::ToolResult => "[tool_result] ".to_string(),
        Kind::Other => format!("[{}] ", entry.label),
    };
    let body = if entry.kind == Kind::Text {
        let text = entry.text.trim();
        let (shown, left) = plue_plugin_sdk::text::truncate_chars(text, max_chars);
        let shown = shown.replace('\n', "\n    ");
        if left > 0 {
            format!("{shown} (+{left} chars)")
        } else {
            shown
        }
    } else {
        cut(&entry.text, max_chars)
    };
    format!("{prefix}{body}")
}

/// How strongly a line says something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Signal {
    None,
    /// Mentions a failure (`failed`, `npm error`, `timed out`, …).
    Weak,
    /// An exception, panic or compiler error, or a failed tool call.
    Strong,
}

fn signal(entry: &Entry) -> Signal {
    match entry.kind {
        Kind::Text | Kind::ToolCall => Signal::None,
        Kind::ToolResult if entry.is_error => Signal::Strong,
        Kind::ToolResult => Signal::None,
        _ => line_signal(&entry.text),
    }
}

fn line_signal(line: &str) -> Signal {
    let t = line.trim();
    if t.is_empty() {
        return Signal::None;
    }
    if is_exception(t) {
        return Signal::Strong;
    }
    let lower = t.to_lowercase();
    const NEGATIVE: &[&str] = &[
        " 0 failed",
        "0 errors",
        "no errors",
        "no problems",
        "errors: 0",
        "failures: 0",
        "0 failures",
    ];
    if NEGATIVE.iter().any(|n| lower.contains(n)) || lower.starts_with("0 failed") {
        return Signal::None;
    }
    const WEAK: &[&str] = &[
        "error",
        "fail",
        "fatal",
        "exception",
        "panic",
        "timed out",
        "timeout",
        "denied",
        "not found",
        "refused",
        "cannot ",
        "can't",
        "unable to",
        "killed",
        "sigterm",
        "sigkill",
        "abort",
        "err!",
        "✗",
        "✘",
        "exit code",
        "exit status",
        "traceback",
    ];
    if WEAK.iter().any(|w| lower.contains(w)) {
        Signal::Weak
    } else {
        Signal::None
    }
}

/// `TypeError: …`, `Error: …`, `Traceback …`, `panicked at`, `error[E0308]`, `fatal: …`.
fn is_exception(t: &str) -> bool {
    const STARTS: &[&str] = &[
        "error:",
        "error[",
        "fatal:",
        "FATAL",
        "ERROR",
        "Uncaught",
        "Unhandled",
    ];
    const CONTAINS: &[&str] = &[
        "Traceback (most recent call last)",
        "panicked at",
        "Segmentation fault",
        "Exception in thread",
    ];
    if STARTS.iter().any(|s| t.starts_with(s)) || CONTAINS.iter().any(|c| t.contains(c)) {
        return true;
    }
    // A word ending in `Error` or `Exception` followed by a colon: `TypeError: x`.
    for suffix in ["Error:", "Exception:", "Error ["] {
        let mut from = 0;
        while let Some(p) = t[from..].find(suffix) {
            let at = from + p;
            let word_start = t[..at]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
                .map_or(0, |i| i + 1);
            let word = &t[word_start..at];
            if word.is_empty() || word.chars().next().is_some_and(char::is_uppercase) {
                return true;
            }
            from = at + suffix.len();
        }
    }
    false
}

/// A stack frame or traceback detail line.
fn is_frame(line: &str, previous_was_file_frame: bool) -> bool {
    let t = line.trim_start();
    let indented = line.len() > t.len();
    if t.is_empty() {
        return false;
    }
    if t.starts_with("Caused by") || t.starts_with("... ") && t.ends_with("more") {
        return true;
    }
    if !indented {
        return false;
    }
    t.starts_with("at ")
        || t.starts_with("File \"")
        || t.starts_with("--> ")
        || t.contains(".go:")
        || t.contains(".rs:")
        || t.split_once(':')
            .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        || previous_was_file_frame
}

/// Line-like entries (output lines and tool results) whose indices
/// [`shell_picks`] chooses from.
fn is_line(entry: &Entry) -> bool {
    !matches!(entry.kind, Kind::Text | Kind::ToolCall)
}

/// The indices of the decisive entries, at most `max`, in order; and the anchor
/// (the first error).
fn shell_picks(entries: &[Entry], max: usize) -> (BTreeSet<usize>, Option<usize>) {
    const CONTEXT: usize = 2;
    const FRAMES: usize = 6;
    let lines: Vec<usize> = (0..entries.len())
        .filter(|&i| is_line(&entries[i]))
        .collect();
    let sig: Vec<Signal> = lines.iter().map(|&i| signal(&entries[i])).collect();
    let mut picks = BTreeSet::new();
    if lines.is_empty() || max == 0 {
        return (picks, None);
    }
    let anchor = sig
        .iter()
        .position(|s| *s == Signal::Strong)
        .or_else(|| sig.iter().position(|s| *s == Signal::Weak));
    let Some(a) = anchor else {
        // Nothing says "error": the end of stderr (or of everything) is where a failure shows.
        let stderr: Vec<usize> = lines
            .iter()
            .copied()
            .filter(|&i| entries[i].kind == Kind::Stderr)
            .collect();
        let pool = if stderr.is_empty() { lines } else { stderr };
        picks.extend(pool.iter().rev().take(max.min(8)).copied());
        return (picks, None);
    };
    // A line or two of context before the error when they also report it (`FAIL test name`).
    let mut j = a;
    while j > 0 && a - j < CONTEXT && sig[j - 1] != Signal::None && picks.len() + 1 < max {
        j -= 1;
        picks.insert(lines[j]);
    }
    picks.insert(lines[a]);
    // The stack trace.
    let stream = entries[lines[a]].kind;
    let mut k = a + 1;
    let mut frames = 0;
    let mut file_frame = false;
    while k < lines.len() {
        let e = &entries[lines[k]];
        if e.kind != stream {
            break;
        }
        if is_frame(&e.text, file_frame) {
            if frames < FRAMES && picks.len() < max {
                picks.insert(lines[k]);
            }
            frames += 1;
            file_frame = e.text.trim_start().starts_with("File \"");
        } else if sig[k] == Signal::Strong && frames > 0 && picks.len() < max {
            // The exception line that ends a Python traceback.
            picks.insert(lines[k]);
            file_frame = false;
        } else {
            break;
        }
        k += 1;
    }
    // Later error lines (test summaries, exit messages), without repeats.
    let mut seen: BTreeSet<String> = picks
        .iter()
        .map(|&i| normalize_error(&entries[i].text))
        .collect();
    for idx in k..lines.len() {
        if picks.len() >= max {
            break;
        }
        if sig[idx] != Signal::None && seen.insert(normalize_error(&entries[lines[idx]].text)) {
            picks.insert(lines[idx]);
        }
    }
    (picks, Some(lines[a]))
}

/// The decisive lines of a failed (or stuck) step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Excerpt {
    /// Display lines, with `[… N lines …]` markers for what lies between.
    pub lines: Vec<String>,
    /// The first error line (or the first failing tool call of an agent).
    pub first_error: Option<String>,
    /// How many entries the rows made (lines, texts, tool calls).
    pub total: usize,
}

/// The lines that explain a failure, at most about `max_lines`.
pub fn decisive(entries: &[Entry], max_lines: usize) -> Excerpt {
    let has_agent = entries
        .iter()
        .any(|e| matches!(e.kind, Kind::Text | Kind::ToolCall | Kind::ToolResult));
    let mut excerpt = Excerpt {
        total: entries.len(),
        ..Excerpt::default()
    };
    let output: Vec<Entry> = entries
        .iter()
        .filter(|e| !matches!(e.kind, Kind::Text | Kind::ToolCall | Kind::ToolResult))
        .cloned()
        .collect();
    if !output.is_empty() {
        let budget = if has_agent { max_lines / 2 } else { max_lines };
        let (picks, anchor) = shell_picks(&output, budget.max(1));
        excerpt.first_error = anchor.map(|a| error_line(&output, &picks, a));
        excerpt.lines = with_gaps(&output, &picks, 240);
    }
    if has_agent {
        let (lines, first) = agent_summary(entries);
        excerpt.first_error = excerpt.first_error.or(first);
        excerpt.lines.extend(lines);
    }
    excerpt
}

/// The anchor's text; for a Python traceback, the exception line that ends it.
fn error_line(entries: &[Entry], picks: &BTreeSet<usize>, anchor: usize) -> String {
    let text = entries[anchor].text.trim();
    if text.contains("Traceback") {
        let exception = picks
            .range(anchor + 1..)
            .find(|&&i| is_exception(entries[i].text.trim()));
        if let Some(&i) = exception {
            return entries[i].text.trim().to_string();
        }
    }
    text.to_string()
}

/// Rendered picks in order, with a marker for each run of entries left out.
fn with_gaps(entries: &[Entry], picks: &BTreeSet<usize>, max_chars: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = 0;
    let mut next_row = entries.first().map_or(0, |e| e.rows.start);
    for &i in picks {
        let skipped = (i - next).max(entries[i].rows.start.saturating_sub(next_row));
        if skipped > 0 {
            out.push(gap_marker(skipped));
        }
        out.push(render(&entries[i], max_chars));
        next = i + 1;
        next_row = entries[i].rows.end;
    }
    if !picks.is_empty() && next < entries.len() {
        let last_row = entries.last().map_or(0, |e| e.rows.end);
        out.push(gap_marker(
            (entries.len() - next).max(last_row.saturating_sub(next_row)),
        ));
    }
    out
}

fn gap_marker(n: usize) -> String {
    format!("[… {n} line{} …]", if n == 1 { "" } else { "s" })
}

/// An agent's tool use in a few lines: calls per tool, failing calls grouped
/// with their count and the call that produced them, and its last words.
fn agent_summary(entries: &[Entry]) -> (Vec<String>, Option<String>) {
    let mut calls: Vec<(String, usize)> = Vec::new();
    let mut errors: Vec<(String, String, usize)> = Vec::new(); // (normalized, line, count)
    let mut last_call: Option<&str> = None;
    let mut results = 0;
    for e in entries {
        match e.kind {
            Kind::ToolCall => {
                let name = e.text.split_whitespace().next().unwrap_or("?").to_string();
                match calls.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, c)) => *c += 1,
                    None => calls.push((name, 1)),
                }
                last_call = Some(&e.text);
            }
            Kind::ToolResult => {
                results += 1;
                if e.is_error {
                    let key = normalize_error(&e.text);
                    match errors.iter_mut().find(|(k, _, _)| *k == key) {
                        Some((_, _, c)) => *c += 1,
                        None => {
                            let call = last_call
                                .map(|c| format!(" (call: {})", cut(c, 100)))
                                .unwrap_or_default();
                            errors.push((key, format!("{}{call}", cut(&e.text, 200)), 1));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut lines = Vec::new();
    let total_calls: usize = calls.iter().map(|(_, c)| c).sum();
    let failed: usize = errors.iter().map(|(_, _, c)| c).sum();
    if total_calls > 0 || results > 0 {
        let per_tool = calls
            .iter()
            .map(|(n, c)| format!("{n} ×{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        lines.push(format!(
            "[agent] {total_calls} tool call(s) ({per_tool}); {failed} returned an error"
        ));
    }
    for (_, line, count) in errors.iter().take(3) {
        let times = if *count > 1 {
            format!(" ×{count}")
        } else {
            String::new()
        };
        lines.push(format!("[tool_result{times}] {line}"));
    }
    if errors.len() > 3 {
        lines.push(format!("[… {} other tool errors …]", errors.len() - 3));
    }
    if let Some(text) = entries.iter().rev().find(|e| e.kind == Kind::Text) {
        let t = text.text.trim();
        let n = t.chars().count();
        let tail: String = if n > 240 {
            format!("…{}", t.chars().skip(n - 240).collect::<String>())
        } else {
            t.to_string()
        };
        lines.push(format!(
            "[agent, last words] {}",
            crate::fmt::one_line(&tail, 260)
        ));
    }
    let first = errors.first().map(|(_, line, _)| line.clone());
    (lines, first)
}

/// A piece of a bounded [`view`].
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// A display line.
    Line(String),
    /// What was left out: the rows (0-based positions among the step's rows,
    /// what `get_step_logs`' `offset` counts) and the display lines (for lines
    /// left out inside one multi-line row).
    Gap {
        rows: std::ops::Range<usize>,
        lines: usize,
    },
}

/// At most about `max_lines` entries of a step that has `total_rows` rows: all
/// of them when they fit, else the first few, the decisive ones and the last
/// ones, with gaps between. Entries longer than `max_chars` are cut.
pub fn view(
    entries: &[Entry],
    total_rows: usize,
    max_lines: usize,
    max_chars: usize,
) -> Vec<Piece> {
    let max_lines = max_lines.max(4);
    let picks: BTreeSet<usize> = if entries.len() <= max_lines {
        (0..entries.len()).collect()
    } else {
        let (decisive, _) = shell_picks(entries, max_lines / 2);
        // With decisive lines, a short head and tail frame them; without, head and tail share it all.
        let (head, tail) = if decisive.is_empty() {
            (max_lines / 3, max_lines - max_lines / 3)
        } else {
            ((max_lines / 6).max(2), (max_lines / 6).max(3))
        };
        let mut picks: BTreeSet<usize> = (0..head).collect();
        picks.extend(decisive);
        picks.extend((entries.len().saturating_sub(tail))..entries.len());
        picks
    };
    let mut out = Vec::new();
    let mut next = 0; // next entry index not shown
    let mut next_row = 0; // next row not shown
    for &i in &picks {
        let rows = next_row..entries[i].rows.start.max(next_row);
        if i > next || !rows.is_empty() {
            out.push(Piece::Gap {
                rows,
                lines: i - next,
            });
        }
        out.push(Piece::Line(render(&entries[i], max_chars)));
        next = i + 1;
        next_row = entries[i].rows.end.max(next_row);
    }
    if next < entries.len() || next_row < total_rows {
        out.push(Piece::Gap {
            rows: next_row..total_rows.max(next_row),
            lines: entries.len() - next,
        });
    }
    out
}

/// An error line without what changes between runs (numbers, ids, hashes,
/// spacing), lowercased: equal for "the same error" in two runs.
pub fn normalize_error(line: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for word in line.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let hexish = word.len() >= 7
            && word.chars().all(|c| c.is_ascii_hexdigit())
            && word.chars().any(|c| c.is_ascii_digit());
        if hexish {
            out.push('#');
            continue;
        }
        for c in word.chars() {
            if c.is_ascii_digit() {
                if !in_number {
                    out.push('#');
                }
                in_number = true;
            } else {
                in_number = false;
                out.extend(c.to_lowercase());
            }
        }
        in_number = false;
    }
    out.chars().take(160).collect()
}

/// The first error line of a text such as a step's `error_message` (which for
/// shell steps is the whole stderr), else its first line.
pub fn first_error_in(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        return None;
    }
    let rows = [LogRow::new("stderr", text, 0)];
    let entries = condense(&rows);
    let (picks, anchor) = shell_picks(&entries, 8);
    Some(match anchor {
        Some(a) => error_line(&entries, &picks, a),
        None => crate::fmt::first_line(text, 400),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(spec: &[(&str, &str)]) -> Vec<LogRow> {
        spec.iter()
            .enumerate()
            .map(|(i, (t, c))| LogRow::new(t, c, i as i64))
            .collect()
    }

    /// The shape of step 18 of the test data: 250 passing lines, then the failure.
    fn failing_test_step() -> Vec<LogRow> {
        let mut spec: Vec<(String, String)> = vec![
            ("stdout".into(), "> plue@1.0.0 test".into()),
            ("stdout".into(), "> vitest run".into()),
        ];
        for n in 1..=250 {
            spec.push((
                "stdout".into(),
                format!(" ✓ src/module_{n:03}.test.ts (3 tests) 12ms"),
            ));
        }
        spec.push((
            "stdout".into(),
            " ❯ src/diff/parse.test.ts (9 tests | 1 failed) 41ms".into(),
        ));
        spec.push((
            "stderr".into(),
            " FAIL  src/diff/parse.test.ts > parseHunk > handles renamed files".into(),
        ));
        spec.push((
            "stderr".into(),
            "TypeError: Cannot read properties of undefined (reading 'oldPath')\n    at parseHunk (src/diff/parse.ts:44:17)\n    at renameFromHeader (src/diff/parse.ts:112:9)\n    at src/diff/parse.test.ts:88:12\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)".into(),
        ));
        spec.push((
            "stdout".into(),
            " Test Files  1 failed | 250 passed (251)".into(),
        ));
        spec.push((
            "stdout".into(),
            "      Tests  1 failed | 1003 passed (1004)".into(),
        ));
        spec.push((
            "stderr".into(),
            "npm error Lifecycle script `test` failed with error:\nnpm error code 1".into(),
        ));
        spec.iter()
            .enumerate()
            .map(|(i, (t, c))| LogRow::new(t, c, i as i64))
            .collect()
    }

    #[test]
    fn tokens_are_joined_and_tools_compacted() {
        let rows = rows(&[
            ("token", "Let "),
            ("token", "me "),
            ("token", "look.\n"),
            (
                "tool_call",
                r#"{"id":"t1","name":"read_file","input":{"path":"src/a.ts"}}"#,
            ),
            (
                "tool_result",
                r#"{"id":"t1","name":"read_file","is_error":false,"output":"line 1\nline 2"}"#,
            ),
            (
                "tool_result",
                r#"{"id":"t2","name":"run_command","is_error":true,"output":"bash: pnpm: command not found"}"#,
            ),
            ("token", "Done."),
            ("stdout", "a\nb\n"),
        ]);
        let e = condense(&rows);
        let shown: Vec<String> = e.iter().map(|e| render(e, 100)).collect();
        assert_eq!(
            shown,
            [
                "[agent] Let me look.",
                r#"[tool_call] read_file {"path":"src/a.ts"}"#,
                "[tool_result] read_file → line 1 ⏎ line 2",
                "[tool_result] run_command → error: bash: pnpm: command not found",
                "[agent] Done.",
                "[stdout] a",
                "[stdout] b",
            ]
        );
        assert_eq!(e[0].rows, 0..3);
        assert!(e[3].is_error);
        assert_eq!(compact_call("not json"), "not json");
    }

    #[test]
    fn decisive_lines_are_the_error_and_its_stack_not_the_passing_tests() {
        let e = condense(&failing_test_step());
        let x = decisive(&e, 16);
        assert_eq!(
            x.first_error.as_deref(),
            Some("TypeError: Cannot read properties of undefined (reading 'oldPath')")
        );
        assert_eq!(
            x.lines,
            [
                "[… 252 lines …]",
                "[stdout]  ❯ src/diff/parse.test.ts (9 tests | 1 failed) 41ms",
                "[stderr]  FAIL  src/diff/parse.test.ts > parseHunk > handles renamed files",
                "[stderr] TypeError: Cannot read properties of undefined (reading 'oldPath')",
                "[stderr]     at parseHunk (src/diff/parse.ts:44:17)",
                "[stderr]     at renameFromHeader (src/diff/parse.ts:112:9)",
                "[stderr]     at src/diff/parse.test.ts:88:12",
                "[stderr]     at processTicksAndRejections (node:internal/process/task_queues:95:5)",
                "[stdout]  Test Files  1 failed | 250 passed (251)",
                "[stdout]       Tests  1 failed | 1003 passed (1004)",
                "[stderr] npm error Lifecycle script `test` failed with error:",
                "[stderr] npm error code 1",
            ]
        );
    }

    #[test]
    fn decisive_lines_are_bounded() {
        let e = condense(&failing_test_step());
        let x = decisive(&e, 5);
        assert!(
            x.lines.iter().filter(|l| !l.starts_with("[…")).count() <= 5,
            "{:?}",
            x.lines
        );
        assert!(x.lines.iter().any(|l| l.contains("TypeError")));
    }

    #[test]
    fn python_traceback_and_fallbacks() {
        let rows = rows(&[
            ("stdout", "collecting"),
            (
                "stderr",
                "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n    main()\n  File \"app.py\", line 2, in main\n    raise ValueError('bad')\nValueError: bad\nsomething after",
            ),
        ]);
        let x = decisive(&condense(&rows), 12);
        assert_eq!(x.first_error.as_deref(), Some("ValueError: bad"));
        assert!(
            x.lines.iter().any(|l| l == "[stderr] ValueError: bad"),
            "{:?}",
            x.lines
        );
        assert!(
            x.lines.iter().any(|l| l.contains("raise ValueError")),
            "{:?}",
            x.lines
        );
        // No error words at all: the end of stderr.
        let rows = rows_of(&[
            ("stdout", "step 1"),
            ("stderr", "warming up"),
            ("stderr", "still going"),
        ]);
        let x = decisive(&condense(&rows), 12);
        assert_eq!(x.first_error, None);
        assert_eq!(
            x.lines,
            [
                "[… 1 line …]",
                "[stderr] warming up",
                "[stderr] still going"
            ]
        );
    }

    fn rows_of(spec: &[(&str, &str)]) -> Vec<LogRow> {
        rows(spec)
    }

    #[test]
    fn agent_failures_are_grouped() {
        let mut spec = Vec::new();
        for n in 1..=10 {
            spec.push(("token".to_string(), format!("Turn {n}: trying again. ")));
            spec.push((
                "tool_call".to_string(),
                r#"{"id":"x","name":"run_command","input":{"cmd":"pnpm vitest run src/diff"}}"#
                    .to_string(),
            ));
            spec.push(("tool_result".to_string(), r#"{"id":"x","name":"run_command","is_error":true,"output":"bash: pnpm: command not found"}"#.to_string()));
        }
        let rows: Vec<LogRow> = spec
            .iter()
            .enumerate()
            .map(|(i, (t, c))| LogRow::new(t, c, i as i64))
            .collect();
        let x = decisive(&condense(&rows), 12);
        assert_eq!(
            x.lines,
            [
                "[agent] 10 tool call(s) (run_command ×10); 10 returned an error",
                r#"[tool_result ×10] run_command → error: bash: pnpm: command not found (call: run_command {"cmd":"pnpm vitest run src/diff"})"#,
                "[agent, last words] Turn 10: trying again.",
            ]
        );
        assert!(x.first_error.unwrap().contains("pnpm: command not found"));
    }

    #[test]
    fn view_keeps_head_error_and_tail_with_gaps() {
        let rows = failing_test_step();
        let e = condense(&rows);
        let v = view(&e, rows.len(), 20, 200);
        let lines = v.iter().filter(|p| matches!(p, Piece::Line(_))).count();
        assert!(lines <= 20, "{v:?}");
        assert!(
            v.iter()
                .any(|p| matches!(p, Piece::Line(l) if l.contains("TypeError")))
        );
        assert_eq!(
            v[3],
            Piece::Gap {
                rows: 3..252,
                lines: 249
            }
        );
        assert!(matches!(v.last(), Some(Piece::Line(l)) if l.contains("npm error code 1")));
        // Short logs are shown whole; rows the query skipped still show as a gap.
        let small = condense(&rows[..3]);
        assert_eq!(view(&small, 3, 20, 200).len(), 3);
        let mut skipped = rows[..2].to_vec();
        skipped[1].row_index = Some(40);
        let v = view(&condense(&skipped), 50, 20, 200);
        assert_eq!(
            v[1],
            Piece::Gap {
                rows: 1..40,
                lines: 0
            }
        );
        assert_eq!(
            v[3],
            Piece::Gap {
                rows: 41..50,
                lines: 0
            }
        );
    }

    #[test]
    fn signals() {
        assert_eq!(
            line_signal("AssertionError: expected 500 to be 201"),
            Signal::Strong
        );
        assert_eq!(line_signal("Error: boom"), Signal::Strong);
        assert_eq!(
            line_signal("error[E0308]: mismatched types"),
            Signal::Strong
        );
        assert_eq!(
            line_signal("thread 'main' panicked at src/main.rs:2:5:"),
            Signal::Strong
        );
        assert_eq!(line_signal("npm error code 1"), Signal::Weak);
        assert_eq!(
            line_signal("ssh: connect to host backup port 22: Connection timed out"),
            Signal::Weak
        );
        assert_eq!(
            line_signal("      Tests  0 failed | 12 passed"),
            Signal::None
        );
        assert_eq!(line_signal(" ✓ src/a.test.ts (3 tests) 12ms"), Signal::None);
        assert_eq!(
            line_signal("explain the TypeError reported by vitest"),
            Signal::Weak
        );
        assert_eq!(line_signal("the error: lowercase mid-line"), Signal::Weak);
    }

    #[test]
    fn normalized_errors_ignore_numbers() {
        assert_eq!(
            normalize_error("TypeError at parse.ts:42:17 run 1234"),
            normalize_error("TypeError  at parse.ts:44:17 run 99")
        );
        assert_eq!(normalize_error("commit 3f2c1a9b failed"), "commit # failed");
        assert_ne!(
            normalize_error("TypeError: a"),
            normalize_error("AssertionError: a")
        );
        assert_eq!(
            first_error_in(" FAIL x\nTypeError: boom\n    at f (a.ts:1:2)").as_deref(),
            Some("TypeError: boom")
        );
        assert_eq!(
            first_error_in("Dependency failed").as_deref(),
            Some("Dependency failed")
        );
        assert_eq!(first_error_in("  "), None);
    }
}
