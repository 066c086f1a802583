//! A real MCP client (rmcp) driving `plue-mcp serve` over stdio, as Claude Code
//! or any other client would: the host is a child process, its configuration a
//! TOML file in a temporary directory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};

/// One `notifications/message` the client received: (level, logger, data).
pub type LogMessage = (String, Option<String>, serde_json::Value);

/// The client side: records the log notifications the server sends.
#[derive(Clone, Default)]
pub struct Recorder {
    logs: Arc<Mutex<Vec<LogMessage>>>,
}

// MCP logging is deprecated in rmcp (SEP-2577) but is what the host sends today.
#[allow(deprecated)]
impl rmcp::ClientHandler for Recorder {
    async fn on_logging_message(
        &self,
        params: rmcp::model::LoggingMessageNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        let level = serde_json::to_value(params.level)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        self.logs
            .lock()
            .unwrap()
            .push((level, params.logger, params.data));
    }
}

/// A running `plue-mcp serve` with a connected client.
pub struct Host {
    client: RunningService<RoleClient, Recorder>,
    recorder: Recorder,
    /// Holds the configuration file (and anything else the test put there).
    pub dir: tempfile::TempDir,
}

impl Host {
    /// Start `binary serve --config <dir>/plue-mcp.toml` with `config` as the
    /// file's content, and complete the MCP handshake. `binary` is the host
    /// executable (`env!("CARGO_BIN_EXE_plue-mcp")` in the host's tests).
    pub async fn start(binary: &Path, config: &str) -> Result<Host> {
        Self::start_with_env(binary, config, &[]).await
    }

    /// Like [`Host::start`], with extra environment variables for the host.
    pub async fn start_with_env(binary: &Path, config: &str, env: &[(&str, &str)]) -> Result<Host> {
        let dir = tempfile::tempdir()?;
        let config_path = dir.path().join("plue-mcp.toml");
        std::fs::write(&config_path, config)?;
        let mut command = tokio::process::Command::new(binary);
        command
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .current_dir(dir.path())
            .env("PLUE_MCP_CACHE_DIR", cache_dir(binary))
            .env("RUST_LOG", "plue_mcp=warn");
        for (k, v) in env {
            command.env(k, v);
        }
        let transport = TokioChildProcess::new(command).context("spawn plue-mcp serve")?;
        let recorder = Recorder::default();
        let client = recorder
            .clone()
            .serve(transport)
            .await
            .context("MCP initialize with plue-mcp")?;
        Ok(Host {
            client,
            recorder,
            dir,
        })
    }

    /// `tools/list`, every page.
    pub async fn list_tools(&self) -> Result<Vec<Tool>> {
        Ok(self.client.list_all_tools().await?)
    }

    /// `tools/list`: the names of the tools listed, in order.
    pub async fn tool_names(&self) -> Result<Vec<String>> {
        Ok(self
            .list_tools()
            .await?
            .iter()
            .map(|t| t.name.to_string())
            .collect())
    }

    /// `tools/call`. A protocol error (unknown tool) is an `Err`; a tool that
    /// failed is an `Ok` result with `is_error`.
    pub async fn call(&self, tool: &str, arguments: serde_json::Value) -> Result<CallToolResult> {
        let arguments = match arguments {
            serde_json::Value::Object(map) => map,
            serde_json::Value::Null => serde_json::Map::new(),
            other => anyhow::bail!("tool arguments must be a JSON object, got {other}"),
        };
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        Ok(self.client.call_tool(params).await?)
    }

    /// `tools/call` that must succeed: returns the text, failing the test (with
    /// the text) when the result is an error.
    pub async fn call_ok(
        &self,
        tool: &str,
        arguments: serde_json::Value,
    ) -> Result<CallToolResult> {
        let result = self.call(tool, arguments).await?;
        anyhow::ensure!(!is_error(&result), "{tool} failed: {}", text(&result));
        Ok(result)
    }

    /// `tools/call` that must succeed with structured content in which, as in
    /// the text, none of `never` appears: (text, structured content).
    pub async fn answer(
        &self,
        tool: &str,
        arguments: serde_json::Value,
        never: &[&str],
    ) -> Result<(String, serde_json::Value)> {
        let result = self.call_ok(tool, arguments.clone()).await?;
        let (text, structured) = (text(&result), structured(&result));
        anyhow::ensure!(
            structured.is_object(),
            "{tool} {arguments}: no structured content; text:\n{text}"
        );
        let everything = format!("{text}\n{structured}");
        for bad in never {
            anyhow::ensure!(
                !everything.contains(bad),
                "{tool} {arguments}: `{bad}` in:\n{text}"
            );
        }
        Ok((text, structured))
    }

    /// `tools/call` that must fail with `isError`: returns the error text.
    pub async fn call_err(&self, tool: &str, arguments: serde_json::Value) -> Result<String> {
        let result = self.call(tool, arguments).await?;
        anyhow::ensure!(
            is_error(&result),
            "{tool} should have failed but answered: {}",
            text(&result)
        );
        Ok(text(&result))
    }

    /// The underlying client, for anything else.
    pub fn client(&self) -> &RunningService<RoleClient, Recorder> {
        &self.client
    }

    /// The log notifications received so far.
    pub fn logs(&self) -> Vec<LogMessage> {
        self.recorder.logs.lock().unwrap().clone()
    }
}

/// All text content of a result, joined by newlines.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the result is flagged `isError`.
pub fn is_error(result: &CallToolResult) -> bool {
    result.is_error.unwrap_or(false)
}

/// The structured content of a result (`Null` when absent).
pub fn structured(result: &CallToolResult) -> serde_json::Value {
    result
        .structured_content
        .clone()
        .unwrap_or(serde_json::Value::Null)
}

/// One compile cache per build of the host, shared by all tests, so only the
/// first test pays for compiling the bundled plugins.
pub fn cache_dir(binary: &Path) -> PathBuf {
    binary
        .parent()
        .map(|p| p.join("plue-mcp-test-cache"))
        .unwrap_or_else(|| std::env::temp_dir().join("plue-mcp-test-cache"))
}
