//! `health-check`, this plugin's part: one verdict line per check (targets,
//! alerts, 5xx share, p95 latency); with `full`, also rules, authentication and
//! database error shares and plue-mcp's backends, and the evidence behind each
//! failing check. `quick` is the default; `full` wins when both are given.

use plue_plugin_sdk::PromptDef;
use plue_plugin_sdk::prelude::*;

use super::snapshot::{self, Snapshot};
use super::{HEADING, Status};
use crate::format::percent_of_ratio;

pub fn def() -> PromptDef {
    prompt(
        "health-check",
        "Health verdict per check (OK, WARN, FAIL, UNKNOWN) with the numbers behind it.",
        render,
    )
    .title("Health check")
    .argument("quick", "`true` for one line per check (the default).")
    .argument(
        "full",
        "`true` to add more checks (rules, auth, database errors, plue-mcp backends) and the evidence behind each failure.",
    )
}

/// One check's line: `FAIL  targets: 5 of 6 targets up`.
fn check(status: Status, name: &str, text: &str) -> String {
    format!("{:<8}{name}: {text}", status.word())
}

fn render(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let full = args.flag("full");
    let snap = match super::gather_or_unreachable() {
        Ok(s) => s,
        Err(part) => return Ok(part),
    };
    let mut checks: Vec<(Status, String)> = Vec::new();
    let mut evidence: Vec<String> = Vec::new();
    let (s, line, down) = super::targets(snap.health.value());
    checks.push((s, check(s, "targets", &line)));
    evidence.extend(down);
    match &snap.alerts {
        Ok(a) => {
            let (s, line, firing) = super::alerts(a.value());
            checks.push((s, check(s, "alerts", &line)));
            evidence.extend(firing);
        }
        Err(e) => checks.push((
            Status::Unknown,
            check(Status::Unknown, "alerts", &e.to_string()),
        )),
    }
    match &snap.traffic {
        Ok(t) => {
            let (s, line) = super::errors(t, &snap.metrics.requests);
            checks.push((
                s,
                check(s, "5xx", &format!("{line} (FAIL above 5%, WARN above 1%)")),
            ));
            let (s, line) = super::latency(t);
            checks.push((
                s,
                check(s, "latency", &format!("{line} (WARN above 1000 ms)")),
            ));
        }
        Err(e) => checks.push((
            Status::Unknown,
            check(Status::Unknown, "traffic", &e.to_string()),
        )),
    }
    if full {
        checks.extend(full_checks(&snap));
    }
    let worst = checks
        .iter()
        .map(|(s, _)| *s)
        .min()
        .unwrap_or(Status::Unknown);
    let mut lines = vec![HEADING.to_string()];
    lines.extend(checks.iter().map(|(_, l)| l.clone()));
    if full && !evidence.is_empty() {
        lines.push(String::new());
        lines.extend(evidence);
    }
    let next = match worst {
        Status::Ok => "Next: nothing failing here; observability with `full` for the detail.",
        Status::Unknown => {
            "Next: nothing failing, but some checks have no data: observability-guide says why HTTP metrics can be empty; prometheus_series shows what exists."
        }
        _ => {
            "Next: service_health (targets), prometheus_alerts, error_analysis (5xx), latency_analysis, prometheus_rules: the first one matching a FAIL or WARN line."
        }
    };
    lines.push(next.into());
    Ok(Briefing::text(lines.join("\n")).described(format!("Prometheus health: {}", worst.word())))
}

/// The checks only `full` runs.
fn full_checks(snap: &Snapshot) -> Vec<(Status, String)> {
    let mut out = Vec::new();
    let (s, text) = match snapshot::rule_health() {
        Ok((0, total, _)) => (Status::Ok, format!("all {total} rules evaluate")),
        Ok((bad, total, names)) => (
            Status::Fail,
            format!(
                "{bad} of {total} rules fail to evaluate: {}",
                names.join("; ")
            ),
        ),
        Err(e) => (Status::Unknown, e.to_string()),
    };
    out.push((s, check(s, "rules", &text)));
    for (name, label, threshold) in [
        ("auth-failure-ratio", "auth failures", 0.2),
        ("db-query-error-ratio", "database errors", 0.01),
    ] {
        let (s, text) = match snapshot::saved_now(snap, name) {
            Ok(samples) => match samples.iter().find_map(|x| x.value.map(|v| (x, v))) {
                None => (Status::Unknown, "no data in the last 5m".to_string()),
                Some((x, v)) => {
                    let who = match x.name().as_str() {
                        "total" => String::new(),
                        n => format!(" {n}"),
                    };
                    let s = if v > threshold {
                        Status::Warn
                    } else {
                        Status::Ok
                    };
                    (
                        s,
                        format!(
                            "{}{who} over 5m (WARN above {})",
                            percent_of_ratio(v),
                            percent_of_ratio(threshold)
                        ),
                    )
                }
            },
            Err(e) => (Status::Unknown, e.to_string()),
        };
        out.push((s, check(s, label, &text)));
    }
    if let Ok(samples) = snapshot::saved_now(snap, "mcp-backends")
        && !samples.is_empty()
    {
        let down: Vec<String> = samples
            .iter()
            .filter(|x| x.value == Some(0.0))
            .map(|x| format!("{} → {}", x.label("plugin"), x.label("endpoint")))
            .collect();
        let (s, text) = if down.is_empty() {
            (Status::Ok, format!("all {} reachable", samples.len()))
        } else {
            (Status::Fail, format!("unreachable: {}", down.join(", ")))
        };
        out.push((s, check(s, "plue-mcp backends", &text)));
    }
    out
}
