//! `plue-mcp inspect`: what a plugin asks for, before an operator grants it
//! anything. The manifest is read and checked the way loading does it
//! ([`crate::plugin::load::read_manifest`], [`crate::schema::manifest::check`]),
//! into one [`InspectReport`] printed as text or JSON.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::config::Limits;
use crate::engine::{Runtime, sha256_hex};
use crate::text::printable;

/// Everything `inspect` says about one plugin file.
#[derive(Debug, Serialize)]
pub struct InspectReport {
    pub file: String,
    pub sha256: String,
    pub name: String,
    pub version: String,
    pub description: String,
    /// The contract version it was built against: `0.1` or `0.2`.
    pub contract: &'static str,
    /// The optional interfaces it exports (`prompts`, `resources`, `completions`).
    pub exports: Vec<&'static str>,
    pub capabilities: Capabilities,
    pub settings: Vec<Setting>,
    pub tools: Vec<ToolSummary>,
    /// Prompt names with their arguments (`name(arg, required_arg*)`).
    pub prompts: Vec<String>,
    /// Resource URI templates.
    pub resource_templates: Vec<String>,
    pub imports: Vec<Import>,
    /// What loading would refuse in the manifest (empty when it would load).
    pub problems: Vec<String>,
}

/// The resource names the manifest asks for.
#[derive(Debug, Serialize)]
pub struct Capabilities {
    pub http: Vec<String>,
    pub sql: Vec<String>,
    pub directories: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Setting {
    pub key: String,
    pub default: Option<String>,
    pub description: String,
}

#[derive(Debug, Serialize)]
pub struct ToolSummary {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

/// One import of the component and the import policy's verdict on it.
#[derive(Debug, Serialize)]
pub struct Import {
    pub name: String,
    pub allowed: bool,
    pub why: Option<String>,
}

/// Print a plugin's manifest and imports.
pub async fn inspect(path: &Path, json: bool) -> ExitCode {
    match InspectReport::read(path).await {
        Ok(report) if json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(report) => {
            print!("{}", report.text());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", printable(&format!("{e:#}"), true));
            ExitCode::from(2)
        }
    }
}

impl InspectReport {
    /// Compile `path`, judge its imports and read its manifest with default limits.
    pub async fn read(path: &Path) -> anyhow::Result<InspectReport> {
        let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
        let runtime = Runtime::new(1, 256 << 20)?;
        let component = wasmtime::component::Component::new(&runtime.engine, &bytes)
            .map_err(anyhow::Error::from)
            .context("not a WebAssembly component")?;
        let imports = component
            .component_type()
            .imports(&runtime.engine)
            .map(|(name, _)| {
                let verdict = crate::policy::imports::check_import(name);
                Import {
                    name: name.to_string(),
                    allowed: verdict.is_ok(),
                    why: verdict.err(),
                }
            })
            .collect();
        let linker = crate::plugin::load::linker(&runtime.engine)?;
        let pre = linker.instantiate_pre(&component)?;
        let exports = crate::plugin::exports::Exports::find(&pre)?;
        let mut m =
            crate::plugin::load::read_manifest(&runtime, &pre, &exports, Limits::default()).await?;
        let problems = crate::schema::manifest::check(&mut m)
            .err()
            .unwrap_or_default();
        Ok(InspectReport {
            file: path.display().to_string(),
            sha256: sha256_hex(&bytes),
            contract: exports.contract().as_str(),
            exports: exports.optional(),
            prompts: m
                .prompts
                .iter()
                .map(|p| {
                    let args: Vec<String> = p
                        .arguments
                        .iter()
                        .map(|a| format!("{}{}", a.name, if a.required { "*" } else { "" }))
                        .collect();
                    format!("{}({})", p.name, args.join(", "))
                })
                .collect(),
            resource_templates: m
                .resource_templates
                .iter()
                .map(|t| t.uri_template.clone())
                .collect(),
            capabilities: Capabilities {
                http: m.capabilities.http,
                sql: m.capabilities.sql,
                directories: m.capabilities.directories,
            },
            settings: m
                .settings
                .into_iter()
                .map(|s| Setting {
                    key: s.key,
                    default: s.default_value,
                    description: s.description,
                })
                .collect(),
            tools: m
                .tools
                .into_iter()
                .map(|t| ToolSummary {
                    name: t.name,
                    title: t.title,
                    description: t.description,
                    read_only: t.annotations.read_only,
                    destructive: t.annotations.destructive,
                    idempotent: t.annotations.idempotent,
                    open_world: t.annotations.open_world,
                })
                .collect(),
            name: m.name,
            version: m.version,
            description: m.description,
            imports,
            problems,
        })
    }

    /// The report for a terminal. Everything in it comes from the plugin, so
    /// every string is printed without terminal sequences.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let s = |v: &str| printable(v, false);
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items.iter().map(|i| s(i)).collect::<Vec<_>>().join(", ")
            }
        };
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(
            w,
            "{} {} — {}",
            s(&self.name),
            s(&self.version),
            s(&self.description)
        );
        let _ = writeln!(w, "file:   {}\nsha256: {}", s(&self.file), self.sha256);
        let _ = writeln!(
            w,
            "contract: plue:plugin@{} (exports tools{})",
            self.contract,
            self.exports
                .iter()
                .map(|e| format!(", {e}"))
                .collect::<String>()
        );
        let _ = writeln!(w, "\nasks for:");
        let caps = &self.capabilities;
        let _ = writeln!(w, "  http endpoints: {}", list(&caps.http));
        let _ = writeln!(w, "  databases:      {}", list(&caps.sql));
        let _ = writeln!(w, "  directories:    {}", list(&caps.directories));
        if !self.settings.is_empty() {
            let _ = writeln!(w, "\nsettings:");
            for st in &self.settings {
                let (key, default) = (s(&st.key), s(st.default.as_deref().unwrap_or("")));
                let _ = writeln!(w, "  {key} (default {default:?}): {}", s(&st.description));
            }
        }
        let _ = writeln!(w, "\ntools:");
        for t in &self.tools {
            let flags: Vec<&str> = [
                ("read-only", t.read_only),
                ("destructive", t.destructive),
                ("idempotent", t.idempotent),
                ("open-world", t.open_world),
            ]
            .iter()
            .filter(|(_, on)| *on)
            .map(|(label, _)| *label)
            .collect();
            let first_line = t.description.lines().next().unwrap_or("");
            let _ = writeln!(
                w,
                "  {} [{}]: {}",
                s(&t.name),
                flags.join(", "),
                s(first_line)
            );
        }
        if !self.prompts.is_empty() {
            let _ = writeln!(w, "\nprompts (* required): {}", list(&self.prompts));
        }
        if !self.resource_templates.is_empty() {
            let _ = writeln!(w, "resources: {}", list(&self.resource_templates));
        }
        let _ = writeln!(w, "\nimports:");
        for i in &self.imports {
            let verdict = match (&i.why, i.allowed) {
                (_, true) => "ok".to_string(),
                (why, false) => format!("REFUSED: {}", s(why.as_deref().unwrap_or(""))),
            };
            let _ = writeln!(w, "  {}: {verdict}", s(&i.name));
        }
        if !self.problems.is_empty() {
            let _ = writeln!(w, "\nloading would refuse it:");
            for p in &self.problems {
                let _ = writeln!(w, "  - {}", s(p));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_shows_what_the_plugin_declares_without_its_escapes() {
        let report = InspectReport {
            file: "p.wasm".into(),
            sha256: "00".repeat(32),
            name: "p".into(),
            version: "1".into(),
            description: "does things\u{1b}]0;pwned\u{7}".into(),
            contract: "0.2",
            exports: vec!["prompts"],
            prompts: vec!["brief\u{1b}[31m(run_id*)".into()],
            resource_templates: vec![],
            capabilities: Capabilities {
                http: vec!["web".into()],
                sql: vec![],
                directories: vec![],
            },
            settings: vec![],
            tools: vec![ToolSummary {
                name: "t".into(),
                title: None,
                description: "first line\nsecond line".into(),
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            }],
            imports: vec![Import {
                name: "wasi:sockets/tcp@0.2.6".into(),
                allowed: false,
                why: Some("no sockets".into()),
            }],
            problems: vec!["declares too much".into()],
        };
        let text = report.text();
        for line in [
            "  http endpoints: web",
            "  databases:      none",
            "  t [read-only, idempotent]: first line",
            "  wasi:sockets/tcp@0.2.6: REFUSED: no sockets",
            "  - declares too much",
        ] {
            assert!(text.lines().any(|l| l == line), "`{line}` not in:\n{text}");
        }
        assert!(!text.contains("second line"));
        assert!(
            !text.contains(['\u{1b}', '\u{7}']) && !text.contains("pwned"),
            "{text:?}"
        );
    }
}
