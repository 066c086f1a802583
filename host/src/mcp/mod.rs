//! The MCP front end (rmcp): `tools/list` is the registry, `tools/call` goes
//! through [`App::call`], prompts, resources and completions through the
//! [`crate::context`] methods of [`App`], plugin log messages become
//! `notifications/message`.
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
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    ContentBlock, GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Reference,
    ServerCapabilities, ServerConfig, SetLevelRequestParams, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};

use crate::app::App;
use crate::caller::{Caller, Principal, Transport};
use crate::capability::log::LogSink;
use crate::context::ContextError;
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

    /// Where a request's plugin log messages go: this session's client.
    fn log_sink(&self, context: &RequestContext<RoleServer>) -> LogSink {
        LogSink {
            plugin: String::new(),
            client: Some(Arc::new(SessionLog {
                peer: context.peer.clone(),
                level: self.client_level.clone(),
            })),
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
        let catalog = &self.app.catalog;
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_logging()
            .build();
        if !catalog.prompts().is_empty() {
            capabilities.prompts = Some(Default::default());
        }
        if !catalog.families().is_empty() {
            capabilities.resources = Some(Default::default());
        }
        if self.app.plugins.iter().any(|p| p.exports.has_completions()) {
            capabilities.completions = Some(Default::default());
        }
        ServerConfig::new(capabilities)
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
        let log = self.log_sink(&context);
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

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let caller = self.caller(&context);
        self.check_owner(&caller)?;
        let prompts = self.app.prompts_for(&caller);
        Ok(ListPromptsResult::with_all_items(
            prompts.into_iter().map(result::prompt).collect(),
        ))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let caller = self.caller(&context);
        self.check_owner(&caller)?;
        let arguments = request
            .arguments
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect();
        let log = self.log_sink(&context);
        let rendered = self
            .app
            .get_prompt(&request.name, arguments, &caller, log)
            .await
            .map_err(protocol_error)?;
        Ok(result::prompt_result(rendered).into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let caller = self.caller(&context);
        self.check_owner(&caller)?;
        let log = self.log_sink(&context);
        let listed = self.app.list_resources(&caller, log).await;
        Ok(ListResourcesResult::with_all_items(
            listed.into_iter().map(result::resource).collect(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let caller = self.caller(&context);
        self.check_owner(&caller)?;
        let families = self
            .app
            .catalog
            .families()
            .iter()
            .filter(|f| self.app.may_use_plugin(&caller, &f.plugin))
            .map(result::template)
            .collect();
        Ok(ListResourceTemplatesResult::with_all_items(families))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = self.caller(&context);
        self.check_owner(&caller)?;
        let log = self.log_sink(&context);
        let contents = self
            .app
            .read_resource(&request.uri, &caller, log)
            .await
            .map_err(protocol_error)?;
        Ok(ReadResourceResult::new(contents.into_iter().map(result::contents).collect()).into())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let caller = self.caller(&context);
        self.check_owner(&caller)?;
        let target = match request.r#ref {
            Reference::Prompt(p) => crate::bindings::CompletionRef::Prompt(p.name),
            Reference::Resource(r) => crate::bindings::CompletionRef::ResourceTemplate(r.uri),
            _ => {
                return Err(ErrorData::invalid_params(
                    "completion/complete: `ref` must be ref/prompt or ref/resource",
                    None,
                ));
            }
        };
        let given = request
            .context
            .and_then(|c| c.arguments)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let log = self.log_sink(&context);
        let completion = self
            .app
            .complete(
                target,
                &request.argument.name,
                &request.argument.value,
                given,
                &caller,
                log,
            )
            .await
            .map_err(protocol_error)?;
        Ok(CompleteResult::new(result::completion(completion)))
    }
}

/// A prompt, resource or completion failure as the JSON-RPC error MCP names:
/// -32002 for a resource that does not exist, -32602 for bad parameters,
/// -32603 when a plugin could not answer.
fn protocol_error(e: ContextError) -> ErrorData {
    let message = e.to_string();
    match e {
        ContextError::UnknownResource(_) => ErrorData::resource_not_found(message, None),
        ContextError::Failed(_) => ErrorData::internal_error(message, None),
        ContextError::UnknownPrompt(_)
        | ContextError::MissingArgument { .. }
        | ContextError::UnknownArgument { .. }
        | ContextError::UnknownTemplate(_)
        | ContextError::Invalid(_) => ErrorData::invalid_params(message, None),
    }
}
