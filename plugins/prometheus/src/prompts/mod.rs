//! The prompts: this plugin's part of `observability` and `health-check`
//! (shared prompt names: the host joins each plugin's part, so each part opens
//! with `## Prometheus` and stands alone) and the skill prompt
//! `observability-guide`. Each renders a short briefing from live data, ending
//! with the tools to call next; the facts come from [`snapshot`], the lines that
//! several prompts share are here.

pub mod guide;
pub mod health_check;
pub mod observability;
pub mod snapshot;

use plue_plugin_sdk::PromptDef;
use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::format::{millis, number, percent_of_ratio};
use crate::saved;
use crate::tools::alerts::AlertsOut;
use crate::tools::health::HealthOut;
use snapshot::Traffic;

/// The heading every part opens with.
pub const HEADING: &str = "## Prometheus";

/// The prompts, in manifest order.
pub fn defs() -> Vec<PromptDef> {
    vec![observability::def(), health_check::def(), guide::def()]
}

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Fail,
    Warn,
    Unknown,
    Ok,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Unknown => "UNKNOWN",
            Status::Ok => "OK",
        }
    }
}

/// At most this many down targets or firing alerts are named.
const MAX_NAMED: usize = 5;

/// `5 of 6 targets up`, the status, and the down targets (at most five) as lines.
pub fn targets(h: &HealthOut) -> (Status, String, Vec<String>) {
    if h.targets_total == 0 {
        return (
            Status::Unknown,
            "no targets: no `up` series (check scrape_configs)".into(),
            Vec::new(),
        );
    }
    let status = if h.targets_up == h.targets_total {
        Status::Ok
    } else {
        Status::Fail
    };
    let jobs_down = h.jobs.iter().filter(|j| j.status != "ok").count();
    let mut line = format!(
        "{} of {} up",
        h.targets_up,
        text::count(h.targets_total, "target")
    );
    if jobs_down > 0 {
        line.push_str(&format!(
            " ({} of {} not fully up)",
            jobs_down,
            text::count(h.jobs.len(), "job")
        ));
    }
    let taken = text::take(&h.down, MAX_NAMED);
    let mut lines: Vec<String> = taken
        .items
        .iter()
        .map(|d| {
            let why = if d.error.is_empty() {
                "down".to_string()
            } else {
                crate::format::one_line(&d.error, 160)
            };
            let last_up = d
                .last_up
                .as_deref()
                .map(|t| format!("; last up {t}"))
                .unwrap_or_else(|| "; not up in the last 1d".into());
            format!("- DOWN {} {}: {why}{last_up}", d.job, d.instance)
        })
        .collect();
    if taken.left_out() > 0 {
        lines.push(format!(
            "- and {} more down (service_health lists all)",
            taken.left_out()
        ));
    }
    (status, line, lines)
}

/// `1 firing, 2 pending`, the status (critical firing fails, other firing warns),
/// and the firing alerts (at most five) as lines.
pub fn alerts(a: &AlertsOut) -> (Status, String, Vec<String>) {
    let firing: Vec<_> = a.alerts.iter().filter(|x| x.state == "firing").collect();
    let critical = firing
        .iter()
        .any(|x| matches!(x.severity.as_deref(), Some("critical" | "page" | "error")));
    let status = if a.firing == 0 {
        Status::Ok
    } else if critical {
        Status::Fail
    } else {
        Status::Warn
    };
    let line = format!("{} firing, {} pending", a.firing, a.pending);
    let taken = text::take(firing, MAX_NAMED);
    let mut lines: Vec<String> = taken
        .items
        .iter()
        .map(|x| {
            let severity = x.severity.as_deref().unwrap_or("no severity");
            let about = x
                .summary
                .as_deref()
                .or(x.description.as_deref())
                .map(|s| format!(": {}", crate::format::one_line(s, 160)))
                .unwrap_or_default();
            format!("- FIRING {} ({severity}){about}", x.name)
        })
        .collect();
    if a.firing > taken.items.len() {
        lines.push(format!(
            "- and {} more firing (prometheus_alerts lists all)",
            a.firing - taken.items.len()
        ));
    }
    (status, line, lines)
}

/// The 5xx threshold of alert PlueHigh5xxRate.
pub const ERROR_RATIO_FAIL: f64 = 0.05;
/// Below this share of 5xx, errors are noise.
pub const ERROR_RATIO_WARN: f64 = 0.01;
/// The p95 threshold of alert PlueLatencyP95High, ms.
pub const P95_WARN_MS: f64 = 1000.0;

/// The 5xx check: share of requests over the last 5m against the alert's threshold.
pub fn errors(t: &Traffic, requests_metric: &str) -> (Status, String) {
    if t.jobs.is_empty() {
        return (
            Status::Unknown,
            format!("no requests recorded by `{requests_metric}` in the last 5m"),
        );
    }
    let (rate, errors) = (t.rate(), t.errors());
    if rate == 0.0 {
        return (Status::Unknown, "0 req/s in the last 5m".into());
    }
    let ratio = errors / rate;
    let status = if ratio > ERROR_RATIO_FAIL {
        Status::Fail
    } else if ratio > ERROR_RATIO_WARN {
        Status::Warn
    } else {
        Status::Ok
    };
    let mut line = format!(
        "{} req/s, {} req/s 5xx ({}) over 5m",
        number(rate),
        number(errors),
        percent_of_ratio(ratio)
    );
    if let Some(worst) = t
        .jobs
        .first()
        .filter(|j| j.errors > 0.0 && t.jobs.len() > 1)
    {
        line.push_str(&format!(
            "; worst {} {}",
            worst.job,
            percent_of_ratio(worst.ratio().unwrap_or(0.0))
        ));
    }
    (status, line)
}

/// The latency check: the slowest job's p95 against the alert's threshold.
pub fn latency(t: &Traffic) -> (Status, String) {
    match t.slowest() {
        None => (Status::Unknown, "no latency data in the last 5m".into()),
        Some(j) => {
            let p95 = j.p95_ms.unwrap_or(0.0);
            let status = if p95 > P95_WARN_MS {
                Status::Warn
            } else {
                Status::Ok
            };
            (
                status,
                format!("p95 {} (slowest job {}) over 5m", millis(Some(p95)), j.job),
            )
        }
    }
}

/// Per job: requests, 5xx share and p95, at most ten rows.
pub fn traffic_table(t: &Traffic) -> String {
    let taken = text::take(&t.jobs, 10);
    let rows: Vec<Vec<String>> = taken
        .items
        .iter()
        .map(|j| {
            vec![
                j.job.clone(),
                number(j.rate),
                j.ratio().map_or("no data".into(), percent_of_ratio),
                millis(j.p95_ms),
            ]
        })
        .collect();
    let mut out = text::table(&["job", "req/s", "5xx", "p95"], &rows, 80);
    if let Some(note) = taken.note("jobs", "pass `job` to error_analysis or latency_analysis") {
        out.push('\n');
        out.push_str(&note);
    }
    out
}

/// Links to saved queries, for the client to read their current values.
pub fn link(name: &str) -> Link {
    let q = saved::find(name).expect("a saved query of the catalogue");
    Link::new(saved::uri(name), q.name)
        .title(q.title)
        .mime_type("text/markdown")
}

/// The part when Prometheus cannot be reached: the one fact, and what to check.
pub fn unreachable(e: &ToolError) -> String {
    format!("{HEADING}\nFAIL  prometheus: {e}")
}

/// The snapshot every part starts from, or, when Prometheus does not answer, the
/// part to render instead (a prompt's part says its backend is down; it does not fail).
pub fn gather_or_unreachable() -> Result<snapshot::Snapshot, Briefing> {
    snapshot::gather(None)
        .map_err(|e| Briefing::text(unreachable(&e)).described("Prometheus could not be asked"))
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::http::HttpError;
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testutil::serve_stack;

    fn render(name: &str, args: &[(&str, &str)]) -> (String, Option<String>, Vec<String>) {
        let b = testing::prompt(&plugin(), name, args).unwrap();
        (
            b.texts().join("\n"),
            b.description().map(str::to_string),
            b.resource_uris().into_iter().map(String::from).collect(),
        )
    }

    #[test]
    fn observability_names_what_is_down_alerting_and_failing() {
        serve_stack();
        let (text, description, links) = render("observability", &[]);
        assert_eq!(
            text,
            "## Prometheus
Targets: 2 of 3 targets up (1 of 3 jobs not fully up).
- DOWN runner r:2: Get \"http://r:2/metrics\": dial tcp r:2: connect: connection refused; last up 2023-11-14T22:08:20Z
Alerts: 1 firing, 1 pending.
- FIRING PlueServiceDown (critical): runner (r:2) is down
Traffic: 45 req/s, 1.1 req/s 5xx (2.44%) over 5m; worst api 5%; p95 480 ms (slowest job api) over 5m.
Next: service_health, prometheus_alerts, error_analysis, prometheus_query_range (trend of a saved query)."
        );
        assert_eq!(
            description.as_deref(),
            Some("Prometheus: targets, alerts and traffic now")
        );
        assert!(links.is_empty());
    }

    #[test]
    fn observability_full_adds_jobs_endpoints_auth_database_backends_and_rules() {
        serve_stack();
        let (text, _, links) = render("observability", &[("full", "true")]);
        for expected in [
            "job  req/s  5xx   p95\n---  -----  ----  ------\napi  20     5%    480 ms\nweb  25     0.4%  120 ms",
            "Most 5xx in the last 1h: api POST /api/:user/:repo/workflows/* (2880); api GET /api/:user/:repo/issues/* (720).",
            "Auth failures: 10% over 5m.",
            "Database query errors: 0.2% ({job=\"api\"}) over 5m.",
            "plue-mcp backends DOWN: database → database.",
            "Rules: 1 of 2 failing to evaluate: service:plue_http_errors:ratio_rate5m (many-to-many matching not allowed).",
            "Next: service_health, prometheus_alerts, error_analysis, latency_analysis, prometheus_rules, prometheus_query_range",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert_eq!(
            links,
            [
                "plue://prometheus/queries/error-ratio",
                "plue://prometheus/queries/latency-p95",
                "plue://prometheus/queries/top-5xx-endpoints"
            ]
        );
    }

    #[test]
    fn health_check_gives_one_verdict_per_check() {
        serve_stack();
        let (text, description, _) = render("health-check", &[("quick", "yes")]);
        assert_eq!(
            text,
            "## Prometheus
FAIL    targets: 2 of 3 targets up (1 of 3 jobs not fully up)
FAIL    alerts: 1 firing, 1 pending
WARN    5xx: 45 req/s, 1.1 req/s 5xx (2.44%) over 5m; worst api 5% (FAIL above 5%, WARN above 1%)
OK      latency: p95 480 ms (slowest job api) over 5m (WARN above 1000 ms)
Next: service_health (targets), prometheus_alerts, error_analysis (5xx), latency_analysis, prometheus_rules: the first one matching a FAIL or WARN line."
        );
        assert_eq!(description.as_deref(), Some("Prometheus health: FAIL"));
    }

    #[test]
    fn health_check_full_adds_checks_and_evidence() {
        serve_stack();
        let (text, _, _) = render("health-check", &[("full", "1")]);
        for expected in [
            "FAIL    rules: 1 of 2 rules fail to evaluate: service:plue_http_errors:ratio_rate5m (many-to-many matching not allowed)",
            "OK      auth failures: 10% over 5m (WARN above 20%)",
            "OK      database errors: 0.2% {job=\"api\"} over 5m (WARN above 1%)",
            "FAIL    plue-mcp backends: unreachable: database → database",
            "\n\n- DOWN runner r:2: Get",
            "- FIRING PlueServiceDown (critical): runner (r:2) is down",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn without_http_metrics_the_checks_say_unknown_not_ok() {
        testing::fake_http(|req| {
            let p = &req.path_and_query;
            let body = if p.starts_with("/api/v1/targets") {
                r#"{"status":"success","data":{"activeTargets":[]}}"#.to_string()
            } else if p.starts_with("/api/v1/alerts") {
                r#"{"status":"success","data":{"alerts":[]}}"#.to_string()
            } else if crate::testutil::query_of(p) == "up" {
                crate::testutil::vector(&[(r#""job":"api","instance":"a:1""#, "1")])
            } else {
                crate::testutil::vector(&[])
            };
            Ok(testing::response(200, &body))
        });
        let (text, description, _) = render("health-check", &[]);
        assert_eq!(
            text,
            "## Prometheus
OK      targets: 1 of 1 target up
OK      alerts: 0 firing, 0 pending
UNKNOWN 5xx: no requests recorded by `plue_http_requests_total` in the last 5m (FAIL above 5%, WARN above 1%)
UNKNOWN latency: no latency data in the last 5m (WARN above 1000 ms)
Next: nothing failing, but some checks have no data: observability-guide says why HTTP metrics can be empty; prometheus_series shows what exists."
        );
        assert_eq!(description.as_deref(), Some("Prometheus health: UNKNOWN"));
    }

    #[test]
    fn an_unreachable_prometheus_is_the_one_fact_reported() {
        testing::fake_http(|_| Err(HttpError::Unreachable("connection refused".into())));
        for name in ["observability", "health-check"] {
            let (text, _, _) = render(name, &[]);
            assert!(
                text.starts_with(
                    "## Prometheus\nFAIL  prometheus: Prometheus could not be reached (endpoint `prometheus`): connection refused."
                ),
                "{name}: {text}"
            );
        }
    }

    #[test]
    fn the_guide_has_live_numbers_a_decision_tree_and_known_patterns() {
        serve_stack();
        let (text, _, links) = render("observability-guide", &[]);
        assert!(
            text.starts_with(
                "## Prometheus guide\nNow: 2 of 3 targets up, 1 alert firing, 45 req/s at 2.44% 5xx.\n\nWhich tool for which question:"
            ),
            "{text}"
        );
        assert!(
            text.contains("Known failure patterns in this stack:\n1. "),
            "{text}"
        );
        assert_eq!(links.len(), 2);
        let (text, _, _) = render("observability-guide", &[("job", "api")]);
        assert!(
            text.contains("Now (job api): 1 of 1 targets up, 0 alerts firing, 20 req/s at 5% 5xx."),
            "{text}"
        );
        let err = testing::prompt(&plugin(), "observability-guide", &[("job", "nope")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no targets of job `nope`"), "{err}");
        let err = testing::prompt(&plugin(), "observability", &[("verbose", "true")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("its arguments: full"), "{err}");
    }

    #[test]
    fn shared_prompts_declare_the_agreed_arguments() {
        plue_plugin_sdk::testing::assert_prompt_signatures(
            &plugin(),
            &[
                ("observability", &[("full", false)]),
                ("health-check", &[("quick", false), ("full", false)]),
                ("observability-guide", &[("job", false)]),
            ],
        );
    }
}
