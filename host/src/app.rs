//! The loaded application: configuration, engine, plugins and the tool
//! registry, built once at start-up and shared by every front end (MCP over
//! stdio or HTTP, and the CLI's `call`).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use rmcp::model::{CallToolResult, ContentBlock};

use crate::capability::log::LogSink;
use crate::config::Config;
use crate::engine::Runtime;
use crate::plugin::{LoadedPlugin, Loader};
use crate::registry::Registry;

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
    /// first coerced to the declared type (`"20"` → 20). Validation failures and
    /// everything that goes wrong inside the plugin become `isError` results.
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
        entry.coerce(&mut arguments);
        if let Err(message) = entry.validate(&arguments) {
            return Ok(CallToolResult::error(vec![ContentBlock::text(message)]));
        }
        let Ok(_permit) = self.permits.acquire().await else {
            return Ok(CallToolResult::error(vec![ContentBlock::text(
                "the server is shutting down",
            )]));
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
        let mut result = crate::result::to_mcp(outcome);
        if result.is_error == Some(true) && !entry.plugin.unavailable.is_empty() {
            let note = format!("Note: {}", entry.plugin.unavailable.join("; "));
            result.content.push(rmcp::model::ContentBlock::text(note));
        }
        // The audit line: who was called, how it ended, how long it took. Never arguments.
        tracing::info!(
            target: "plue_mcp::audit",
            tool,
            plugin = %entry.plugin.name,
            is_error = result.is_error.unwrap_or(false),
            elapsed_ms = format!("{elapsed_ms:.2}"),
            "call"
        );
        Ok(result)
    }
}
