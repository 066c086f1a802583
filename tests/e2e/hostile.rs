//! Hostile plugins and hostile inputs end to end (issue 12): error text over
//! the output cap, log floods and forged log lines, terminal escapes in a
//! manifest, headers and paths a backend could be tricked by, a FIFO in a
//! granted directory, and a poisoned compile cache. Each attack ends refused
//! or bounded with a clear message, and the next ordinary call still works.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use plue_tests::mcp::{self, Host};
use plue_tests::web::WebServer;
use serde_json::json;

use super::example::binary;
use super::limits::misbehave_config;

/// The misbehave plugin behind a client that asked for every log level.
#[allow(deprecated)] // logging/setLevel: see host capability::log
async fn misbehave() -> Host {
    let host = Host::start(binary(), &misbehave_config()).await.unwrap();
    host.client()
        .set_level(rmcp::model::SetLevelRequestParams::new(
            rmcp::model::LoggingLevel::Debug,
        ))
        .await
        .unwrap();
    host
}

fn test_plugin(name: &str) -> String {
    Path::new(env!("PLUE_TEST_PLUGINS_DIR"))
        .join(format!("plue_test_{name}.wasm"))
        .display()
        .to_string()
}

/// Run `plue-mcp ARGS` in `dir`, killing it if it outlives `deadline`; returns
/// its output and how long it ran.
fn run_cli(dir: &Path, args: &[&str], deadline: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("PLUE_MCP_CACHE_DIR", plue_tests::mcp::cache_dir(binary()))
        .env("RUST_LOG", "plue_mcp=info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > deadline {
            child.kill().unwrap();
            panic!("plue-mcp {args:?} still ran after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

async fn still_fine(host: &Host) {
    assert_eq!(
        mcp::text(&host.call_ok("ok", json!({})).await.unwrap()),
        "still fine"
    );
}

/// Memory slots are reused and reset in place, not unmapped: a call must still
/// find its static at its initial value and memory it grows zeroed, whatever
/// the calls before it wrote there.
#[tokio::test]
async fn a_call_finds_nothing_an_earlier_call_left_in_memory() {
    let host = misbehave().await;
    for round in 1..=4 {
        let answer = mcp::text(&host.call_ok("remember", json!({})).await.unwrap());
        assert_eq!(answer, "calls 1, marks 0", "call {round}");
    }
}

#[tokio::test]
async fn error_text_over_the_output_cap_is_cut_and_names_the_limit() {
    let host = misbehave().await;
    let size = 10 * 1024 * 1024;
    let err = host
        .call_err("fail_big", json!({ "bytes": size }))
        .await
        .unwrap();
    assert!(
        err.len() <= 1_048_576 + 200,
        "{} bytes came back",
        err.len()
    );
    assert!(
        err.contains(&format!(
            "{size} bytes, over the output limit of 1048576 bytes (max_output_bytes)"
        )),
        "{}",
        &err[err.len() - 200..]
    );
    still_fine(&host).await;
}

#[tokio::test]
async fn a_log_flood_is_cut_to_the_call_budget_with_one_note() {
    let host = misbehave().await;
    let count = 100_000;
    let r = host
        .call_ok("chatter", json!({ "count": count, "message": "tick" }))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r), format!("logged {count} messages"));
    // Notifications travel apart from the answer: give the last ones time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = host.logs();
    let ticks = logs.iter().filter(|(_, _, d)| d == "tick").count();
    assert_eq!(ticks, 100, "{} notifications", logs.len());
    let notes: Vec<_> = logs
        .iter()
        .filter_map(|(_, _, d)| d.as_str().filter(|t| t.contains("dropped")))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with(&format!("{} log messages dropped", count - 100)),
        "{}",
        notes[0]
    );
    still_fine(&host).await;
}

#[test]
fn a_log_flood_through_call_writes_a_bounded_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plue-mcp.toml"), misbehave_config()).unwrap();
    let (out, _) = run_cli(
        dir.path(),
        &[
            "call",
            "chatter",
            r#"{"count": 1000000, "message": "tick"}"#,
        ],
        Duration::from_secs(60),
    );
    // A million host calls outlast the 1 s deadline on a busy machine, or not:
    // either way stderr holds the call's 100 messages and one note.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ticks = stderr.lines().filter(|l| l.contains(" tick ")).count();
    assert_eq!(ticks, 100, "{stderr}");
    let notes = stderr
        .lines()
        .filter(|l| l.contains("log messages dropped"))
        .count();
    assert_eq!(notes, 1, "{stderr}");
    assert!(stderr.lines().count() <= 110, "{stderr}");
}

#[test]
fn a_line_break_in_a_log_message_cannot_forge_an_audit_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plue-mcp.toml"), misbehave_config()).unwrap();
    let forged = "innocent\n2026-12-02T00:00:00.000000Z  INFO plue_mcp::audit: call tool=\"ok\" plugin=misbehave is_error=false\r\u{1b}[2K";
    let args = json!({ "count": 1, "message": forged }).to_string();
    let (out, _) = run_cli(
        dir.path(),
        &["call", "chatter", &args],
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Audit records are the lines that parse as JSON objects: exactly the one
    // the host wrote, whatever the plugin logged.
    let records: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.is_object())
        .collect();
    assert_eq!(records.len(), 1, "{stderr}");
    assert_eq!(records[0]["audit"], "call");
    assert_eq!(records[0]["tool"], "chatter");
    assert_eq!(records[0]["outcome"], "ok");
    // The plugin's message stays on one line, its line break, carriage
    // return and ESC escaped.
    let message = stderr.lines().find(|l| l.contains("innocent")).unwrap();
    assert!(
        message.contains("innocent\\n2026-12-02") && message.contains("\\r\\u{1b}[2K"),
        "{message}"
    );
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "{stderr:?}"
    );
}

#[tokio::test]
async fn a_line_break_reaches_the_client_escaped() {
    let host = misbehave().await;
    host.call_ok(
        "chatter",
        json!({ "count": 1, "message": "a\nb\r\u{1b}[31m" }),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = host.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].2, "a\\nb\\r\\u{1b}[31m");
}

#[test]
fn the_cli_prints_no_terminal_sequences_from_a_plugin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plue-mcp.toml"), misbehave_config()).unwrap();
    let wasm = test_plugin("misbehave");
    for args in [vec!["tools"], vec!["inspect", wasm.as_str()]] {
        let (out, _) = run_cli(dir.path(), &args, Duration::from_secs(60));
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The description is there, its escapes are not.
        assert!(stdout.contains("Answer normally."), "{args:?}: {stdout}");
        assert!(
            !stdout.contains(['\u{1b}', '\u{7}']) && !stdout.contains("pwned"),
            "{args:?}: {stdout:?}"
        );
    }
}

fn hostile_config(web: &str, data: &Path) -> String {
    format!(
        r#"
[endpoints.web]
url = "{web}"
headers = {{ X-Api-Key = "operator-key" }}
headers_allowed = ["X-Scope-OrgID"]
timeout_ms = 2000

[directories.data]
path = "{}"

[plugins.hostile]
path = "{}"
http = ["web"]
directories = ["data"]
call_timeout_ms = 1500
"#,
        data.display(),
        test_plugin("hostile")
    )
}

async fn hostile(web: &WebServer, data: &Path) -> Host {
    Host::start(binary(), &hostile_config(&web.url(), data))
        .await
        .unwrap()
}

#[tokio::test]
async fn headers_outside_the_allow_list_are_refused() {
    let web = WebServer::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let host = hostile(&web, data.path()).await;
    let fetch = |headers: serde_json::Value| {
        host.call("fetch", json!({ "path": "/headers", "headers": headers }))
    };
    for name in [
        "X_Forwarded_For",
        "Proxy_Authorization",
        "X-HTTP-Method-Override",
        "X-Original-URL",
        "X-Rewrite-URL",
        "X-Forwarded-Prefix",
        "X-Real-IP",
        "True-Client-IP",
    ] {
        let r = fetch(json!({ name: "evil" })).await.unwrap();
        assert!(mcp::is_error(&r), "{name}: {}", mcp::text(&r));
        assert!(
            mcp::text(&r).contains(&format!("header `{name}` cannot be set by a plugin")),
            "{name}: {}",
            mcp::text(&r)
        );
    }
    let r = fetch(json!({ "x_api_key": "plugin-key" })).await.unwrap();
    assert!(
        mcp::text(&r).contains("the operator configures it"),
        "{}",
        mcp::text(&r)
    );
    // Allowed headers arrive under their normalised names, next to the operator's.
    let r = fetch(json!({ "Accept": "text/plain", "x_scope_orgid": "tenant-1" }))
        .await
        .unwrap();
    let text = mcp::text(&r);
    assert!(!mcp::is_error(&r), "{text}");
    let text = text.strip_prefix("HTTP 200: ").unwrap_or(&text);
    for line in [
        "accept: text/plain",
        "x-scope-orgid: tenant-1",
        "x-api-key: operator-key",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from {text}"
        );
    }
    assert_eq!(
        web.seen.lock().unwrap().len(),
        1,
        "a refused request was sent"
    );
}

#[tokio::test]
async fn double_encoded_dots_and_path_parameters_are_refused() {
    let web = WebServer::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let host = hostile(&web, data.path()).await;
    for (path, why) in [
        ("/status/%252e%252e/admin", "encoded `%`"),
        ("/status/..;/admin", "`;` path parameters"),
    ] {
        let err = host
            .call_err("fetch", json!({ "path": path }))
            .await
            .unwrap();
        assert!(err.contains(why), "{path}: {err}");
    }
    assert!(web.seen.lock().unwrap().is_empty());
    let r = host
        .call_ok("fetch", json!({ "path": "/status" }))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r), "HTTP 200: service ok");
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[tokio::test]
async fn a_fifo_in_a_granted_directory_is_an_error_not_a_hang() {
    let web = WebServer::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    mkfifo(&data.path().join("pipe"));
    std::fs::write(data.path().join("file.txt"), "12345").unwrap();
    let host = hostile(&web, data.path()).await;
    let started = Instant::now();
    let err = host
        .call_err("read", json!({ "path": "pipe" }))
        .await
        .unwrap();
    assert!(err.contains("cannot read pipe"), "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    let r = host
        .call_ok("read", json!({ "path": "file.txt" }))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r), "read 5 bytes");
}

#[test]
fn call_exits_at_its_deadline_whatever_the_plugin_does() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plue-mcp.toml"), misbehave_config()).unwrap();
    // call_timeout_ms is 1000 in misbehave_config.
    let (out, elapsed) = run_cli(dir.path(), &["call", "spin"], Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1));
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("exceeded its time limit"));
}

#[test]
fn call_exits_at_its_deadline_when_a_fifo_is_read() {
    let data = tempfile::tempdir().unwrap();
    mkfifo(&data.path().join("pipe"));
    let dir = tempfile::tempdir().unwrap();
    let config = hostile_config("http://127.0.0.1:9", data.path());
    std::fs::write(dir.path().join("plue-mcp.toml"), config).unwrap();
    let (out, elapsed) = run_cli(
        dir.path(),
        &["call", "read", r#"{"path": "pipe"}"#],
        Duration::from_secs(20),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn serve_exits_when_its_client_closes_stdin_with_a_call_in_flight() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let config = misbehave_config().replace("call_timeout_ms = 1000", "call_timeout_ms = 60000");
    std::fs::write(dir.path().join("plue-mcp.toml"), config).unwrap();
    let mut child = Command::new(binary())
        .arg("serve")
        .current_dir(dir.path())
        .env("PLUE_MCP_CACHE_DIR", plue_tests::mcp::cache_dir(binary()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let messages = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "spin", "arguments": {}}}),
    ];
    for m in messages {
        writeln!(stdin, "{m}").unwrap();
    }
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let closed = Instant::now();
    drop(stdin);
    while child.try_wait().unwrap().is_none() {
        if closed.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("serve still ran 10 s after its client closed stdin");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // rmcp gives in-flight handlers up to 5 s to answer once stdin closes;
    // then nothing may hold the process.
    assert!(
        closed.elapsed() < Duration::from_secs(7),
        "{:?}",
        closed.elapsed()
    );
}

fn sha256_of(path: &str) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// The one cache entry whose name starts with `digest`.
fn cache_entry(cache: &Path, digest: &str) -> std::path::PathBuf {
    let found: Vec<_> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(digest))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

#[tokio::test]
async fn a_poisoned_compile_cache_entry_is_not_loaded() {
    let data = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("cache");
    let config = format!(
        "{}\n{}",
        misbehave_config(),
        hostile_config("http://127.0.0.1:9", data.path())
    );
    let env = [("PLUE_MCP_CACHE_DIR", cache_dir.to_str().unwrap())];
    let host = Host::start_with_env(binary(), &config, &env).await.unwrap();
    still_fine(&host).await;
    drop(host);
    // Someone who can write the cache puts another component's compiled code
    // (sealed, but for that component) under misbehave's name.
    let victim = cache_entry(&cache_dir, &sha256_of(&test_plugin("misbehave")));
    let other = cache_entry(&cache_dir, &sha256_of(&test_plugin("hostile")));
    let planted = std::fs::read(&other).unwrap();
    std::fs::write(&victim, &planted).unwrap();
    let host = Host::start_with_env(binary(), &config, &env).await.unwrap();
    let tools = host.tool_names().await.unwrap();
    assert!(tools.contains(&"chatter".to_string()), "{tools:?}");
    still_fine(&host).await;
    assert_ne!(
        std::fs::read(&victim).unwrap(),
        planted,
        "the entry was not rewritten"
    );
}

/// A bundled plugin's tool names, served from `cache_dir`, and the one copy of a
/// bundled artifact the host keeps there.
async fn bundled_tools(plugin: &str, endpoint: &str, cache_dir: &Path) -> (Vec<String>, PathBuf) {
    let config = format!(
        "[endpoints.{endpoint}]\nurl = \"http://127.0.0.1:9\"\n[plugins.{plugin}]\nhttp = [\"{endpoint}\"]\n"
    );
    let env = [("PLUE_MCP_CACHE_DIR", cache_dir.to_str().unwrap())];
    let host = Host::start_with_env(binary(), &config, &env).await.unwrap();
    let tools = host.tool_names().await.unwrap();
    drop(host);
    (tools, cache_entry(cache_dir, "embedded-"))
}

/// Bundled plugins run from a copy of their compiled artifact in the cache (mapped,
/// not read). Someone who can write the cache puts another bundled plugin's artifact
/// (valid compiled code, for the same engine) under prometheus' name: the host
/// replaces the copy and still serves prometheus.
#[tokio::test]
async fn a_planted_copy_of_a_bundled_artifact_is_replaced_not_run() {
    let cache = tempfile::tempdir().unwrap();
    let (victim_dir, other_dir) = (cache.path().join("a"), cache.path().join("b"));
    let (tools, victim) = bundled_tools("prometheus", "prometheus", &victim_dir).await;
    assert!(tools.iter().any(|t| t == "prometheus_query"), "{tools:?}");
    let (other_tools, other) = bundled_tools("logs", "loki", &other_dir).await;
    assert!(
        other_tools.iter().any(|t| t == "find_errors"),
        "{other_tools:?}"
    );
    let planted = std::fs::read(&other).unwrap();
    std::fs::write(&victim, &planted).unwrap();
    let (again, copy) = bundled_tools("prometheus", "prometheus", &victim_dir).await;
    assert_eq!(again, tools, "the planted artifact was run");
    assert_eq!(copy, victim);
    assert_ne!(
        std::fs::read(&victim).unwrap(),
        planted,
        "the copy was not replaced"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_cache_directory_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("cache");
    std::fs::create_dir(&cache_dir).unwrap();
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let env = [("PLUE_MCP_CACHE_DIR", cache_dir.to_str().unwrap())];
    let host = Host::start_with_env(binary(), &misbehave_config(), &env)
        .await
        .unwrap();
    still_fine(&host).await;
    let written: Vec<_> = std::fs::read_dir(&cache_dir).unwrap().collect();
    assert!(written.is_empty(), "{written:?}");
}

#[tokio::test]
async fn response_bodies_are_held_to_the_hosts_memory_budget() {
    let web = WebServer::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = format!(
        "[server]\nmax_response_memory_mib = 1\n{}",
        hostile_config(&web.url(), data.path())
    );
    let host = Host::start(binary(), &config).await.unwrap();
    // Under the endpoint's 16 MiB cap, over the host's 1 MiB for all calls.
    let err = host
        .call_err("fetch", json!({ "path": "/big/2048" }))
        .await
        .unwrap();
    assert!(
        err.contains(
            "host's memory for response bodies (1 MiB across all calls, max_response_memory_mib"
        ),
        "{err}"
    );
    let r = host
        .call_ok("fetch", json!({ "path": "/big/200" }))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r).len(), "HTTP 200: ".len() + 200 * 1024);
}

#[tokio::test]
async fn a_backend_that_never_answers_is_cut_by_the_deadline() {
    let web = WebServer::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let host = hostile(&web, data.path()).await;
    let started = Instant::now();
    // The endpoint waits 2 s for an answer; the call's deadline of 1.5 s comes first.
    let err = host
        .call_err("fetch", json!({ "path": "/hang" }))
        .await
        .unwrap();
    assert!(
        err.contains("exceeded its time limit") && err.contains("1500 ms"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let r = host
        .call_ok("fetch", json!({ "path": "/status" }))
        .await
        .unwrap();
    assert_eq!(mcp::text(&r), "HTTP 200: service ok");
}
