//! Where one call's time goes, layer by layer (not a timed test; CI does not
//! run it): for the SQL path (`query` of the database plugin on a real
//! PostgreSQL) and for echo (the example plugin), each row adds one layer to
//! the row above it, so the differences are the layers' costs:
//!
//! 1. the database alone (sqlx, a prepared statement on one connection);
//! 2. the policy's parse of the statement;
//! 3. the `sql` capability (policy + pool + query + row decoding);
//! 4. the plugin call (fresh instance, the plugin's own work, the capability);
//! 5. `App::call` (argument checks, output schema check, audit, metrics);
//! 6. `plue-mcp serve` over stdio with a Rust MCP client (process boundary,
//!    stdio gate, rmcp, JSON both ways).
//!
//! The compare bench adds the last layer, the Python SDK client.
//!
//! Run: `cargo bench -p plue-mcp --bench breakdown`

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use plue_mcp::app::App;
use plue_mcp::caller::Caller;
use plue_mcp::capability::log::LogSink;
use plue_mcp::config::{Config, resolve::ProcessEnv};
use plue_tests::mcp::Host;
use plue_tests::postgres::PgServer;
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_plue-mcp");
const SQL: &str = "select count(*) from workflow_runs";
const CALLS: usize = 2000;
const WARMUP: usize = 200;

/// p50 and p90 of `CALLS` runs of `call` after `WARMUP`, printed on one line.
async fn measure<F, Fut>(label: &str, mut call: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut samples: Vec<Duration> = Vec::with_capacity(CALLS);
    for i in 0..WARMUP + CALLS {
        let t = Instant::now();
        call().await;
        if i >= WARMUP {
            samples.push(t.elapsed());
        }
    }
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    println!(
        "{label:<58} p50 {:>7.1} µs   p90 {:>7.1} µs",
        at(0.5),
        at(0.9)
    );
    at(0.5)
}

async fn app(config: &str) -> Arc<App> {
    let parsed = Config::from_toml(config, Path::new("."), "bench", &ProcessEnv).unwrap();
    Arc::new(App::load(parsed).await.unwrap())
}

fn ok(outcome: &plue_mcp::outcome::Outcome) {
    assert!(!outcome.is_error, "{:?}", outcome.content);
}

#[tokio::main]
async fn main() {
    let pg = tokio::task::spawn_blocking(PgServer::start)
        .await
        .unwrap()
        .expect("start PostgreSQL");
    println!(
        "plue-mcp per-call breakdown ({} cores), p50 of {CALLS} sequential calls\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let sql_config = format!(
        "[databases.plue]\nurl = \"{}\"\n[plugins.database]\nsql = [\"plue\"]\n",
        pg.reader_url()
    );
    sql_path(&pg, &sql_config).await;
    println!();
    echo_path().await;
}

async fn sql_path(pg: &PgServer, config: &str) {
    println!("## SQL: `query` {{\"sql\": \"{SQL}\"}}");
    // 1. The database alone, from Rust.
    {
        use sqlx::Connection as _;
        let conn = sqlx::PgConnection::connect(&pg.reader_url()).await.unwrap();
        let conn = tokio::sync::Mutex::new(conn);
        measure(
            "1 database alone (sqlx, prepared, one connection)",
            || async {
                let mut c = conn.lock().await;
                let row: (i64,) = sqlx::query_as(SQL).fetch_one(&mut *c).await.unwrap();
                assert!(row.0 > 0);
            },
        )
        .await;
    }
    // 2. The policy's parse.
    measure("2 policy: parse and check the statement", || async {
        plue_mcp::policy::sql::check_statement(SQL).unwrap();
    })
    .await;
    let app = app(config).await;
    let plugin = app.plugins[0].clone();
    // 3. The capability.
    let database = plugin.grants.sql.databases["plue"].clone();
    measure("3 sql capability (policy, pool, query, decode)", || async {
        let rows = database.query(SQL, vec![]).await.unwrap();
        assert_eq!(rows.rows.len(), 1);
    })
    .await;
    let arguments = json!({"sql": SQL});
    layers(&app, "query", &arguments).await;
    stdio(config, "query", &arguments).await;
}

async fn echo_path() {
    println!("## echo: `echo` {{\"text\": \"hello\"}} of the example plugin");
    let config = format!(
        "[endpoints.web]\nurl = \"http://127.0.0.1:9\"\n[databases.main]\nurl = \"${{PLUE_BENCH_UNSET}}\"\n[directories.data]\npath = \"{}\"\n[plugins.example]\nhttp = [\"web\"]\nsql = [\"main\"]\ndirectories = [\"data\"]\n",
        std::env::temp_dir().display()
    );
    let app = app(&config).await;
    let arguments = json!({"text": "hello"});
    layers(&app, "echo", &arguments).await;
    stdio(&config, "echo", &arguments).await;
}

/// Rows 4 and 5: the plugin call alone, then `App::call`.
async fn layers(app: &Arc<App>, tool: &str, arguments: &Value) {
    let plugin = app.plugins[0].clone();
    let text = arguments.to_string();
    measure(
        "4 + plugin call (fresh instance, plugin's own work)",
        || async {
            let answer = plue_mcp::plugin::call::call(
                &app.runtime,
                &plugin,
                tool,
                text.clone(),
                LogSink::default(),
            )
            .await
            .unwrap();
            assert!(!answer.is_error);
        },
    )
    .await;
    measure(
        "5 + App::call (argument and output checks, audit)",
        || async {
            let outcome = app
                .call(
                    tool,
                    arguments.clone(),
                    &Caller::default(),
                    LogSink::default(),
                )
                .await
                .unwrap();
            ok(&outcome);
        },
    )
    .await;
}

/// Row 6: the whole server over stdio, with a Rust MCP client.
async fn stdio(config: &str, tool: &str, arguments: &Value) {
    let host = Host::start(Path::new(BINARY), config)
        .await
        .expect("start plue-mcp");
    measure(
        "6 + plue-mcp serve over stdio (Rust rmcp client)",
        || async {
            host.call_ok(tool, arguments.clone()).await.unwrap();
        },
    )
    .await;
}
