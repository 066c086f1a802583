//! MCP over streamable HTTP: `plue-mcp serve --http` answers the JSON-RPC
//! handshake, `tools/list` and `tools/call` at `/mcp`, keeps sessions apart,
//! and accepts only the `Host` headers the operator allows (DNS rebinding).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(server_section: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("plue-mcp.toml");
    std::fs::write(
        &config,
        format!(
            "{server_section}\n[endpoints.web]\nurl = \"http://127.0.0.1:9\"\n[databases.main]\nurl = \"${{PLUE_HTTP_TEST_UNSET}}\"\n[directories.data]\npath = \"{}\"\n[plugins.example]\nhttp = [\"web\"]\nsql = [\"main\"]\ndirectories = [\"data\"]\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let port = plue_tests::ports::free_port();
    let child = Command::new(super::example::binary())
        .args(["serve", "--http", &format!("127.0.0.1:{port}"), "--config"])
        .arg(&config)
        .env(
            "PLUE_MCP_CACHE_DIR",
            plue_tests::mcp::cache_dir(super::example::binary()),
        )
        .env("RUST_LOG", "plue_mcp=warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}/mcp"),
        _dir: dir,
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("plue-mcp serve --http did not listen on port {port}");
}

/// POST one JSON-RPC message; returns (status, session id header, the JSON-RPC
/// message of the answer, whether it came as JSON or in an SSE stream).
async fn post(
    client: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: Value,
) -> (u16, Option<String>, Option<Value>) {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25");
    if let Some(s) = session {
        request = request.header("mcp-session-id", s);
    }
    let response = request.json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let text = response.text().await.unwrap();
    let message = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .chain(std::iter::once(text.trim()))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|v| v.get("id").is_some());
    (status, session, message)
}

async fn handshake(client: &reqwest::Client, url: &str) -> String {
    let (status, session, message) = post(
        client,
        url,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "0"}}}),
    )
    .await;
    assert_eq!(status, 200);
    let message = message.expect("an initialize result");
    assert_eq!(
        message["result"]["serverInfo"]["name"],
        "plue-observability"
    );
    let session = session.expect("a session id");
    let (status, _, _) = post(
        client,
        url,
        Some(&session),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);
    session
}

#[tokio::test]
async fn tools_over_streamable_http() {
    let server = start("").await;
    let client = reqwest::Client::new();
    let session = handshake(&client, &server.url).await;

    let (_, _, list) = post(
        &client,
        &server.url,
        Some(&session),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    let names: Vec<String> = list.unwrap()["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["echo", "http_get", "sql_query", "read_file"]);

    let (_, _, call) = post(
        &client,
        &server.url,
        Some(&session),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "over http", "times": 2}}}),
    )
    .await;
    let result = &call.unwrap()["result"];
    assert_eq!(result["content"][0]["text"], "over http over http");
    assert_eq!(
        result["structuredContent"],
        json!({"text": "over http", "times": 2})
    );

    let (_, _, bad) = post(
        &client,
        &server.url,
        Some(&session),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "echo", "arguments": {"times": 2}}}),
    )
    .await;
    let bad = bad.unwrap();
    assert_eq!(bad["result"]["isError"], true, "{bad}");

    // A second client gets its own session.
    let other = handshake(&client, &server.url).await;
    assert_ne!(other, session);
}

/// An initialize request with `host` as its `Host` header; the HTTP status.
async fn initialize_with_host(url: &str, host: &str) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("host", host)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"0"}}}"#)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn only_allowed_host_headers_are_served() {
    let server = start("").await;
    let status = initialize_with_host(&server.url, "evil.example").await;
    assert!((400..500).contains(&status), "status {status}");

    let server = start("[server]\nallowed_hosts = [\"mcp.internal.example\"]").await;
    assert_eq!(
        initialize_with_host(&server.url, "mcp.internal.example").await,
        200
    );
    let status = initialize_with_host(&server.url, "localhost").await;
    assert!((400..500).contains(&status), "status {status}");
}

#[tokio::test]
async fn an_empty_host_list_allows_no_host_and_a_star_allows_any() {
    let server = start("[server]\nallowed_hosts = []").await;
    assert_eq!(initialize_with_host(&server.url, "localhost").await, 403);
    assert_eq!(initialize_with_host(&server.url, "127.0.0.1").await, 403);
    let server = start("[server]\nallowed_hosts = [\"*\"]").await;
    assert_eq!(
        initialize_with_host(&server.url, "anything.example").await,
        200
    );
}

/// POST `body` as it is (not necessarily JSON) with extra headers: (status, content type, body).
async fn post_raw(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, String, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, kind, response.text().await.unwrap())
}

fn initialize(version: &str) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "e2e", "version": "0"}}})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn origins_outside_the_allowed_list_get_403() {
    let server = start("").await;
    for (origin, want) in [
        ("http://evil.example", 403),
        ("https://localhost.evil.example", 403),
        ("http://localhost:5173", 200),
        ("http://127.0.0.1:8080", 200),
    ] {
        let (status, _, body) =
            post_raw(&server.url, &[("origin", origin)], initialize("2025-11-25")).await;
        assert_eq!(status, want, "{origin}: {body}");
    }
    let server = start("[server]\nallowed_origins = [\"https://app.example.com:443\"]").await;
    let (status, _, _) = post_raw(
        &server.url,
        &[("origin", "https://app.example.com")],
        initialize("2025-11-25"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = post_raw(
        &server.url,
        &[("origin", "http://localhost:3000")],
        initialize("2025-11-25"),
    )
    .await;
    assert_eq!(
        status, 403,
        "the configured list replaces the loopback default"
    );
}

#[tokio::test]
async fn malformed_and_oversized_messages_get_json_rpc_errors() {
    let server = start("[server]\nmax_message_bytes = 100000").await;
    let deep = format!("{}{}", "[".repeat(500), "]".repeat(500)).into_bytes();
    for (body, status_want, code_want) in [
        (b"{\"jsonrpc\":\"2.0\",\"id\":1,".to_vec(), 400, -32700),
        (b"not json at all".to_vec(), 400, -32700),
        (deep, 400, -32700),
        (vec![b' '; 200_000], 413, -32600),
    ] {
        let (status, kind, text) = post_raw(&server.url, &[], body).await;
        assert_eq!(status, status_want, "{text}");
        assert!(kind.starts_with("application/json"), "{kind}");
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reply["error"]["code"], json!(code_want), "{reply}");
        assert_eq!(reply["id"], Value::Null);
    }
    // The server keeps serving.
    let session = handshake(&reqwest::Client::new(), &server.url).await;
    assert!(!session.is_empty());
}

#[tokio::test]
async fn sse_priming_only_for_sessions_that_negotiated_2025_11_25() {
    let server = start("").await;
    let primed = |text: &str| text.lines().any(|l| l.starts_with("retry:"));
    let (status, _, text) = post_raw(&server.url, &[], initialize("2025-11-25")).await;
    assert_eq!(status, 200);
    assert!(primed(&text), "2025-11-25 gets a priming event: {text}");
    let (status, _, text) = post_raw(&server.url, &[], initialize("2025-06-18")).await;
    assert_eq!(status, 200);
    assert!(!primed(&text), "2025-06-18 must not: {text}");
    // Every data line an old client gets is JSON (no empty `data:`).
    for line in text.lines().filter_map(|l| l.strip_prefix("data:")) {
        serde_json::from_str::<Value>(line.trim()).unwrap();
    }
}

#[tokio::test]
async fn a_second_delete_of_a_session_answers_404() {
    let server = start("").await;
    let client = reqwest::Client::new();
    let session = handshake(&client, &server.url).await;
    let delete = || {
        client
            .delete(&server.url)
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-11-25")
            .send()
    };
    let first = delete().await.unwrap().status().as_u16();
    assert_eq!(first, 204, "clients accept 200 or 204");
    assert_eq!(delete().await.unwrap().status().as_u16(), 404);
}
