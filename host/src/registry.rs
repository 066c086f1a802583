//! The union of every plugin's tools: names (with the operator's prefix),
//! allow/deny filters and clash detection. Each entry carries its tool's
//! schema contract ([`crate::schema`]), compiled once at load. Protocol-free:
//! the MCP front end turns entries into its own `Tool`s.

use std::collections::HashMap;
use std::sync::Arc;

use crate::bindings::ToolAnnotations;

use crate::plugin::LoadedPlugin;
use crate::schema::contract::ToolContract;

/// One exposed tool.
pub struct Entry {
    pub plugin: Arc<LoadedPlugin>,
    /// The name inside the plugin.
    pub tool_name: String,
    /// The name clients see (with the operator's prefix).
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub annotations: ToolAnnotations,
    contract: Arc<ToolContract>,
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
                let Some(contract) = plugin.contracts.get(&t.name).cloned() else {
                    problems.push(format!(
                        "plugin `{}` tool `{}`: no schema contract",
                        plugin.name, t.name
                    ));
                    continue;
                };
                by_name.insert(exposed.clone(), entries.len());
                entries.push(Entry {
                    plugin: plugin.clone(),
                    tool_name: t.name.clone(),
                    name: exposed,
                    title: t.title.clone(),
                    description: t.description.clone(),
                    annotations: t.annotations,
                    contract,
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
}

impl Entry {
    /// The tool's compiled schema contract.
    pub fn contract(&self) -> &ToolContract {
        &self.contract
    }
}
