//! The project's [`Outcome`] and tool descriptions as MCP types: results with
//! text and image content, `structuredContent` and `isError`, and `Tool`s for
//! `tools/list`. The only place rmcp's model meets the core's.

use std::sync::Arc;

use base64::Engine as _;
use rmcp::model::{CallToolResult, ContentBlock, Tool, ToolAnnotations};

use crate::bindings::Content;
use crate::outcome::Outcome;
use crate::registry::Entry;

/// An outcome as an MCP result. A result with structured content but no text
/// gets the JSON as its text, as MCP asks for clients that do not read
/// `structuredContent`.
pub fn call_tool_result(outcome: Outcome) -> CallToolResult {
    let mut content: Vec<ContentBlock> = outcome
        .content
        .into_iter()
        .map(|c| match c {
            Content::Text(t) => ContentBlock::text(t),
            Content::Image(i) => ContentBlock::image(
                base64::engine::general_purpose::STANDARD.encode(&i.data),
                i.mime_type,
            ),
        })
        .collect();
    if content.is_empty()
        && let Some(v) = &outcome.structured
    {
        content.push(ContentBlock::text(v.to_string()));
    }
    let mut result = if outcome.is_error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    };
    result.structured_content = outcome.structured;
    result
}

/// A registry entry as the `Tool` MCP lists.
pub fn tool(entry: &Entry) -> Tool {
    let a = &entry.annotations;
    let contract = entry.contract();
    let mut tool = Tool::new(
        entry.name.clone(),
        entry.description.clone(),
        contract.input.clone(),
    )
    .with_annotations(
        ToolAnnotations::new()
            .read_only(a.read_only)
            .destructive(a.destructive)
            .idempotent(a.idempotent)
            .open_world(a.open_world),
    );
    if let Some(title) = &entry.title {
        tool = tool.with_title(title.clone());
    }
    if let Some(out) = &contract.output {
        tool = tool.with_raw_output_schema(out.clone());
    }
    tool
}

/// Every tool of the registry, converted once and shared by all sessions.
pub fn tools(app: &crate::app::App) -> Arc<Vec<Tool>> {
    Arc::new(app.registry.entries().iter().map(tool).collect())
}

/// An outcome as the JSON of an MCP `CallToolResult` (for `plue-mcp call --json`).
pub fn result_json(outcome: Outcome) -> serde_json::Value {
    serde_json::to_value(call_tool_result(outcome)).unwrap_or_default()
}

/// A tool as the JSON `tools/list` carries (for `plue-mcp tools --json`).
pub fn tool_json(entry: &Entry) -> serde_json::Value {
    serde_json::to_value(tool(entry)).unwrap_or_default()
}
