//! The audit trail in a file: after a mixed session over stdio and one over HTTP
//! (answers, invalid arguments, plugin errors, a crash, an unknown tool), the file holds
//! every call exactly once with its caller, plugin digest, outcome and the sha256 of its
//! arguments, each line written before the client got the answer; with a tiny size the
//! file rotates and, across the kept files, still holds every call once.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use plue_tests::mcp::Host;
use plue_tests::mcp_http::HttpSession;
use plue_tests::serve_http::HttpHost;
use serde_json::{Value, json};

/// One call of the mixed session: tool, arguments, and the outcome it must be recorded with.
fn session_calls() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        ("ok", json!({}), "ok"),
        ("flood", json!({"bytes": "many"}), "invalid_arguments"),
        ("fail_big", json!({"bytes": 10}), "tool_error"),
        ("crash", json!({}), "failed"),
        ("no_such_tool", json!({"x": 1}), "unknown_tool"),
        ("flood", json!({"bytes": 5}), "ok"),
    ]
}

fn wasm() -> std::path::PathBuf {
    Path::new(env!("PLUE_TEST_PLUGINS_DIR")).join("plue_test_misbehave.wasm")
}

fn config(audit: &str) -> String {
    format!(
        "[audit]\n{audit}\n\n[plugins.misbehave]\npath = \"{}\"\ncall_timeout_ms = 1000\n",
        wasm().display()
    )
}

fn sha256(bytes: &[u8]) -> Result<String> {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    child.stdin.take().unwrap().write_all(bytes)?;
    let out = child.wait_with_output()?;
    Ok(String::from_utf8(out.stdout)?
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}

fn records(path: &Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).with_context(|| format!("not JSON: {l}")))
        .collect()
}

/// Checks that `records` are exactly `calls` made over `transport`, in order.
fn check_records(
    records: &[Value],
    calls: &[(&str, Value, &str)],
    transport: &str,
    client: &str,
    session: Option<&str>,
) -> Result<()> {
    let digest = sha256(&std::fs::read(wasm())?)?;
    ensure!(
        records.len() == calls.len(),
        "{} records for {} calls over {transport}: {records:#?}",
        records.len(),
        calls.len()
    );
    for (record, (tool, arguments, outcome)) in records.iter().zip(calls) {
        let context = || format!("{tool} over {transport}: {record}");
        ensure!(record["audit"] == "call", "{}", context());
        ensure!(record["transport"] == transport, "{}", context());
        ensure!(record["client"] == client, "{}", context());
        ensure!(record["tool"] == *tool, "{}", context());
        ensure!(record["outcome"] == *outcome, "{}", context());
        ensure!(
            record["session"].as_str() == session,
            "session: {}",
            context()
        );
        ensure!(record.get("identity").is_none(), "{}", context());
        ensure!(
            chrono::DateTime::parse_from_rfc3339(record["time"].as_str().unwrap_or("")).is_ok(),
            "{}",
            context()
        );
        ensure!(
            record.get("arguments").is_none(),
            "arguments only on opt-in: {}",
            context()
        );
        ensure!(
            record["arguments_sha256"] == sha256(arguments.to_string().as_bytes())?,
            "{}",
            context()
        );
        if *outcome == "unknown_tool" {
            ensure!(record.get("plugin").is_none(), "{}", context());
        } else {
            ensure!(record["plugin"] == "misbehave", "{}", context());
            ensure!(record["plugin_sha256"] == digest, "{}", context());
            ensure!(record["duration_ms"].as_f64().is_some(), "{}", context());
        }
        let bytes = record["bytes"].as_u64().context("bytes")?;
        match (*tool, *outcome) {
            ("ok", "ok") => ensure!(bytes == "still fine".len() as u64, "{}", context()),
            ("flood", "ok") => ensure!(bytes == 5, "{}", context()),
            _ => {}
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_call_is_in_the_file_once_over_stdio_and_http() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("audit.jsonl");
    let config = config(&format!("file = {:?}", file.display().to_string()));
    let calls = session_calls();

    // stdio, with the rmcp client: each line is there when the answer arrives.
    let host = Host::start(super::example::binary(), &config).await?;
    for (n, (tool, arguments, _)) in calls.iter().enumerate() {
        let _ = host.call(tool, arguments.clone()).await;
        let written = records(&file)?.len();
        ensure!(
            written == n + 1,
            "after call {n} ({tool}) the file holds {written} records"
        );
    }
    // The name the rmcp client gives in `initialize`.
    let client = rmcp::ClientHandler::get_info(&plue_tests::mcp::Recorder::default())
        .client_info
        .name;
    drop(host);
    check_records(&records(&file)?, &calls, "stdio", &client, None)?;

    // HTTP, on the same file, with its session id.
    let config_path = dir.path().join("http.toml");
    std::fs::write(&config_path, &config)?;
    let log = dir.path().join("stderr.log");
    let http = HttpHost::start(super::example::binary(), &config_path, &log).await?;
    let session = HttpSession::open(http.url(), "audit-e2e").await?;
    for (tool, arguments, _) in &calls {
        session.call(tool, arguments.clone()).await?;
    }
    let all = records(&file)?;
    check_records(
        &all[calls.len()..],
        &calls,
        "http",
        "audit-e2e",
        session.id(),
    )?;
    ensure!(
        !http.log().contains(r#""audit":"call""#),
        "with a file, records stay off stderr unless asked:\n{}",
        http.log()
    );
    Ok(())
}

#[tokio::test]
async fn a_small_file_rotates_and_keeps_every_call_once() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("audit.jsonl");
    // About 2 KiB per file: a few records each.
    let max_bytes = 2048.0;
    let config = config(&format!(
        "file = {:?}\nmax_file_mib = {}\nkeep = 20\ninclude_arguments = true",
        file.display().to_string(),
        max_bytes / 1048576.0
    ));
    let host = Host::start(super::example::binary(), &config).await?;
    let calls = 30;
    for n in 0..calls {
        host.call("flood", json!({"bytes": n})).await?;
    }
    drop(host);
    let mut seen = Vec::new();
    let mut files = 0;
    for k in (0..=20).rev() {
        let path = if k == 0 {
            file.clone()
        } else {
            file.with_file_name(format!("audit.jsonl.{k}"))
        };
        if !path.exists() {
            continue;
        }
        files += 1;
        let size = std::fs::metadata(&path)?.len();
        ensure!(
            size as f64 <= max_bytes,
            "{} is {size} bytes",
            path.display()
        );
        for record in records(&path)? {
            ensure!(
                record["arguments"]["bytes"].is_u64(),
                "arguments recorded: {record}"
            );
            ensure!(
                record["arguments_sha256"] == sha256(record["arguments"].to_string().as_bytes())?,
                "{record}"
            );
            seen.push(record["arguments"]["bytes"].as_u64().unwrap());
        }
    }
    ensure!(files > 2, "only {files} files: no rotation");
    ensure!(
        seen == (0..calls).collect::<Vec<_>>(),
        "oldest file first, every call once: {seen:?}"
    );
    Ok(())
}
