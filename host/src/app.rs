//! The loaded application: configuration, engine, plugins and the tool
//! registry, built once at start-up and shared by every front end (MCP over
//! stdio or HTTP, and the CLI's `call`).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;

use crate::bindings::{Content, ToolResult};
use crate::caller::Caller;
use crate::capability::log::LogSink;
use crate::config::Config;
use crate::engine::Runtime;
use crate::metrics::metrics;
use crate::outcome::{Outcome, OutcomeKind};
use crate::plugin::{LoadedPlugin, Loader};
use crate::record::CallRecord;
use crate::registry::{Entry, Registry};
use crate::schema::contract::{OutputViolation, ToolContract};

pub struct App {
    pub config: Config,
    pub runtime: Runtime,
    pub plugins: Vec<Arc<LoadedPlugin>>,
    pub registry: Registry,
    /// Every plugin's prompts and resource families.
    pub catalog: crate::catalog::Catalog,
    /// Where every call is recorded.
    pub audit: crate::audit::Trail,
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
        let catalog = crate::catalog::Catalog::build(&plugins)
            .map_err(|problems| crate::plugin::LoadError { problems })?;
        tracing::info!(
            plugins = plugins.len(),
            tools = registry.entries().len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "loaded"
        );
        let permits = tokio::sync::Semaphore::new(config.server.max_concurrent_calls as usize);
        let audit = crate::audit::Trail::open(&config.audit)?;
        for plugin in &plugins {
            metrics().plugin_loaded(&plugin.name, &plugin.manifest.version, &plugin.digest);
            for (_, endpoint) in &plugin.config.http {
                if config
                    .endpoints
                    .get(endpoint)
                    .is_some_and(|e| e.base.is_err())
                {
                    metrics().set_backend_up(&plugin.name, endpoint, false);
                }
            }
            for (_, database) in &plugin.config.sql {
                if config
                    .databases
                    .get(database)
                    .is_some_and(|d| d.url.is_err())
                {
                    metrics().set_backend_up(&plugin.name, database, false);
                }
            }
        }
        Ok(App {
            config,
            runtime,
            plugins,
            registry,
            catalog,
            audit,
            permits,
        })
    }

    /// Call `tool` with `arguments` (a JSON object). Literals sent as strings are
    /// first coerced to the declared type (`"20"` → 20); undeclared or ill-typed
    /// arguments, everything that goes wrong inside the plugin, and structured
    /// content off the tool's output schema become `isError` results. Every
    /// call is audited and counted once (see [`crate::record`]).
    pub async fn call(
        &self,
        tool: &str,
        mut arguments: serde_json::Value,
        caller: &Caller,
        log: LogSink,
    ) -> Result<Outcome, UnknownTool> {
        let Some(entry) = self.registry.get(tool) else {
            crate::record::unknown_tool(&self.audit, caller, tool, &arguments);
            return Err(UnknownTool(tool.into()));
        };
        let contract = entry.contract();
        contract.coerce(&mut arguments);
        // Serialised once: the plugin reads this text, the audit hashes it.
        let record = CallRecord::start(
            &self.audit,
            caller,
            tool,
            &entry.plugin,
            arguments.to_string(),
        );
        if let Err(message) = self.access(caller, entry) {
            let outcome = Outcome::error(OutcomeKind::Denied, message);
            record.finish(&outcome, 0, None);
            return Ok(outcome);
        }
        if let Err(message) = contract.check_arguments(tool, &arguments) {
            let outcome = Outcome::error(OutcomeKind::InvalidArguments, message);
            record.finish(&outcome, 0, None);
            return Ok(outcome);
        }
        let Ok(_permit) = self.permits.acquire().await else {
            let outcome = Outcome::error(
                OutcomeKind::Refused,
                "the server is shutting down; retry on another instance or after it restarts"
                    .into(),
            );
            record.finish(&outcome, 0, None);
            return Ok(outcome);
        };
        let log = LogSink {
            plugin: entry.plugin.name.clone(),
            ..log
        };
        let outcome = crate::plugin::call::call(
            &self.runtime,
            &entry.plugin,
            &entry.tool_name,
            record.arguments().to_string(),
            log,
        )
        .await;
        let (mut result, structured_bytes, limit) = match outcome {
            Err(e) => (Outcome::error(e.kind(), e.to_string()), 0, e.limit()),
            Ok(answer) => {
                let len = answer.structured.as_ref().map_or(0, String::len);
                (
                    checked_answer(tool, &entry.plugin.name, contract, answer),
                    len,
                    None,
                )
            }
        };
        if result.is_error && !entry.plugin.unavailable.is_empty() {
            let note = format!("Note: {}", entry.plugin.unavailable.join("; "));
            result.content.push(Content::Text(note));
        }
        record.finish(&result, structured_bytes, limit);
        Ok(result)
    }

    /// May `caller` use `entry`? Callers without a principal (stdio, the
    /// CLI, HTTP without `[server.auth]`) may use every tool; others as the
    /// `[[access]]` rules say. The refusal names the identity, the tool and
    /// the missing permission.
    pub fn access(&self, caller: &Caller, entry: &Entry) -> Result<(), String> {
        let Some(principal) = &caller.principal else {
            return Ok(());
        };
        let plugin = &entry.plugin.name;
        crate::policy::access::decide(
            &self.config.access,
            &principal.identities(),
            plugin,
            &entry.tool_name,
        )
        .map_err(|denial| {
            format!(
                "`{}` may not use tool `{}` (`{plugin}/{}`): {}. Use a tool from tools/list, or ask the operator to allow `{plugin}/{}` for this identity in an [[access]] rule.",
                principal.name,
                entry.name,
                entry.tool_name,
                denial.reason(),
                entry.tool_name,
            )
        })
    }

    /// The slots of the instance pool every call (and prompt, read, completion) takes one of.
    pub(crate) fn permits(&self) -> &tokio::sync::Semaphore {
        &self.permits
    }

    /// Refuse new calls from now on (calls waiting for a slot are refused
    /// too); calls already running go on. For a graceful shutdown.
    pub fn stop_accepting(&self) {
        self.permits.close();
    }

    /// Whether [`App::stop_accepting`] was called.
    pub fn is_stopping(&self) -> bool {
        self.permits.is_closed()
    }
}

/// The plugin's answer, once its structured content has been checked
/// against the tool's output schema: a mismatch never reaches a client.
fn checked_answer(
    tool: &str,
    plugin: &str,
    contract: &ToolContract,
    answer: ToolResult,
) -> Outcome {
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
    let kind = if answer.is_error {
        OutcomeKind::ToolError
    } else {
        OutcomeKind::Ok
    };
    let Some(violation) = violation else {
        return Outcome {
            content: answer.content,
            structured,
            is_error: answer.is_error,
            kind,
        };
    };
    tracing::warn!(tool, plugin, %violation, "structured content breaks the output schema");
    let mut content = answer.content;
    if !answer.is_error {
        // A successful answer off its schema is withheld; an error answer
        // needs no structured content, so only that is dropped.
        content.insert(0, Content::Text(format!(
            "`{tool}` answered with structured content that breaks its output schema, so the answer was withheld as unreliable: {violation}. This is a defect of plugin `{plugin}`; report it to its author. Its text answer follows."
        )));
    }
    Outcome {
        content,
        structured: None,
        is_error: true,
        kind: if answer.is_error {
            kind
        } else {
            OutcomeKind::PluginDefect
        },
    }
}
