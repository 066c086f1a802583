//! Every real backend of the five bundled tool groups, started together, and a configuration
//! that grants all five groups: for the tests that drive the whole server at once (the
//! official MCP clients in `tests/e2e/clients.rs`).
//!
//! This is the one place that knows how each backend of the full stack is started and where
//! its fixture's known facts come from; tests take ids from [`LogFacts`] rather than from
//! the log fixture itself.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::logs_fixture;
use crate::loki::{self, Loki, Tenant};
use crate::postgres::PgServer;
use crate::prometheus::PromServer;

/// PostgreSQL with Plue's data, Prometheus with backfilled metrics, Loki with the Plue log
/// fixture, and the Playwright reports of a real run. Everything stops when dropped.
pub struct Stack {
    pub pg: PgServer,
    pub prom: PromServer,
    pub loki: Loki,
    loki_tenant: Tenant,
    playwright: PathBuf,
}

/// Ids the log fixture guarantees, for arguments that find real lines.
#[derive(Debug, Clone)]
pub struct LogFacts {
    /// A request id followed across services.
    pub request_id: String,
    /// The services that request id touches.
    pub request_services: Vec<String>,
    /// A workflow run with log lines.
    pub run_id: i64,
    /// An agent session with log lines.
    pub session_id: String,
    /// The labelled services.
    pub services: Vec<String>,
}

impl Stack {
    /// Starts all backends (PostgreSQL and Prometheus side by side, off the async runtime,
    /// since both block while loading) and loads every fixture. Fails loudly, naming the
    /// backend, when one cannot start.
    pub async fn start() -> Result<Stack> {
        let pg = tokio::task::spawn_blocking(PgServer::start);
        let prom = tokio::task::spawn_blocking(PromServer::start);
        let loki = Loki::start().await.context("start Loki")?;
        let loki_tenant = loki.tenant();
        let pg = pg.await?.context("start PostgreSQL with Plue's data")?;
        let prom = prom
            .await?
            .context("start Prometheus with Plue's metrics")?;
        // Pushed last, so the fixture's time windows hold from now on.
        loki_tenant
            .load_fixture(loki::now_ns())
            .await
            .context("push the logs fixture to Loki")?;
        // The runners' heartbeats are "fresh" only right after loading: make them so now.
        pg.refresh_heartbeats()?;
        Ok(Stack {
            pg,
            prom,
            loki,
            loki_tenant,
            playwright: playwright_reports(),
        })
    }

    /// A `plue-mcp` configuration granting the five bundled groups their backends.
    pub fn config(&self) -> String {
        format!(
            r#"[endpoints.prometheus]
url = "{prometheus}"

{loki}
[databases.plue]
url = "{database}"

[directories.playwright]
path = {playwright:?}

[plugins.prometheus]
http = ["prometheus"]

[plugins.logs]
http = ["loki"]

[plugins.workflows]
sql = ["plue"]

[plugins.database]
sql = ["plue"]

[plugins.playwright]
directories = ["playwright"]
"#,
            prometheus = self.prom.url(),
            loki = self.loki_tenant.endpoint_toml(),
            database = self.pg.reader_url(),
            playwright = self.playwright.display().to_string(),
        )
    }

    /// What the log fixture guarantees.
    pub fn log_facts(&self) -> LogFacts {
        LogFacts {
            request_id: logs_fixture::REQUEST_ID.to_string(),
            request_services: logs_fixture::REQUEST_ID_SERVICES.map(String::from).to_vec(),
            run_id: logs_fixture::RUN_ID,
            session_id: logs_fixture::SESSION_ID.to_string(),
            services: logs_fixture::SERVICES.map(String::from).to_vec(),
        }
    }

    /// The Playwright reports directory (`tests/fixtures/playwright`).
    pub fn playwright_dir(&self) -> &Path {
        &self.playwright
    }
}

/// `tests/fixtures/playwright`: the reports of a real Playwright run.
pub fn playwright_reports() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("playwright")
}
