//! `observability-guide`, a skill prompt: which of this plugin's tools answers
//! which question, and the failure patterns known in this project's stack (the
//! Plue API's metrics, the deploy/ rules and dashboards), headed by the live
//! numbers that tell which branch to take first.

use plue_plugin_sdk::PromptDef;
use plue_plugin_sdk::prelude::*;

use super::snapshot;
use crate::format::{number, percent_of_ratio};

pub fn def() -> PromptDef {
    prompt(
        "observability-guide",
        "How to investigate with the Prometheus tools: a decision tree, this stack's known failure patterns, and where things stand now.",
        render,
    )
    .title("Observability guide (Prometheus)")
    .argument(
        "job",
        "A Prometheus job (such as `plue-api`) to scope the live numbers to; default all jobs.",
    )
}

const TREE: &str = "Which tool for which question:
- Is anything down? service_health (targets per job, each down target's error and when it was last up); prometheus_targets for scrape URLs, durations and dropped targets.
- What is alerting, and since when? prometheus_alerts; an alert or recorded series missing or stale: prometheus_rules (broken rules first, with their error).
- Errors? error_analysis {\"duration\": \"1h\"}: 5xx/4xx rates and shares per job, the endpoints with most 5xx, auth failures by result.
- Slow? latency_analysis: p50/p95/p99 and mean per job, slowest instances and paths.
- Since when / trend? prometheus_query_range (mean, min, max, last and a down-sampled trend per series).
- One number now? prometheus_query, or read a saved query: plue://prometheus/queries/{name} (its PromQL, meaning and current value).
- Which metrics and labels exist? prometheus_metadata {\"search\": \"…\"}, prometheus_labels {\"label\": \"job\"}, prometheus_series {\"match\": [\"…\"]}.";

const PATTERNS: &str = "Known failure patterns in this stack:
1. \"No requests recorded by plue_http_requests_total\": the Plue API defines its HTTP, auth and database counters but may not increment them (the recording middleware is not wired in every version). Empty means no instrumentation, not no traffic: check with prometheus_series {\"match\": [\"plue_http_requests_total\"]}; the logs tools still see the requests.
2. `status` is a class (`5xx`) in the Plue API and a code (`503`) in most other services: match `status=~\"5..\"`, which covers both (every tool and saved query does).
3. The duration histogram plue_http_request_duration_ms has no `path` label: slowest paths stay empty and slowest-endpoints has one series per job. It is in ms; a `_seconds` histogram set in `duration_metric` is converted.
4. Workflow and runner metrics (plue_workflow_*, plue_runner_pool_*, plue_agent_tokens_total) are assumed by the Workflows dashboard and rules, not exported: no data there is expected. Use the workflows tools (database) for runs and runners.
5. Dashboards and recording rules group by `service` (set by relabelling: plue-api's service is `api`); the tools group by `job`. Translate before comparing numbers.
6. HTTP 404 from /api/v1/…: the url of [endpoints.prometheus] lacks (or wrongly has) a path prefix such as /prometheus. On Thanos or Mimir without a targets or rules API, service_health falls back to the `up` series (no scrape errors).
7. A ratio that reads \"no data\" had no requests in its window (0/0): widen `duration`, or look at request-rate first.
8. Ports: the web server is scraped at web:5173 (not 3000), the API at api:4000; PostgreSQL health is postgres-exporter's `pg_up` (alert PluePostgresDown).";

fn render(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let job = args.get("job");
    let scope = job.map(|j| format!(" (job {j})")).unwrap_or_default();
    let now = match snapshot::gather(job) {
        Err(e) => format!("Now{scope}: Prometheus could not be asked: {e}"),
        Ok(snap) => {
            let h = snap.health.value();
            if job.is_some() && h.targets_total == 0 {
                return Err(ToolError::invalid(format!(
                    "`job`: no targets of job `{}`; complete `job` or call prometheus_labels {{\"label\": \"job\"}} for the jobs",
                    job.unwrap_or_default()
                )));
            }
            let mut parts = vec![format!(
                "{} of {} targets up",
                h.targets_up, h.targets_total
            )];
            if let Ok(a) = &snap.alerts {
                // With a job, only the alerts labelled with it.
                let firing = a
                    .value()
                    .alerts
                    .iter()
                    .filter(|x| x.state == "firing")
                    .filter(|x| {
                        job.is_none_or(|j| x.labels.get("job").map(String::as_str) == Some(j))
                    })
                    .count();
                parts.push(format!(
                    "{} firing",
                    plue_plugin_sdk::text::count(firing, "alert")
                ));
            }
            match &snap.traffic {
                Ok(t) if t.jobs.is_empty() => parts.push(format!(
                    "no requests recorded by `{}` (see pattern 1)",
                    snap.metrics.requests
                )),
                Ok(t) => {
                    let ratio = (t.rate() > 0.0).then(|| t.errors() / t.rate());
                    parts.push(format!(
                        "{} req/s at {} 5xx",
                        number(t.rate()),
                        ratio.map_or("no data".into(), percent_of_ratio)
                    ));
                }
                Err(_) => {}
            }
            format!("Now{scope}: {}.", parts.join(", "))
        }
    };
    let text = format!(
        "{} guide\n{now}\n\n{TREE}\n\n{PATTERNS}\n\nStart with service_health, then follow the branch the numbers above point to.",
        super::HEADING
    );
    Ok(Briefing::text(text)
        .described("Investigating with the Prometheus tools")
        .with_link(super::link("error-ratio"))
        .with_link(super::link("latency-p95")))
}
