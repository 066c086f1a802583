//! `observability`, this plugin's part: targets down, firing alerts and the
//! traffic headline (requests, 5xx share, p95); with `full`, the per-job table,
//! the endpoints with most 5xx, authentication and database error shares,
//! plue-mcp's backends and broken rules.

use plue_plugin_sdk::PromptDef;
use plue_plugin_sdk::prelude::*;

use super::snapshot::{self, Snapshot};
use super::{HEADING, Status};
use crate::format::percent_of_ratio;

pub fn def() -> PromptDef {
    prompt(
        "observability",
        "Current state of the system: what is down, alerting, failing or slow, and what to look at next.",
        render,
    )
    .title("Observability briefing")
    .argument(
        "full",
        "`true` for the detailed briefing (per-job traffic, top 5xx endpoints, auth and database errors, rules); default a short one.",
    )
}

fn render(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let full = args.flag("full");
    let snap = match super::gather_or_unreachable() {
        Ok(s) => s,
        Err(part) => return Ok(part),
    };
    let mut lines = vec![HEADING.to_string()];
    let mut next: Vec<&str> = Vec::new();

    let (status, line, down) = super::targets(snap.health.value());
    lines.push(format!("Targets: {line}."));
    lines.extend(down);
    if status != Status::Ok {
        next.push("service_health");
    }
    match &snap.alerts {
        Ok(a) => {
            let (status, line, firing) = super::alerts(a.value());
            lines.push(format!("Alerts: {line}."));
            lines.extend(firing);
            if status != Status::Ok || a.value().pending > 0 {
                next.push("prometheus_alerts");
            }
        }
        Err(e) => lines.push(format!("Alerts: unavailable ({e}).")),
    }
    match &snap.traffic {
        Ok(t) => {
            let (e_status, e_line) = super::errors(t, &snap.metrics.requests);
            let (l_status, l_line) = super::latency(t);
            lines.push(format!("Traffic: {e_line}; {l_line}."));
            if e_status != Status::Ok {
                next.push("error_analysis");
            }
            if l_status != Status::Ok && l_status != Status::Unknown {
                next.push("latency_analysis");
            }
            if full && !t.jobs.is_empty() {
                lines.push(String::new());
                lines.push(super::traffic_table(t));
            }
        }
        Err(e) => lines.push(format!("Traffic: unavailable ({e}).")),
    }
    if full {
        lines.push(String::new());
        lines.extend(details(&snap));
        next.extend(["error_analysis", "latency_analysis", "prometheus_rules"]);
    }
    next.push("prometheus_query_range (trend of a saved query)");
    let mut seen = Vec::new();
    next.retain(|n| {
        let new = !seen.contains(n);
        seen.push(*n);
        new
    });
    lines.push(format!("Next: {}.", next.join(", ")));
    let mut briefing = Briefing::text(lines.join("\n")).described(if full {
        "Prometheus: targets, alerts, traffic, errors and rules now"
    } else {
        "Prometheus: targets, alerts and traffic now"
    });
    if full {
        for name in ["error-ratio", "latency-p95", "top-5xx-endpoints"] {
            briefing = briefing.with_link(super::link(name));
        }
    }
    Ok(briefing)
}

/// The `full` extras, one line each, from the saved queries and the rules API.
fn details(snap: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    match snapshot::saved_now(snap, "top-5xx-endpoints") {
        Ok(s) if s.iter().any(|x| x.value.unwrap_or(0.0) > 0.0) => {
            let failing: Vec<_> = s.iter().filter(|x| x.value.unwrap_or(0.0) > 0.0).collect();
            let shown = if failing.len() > 3 {
                format!(" (top 3 of {} endpoints)", failing.len())
            } else {
                String::new()
            };
            let top: Vec<String> = failing
                .iter()
                .take(3)
                .map(|x| {
                    let endpoint = format!("{} {}", x.label("method"), x.label("path"));
                    format!(
                        "{} {} ({})",
                        x.label("job"),
                        endpoint.trim(),
                        crate::format::count(x.value.unwrap_or(0.0))
                    )
                })
                .collect();
            out.push(format!(
                "Most 5xx in the last 1h{shown}: {}.",
                top.join("; ")
            ));
        }
        Ok(_) => out.push("Most 5xx in the last 1h: none.".into()),
        Err(e) => out.push(format!("Most 5xx in the last 1h: unavailable ({e}).")),
    }
    out.push(ratio_line(snap, "auth-failure-ratio", "Auth failures", 0.2));
    out.push(ratio_line(
        snap,
        "db-query-error-ratio",
        "Database query errors",
        0.01,
    ));
    match snapshot::saved_now(snap, "mcp-backends") {
        Ok(s) if s.is_empty() => {}
        Ok(s) => {
            let down: Vec<String> = s
                .iter()
                .filter(|x| x.value == Some(0.0))
                .map(|x| format!("{} → {}", x.label("plugin"), x.label("endpoint")))
                .collect();
            out.push(if down.is_empty() {
                format!("plue-mcp backends: all {} reachable.", s.len())
            } else {
                format!("plue-mcp backends DOWN: {}.", down.join(", "))
            });
        }
        Err(e) => out.push(format!("plue-mcp backends: unavailable ({e}).")),
    }
    out.push(match snapshot::rule_health() {
        Ok((0, total, _)) => format!("Rules: all {total} healthy."),
        Ok((bad, total, names)) => format!(
            "Rules: {bad} of {total} failing to evaluate: {}.",
            names.join("; ")
        ),
        Err(e) => format!("Rules: unavailable ({e})."),
    });
    out
}

/// `Auth failures: 12% (WARN above 20%)`: the largest share of a ratio saved query.
fn ratio_line(snap: &Snapshot, name: &str, label: &str, threshold: f64) -> String {
    match snapshot::saved_now(snap, name) {
        Ok(s) => match s.iter().find_map(|x| x.value.map(|v| (x, v))) {
            None => format!("{label}: no data in the last 5m."),
            Some((x, v)) => {
                let who = match x.name().as_str() {
                    "total" => String::new(),
                    n => format!(" ({n})"),
                };
                let flag = if v > threshold {
                    format!(
                        ", above the alert threshold {}",
                        percent_of_ratio(threshold)
                    )
                } else {
                    String::new()
                };
                format!("{label}: {}{who} over 5m{flag}.", percent_of_ratio(v))
            }
        },
        Err(e) => format!("{label}: unavailable ({e})."),
    }
}
