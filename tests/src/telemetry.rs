//! Browser telemetry's way into the suite's real Loki, on loopback: the collector
//! relay ([`Relay`]) that takes `ui/telemetry`'s batches as a web app's collector route
//! would (CORS for one origin, a body-size cap) and forwards each body unchanged to
//! Loki's push API; and the test site ([`Site`]) that serves the telemetry test page
//! (`tests/fixtures/telemetry`) with the module's script-tag build, plus an API route
//! that fails and logs the request id it received, as a server would.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, ensure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::loki::{Stream, Tenant, now_ns};

/// The largest batch the relay takes (sendBeacon's own limit is 64 KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// The path batches are POSTed to (the module's `collectorUrl`).
pub const COLLECTOR_PATH: &str = "/telemetry";

/// The request id header the module sets and the site's API reads.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A server on a free loopback port that stops when dropped.
struct Served {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Served {
    async fn start(app: Router) -> Result<Served> {
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
        Ok(Served {
            addr,
            shutdown: Some(tx),
        })
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The collector relay: `POST /telemetry` → Loki's `/loki/api/v1/push`.
pub struct Relay {
    served: Served,
    forwarded: Arc<Mutex<Vec<String>>>,
}

#[derive(Clone)]
struct RelayState {
    tenant: Tenant,
    allowed_origin: String,
    client: reqwest::Client,
    forwarded: Arc<Mutex<Vec<String>>>,
}

impl Relay {
    /// A relay forwarding to `tenant`, answering CORS for `allowed_origin` only.
    pub async fn start(tenant: &Tenant, allowed_origin: &str) -> Result<Relay> {
        let forwarded = Arc::new(Mutex::new(Vec::new()));
        let state = RelayState {
            tenant: tenant.clone(),
            allowed_origin: allowed_origin.to_string(),
            client: reqwest::Client::builder().no_proxy().build()?,
            forwarded: forwarded.clone(),
        };
        let app = Router::new()
            .route(COLLECTOR_PATH, post(forward).options(preflight))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(state);
        Ok(Relay {
            served: Served::start(app).await?,
            forwarded,
        })
    }

    /// The collector URL to give the module.
    pub fn url(&self) -> String {
        format!("{}{COLLECTOR_PATH}", self.served.origin())
    }

    /// Every body forwarded to Loki so far, as received.
    pub fn forwarded(&self) -> Vec<String> {
        self.forwarded.lock().unwrap().clone()
    }

    /// The log lines of every forwarded body, in order.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for body in self.forwarded() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) else {
                continue;
            };
            for stream in v["streams"].as_array().into_iter().flatten() {
                for value in stream["values"].as_array().into_iter().flatten() {
                    if let Some(line) = value[1].as_str() {
                        lines.push(line.to_string());
                    }
                }
            }
        }
        lines
    }
}

/// The CORS headers for a request: none without an `Origin`, the allowing ones for the
/// allowed origin, `None` (refused) for any other.
fn cors(state: &RelayState, headers: &HeaderMap) -> Option<Vec<(HeaderName, HeaderValue)>> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Some(Vec::new());
    };
    (origin.as_bytes() == state.allowed_origin.as_bytes()).then(|| {
        vec![
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()),
            (header::VARY, HeaderValue::from_static("Origin")),
        ]
    })
}

fn refused() -> Response {
    (StatusCode::FORBIDDEN, "origin not allowed").into_response()
}

async fn preflight(State(state): State<RelayState>, headers: HeaderMap) -> Response {
    let Some(mut allow) = cors(&state, &headers) else {
        return refused();
    };
    allow.extend([
        (
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        ),
        (
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type"),
        ),
        (
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        ),
    ]);
    (StatusCode::NO_CONTENT, AppendHeaders(allow)).into_response()
}

async fn forward(State(state): State<RelayState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(allow) = cors(&state, &headers) else {
        return refused();
    };
    // The module posts text/plain (a CORS-simple request); Loki reads JSON by its type.
    let mut request = state
        .client
        .post(format!("{}/loki/api/v1/push", state.tenant.url()))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.clone());
    if let Some(org) = state.tenant.org_id() {
        request = request.header("X-Scope-OrgID", org);
    }
    let (status, said) = match request.send().await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(e) => (502, format!("Loki unreachable: {e}")),
    };
    if (200..300).contains(&status) {
        state
            .forwarded
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(&body).into_owned());
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    (status, AppendHeaders(allow), said).into_response()
}

/// The test site: the page, its script, the module's build and a failing API.
pub struct Site {
    served: Served,
    request_ids: Arc<Mutex<Vec<String>>>,
}

/// What the API route does with each request it gets.
#[derive(Clone)]
struct SiteState {
    tenant: Tenant,
    request_ids: Arc<Mutex<Vec<String>>>,
    files: Arc<Vec<(&'static str, &'static str, String)>>,
}

/// The message the site's API logs (service `api`) for each request.
pub const API_ERROR: &str = "GET /api/orders failed: payment backend unavailable";

/// `ui/telemetry/dist/telemetry.min.js`, built by `ui/telemetry/build.sh`.
pub fn module_build() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/telemetry/dist/telemetry.min.js")
}

impl Site {
    /// Serve the page on a free loopback port; the API logs into `tenant`.
    pub async fn start(tenant: &Tenant) -> Result<Site> {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/telemetry");
        let read = |p: PathBuf| {
            std::fs::read_to_string(&p).with_context(|| format!("read {}", p.display()))
        };
        let build = module_build();
        ensure!(
            build.is_file(),
            "{} is missing: run `bash .ci/install-deps` (it runs ui/telemetry/build.sh)",
            build.display()
        );
        let files = vec![
            (
                "/",
                "text/html; charset=utf-8",
                read(fixtures.join("index.html"))?,
            ),
            ("/app.js", "text/javascript", read(fixtures.join("app.js"))?),
            ("/telemetry.min.js", "text/javascript", read(build)?),
        ];
        let request_ids = Arc::new(Mutex::new(Vec::new()));
        let state = SiteState {
            tenant: tenant.clone(),
            request_ids: request_ids.clone(),
            files: Arc::new(files),
        };
        let app = Router::new()
            .route("/api/orders", get(api_orders))
            .fallback(file)
            .with_state(state);
        Ok(Site {
            served: Served::start(app).await?,
            request_ids,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        self.served.origin()
    }

    /// The request ids the API received, in order.
    pub fn request_ids(&self) -> Vec<String> {
        self.request_ids.lock().unwrap().clone()
    }
}

async fn file(State(state): State<SiteState>, uri: axum::http::Uri) -> Response {
    match state.files.iter().find(|(path, _, _)| *path == uri.path()) {
        Some((_, kind, text)) => ([(header::CONTENT_TYPE, *kind)], text.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Answers 503 and logs one JSON line with the request id it received, as the API would.
async fn api_orders(State(state): State<SiteState>, headers: HeaderMap) -> Response {
    let id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_string();
    state.request_ids.lock().unwrap().push(id.clone());
    let line = json!({
        "level": "error",
        "message": API_ERROR,
        "service": "api",
        "request_id": id,
        "status": 503,
        "duration_ms": 4,
    })
    .to_string();
    let stream = Stream::new(
        [("job", "containerlogs"), ("service", "api")],
        vec![(now_ns(), line)],
    );
    match state.tenant.push(&[stream]).await {
        Ok(()) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "payment backend unavailable",
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")).into_response(),
    }
}
