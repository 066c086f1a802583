//! A test-only plugin, written against `wit/plugin.wit` without the SDK, whose
//! manifest is a flood: 10 000 tools, one with a 5 MB input schema. The host
//! must refuse to load it, naming the bound, and keep loading the others.

wit_bindgen::generate!({ path: "../../../wit", world: "plue:plugin/tool-group" });

use exports::plue::plugin::tools::Guest;
use plue::plugin::types::{
    Capabilities, PluginManifest, Tool, ToolAnnotations, ToolError, ToolResult,
};

struct Component;

impl Guest for Component {
    fn manifest() -> PluginManifest {
        let huge = format!(
            r#"{{"type":"object","description":"{}"}}"#,
            "x".repeat(5 << 20)
        );
        PluginManifest {
            name: "badmanifest".into(),
            version: "0.1.0".into(),
            description: "Declares far too much (tests only).".into(),
            tools: (0..10_000)
                .map(|i| Tool {
                    name: format!("tool_{i}"),
                    title: None,
                    description: "Does nothing.".into(),
                    input_schema: if i == 0 {
                        huge.clone()
                    } else {
                        r#"{"type":"object"}"#.into()
                    },
                    output_schema: None,
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

    fn call_tool(name: String, _arguments: String) -> Result<ToolResult, ToolError> {
        Err(ToolError::UnknownTool(name))
    }
}

#[cfg(target_arch = "wasm32")]
export!(Component);
