//! The audit trail: one JSON line per tool call on stderr, written by the host
//! alone. Everything else on stderr is a `tracing` line (timestamp first) whose
//! plugin-supplied text is escaped, so no plugin can write a line that parses
//! as an audit record. Arguments are never recorded, only their sha256.

use std::io::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::caller::{Caller, Transport};
use crate::outcome::{Outcome, OutcomeKind};

/// One call, as the trail records it.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// Always `"call"`: what this line is.
    pub audit: &'static str,
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    /// The authenticated identity, when the transport authenticates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<&'a str>,
    /// The client's own name, from `initialize`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<&'a str>,
    pub transport: Transport,
    pub tool: &'a str,
    pub plugin: &'a str,
    /// The sha256 of the plugin's component.
    pub plugin_sha256: &'a str,
    pub outcome: &'static str,
    pub duration_ms: f64,
    /// Bytes of text and structured content returned to the caller.
    pub bytes: usize,
    /// The sha256 of the arguments as the plugin received them (JSON text).
    pub arguments_sha256: String,
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

/// Write the record of one call (one line, one write).
pub fn record(
    caller: &Caller,
    tool: &str,
    plugin: &str,
    plugin_sha256: &str,
    effect: Effect,
    arguments: &str,
) {
    let Effect {
        kind,
        duration_ms,
        bytes,
    } = effect;
    let record = Record {
        audit: "call",
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        identity: caller.identity.as_deref(),
        client: caller.client.as_deref(),
        session: caller.session.as_deref(),
        transport: caller.transport,
        tool,
        plugin,
        plugin_sha256,
        outcome: kind.as_str(),
        duration_ms: (duration_ms * 100.0).round() / 100.0,
        bytes,
        arguments_sha256: hex::encode(Sha256::digest(arguments.as_bytes())),
    };
    if let Ok(mut line) = serde_json::to_vec(&record) {
        line.push(b'\n');
        let _ = std::io::stderr().lock().write_all(&line);
    }
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
}
