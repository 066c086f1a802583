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
            super::example::binary()
                .parent()
                .unwrap()
                .join("plue-mcp-test-cache"),
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
