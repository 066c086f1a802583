//! Prompts: `trace-request` (one request across services, errors first), and
//! this plugin's parts of the shared `observability` (errors by service over
//! the last hour, the top error and the top exception) and `health-check`
//! (error rate per service over the last hour) prompts, each headed
//! `## Logs (Loki)` so it stands alone when the host joins several plugins'
//! parts. They call the tools' own functions.

use plue_plugin_sdk::PromptDef;
use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::time::{human_duration, parse_time};

use crate::render::cut;
use crate::tools::{self, counts};

/// The heading of this plugin's parts.
pub const HEADING: &str = "## Logs (Loki)";
/// Timeline lines of `trace-request`.
pub const TIMELINE: usize = 20;
/// Errors listed first in `trace-request`.
pub const FIRST_ERRORS: usize = 3;
/// Services shown in a health line.
pub const SERVICES: usize = 8;
/// A service whose error share of its lines is above this (percent) is degraded…
pub const DEGRADED_ABOVE: f64 = 5.0;
/// …and above this, unhealthy.
pub const UNHEALTHY_ABOVE: f64 = 25.0;

/// The shared prompts' descriptions, word for word the same in every plugin that
/// offers them (the host joins the parts under one prompt).
const OBSERVABILITY: &str = "The state of the stack now, one part per source (workflows, logs, database, …): failures, errors, waiting work; more detail with `full`.";
const HEALTH_CHECK: &str = "Is everything healthy: a HEALTHY, DEGRADED or UNHEALTHY verdict per part with its evidence; one line each (quick, the default) or the details (full).";
const FULL_LONG: &str = "`true` for the long version: more detail in every part.";
const QUICK: &str = "`true` for one line per part (the default).";
const FULL_DETAILS: &str = "`true` for the details behind each part's verdict.";

pub fn trace_request() -> PromptDef {
    prompt(
        "trace-request",
        "Follow one request through every service: errors first, the services in the order it reached them with their durations, the timeline, next tools.",
        render_trace,
    )
    .title("Trace a request")
    .required_argument(
        "request_id",
        "The request id as logged (matched as a whole token in the last 24 h).",
    )
}

pub fn observability() -> PromptDef {
    prompt("observability", OBSERVABILITY, render_observability)
        .title("Observability briefing")
        .argument("full", FULL_LONG)
}

pub fn health_check() -> PromptDef {
    prompt("health-check", HEALTH_CHECK, render_health)
        .title("Health check")
        .argument("quick", QUICK)
        .argument("full", FULL_DETAILS)
}

/// Seconds between two RFC 3339 times (0 when either does not parse).
fn span(from: &str, to: &str) -> f64 {
    match (parse_time(from, 0.0), parse_time(to, 0.0)) {
        (Ok(a), Ok(b)) => (b - a).max(0.0),
        _ => 0.0,
    }
}

fn render_trace(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let id = args.required("request_id")?;
    let answer = tools::trace::run(tools::trace::Args {
        request_id: id.to_string(),
        start: "24h".into(),
        end: None,
        limit: 500,
    })?;
    let t = answer.value();
    let mut out = vec![HEADING.to_string()];
    if t.lines == 0 {
        out.push(format!(
            "Request {id}: no log line holds it as a whole token in the last 24 h."
        ));
        out.push(format!(
            "Next tools: search_logs(contains=\"{id}\", start=\"7d\") to look further back; find_errors() for what failed recently"
        ));
        return Ok(Briefing::text(out.join("\n")).described(format!("Request {id}: not found")));
    }
    let errors: Vec<_> = t
        .entries
        .iter()
        .filter(|e| e.level.as_deref() == Some("error"))
        .collect();
    out.push(format!(
        "Request {id}: {} lines across {} services over {}; {} error lines.",
        t.lines,
        t.services.len(),
        human_duration(t.span_seconds),
        errors.len()
    ));
    if !errors.is_empty() {
        out.push(format!(
            "Errors first ({} of {}):",
            errors.len().min(FIRST_ERRORS),
            errors.len()
        ));
        out.extend(
            errors
                .iter()
                .take(FIRST_ERRORS)
                .map(|e| format!("  - {} [{}] {}", e.time, e.service, cut(&e.message, 200))),
        );
    }
    out.push("Services, in the order the request reached them:".into());
    out.extend(t.services.iter().take(SERVICES).map(|s| {
        format!(
            "  - {}: {} lines, {} errors, {} → {} ({})",
            s.service,
            s.lines,
            s.errors,
            s.first_seen,
            s.last_seen,
            human_duration(span(&s.first_seen, &s.last_seen))
        )
    }));
    if t.services.len() > SERVICES {
        out.push(format!("  ({} more services)", t.services.len() - SERVICES));
    }
    let shown = t.entries.len().min(TIMELINE);
    out.push(format!(
        "Timeline ({shown} of {} lines, oldest first):",
        t.lines
    ));
    out.extend(t.entries.iter().take(TIMELINE).map(|e| {
        format!(
            "  {} [{}] {} {}",
            e.time,
            e.service,
            e.level.as_deref().unwrap_or("-").to_uppercase(),
            cut(&e.message, 160)
        )
    }));
    if t.lines > shown {
        out.push(format!(
            "  ({} more lines: trace_request(request_id=\"{id}\"))",
            t.lines - shown
        ));
    }
    let mut next = vec![format!("trace_request(request_id=\"{id}\") for every line")];
    if let Some(e) = errors.first() {
        next.push(format!(
            "find_errors(service=\"{}\") for the same error elsewhere",
            e.service
        ));
        next.push(format!(
            "search_exceptions(service=\"{}\") for its stack traces",
            e.service
        ));
    }
    next.push("find_slow_requests() if it was slow".into());
    out.push(format!("Next tools: {}", next.join("; ")));
    Ok(Briefing::text(out.join("\n")).described(format!("Request {id} across services")))
}

fn render_observability(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let full = args.flag("full");
    let errors = tools::errors::run(tools::errors::Args {
        start: "1h".into(),
        end: None,
        service: None,
        limit: 500,
        groups: 20,
    })?;
    let e = errors.value();
    let mut out = vec![HEADING.to_string()];
    let total = e.matching.unwrap_or(e.error_lines);
    if e.error_lines == 0 {
        out.push("Errors, last 1 h: none.".into());
    } else {
        let read = if e.matching.is_some_and(|m| m > e.error_lines) {
            format!("; by service, of the {} newest read", e.error_lines)
        } else {
            "; by service".into()
        };
        out.push(format!(
            "Errors, last 1 h: {total} lines{read}: {}",
            counts(e.by_service.iter())
        ));
        let kinds = if full { 5 } else { 1 };
        out.push(format!(
            "Top error kinds ({} of {}):",
            e.groups.len().min(kinds),
            e.groups.len()
        ));
        out.extend(e.groups.iter().take(kinds).map(|g| {
            format!(
                "  - {}× {} ({}; last {})",
                g.count,
                cut(&g.message, 160),
                counts(g.services.iter()),
                g.last_seen
            )
        }));
    }
    let exceptions = tools::exceptions::run(tools::exceptions::Args {
        start: "1h".into(),
        end: None,
        language: Default::default(),
        service: None,
        limit: 100,
    })?;
    let x = exceptions.value();
    let top = x
        .languages
        .iter()
        .flat_map(|l| l.exceptions.iter().map(move |g| (l, g)))
        .max_by_key(|(_, g)| g.count);
    match top {
        Some((l, g)) => out.push(format!(
            "Top exception, last 1 h: {}× {} ({}, {}): {}",
            g.count,
            g.exception,
            l.language,
            counts(g.services.iter()),
            cut(&g.summary, 160)
        )),
        None => out.push("Exceptions, last 1 h: no stack traces.".into()),
    }
    if full {
        out.extend(health_lines(&service_rates()?, usize::MAX));
    }
    let mut next = Vec::new();
    if let Some((service, _)) = e.by_service.iter().max_by_key(|(_, n)| **n) {
        next.push(format!("find_errors(service=\"{service}\")"));
    }
    if top.is_some() {
        next.push("search_exceptions(start=\"1h\")".into());
    }
    next.push("log_stats() for volume per service".into());
    out.push(format!("Next tools: {}", next.join("; ")));
    Ok(Briefing::text(out.join("\n")).described("Logs over the last hour"))
}

/// One service's error share over the last hour.
struct Rate {
    service: String,
    /// The stream has the service label (else `service` says it has none).
    labelled: bool,
    lines: u64,
    errors: u64,
    percent: f64,
}

/// Every service's error share over the last hour, highest first.
fn service_rates() -> Result<Vec<Rate>, ToolError> {
    let stats = tools::stats::run(tools::stats::Args {
        start: "1h".into(),
        end: None,
        chart: false,
    })?;
    let mut rates: Vec<Rate> = stats
        .value()
        .services
        .iter()
        .filter(|s| s.lines > 0)
        .map(|s| Rate {
            labelled: !s.service.is_empty(),
            service: if s.service.is_empty() {
                "(no service label)".into()
            } else {
                s.service.clone()
            },
            lines: s.lines,
            errors: s.errors,
            percent: 100.0 * s.errors as f64 / s.lines as f64,
        })
        .collect();
    rates.sort_by(|a, b| {
        b.percent
            .total_cmp(&a.percent)
            .then_with(|| b.lines.cmp(&a.lines))
    });
    Ok(rates)
}

fn rate_text(r: &Rate) -> String {
    format!(
        "{} {:.1}% ({} of {})",
        r.service, r.percent, r.errors, r.lines
    )
}

/// The per-service lines of the full health check.
fn health_lines(rates: &[Rate], max: usize) -> Vec<String> {
    let mut out = vec![format!(
        "Error rate per service, last 1 h ({} services, highest first):",
        rates.len()
    )];
    out.extend(
        rates
            .iter()
            .take(max.min(SERVICES * 2))
            .map(|r| format!("  - {}", rate_text(r))),
    );
    if rates.len() > max.min(SERVICES * 2) {
        out.push(format!(
            "  ({} more: log_stats())",
            rates.len() - max.min(SERVICES * 2)
        ));
    }
    out
}

fn render_health(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let full = args.flag("full") && !args.flag("quick");
    let rates = service_rates()?;
    let worst = rates.first().map_or(0.0, |r| r.percent);
    let word = if rates.is_empty() {
        "NO DATA"
    } else if worst > UNHEALTHY_ABOVE {
        "UNHEALTHY"
    } else if worst > DEGRADED_ABOVE {
        "DEGRADED"
    } else {
        "HEALTHY"
    };
    let mut out = vec![HEADING.to_string()];
    if rates.is_empty() {
        out.push(
            "Logs: NO DATA — no log lines in the last 1 h; is Promtail shipping to Loki?".into(),
        );
    } else {
        let shown: Vec<String> = rates.iter().take(SERVICES).map(rate_text).collect();
        let more = if rates.len() > SERVICES {
            format!(", +{} more", rates.len() - SERVICES)
        } else {
            String::new()
        };
        out.push(format!(
            "Logs: {word} — error rate, last 1 h: {}{more}",
            shown.join(", ")
        ));
    }
    if full {
        out.extend(health_lines(&rates, SERVICES * 2));
    }
    let next = match rates.first() {
        Some(r) if r.errors > 0 && r.labelled => format!(
            "Next tools: find_errors(service=\"{}\"); log_stats()",
            r.service
        ),
        Some(r) if r.errors > 0 => "Next tools: find_errors(); log_stats()".into(),
        _ => "Next tools: log_stats(); search_logs()".into(),
    };
    out.push(next);
    Ok(Briefing::text(out.join("\n")).described(format!("Logs: {word}")))
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::prelude::*;
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::tools::tests::{fake_loki, streams, ts, vector};

    fn request_lines() -> String {
        streams(json!([
            {"stream": {"service": "runner"}, "values": [[ts(2), "level=info msg=\"step\" request_id=req-1"], [ts(5), "level=error msg=\"failed\" request_id=req-1"]]},
            {"stream": {"service": "api"}, "values": [[ts(1), r#"{"level":"info","message":"dispatch","request_id":"req-1"}"#]]},
            {"stream": {"service": "agent"}, "values": [[ts(3), r#"{"severity":"info","message":"tool","request_id":"req-1"}"#]]},
        ]))
    }

    #[test]
    fn trace_request_puts_errors_first_then_services_and_timeline() {
        fake_loki(|_, q| {
            assert_eq!(q, r#"{job="containerlogs"} |= "req-1" |~ `\breq-1\b`"#);
            request_lines()
        });
        let b = testing::prompt(&plugin(), "trace-request", &[("request_id", "req-1")]).unwrap();
        let text = b.texts().join("\n");
        let lines: Vec<&str> = text.lines().collect();
        // ts(n) is 2025-11-24T16:00:0n.000Z; the request spans ts(1) to ts(5).
        assert_eq!(lines[0], "## Logs (Loki)");
        assert_eq!(
            lines[1],
            "Request req-1: 4 lines across 3 services over 4 s; 1 error lines."
        );
        assert_eq!(lines[2], "Errors first (1 of 1):");
        assert_eq!(lines[3], "  - 2025-11-24T16:00:05.000Z [runner] failed");
        assert_eq!(lines[4], "Services, in the order the request reached them:");
        assert_eq!(
            lines[5],
            "  - api: 1 lines, 0 errors, 2025-11-24T16:00:01.000Z → 2025-11-24T16:00:01.000Z (0 ms)"
        );
        assert_eq!(
            lines[6],
            "  - runner: 2 lines, 1 errors, 2025-11-24T16:00:02.000Z → 2025-11-24T16:00:05.000Z (3 s)"
        );
        assert_eq!(lines[8], "Timeline (4 of 4 lines, oldest first):");
        assert_eq!(lines[9], "  2025-11-24T16:00:01.000Z [api] INFO dispatch");
        assert_eq!(
            lines[12],
            "  2025-11-24T16:00:05.000Z [runner] ERROR failed"
        );
        assert!(lines[13].starts_with("Next tools: trace_request(request_id=\"req-1\") for every line; find_errors(service=\"runner\")"), "{text}");
        assert_eq!(lines.len(), 14);
    }

    #[test]
    fn trace_request_says_when_nothing_holds_the_id_and_needs_one() {
        fake_loki(|_, _| streams(json!([])));
        let b = testing::prompt(&plugin(), "trace-request", &[("request_id", "nope-9")]).unwrap();
        assert!(
            b.texts()[0].contains(
                "Request nope-9: no log line holds it as a whole token in the last 24 h."
            )
        );
        let e = testing::prompt(&plugin(), "trace-request", &[]).unwrap_err();
        assert!(
            e.to_string().contains("argument `request_id` is required"),
            "{e}"
        );
    }

    /// Stats as `log_stats` reads them: api 50 lines (3 errors), web 20 (0),
    /// and 4 lines without a service label (1 error).
    fn serve_stats() {
        fake_loki(|path, q| {
            assert_eq!(path, "/loki/api/v1/query");
            let (api, web, none) = if q.contains("!~") {
                ("2", "0", "0")
            } else if q.contains("|~") {
                ("3", "0", "1")
            } else {
                ("50", "20", "4")
            };
            vector(json!([
                {"metric": {"service": "api"}, "value": [1764000000, api]},
                {"metric": {"service": "web"}, "value": [1764000000, web]},
                {"metric": {}, "value": [1764000000, none]},
            ]))
        });
    }

    #[test]
    fn health_check_ranks_services_by_error_rate() {
        serve_stats();
        let b = testing::prompt(&plugin(), "health-check", &[]).unwrap();
        let text = b.texts().join("\n");
        // 1 of 4 is 25.0%: not above 25%, so degraded, not unhealthy.
        assert_eq!(
            text,
            "## Logs (Loki)\nLogs: DEGRADED — error rate, last 1 h: (no service label) 25.0% (1 of 4), api 6.0% (3 of 50), web 0.0% (0 of 20)\nNext tools: find_errors(); log_stats()"
        );
        serve_stats();
        let full = testing::prompt(&plugin(), "health-check", &[("full", "true")]).unwrap();
        let text = full.texts().join("\n");
        assert!(text.contains("Error rate per service, last 1 h (3 services, highest first):\n  - (no service label) 25.0% (1 of 4)\n  - api 6.0% (3 of 50)\n  - web 0.0% (0 of 20)"), "{text}");
    }

    #[test]
    fn observability_counts_errors_by_service_and_names_the_top_exception() {
        fake_loki(|_, q| {
            // search_exceptions asks for any language's trace: `(?:…)|(?:…)`.
            if q.starts_with(r#"{job="containerlogs"} |~ `(?:"#) {
                streams(json!([{"stream": {"service": "runner"}, "values": [
                    [ts(9), "Traceback (most recent call last):\n  File \"/app/run.py\", line 3, in <module>\n    main()\nKeyError: 'step_3'"],
                ]}]))
            } else {
                streams(json!([
                    {"stream": {"service": "api"}, "values": [
                        [ts(30), r#"{"level":"error","message":"failed to load repository 98: not found"}"#],
                        [ts(20), r#"{"level":"error","message":"failed to load repository 12: not found"}"#],
                    ]},
                    {"stream": {"service": "web"}, "values": [
                        [ts(25), r#"{"level":"error","msg":"session expired"}"#],
                    ]},
                ]))
            }
        });
        let b = testing::prompt(&plugin(), "observability", &[]).unwrap();
        let text = b.texts().join("\n");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1],
            "Errors, last 1 h: 3 lines; by service: api 2, web 1"
        );
        assert_eq!(lines[2], "Top error kinds (1 of 2):");
        assert_eq!(
            lines[3],
            "  - 2× failed to load repository <N>: not found (api 2; last 2025-11-24T16:00:30.000Z)"
        );
        assert!(
            lines[4].starts_with("Top exception, last 1 h: 1× KeyError (python, runner 1)"),
            "{text}"
        );
        assert_eq!(
            lines[5],
            "Next tools: find_errors(service=\"api\"); search_exceptions(start=\"1h\"); log_stats() for volume per service"
        );
    }

    #[test]
    fn observability_says_when_only_the_newest_errors_were_read() {
        // Loki holds 1,200 error lines; the part reads the newest 500 (all `api`).
        fake_loki(|path, q| {
            if path == "/loki/api/v1/query" {
                // The count of all error lines; or, for the empty exception search's hint, lines per service.
                let n = if q.starts_with("sum(count_over_time(") {
                    "1200"
                } else {
                    "1500"
                };
                return vector(json!([{"metric": {"service": "api"}, "value": [1764000000, n]}]));
            }
            if q.starts_with(r#"{job="containerlogs"} |~ `(?:"#) {
                return streams(json!([]));
            }
            let values: Vec<Json> = (0..500)
                .map(|i| json!([ts(i), r#"{"level":"error","message":"db timeout"}"#]))
                .collect();
            streams(json!([{"stream": {"service": "api"}, "values": values}]))
        });
        let b = testing::prompt(&plugin(), "observability", &[]).unwrap();
        let text = b.texts().join("\n");
        assert!(
            text.contains(
                "Errors, last 1 h: 1200 lines; by service, of the 500 newest read: api 500"
            ),
            "{text}"
        );
        assert!(
            text.contains("Exceptions, last 1 h: no stack traces."),
            "{text}"
        );
    }

    #[test]
    fn request_ids_complete_from_the_newest_lines() {
        fake_loki(|_, q| {
            assert_eq!(
                q,
                r#"{job="containerlogs"} |~ `request_id|requestId|req_id` |= "req-""#
            );
            streams(json!([
                {"stream": {"service": "api"}, "values": [
                    [ts(9), r#"{"level":"info","message":"done","request_id":"req-9"}"#],
                    [ts(7), r#"{"level":"info","message":"start","request_id":"req-7"}"#],
                ]},
                {"stream": {"service": "runner"}, "values": [
                    [ts(8), "level=info msg=step request_id=req-8"],
                    [ts(6), "level=info msg=step request_id=req-9"],
                    [ts(5), "level=info msg=other note=req-x"],
                ]},
            ]))
        });
        let values = testing::complete(&plugin(), "request_id", "req-", &[]).unwrap();
        assert_eq!(values, ["req-9", "req-8", "req-7"]);
    }

    #[test]
    fn services_complete_from_the_index_of_the_last_day() {
        testing::fake_http(|req| {
            let (path, query) = req.path_and_query.split_once('?').unwrap();
            assert_eq!(path, "/loki/api/v1/label/service/values");
            assert!(
                query.contains(&format!(
                    "query={}",
                    plue_plugin_sdk::http::encode(r#"{job="containerlogs"}"#)
                )),
                "{query}"
            );
            Ok(testing::response(
                200,
                &json!({"status": "success", "data": ["worker", "web", "api", "wiki", ""]})
                    .to_string(),
            ))
        });
        assert_eq!(
            testing::complete(&plugin(), "service", "w", &[]).unwrap(),
            ["web", "wiki", "worker"]
        );
    }
}
