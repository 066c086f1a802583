//! A small HTTP server on a free loopback port for the `http` capability tests:
//! it checks the credential the host injects (without echoing it), redirects to
//! another host, answers slowly or never, sends bodies larger than a cap, and
//! echoes the headers it received (all but the credential).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

/// The credential tests configure for the endpoint (never returned by the server).
pub const TOKEN: &str = "s3cr3t-token-for-tests";

/// A running test server; stops when dropped.
pub struct WebServer {
    addr: SocketAddr,
    /// Paths requested so far, in order.
    pub seen: Arc<Mutex<Vec<String>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl WebServer {
    pub async fn start() -> anyhow::Result<WebServer> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/status", get(|| async { "service ok" }))
            .route("/auth", get(auth))
            .route(
                "/redirect",
                get(|| async {
                    (
                        StatusCode::FOUND,
                        [(header::LOCATION, "http://192.0.2.1/stolen")],
                        "",
                    )
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route(
                "/hang",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    "never"
                }),
            )
            .route("/headers", get(echo_headers))
            .route(
                "/big/{kib}",
                get(|Path(kib): Path<usize>| async move { "y".repeat(kib * 1024) }),
            )
            .fallback(|uri: axum::http::Uri| async move {
                (
                    StatusCode::NOT_FOUND,
                    format!("no route for {}", uri.path()),
                )
            })
            .layer(axum::middleware::from_fn_with_state(seen.clone(), record))
            .with_state(());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(WebServer {
            addr,
            seen,
            shutdown: Some(tx),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn record(
    State(seen): State<Arc<Mutex<Vec<String>>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let pq = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    seen.lock().unwrap().push(pq);
    next.run(request).await
}

async fn auth(headers: HeaderMap) -> impl IntoResponse {
    let expected = format!("Bearer {TOKEN}");
    match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(v) if v == expected => (StatusCode::OK, "authorized".to_string()),
        Some(_) => (StatusCode::UNAUTHORIZED, "wrong credential".to_string()),
        None => (StatusCode::UNAUTHORIZED, "no credential".to_string()),
    }
}

/// `name: value` of every header received except `authorization`, one per line, sorted.
async fn echo_headers(headers: HeaderMap) -> String {
    let mut lines: Vec<String> = headers
        .iter()
        .filter(|(k, _)| *k != header::AUTHORIZATION)
        .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
        .collect();
    lines.sort();
    lines.join("\n")
}
