//! The example plugin end to end: every host capability works when granted and
//! is refused when not, over a real MCP client, against a real PostgreSQL, an
//! HTTP server on loopback and a temporary directory.

use std::path::{Path, PathBuf};

use plue_tests::declared;
use plue_tests::mcp::{self, Host};
use plue_tests::postgres::PgServer;
use plue_tests::web::{TOKEN, WebServer};
use serde_json::json;

pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_plue-mcp"))
}

/// A configuration granting the example plugin everything it asks for.
pub(crate) fn config(web_url: &str, db_url: &str, data_dir: &Path) -> String {
    format!(
        r#"
[limits]
call_timeout_ms = 10000

[endpoints.web]
url = "{web_url}"
headers = {{ Authorization = "Bearer ${{EXAMPLE_TOKEN}}" }}
timeout_ms = 1500
max_response_bytes = 65536

[databases.main]
url = "{db_url}"
statement_timeout_ms = 1000
max_rows = 50

[directories.data]
path = "{}"

[plugins.example]
http = ["web"]
sql = ["main"]
directories = ["data"]
"#,
        data_dir.display()
    )
}

struct Setup {
    host: Host,
    web: WebServer,
    _data: tempfile::TempDir,
    outside: PathBuf,
}

async fn setup(db_url: &str) -> Setup {
    let web = WebServer::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("notes.txt"), "line one\nline two\n").unwrap();
    std::fs::create_dir(data.path().join("sub")).unwrap();
    std::fs::write(data.path().join("sub/deep.txt"), "deep").unwrap();
    let outside = data
        .path()
        .parent()
        .unwrap()
        .join(format!("plue-outside-{}", std::process::id()));
    std::fs::write(&outside, "secret outside the grant").unwrap();
    std::os::unix::fs::symlink(&outside, data.path().join("escape-link")).unwrap();
    let host = Host::start_with_env(
        binary(),
        &config(&web.url(), db_url, data.path()),
        &[("EXAMPLE_TOKEN", TOKEN)],
    )
    .await
    .unwrap();
    Setup {
        host,
        web,
        _data: data,
        outside,
    }
}

#[tokio::test]
async fn lists_tools_with_schemas_and_annotations() {
    let s = setup("${UNSET_DATABASE_URL_FOR_TEST}").await;
    let tools = s.host.list_tools().await.unwrap();
    let declared = declared::bundled(binary(), "example").unwrap();
    declared::listed_as_declared(&tools, &declared).unwrap();
    let echo = tools
        .iter()
        .find(|t| t.name == "echo")
        .expect("echo listed");
    assert_eq!(echo.title.as_deref(), Some("Echo"));
    let ann = echo.annotations.as_ref().unwrap();
    assert_eq!(
        (
            ann.read_only_hint,
            ann.idempotent_hint,
            ann.destructive_hint
        ),
        (Some(true), Some(true), Some(false))
    );
    assert_eq!(echo.input_schema["required"], json!(["text"]));
    assert_eq!(
        echo.input_schema["properties"]["times"]["maximum"],
        json!(10)
    );
    let out = echo
        .output_schema
        .as_ref()
        .expect("echo declares an output schema");
    assert!(out["properties"]["times"].is_object());
    assert_eq!(
        tools[1].annotations.as_ref().unwrap().open_world_hint,
        Some(true)
    );
    let _ = std::fs::remove_file(&s.outside);
}

#[tokio::test]
async fn echo_validates_arguments_before_the_plugin_runs() {
    let s = setup("${UNSET_DATABASE_URL_FOR_TEST}").await;
    let r = s
        .host
        .call_ok("echo", json!({"text": "hi", "times": 3}))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r), "hi hi hi");
    assert_eq!(mcp::structured(&r), json!({"text": "hi", "times": 3}));

    // A number sent as a string (as agents often do) is taken for the number.
    let r = s
        .host
        .call_ok("echo", json!({"text": "hi", "times": "2"}))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r), "hi hi");
    let err = s
        .host
        .call_err("echo", json!({"text": "hi", "times": "three"}))
        .await
        .unwrap();
    assert!(err.contains("`times`") && err.contains("integer"), "{err}");
    let err = s.host.call_err("echo", json!({"times": 2})).await.unwrap();
    assert!(
        err.contains("\"text\" is a required property") && err.contains("text (string, required)"),
        "{err}"
    );
    let err = s
        .host
        .call_err("echo", json!({"text": "x", "times": 11}))
        .await
        .unwrap();
    assert!(err.contains("`times`") && err.contains("maximum"), "{err}");

    let unknown = s.host.call("no_such_tool", json!({})).await;
    let message = format!(
        "{:#}",
        unknown.expect_err("an unknown tool is a protocol error")
    );
    assert!(message.contains("unknown tool `no_such_tool`"), "{message}");
    // The host keeps serving after all of that.
    s.host
        .call_ok("echo", json!({"text": "again"}))
        .await
        .unwrap();
    let _ = std::fs::remove_file(&s.outside);
}

#[tokio::test]
#[allow(deprecated)] // MCP logging: see tests/src/mcp.rs
async fn plugin_logs_reach_the_client_at_the_level_it_asked_for() {
    use rmcp::model::{LoggingLevel, SetLevelRequestParams};
    let s = setup("${UNSET_DATABASE_URL_FOR_TEST}").await;
    // A client that never asked for logs gets no info message.
    s.host
        .call_ok("echo", json!({"text": "hey", "times": 2}))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(s.host.logs(), vec![], "info sent before logging/setLevel");

    s.host
        .client()
        .set_level(SetLevelRequestParams::new(LoggingLevel::Info))
        .await
        .unwrap();
    s.host
        .call_ok("echo", json!({"text": "hey", "times": 2}))
        .await
        .unwrap();
    let wanted = (
        "info".to_string(),
        Some("plugin:example".to_string()),
        json!("echoing 3 character(s) 2 time(s)"),
    );
    let mut logs = Vec::new();
    for _ in 0..50 {
        logs = s.host.logs();
        if !logs.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(logs, vec![wanted]);

    s.host
        .client()
        .set_level(SetLevelRequestParams::new(LoggingLevel::Error))
        .await
        .unwrap();
    s.host
        .call_ok("echo", json!({"text": "quiet"}))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        s.host.logs().len(),
        1,
        "an info message was sent after setLevel(error)"
    );
    let _ = std::fs::remove_file(&s.outside);
}

/// Past the plugin's message rate, its messages are dropped and one note per
/// call says so: the note goes only where the dropped messages would have
/// gone, so a client that never set a level is not sent one on every call.
#[tokio::test]
#[allow(deprecated)] // MCP logging: see tests/src/mcp.rs
async fn dropped_info_messages_are_no_news_to_a_client_that_never_asked_for_logs() {
    use rmcp::model::{LoggingLevel, SetLevelRequestParams};
    let s = setup("${UNSET_DATABASE_URL_FOR_TEST}").await;
    // Each echo logs one info message; far more calls than the plugin's rate
    // of messages per second, all at once.
    let burst = || {
        futures::future::join_all((0..300).map(|_| s.host.call_ok("echo", json!({"text": "hey"}))))
    };
    for answer in burst().await {
        answer.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(s.host.logs(), vec![], "sent before logging/setLevel");

    // The same burst for a client that asked for info: the messages within the
    // rate arrive, and the calls past it say what they dropped.
    s.host
        .client()
        .set_level(SetLevelRequestParams::new(LoggingLevel::Info))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for answer in burst().await {
        answer.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let logs = s.host.logs();
    let notes = logs
        .iter()
        .filter(|(level, _, data)| {
            level == "info" && data.to_string().contains("log messages dropped")
        })
        .count();
    assert!(
        notes > 0,
        "no note of dropped messages in {} logs",
        logs.len()
    );
    assert!(logs.iter().all(|(level, _, _)| level == "info"), "{logs:?}");
}

#[tokio::test]
async fn http_goes_only_where_granted() {
    let s = setup("${UNSET_DATABASE_URL_FOR_TEST}").await;
    let r = s
        .host
        .call_ok("http_get", json!({"path": "/status"}))
        .await
        .unwrap();
    assert!(
        mcp::text(&r).starts_with("HTTP 200") && mcp::text(&r).contains("service ok"),
        "{}",
        mcp::text(&r)
    );

    // The host injects the credential; the plugin never had it.
    let r = s
        .host
        .call_ok("http_get", json!({"path": "/auth"}))
        .await
        .unwrap();
    assert!(
        mcp::text(&r).contains("HTTP 200") && mcp::text(&r).contains("authorized"),
        "{}",
        mcp::text(&r)
    );

    // Redirects are returned, not followed to another host.
    let r = s
        .host
        .call_ok("http_get", json!({"path": "/redirect"}))
        .await
        .unwrap();
    assert!(mcp::text(&r).starts_with("HTTP 302"), "{}", mcp::text(&r));

    for (path, why) in [
        ("/../status", "`..` segments"),
        ("//192.0.2.1/x", "another host"),
        ("/%2e%2e/status", "`..` segments"),
        ("http://192.0.2.1/", "must start with `/`"),
        ("/@192.0.2.1/", "looks like a URL"),
    ] {
        let err = s
            .host
            .call_err("http_get", json!({"path": path}))
            .await
            .unwrap();
        assert!(err.contains(why), "{path}: {err}");
    }
    let err = s
        .host
        .call_err("http_get", json!({"path": "/status", "endpoint": "other"}))
        .await
        .unwrap();
    assert!(
        err.contains("endpoint `other` is not granted to plugin `example`"),
        "{err}"
    );

    let err = s
        .host
        .call_err("http_get", json!({"path": "/big/100"}))
        .await
        .unwrap();
    assert!(err.contains("exceeded its cap of 64 KiB"), "{err}");
    let err = s
        .host
        .call_err("http_get", json!({"path": "/slow"}))
        .await
        .unwrap();
    assert!(err.contains("did not answer within 1500 ms"), "{err}");

    let seen = s.web.seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .all(|p| !p.contains("..") && !p.contains("192.0.2.1")),
        "{seen:?}"
    );
    assert!(!seen.is_empty());
    let _ = std::fs::remove_file(&s.outside);
}

#[tokio::test]
async fn http_reports_an_endpoint_that_is_down() {
    let port = plue_tests::ports::free_port();
    let data = tempfile::tempdir().unwrap();
    let host = Host::start_with_env(
        binary(),
        &config(
            &format!("http://127.0.0.1:{port}"),
            "${UNSET_DB}",
            data.path(),
        ),
        &[("EXAMPLE_TOKEN", TOKEN)],
    )
    .await
    .unwrap();
    let err = host
        .call_err("http_get", json!({"path": "/status"}))
        .await
        .unwrap();
    assert!(
        err.contains("cannot connect to endpoint `web`") && err.contains("[endpoints.web]"),
        "{err}"
    );
    assert!(!err.contains(TOKEN));
}

/// Through the SDK (`files::read_to_string`): its own path check answers `..` and absolute
/// paths before the host is asked. The host sandbox itself, without that check,
/// is tested in `escapes.rs`.
#[tokio::test]
async fn files_stay_inside_the_granted_directory() {
    let s = setup("${UNSET_DATABASE_URL_FOR_TEST}").await;
    let r = s
        .host
        .call_ok("read_file", json!({"path": "notes.txt"}))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r), "line one\nline two\n");
    let r = s
        .host
        .call_ok("read_file", json!({"path": "sub/deep.txt"}))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r), "deep");

    let err = s
        .host
        .call_err("read_file", json!({"path": "../plue-outside"}))
        .await
        .unwrap();
    assert!(err.contains("`..` is not allowed"), "{err}");
    let err = s
        .host
        .call_err("read_file", json!({"path": "/etc/passwd"}))
        .await
        .unwrap();
    assert!(err.contains("is absolute"), "{err}");
    let err = s
        .host
        .call_err("read_file", json!({"path": "escape-link"}))
        .await
        .unwrap();
    assert!(!err.contains("secret outside"), "{err}");
    assert!(err.contains("escape-link"), "{err}");
    let err = s
        .host
        .call_err("read_file", json!({"path": "passwd", "directory": "etc"}))
        .await
        .unwrap();
    assert!(err.contains("not found in directory `etc`"), "{err}");
    let _ = std::fs::remove_file(&s.outside);
}

#[tokio::test]
async fn sql_reads_typed_values() {
    let pg = PgServer::start().unwrap();
    let s = setup(&pg.reader_url()).await;
    let r = s
        .host
        .call_ok(
            "sql_query",
            json!({"statement": "SELECT 1::int2 AS small, 2::int8 AS big, 1.5::float8 AS f, 12.50::numeric AS n, 'x'::text AS t, true AS b, '{\"a\":1}'::jsonb AS j, '\\xdead'::bytea AS bin, '2026-01-02 03:04:05+00'::timestamptz AS tz, '2026-01-02 03:04:05'::timestamp AS ts, '2026-01-02'::date AS d, interval '90 minutes' AS iv, ARRAY[1,2,NULL]::int4[] AS arr, ARRAY['a','b'] AS tarr, NULL::text AS nothing, gen_random_uuid() IS NOT NULL AS has_uuid"}),
        )
        .await
        .unwrap();
    let row = &mcp::structured(&r)["rows"][0];
    assert_eq!(row["small"], 1);
    assert_eq!(row["big"], 2);
    assert_eq!(row["f"], 1.5);
    assert_eq!(row["n"], "12.50");
    assert_eq!(row["t"], "x");
    assert_eq!(row["b"], true);
    assert_eq!(row["j"], json!({"a": 1}));
    assert_eq!(row["bin"], "dead");
    assert_eq!(row["tz"], "2026-01-02T03:04:05Z");
    assert_eq!(row["ts"], "2026-01-02T03:04:05");
    assert_eq!(row["d"], "2026-01-02");
    assert_eq!(row["iv"], 5400.0);
    assert_eq!(row["arr"], json!([1, 2, null]));
    assert_eq!(row["tarr"], json!(["a", "b"]));
    assert_eq!(row["nothing"], json!(null));
    let columns = &mcp::structured(&r)["columns"];
    assert_eq!(columns[3], json!({"name": "n", "type": "numeric"}));
    assert_eq!(columns[12], json!({"name": "arr", "type": "int4[]"}));

    // The row cap (max_rows = 50) with its flag.
    let r = s
        .host
        .call_ok(
            "sql_query",
            json!({"statement": "SELECT g FROM generate_series(1, 500) g"}),
        )
        .await
        .unwrap();
    assert_eq!(mcp::structured(&r)["rows"].as_array().unwrap().len(), 50);
    assert_eq!(mcp::structured(&r)["truncated"], true);
    assert!(mcp::text(&r).contains("row cap"));

    // No rows still names the columns.
    let r = s
        .host
        .call_ok(
            "sql_query",
            json!({"statement": "SELECT id, username FROM users WHERE false"}),
        )
        .await
        .unwrap();
    assert_eq!(mcp::structured(&r)["columns"][1]["name"], "username");

    // PostgreSQL's own errors come back with their position.
    let err = s
        .host
        .call_err("sql_query", json!({"statement": "SELECT nope FROM users"}))
        .await
        .unwrap();
    assert!(
        err.contains("42703")
            && err.contains("column \"nope\" does not exist")
            && err.contains("at character 8"),
        "{err}"
    );

    let err = s
        .host
        .call_err(
            "sql_query",
            json!({"statement": "SELECT 1", "database": "other"}),
        )
        .await
        .unwrap();
    assert!(
        err.contains("database `other` is not granted to plugin `example`"),
        "{err}"
    );
    let _ = std::fs::remove_file(&s.outside);
}

#[tokio::test]
async fn sql_refuses_every_write_and_changes_nothing() {
    let pg = PgServer::start().unwrap();
    let s = setup(&pg.reader_url()).await;
    let before = pg.checksum();
    let attacks = [
        "INSERT INTO users (username, email) VALUES ('mallory', 'm@example.com')",
        "UPDATE users SET is_active = false",
        "DELETE FROM users",
        "CREATE TABLE pwned (a int)",
        "SELECT * INTO pwned FROM users",
        "WITH gone AS (DELETE FROM users RETURNING *) SELECT count(*) FROM gone",
        "SELECT 1; DELETE FROM users",
        "COMMIT; DELETE FROM users",
        "SET transaction_read_only = off",
        "SELECT set_config('transaction_read_only', 'off', false)",
        "SELECT * FROM users FOR UPDATE",
        "SELECT nextval(pg_get_serial_sequence('users', 'id'))",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT * FROM pg_ls_dir('/')",
        "SELECT lo_import('/etc/passwd')",
        "COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'",
        "SET ROLE postgres",
        "DO $$ BEGIN DELETE FROM users; END $$",
        "EXPLAIN ANALYZE DELETE FROM users",
        "CREATE TEMP TABLE t AS SELECT 1",
        "SELECT pg_advisory_lock(42)",
    ];
    for attack in attacks {
        let err = s
            .host
            .call_err("sql_query", json!({"statement": attack}))
            .await
            .unwrap();
        assert!(
            err.contains("refused") || err.contains("read-only"),
            "{attack}: {err}"
        );
    }
    let err = s
        .host
        .call_err("sql_query", json!({"statement": "SELECT pg_sleep(5)"}))
        .await
        .unwrap();
    assert!(err.contains("statement timeout"), "{err}");
    assert_eq!(
        pg.checksum(),
        before,
        "the database changed:\n{}",
        pg.snapshot()
    );
    // And the connection is still usable afterwards.
    s.host
        .call_ok(
            "sql_query",
            json!({"statement": "SELECT count(*) FROM users"}),
        )
        .await
        .unwrap();
    let _ = std::fs::remove_file(&s.outside);
}

#[tokio::test]
async fn sql_refuses_a_superuser_role_and_explains_a_missing_url() {
    let pg = PgServer::start().unwrap();
    let s = setup(&pg.superuser_url()).await;
    let err = s
        .host
        .call_err("sql_query", json!({"statement": "SELECT 1"}))
        .await
        .unwrap();
    assert!(
        err.contains("superuser") && err.contains("allow_superuser"),
        "{err}"
    );
    assert!(!err.contains(plue_tests::postgres::SUPERUSER_PASSWORD));

    let unset = setup("${PLUE_TEST_UNSET_DATABASE_URL}").await;
    let err = unset
        .host
        .call_err("sql_query", json!({"statement": "SELECT 1"}))
        .await
        .unwrap();
    assert!(
        err.contains("PLUE_TEST_UNSET_DATABASE_URL is not set"),
        "{err}"
    );
    let _ = std::fs::remove_file(&s.outside);
}
