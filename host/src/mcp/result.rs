//! The project's [`Outcome`] and tool descriptions as MCP types: results with
//! text, image and resource content, `structuredContent` and `isError`, `Tool`s
//! for `tools/list`, and prompts, resources and completions. The only place
//! rmcp's model meets the core's.

use std::sync::Arc;

use base64::Engine as _;
use rmcp::model::{
    CallToolResult, CompletionInfo, ContentBlock, GetPromptResult, Prompt, PromptArgument,
    PromptMessage, Resource, ResourceContents, ResourceTemplate, Role, Tool, ToolAnnotations,
};

use crate::bindings::{self, Content, ResourceBody};
use crate::catalog::{Family, MergedPrompt};
use crate::context::RenderedPrompt;
use crate::outcome::Outcome;
use crate::registry::Entry;

/// An outcome as an MCP result. A result with structured content but no text
/// gets the JSON as its text, as MCP asks for clients that do not read
/// `structuredContent`.
pub fn call_tool_result(outcome: Outcome) -> CallToolResult {
    let mut content: Vec<ContentBlock> = outcome.content.into_iter().map(content).collect();
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

/// One block of content as MCP's.
pub fn content(c: Content) -> ContentBlock {
    match c {
        Content::Text(t) => ContentBlock::text(t),
        Content::Image(i) => ContentBlock::image(
            base64::engine::general_purpose::STANDARD.encode(&i.data),
            i.mime_type,
        ),
        Content::ResourceLink(l) => ContentBlock::resource_link(resource(l)),
        Content::Embedded(r) => ContentBlock::resource(contents(r)),
    }
}

/// A concrete resource as MCP lists or links it.
pub fn resource(info: bindings::ResourceInfo) -> Resource {
    let mut r = Resource::new(info.uri, info.name);
    if let Some(t) = info.title {
        r = r.with_title(t);
    }
    if let Some(d) = info.description {
        r = r.with_description(d);
    }
    if let Some(m) = info.mime_type {
        r = r.with_mime_type(m);
    }
    if let Some(s) = info.size {
        r = r.with_size(s);
    }
    r
}

/// A resource's contents as MCP's (binary as base64).
pub fn contents(c: bindings::ResourceContents) -> ResourceContents {
    let r = match c.body {
        ResourceBody::Text(t) => ResourceContents::text(t, c.uri),
        ResourceBody::Blob(b) => {
            ResourceContents::blob(base64::engine::general_purpose::STANDARD.encode(&b), c.uri)
        }
    };
    match c.mime_type {
        Some(m) => r.with_mime_type(m),
        None => r,
    }
}

/// A resource family as MCP lists it.
pub fn template(f: &Family) -> ResourceTemplate {
    let t = &f.template;
    let mut r = ResourceTemplate::new(t.uri_template.clone(), t.name.clone())
        .with_description(t.description.clone());
    if let Some(title) = &t.title {
        r = r.with_title(title.clone());
    }
    if let Some(m) = &t.mime_type {
        r = r.with_mime_type(m.clone());
    }
    r
}

/// A prompt as MCP lists it.
pub fn prompt(p: &MergedPrompt) -> Prompt {
    let arguments = p
        .arguments
        .iter()
        .map(|a| {
            PromptArgument::new(a.name.clone())
                .with_description(a.description.clone())
                .with_required(a.required)
        })
        .collect();
    let prompt = Prompt::new(p.name.clone(), Some(p.description.clone()), Some(arguments));
    match &p.title {
        Some(t) => prompt.with_title(t.clone()),
        None => prompt,
    }
}

/// A rendered prompt as MCP's.
pub fn prompt_result(p: RenderedPrompt) -> GetPromptResult {
    let messages = p
        .messages
        .into_iter()
        .map(|m| {
            let role = match m.role {
                bindings::Role::User => Role::User,
                bindings::Role::Assistant => Role::Assistant,
            };
            PromptMessage::new(role, content(m.content))
        })
        .collect();
    let result = GetPromptResult::new(messages);
    match p.description {
        Some(d) => result.with_description(d),
        None => result,
    }
}

/// Suggested values as MCP's.
pub fn completion(c: bindings::Completion) -> CompletionInfo {
    let mut info = CompletionInfo::default();
    info.values = c.values;
    info.total = c.total;
    info.has_more = Some(c.has_more);
    info
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
