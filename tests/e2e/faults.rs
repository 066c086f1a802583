//! Failing backends in the middle of a session: PostgreSQL and Prometheus stopped and started
//! again under a running `plue-mcp serve`. Calls during the outage get a clear
//! error; after recovery they succeed without restarting the host (the SQL pool
//! reconnects). A backend that accepts and never answers is in `hostile`.

use std::path::Path;
use std::time::{Duration, Instant};

use plue_tests::mcp::{self, Host};
use plue_tests::postgres::PgServer;
use plue_tests::prometheus::PromServer;
use serde_json::json;

const COUNT_USERS: &str = "SELECT count(*) AS n FROM users";

#[tokio::test]
async fn postgres_restarted_mid_session_is_used_again_without_restarting_the_host() {
    let pg = tokio::task::spawn_blocking(PgServer::start)
        .await
        .unwrap()
        .unwrap();
    let users = pg
        .psql("SELECT count(*) FROM users")
        .unwrap()
        .trim()
        .to_string();
    let config = format!(
        "[databases.plue]\nurl = \"{}\"\nstatement_timeout_ms = 2000\n\n[plugins.database]\nsql = [\"plue\"]\n",
        pg.reader_url()
    );
    let host = Host::start(Path::new(env!("CARGO_BIN_EXE_plue-mcp")), &config)
        .await
        .unwrap();
    let count = |r: &rmcp::model::CallToolResult| mcp::structured(r)["rows"][0][0].to_string();
    let before = host
        .call_ok("query", json!({ "sql": COUNT_USERS }))
        .await
        .unwrap();
    assert_eq!(count(&before), users, "{}", mcp::text(&before));

    let pg = tokio::task::spawn_blocking(move || pg.stop().map(|()| pg))
        .await
        .unwrap()
        .unwrap();
    let started = Instant::now();
    let err = host
        .call_err("query", json!({ "sql": COUNT_USERS }))
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.contains("cannot connect to database `plue`")
            && err.contains("check that PostgreSQL runs"),
        "{err}"
    );

    let pg = tokio::task::spawn_blocking(move || pg.restart().map(|()| pg))
        .await
        .unwrap()
        .unwrap();
    let after = host
        .call_ok("query", json!({ "sql": COUNT_USERS }))
        .await
        .unwrap();
    assert_eq!(count(&after), users, "{}", mcp::text(&after));
    drop(pg);
}

#[tokio::test]
async fn prometheus_restarted_mid_session_is_used_again_without_restarting_the_host() {
    let mut prom = tokio::task::spawn_blocking(PromServer::start)
        .await
        .unwrap()
        .unwrap();
    let config = format!(
        "[endpoints.prometheus]\nurl = \"{}\"\ntimeout_ms = 3000\n\n[plugins.prometheus]\nhttp = [\"prometheus\"]\n",
        prom.url()
    );
    let host = Host::start(Path::new(env!("CARGO_BIN_EXE_plue-mcp")), &config)
        .await
        .unwrap();
    let targets = json!({ "query": "count(up)" });
    let before = host
        .call_ok("prometheus_query", targets.clone())
        .await
        .unwrap();
    let count = |r: &rmcp::model::CallToolResult| mcp::structured(r)["series"][0]["value"].clone();
    assert!(
        count(&before).as_f64().is_some_and(|n| n >= 3.0),
        "{}",
        mcp::text(&before)
    );

    prom.stop();
    let started = Instant::now();
    let err = host
        .call_err("prometheus_query", targets.clone())
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.contains("cannot connect to endpoint `prometheus`")
            && err.contains("check that the service runs"),
        "{err}"
    );

    let prom = tokio::task::spawn_blocking(move || prom.restart().map(|()| prom))
        .await
        .unwrap()
        .unwrap();
    let after = host.call_ok("prometheus_query", targets).await.unwrap();
    // The same series count before and after: the data survived, and the host
    // reached the restarted server on its own.
    assert_eq!(count(&after), count(&before), "{}", mcp::text(&after));
    drop(prom);
}
