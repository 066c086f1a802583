//! JSON-RPC robustness over stdio: malformed, invalid, oversized and deeply
//! nested lines each get an error reply (`"id": null` when no id can be
//! read), and the server keeps answering; closing stdin ends it. A stdin that
//! cannot be polled (a file) is served the same, through tokio's stdin.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"0"}}}"#;

/// `plue-mcp serve` of the example plugin (with a 64 KiB message limit), its
/// configuration in `dir`, not yet spawned.
fn serve_example(dir: &std::path::Path) -> Command {
    let config = dir.join("plue-mcp.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nmax_message_bytes = 65536\n[endpoints.web]\nurl = \"http://127.0.0.1:9\"\n[databases.main]\nurl = \"${{PLUE_STDIO_TEST_UNSET}}\"\n[directories.data]\npath = \"{}\"\n[plugins.example]\nhttp = [\"web\"]\nsql = [\"main\"]\ndirectories = [\"data\"]\n",
            dir.display()
        ),
    )
    .unwrap();
    let mut command = Command::new(super::example::binary());
    command
        .args(["serve", "--config"])
        .arg(&config)
        .env("PLUE_MCP_CACHE_DIR", dir.join("cache"))
        .env("RUST_LOG", "plue_mcp=error");
    command
}

#[test]
fn every_bad_line_gets_an_error_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = serve_example(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |line: &str| {
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    };
    let mut next = || -> Value {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    };
    send(INITIALIZE);
    assert_eq!(next()["id"], json!(1));
    send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);

    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let long = format!(
        r#"{{"jsonrpc":"2.0","id":9,"method":"ping","params":{{"x":"{}"}}}}"#,
        "y".repeat(100_000)
    );
    // (line, expected error code, expected id)
    let cases = [
        (
            "{\"jsonrpc\":\"2.0\",\"id\":2,".to_string(),
            -32700,
            Value::Null,
        ),
        ("garbage".to_string(), -32700, Value::Null),
        (deep, -32700, Value::Null),
        (long, -32600, Value::Null),
        (
            r#"{"jsonrpc":"2.0","id":3,"result":1,"method":5}"#.to_string(),
            -32600,
            json!(3),
        ),
    ];
    for (line, code, id) in cases {
        send(&line);
        let reply = next();
        assert_eq!(reply["error"]["code"], json!(code), "{reply}");
        assert_eq!(reply["id"], id, "{reply}");
        // Still serving: a ping is answered.
        send(r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#);
        let pong = next();
        assert_eq!(pong["id"], json!("p"), "{pong}");
        assert!(pong.get("result").is_some(), "{pong}");
    }

    // Closing stdin ends the server promptly.
    drop(stdin);
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still running after stdin closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Lines from a file (a script piped through `<`, which cannot be polled)
/// are served like a client's: every request answered, a bad line
/// answered with an error, and the end of the file ends the server.
#[test]
fn a_file_as_stdin_is_served_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("requests.jsonl");
    let lines = [
        INITIALIZE,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"from a file","times":2}}}"#,
        "garbage",
        r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
    ];
    std::fs::write(&script, lines.join("\n") + "\n").unwrap();
    let started = Instant::now();
    let output = serve_example(dir.path())
        .stdin(std::fs::File::open(&script).unwrap())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", output.status);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "ended {:?} after its stdin did",
        started.elapsed()
    );
    let replies: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .filter(|reply: &Value| reply.get("id").is_some())
        .collect();
    // The handshake first; then requests run concurrently, so in any order.
    assert_eq!(replies.len(), 4, "{replies:?}");
    assert_eq!(replies[0]["id"], json!(1), "{replies:?}");
    let reply = |id: Value| {
        replies
            .iter()
            .find(|reply| reply["id"] == id)
            .unwrap_or_else(|| panic!("no reply with id {id}: {replies:?}"))
    };
    let echoed = &reply(json!(2))["result"];
    assert_eq!(
        echoed["structuredContent"],
        json!({"text": "from a file", "times": 2}),
        "{echoed}"
    );
    assert_eq!(
        echoed["content"][0]["text"],
        json!(["from a file"; 2].join(" ")),
        "{echoed}"
    );
    assert_eq!(reply(Value::Null)["error"]["code"], json!(-32700));
    assert!(reply(json!(3)).get("result").is_some(), "the ping");
}
