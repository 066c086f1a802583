//! Stack traces and panics in log entries: which language wrote them (Python, Rust,
//! Zig, TypeScript/JavaScript) and what exception they report, so traces can be
//! grouped by language and exception type.

use std::sync::OnceLock;

use regex::Regex;

use crate::logql::Language;
use crate::normalize::normalize;

/// A stack trace found in one log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub language: Language,
    /// The exception type, such as `KeyError`, `TypeError`, `error.FileNotFound`,
    /// `panic: index out of bounds`; a bare `Error` keeps its message (`Error: fetch failed`).
    pub exception: String,
    /// The line that says what went wrong, such as `KeyError: 'workflow_id'`.
    pub summary: String,
    /// The trace's own text when a field of the entry holds it (a JSON line's
    /// `stack`); `None` when the trace is the entry itself.
    pub text: Option<String>,
}

impl Trace {
    /// The trace, read from a field holding `text`.
    pub fn with_text(self, text: &str) -> Trace {
        Trace {
            text: Some(text.to_string()),
            ..self
        }
    }
}

fn compiled(language: Language) -> &'static Regex {
    static RES: OnceLock<Vec<Regex>> = OnceLock::new();
    let all = RES.get_or_init(|| {
        Language::ALL
            .iter()
            .map(|l| Regex::new(l.pattern()).expect("trace patterns are valid"))
            .collect()
    });
    let i = Language::ALL
        .iter()
        .position(|l| *l == language)
        .unwrap_or(0);
    &all[i]
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static pattern"))
}

/// The trace in `entry`, if it holds one.
pub fn detect(entry: &str) -> Option<Trace> {
    let language = Language::ALL
        .into_iter()
        .find(|l| compiled(*l).is_match(entry))?;
    let first = entry.lines().next().unwrap_or("").trim_end();
    let (exception, summary) = match language {
        Language::Python => python(entry),
        Language::Rust => rust(entry),
        Language::Zig => zig(first),
        Language::Typescript => typescript(entry),
    };
    Some(Trace {
        language,
        exception,
        summary,
        text: None,
    })
}

/// The last unindented `Type: message` line (the exception raised last).
fn python(entry: &str) -> (String, String) {
    static LINE: OnceLock<Regex> = OnceLock::new();
    let line_re = re(&LINE, r"^([A-Za-z_][\w.]*)(?::\s*(.*))?$");
    let found = entry.lines().rev().map(str::trim_end).find_map(|l| {
        let skip = l.is_empty()
            || l.starts_with(char::is_whitespace)
            || l.starts_with("Traceback ")
            || l.starts_with("During handling")
            || l.starts_with("The above exception");
        if skip {
            return None;
        }
        line_re
            .captures(l)
            .map(|c| (c[1].to_string(), l.to_string()))
    });
    found.unwrap_or_else(|| {
        (
            "Exception".into(),
            entry.lines().last().unwrap_or("").trim().to_string(),
        )
    })
}

/// `thread 'main' panicked at src/x.rs:1:2:` then the message on the next line
/// (Rust 1.73+), or `panicked at 'message', src/x.rs:1:2` (older).
fn rust(entry: &str) -> (String, String) {
    static OLD: OnceLock<Regex> = OnceLock::new();
    let lines: Vec<&str> = entry.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("panicked at"))
        .unwrap_or(0);
    let head = lines.get(at).copied().unwrap_or("").trim();
    let message = if let Some(c) = re(&OLD, r"panicked at '(.*)', \S+$").captures(head) {
        c[1].to_string()
    } else {
        lines
            .get(at + 1)
            .map(|l| l.trim().to_string())
            .unwrap_or_default()
    };
    let summary = if message.is_empty() || head.contains(&message) {
        head.to_string()
    } else {
        format!("{head} {message}")
    };
    (format!("panicked: {}", normalize(&message)), summary)
}

/// `thread 1 panic: index out of bounds: …` → `panic: index out of bounds`;
/// an error return trace → its `error.Name`.
fn zig(first: &str) -> (String, String) {
    static ERROR_NAME: OnceLock<Regex> = OnceLock::new();
    let exception = if let Some((_, rest)) = first.split_once("panic: ") {
        let what = rest.split([':', ',']).next().unwrap_or(rest).trim();
        format!("panic: {what}")
    } else if let Some(m) = re(&ERROR_NAME, r"\berror\.\w+").find(first) {
        m.as_str().to_string()
    } else {
        "error".to_string()
    };
    (exception, first.to_string())
}

/// `TypeError: message` → `TypeError`; a bare `Error` keeps its (normalised) message.
fn typescript(entry: &str) -> (String, String) {
    static HEAD: OnceLock<Regex> = OnceLock::new();
    let head = re(
        &HEAD,
        r"^\s*(?:Uncaught )?([\w.$]*(?:Error|Exception)\w*)(?::\s*(.*))?$",
    );
    for line in entry.lines() {
        if let Some(c) = head.captures(line.trim_end()) {
            let kind = c[1].to_string();
            let message = c.get(2).map(|m| m.as_str().trim()).unwrap_or("");
            let exception = if kind == "Error" && !message.is_empty() {
                format!("Error: {}", normalize(message))
            } else {
                kind
            };
            return (exception, line.trim().to_string());
        }
    }
    let first = entry.lines().next().unwrap_or("").trim().to_string();
    ("Error".into(), first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(entry: &str, language: Language, exception: &str, summary: &str) {
        let t = detect(entry).unwrap_or_else(|| panic!("no trace in {entry:?}"));
        assert_eq!(
            (t.language, t.exception.as_str(), t.summary.as_str()),
            (language, exception, summary)
        );
    }

    #[test]
    fn languages_and_exceptions() {
        check(
            "Traceback (most recent call last):\n  File \"/app/q.py\", line 88, in h\n    x = p[\"w\"]\nKeyError: 'workflow_id'",
            Language::Python,
            "KeyError",
            "KeyError: 'workflow_id'",
        );
        check(
            "Traceback (most recent call last):\n  File \"a.py\", line 1\n    raise CalledProcessError(1,\nsubprocess.CalledProcessError: Command 'x' returned 1.",
            Language::Python,
            "subprocess.CalledProcessError",
            "subprocess.CalledProcessError: Command 'x' returned 1.",
        );
        check(
            "thread 'main' panicked at src/session.rs:88:14:\ncalled `Option::unwrap()` on a `None` value\nstack backtrace:\n   0: x\n             at ./src/session.rs:88:14",
            Language::Rust,
            "panicked: called `Option::unwrap()` on a `None` value",
            "thread 'main' panicked at src/session.rs:88:14: called `Option::unwrap()` on a `None` value",
        );
        check(
            "thread 'main' panicked at 'index out of bounds: the len is 3', src/main.rs:2:5",
            Language::Rust,
            "panicked: index out of bounds: the len is <N>",
            "thread 'main' panicked at 'index out of bounds: the len is 3', src/main.rs:2:5",
        );
        check(
            "thread 4182 panic: index out of bounds: index 12, len 8\n/app/src/tree.zig:214:31: 0x10d3c2a in handleTree (server)",
            Language::Zig,
            "panic: index out of bounds",
            "thread 4182 panic: index out of bounds: index 12, len 8",
        );
        check(
            "error(git): failed to open repository /r.git: error.FileNotFound\n/app/src/git/repo.zig:57:13: 0x10c4410 in open (server)",
            Language::Zig,
            "error.FileNotFound",
            "error(git): failed to open repository /r.git: error.FileNotFound",
        );
        check(
            "TypeError: Cannot read properties of undefined (reading 'owner')\n    at RepoHeader (/app/ui/RepoHeader.tsx:42:31)",
            Language::Typescript,
            "TypeError",
            "TypeError: Cannot read properties of undefined (reading 'owner')",
        );
        check(
            "Error: fetch failed\n    at node:internal/deps/undici/undici:13502:13\n    at async apiFetch (/app/ui/lib/api.ts:54:17)",
            Language::Typescript,
            "Error: fetch failed",
            "Error: fetch failed",
        );
        assert_eq!(detect("Error: plain line without frames"), None);
        assert_eq!(
            detect("java.lang.NullPointerException\n\tat com.x.Y.m(Y.java:42)"),
            None
        );
    }
}
