//! An MCP session over streamable HTTP, written out as JSON-RPC by hand (reqwest): for
//! tests that need the wire itself, such as a request cancelled by id, the
//! notifications that arrive on a request's stream before its answer, a stateless server
//! that gives no session id, or a bearer token sent on every request.

use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// One initialized session at `http://…/mcp`.
pub struct HttpSession {
    http: reqwest::Client,
    url: String,
    /// `None` when the server is stateless (it gave no `Mcp-Session-Id`).
    session: Option<String>,
    next_id: AtomicI64,
    /// Sent as `Authorization: Bearer …` on every request.
    bearer: Option<String>,
}

/// What one POST brought back: the HTTP status and every JSON-RPC message, in order.
pub struct Reply {
    pub status: u16,
    pub messages: Vec<Value>,
}

impl Reply {
    /// The message answering a request (the one with an `id`).
    pub fn answer(&self) -> Option<&Value> {
        self.messages.iter().find(|m| m.get("id").is_some())
    }
}

impl HttpSession {
    /// `initialize` (as client `client_name`) and `notifications/initialized`.
    pub async fn open(url: &str, client_name: &str) -> Result<HttpSession> {
        HttpSession::open_with(url, client_name, None).await
    }

    /// [`HttpSession::open`], sending `bearer` as `Authorization: Bearer …` on every request.
    pub async fn open_with(
        url: &str,
        client_name: &str,
        bearer: Option<&str>,
    ) -> Result<HttpSession> {
        let http = reqwest::Client::builder().no_proxy().build()?;
        let mut request = http.post(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .json(
                &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": client_name, "version": "1"}}}),
            )
            .send()
            .await
            .context("initialize")?;
        let session = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            bail!("initialize answered HTTP {status}: {body}");
        }
        let session = HttpSession {
            http,
            url: url.to_string(),
            session,
            next_id: AtomicI64::new(1),
            bearer: bearer.map(String::from),
        };
        let reply = session
            .post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await?;
        if reply.status != 202 {
            bail!("notifications/initialized answered {}", reply.status);
        }
        Ok(session)
    }

    /// The session id the server gave (`None` from a stateless server).
    pub fn id(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// A fresh request id.
    pub fn next_id(&self) -> i64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// POST one JSON-RPC message and read the whole reply (JSON or an SSE stream).
    pub async fn post(&self, message: Value) -> Result<Reply> {
        let mut request = self.http.post(&self.url);
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        request = request
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25");
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        let response = request.json(&message).send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let messages = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .chain(std::iter::once(text.trim()))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .collect();
        Ok(Reply { status, messages })
    }

    /// `tools/call` with request id `id` and optional `_meta`; the whole reply.
    pub async fn call_with(
        &self,
        id: i64,
        tool: &str,
        arguments: Value,
        meta: Option<Value>,
    ) -> Result<Reply> {
        let mut params = json!({"name": tool, "arguments": arguments});
        if let Some(meta) = meta {
            params["_meta"] = meta;
        }
        self.post(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}))
            .await
    }

    /// `tools/call`: the JSON-RPC answer (`result`, or `error` for an unknown tool).
    pub async fn call(&self, tool: &str, arguments: Value) -> Result<Value> {
        let reply = self
            .call_with(self.next_id(), tool, arguments, None)
            .await?;
        reply
            .answer()
            .cloned()
            .with_context(|| format!("no answer to tools/call {tool} (HTTP {})", reply.status))
    }

    /// `tools/list`: the names of the tools listed.
    pub async fn tool_names(&self) -> Result<Vec<String>> {
        let reply = self
            .post(json!({"jsonrpc": "2.0", "id": self.next_id(), "method": "tools/list"}))
            .await?;
        let answer = reply
            .answer()
            .with_context(|| format!("no answer to tools/list (HTTP {})", reply.status))?;
        let tools = answer["result"]["tools"]
            .as_array()
            .with_context(|| format!("tools/list answered {answer}"))?;
        Ok(tools
            .iter()
            .filter_map(|t| t["name"].as_str().map(String::from))
            .collect())
    }

    /// The `key` field of each item of `field` in the answer to `method` (for example
    /// `prompts/list`, `prompts`, `name`).
    pub async fn listed(&self, method: &str, field: &str, key: &str) -> Result<Vec<String>> {
        let reply = self
            .post(json!({"jsonrpc": "2.0", "id": self.next_id(), "method": method}))
            .await?;
        let answer = reply
            .answer()
            .with_context(|| format!("no answer to {method} (HTTP {})", reply.status))?;
        let items = answer["result"][field]
            .as_array()
            .with_context(|| format!("{method} answered {answer}"))?;
        Ok(items
            .iter()
            .filter_map(|t| t[key].as_str().map(String::from))
            .collect())
    }

    /// `notifications/cancelled` for request `id`.
    pub async fn cancel(&self, id: i64) -> Result<u16> {
        let reply = self
            .post(
                json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": id, "reason": "the test cancelled it"}}),
            )
            .await?;
        Ok(reply.status)
    }
}
