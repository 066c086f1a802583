//! `plue-mcp check`: what an operator runs before trusting a configuration.
//! Every plugin loads as `serve` would load it, every granted backend is
//! probed, and the findings become one [`CheckReport`] printed as text or JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use crate::config::{Config, EndpointConfig, PluginSource};
use crate::engine::CompileSource;
use crate::text::printable;

/// Everything `check` found, in configuration order.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// Where the configuration came from.
    pub configuration: String,
    pub cache_dir: PathBuf,
    /// Why the compile cache is not used, if it is not.
    pub cache_refused: Option<String>,
    pub plugins: Vec<PluginCheck>,
    /// Tools served, over every plugin.
    pub tools: usize,
    /// Prompts served (a prompt several plugins render counts once).
    pub prompts: usize,
    /// Resource families (URI templates) served.
    pub resource_templates: usize,
}

/// One loaded plugin and the state of each resource granted to it.
#[derive(Debug, Serialize)]
pub struct PluginCheck {
    pub name: String,
    pub version: String,
    /// `bundled` or the file's path.
    pub source: String,
    pub sha256: String,
    pub pinned: bool,
    /// Where the compiled plugin came from: `embedded`, `cache` or `compiled`.
    pub compiled: CompileSource,
    /// The contract version it was built against: `0.1` or `0.2`.
    pub contract: &'static str,
    pub tools: usize,
    /// The prompts it renders (a part of, when several plugins offer one).
    pub prompts: Vec<String>,
    /// Its resource families' URI templates.
    pub resource_templates: Vec<String>,
    pub grants: Vec<GrantCheck>,
}

/// One granted resource: the plugin's name for it, the operator's, and its state.
#[derive(Debug, Serialize)]
pub struct GrantCheck {
    pub name: String,
    pub resource: String,
    #[serde(flatten)]
    pub state: GrantState,
}

#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GrantState {
    /// An endpoint that answered (origin and path only: never credentials).
    HttpReachable { url: String, status: u16 },
    /// An endpoint that did not answer.
    HttpUnreachable { url: String, why: String },
    /// A database reached as `role`, with what the operator should change.
    SqlRole {
        role: String,
        superuser: bool,
        reads_all_data: bool,
        writable_tables: i64,
        advice: Vec<String>,
    },
    /// A directory mounted read-only.
    Directory { path: PathBuf },
    /// Configured but unusable (unset variable, missing directory, no connection).
    Unavailable { kind: ResourceKind, why: String },
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Http,
    Sql,
    Directory,
}

/// Report on configuration, plugins, grants and backends: exit 0 when every
/// backend can be used, 1 when one cannot, 2 when nothing loads.
pub async fn check(config: Option<&Path>, json: bool) -> ExitCode {
    let config = match Config::load(config) {
        Ok(c) => c,
        Err(e) => {
            println!("configuration: FAILED\n{e}");
            return ExitCode::from(2);
        }
    };
    let app = match crate::app::App::load(config.clone()).await {
        Ok(app) => app,
        Err(e) => {
            println!("configuration: ok ({})", config.origin);
            match crate::engine::cache_status(&config.server.cache_dir) {
                Ok(()) => println!("compile cache: {}", config.server.cache_dir.display()),
                Err(why) => println!("compile cache: REFUSED: {why}"),
            }
            println!("plugins: FAILED\n{}", printable(&format!("{e:#}"), true));
            return ExitCode::from(2);
        }
    };
    let report = CheckReport::gather(&config, &app).await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print!("{}", report.text());
    }
    if report.unavailable() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

impl CheckReport {
    /// Probe every granted resource of every plugin of `app`.
    pub async fn gather(config: &Config, app: &crate::app::App) -> CheckReport {
        let mut plugins = Vec::new();
        for p in &app.plugins {
            let mut grants = Vec::new();
            for (name, resource) in &p.config.http {
                let state = http_state(&config.endpoints[resource]).await;
                grants.push(GrantCheck::new(name, resource, state));
            }
            for (name, resource) in &p.config.sql {
                // The pool the plugin itself uses (shared by every plugin granted this database).
                let state = match p.grants.sql.databases[name].role_report().await {
                    Ok(r) => GrantState::SqlRole {
                        advice: r.advice(resource),
                        role: r.role,
                        superuser: r.superuser,
                        reads_all_data: r.reads_all_data,
                        writable_tables: r.writable_tables,
                    },
                    Err(why) => GrantState::Unavailable {
                        kind: ResourceKind::Sql,
                        why: why.to_string(),
                    },
                };
                grants.push(GrantCheck::new(name, resource, state));
            }
            for (name, resource) in &p.config.directories {
                let state = match &config.directories[resource].path {
                    Ok(path) => GrantState::Directory { path: path.clone() },
                    Err(why) => GrantState::Unavailable {
                        kind: ResourceKind::Directory,
                        why: why.clone(),
                    },
                };
                grants.push(GrantCheck::new(name, resource, state));
            }
            plugins.push(PluginCheck {
                name: p.manifest.name.clone(),
                version: p.manifest.version.clone(),
                source: match &p.config.source {
                    PluginSource::Bundled => "bundled".to_string(),
                    PluginSource::Path(path) => path.display().to_string(),
                },
                sha256: p.digest.clone(),
                pinned: p.config.sha256.is_some(),
                compiled: p.compiled,
                contract: p.exports.contract().as_str(),
                tools: p.manifest.tools.len(),
                prompts: p.manifest.prompts.iter().map(|x| x.name.clone()).collect(),
                resource_templates: p
                    .manifest
                    .resource_templates
                    .iter()
                    .map(|t| t.uri_template.clone())
                    .collect(),
                grants,
            });
        }
        CheckReport {
            configuration: config.origin.to_string(),
            cache_dir: config.server.cache_dir.clone(),
            cache_refused: crate::engine::cache_status(&config.server.cache_dir).err(),
            plugins,
            tools: app.registry.entries().len(),
            prompts: app.catalog.prompts().len(),
            resource_templates: app.catalog.families().len(),
        }
    }

    /// Granted resources that cannot be used.
    pub fn unavailable(&self) -> usize {
        self.plugins
            .iter()
            .flat_map(|p| &p.grants)
            .filter(|g| {
                matches!(
                    g.state,
                    GrantState::HttpUnreachable { .. } | GrantState::Unavailable { .. }
                )
            })
            .count()
    }

    /// The report for a terminal; plugin-provided names are printed without
    /// terminal sequences.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(w, "configuration: ok ({})", self.configuration);
        match &self.cache_refused {
            None => writeln!(w, "compile cache: {}", self.cache_dir.display()),
            Some(why) => writeln!(w, "compile cache: REFUSED: {why}"),
        }
        .ok();
        for p in &self.plugins {
            let pinned = if p.pinned { "pinned" } else { "not pinned" };
            let compiled = match p.compiled {
                CompileSource::Embedded => "precompiled",
                CompileSource::Cache => "from cache",
                CompileSource::Compiled => "compiled now",
            };
            let _ = writeln!(
                w,
                "\nplugin {} {} ({}; sha256 {} {pinned}; {compiled}; contract {}): {} tools",
                printable(&p.name, false),
                printable(&p.version, false),
                p.source,
                &p.sha256[..16],
                p.contract,
                p.tools
            );
            let named = |items: &[String]| {
                items
                    .iter()
                    .map(|i| printable(i, false))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !p.prompts.is_empty() {
                let _ = writeln!(w, "  prompts: {}", named(&p.prompts));
            }
            if !p.resource_templates.is_empty() {
                let _ = writeln!(w, "  resources: {}", named(&p.resource_templates));
            }
            for g in &p.grants {
                let _ = write!(w, "{}", g.text());
            }
        }
        let _ = writeln!(
            w,
            "\n{} plugins, {} tools, {} prompts, {} resource templates; {} backend(s) unavailable",
            self.plugins.len(),
            self.tools,
            self.prompts,
            self.resource_templates,
            self.unavailable()
        );
        out
    }
}

impl GrantCheck {
    fn new(name: &str, resource: &str, state: GrantState) -> GrantCheck {
        GrantCheck {
            name: name.to_string(),
            resource: resource.to_string(),
            state,
        }
    }

    fn kind(&self) -> ResourceKind {
        match &self.state {
            GrantState::HttpReachable { .. } | GrantState::HttpUnreachable { .. } => {
                ResourceKind::Http
            }
            GrantState::SqlRole { .. } => ResourceKind::Sql,
            GrantState::Directory { .. } => ResourceKind::Directory,
            GrantState::Unavailable { kind, .. } => *kind,
        }
    }

    /// One line (and the advice under it).
    fn text(&self) -> String {
        let (name, resource) = (&self.name, &self.resource);
        let head = match self.kind() {
            ResourceKind::Http => format!("  http {name} -> endpoint {resource}"),
            ResourceKind::Sql => format!("  sql {name} -> database {resource}"),
            ResourceKind::Directory => format!("  directory {name} -> {resource}"),
        };
        match &self.state {
            GrantState::HttpReachable { url, status } => {
                format!("{head}: {url} reachable (HTTP {status})\n")
            }
            GrantState::HttpUnreachable { url, why } => {
                format!("{head}: {url} UNREACHABLE: {why}\n")
            }
            GrantState::SqlRole {
                role,
                superuser,
                reads_all_data,
                writable_tables,
                advice,
            } => {
                let mut line = format!(
                    "{head}: reachable as role `{role}` (superuser: {superuser}, pg_read_all_data: {reads_all_data}, writable tables: {writable_tables})\n"
                );
                for a in advice {
                    line.push_str(&format!("    ! {a}\n"));
                }
                line
            }
            GrantState::Directory { path } => {
                format!("{head}: {} (read-only at /{name})\n", path.display())
            }
            GrantState::Unavailable { why, .. } => format!("{head}: UNAVAILABLE: {why}\n"),
        }
    }
}

/// Probe an endpoint's base URL with its configured headers.
async fn http_state(endpoint: &EndpointConfig) -> GrantState {
    let base = match &endpoint.base {
        Ok(base) => base,
        Err(why) => {
            return GrantState::Unavailable {
                kind: ResourceKind::Http,
                why: why.clone(),
            };
        }
    };
    // Origin and path only: never credentials from the URL.
    let url = format!(
        "{}{}",
        base.origin().ascii_serialization(),
        base.path().trim_end_matches('/')
    );
    match probe_http(base, endpoint).await {
        Ok(status) => GrantState::HttpReachable { url, status },
        Err(why) => GrantState::HttpUnreachable { url, why },
    }
}

async fn probe_http(base: &url::Url, endpoint: &EndpointConfig) -> Result<u16, String> {
    let client = crate::capability::http::client();
    let mut request = client
        .get(base.clone())
        .timeout(std::time::Duration::from_secs(3));
    for (k, v) in &endpoint.headers {
        request = request.header(k.as_str(), v.expose());
    }
    match request.send().await {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) if e.is_timeout() => Err("no answer within 3 s".into()),
        Err(e) => Err(crate::text::root_cause(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(name: &str, state: GrantState) -> GrantCheck {
        GrantCheck::new(name, name, state)
    }

    fn report(grants: Vec<GrantCheck>) -> CheckReport {
        CheckReport {
            configuration: "test.toml".into(),
            cache_dir: "/cache".into(),
            cache_refused: None,
            plugins: vec![PluginCheck {
                name: "p\u{1b}[2J".into(),
                version: "1".into(),
                source: "bundled".into(),
                sha256: "ab".repeat(32),
                pinned: false,
                compiled: CompileSource::Cache,
                contract: "0.2",
                tools: 3,
                prompts: vec!["brief".into()],
                resource_templates: vec!["plue://p/{id}".into()],
                grants,
            }],
            tools: 3,
            prompts: 1,
            resource_templates: 1,
        }
    }

    #[test]
    fn what_cannot_be_used_is_counted_and_said_once_per_grant() {
        let r = report(vec![
            grant(
                "web",
                GrantState::HttpReachable {
                    url: "http://127.0.0.1:1".into(),
                    status: 200,
                },
            ),
            grant(
                "prom",
                GrantState::HttpUnreachable {
                    url: "http://127.0.0.1:2".into(),
                    why: "refused".into(),
                },
            ),
            grant(
                "main",
                GrantState::Unavailable {
                    kind: ResourceKind::Sql,
                    why: "DATABASE_URL is not set".into(),
                },
            ),
            grant("data", GrantState::Directory { path: "/d".into() }),
        ]);
        assert_eq!(r.unavailable(), 2);
        let text = r.text();
        for line in [
            "  http web -> endpoint web: http://127.0.0.1:1 reachable (HTTP 200)",
            "  http prom -> endpoint prom: http://127.0.0.1:2 UNREACHABLE: refused",
            "  sql main -> database main: UNAVAILABLE: DATABASE_URL is not set",
            "  directory data -> data: /d (read-only at /data)",
            "1 plugins, 3 tools, 1 prompts, 1 resource templates; 2 backend(s) unavailable",
            "  prompts: brief",
            "  resources: plue://p/{id}",
        ] {
            assert!(text.lines().any(|l| l == line), "`{line}` not in:\n{text}");
        }
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }

    #[test]
    fn the_json_names_each_grant_state() {
        let r = report(vec![grant(
            "main",
            GrantState::SqlRole {
                role: "reader".into(),
                superuser: true,
                reads_all_data: true,
                writable_tables: 0,
                advice: vec!["do not".into()],
            },
        )]);
        let json = serde_json::to_value(&r).unwrap();
        let g = &json["plugins"][0]["grants"][0];
        assert_eq!(
            (&g["state"], &g["role"], &g["superuser"]),
            (&"sql_role".into(), &"reader".into(), &true.into())
        );
        assert_eq!(r.unavailable(), 0);
        assert!(r.text().contains("    ! do not\n"));
    }
}
