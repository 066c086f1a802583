//! How many times a SQL read waits on PostgreSQL, counted by a relay between
//! the host and the server: at most two round trips per read (one once the
//! statement is prepared on the connection), so the read-only guarantees,
//! which the database group's attack tests hold, cost no extra waits. A
//! connection is not checked (a lone `Sync`) before or after a read either.

use std::path::Path;

use plue_tests::mcp::{self, Host};
use plue_tests::postgres::PgServer;
use plue_tests::roundtrips::RoundTrips;
use serde_json::json;

#[tokio::test]
async fn a_read_waits_on_the_database_at_most_twice() {
    let pg = tokio::task::spawn_blocking(PgServer::start)
        .await
        .unwrap()
        .unwrap();
    let relay = RoundTrips::start(pg.port()).await.unwrap();
    let url = pg
        .reader_url()
        .replace(&format!(":{}/", pg.port()), &format!(":{}/", relay.port()));
    assert_ne!(url, pg.reader_url(), "the url goes through the relay");
    let config = format!(
        "[databases.plue]\nurl = \"{url}\"\nmax_connections = 1\n[plugins.database]\nsql = [\"plue\"]\n"
    );
    let host = Host::start(Path::new(env!("CARGO_BIN_EXE_plue-mcp")), &config)
        .await
        .unwrap();
    let read = |sql: &'static str| {
        let host = &host;
        async move {
            let result = host.call_ok("query", json!({ "sql": sql })).await.unwrap();
            mcp::structured(&result)
        }
    };
    // The first read connects, authenticates and checks the role.
    read("SELECT count(*) AS n FROM workflow_runs").await;
    let first = relay.count();
    assert!(first > 0, "the relay saw the connection");

    // A new statement: prepared (one wait), then run (one wait).
    let before = relay.count();
    read("SELECT count(*) AS n FROM repositories").await;
    let new_statement = relay.count() - before;
    assert!(
        new_statement <= 2,
        "a new statement took {new_statement} round trips"
    );

    // The same statement again, ten times: one wait each.
    let before = relay.count();
    let checks_before = relay.health_checks();
    for _ in 0..10 {
        let answer = read("SELECT count(*) AS n FROM workflow_runs").await;
        assert!(answer.to_string().contains("\"n\""), "{answer}");
    }
    let per_read = (relay.count() - before) as f64 / 10.0;
    assert!(
        per_read <= 1.0,
        "a prepared read took {per_read} round trips"
    );
    let checks = relay.health_checks() - checks_before;
    assert_eq!(checks, 0, "{checks} connection checks for 10 reads");
    drop(pg);
}

/// A host nobody calls does not hold the database's connections: one idle past
/// `idle_timeout_ms` is closed without waiting for another read, and the next
/// read opens a fresh one.
#[tokio::test]
async fn an_idle_connection_is_closed_without_another_read() {
    let (pg, host) = plue_tests::postgres::with_host(
        Path::new(env!("CARGO_BIN_EXE_plue-mcp")),
        |url| {
            format!(
                "[databases.plue]\nurl = \"{url}\"\nidle_timeout_ms = 2000\n[plugins.database]\nsql = [\"plue\"]\n"
            )
        },
    )
    .await
    .unwrap();
    let ours = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'plue-mcp'";
    let open = || pg.psql(ours).unwrap().trim().parse::<u32>().unwrap();
    let read = || {
        host.call_ok(
            "query",
            json!({ "sql": "SELECT count(*) AS n FROM workflow_runs" }),
        )
    };
    read().await.unwrap();
    assert_eq!(open(), 1, "the read's connection is kept for the next read");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while open() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "a connection idle for 10 s with idle_timeout_ms = 2000 is still open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let answer = read().await.unwrap();
    assert!(
        mcp::structured(&answer).to_string().contains("\"n\""),
        "{answer:?}"
    );
    assert_eq!(open(), 1, "the next read opened a fresh connection");
    drop(pg);
}
