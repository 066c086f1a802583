//! The host observes itself: a real Prometheus scrapes `plue-mcp serve --http`'s
//! `/metrics` while a client makes a known mix of calls (answers, invalid arguments,
//! plugin errors, timeouts); Prometheus's stored counters equal those calls, the shipped
//! recording rules (`deploy/prometheus/rules/plue-mcp-recording.yml`) evaluate on them,
//! and the prometheus group's own `error_analysis` and `latency_analysis`, called
//! through the host and pointed at `plue_mcp_*` by their settings, report them.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use plue_tests::check::num;
use plue_tests::mcp_http::HttpSession;
use plue_tests::scraper::Scraper;
use plue_tests::serve_http::HttpHost;
use serde_json::{Value, json};

const JOB: &str = "plue-mcp";

/// One kind of call the test makes, and how the host must count it.
struct Kind {
    tool: &'static str,
    arguments: Value,
    outcome: &'static str,
    /// The HTTP-style status the host gives the outcome.
    status: &'static str,
    /// Calls of this kind in the measured round.
    measured: u32,
}

fn kinds() -> Vec<Kind> {
    vec![
        Kind {
            tool: "ok",
            arguments: json!({}),
            outcome: "ok",
            status: "200",
            measured: 6,
        },
        Kind {
            tool: "flood",
            arguments: json!({"bytes": "many"}),
            outcome: "invalid_arguments",
            status: "400",
            measured: 2,
        },
        Kind {
            tool: "fail_big",
            arguments: json!({"bytes": 10}),
            outcome: "tool_error",
            status: "502",
            measured: 2,
        },
        Kind {
            tool: "spin",
            arguments: json!({}),
            outcome: "failed",
            status: "500",
            measured: 2,
        },
    ]
}

fn config(prometheus: &str) -> String {
    format!(
        r#"[endpoints.prometheus]
url = "{prometheus}"

[plugins.prometheus]
http = ["prometheus"]

[plugins.prometheus.settings]
requests_metric = "plue_mcp_calls_total"
duration_metric = "plue_mcp_call_duration_seconds"
{misbehave}"#,
        misbehave = super::limits::misbehave_config(),
    )
}

/// Makes each call of `kinds` `times(kind)` times, checking each answer's kind; returns
/// the wall time of the whole round.
async fn round(
    session: &HttpSession,
    kinds: &[Kind],
    times: impl Fn(&Kind) -> u32,
) -> Result<Duration> {
    let started = Instant::now();
    for kind in kinds {
        for _ in 0..times(kind) {
            let answer = session.call(kind.tool, kind.arguments.clone()).await?;
            let is_error = answer["result"]["isError"] == true;
            ensure!(
                is_error == (kind.outcome != "ok"),
                "{} answered {answer}",
                kind.tool
            );
        }
    }
    Ok(started.elapsed())
}

/// The value of the one series `promql` selects at `time`.
async fn value_at(scraper: &Scraper, promql: &str, time: f64) -> Result<f64> {
    let result = scraper.query_at(promql, Some(time)).await?;
    ensure!(result.len() == 1, "`{promql}` selects {result:?}");
    result[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("`{promql}`: {result:?}"))
}

fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn prometheus_scrapes_the_host_and_its_own_tools_report_the_calls() -> Result<()> {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/prometheus/rules/plue-mcp-recording.yml");
    let scraper = Scraper::start(JOB, &[&rules]).await?;
    let dir = tempfile::tempdir()?;
    let config_path = dir.path().join("plue-mcp.toml");
    std::fs::write(&config_path, config(&scraper.url()))?;
    let host = HttpHost::start(
        super::example::binary(),
        &config_path,
        &dir.path().join("stderr.log"),
    )
    .await?;
    let target = host
        .url()
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_string();
    scraper.set_targets(&[&target])?;
    let session = HttpSession::open(host.url(), "metrics-e2e").await?;
    let kinds = kinds();

    // A first call of each kind creates its series; Prometheus sees them before the
    // measured round, so every series' increase in the window is that round's calls.
    round(&session, &kinds, |_| 1).await?;
    scraper.scraped_after(now_seconds()).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let wall = round(&session, &kinds, |k| k.measured).await?;
    let at = scraper.scraped_after(now_seconds()).await?;

    // What Prometheus stored is exactly the calls made.
    let total: u32 = kinds.iter().map(|k| k.measured).sum();
    for kind in &kinds {
        let selector = format!(
            r#"plue_mcp_calls_total{{job="{JOB}",plugin="misbehave",tool="{}",outcome="{}",status="{}"}}"#,
            kind.tool, kind.outcome, kind.status
        );
        let stored = value_at(&scraper, &selector, at).await?;
        if stored != f64::from(kind.measured + 1) {
            let all = scraper.query_at("plue_mcp_calls_total", Some(at)).await?;
            bail!(
                "{selector} = {stored} at {at}, expected {}; stored: {all:#?}\nhost log:\n{}",
                kind.measured + 1,
                host.log()
            );
        }
    }
    let spins = kinds.iter().find(|k| k.tool == "spin").unwrap().measured + 1;
    let timeouts = value_at(
        &scraper,
        r#"plue_mcp_limit_hits_total{plugin="misbehave",tool="spin",limit="timeout"}"#,
        at,
    )
    .await?;
    ensure!(
        timeouts == f64::from(spins),
        "timeouts {timeouts}, expected {spins}"
    );
    let counted = value_at(
        &scraper,
        r#"sum(plue_mcp_call_duration_seconds_count{plugin="misbehave"})"#,
        at,
    )
    .await?;
    ensure!(
        counted == f64::from(total + kinds.len() as u32),
        "histogram count {counted}"
    );

    // The shipped recording rules read these names: every spin and fail_big call is an
    // error; `ok`'s calls are counted by outcome (and, without errors, have no ratio).
    let rules = [
        (
            r#"plugin_tool:plue_mcp_calls_errors:ratio_rate5m{plugin="misbehave",tool="spin"}"#,
            Some(1.0),
        ),
        (
            r#"plugin_tool:plue_mcp_calls_errors:ratio_rate5m{plugin="misbehave",tool="fail_big"}"#,
            Some(1.0),
        ),
        (
            r#"plugin_tool:plue_mcp_calls_errors:ratio_rate5m{plugin="misbehave",tool="ok"}"#,
            None,
        ),
        (
            r#"plugin_tool_outcome:plue_mcp_calls:rate5m{plugin="misbehave",tool="ok",outcome="ok"} > bool 0"#,
            Some(1.0),
        ),
        (
            r#"plugin_tool_limit:plue_mcp_limit_hits:rate5m{plugin="misbehave",tool="spin",limit="timeout"} > bool 0"#,
            Some(1.0),
        ),
    ];
    let started = Instant::now();
    for (rule, expected) in rules {
        loop {
            let values = scraper.query(rule).await?;
            let value = values
                .first()
                .and_then(|v| v["value"][1].as_str()?.parse::<f64>().ok());
            if value == expected && started.elapsed() > Duration::from_secs(2) {
                break;
            }
            ensure!(
                started.elapsed() < Duration::from_secs(15),
                "{rule} = {value:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // The prometheus group reads the host's metrics as it reads any service's.
    let window = json!({"job": JOB, "duration": "1m", "time": format!("{at:.3}")});
    let errors = session.call("error_analysis", window.clone()).await?;
    let errors = &errors["result"]["structuredContent"];
    let share = |outcome: &dyn Fn(&Kind) -> bool| {
        let part: u32 = kinds
            .iter()
            .filter(|k| outcome(k))
            .map(|k| k.measured)
            .sum();
        f64::from(part) / f64::from(total)
    };
    let server = share(&|k| k.status.starts_with('5'));
    let client = share(&|k| k.status.starts_with('4'));
    // rate() extrapolates each series to the window's edges by a factor that depends
    // on its own first value, so shares are within a tenth of the calls' shares.
    let near = |reported: f64, expected: f64| (reported - expected).abs() <= expected / 10.0;
    let reported = num(errors, "/total/server_error_ratio")?;
    ensure!(
        near(reported, server),
        "5xx share {reported}, expected {server}: {errors}"
    );
    let reported = num(errors, "/total/client_error_ratio")?;
    ensure!(
        near(reported, client),
        "4xx share {reported}, expected {client}: {errors}"
    );
    // rate() extrapolates to the window's edges: at least the calls made, not double.
    let requests = num(errors, "/total/request_rate")? * 60.0;
    ensure!(
        requests >= f64::from(total) - 1e-6 && requests < f64::from(total) * 2.0,
        "about {requests} requests reported, {total} made: {errors}"
    );

    let latency = session.call("latency_analysis", window).await?;
    let latency = &latency["result"]["structuredContent"];
    let spins = f64::from(kinds.iter().find(|k| k.tool == "spin").unwrap().measured);
    // Each spin ran to its 1000 ms deadline; no call took longer than the client waited
    // (a tenth either way for rate()'s per-series extrapolation, as above).
    let mean = num(latency, "/overall/mean_ms")?;
    let (low, high) = (
        spins * 1000.0 / f64::from(total) * 0.9,
        wall.as_secs_f64() * 1000.0 / f64::from(total) * 1.1,
    );
    ensure!(
        (low..=high).contains(&mean),
        "mean {mean} ms, expected between {low} and {high}: {latency}"
    );
    let p99 = num(latency, "/overall/p99_ms")?;
    ensure!(
        (1000.0..=2500.0).contains(&p99),
        "p99 {p99} ms should fall in the spins' bucket (1 s, 2.5 s]: {latency}"
    );
    let p50 = num(latency, "/overall/p50_ms")?;
    ensure!(p50 < 1000.0, "p50 {p50} ms: most calls are fast: {latency}");
    Ok(())
}
