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
    /// Agents often send `"20"` for an integer or `"true"` for a boolean: turn
    /// such top-level values into the type the schema asks for when the text
    /// is exactly that type's literal. Anything else is left for
    /// [`Entry::validate`] to report.
    pub fn coerce(&self, arguments: &mut Value) {
        let (Some(props), Some(args)) = (
            self.tool
                .input_schema
                .get("properties")
                .and_then(Value::as_object),
            arguments.as_object_mut(),
        ) else {
            return;
        };
        for (name, value) in args.iter_mut() {
            if let Some(schema) = props.get(name) {
                coerce_value(schema, value);
            }
        }
    }

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

/// The JSON types a property schema allows (`"type": "x"` or `["x", "null"]`).
fn allowed_types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn coerce_value(schema: &Value, value: &mut Value) {
    let types = allowed_types(schema);
    let replacement = match &*value {
        Value::String(text) if !types.contains(&"string") => {
            let text = text.trim();
            if types.contains(&"integer") {
                text.parse::<i64>().ok().map(Value::from)
            } else if types.contains(&"number") {
                text.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Value::from)
            } else if types.contains(&"boolean") {
                match text {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    _ => None,
                }
            } else {
                None
            }
        }
        // 6.0 for an integer parameter.
        Value::Number(n) if types.contains(&"integer") && !n.is_i64() && !n.is_u64() => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
            .map(|f| Value::from(f as i64)),
        _ => None,
    };
    if let Some(v) = replacement {
        *value = v;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(schema: Value, input: Value, expected: Value) {
        let mut value = input.clone();
        coerce_value(&schema, &mut value);
        assert_eq!(value, expected, "{schema} {input}");
    }

    #[test]
    fn literals_become_the_declared_type_and_nothing_else_changes() {
        let int = json!({"type": "integer"});
        let opt_int = json!({"type": ["integer", "null"]});
        let num = json!({"type": "number"});
        let boolean = json!({"type": "boolean"});
        let text = json!({"type": "string"});
        check(int.clone(), json!("20"), json!(20));
        check(opt_int.clone(), json!(" 7 "), json!(7));
        check(int.clone(), json!(6.0), json!(6));
        check(int.clone(), json!(6.5), json!(6.5));
        check(int.clone(), json!("twenty"), json!("twenty"));
        check(int, json!("2.5"), json!("2.5"));
        check(num.clone(), json!("0.25"), json!(0.25));
        check(num, json!("NaN"), json!("NaN"));
        check(boolean.clone(), json!("true"), json!(true));
        check(boolean, json!("yes"), json!("yes"));
        check(text, json!("20"), json!("20"));
        check(opt_int, json!(null), json!(null));
    }
}
