//! Prints what `tools/list` costs an agent on the default configuration (not a
//! timed test): the bytes of the part a model reads (name, title, description
//! and input schema of every tool) and of the whole answer (with output schemas
//! and annotations), each against its target from issue 10. Exits non-zero when a
//! target is missed.
//!
//! Run: `cargo bench -p plue-mcp --bench tools_list`

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use plue_mcp::app::App;
use plue_mcp::config::{BUILT_IN_DEFAULT, Config};
use rmcp::model::ListToolsResult;
use serde_json::Value;

/// The part of each tool a model reads: everything but the output schema and
/// the annotations.
const MODEL_VISIBLE: &[&str] = &["name", "title", "description", "inputSchema"];
const MODEL_VISIBLE_TARGET: usize = 24 * 1024;
const WHOLE_TARGET: usize = 80 * 1024;

#[tokio::main]
async fn main() -> ExitCode {
    // The default configuration names a database by `${DATABASE_URL}` and a
    // directory; nothing is contacted to list tools.
    let dir = std::env::temp_dir();
    let env: BTreeMap<String, String> = [
        (
            "DATABASE_URL",
            "postgres://bench@127.0.0.1:9/plue".to_string(),
        ),
        ("PLAYWRIGHT_DIR", dir.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config = Config::from_toml(BUILT_IN_DEFAULT, Path::new("."), "built-in default", &env)
        .expect("the built-in default configuration resolves");
    let app = App::load(config).await.expect("the bundled plugins load");

    // Serialised exactly as the server answers `tools/list`.
    let result = ListToolsResult::with_all_items((*plue_mcp::mcp::result::tools(&app)).clone());
    let whole = serde_json::to_string(&result).expect("tools/list serialises");
    let tools = serde_json::to_value(&result).expect("tools/list serialises")["tools"].clone();
    let tools = tools.as_array().cloned().unwrap_or_default();
    let visible: usize = tools
        .iter()
        .map(|tool| {
            let part: serde_json::Map<String, Value> = tool
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| MODEL_VISIBLE.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            serde_json::to_string(&part).map(|s| s.len()).unwrap_or(0)
        })
        .sum();

    let mut within = true;
    println!(
        "tools/list on the default configuration: {} tools",
        tools.len()
    );
    for (label, bytes, target) in [
        (
            "model-visible (name, title, description, inputSchema)",
            visible,
            MODEL_VISIBLE_TARGET,
        ),
        (
            "whole answer (with outputSchema, annotations)",
            whole.len(),
            WHOLE_TARGET,
        ),
    ] {
        let verdict = if bytes <= target { "ok" } else { "OVER" };
        within &= bytes <= target;
        println!("{label:<56} {bytes:>7} bytes  (target {target:>6}, {verdict})");
    }
    if within {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
