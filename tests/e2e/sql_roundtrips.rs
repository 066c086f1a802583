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
