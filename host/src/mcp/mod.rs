//! The MCP front end (rmcp): `tools/list` is the registry, `tools/call` goes
//! through [`App::call`], plugin log messages become `notifications/message`.
//! Only this module knows the protocol's request types; `stdio` and `http`
//! put a gate in front of rmcp's transports for what the specification asks
//! and rmcp does not do.

#![allow(deprecated)] // logging/setLevel: see capability::log

pub mod http;
mod jsonrpc;
pub mod log;
mod progress;
pub mod result;
pub mod stdio;

use std::sync::{Arc, OnceLock};

use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
    SetLevelRequestParams, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};

use crate::app::App;
use crate::caller::{Caller, Principal, Transport};
use crate::capability::log::LogSink;
use log::{ClientLevel, SessionLog};

/// One MCP session over a loaded [`App`].
#[derive(Clone)]
pub struct McpServer {
    app: Arc<App>,
    /// `tools/list`, converted once for every session.
    tools: Arc<Vec<Tool>>,
    client_level: ClientLevel,
    transport: Transport,
    /// Counts this session in `plue_mcp_sessions` while any clone lives.
    _session: Option<Arc<crate::metrics::Session>>,
    /// The identity of the session's first authenticated request: the session
    /// is bound to it, so another token cannot use its id.
    owner: Arc<OnceLock<Option<String>>>,
}

impl McpServer {
    pub fn new(app: Arc<App>, transport: Transport) -> Self {
        McpServer {
            tools: result::tools(&app),
            app,
            client_level: ClientLevel::default(),
            transport,
            _session: None,
            owner: Arc::default(),
        }
    }

    /// Another session over the same app and tool list, with its own state.
    pub fn new_session(&self) -> Self {
        McpServer {
            _session: Some(Arc::new(
                crate::metrics::metrics().session_opened(self.transport),
            )),
            ..self.new_request()
        }
    }

    /// A server for one stateless request: fresh state, not counted as a session.
    pub fn new_request(&self) -> Self {
        McpServer {
            app: self.app.clone(),
            tools: self.tools.clone(),
            client_level: ClientLevel::default(),
            transport: self.transport,
            _session: None,
            owner: Arc::default(),
        }
    }

    /// Refuse a request from another identity than the one the session is bound to.
    fn check_owner(&self, caller: &Caller) -> Result<(), ErrorData> {
        let identity = caller.identity().map(str::to_owned);
        if *self.owner.get_or_init(|| identity.clone()) == identity {
            Ok(())
        } else {
            Err(ErrorData::invalid_request(
                "this session belongs to another identity: open a new session with your own token",
                None,
            ))
        }
    }

    /// Serve MCP over stdin/stdout until the client closes stdin, or until
    /// SIGTERM or ctrl-c (then gracefully, see [`crate::shutdown`]).
    pub async fn serve_stdio(self) -> anyhow::Result<()> {
        let app = self.app.clone();
        let max = app.config.server.max_message_bytes;
        let session = self.new_session();
        crate::shutdown::serve_until_signal(&app, stdio::serve(session, max), || {}, || {}).await
    }

    /// Serve MCP over streamable HTTP at `http://ADDR/mcp` until interrupted;
    /// `stateless`: see [`http::Sessions`].
    pub async fn serve_http(
        app: Arc<App>,
        addr: std::net::SocketAddr,
        stateless: bool,
    ) -> anyhow::Result<()> {
        http::serve(app, addr, http::Sessions::from_flag(stateless)).await
    }

    /// The caller of a request: the client's name from `initialize`, and over
    /// HTTP the session id from the request's headers and the principal the
    /// authentication middleware put in its extensions.
    fn caller(&self, context: &RequestContext<RoleServer>) -> Caller {
        let parts = context.extensions.get::<axum::http::request::Parts>();
        let session = parts
            .and_then(|parts| parts.headers.get("mcp-session-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Caller {
            principal: parts.and_then(|p| p.extensions.get::<Arc<Principal>>().cloned()),
            client: context
                .peer
                .peer_info()
                .map(|info| info.client_info.name.clone()),
            session,
            transport: self.transport,
        }
    }

    fn instructions(&self) -> String {
        let groups: Vec<String> = self
            .app
            .plugins
            .iter()
            .map(|p| {
                format!(
                    "{} ({} tools): {}",
                    p.name,
                    p.manifest.tools.len(),
                    p.manifest.description
                )
            })
            .collect();
        format!(
            "Observability tools, grouped by plugin. Every tool only reads. Tool answers are cut to a bounded size and say how to narrow a query when they are.\n{}",
            groups.join("\n")
        )
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_logging()
                .build(),
        )
        .with_server_info(Implementation::new(
            self.app.config.server.name.clone(),
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(self.instructions())
    }

    /// Every tool the caller may use (all of them, without `[[access]]`
    /// rules or without authentication).
    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = self.caller(&context);
        self.check_owner(&caller)?;
        // `tools` is the registry's entries, converted, in the same order.
        let visible = self
            .app
            .registry
            .entries()
            .iter()
            .zip(self.tools.iter())
            .filter(|(entry, _)| self.app.access(&caller, entry).is_ok())
            .map(|(_, tool)| tool.clone())
            .collect();
        Ok(ListToolsResult::with_all_items(visible))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let log = LogSink {
            plugin: String::new(),
            client: Some(std::sync::Arc::new(SessionLog {
                peer: context.peer.clone(),
                level: self.client_level.clone(),
            })),
        };
        let caller = self.caller(&context);
        self.check_owner(&caller)?;
        let call = self.app.call(&request.name, arguments, &caller, log);
        let progress = async {
            match context.meta.get_progress_token() {
                Some(token) => progress::report(context.peer.clone(), token).await,
                None => std::future::pending().await,
            }
        };
        // Dropping the call (cancelled) drops its instance and frees its slot.
        let result = tokio::select! {
            outcome = call => result::call_tool_result(outcome.map_err(|e| ErrorData::invalid_params(e.to_string(), None))?),
            _ = context.ct.cancelled() => CallToolResult::error(vec![ContentBlock::text("the call was cancelled by the client")]),
            () = progress => unreachable!("progress reports until the call ends"),
        };
        Ok(result.into())
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.client_level.set(request.level);
        Ok(())
    }
}
