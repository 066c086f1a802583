//! End-to-end tests of the prometheus tool group: `plue-mcp serve` over MCP against a
//! real Prometheus holding data whose answers are known exactly
//! (`plue_tests::prometheus`): rates, error shares and latency quantiles, targets
//! (one down, one dropped), alerts (firing and pending), rules (one broken), metadata;
//! and the failures an agent meets: bad PromQL, a stopped Prometheus, no data, caps.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use plue_tests::check::{Cases, num};
use plue_tests::declared;
use plue_tests::image::{png_of, series_color};
use plue_tests::mcp::{self, Host};
use plue_tests::prometheus::{PromServer, expected};
use plue_tests::proxy::Route;
use serde_json::{Value, json};

use expected::{JobAnswers, close};

fn config(url: &str) -> String {
    format!(
        "[endpoints.prometheus]\nurl = \"{url}\"\n\n[plugins.prometheus]\nhttp = [\"prometheus\"]\n"
    )
}

async fn host(url: &str) -> Result<Host> {
    Host::start(Path::new(env!("CARGO_BIN_EXE_plue-mcp")), &config(url)).await
}

/// Start Prometheus off the async runtime (it blocks while backfilling and waiting).
async fn prometheus() -> Result<PromServer> {
    tokio::task::spawn_blocking(PromServer::start).await?
}

/// `tools/call` that must succeed: (text, structured content).
async fn ok(host: &Host, tool: &str, args: Value) -> Result<(String, Value)> {
    host.answer(tool, args, &[]).await
}

fn check_close(what: &str, got: f64, want: f64) -> Result<()> {
    ensure!(close(got, want), "{what}: got {got}, want {want}");
    Ok(())
}

fn check_text(what: &str, text: &str, needles: &[&str]) -> Result<()> {
    for n in needles {
        ensure!(text.contains(n), "{what}: `{n}` missing from:\n{text}");
    }
    ensure!(!text.contains("NaN"), "{what}: NaN in:\n{text}");
    Ok(())
}

/// `error_analysis`' and `latency_analysis`' numbers of one job (or the total).
fn check_job(what: &str, errors: &Value, latency: &Value, want: &JobAnswers) -> Result<()> {
    check_close(
        &format!("{what} request rate"),
        num(errors, "/request_rate")?,
        want.request_rate,
    )?;
    check_close(
        &format!("{what} 5xx rate"),
        num(errors, "/server_error_rate")?,
        want.server_error_rate,
    )?;
    check_close(
        &format!("{what} 5xx share"),
        num(errors, "/server_error_ratio")?,
        want.error_ratio,
    )?;
    check_close(
        &format!("{what} 4xx rate"),
        num(errors, "/client_error_rate")?,
        want.client_error_rate,
    )?;
    check_close(
        &format!("{what} latency rate"),
        num(latency, "/request_rate")?,
        want.request_rate,
    )?;
    check_close(&format!("{what} p50"), num(latency, "/p50_ms")?, want.p50)?;
    check_close(&format!("{what} p95"), num(latency, "/p95_ms")?, want.p95)?;
    check_close(&format!("{what} p99"), num(latency, "/p99_ms")?, want.p99)?;
    check_close(
        &format!("{what} mean"),
        num(latency, "/mean_ms")?,
        want.mean_latency,
    )?;
    Ok(())
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> Result<&'a Value> {
    list.as_array()
        .and_then(|a| a.iter().find(|x| x[key] == value))
        .with_context(|| format!("no {key} = {value} in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_tools_answer_exactly_over_mcp() -> Result<()> {
    let prom = prometheus().await?;
    let host = host(&prom.url()).await?;
    let (api, web, all) = (expected::API, expected::WEB, expected::ALL);
    let by_job = "sum by (job) (rate(plue_http_requests_total[5m]))";
    let mut cases = Cases::new();

    cases
        .check(
            "Every tool as the plugin declares it: read-only, idempotent, open-world",
            async {
                let declared = declared::bundled(super::example::binary(), "prometheus")?;
                let tools = host.list_tools().await?;
                declared::listed_as_declared(&tools, &declared)?;
                declared::with_output_schemas(&tools)?;
                for hint in ["read_only", "idempotent", "open_world"] {
                    declared::every_tool_is(&declared, hint)?;
                }
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "Errors: totals, by job (highest 5xx share first), top endpoints, auth failures",
            async {
                let (text, errors) = ok(&host, "error_analysis", json!({})).await?;
                let (_, latency) = ok(&host, "latency_analysis", json!({})).await?;
                check_job("all jobs", &errors["total"], &latency["overall"], &all)?;
                for want in [api, web] {
                    let job = want.job.unwrap();
                    check_job(
                        job,
                        find(&errors["jobs"], "job", job)?,
                        find(&latency["jobs"], "job", job)?,
                        &want,
                    )?;
                }
                ensure!(
                    errors["jobs"][0]["job"] == expected::JOB_API,
                    "5xx share ranking: {}",
                    errors["jobs"]
                );
                check_text(
                    "error_analysis",
                    &text,
                    // The numbers only: the sentence is the plugin's unit tests' to hold.
                    &[
                        "1.1 req/s",
                        "45 req/s",
                        "2.44%",
                        "990",
                        "1.9 req/s",
                        "4.22%",
                        "5%",
                        "0.4%",
                    ],
                )?;
                let top = &errors["top_endpoints"];
                ensure!(
                    top.as_array().map(Vec::len) == Some(expected::SERVER_ERRORS_BY_ENDPOINT.len()),
                    "{top}"
                );
                for (i, (method, path, rate)) in
                    expected::SERVER_ERRORS_BY_ENDPOINT.iter().enumerate()
                {
                    let e = &top[i];
                    ensure!(
                        e["method"] == *method && e["path"] == *path,
                        "top endpoint {i}: {e}"
                    );
                    check_close(&format!("5xx rate of {path}"), num(e, "/rate")?, *rate)?;
                    check_close(
                        &format!("5xx count of {path}"),
                        num(e, "/count")?,
                        expected::increase(*rate, 900.0),
                    )?;
                }
                check_close(
                    "auth attempts",
                    num(&errors, "/auth/attempt_rate")?,
                    expected::AUTH_ATTEMPT_RATE,
                )?;
                check_close(
                    "auth failures",
                    num(&errors, "/auth/failure_rate")?,
                    expected::AUTH_FAILURE_RATE,
                )?;
                check_close(
                    "auth failure share",
                    num(&errors, "/auth/failure_ratio")?,
                    expected::AUTH_FAILURE_RATIO,
                )?;
                check_close(
                    "auth failures in 15m",
                    num(&errors, "/auth/failures")?,
                    expected::increase(expected::AUTH_FAILURE_RATE, 900.0),
                )?;
                check_text(
                    "error_analysis auth",
                    &text,
                    &["0.4/s", "4 attempts/s", "10%", "360"],
                )?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check("One job, another window: the same exact values", async {
            let (_, errors) = ok(
                &host,
                "error_analysis",
                json!({"job": "plue-api", "duration": "5m"}),
            )
            .await?;
            let (text, latency) = ok(
                &host,
                "latency_analysis",
                json!({"job": "plue-api", "duration": "5m"}),
            )
            .await?;
            check_job("plue-api 5m", &errors["total"], &latency["overall"], &api)?;
            check_text(
                "latency_analysis plue-api",
                &text,
                &["p50 37.5 ms, p95 406.25 ms, p99 750 ms; mean 90 ms at 20 req/s"],
            )?;
            ensure!(
                errors["jobs"].as_array().map(Vec::len) == Some(1),
                "{}",
                errors["jobs"]
            );
            anyhow::Ok(())
        })
        .await;

    cases
        .check(
            "Latency text and the slowest instances (the two plue-api instances)",
            async {
                let (text, latency) = ok(&host, "latency_analysis", json!({})).await?;
                check_text(
                    "latency_analysis",
                    &text,
                    &["p95 235 ms", "406.25 ms", "43.75 ms", "750 ms", "175 ms"],
                )?;
                let slow = &latency["slowest_instances"];
                let mut names: Vec<String> = (0..2)
                    .map(|i| slow[i]["name"].as_str().unwrap_or_default().to_string())
                    .collect();
                names.sort();
                let mut want: Vec<String> = prom.api_instances().to_vec();
                want.sort();
                ensure!(names == want, "slowest instances {slow}");
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "Service health: the runner job is down, with its error; the rest up",
            async {
                let (text, health) = ok(&host, "service_health", json!({})).await?;
                ensure!(health["healthy"] == false, "{health}");
                ensure!(
                    health["jobs"][0]["job"] == expected::JOB_RUNNER
                        && health["jobs"][0]["status"] == "down",
                    "{health}"
                );
                for (job, n) in expected::TARGETS_PER_JOB {
                    let j = find(&health["jobs"], "job", job)?;
                    ensure!(j["total"] == *n as u64, "{job}: {j}");
                    let up = if expected::DOWN_JOBS.contains(job) {
                        0
                    } else {
                        *n as u64
                    };
                    ensure!(j["up"] == up, "{job}: {j}");
                }
                let batch = find(&health["jobs"], "job", expected::JOB_BATCH)?;
                ensure!(batch["status"] == "ok" && batch["total"] == 1, "{batch}");
                ensure!(health["source"] == "up+targets", "{health}");
                let down = &health["down"];
                ensure!(down.as_array().map(Vec::len) == Some(1), "{down}");
                ensure!(down[0]["source"] == "targets", "{down}");
                ensure!(down[0]["instance"] == prom.down_instance(), "{down}");
                ensure!(
                    down[0]["error"]
                        .as_str()
                        .unwrap_or_default()
                        .contains(expected::DOWN_ERROR),
                    "{down}"
                );
                check_text(
                    "service_health",
                    &text,
                    &[
                        // The four scraped jobs and plue-batch, known only from its `up` series.
                        "Unhealthy: 1 of 5 jobs not fully up; 5 of 6 targets up.",
                        expected::DOWN_ERROR,
                        "not up at any time",
                    ],
                )?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "Targets: down first; the dropped one only when asked",
            async {
                let (text, targets) =
                    ok(&host, "prometheus_targets", json!({"state": "any"})).await?;
                ensure!(targets["up"] == 4 && targets["down"] == 1, "{targets}");
                ensure!(
                    targets["active"][0]["job"] == expected::JOB_RUNNER,
                    "{targets}"
                );
                ensure!(
                    targets["dropped"][0]["address"] == expected::DROPPED_TARGET,
                    "{targets}"
                );
                check_text(
                    "prometheus_targets",
                    &text,
                    &["5 active targets: 4 up, 1 down.", expected::DROPPED_TARGET],
                )?;
                let (text, targets) = ok(&host, "prometheus_targets", json!({})).await?;
                ensure!(
                    targets["dropped"].as_array().is_some_and(Vec::is_empty),
                    "{targets}"
                );
                ensure!(!text.contains(expected::DROPPED_TARGET), "{text}");
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "Alerts: firing apart from pending, with values and summaries",
            async {
                let (text, alerts) = ok(&host, "prometheus_alerts", json!({})).await?;
                ensure!(
                    alerts["firing"] == expected::FIRING_ALERTS.len() as u64
                        && alerts["pending"] == 1,
                    "{alerts}"
                );
                for (name, job, value) in expected::FIRING_ALERTS {
                    let a = find(&alerts["alerts"], "name", name)?;
                    ensure!(a["state"] == "firing" && a["labels"]["job"] == *job, "{a}");
                    check_close(name, num(a, "/value")?, *value)?;
                }
                let high = find(&alerts["alerts"], "name", "PlueHighErrorRate")?;
                ensure!(
                    high["summary"] == expected::HIGH_ERROR_RATE_SUMMARY,
                    "{high}"
                );
                let pending = find(&alerts["alerts"], "name", expected::PENDING_ALERT)?;
                ensure!(
                    pending["state"] == "pending" && pending["fires_at"].is_string(),
                    "{pending}"
                );
                check_close(
                    "pending value",
                    num(pending, "/value")?,
                    expected::AUTH_FAILURE_RATIO,
                )?;
                let (firing_at, pending_at) = (text.find("FIRING"), text.find("PENDING"));
                ensure!(
                    matches!((firing_at, pending_at), (Some(f), Some(p)) if f < p),
                    "{text}"
                );
                check_text(
                    "prometheus_alerts",
                    &text,
                    &[expected::HIGH_ERROR_RATE_SUMMARY, "fires in"],
                )?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check("Rules: the broken one first, with its error", async {
            let (text, rules) = ok(&host, "prometheus_rules", json!({})).await?;
            ensure!(
                rules["groups"] == expected::RULE_GROUPS.len() as u64 && rules["with_errors"] == 1,
                "{rules}"
            );
            ensure!(
                rules["rules"][0]["name"] == expected::BROKEN_RULE,
                "{rules}"
            );
            check_text("prometheus_rules", &text, &[expected::BROKEN_RULE_ERROR])?;
            for name in expected::RECORDING_RULES {
                let r = find(&rules["rules"], "name", name)?;
                ensure!(r["type"] == "recording" && r["health"] == "ok", "{r}");
            }
            ensure!(
                find(&rules["rules"], "name", expected::INACTIVE_ALERT)?["state"] == "inactive",
                "{rules}"
            );
            anyhow::Ok(())
        })
        .await;

    cases
        .check(
            "Metadata, including a histogram's unit and a lookup by a series name",
            async {
                for (metric, kind, unit) in expected::METADATA {
                    let (_, meta) =
                        ok(&host, "prometheus_metadata", json!({"metric": metric})).await?;
                    let m = &meta["metrics"][0];
                    ensure!(m["type"] == *kind && m["unit"] == *unit, "{metric}: {meta}");
                }
                let (text, _) = ok(
                    &host,
                    "prometheus_metadata",
                    json!({"metric": "plue_http_request_duration_ms_bucket"}),
                )
                .await?;
                check_text(
                    "metadata by series name",
                    &text,
                    &["plue_http_request_duration_ms", "histogram"],
                )?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check("Series and labels, `match` honoured", async {
            let (text, series) = ok(&host, "prometheus_series", json!({"match": ["up"]})).await?;
            // Five scraped targets and the backfilled plue-batch one.
            ensure!(series["total"] == 6, "{series}");
            check_text(
                "prometheus_series",
                &text,
                &["6 series of 1 metric(s): up (6)"],
            )?;
            let (_, labels) = ok(
                &host,
                "prometheus_labels",
                json!({"label": "job", "match": ["plue_http_requests_total"]}),
            )
            .await?;
            ensure!(
                labels["values"] == json!([expected::JOB_API, expected::JOB_WEB]),
                "{labels}"
            );
            let (_, labels) = ok(
                &host,
                "prometheus_labels",
                json!({"match": ["plue_auth_attempts_total"]}),
            )
            .await?;
            ensure!(
                labels["values"]
                    .as_array()
                    .is_some_and(|v| v.contains(&json!("result"))),
                "{labels}"
            );
            ensure!(
                !labels["values"]
                    .as_array()
                    .is_some_and(|v| v.contains(&json!("status"))),
                "{labels}"
            );
            anyhow::Ok(())
        })
        .await;

    cases
        .check("Instant queries: ranked, every time form, caps", async {
            let (_, q) = ok(&host, "prometheus_query", json!({"query": by_job})).await?;
            ensure!(
                q["series"][0]["labels"]["job"] == expected::JOB_WEB,
                "ranking: {q}"
            );
            check_close("web rate", num(&q, "/series/0/value")?, web.request_rate)?;
            let now = chrono::Utc::now();
            let ago = now - chrono::Duration::minutes(30);
            for time in [
                "now".to_string(),
                "30m".to_string(),
                "now-2h".to_string(),
                ago.to_rfc3339(),
                ago.timestamp().to_string(),
            ] {
                let (_, q) = ok(
                    &host,
                    "prometheus_query",
                    json!({"query": "sum(rate(plue_http_requests_total[5m]))", "time": time}),
                )
                .await?;
                check_close(
                    &format!("rate at {time}"),
                    num(&q, "/series/0/value")?,
                    all.request_rate,
                )?;
            }
            let (text, q) = ok(
                &host,
                "prometheus_query",
                json!({"query": "plue_http_requests_total", "limit": 3}),
            )
            .await?;
            let total = expected::API_INSTANCES * expected::API_REQUESTS.len()
                + expected::WEB_REQUESTS.len();
            ensure!(
                q["series_total"] == total as u64
                    && q["series"].as_array().map(Vec::len) == Some(3),
                "{q}"
            );
            check_text(
                "query cap",
                &text,
                &[&format!(
                    "Showing 3 of {total} series ({} left out)",
                    total - 3
                )],
            )?;
            anyhow::Ok(())
        })
        .await;

    cases
        .check(
            "Range queries: each series summarised, exact over the backfilled history",
            async {
                let (text, r) = ok(
                    &host,
                    "prometheus_query_range",
                    json!({"query": by_job, "start": "2h", "step": "1m", "limit": 1, "points": 6}),
                )
                .await?;
                ensure!(
                    r["series_total"] == 2 && r["series"].as_array().map(Vec::len) == Some(1),
                    "{r}"
                );
                let s = &r["series"][0];
                ensure!(s["labels"]["job"] == expected::JOB_WEB, "{s}");
                for stat in ["min", "max", "mean", "last"] {
                    check_close(
                        &format!("range {stat}"),
                        num(s, &format!("/{stat}"))?,
                        web.request_rate,
                    )?;
                }
                ensure!(
                    s["points"] == 121 && s["trend"].as_array().map(Vec::len) == Some(6),
                    "{s}"
                );
                check_text(
                    "range",
                    &text,
                    &[
                        "step 1m (121 steps)",
                        "mean 25, min 25, max 25, last 25",
                        "Showing 1 of 2 series",
                    ],
                )?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "Range charts: a PNG line per series where its values are; the text unchanged",
            async {
                // (job, method): series of distinct rates, so no line hides another.
                let query = "sum by (job, method) (rate(plue_http_requests_total[5m]))";
                let end = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_secs()
                    / 60
                    * 60;
                let args = |chart: Option<bool>| {
                    let mut a = json!({"query": query, "start": (end - 7200).to_string(),
                        "end": end.to_string(), "step": "1m"});
                    if let Some(c) = chart {
                        a["chart"] = json!(c);
                    }
                    a
                };
                let call = |chart| host.call_ok("prometheus_query_range", args(chart));
                let (plain, off, on) = (
                    call(None).await?,
                    call(Some(false)).await?,
                    call(Some(true)).await?,
                );
                ensure!(
                    serde_json::to_string(&plain)? == serde_json::to_string(&off)?,
                    "chart:false differs from no chart"
                );
                // The fixture's series per (job, method) and their rates, highest first.
                let mut rates = std::collections::BTreeMap::new();
                for (method, _, _, rate) in expected::API_REQUESTS {
                    *rates.entry((expected::JOB_API, *method)).or_insert(0.0) +=
                        rate * expected::API_INSTANCES as f64;
                }
                for (method, _, _, rate) in expected::WEB_REQUESTS {
                    *rates.entry((expected::JOB_WEB, *method)).or_insert(0.0) += rate;
                }
                let mut ranked: Vec<f64> = rates.into_values().collect();
                ranked.sort_by(|a, b| b.total_cmp(a));
                let n = ranked.len();
                // Every series fits in the chart: the text is the text without a chart.
                let text = mcp::text(&on);
                ensure!(text == mcp::text(&plain), "text changed:\n{text}");
                ensure!(mcp::structured(&on) == mcp::structured(&plain));
                check_text(
                    "chart",
                    &text,
                    &[&format!("{n} series, highest mean first.")],
                )?;
                let img = png_of(&on)?;
                ensure!(
                    (img.width, img.height) == (800, 300),
                    "{}x{}",
                    img.width,
                    img.height
                );
                ensure!(img.png.len() < 20_000, "{} bytes", img.png.len());
                // The plot is the left three quarters; the legend is right of it.
                for i in 0..8 {
                    ensure!(
                        img.has(series_color(i), 0..600) == (i < n),
                        "series {i} of {n}"
                    );
                }
                // The two busiest series are flat lines, the busiest highest.
                let rows = |i| img.rows_with(series_color(i), 0..600);
                let (first, second, third) = (rows(0), rows(1), rows(2));
                ensure!(ranked[0] > ranked[1] && ranked[1] > ranked[2]);
                ensure!(
                    first.len() <= 2
                        && first.iter().max() < second.iter().min()
                        && second.iter().max() < third.iter().min(),
                    "rows {first:?} {second:?} {third:?}"
                );
                if let Ok(path) = std::env::var("PLUE_SAVE_CHART") {
                    std::fs::write(&path, &img.png)?;
                }
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check("No data is an answer in words, not an error", async {
            let (text, q) = ok(
                &host,
                "prometheus_query",
                json!({"query": "plue_no_such_metric"}),
            )
            .await?;
            ensure!(q["series_total"] == 0, "{q}");
            check_text(
                "empty",
                &text,
                &["No data: `plue_no_such_metric` matched no series"],
            )?;
            let (text, _) = ok(&host, "prometheus_query", json!({"query": "0/0"})).await?;
            check_text("NaN", &text, &["no data"])?;
            anyhow::Ok(())
        })
        .await;

    cases
        .check(
            "Prometheus's own error text, with the position marked; bad arguments named",
            async {
                let err = host
                    .call_err(
                        "prometheus_query",
                        json!({"query": "sum(rate(plue_http_requests_total[5m])"}),
                    )
                    .await?;
                check_text(
                    "bad PromQL",
                    &err,
                    &["bad_data", "HTTP 400", "parse error", "^"],
                )?;
                let err = host
                    .call_err("prometheus_query", json!({"query": "up + on (job) up"}))
                    .await?;
                check_text(
                    "execution error",
                    &err,
                    &["execution", "many-to-many matching not allowed"],
                )?;
                let err = host
                    .call_err("error_analysis", json!({"duration": "fifteen minutes"}))
                    .await?;
                check_text("bad duration", &err, &["`duration`"])?;
                let err = host
                    .call_err(
                        "prometheus_query",
                        json!({"query": "up", "time": "yesterday"}),
                    )
                    .await?;
                check_text("bad time", &err, &["`time`", "RFC 3339"])?;
                anyhow::Ok(())
            },
        )
        .await;

    cases.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_prometheus_is_named_with_what_to_check() -> Result<()> {
    let mut prom = prometheus().await?;
    let host = host(&prom.url()).await?;
    ok(&host, "prometheus_query", json!({"query": "up"})).await?;
    prom.stop();
    for tool in ["prometheus_query", "service_health", "error_analysis"] {
        let args = if tool == "prometheus_query" {
            json!({"query": "up"})
        } else {
            json!({})
        };
        let err = host.call_err(tool, args).await?;
        check_text(
            tool,
            &err,
            &[
                "Prometheus could not be reached (endpoint `prometheus`",
                "[endpoints.prometheus]",
            ],
        )?;
    }
    Ok(())
}

/// A reverse proxy serving Prometheus under `/prometheus` and only with
/// `Authorization: Bearer <token>`, as hosted Prometheus-compatible APIs do. One
/// request per connection (it answers with `Connection: close`).
async fn prefix_proxy(upstream: u16, token: &'static str) -> Result<u16> {
    let bearer = format!("authorization: bearer {token}");
    plue_tests::proxy::start_routed(upstream, move |head, target| {
        let authorized = head.lines().any(|l| l.eq_ignore_ascii_case(&bearer));
        match target.strip_prefix("/prometheus") {
            _ if !authorized => Route::Answer("401 Unauthorized", ""),
            Some(rest) if rest.starts_with("/api/v1/") => Route::Forward(rest.to_string()),
            _ => Route::Answer("404 Not Found", ""),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_prefix_and_auth_headers_from_the_environment_work() -> Result<()> {
    let prom = prometheus().await?;
    let proxy = prefix_proxy(prom.port(), "s3cret-token").await?;
    let config = format!(
        "[endpoints.prometheus]\nurl = \"http://127.0.0.1:{proxy}/prometheus\"\nheaders = {{ Authorization = \"Bearer ${{PLUE_TEST_PROM_TOKEN}}\" }}\n\n[plugins.prometheus]\nhttp = [\"prometheus\"]\n"
    );
    let binary = Path::new(env!("CARGO_BIN_EXE_plue-mcp"));
    let host =
        Host::start_with_env(binary, &config, &[("PLUE_TEST_PROM_TOKEN", "s3cret-token")]).await?;
    let (_, errors) = ok(&host, "error_analysis", json!({"duration": "5m"})).await?;
    check_close(
        "request rate behind a prefix",
        num(&errors, "/total/request_rate")?,
        expected::ALL.request_rate,
    )?;
    let (_, health) = ok(&host, "service_health", json!({})).await?;
    ensure!(health["targets_total"] == 6, "{health}");

    // A wrong token: the agent is told to check the credentials, and the token never shows.
    let wrong = Host::start_with_env(binary, &config, &[("PLUE_TEST_PROM_TOKEN", "wrong")]).await?;
    let err = wrong
        .call_err("prometheus_query", json!({"query": "up"}))
        .await?;
    check_text("wrong token", &err, &["HTTP 401", "credentials"])?;
    ensure!(!err.contains("wrong") && !err.contains("s3cret"), "{err}");

    // A url without the prefix: the agent is told about path prefixes.
    let config = config.replace("/prometheus\"", "\"");
    let bare =
        Host::start_with_env(binary, &config, &[("PLUE_TEST_PROM_TOKEN", "s3cret-token")]).await?;
    let err = bare
        .call_err("prometheus_query", json!({"query": "up"}))
        .await?;
    check_text("missing prefix", &err, &["HTTP 404", "path prefix"])?;
    Ok(())
}

/// Tools against the same Prometheus behind a proxy that answers 404 for the targets,
/// rules and metadata APIs, as Thanos, Mimir or VictoriaMetrics may: each one works, or
/// names the API the backend lacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_targets_rules_or_metadata_apis() -> Result<()> {
    const MISSING: &[&str] = &["/api/v1/targets", "/api/v1/rules", "/api/v1/metadata"];
    let prom = prometheus().await?;
    let proxy = plue_tests::proxy::start(prom.port(), MISSING).await?;
    let host = host(&format!("http://127.0.0.1:{proxy}")).await?;

    // service_health still names the down job, from the `up` series alone.
    let (text, health) = ok(&host, "service_health", json!({})).await?;
    ensure!(
        health["jobs"][0]["job"] == expected::JOB_RUNNER && health["jobs"][0]["status"] == "down",
        "{health}"
    );
    ensure!(health["source"] == "up", "{health}");
    ensure!(
        health["down"][0]["instance"] == prom.down_instance(),
        "{health}"
    );
    ensure!(health["down"][0]["source"] == "up", "{health}");
    find(&health["jobs"], "job", expected::JOB_BATCH)?;
    check_text(
        "service_health without targets",
        &text,
        &[
            "Unhealthy: 1 of 5 jobs not fully up; 5 of 6 targets up.",
            "no targets API",
        ],
    )?;

    // Every other tool: an answer, or an error naming the API that is missing.
    let cases: &[(&str, Value, Option<&str>)] = &[
        ("prometheus_targets", json!({}), Some("/api/v1/targets")),
        ("prometheus_rules", json!({}), Some("/api/v1/rules")),
        (
            "prometheus_metadata",
            json!({"metric": "plue_http_request_duration_ms"}),
            Some("/api/v1/metadata"),
        ),
        ("prometheus_alerts", json!({}), None),
        ("prometheus_query", json!({"query": "up"}), None),
        (
            "prometheus_query_range",
            json!({"query": "up", "start": "5m"}),
            None,
        ),
        ("prometheus_series", json!({"match": ["up"]}), None),
        ("prometheus_labels", json!({"label": "job"}), None),
        ("error_analysis", json!({"duration": "5m"}), None),
        ("latency_analysis", json!({"duration": "5m"}), None),
    ];
    let mut failures = Vec::new();
    for (tool, args, missing) in cases {
        let result = host.call(tool, args.clone()).await?;
        let text = plue_tests::mcp::text(&result);
        let is_error = plue_tests::mcp::is_error(&result);
        let fine = match missing {
            Some(path) => is_error && text.contains(path) && text.contains("HTTP 404"),
            None => !is_error,
        };
        if !fine {
            failures.push(format!(
                "{tool} (missing {missing:?}): error={is_error}\n{text}"
            ));
        }
    }
    ensure!(failures.is_empty(), "{}", failures.join("\n\n"));
    Ok(())
}
