//! MCP over streamable HTTP (rmcp's service under `/mcp`) with a guard in
//! front for what the 2025-11-25 transport asks and rmcp does not do:
//! an empty `allowed_hosts` refuses every host; a body that is not JSON gets
//! **400** with JSON-RPC error -32700 and an oversized one **413** with a
//! JSON-RPC error; SSE priming events go only to sessions that negotiated
//! 2025-11-25 or later; a DELETE ends a session with **204** and answers
//! **404** for a session that is gone.
//! `Origin` is checked by rmcp against `[server] allowed_origins` (403).
//! With `[server.auth]`, [`crate::auth`] authenticates every `/mcp` request
//! before the guard and serves the Protected Resource Metadata beside it.
//! `/healthz`, `/readyz` and `/metrics` ([`crate::health`]) sit beside `/mcp`,
//! outside the guard and unauthenticated.
//!
//! Stateful (the default) keeps each session in this process; stateless
//! ([`Sessions::Stateless`], `serve --http --stateless`) keeps nothing between
//! requests, so replicas behind a load balancer can share the traffic.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::Value;

use super::{McpServer, jsonrpc};
use crate::app::App;

/// The first protocol version whose clients expect SSE priming events.
const PRIMING_SINCE: &str = "2025-11-25";
/// What a client assumes when it sends no `MCP-Protocol-Version` header.
const DEFAULT_VERSION: &str = "2025-03-26";
/// The priming event: an event id and empty data, with a reconnection delay.
const PRIMING_EVENT: &[u8] = b"id: 0\nretry: 3000\ndata: \n\n";

/// Serve MCP over streamable HTTP at `http://ADDR/mcp`, with `/healthz`,
/// `/readyz` and `/metrics` beside it, until SIGTERM or ctrl-c (then
/// gracefully, see [`crate::shutdown`]).
pub async fn serve(
    app: Arc<App>,
    addr: std::net::SocketAddr,
    sessions: Sessions,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    if app.config.server.auth.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            "serving {addr} without [server.auth]: anyone who reaches it can call every tool"
        );
    }
    tracing::info!(
        "serving MCP over streamable HTTP at http://{}/mcp ({})",
        listener.local_addr()?,
        sessions.describe()
    );
    let (router, close_sessions) = router(app.clone(), sessions);
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let serving = async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await?;
        Ok(())
    };
    crate::shutdown::serve_until_signal(
        &app,
        serving,
        move || {
            let _ = stop.send(true);
        },
        close_sessions,
    )
    .await
}

/// Whether the server keeps MCP sessions between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sessions {
    /// Sessions live in this process (`Mcp-Session-Id`): a client's requests
    /// must reach the same process; server-sent streams between calls work.
    Stateful,
    /// No state between requests: every POST is served on its own, answered as
    /// JSON (or as a stream when the call sends notifications before its
    /// answer), so any replica can serve any request.
    Stateless,
}

impl Sessions {
    pub fn from_flag(stateless: bool) -> Sessions {
        if stateless {
            Sessions::Stateless
        } else {
            Sessions::Stateful
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Sessions::Stateful => "stateful sessions",
            Sessions::Stateless => "stateless",
        }
    }
}

/// The `/mcp` route (rmcp's service behind the guard) and the operator's
/// endpoints beside it, outside the guard; and what closes every session's
/// open streams.
pub fn router(app: Arc<App>, mode: Sessions) -> (axum::Router, impl FnOnce()) {
    let stateless = mode == Sessions::Stateless;
    let server = app.config.server.clone();
    let hosts = server.allowed_hosts.clone();
    let max_bytes = server.max_message_bytes;
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_origins(server.allowed_origins)
        .enforce_origin_validation()
        .with_max_request_body_bytes(max_bytes)
        // Priming is the guard's: only for sessions that expect it.
        .with_sse_retry(None)
        .with_legacy_session_mode(!stateless)
        .with_json_response(stateless);
    config = if hosts.iter().any(|h| h == "*") {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(hosts.clone())
    };
    let sessions_token = config.cancellation_token.clone();
    let sessions = Arc::new(LocalSessionManager::default());
    let template = McpServer::new(app.clone(), crate::caller::Transport::Http);
    let service = StreamableHttpService::new(
        move || {
            Ok(if stateless {
                template.new_request()
            } else {
                template.new_session()
            })
        },
        sessions.clone(),
        config,
    );
    let guard = Guard {
        stateless,
        no_host_allowed: hosts.is_empty(),
        max_bytes,
        sessions,
    };
    let mut mcp =
        axum::Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn(
                move |request: Request, next: Next| {
                    let guard = guard.clone();
                    async move { guard.handle(request, next).await }
                },
            ));
    if let Some(auth) = &app.config.server.auth {
        mcp = crate::auth::protect(mcp, auth, &app.config.server.name);
    }
    let router = mcp.merge(crate::health::router(app));
    (router, move || sessions_token.cancel())
}

#[derive(Clone)]
struct Guard {
    /// No sessions: DELETE and priming are rmcp's to answer (405, none).
    stateless: bool,
    no_host_allowed: bool,
    max_bytes: usize,
    sessions: Arc<LocalSessionManager>,
}

impl Guard {
    async fn handle(&self, request: Request, next: Next) -> Response {
        if self.no_host_allowed {
            return plain(
                StatusCode::FORBIDDEN,
                "Forbidden: no Host is allowed ([server] allowed_hosts is empty)",
            );
        }
        let mut version = header_version(request.headers());
        let request = match *request.method() {
            Method::POST => match self.read_post(request).await {
                Ok((request, initialize_version)) => {
                    if let Some(v) = initialize_version {
                        version = v;
                    }
                    request
                }
                Err(response) => return response,
            },
            Method::DELETE if !self.stateless => {
                if let Some(id) = session_id(request.headers())
                    && !self.sessions.has_session(&id.into()).await.unwrap_or(false)
                {
                    return plain(StatusCode::NOT_FOUND, "Not Found: no such session");
                }
                // rmcp answers 202; clients (the Python SDK) expect 200 or 204.
                let mut response = next.run(request).await;
                if response.status() == StatusCode::ACCEPTED {
                    *response.status_mut() = StatusCode::NO_CONTENT;
                    *response.body_mut() = Body::empty();
                }
                return response;
            }
            _ => request,
        };
        let response = next.run(request).await;
        if !self.stateless
            && version.as_str() >= PRIMING_SINCE
            && is_event_stream(response.headers())
        {
            prime(response)
        } else {
            response
        }
    }

    /// Buffer a POST body (bounded), refuse what is not JSON, and read the
    /// protocol version an `initialize` asks for.
    async fn read_post(&self, request: Request) -> Result<(Request, Option<String>), Response> {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, self.max_bytes)
            .await
            .map_err(|_| {
                rpc_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    jsonrpc::INVALID_REQUEST,
                    &format!(
                        "message over {} bytes ([server] max_message_bytes)",
                        self.max_bytes
                    ),
                )
            })?;
        let is_json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
        let mut asked = None;
        if is_json {
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                rpc_error(
                    StatusCode::BAD_REQUEST,
                    jsonrpc::PARSE_ERROR,
                    &format!("not valid JSON ({e})"),
                )
            })?;
            if value.get("method").and_then(Value::as_str) == Some("initialize") {
                asked = value
                    .pointer("/params/protocolVersion")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
        }
        Ok((Request::from_parts(parts, Body::from(bytes)), asked))
    }
}

fn header_version(headers: &HeaderMap) -> String {
    headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(DEFAULT_VERSION)
        .to_string()
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// The same response with the priming event first.
fn prime(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let primed = futures::stream::once(async { Ok(Bytes::from_static(PRIMING_EVENT)) })
        .chain(body.into_data_stream());
    Response::from_parts(parts, Body::from_stream(primed))
}

fn plain(status: StatusCode, message: &'static str) -> Response {
    (status, message).into_response()
}

fn rpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        jsonrpc::error(Value::Null, code, message),
    )
        .into_response()
}
