//! Bounds on a plugin's manifest as a whole (tool count, bytes, names) and the
//! normalisation of each tool's schemas into a compiled contract, so a hostile
//! or careless plugin can neither flood `tools/list` nor serve a schema a
//! client would reject. Every problem names the tool and the JSON path.

use crate::bindings::PluginManifest;

use super::contract::ToolContract;

/// The most tools one plugin may declare.
pub const MAX_TOOLS: usize = 128;
/// The most bytes a manifest may hold in all (names, titles, descriptions,
/// schemas after normalisation).
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;
/// The longest description a tool (or the plugin) may give.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
/// The longest tool title.
pub const MAX_TITLE_BYTES: usize = 128;

/// Check `manifest` and compile one contract per tool, in manifest order.
/// Normalised schemas replace the declared ones in `manifest`, so everything
/// downstream (registry, `tools --json`) sees what clients are served.
pub fn check(manifest: &mut PluginManifest) -> Result<Vec<ToolContract>, Vec<String>> {
    let mut problems = Vec::new();
    if manifest.tools.len() > MAX_TOOLS {
        return Err(vec![format!(
            "declares {} tools, over the limit of {MAX_TOOLS} tools per plugin",
            manifest.tools.len()
        )]);
    }
    if manifest.description.len() > MAX_DESCRIPTION_BYTES {
        problems.push(format!(
            "the plugin description is {} bytes, over the limit of {MAX_DESCRIPTION_BYTES}",
            manifest.description.len()
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut contracts = Vec::new();
    let mut total = manifest.description.len();
    for tool in &mut manifest.tools {
        let name = tool.name.clone();
        if !valid_tool_name(&name) {
            problems.push(format!(
                "tool name `{}` must be 1 to 64 lowercase letters, digits and `_`, starting with a letter",
                name.escape_debug()
            ));
            continue;
        }
        if !seen.insert(name.clone()) {
            problems.push(format!("tool `{name}` is declared twice"));
        }
        if tool.description.len() > MAX_DESCRIPTION_BYTES {
            problems.push(format!(
                "tool `{name}`: description is {} bytes, over the limit of {MAX_DESCRIPTION_BYTES}",
                tool.description.len()
            ));
        }
        if tool
            .title
            .as_ref()
            .is_some_and(|t| t.len() > MAX_TITLE_BYTES)
        {
            problems.push(format!(
                "tool `{name}`: title is over the limit of {MAX_TITLE_BYTES} bytes"
            ));
        }
        match ToolContract::compile(&tool.input_schema, tool.output_schema.as_deref()) {
            Ok(contract) => {
                tool.input_schema = contract.input_text();
                tool.output_schema = contract.output_text();
                total += tool.name.len()
                    + tool.title.as_ref().map_or(0, String::len)
                    + tool.description.len()
                    + tool.input_schema.len()
                    + tool.output_schema.as_ref().map_or(0, String::len);
                contracts.push(contract);
            }
            Err((which, problem)) => {
                problems.push(format!("tool `{name}`: {which} schema {problem}"));
            }
        }
    }
    if total > MAX_MANIFEST_BYTES {
        problems.push(format!(
            "the manifest is {total} bytes, over the limit of {MAX_MANIFEST_BYTES} bytes"
        ));
    }
    if problems.is_empty() {
        Ok(contracts)
    } else {
        Err(problems)
    }
}

/// Lowercase letters, digits and `_`, starting with a letter, at most 64
/// bytes: valid in every client and in the operator's `prefix`ed form.
fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ToolAnnotations;
    use crate::bindings::plue::plugin::types::{Capabilities, Tool};

    fn tool(name: &str, input: &str, output: Option<&str>) -> Tool {
        Tool {
            name: name.into(),
            title: None,
            description: "Reads things.".into(),
            input_schema: input.into(),
            output_schema: output.map(str::to_string),
            annotations: ToolAnnotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
        }
    }

    fn manifest(tools: Vec<Tool>) -> PluginManifest {
        PluginManifest {
            name: "p".into(),
            version: "0.1.0".into(),
            description: "A plugin.".into(),
            tools,
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

    #[test]
    fn normalised_schemas_replace_the_declared_ones() {
        let mut m = manifest(vec![tool(
            "runs",
            r#"{"type":"object","properties":{"limit":{"type":"integer","format":"uint32"}}}"#,
            Some(r#"{"type":"object","properties":{"inputs":true}}"#),
        )]);
        let contracts = check(&mut m).unwrap();
        assert_eq!(contracts.len(), 1);
        assert!(!m.tools[0].input_schema.contains("uint32"));
        assert!(
            m.tools[0]
                .output_schema
                .as_deref()
                .unwrap()
                .contains(r#""inputs":{}"#)
        );
    }

    #[test]
    fn every_problem_names_its_tool_and_path() {
        let mut m = manifest(vec![
            tool("ok", r#"{"type":"object"}"#, None),
            tool("Bad-Name", r#"{"type":"object"}"#, None),
            tool("ext", r#"{"properties":{"x":{"$ref":"http://x/y"}}}"#, None),
            tool("out", r#"{}"#, Some(r#"{"type":"array"}"#)),
            tool("ok", r#"{}"#, None),
        ]);
        let problems = check(&mut m).unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("tool name `Bad-Name`"), "{all}");
        assert!(
            all.contains("tool `ext`: input schema at `/properties/x/$ref`"),
            "{all}"
        );
        assert!(
            all.contains("tool `out`: output schema at `/type`"),
            "{all}"
        );
        assert!(all.contains("tool `ok` is declared twice"), "{all}");
        assert_eq!(problems.len(), 4, "{all}");
    }

    #[test]
    fn tool_count_and_total_size_are_bounded() {
        let many: Vec<Tool> = (0..=MAX_TOOLS)
            .map(|i| tool(&format!("t{i}"), "{}", None))
            .collect();
        let problems = check(&mut manifest(many)).unwrap_err();
        assert!(
            problems[0].contains("over the limit of 128 tools"),
            "{problems:?}"
        );

        let description = format!(r#"{{"description":"{}"}}"#, "x".repeat(60_000));
        let big: Vec<Tool> = (0..20)
            .map(|i| tool(&format!("t{i}"), &description, None))
            .collect();
        let problems = check(&mut manifest(big)).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("manifest is") && p.contains("over the limit")),
            "{problems:?}"
        );
    }
}
