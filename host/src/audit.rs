//! The audit trail: one JSON line per tool call, written by the host alone
//! before the answer is sent, to a file with size-based rotation and/or stderr
//! (`[audit]`). Everything else on stderr is a `tracing` line (timestamp
//! first) whose plugin-supplied text is escaped, so no plugin can write a line
//! that parses as an audit record. Arguments are recorded as their sha256,
//! and themselves only when the operator opts in (`include_arguments`).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::caller::{Caller, Transport};
use crate::config::AuditConfig;
use crate::outcome::{Outcome, OutcomeKind};

/// One call, as the trail records it.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// Always `"call"`: what this line is.
    pub audit: &'static str,
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    /// The authenticated principal (`token:NAME`, `sub:…`, `client:…`), when
    /// the transport authenticates; never the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<&'a str>,
    /// The client's own name, from `initialize`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<&'a str>,
    pub transport: Transport,
    pub tool: &'a str,
    /// Absent when no plugin provides the tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<&'a str>,
    /// The sha256 of the plugin's component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_sha256: Option<&'a str>,
    pub outcome: &'static str,
    pub duration_ms: f64,
    /// Bytes of text and structured content returned to the caller.
    pub bytes: usize,
    /// The sha256 of the arguments as the plugin received them (JSON text).
    pub arguments_sha256: String,
    /// The arguments themselves, only with `[audit] include_arguments = true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<serde_json::Value>,
}

/// The bytes an outcome returns: its text, plus `structured_bytes` (the
/// structured content's JSON length) when that content is passed on.
pub fn returned_bytes(outcome: &Outcome, structured_bytes: usize) -> usize {
    let structured = if outcome.structured.is_some() {
        structured_bytes
    } else {
        0
    };
    outcome.texts().map(str::len).sum::<usize>() + structured
}

/// What one call did, as the trail records it.
#[derive(Debug, Clone, Copy)]
pub struct Effect {
    pub kind: OutcomeKind,
    pub duration_ms: f64,
    /// Bytes returned, from [`returned_bytes`].
    pub bytes: usize,
}

/// The plugin that served a call: its name and the sha256 of its component.
#[derive(Debug, Clone, Copy)]
pub struct Served<'a> {
    pub plugin: &'a str,
    pub sha256: &'a str,
}

/// The longest tool name recorded as sent (a client chooses unknown names).
const MAX_TOOL_NAME: usize = 200;

/// Where the records go, opened once at start-up.
pub struct Trail {
    stderr: bool,
    include_arguments: bool,
    file: Option<Mutex<RotatingFile>>,
}

impl Default for Trail {
    /// Records on stderr only, arguments hashed.
    fn default() -> Self {
        Trail {
            stderr: true,
            include_arguments: false,
            file: None,
        }
    }
}

/// Why the trail could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the audit file `{path}` ([audit] file): {source}")]
pub struct OpenError {
    pub path: String,
    pub source: std::io::Error,
}

impl Trail {
    /// Open the trail `config` describes (creating its file if needed).
    pub fn open(config: &AuditConfig) -> Result<Trail, OpenError> {
        let file = match &config.file {
            None => None,
            Some(path) => Some(Mutex::new(
                RotatingFile::open(path, config.max_file_bytes, config.keep).map_err(|source| {
                    OpenError {
                        path: path.display().to_string(),
                        source,
                    }
                })?,
            )),
        };
        Ok(Trail {
            stderr: config.stderr,
            include_arguments: config.include_arguments,
            file,
        })
    }

    /// Write the record of one call (one line, one write per destination).
    /// `served` is `None` for a tool no plugin provides.
    pub fn record(
        &self,
        caller: &Caller,
        tool: &str,
        served: Option<Served<'_>>,
        effect: Effect,
        arguments: &str,
    ) {
        let Effect {
            kind,
            duration_ms,
            bytes,
        } = effect;
        let (tool, _) = crate::text::truncate(tool, MAX_TOOL_NAME);
        let record = Record {
            audit: "call",
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            identity: caller.identity(),
            client: caller.client.as_deref(),
            session: caller.session.as_deref(),
            transport: caller.transport,
            tool: &tool,
            plugin: served.map(|s| s.plugin),
            plugin_sha256: served.map(|s| s.sha256),
            outcome: kind.as_str(),
            duration_ms: (duration_ms * 100.0).round() / 100.0,
            bytes,
            arguments_sha256: hex::encode(Sha256::digest(arguments.as_bytes())),
            arguments: self
                .include_arguments
                .then(|| serde_json::from_str(arguments).ok())
                .flatten(),
        };
        let Ok(mut line) = serde_json::to_vec(&record) else {
            return;
        };
        line.push(b'\n');
        if let Some(file) = &self.file {
            let written = file
                .lock()
                .map_err(|_| std::io::Error::other("the audit file lock is poisoned"))
                .and_then(|mut f| f.write(&line));
            if let Err(e) = written {
                tracing::error!("cannot write the audit file: {e}");
            }
        }
        if self.stderr {
            let _ = std::io::stderr().lock().write_all(&line);
        }
    }
}

/// An append-only file that moves aside (`FILE.1`, `FILE.2`, …, up to `keep`)
/// before a line would take it past `max_bytes`.
struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    max_bytes: u64,
    keep: u32,
}

impl RotatingFile {
    fn open(path: &Path, max_bytes: u64, keep: u32) -> std::io::Result<RotatingFile> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            size,
            max_bytes,
            keep,
        })
    }

    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        if self.size > 0 && self.size + line.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let numbered = |n: u32| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            for n in (1..self.keep).rev() {
                if numbered(n).exists() {
                    std::fs::rename(numbered(n), numbered(n + 1))?;
                }
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// Open for appending, created readable by its owner only (arguments may be in it).
fn open_append(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returned_bytes_count_text_and_structured_content() {
        let outcome = Outcome {
            content: vec![crate::bindings::Content::Text("abc".into())],
            structured: Some(serde_json::json!({"n": 1})),
            is_error: false,
            kind: OutcomeKind::Ok,
        };
        assert_eq!(
            returned_bytes(&outcome, r#"{"n":1}"#.len()),
            3 + r#"{"n":1}"#.len()
        );
        let withheld = Outcome {
            structured: None,
            ..outcome
        };
        assert_eq!(
            returned_bytes(&withheld, 7),
            3,
            "withheld content is not returned"
        );
    }

    #[test]
    fn the_file_is_moved_aside_before_it_passes_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let config = AuditConfig {
            file: Some(path.clone()),
            stderr: false,
            include_arguments: true,
            max_file_bytes: 700,
            keep: 2,
        };
        let trail = Trail::open(&config).unwrap();
        let effect = Effect {
            kind: OutcomeKind::Ok,
            duration_ms: 1.0,
            bytes: 3,
        };
        let served = Served {
            plugin: "p",
            sha256: "00",
        };
        for n in 0..20 {
            trail.record(
                &Caller::default(),
                "t",
                Some(served),
                effect,
                &format!(r#"{{"n":{n}}}"#),
            );
        }
        let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
        let numbered = |n: u32| PathBuf::from(format!("{}.{n}", path.display()));
        let files = [read(&path), read(&numbered(1)), read(&numbered(2))];
        assert!(!numbered(3).exists(), "keep = 2 keeps two old files");
        let mut seen: Vec<i64> = Vec::new();
        for text in files.iter().rev() {
            assert!(text.len() <= 700, "{} bytes", text.len());
            for line in text.lines() {
                let record: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(record["arguments"]["n"], record["arguments"]["n"]);
                seen.push(record["arguments"]["n"].as_i64().unwrap());
            }
        }
        // The newest records, in order, none repeated; the oldest rotated out.
        let first = seen[0];
        assert!(first > 0, "older files were dropped");
        assert_eq!(seen, (first..20).collect::<Vec<_>>());
    }
}
