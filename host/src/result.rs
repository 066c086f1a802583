//! Plugin outcomes as MCP results: text and image content, `structuredContent`,
//! and `isError` for everything that went wrong (with the message the agent
//! needs to act on it).

use base64::Engine as _;
use rmcp::model::{CallToolResult, ContentBlock};

use crate::bindings::Content;

/// An `isError` result carrying `message`.
pub fn error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// A plugin's answer (already checked against its output schema). A result
/// with structured content but no text gets the JSON as its text, as MCP
/// asks for clients that do not read `structuredContent`.
pub fn answer(
    content: Vec<Content>,
    structured: Option<serde_json::Value>,
    is_error: bool,
) -> CallToolResult {
    let mut content: Vec<ContentBlock> = content
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
        && let Some(v) = &structured
    {
        content.push(ContentBlock::text(v.to_string()));
    }
    let mut result = if is_error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    };
    result.structured_content = structured;
    result
}
