//! The operator's endpoints beside `/mcp` (and, for stdio, on `serve --metrics
//! ADDR`), outside the MCP guard: `/healthz` (the process answers),
//! `/readyz` (plugins are loaded and calls are accepted; backends that are
//! unavailable are listed without failing it, since the other tools still
//! work) and `/metrics` (see [`crate::metrics`]).

use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::app::App;
use crate::metrics::{CONTENT_TYPE, metrics};

/// `/healthz`, `/readyz` and `/metrics` over `app`.
pub fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(move || async move { readiness(&app) }))
        .route(
            "/metrics",
            get(|| async { ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics().encode()) }),
        )
}

/// Serve [`router`] alone at `addr` (stdio mode) until the process ends.
pub async fn serve(app: Arc<App>, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for --metrics: {e}"))?;
    tracing::info!(
        "serving /metrics, /healthz and /readyz at http://{}",
        listener.local_addr()?
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(app)).await {
            tracing::error!("the metrics listener stopped: {e}");
        }
    });
    Ok(())
}

#[derive(Serialize)]
struct Readiness {
    ready: bool,
    /// Why not, when not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    plugins: Vec<PluginState>,
    /// Backends a plugin cannot use now: not configured, or its last request
    /// did not reach them. Their tools answer with the reason.
    unavailable: Vec<String>,
}

#[derive(Serialize)]
struct PluginState {
    name: String,
    version: String,
    tools: usize,
}

fn readiness(app: &App) -> Response {
    let mut unavailable: Vec<String> = app
        .plugins
        .iter()
        .flat_map(|p| p.unavailable.iter().map(|why| format!("{}: {why}", p.name)))
        .collect();
    unavailable.extend(
        metrics()
            .backends_down()
            .into_iter()
            .map(|(plugin, endpoint)| {
                format!("{plugin}: `{endpoint}` did not answer its last request")
            }),
    );
    let stopping = app.is_stopping();
    let body = Readiness {
        ready: !stopping,
        reason: stopping.then_some("shutting down: new calls are refused"),
        plugins: app
            .plugins
            .iter()
            .map(|p| PluginState {
                name: p.name.clone(),
                version: p.manifest.version.clone(),
                tools: p.manifest.tools.len(),
            })
            .collect(),
        unavailable,
    };
    let status = if stopping {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let json = serde_json::to_string_pretty(&body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], json).into_response()
}
