//! What a plugin declares about itself, read from its own component with
//! `plue-mcp inspect --json`, so a test compares `tools/list` with the plugin's
//! manifest instead of a list of names copied into the test.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use rmcp::model::Tool;
use serde_json::Value;

/// The component the host's build script built for bundled plugin `name`
/// (`host/build.rs` builds into `<workspace>/target/plugins`).
pub fn bundled_wasm(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/plugins/wasm32-wasip2/plugin")
        .join(format!("plue_plugin_{name}.wasm"))
}

/// `binary inspect --json wasm`: the plugin's report (name, tools, capabilities…).
pub fn inspect(binary: &Path, wasm: &Path) -> Result<Value> {
    let out = std::process::Command::new(binary)
        .arg("inspect")
        .arg("--json")
        .arg(wasm)
        .output()
        .with_context(|| format!("run {} inspect", binary.display()))?;
    ensure!(
        out.status.success(),
        "inspect {} failed: {}",
        wasm.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).context("inspect --json printed no JSON")
}

/// `listed` is exactly what `declared` (an `inspect --json` report) declares:
/// the same tools in the same order, each with its title, description and
/// annotation hints.
pub fn listed_as_declared(listed: &[Tool], declared: &Value) -> Result<()> {
    let tools = declared["tools"]
        .as_array()
        .context("inspect report has no tools")?;
    let want: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    let got: Vec<&str> = listed.iter().map(|t| t.name.as_ref()).collect();
    ensure!(
        got == want,
        "tools/list names {got:?}, the manifest {want:?}"
    );
    for (tool, decl) in listed.iter().zip(tools) {
        let name = &tool.name;
        ensure!(
            tool.title.as_deref() == decl["title"].as_str(),
            "{name}: title {:?}, declared {}",
            tool.title,
            decl["title"]
        );
        ensure!(
            tool.description.as_deref() == decl["description"].as_str(),
            "{name}: description differs from the manifest's"
        );
        let a = tool
            .annotations
            .as_ref()
            .with_context(|| format!("{name} has no annotations"))?;
        let hints = [
            (a.read_only_hint, "read_only"),
            (a.destructive_hint, "destructive"),
            (a.idempotent_hint, "idempotent"),
            (a.open_world_hint, "open_world"),
        ];
        for (hint, key) in hints {
            ensure!(
                hint == decl[key].as_bool(),
                "{name}: {key} hint {hint:?}, declared {}",
                decl[key]
            );
        }
    }
    Ok(())
}

/// Every listed tool declares an output schema.
pub fn with_output_schemas(listed: &[Tool]) -> Result<()> {
    for tool in listed {
        ensure!(
            tool.output_schema.is_some(),
            "{} has no output schema",
            tool.name
        );
    }
    Ok(())
}

/// The `inspect --json` report of bundled plugin `name`.
pub fn bundled(binary: &Path, name: &str) -> Result<Value> {
    inspect(binary, &bundled_wasm(name))
}

/// Every tool the report declares has annotation `key` (`read_only`, …) set.
pub fn every_tool_is(declared: &Value, key: &str) -> Result<()> {
    let tools = declared["tools"].as_array().context("no tools")?;
    ensure!(!tools.is_empty(), "the plugin declares no tools");
    for t in tools {
        ensure!(t[key] == true, "{} is not {key}", t["name"]);
    }
    Ok(())
}
