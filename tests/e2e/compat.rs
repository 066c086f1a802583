//! A plugin built against the 0.1 contract (`tests/fixtures/plugins/example-v0.1.wasm`,
//! never rebuilt) loads and serves its tools unchanged beside 0.2 plugins: every
//! capability it imports under its 0.1 names (HTTP, SQL, files, log) works.

use std::path::Path;

use plue_tests::mcp::{self, Host};
use plue_tests::postgres::PgServer;
use plue_tests::web::{TOKEN, WebServer};
use serde_json::json;

use crate::example::binary;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/plugins/example-v0.1.wasm")
}

#[tokio::test]
async fn a_plugin_built_against_0_1_serves_every_capability_beside_0_2_plugins() {
    let pg = PgServer::start().unwrap();
    let web = WebServer::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("notes.txt"), "line one\nline two\n").unwrap();
    let config = format!(
        "{}\n[plugins.legacy]\npath = {:?}\nprefix = \"old_\"\nhttp = [\"web\"]\nsql = [\"main\"]\ndirectories = [\"data\"]\n",
        crate::example::config(&web.url(), &pg.reader_url(), data.path()),
        fixture().display().to_string()
    );
    let host = Host::start_with_env(binary(), &config, &[("EXAMPLE_TOKEN", TOKEN)])
        .await
        .unwrap();
    let names = host.tool_names().await.unwrap();
    for tool in [
        "echo",
        "old_echo",
        "old_http_get",
        "old_sql_query",
        "old_read_file",
    ] {
        assert!(names.iter().any(|n| n == tool), "{tool} not in {names:?}");
    }
    let r = host
        .call_ok("old_echo", json!({"text": "hi", "times": 2}))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r), "hi hi");
    assert_eq!(mcp::structured(&r), json!({"text": "hi", "times": 2}));
    let r = host
        .call_ok("old_read_file", json!({"path": "notes.txt"}))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r), "line one\nline two\n");
    let r = host
        .call_ok(
            "old_sql_query",
            json!({"statement": "SELECT 40 + 2 AS answer"}),
        )
        .await
        .unwrap();
    assert!(mcp::text(&r).contains("42"), "{}", mcp::text(&r));
    let r = host
        .call_ok("old_http_get", json!({"path": "/status"}))
        .await
        .unwrap();
    assert!(!mcp::is_error(&r), "{}", mcp::text(&r));
    // The 0.1 plugin offers no prompts: only the 0.2 example's are listed.
    let prompts = host.client().list_all_prompts().await.unwrap();
    let prompt_names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(prompt_names, ["example-brief"]);

    // `inspect` names the contract each was built against.
    let inspect = |path: &Path| {
        let out = std::process::Command::new(binary())
            .args(["inspect", "--json"])
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let old = inspect(&fixture());
    assert_eq!(old["contract"], "0.1");
    assert_eq!(old["exports"], json!([]));
}
