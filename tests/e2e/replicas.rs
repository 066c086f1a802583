//! Stateless replicas behind a load balancer: two `plue-mcp serve --http --stateless`
//! processes over the whole stack's real backends, a real nginx in front balancing
//! round-robin, and one client that lists the tools and makes 40 calls across the five
//! groups through nginx. Every call must answer as the official clients' plan expects
//! (`clients/plan.rs`), and both replicas' own `/metrics` must show that each served some
//! of them and that together they served all 40.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use plue_tests::mcp_http::HttpSession;
use plue_tests::nginx::Nginx;
use plue_tests::serve_http::HttpHost;
use plue_tests::stack::Stack;
use serde_json::{Value, json};

use crate::clients::plan;

const CALLS: usize = 40;

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_plue-mcp"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stateless_replicas_behind_nginx_share_one_clients_calls() -> Result<()> {
    let stack = Stack::start().await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("plue-mcp.toml");
    std::fs::write(&config, stack.config())?;
    let mut replicas = Vec::new();
    for name in ["a", "b"] {
        let log = dir.path().join(format!("replica-{name}.log"));
        let port = plue_tests::ports::free_port();
        let host = HttpHost::start_with(binary(), &config, &log, port, &[], &["--stateless"]);
        replicas.push(host.await?);
    }
    let upstreams: Vec<String> = replicas.iter().map(|r| r.authority().to_string()).collect();
    let nginx = Nginx::start(&upstreams).await?;

    let session = HttpSession::open(&format!("{}/mcp", nginx.url()), "replicas-e2e").await?;
    ensure!(
        session.id().is_none(),
        "a stateless server gave a session id: {:?}",
        session.id()
    );
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let status = reqwest::Client::builder()
            .no_proxy()
            .build()?
            .request(method.clone(), replicas[0].url())
            .header("accept", "text/event-stream")
            .send()
            .await?
            .status();
        ensure!(
            status == reqwest::StatusCode::METHOD_NOT_ALLOWED,
            "stateless {method} /mcp answered {status}, not 405"
        );
    }
    let listed = list_tools(&session).await?;
    let plan = plan::for_listed(&listed, &stack.log_facts())?;
    let succeeding: Vec<&Value> = plan["calls"]
        .as_array()
        .context("the plan has no calls")?
        .iter()
        .filter(|c| c["expect"] == "ok")
        .collect();

    let mut failures = Vec::new();
    for call in succeeding.iter().cycle().take(CALLS) {
        let tool = call["tool"]
            .as_str()
            .context("a planned call without a tool")?;
        if let Err(e) = check_call(&session, tool, call).await {
            failures.push(format!("{tool}: {e:#}"));
        }
    }
    let logs: Vec<String> = replicas.iter().map(HttpHost::log).collect();
    ensure!(
        failures.is_empty(),
        "{} of {CALLS} calls through nginx failed:\n{}\nreplica logs:\n{}\nnginx access log:\n{}",
        failures.len(),
        failures.join("\n"),
        logs.join("\n---\n"),
        nginx.access_log()
    );

    let mut served = Vec::new();
    for replica in &replicas {
        served.push(calls_served(replica.authority()).await?);
    }
    ensure!(
        served.iter().all(|&n| n > 0.0),
        "round-robin left a replica idle: calls served per replica {served:?}"
    );
    ensure!(
        served.iter().sum::<f64>() == CALLS as f64,
        "the replicas counted {served:?} calls, not {CALLS} in all"
    );
    Ok(())
}

/// `tools/list` through the session: every tool name.
async fn list_tools(session: &HttpSession) -> Result<Vec<String>> {
    let reply = session
        .post(json!({"jsonrpc": "2.0", "id": session.next_id(), "method": "tools/list"}))
        .await?;
    let answer = reply
        .answer()
        .with_context(|| format!("no answer to tools/list (HTTP {})", reply.status))?;
    let tools = answer
        .pointer("/result/tools")
        .and_then(Value::as_array)
        .with_context(|| format!("tools/list answered {answer}"))?;
    Ok(tools
        .iter()
        .filter_map(|t| t["name"].as_str().map(String::from))
        .collect())
}

/// One planned call: answered, not an error, and its text holds the plan's words.
async fn check_call(session: &HttpSession, tool: &str, call: &Value) -> Result<()> {
    let answer = session.call(tool, call["arguments"].clone()).await?;
    let result = answer
        .get("result")
        .with_context(|| format!("a protocol error: {answer}"))?;
    let text: String = result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    ensure!(result["isError"] != json!(true), "isError: {text}");
    for word in call["contains"].as_array().into_iter().flatten() {
        let word = word.as_str().unwrap_or_default();
        ensure!(text.contains(word), "the answer lacks {word:?}:\n{text}");
    }
    Ok(())
}

/// The calls a replica counted in its own `plue_mcp_calls_total`, every label together.
async fn calls_served(authority: &str) -> Result<f64> {
    let metrics = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .get(format!("http://{authority}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(metrics
        .lines()
        .filter(|l| l.starts_with("plue_mcp_calls_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}
