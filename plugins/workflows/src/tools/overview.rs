//! `system_overview`, the agent's "start here": runs of the window by status
//! with an honest success rate, what needs attention now (stuck and waiting
//! runs, whatever their age), the latest failures with their cause, LLM usage
//! and runner health.

use plue_plugin_sdk::prelude::*;

use super::{CountsOut, failure_text, success_text};
use crate::args;
use crate::fmt::{self, Clock};
use crate::queries::{self, ActiveRun};
use crate::status::Status;

/// A running run older than this looks stuck.
pub const STUCK_AFTER_S: f64 = 3600.0;
/// A pending run waiting longer than this is worth a look.
pub const WAITING_AFTER_S: f64 = 600.0;
/// A heartbeat older than this is stale (the original's threshold).
pub const STALE_AFTER_S: f64 = 30.0;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct OverviewArgs {
    /// Default 1; fractions allowed.
    #[serde(default)]
    pub hours: Option<f64>,
}

// A run that needs attention.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Attention {
    pub run_id: i64,
    pub workflow: Option<String>,
    pub status: Status,
    /// Seconds running (running) or waiting (pending).
    pub for_seconds: Option<f64>,
    pub reason: String,
}

// A recent failure.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RecentFailure {
    pub run_id: i64,
    pub workflow: Option<String>,
    pub created_at: Option<String>,
    pub failed_step: Option<String>,
    // Its cause in one line.
    pub cause: String,
}

// LLM usage of the window.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LlmActivity {
    pub calls: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub avg_latency_ms: Option<f64>,
}

/// Runner counts.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct RunnerCounts {
    pub available: i64,
    pub claimed: i64,
    pub terminated: i64,
    // Available or claimed runners whose heartbeat is older than 30 s.
    pub stale: i64,
}

/// What `system_overview` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SystemOverview {
    pub hours: f64,
    pub window_start: String,
    // Runs created in the window.
    pub runs: CountsOut,
    // Mean duration of the window's finished (completed or failed) runs.
    pub avg_duration_seconds: Option<f64>,
    // Stuck running runs and long-waiting pending runs, whatever their age.
    pub attention: Vec<Attention>,
    // The newest failures of the window (at most 5).
    pub recent_failures: Vec<RecentFailure>,
    pub failures_in_window: usize,
    pub llm: LlmActivity,
    /// Null when the database has no runner_pool table.
    pub runners: Option<RunnerCounts>,
    pub definitions: i64,
}

pub fn system_overview(a: OverviewArgs) -> Result<Answer<SystemOverview>, ToolError> {
    let hours = args::hours(a.hours, 1.0)?;
    let o = queries::overview(hours)?;
    let clock = Clock::from_db(&o.now_utc);
    let failures = queries::failed_runs(hours, "", "", 50)?;
    let active = queries::active_runs(200)?;
    let runners = queries::runners()?;
    let c = &o.counts;

    let mut out = vec![format!(
        "System overview, last {} (since {}; times UTC)",
        fmt::hours_text(hours),
        clock.window_start(hours)
    )];
    out.push(format!(
        "Runs created: {} — completed {}, failed {}, running {}, pending {}, cancelled {}",
        c.total, c.completed, c.failed, c.running, c.pending, c.cancelled
    ));
    out.push(format!("Success rate: {}", success_text(c)));
    if o.avg_duration_s.is_some() {
        out.push(format!(
            "Mean duration of finished runs: {}",
            fmt::duration(o.avg_duration_s)
        ));
    }

    let attention = attention(&active.rows);
    if !attention.is_empty() {
        out.push("Needs attention now (any age):".into());
        for a in attention.iter().take(5) {
            out.push(format!(
                "  - run #{} {}: {}",
                a.run_id,
                fmt::workflow_name(a.workflow.as_deref(), None),
                a.reason
            ));
        }
        if attention.len() > 5 {
            out.push(format!(
                "  [… {} more: get_pending_tasks()]",
                attention.len() - 5
            ));
        }
    }

    let recent: Vec<RecentFailure> = failures
        .rows
        .iter()
        .take(5)
        .map(|f| {
            let (step, cause) = failure_text(f);
            RecentFailure {
                run_id: f.id,
                workflow: f.workflow.clone(),
                created_at: fmt::rfc3339(f.created_at.as_deref()),
                failed_step: step,
                cause,
            }
        })
        .collect();
    if recent.is_empty() {
        out.push(format!(
            "Failures: none in the last {}.",
            fmt::hours_text(hours)
        ));
    } else {
        out.push(format!(
            "Recent failures ({} of {}, newest first):",
            recent.len(),
            failures.rows.len()
        ));
        for (r, f) in recent.iter().zip(&failures.rows) {
            out.push(format!(
                "  - #{} {}, {}: {}",
                r.run_id,
                fmt::workflow_name(f.workflow.as_deref(), f.definition_id),
                clock.ago(f.completed_at.as_deref().or(f.created_at.as_deref())),
                fmt::cut(&r.cause, 150)
            ));
        }
    }
    out.push(format!(
        "LLM/agent activity: {} call(s), {} in / {} out tokens{}",
        o.llm_calls,
        fmt::thousands(o.llm_tokens_in),
        fmt::thousands(o.llm_tokens_out),
        o.llm_avg_latency_ms
            .map(|ms| format!(", mean latency {}", fmt::duration(Some(ms / 1000.0))))
            .unwrap_or_default()
    ));
    let runner_counts = runners.as_deref().map(count_runners);
    match &runner_counts {
        Some(n) => out.push(format!(
            "Runners: {} available, {} claimed, {} terminated; {} with a stale heartbeat (> 30 s)",
            n.available, n.claimed, n.terminated, n.stale
        )),
        None => out.push("Runners: this database has no runner_pool table.".into()),
    }
    out.push(format!("Workflow definitions: {}", o.definitions));
    let mut next = Vec::new();
    if let Some(f) = recent.first() {
        next.push(format!(
            "quick_debug(run_id={}) for the newest failure",
            f.run_id
        ));
    }
    if c.failed > 1 {
        next.push(format!(
            "analyze_failures(hours={}) for patterns",
            plue_plugin_sdk::time::trim_float(hours.max(24.0), 2)
        ));
    }
    if !attention.is_empty() {
        next.push("get_pending_tasks() and get_runner_pool() for what waits or hangs".into());
    }
    next.push("workflow_stats() per workflow".into());
    out.push(format!("Next: {}", next.join("; ")));

    let result = SystemOverview {
        hours,
        window_start: plue_plugin_sdk::time::rfc3339(clock.now - hours * 3600.0),
        runs: CountsOut::of(c),
        avg_duration_seconds: o.avg_duration_s,
        attention,
        recent_failures: recent,
        failures_in_window: failures.rows.len(),
        llm: LlmActivity {
            calls: o.llm_calls,
            tokens_in: o.llm_tokens_in,
            tokens_out: o.llm_tokens_out,
            avg_latency_ms: o.llm_avg_latency_ms,
        },
        runners: runner_counts,
        definitions: o.definitions,
    };
    Ok(Answer::new(out.join("\n"), result))
}

/// Runners by status, and how many of those not terminated have a stale heartbeat.
fn count_runners(runners: &[queries::Runner]) -> RunnerCounts {
    let mut n = RunnerCounts::default();
    for r in runners {
        match r.status.as_str() {
            "available" => n.available += 1,
            "claimed" => n.claimed += 1,
            "terminated" => n.terminated += 1,
            _ => {}
        }
        if r.status != "terminated" && r.heartbeat_age_s.is_none_or(|h| h > STALE_AFTER_S) {
            n.stale += 1;
        }
    }
    n
}

/// Running runs that look stuck and pending runs that wait long, longest first.
pub fn attention(active: &[ActiveRun]) -> Vec<Attention> {
    let mut items: Vec<Attention> = active
        .iter()
        .filter_map(|r| {
            let age = r.age_s?;
            let reason = match &r.status {
                Status::Running if age > STUCK_AFTER_S => {
                    format!("running for {} (looks stuck)", fmt::duration(Some(age)))
                }
                Status::Pending if age > WAITING_AFTER_S => format!(
                    "pending, waiting for a runner for {}",
                    fmt::duration(Some(age))
                ),
                _ => return None,
            };
            Some(Attention {
                run_id: r.id,
                workflow: r.workflow.clone(),
                status: r.status.clone(),
                for_seconds: Some(age),
                reason,
            })
        })
        .collect();
    items.sort_by(|a, b| {
        b.for_seconds
            .partial_cmp(&a.for_seconds)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    items
}

pub fn def() -> ToolDef {
    tool(
        "system_overview",
        "Start here for workflows: run status, stuck runs, failures, runners.",
        system_overview,
    )
    .title("System overview")
    .read_only()
}
