//! `plue-mcp check` and `plue-mcp inspect`: what an operator runs before
//! trusting a configuration or a third-party plugin.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::capability::log::LogSink;
use crate::capability::state::{CallState, Grants};
use crate::config::{Config, Limits};
use crate::engine::{CompileSource, Runtime, sha256_hex};
use crate::text::printable;

/// Report on configuration, plugins, grants and backends.
pub async fn check(config: Option<&Path>) -> ExitCode {
    let config = match Config::load(config) {
        Ok(c) => c,
        Err(e) => {
            println!("configuration: FAILED\n{e}");
            return ExitCode::from(2);
        }
    };
    println!("configuration: ok ({})", config.origin);
    match crate::engine::cache_status(&config.server.cache_dir) {
        Ok(()) => println!("compile cache: {}", config.server.cache_dir.display()),
        Err(why) => println!("compile cache: REFUSED: {why}"),
    }
    let app = match crate::app::App::load(config.clone()).await {
        Ok(app) => app,
        Err(e) => {
            println!("plugins: FAILED\n{}", printable(&format!("{e:#}"), true));
            return ExitCode::from(2);
        }
    };
    let mut unreachable = 0;
    for p in &app.plugins {
        let source = match &p.config.source {
            crate::config::PluginSource::Bundled => "bundled".to_string(),
            crate::config::PluginSource::Path(path) => path.display().to_string(),
        };
        let pinned = if p.config.sha256.is_some() {
            "pinned"
        } else {
            "not pinned"
        };
        let compiled = match p.compiled {
            CompileSource::Embedded => "precompiled",
            CompileSource::Cache => "from cache",
            CompileSource::Compiled => "compiled now",
        };
        println!(
            "\nplugin {} {} ({source}; sha256 {} {pinned}; {compiled}): {} tools",
            printable(&p.manifest.name, false),
            printable(&p.manifest.version, false),
            &p.digest[..16],
            p.manifest.tools.len()
        );
        for (name, resource) in &p.config.http {
            let endpoint = &config.endpoints[resource];
            let status = match &endpoint.base {
                Err(why) => {
                    unreachable += 1;
                    format!("UNAVAILABLE: {why}")
                }
                Ok(base) => {
                    // Origin and path only: never credentials from the URL.
                    let shown = format!(
                        "{}{}",
                        base.origin().ascii_serialization(),
                        base.path().trim_end_matches('/')
                    );
                    match probe_http(base, endpoint).await {
                        Ok(s) => format!("{shown} reachable (HTTP {s})"),
                        Err(e) => {
                            unreachable += 1;
                            format!("{shown} UNREACHABLE: {e}")
                        }
                    }
                }
            };
            println!("  http {name} -> endpoint {resource}: {status}");
        }
        for (name, resource) in &p.config.sql {
            // The pool the plugin itself uses (shared by every plugin granted this database).
            let db = &p.grants.sql.databases[name];
            match db.role_report().await {
                Ok(report) => {
                    println!(
                        "  sql {name} -> database {resource}: reachable as role `{}` (superuser: {}, pg_read_all_data: {}, writable tables: {})",
                        report.role,
                        report.superuser,
                        report.reads_all_data,
                        report.writable_tables
                    );
                    for advice in report.advice(resource) {
                        println!("    ! {advice}");
                    }
                }
                Err(why) => {
                    unreachable += 1;
                    println!("  sql {name} -> database {resource}: UNAVAILABLE: {why}");
                }
            }
        }
        for (name, resource) in &p.config.directories {
            match &config.directories[resource].path {
                Ok(path) => println!(
                    "  directory {name} -> {resource}: {} (read-only at /{name})",
                    path.display()
                ),
                Err(why) => {
                    unreachable += 1;
                    println!("  directory {name} -> {resource}: UNAVAILABLE: {why}");
                }
            }
        }
    }
    println!(
        "\n{} plugins, {} tools; {unreachable} backend(s) unavailable",
        app.plugins.len(),
        app.registry.entries().len()
    );
    if unreachable == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

async fn probe_http(
    base: &url::Url,
    endpoint: &crate::config::EndpointConfig,
) -> Result<u16, String> {
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

/// Print a plugin's manifest and imports.
pub async fn inspect(path: &Path, json: bool) -> ExitCode {
    match inspect_inner(path).await {
        Ok(report) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print_inspect(&report);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", printable(&format!("{e:#}"), true));
            ExitCode::from(2)
        }
    }
}

async fn inspect_inner(path: &Path) -> anyhow::Result<serde_json::Value> {
    use anyhow::Context;
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let runtime = Runtime::new(1, 256 << 20)?;
    let component = wasmtime::component::Component::new(&runtime.engine, &bytes)
        .map_err(anyhow::Error::from)
        .context("not a WebAssembly component")?;
    let imports: Vec<serde_json::Value> = component
        .component_type()
        .imports(&runtime.engine)
        .map(|(name, _)| {
            let verdict = crate::policy::imports::check_import(name);
            serde_json::json!({ "name": name, "allowed": verdict.is_ok(), "why": verdict.err() })
        })
        .collect();
    let linker = crate::plugin::load::linker(&runtime.engine)?;
    let pre = crate::bindings::PluginPre::new(linker.instantiate_pre(&component)?)?;
    let limits = Limits::default();
    let state = CallState::new(
        Arc::new(Grants::default()),
        LogSink::default(),
        limits.memory_bytes,
    )?;
    let mut store = crate::plugin::call::new_store(&runtime, state);
    let instance =
        tokio::time::timeout(limits.call_timeout, pre.instantiate_async(&mut store)).await??;
    let m = tokio::time::timeout(
        limits.call_timeout,
        instance.plue_plugin_tools().call_manifest(&mut store),
    )
    .await??;
    Ok(serde_json::json!({
        "file": path.display().to_string(),
        "sha256": sha256_hex(&bytes),
        "name": m.name,
        "version": m.version,
        "description": m.description,
        "capabilities": { "http": m.capabilities.http, "sql": m.capabilities.sql, "directories": m.capabilities.directories },
        "settings": m.settings.iter().map(|s| serde_json::json!({"key": s.key, "default": s.default_value, "description": s.description})).collect::<Vec<_>>(),
        "tools": m.tools.iter().map(|t| serde_json::json!({
            "name": t.name, "title": t.title, "description": t.description,
            "read_only": t.annotations.read_only, "destructive": t.annotations.destructive,
            "idempotent": t.annotations.idempotent, "open_world": t.annotations.open_world,
        })).collect::<Vec<_>>(),
        "imports": imports,
    }))
}

fn print_inspect(r: &serde_json::Value) {
    // Everything here comes from the plugin: printed without terminal sequences.
    let s = |v: &serde_json::Value| printable(v.as_str().unwrap_or(""), false);
    let list = |v: &serde_json::Value| {
        let items: Vec<String> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(|x| printable(x, false)))
            .collect();
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join(", ")
        }
    };
    println!(
        "{} {} — {}",
        s(&r["name"]),
        s(&r["version"]),
        s(&r["description"])
    );
    println!("file:   {}\nsha256: {}", s(&r["file"]), s(&r["sha256"]));
    println!("\nasks for:");
    println!("  http endpoints: {}", list(&r["capabilities"]["http"]));
    println!("  databases:      {}", list(&r["capabilities"]["sql"]));
    println!(
        "  directories:    {}",
        list(&r["capabilities"]["directories"])
    );
    if let Some(settings) = r["settings"].as_array().filter(|a| !a.is_empty()) {
        println!("\nsettings:");
        for st in settings {
            println!(
                "  {} (default {:?}): {}",
                s(&st["key"]),
                printable(st["default"].as_str().unwrap_or(""), false),
                s(&st["description"])
            );
        }
    }
    println!("\ntools:");
    for t in r["tools"].as_array().into_iter().flatten() {
        let flags: Vec<&str> = [
            ("read-only", "read_only"),
            ("destructive", "destructive"),
            ("idempotent", "idempotent"),
            ("open-world", "open_world"),
        ]
        .iter()
        .filter(|(_, k)| t[*k].as_bool() == Some(true))
        .map(|(label, _)| *label)
        .collect();
        println!(
            "  {} [{}]: {}",
            s(&t["name"]),
            flags.join(", "),
            printable(
                t["description"]
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or(""),
                false
            )
        );
    }
    println!("\nimports:");
    for i in r["imports"].as_array().into_iter().flatten() {
        let verdict = if i["allowed"].as_bool() == Some(true) {
            "ok".to_string()
        } else {
            format!("REFUSED: {}", s(&i["why"]))
        };
        println!("  {}: {verdict}", s(&i["name"]));
    }
}
