//! Plugin outcomes as MCP results: text and image content, `structuredContent`,
//! and `isError` for everything that went wrong (with the message the agent
//! needs to act on it).

use base64::Engine as _;
use rmcp::model::{CallToolResult, ContentBlock};

use crate::bindings::Content;
use crate::plugin::CallOutcome;

pub fn to_mcp(outcome: CallOutcome) -> CallToolResult {
    let answer = match outcome {
        Ok(answer) => answer,
        Err(e) => return CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
    };
    let mut content: Vec<ContentBlock> = answer
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
    let structured =
        answer
            .structured
            .and_then(|s| match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!("dropping structured content that is not JSON: {e}");
                    None
                }
            });
    if content.is_empty()
        && let Some(v) = &structured
    {
        content.push(ContentBlock::text(v.to_string()));
    }
    let mut result = if answer.is_error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    };
    result.structured_content = structured;
    result
}
