//! The prompts and resource families of every plugin, built once at load:
//! a prompt offered by several plugins is one prompt whose parts they render
//! (joined in plugin order, the order of `tools/list`), and a resource URI is routed to the one
//! plugin whose URI template it matches. Protocol-free: `mcp/` converts.

use std::sync::Arc;

use crate::bindings::{PromptArgument, ResourceTemplate};
use crate::plugin::LoadedPlugin;

#[path = "../../sdk/src/uri_template.rs"]
#[allow(dead_code)]
pub mod uri_template;

/// Bounds on what a manifest may declare beside its tools.
const MAX_PROMPTS: usize = 32;
const MAX_TEMPLATES: usize = 32;
const MAX_TEXT_BYTES: usize = 4096;

/// One prompt as clients see it.
pub struct MergedPrompt {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    /// Every contributor's arguments by name; required if any contributor requires it.
    pub arguments: Vec<PromptArgument>,
    /// The plugins that render a part, in plugin order.
    pub plugins: Vec<Arc<LoadedPlugin>>,
}

/// One resource family and the plugin that serves it.
pub struct Family {
    pub plugin: Arc<LoadedPlugin>,
    pub template: ResourceTemplate,
}

/// Every prompt and resource family.
#[derive(Default)]
pub struct Catalog {
    prompts: Vec<MergedPrompt>,
    families: Vec<Family>,
}

impl Catalog {
    /// Merge every plugin's prompts and templates; every problem is reported together.
    pub fn build(plugins: &[Arc<LoadedPlugin>]) -> Result<Catalog, Vec<String>> {
        let mut catalog = Catalog::default();
        let mut problems = Vec::new();
        for plugin in plugins {
            let m = &plugin.manifest;
            let name = &plugin.name;
            if m.prompts.len() > MAX_PROMPTS || m.resource_templates.len() > MAX_TEMPLATES {
                problems.push(format!(
                    "plugin `{name}` declares {} prompts and {} resource templates, over the limit of {MAX_PROMPTS} each",
                    m.prompts.len(),
                    m.resource_templates.len()
                ));
                continue;
            }
            for p in &m.prompts {
                if let Err(why) = check_prompt(p) {
                    problems.push(format!("plugin `{name}`: {why}"));
                    continue;
                }
                catalog.add_prompt(plugin, p);
            }
            for t in &m.resource_templates {
                if let Err(why) = check_template(t) {
                    problems.push(format!("plugin `{name}`: {why}"));
                    continue;
                }
                if let Some(other) = catalog
                    .families
                    .iter()
                    .find(|f| f.template.uri_template == t.uri_template)
                {
                    problems.push(format!(
                        "resource template `{}` is declared by plugins `{}` and `{name}`; a URI must have one owner",
                        t.uri_template, other.plugin.name
                    ));
                    continue;
                }
                catalog.families.push(Family {
                    plugin: plugin.clone(),
                    template: t.clone(),
                });
            }
        }
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(problems)
        }
    }

    fn add_prompt(&mut self, plugin: &Arc<LoadedPlugin>, p: &crate::bindings::Prompt) {
        let merged = match self.prompts.iter_mut().find(|m| m.name == p.name) {
            Some(m) => m,
            None => {
                self.prompts.push(MergedPrompt {
                    name: p.name.clone(),
                    title: p.title.clone(),
                    description: p.description.clone(),
                    arguments: Vec::new(),
                    plugins: Vec::new(),
                });
                self.prompts.last_mut().expect("just pushed")
            }
        };
        for a in &p.arguments {
            match merged.arguments.iter_mut().find(|m| m.name == a.name) {
                Some(m) => m.required |= a.required,
                None => merged.arguments.push(a.clone()),
            }
        }
        merged.plugins.push(plugin.clone());
    }

    pub fn prompts(&self) -> &[MergedPrompt] {
        &self.prompts
    }

    pub fn prompt(&self, name: &str) -> Option<&MergedPrompt> {
        self.prompts.iter().find(|p| p.name == name)
    }

    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The family `uri` belongs to, with its variables' values.
    pub fn route(&self, uri: &str) -> Option<(&Family, Vec<(String, String)>)> {
        self.families.iter().find_map(|f| {
            uri_template::match_uri(&f.template.uri_template, uri).map(|vars| (f, vars))
        })
    }

    /// The family whose URI template is exactly `uri_template`.
    pub fn family(&self, uri_template: &str) -> Option<&Family> {
        self.families
            .iter()
            .find(|f| f.template.uri_template == uri_template)
    }
}

fn valid_name(name: &str, extra: u8) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == extra)
}

fn check_prompt(p: &crate::bindings::Prompt) -> Result<(), String> {
    if !valid_name(&p.name, b'-') {
        return Err(format!(
            "prompt name `{}` must be 1 to 64 lowercase letters, digits, `-` and `_`, starting with a letter",
            p.name.escape_debug()
        ));
    }
    let text = p.description.len()
        + p.arguments
            .iter()
            .map(|a| a.description.len())
            .sum::<usize>();
    if text > MAX_TEXT_BYTES {
        return Err(format!(
            "prompt `{}` has {text} bytes of descriptions, over the limit of {MAX_TEXT_BYTES}",
            p.name
        ));
    }
    if let Some(a) = p.arguments.iter().find(|a| !valid_name(&a.name, b'_')) {
        return Err(format!(
            "prompt `{}`: argument name `{}` must be lowercase letters, digits and `_`",
            p.name,
            a.name.escape_debug()
        ));
    }
    Ok(())
}

fn check_template(t: &ResourceTemplate) -> Result<(), String> {
    if !t.uri_template.starts_with("plue://") {
        return Err(format!(
            "resource template `{}` must use the `plue://` scheme",
            t.uri_template.escape_debug()
        ));
    }
    uri_template::parse(&t.uri_template).map_err(|why| format!("resource template {why}"))?;
    if t.description.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "resource template `{}` has a description of {} bytes, over the limit of {MAX_TEXT_BYTES}",
            t.uri_template,
            t.description.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::Prompt;

    fn prompt(name: &str, args: &[(&str, bool)]) -> Prompt {
        Prompt {
            name: name.into(),
            title: None,
            description: "d".into(),
            arguments: args
                .iter()
                .map(|(n, r)| PromptArgument {
                    name: n.to_string(),
                    description: String::new(),
                    required: *r,
                })
                .collect(),
        }
    }

    /// The five bundled groups, as the built-in default loads them, and their order.
    async fn bundled() -> (Catalog, Vec<String>) {
        let (_rt, loaded) = crate::plugin::load::tests::load(crate::config::BUILT_IN_DEFAULT).await;
        let loaded = loaded.unwrap();
        let order = loaded.iter().map(|p| p.name.clone()).collect();
        (Catalog::build(&loaded).unwrap(), order)
    }

    #[tokio::test]
    async fn a_prompt_of_several_plugins_is_one_with_parts_in_plugin_order() {
        let (catalog, order) = bundled().await;
        let health = catalog.prompt("health-check").unwrap();
        let owners: Vec<&str> = health.plugins.iter().map(|p| p.name.as_str()).collect();
        let expected: Vec<&str> = order
            .iter()
            .map(String::as_str)
            .filter(|n| ["prometheus", "logs", "database", "workflows"].contains(n))
            .collect();
        assert_eq!(owners, expected);
        let args: Vec<(&str, bool)> = health
            .arguments
            .iter()
            .map(|a| (a.name.as_str(), a.required))
            .collect();
        assert_eq!(args, [("quick", false), ("full", false)]);
        let trace = catalog.prompt("trace-request").unwrap();
        assert_eq!(trace.plugins.len(), 1);
        assert!(
            trace
                .arguments
                .iter()
                .any(|a| a.name == "request_id" && a.required)
        );
        // Listed once each, in first-seen order.
        let names: Vec<&str> = catalog.prompts().iter().map(|p| p.name.as_str()).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names.len(), unique.len(), "{names:?}");
    }

    #[tokio::test]
    async fn a_uri_routes_to_the_family_it_matches_with_its_variables() {
        let (catalog, _) = bundled().await;
        let (family, vars) = catalog.route("plue://runs/13").unwrap();
        assert_eq!(family.plugin.name, "workflows");
        assert_eq!(vars, [("run_id".to_string(), "13".to_string())]);
        let (family, vars) = catalog
            .route("plue://playwright/attachments/test-results/a%20b/shot.png")
            .unwrap();
        assert_eq!(family.plugin.name, "playwright");
        assert_eq!(vars[0].1, "test-results/a b/shot.png");
        assert!(catalog.route("plue://runs/13/more").is_none());
        assert!(catalog.route("file:///etc/passwd").is_none());
        assert!(catalog.family("plue://steps/{step_id}/logs").is_some());
    }

    #[test]
    fn names_and_templates_are_checked() {
        assert!(check_prompt(&prompt("health-check", &[("quick", false)])).is_ok());
        assert!(
            check_prompt(&prompt("Health", &[]))
                .unwrap_err()
                .contains("lowercase")
        );
        assert!(
            check_prompt(&prompt("x", &[("run-id", false)]))
                .unwrap_err()
                .contains("argument name")
        );
        let template = |uri: &str| ResourceTemplate {
            uri_template: uri.into(),
            name: "n".into(),
            title: None,
            description: String::new(),
            mime_type: None,
        };
        assert!(check_template(&template("plue://runs/{run_id}")).is_ok());
        assert!(
            check_template(&template("file:///etc/{x}"))
                .unwrap_err()
                .contains("plue://")
        );
        assert!(check_template(&template("plue://a/{x}{y}")).is_err());
    }
}
