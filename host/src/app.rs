//! The loaded application: configuration, engine, plugins and the tool
//! registry, built once at start-up and shared by every front end (MCP over
//! stdio or HTTP, and the CLI's `call`).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use rmcp::model::{CallToolResult, ContentBlock};

use crate::bindings::ToolResult;
use crate::capability::log::LogSink;
use crate::config::Config;
use crate::engine::Runtime;
use crate::plugin::{LoadedPlugin, Loader};
use crate::registry::Registry;
use crate::schema::contract::{OutputViolation, ToolContract};

pub struct App {
    pub config: Config,
    pub runtime: Runtime,
    pub plugins: Vec<Arc<LoadedPlugin>>,
    pub registry: Registry,
    /// Bounds concurrent calls to what the instance pool holds.
    permits: tokio::sync::Semaphore,
}

/// Why a tool could not even be attempted (the MCP layer turns this into a
/// protocol error; everything else is an `isError` result).
#[derive(Debug, thiserror::Error)]
#[error("unknown tool `{0}`; call tools/list to see the available tools")]
pub struct UnknownTool(pub String);

impl App {
    /// Load every plugin of `config`.
    pub async fn load(config: Config) -> Result<App> {
        let started = Instant::now();
        let max_memory = config
            .plugins
            .iter()
            .map(|p| p.limits.memory_bytes)
            .max()
            .unwrap_or(128 << 20);
        let runtime = Runtime::new(config.server.max_concurrent_calls, max_memory)?;
        let plugins = Loader::new(&runtime, &config)?.load_all().await?;
        let registry =
            Registry::build(&plugins).map_err(|problems| crate::plugin::LoadError { problems })?;
        tracing::info!(
            plugins = plugins.len(),
            tools = registry.entries().len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "loaded"
        );
        let permits = tokio::sync::Semaphore::new(config.server.max_concurrent_calls as usize);
        Ok(App {
            config,
            runtime,
            plugins,
            registry,
            permits,
        })
    }

    /// Call `tool` with `arguments` (a JSON object). Literals sent as strings are
    /// first coerced to the declared type (`"20"` → 20); undeclared or ill-typed
    /// arguments, everything that goes wrong inside the plugin, and structured
    /// content off the tool's output schema become `isError` results.
    pub async fn call(
        &self,
        tool: &str,
        mut arguments: serde_json::Value,
        log: LogSink,
    ) -> Result<CallToolResult, UnknownTool> {
        let entry = self
            .registry
            .get(tool)
            .ok_or_else(|| UnknownTool(tool.into()))?;
        let contract = entry.contract();
        contract.coerce(&mut arguments);
        if let Err(message) = contract.check_arguments(tool, &arguments) {
            audit(tool, &entry.plugin.name, "invalid_arguments", 0.0);
            return Ok(crate::result::error(message));
        }
        let Ok(_permit) = self.permits.acquire().await else {
            return Ok(crate::result::error("the server is shutting down".into()));
        };
        let log = LogSink {
            plugin: entry.plugin.name.clone(),
            ..log
        };
        let started = Instant::now();
        let outcome = crate::plugin::call::call(
            &self.runtime,
            &entry.plugin,
            &entry.tool_name,
            arguments.to_string(),
            log,
        )
        .await;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (mut result, kind) = match outcome {
            Err(e) => (crate::result::error(e.to_string()), "failed"),
            Ok(answer) => checked_answer(tool, &entry.plugin.name, contract, answer),
        };
        if result.is_error == Some(true) && !entry.plugin.unavailable.is_empty() {
            let note = format!("Note: {}", entry.plugin.unavailable.join("; "));
            result.content.push(ContentBlock::text(note));
        }
        audit(tool, &entry.plugin.name, kind, elapsed_ms);
        Ok(result)
    }
}

/// The plugin's answer as a result, once its structured content has been
/// checked against the tool's output schema: a mismatch never reaches a
/// client. Returns the result and the audit outcome.
fn checked_answer(
    tool: &str,
    plugin: &str,
    contract: &ToolContract,
    answer: ToolResult,
) -> (CallToolResult, &'static str) {
    let parsed = answer
        .structured
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>);
    let (structured, violation) = match parsed {
        None => (None, contract.check_output(None, answer.is_error).err()),
        Some(Err(e)) => (
            None,
            Some(OutputViolation {
                problems: vec![format!("structured content is not JSON: {e}")],
            }),
        ),
        Some(Ok(value)) => {
            let violation = contract.check_output(Some(&value), answer.is_error).err();
            (Some(value), violation)
        }
    };
    let Some(violation) = violation else {
        let kind = if answer.is_error { "tool_error" } else { "ok" };
        return (
            crate::result::answer(answer.content, structured, answer.is_error),
            kind,
        );
    };
    tracing::warn!(tool, plugin, %violation, "structured content breaks the output schema");
    if answer.is_error {
        // An error answer needs no structured content: drop what is wrong.
        return (
            crate::result::answer(answer.content, None, true),
            "tool_error",
        );
    }
    let message = format!(
        "`{tool}` answered with structured content that breaks its output schema, so the answer was withheld as unreliable: {violation}. This is a defect of plugin `{plugin}`; report it to its author. Its text answer follows."
    );
    let mut result = crate::result::answer(answer.content, None, true);
    result.content.insert(0, ContentBlock::text(message));
    (result, "plugin_defect")
}

/// The audit line: which tool, how it ended, how long it took. Never arguments.
fn audit(tool: &str, plugin: &str, outcome: &str, elapsed_ms: f64) {
    tracing::info!(
        target: "plue_mcp::audit",
        tool,
        plugin,
        outcome,
        elapsed_ms = format!("{elapsed_ms:.2}"),
        "call"
    );
}
