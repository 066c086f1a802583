//! What a tool call produced, in the project's own terms, for every front end
//! (MCP over stdio or HTTP, the CLI's `call`): content blocks, structured
//! content already checked against the tool's output schema, whether it is an
//! error, and how the call ended for the audit trail.

use crate::bindings::Content;

/// How a call ended, as the audit trail and metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// The plugin answered.
    Ok,
    /// The plugin answered with an error it chose (a backend error, bad input it found).
    ToolError,
    /// The arguments were refused: by the host before the plugin ran, or by the plugin.
    InvalidArguments,
    /// The call produced no answer: a limit, a trap, a plugin that could not start.
    Failed,
    /// The plugin answered off its declared output schema: its defect.
    PluginDefect,
    /// The server is shutting down.
    Refused,
    /// The client cancelled the call (or went away) before its answer.
    Cancelled,
    /// No plugin provides the tool named.
    UnknownTool,
    /// The caller's identity may not use the tool (`[[access]]`).
    Denied,
}

impl OutcomeKind {
    /// The name used in audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "ok",
            OutcomeKind::ToolError => "tool_error",
            OutcomeKind::InvalidArguments => "invalid_arguments",
            OutcomeKind::Failed => "failed",
            OutcomeKind::PluginDefect => "plugin_defect",
            OutcomeKind::Refused => "refused",
            OutcomeKind::Cancelled => "cancelled",
            OutcomeKind::UnknownTool => "unknown_tool",
            OutcomeKind::Denied => "denied",
        }
    }
}

/// A finished tool call.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub content: Vec<Content>,
    /// Present only when it matches the tool's output schema.
    pub structured: Option<serde_json::Value>,
    pub is_error: bool,
    pub kind: OutcomeKind,
}

impl Outcome {
    /// An error result carrying one message.
    pub fn error(kind: OutcomeKind, message: String) -> Outcome {
        Outcome {
            content: vec![Content::Text(message)],
            structured: None,
            is_error: true,
            kind,
        }
    }

    /// The text blocks, one per line group.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.content.iter().filter_map(|c| match c {
            Content::Text(t) => Some(t.as_str()),
            _ => None,
        })
    }
}
