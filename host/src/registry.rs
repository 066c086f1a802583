//! The union of every plugin's tools as MCP tools: names (with the operator's
//! prefix), allow/deny filters, clash detection, and argument validation
//! against each tool's input schema before any plugin runs.

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value};

use crate::plugin::LoadedPlugin;

/// One exposed tool.
pub struct Entry {
    pub plugin: Arc<LoadedPlugin>,
    /// The name inside the plugin.
    pub tool_name: String,
    pub tool: Tool,
    validator: jsonschema::Validator,
}

/// All exposed tools, in plugin order.
pub struct Registry {
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
}

impl Registry {
    /// Build the registry; every clash and bad schema is reported together.
    pub fn build(plugins: &[Arc<LoadedPlugin>]) -> Result<Registry, Vec<String>> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut problems = Vec::new();
        for plugin in plugins {
            let cfg = &plugin.config;
            for name in cfg.allow_tools.iter().flatten().chain(&cfg.deny_tools) {
                if !plugin.manifest.tools.iter().any(|t| &t.name == name) {
                    problems.push(format!(
                        "[plugins.{}] tools: plugin has no tool `{name}`",
                        plugin.name
                    ));
                }
            }
            for t in &plugin.manifest.tools {
                if cfg.deny_tools.contains(&t.name)
                    || cfg
                        .allow_tools
                        .as_ref()
                        .is_some_and(|a| !a.contains(&t.name))
                {
                    continue;
                }
                let exposed = format!("{}{}", cfg.prefix.as_deref().unwrap_or(""), t.name);
                if let Some(&other) = by_name.get(&exposed) {
                    problems.push(format!(
                        "tool `{exposed}` is exported by plugins `{}` and `{}`: set prefix = \"{}_\" in [plugins.{}] (or deny the tool in one of them)",
                        entries[other].plugin.name, plugin.name, plugin.name, plugin.name
                    ));
                    continue;
                }
                let input: Map<String, Value> = match serde_json::from_str(&t.input_schema) {
                    Ok(Value::Object(o)) => o,
                    _ => {
                        problems.push(format!(
                            "plugin `{}` tool `{}`: input schema is not a JSON object",
                            plugin.name, t.name
                        ));
                        continue;
                    }
                };
                let validator = match jsonschema::validator_for(&Value::Object(input.clone())) {
                    Ok(v) => v,
                    Err(e) => {
                        problems.push(format!(
                            "plugin `{}` tool `{}`: invalid input schema: {e}",
                            plugin.name, t.name
                        ));
                        continue;
                    }
                };
                let a = &t.annotations;
                let mut tool = Tool::new(exposed.clone(), t.description.clone(), Arc::new(input))
                    .with_annotations(
                        ToolAnnotations::new()
                            .read_only(a.read_only)
                            .destructive(a.destructive)
                            .idempotent(a.idempotent)
                            .open_world(a.open_world),
                    );
                if let Some(title) = &t.title {
                    tool = tool.with_title(title.clone());
                }
                if let Some(Ok(Value::Object(out))) = t
                    .output_schema
                    .as_deref()
                    .map(serde_json::from_str::<Value>)
                {
                    tool = tool.with_raw_output_schema(Arc::new(out));
                }
                by_name.insert(exposed, entries.len());
                entries.push(Entry {
                    plugin: plugin.clone(),
                    tool_name: t.name.clone(),
                    tool,
                    validator,
                });
            }
        }
        if problems.is_empty() {
            Ok(Registry { entries, by_name })
        } else {
            Err(problems)
        }
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn tools(&self) -> Vec<Tool> {
        self.entries.iter().map(|e| e.tool.clone()).collect()
    }
}

impl Entry {
    /// Check `arguments` against the input schema; the message names each
    /// offending field and what was expected, then lists the parameters.
    pub fn validate(&self, arguments: &Value) -> Result<(), String> {
        let problems: Vec<String> = self
            .validator
            .iter_errors(arguments)
            .take(5)
            .map(|e| {
                let path = e.instance_path().to_string();
                if path.is_empty() || path == "/" {
                    e.to_string()
                } else {
                    format!("`{}`: {e}", path.trim_start_matches('/').replace('/', "."))
                }
            })
            .collect();
        if problems.is_empty() {
            return Ok(());
        }
        Err(format!(
            "invalid arguments for `{}`: {}. Parameters: {}",
            self.tool.name,
            problems.join("; "),
            describe_parameters(&self.tool.input_schema)
        ))
    }
}

/// `query (string, required), limit (integer)` from an object schema.
fn describe_parameters(schema: &Map<String, Value>) -> String {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return "none".into();
    };
    if props.is_empty() {
        return "none".into();
    }
    props
        .iter()
        .map(|(name, p)| {
            let ty = match p.get("type") {
                Some(Value::String(t)) => t.clone(),
                Some(Value::Array(ts)) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "null")
                    .collect::<Vec<_>>()
                    .join("|"),
                _ if p.get("enum").is_some() => "enum".into(),
                _ => "any".into(),
            };
            let req = if required.contains(&name.as_str()) {
                ", required"
            } else {
                ""
            };
            format!("{name} ({ty}{req})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
