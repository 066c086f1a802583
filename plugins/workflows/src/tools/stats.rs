//! `workflow_stats`: per workflow over a window: runs by status, success rate
//! of finished runs, duration percentiles of finished runs, and throughput.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::CountsOut;
use crate::args;
use crate::fmt::{self, Clock};
use crate::queries;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct StatsArgs {
    /// Default 24; fractions allowed.
    #[serde(default)]
    pub hours: Option<f64>,
    /// Substring, case-insensitive.
    #[serde(default)]
    pub workflow_name: Option<String>,
    /// `owner/name` or `name`.
    #[serde(default)]
    pub repository: Option<String>,
}

// Statistics of one workflow.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkflowStats {
    /// Null when its definition was deleted.
    pub workflow: Option<String>,
    pub definition_id: Option<i64>,
    pub repository: Option<String>,
    // Runs created in the window, by status; success rate over finished runs.
    pub runs: CountsOut,
    /// Durations of finished (completed or failed) runs, in seconds.
    pub avg_seconds: Option<f64>,
    pub p50_seconds: Option<f64>,
    pub p95_seconds: Option<f64>,
    pub min_seconds: Option<f64>,
    pub max_seconds: Option<f64>,
    // Runs created per hour over the window.
    pub runs_per_hour: f64,
    pub last_run_at: Option<String>,
}

/// What `workflow_stats` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Stats {
    pub hours: f64,
    pub workflows: Vec<WorkflowStats>,
}

pub fn workflow_stats(a: StatsArgs) -> Result<Answer<Stats>, ToolError> {
    let hours = args::hours(a.hours, 24.0)?;
    let name = args::filter(&a.workflow_name)
        .map(fmt::like_pattern)
        .unwrap_or_default();
    let repository = args::filter(&a.repository).unwrap_or_default().to_string();
    let fetched = queries::workflow_stats(hours, &name, &repository)?;
    let Some(first) = fetched.rows.first() else {
        return Ok(Answer::new(
            format!(
                "No workflow runs were created in the last {}{}.",
                fmt::hours_text(hours),
                if name.is_empty() && repository.is_empty() {
                    ""
                } else {
                    " matching the filters"
                }
            ),
            Stats {
                hours,
                workflows: Vec::new(),
            },
        ));
    };
    let clock = Clock::from_db(&first.now_utc);
    let mut rows = vec![
        [
            "workflow",
            "runs",
            "ok",
            "failed",
            "cancelled",
            "active",
            "success",
            "avg",
            "p50",
            "p95",
            "max",
            "runs/h",
            "last run",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
    ];
    let mut workflows = Vec::new();
    for s in &fetched.rows {
        let c = &s.counts;
        let per_hour = c.total as f64 / hours;
        rows.push(vec![
            fmt::workflow_name(s.workflow.as_deref(), s.definition_id),
            c.total.to_string(),
            c.completed.to_string(),
            c.failed.to_string(),
            c.cancelled.to_string(),
            (c.running + c.pending).to_string(),
            fmt::percent_text(fmt::percent(c.completed, c.completed + c.failed)),
            fmt::duration(s.avg_s),
            fmt::duration(s.p50_s),
            fmt::duration(s.p95_s),
            fmt::duration(s.max_s),
            plue_plugin_sdk::time::trim_float(per_hour, 2),
            clock.ago(s.last_run_at.as_deref()),
        ]);
        workflows.push(WorkflowStats {
            workflow: s.workflow.clone(),
            definition_id: s.definition_id,
            repository: s.repository.clone(),
            runs: CountsOut::of(c),
            avg_seconds: s.avg_s,
            p50_seconds: s.p50_s,
            p95_seconds: s.p95_s,
            min_seconds: s.min_s,
            max_seconds: s.max_s,
            runs_per_hour: per_hour,
            last_run_at: fmt::rfc3339(s.last_run_at.as_deref()),
        });
    }
    let mut out = vec![format!(
        "Workflow stats, last {} (since {}): runs created in the window, busiest first.",
        fmt::hours_text(hours),
        clock.window_start(hours)
    )];
    out.extend(text::columns(&rows, ""));
    out.push(
        "success = completed ÷ (completed + failed); cancelled and active (running or pending) runs are not counted. \
         Durations are over finished (completed or failed) runs."
            .into(),
    );
    if fetched.truncated {
        out.push("More workflows exist than shown (the database's row cap); filter by workflow_name or repository.".into());
    }
    Ok(Answer::new(out.join("\n"), Stats { hours, workflows }))
}

pub fn def() -> ToolDef {
    tool(
        "workflow_stats",
        "Per workflow: runs by status, success rate, duration percentiles.",
        workflow_stats,
    )
    .title("Workflow statistics")
    .read_only()
}
