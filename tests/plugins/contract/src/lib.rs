//! A test-only plugin, written against `wit/plugin.wit` without the SDK, whose
//! schemas and answers break the schema contract the way real plugins did:
//! bare `true` property schemas and non-standard `format`s (which the host
//! must normalise), and structured content off its output schema or missing
//! (which the host must turn into an `isError` naming tool, path and rule).

wit_bindgen::generate!({ path: "../../../wit", world: "plue:plugin/tool-group" });

use exports::plue::plugin::tools::Guest;
use plue::plugin::types::{
    Capabilities, Content, PluginManifest, Tool, ToolAnnotations, ToolError, ToolResult,
};

/// Output schema of every tool: `count` required, `inputs` a bare `true`,
/// `series` a required list.
const OUTPUT: &str = r#"{"type":"object","required":["count","series"],"properties":{"count":{"type":"integer","format":"uint32","minimum":0},"inputs":true,"series":{"type":"array","items":{"type":"array","items":true}}}}"#;
/// Input schema: `limit` with a non-standard format, `shape` picks the answer.
const INPUT: &str = r#"{"type":"object","properties":{"limit":{"type":"integer","format":"uint"},"shape":{"type":"string","enum":["valid","missing_field","wrong_type","no_structured","error_with_bad_structured"]}}}"#;

const TOOLS: &[(&str, &str)] = &[
    ("shaped", "Answers in the shape asked for."),
    ("echo_limit", "Echoes `limit` as the count."),
];

struct Component;

impl Guest for Component {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "contract".into(),
            version: "0.1.0".into(),
            description: "Breaks the schema contract (tests only).".into(),
            tools: TOOLS
                .iter()
                .map(|(name, description)| Tool {
                    name: (*name).into(),
                    title: None,
                    description: (*description).into(),
                    input_schema: INPUT.into(),
                    output_schema: Some(OUTPUT.into()),
                    annotations: ToolAnnotations {
                        read_only: true,
                        destructive: false,
                        idempotent: true,
                        open_world: false,
                    },
                })
                .collect(),
            capabilities: Capabilities {
                http: vec![],
                sql: vec![],
                directories: vec![],
            },
            settings: vec![],
            prompts: vec![],
            resource_templates: vec![],
        }
    }

    fn call_tool(name: String, arguments: String) -> Result<ToolResult, ToolError> {
        let field = |key: &str| -> Option<String> {
            // Tiny extraction (no serde here): `"key":"value"` or `"key":123`.
            let at = arguments.find(&format!("\"{key}\""))? + key.len() + 2;
            let rest = arguments[at..].trim_start().strip_prefix(':')?.trim_start();
            let value: String = rest
                .trim_start_matches('"')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            Some(value)
        };
        let answer = |structured: Option<&str>, is_error: bool| ToolResult {
            content: vec![Content::Text(format!("{name} answered"))],
            structured: structured.map(str::to_string),
            is_error,
        };
        match name.as_str() {
            "echo_limit" => {
                let limit = field("limit").unwrap_or_else(|| "0".into());
                Ok(answer(
                    Some(&format!(
                        r#"{{"count":{limit},"inputs":{{"a":[1]}},"series":[[1,"x"]]}}"#
                    )),
                    false,
                ))
            }
            "shaped" => Ok(match field("shape").as_deref().unwrap_or("valid") {
                "missing_field" => answer(Some(r#"{"count":1}"#), false),
                "wrong_type" => answer(Some(r#"{"count":"three","series":[]}"#), false),
                "no_structured" => answer(None, false),
                "error_with_bad_structured" => answer(Some(r#"{"count":-1}"#), true),
                _ => answer(Some(r#"{"count":2,"series":[],"inputs":null}"#), false),
            }),
            other => Err(ToolError::UnknownTool(other.into())),
        }
    }
}

#[cfg(target_arch = "wasm32")]
export!(Component);
