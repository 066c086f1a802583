//! Operability of `serve`: `/healthz` and `/readyz` (unavailable backends listed
//! without failing it) on the HTTP listener and on `--metrics ADDR` beside stdio; a
//! call cancelled with `notifications/cancelled` frees its slot and instance at once;
//! on SIGTERM a call in flight still gets its answer while the server stops, and one
//! past the grace period does not hold the process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use plue_tests::mcp_http::HttpSession;
use plue_tests::serve_http::HttpHost;
use serde_json::{Value, json};

fn misbehave(timeout_ms: u64, server: &str) -> String {
    let wasm = std::path::Path::new(env!("PLUE_TEST_PLUGINS_DIR")).join("plue_test_misbehave.wasm");
    format!(
        "[server]\n{server}\n\n[endpoints.loki]\nurl = \"${{PLUE_OPERABILITY_UNSET}}\"\n\n[plugins.misbehave]\npath = \"{}\"\ncall_timeout_ms = {timeout_ms}\n\n[plugins.logs]\nhttp = [\"loki\"]\n",
        wasm.display()
    )
}

async fn start(config: &str) -> Result<(HttpHost, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("plue-mcp.toml");
    std::fs::write(&path, config)?;
    let host = HttpHost::start(
        super::example::binary(),
        &path,
        &dir.path().join("stderr.log"),
    )
    .await?;
    Ok((host, dir))
}

/// `http://127.0.0.1:PORT` of a host's `/mcp` URL.
fn base_url(host: &HttpHost) -> String {
    host.url().trim_end_matches("/mcp").to_string()
}

async fn get(url: &str) -> Result<(u16, String)> {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .get(url)
        .send()
        .await?;
    Ok((response.status().as_u16(), response.text().await?))
}

/// The value of the one `/metrics` line starting with `series` (absent: 0).
async fn metric(base: &str, series: &str) -> Result<f64> {
    let (_, text) = get(&format!("{base}/metrics")).await?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0))
}

fn check_readiness(status: u16, body: &str) -> Result<()> {
    ensure!(status == 200, "/readyz {status}: {body}");
    let body: Value = serde_json::from_str(body)?;
    ensure!(body["ready"] == true, "{body}");
    let plugins: Vec<&str> = body["plugins"]
        .as_array()
        .context("plugins")?
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    ensure!(plugins == ["logs", "misbehave"], "{body}");
    let unavailable = body["unavailable"].to_string();
    ensure!(
        unavailable.contains("logs") && unavailable.contains("PLUE_OPERABILITY_UNSET"),
        "the unset Loki URL is listed: {body}"
    );
    Ok(())
}

#[tokio::test]
async fn health_and_readiness_over_http_and_beside_stdio() -> Result<()> {
    let (host, _dir) = start(&misbehave(1000, "")).await?;
    let base = base_url(&host);
    ensure!(get(&format!("{base}/healthz")).await? == (200, "ok\n".into()));
    let (status, body) = get(&format!("{base}/readyz")).await?;
    check_readiness(status, &body)?;
    // The endpoints answer whatever the Host header (the guard covers /mcp only).
    let (_, metrics) = get(&format!("{base}/metrics")).await?;
    ensure!(
        metrics.contains("plue_mcp_build_info{version="),
        "{metrics}"
    );
    ensure!(
        metrics.contains(r#"plue_mcp_backend_up{plugin="logs",endpoint="loki"} 0"#),
        "an unconfigured backend is down: {metrics}"
    );

    // stdio with --metrics: the same endpoints on their own listener.
    let port = plue_tests::ports::free_port();
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("plue-mcp.toml"), misbehave(1000, ""))?;
    let mut child = tokio::process::Command::new(super::example::binary())
        .args([
            "serve",
            "--metrics",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(dir.path().join("plue-mcp.toml"))
        .env(
            "PLUE_MCP_CACHE_DIR",
            plue_tests::mcp::cache_dir(super::example::binary()),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let (status, body) = loop {
        match get(&format!("{base}/readyz")).await {
            Ok(answer) => break answer,
            Err(_) if started.elapsed() < Duration::from_secs(60) => {
                if let Some(status) = child.try_wait()? {
                    bail!("serve --metrics exited: {status}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e),
        }
    };
    check_readiness(status, &body)?;
    // The listener starts just before the stdio session does.
    let started = Instant::now();
    while metric(&base, r#"plue_mcp_sessions{transport="stdio"}"#).await? != 1.0 {
        ensure!(
            started.elapsed() < Duration::from_secs(10),
            "no stdio session counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(child.stdin.take());
    Ok(())
}

#[tokio::test]
async fn a_cancelled_call_frees_its_slot_at_once() -> Result<()> {
    let slots = 2;
    let (host, _dir) = start(&misbehave(
        60_000,
        &format!("max_concurrent_calls = {slots}"),
    ))
    .await?;
    let base = base_url(&host);
    let session = Arc::new(HttpSession::open(host.url(), "cancel-e2e").await?);
    // Fill every slot with a call that would run for a minute.
    let mut spinning = Vec::new();
    for _ in 0..slots {
        let id = session.next_id();
        let s = session.clone();
        spinning.push((
            id,
            tokio::spawn(async move { s.call_with(id, "spin", json!({}), None).await }),
        ));
    }
    let started = Instant::now();
    while metric(&base, "plue_mcp_calls_in_flight").await? < f64::from(slots) {
        ensure!(
            started.elapsed() < Duration::from_secs(20),
            "the spins never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (id, _) in &spinning {
        ensure!(session.cancel(*id).await? == 202);
    }
    // As many calls as there are slots run now, not after the minute.
    let started = Instant::now();
    let calls = (0..slots).map(|_| {
        let s = session.clone();
        async move { s.call("ok", json!({})).await }
    });
    let answers = tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(calls))
        .await
        .context("the cancelled calls still hold their slots")?;
    for answer in answers {
        let answer = answer?;
        ensure!(
            answer["result"]["content"][0]["text"] == "still fine",
            "{answer}"
        );
    }
    ensure!(started.elapsed() < Duration::from_secs(10));
    ensure!(metric(&base, "plue_mcp_calls_in_flight").await? == 0.0);
    let cancelled = metric(
        &base,
        r#"plue_mcp_calls_total{plugin="misbehave",tool="spin",outcome="cancelled",status="499"}"#,
    )
    .await?;
    ensure!(
        cancelled == f64::from(slots),
        "cancelled calls counted: {cancelled}"
    );
    for (_, task) in spinning {
        task.abort();
    }
    Ok(())
}

#[tokio::test]
async fn on_sigterm_calls_in_flight_finish_and_the_server_stops() -> Result<()> {
    // The call (stopped at its 2 s deadline) ends inside the 10 s grace: it is answered.
    let (mut host, _dir) = start(&misbehave(2000, "shutdown_grace_ms = 10000")).await?;
    let base = base_url(&host);
    let session = Arc::new(HttpSession::open(host.url(), "shutdown-e2e").await?);
    let s = session.clone();
    let call = tokio::spawn(async move { s.call("spin", json!({})).await });
    let started = Instant::now();
    while metric(&base, "plue_mcp_calls_in_flight").await? < 1.0 {
        ensure!(
            started.elapsed() < Duration::from_secs(20),
            "the spin never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    host.terminate()?;
    let answer = call.await??;
    ensure!(
        answer["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("exceeded its time limit")),
        "the call in flight got its own answer: {answer}"
    );
    let status = host.wait_exit(Duration::from_secs(5)).await?;
    ensure!(
        status.is_some_and(|s| s.success()),
        "exit: {status:?}\n{}",
        host.log()
    );
    ensure!(
        get(&format!("{base}/healthz")).await.is_err(),
        "nothing listens any more"
    );

    // A call longer than the grace period does not hold the process.
    let (mut host, _dir) = start(&misbehave(60_000, "shutdown_grace_ms = 500")).await?;
    let base = base_url(&host);
    let session = Arc::new(HttpSession::open(host.url(), "shutdown-e2e").await?);
    let s = session.clone();
    let call = tokio::spawn(async move { s.call("spin", json!({})).await });
    while metric(&base, "plue_mcp_calls_in_flight").await? < 1.0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopping = Instant::now();
    host.terminate()?;
    let status = host.wait_exit(Duration::from_secs(5)).await?;
    ensure!(
        status.is_some(),
        "still running 5 s after SIGTERM with a 500 ms grace"
    );
    ensure!(
        stopping.elapsed() < Duration::from_secs(3),
        "{:?}",
        stopping.elapsed()
    );
    call.abort();
    Ok(())
}

#[tokio::test]
async fn a_long_call_with_a_progress_token_reports_progress() -> Result<()> {
    let (host, _dir) = start(&misbehave(5000, "")).await?;
    let session = HttpSession::open(host.url(), "progress-e2e").await?;
    let id = session.next_id();
    let reply = session
        .call_with(id, "spin", json!({}), Some(json!({"progressToken": "p-1"})))
        .await?;
    let progress: Vec<f64> = reply
        .messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .map(|m| {
            ensure!(m["params"]["progressToken"] == "p-1", "{m}");
            m["params"]["progress"].as_f64().context("progress")
        })
        .collect::<Result<_>>()?;
    // A 5 s call, a notification every 2 s: at 2 and 4 s, increasing, then the answer.
    ensure!(
        progress.len() == 2,
        "progress {progress:?} in {:?}",
        reply.messages
    );
    ensure!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
    ensure!(
        reply.answer().is_some_and(|a| a["id"] == id),
        "{:?}",
        reply.messages
    );
    // Without a token, no notifications.
    let reply = session
        .call_with(session.next_id(), "ok", json!({}), None)
        .await?;
    ensure!(reply.messages.len() == 1, "{:?}", reply.messages);
    Ok(())
}
