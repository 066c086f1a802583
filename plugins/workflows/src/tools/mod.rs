//! The thirteen tools, one module each (arguments, answer, handler and
//! definition), and what they share: the
//! structured shapes of a run and a step, trigger summaries and
//! the step's error line.

pub mod agents;
pub mod compare;
pub mod debug;
pub mod definition;
pub mod failures;
pub mod list_runs;
pub mod overview;
pub mod pending_tasks;
pub mod run_details;
pub mod run_logs;
pub mod runner_pool;
pub mod stats;
pub mod step_logs;

use plue_plugin_sdk::prelude::*;

use crate::fmt;
use crate::logs;
use crate::queries::{Counts, FailedRun, Run, Step};
use crate::status::Status;

// A run in structured content.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunSummary {
    pub id: i64,
    /// Null when its definition was deleted.
    pub workflow: Option<String>,
    pub definition_id: Option<i64>,
    /// `owner/name`.
    pub repository: Option<String>,
    pub status: Status,
    pub trigger_type: String,
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    /// Until now while running.
    pub duration_seconds: Option<f64>,
    pub error_message: Option<String>,
}

impl RunSummary {
    pub fn of(run: &Run) -> RunSummary {
        RunSummary {
            id: run.id,
            workflow: run.workflow.clone(),
            definition_id: run.definition_id,
            repository: run.repository.clone(),
            status: run.status.clone(),
            trigger_type: run.trigger_type.clone(),
            created_at: fmt::rfc3339(run.created_at.as_deref()),
            started_at: fmt::rfc3339(run.started_at.as_deref()),
            completed_at: fmt::rfc3339(run.completed_at.as_deref()),
            duration_seconds: run.started_at.as_ref().and(run.duration_s),
            error_message: run.error_message.clone(),
        }
    }
}

// A step in structured content.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StepSummary {
    // The step's database id (what `get_step_logs` takes).
    pub id: i64,
    // The plan's step id, such as `step_3`.
    pub plan_id: String,
    pub name: String,
    pub step_type: String,
    pub status: Status,
    /// Until now while running.
    pub duration_seconds: Option<f64>,
    pub exit_code: Option<i64>,
    // The first error line of its error message, when it has one.
    pub error: Option<String>,
    pub turns_used: Option<i64>,
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
    // How many rows its logs have.
    pub log_rows: i64,
    // The runner pod that claimed it.
    pub runner: Option<String>,
}

impl StepSummary {
    pub fn of(step: &Step) -> StepSummary {
        StepSummary {
            id: step.id,
            plan_id: step.plan_id.clone(),
            name: step.name.clone(),
            step_type: step.step_type.clone(),
            status: step.status.clone(),
            duration_seconds: step.started_at.as_ref().and(step.duration_s),
            exit_code: step.exit_code,
            error: step.error_message.as_deref().and_then(logs::first_error_in),
            turns_used: step.turns_used,
            tokens_in: step.tokens_in,
            tokens_out: step.tokens_out,
            log_rows: step.log_rows,
            runner: step.runner.clone(),
        }
    }
}

/// `exit 1`, `exit -1 (killed by a signal)`, or empty.
pub fn exit_text(code: Option<i64>) -> String {
    match code {
        Some(-1) => "exit -1 (signal)".into(),
        Some(c) => format!("exit {c}"),
        None => String::new(),
    }
}

/// `, exit 1` to append to a step's other facts, or nothing.
pub fn exit_suffix(code: Option<i64>) -> String {
    let exit = exit_text(code);
    if exit.is_empty() {
        exit
    } else {
        format!(", {exit}")
    }
}

/// `4 turns, 18,234 in / 1,450 out tokens`, or empty for steps without counts.
pub fn agent_text(step: &Step) -> String {
    match (step.turns_used, step.tokens_in, step.tokens_out) {
        (None, None, None) => String::new(),
        (turns, tin, tout) => {
            let turns = turns
                .map(|t| format!("{t} turn{}, ", if t == 1 { "" } else { "s" }))
                .unwrap_or_default();
            format!(
                "{turns}{} in / {} out tokens",
                fmt::thousands(tin.unwrap_or(0)),
                fmt::thousands(tout.unwrap_or(0))
            )
        }
    }
}

/// The cells of one step in a step table: id, name, type, status, time, exit code, detail.
pub fn step_cells(step: &Step) -> Vec<String> {
    let mut detail = Vec::new();
    let agent = agent_text(step);
    if !agent.is_empty() {
        detail.push(agent);
    }
    if step.dependency_failure() {
        detail.push("dependency failed (not the cause)".into());
    } else if let Some(e) = step.error_message.as_deref().and_then(logs::first_error_in) {
        detail.push(fmt::cut(&e, 90));
    }
    if let Some(runner) = &step.runner {
        let heartbeat = step
            .runner_heartbeat_s
            .map(|s| format!(", heartbeat {} ago", fmt::duration(Some(s))))
            .unwrap_or_default();
        detail.push(format!("runner {runner}{heartbeat}"));
    }
    vec![
        format!("#{}", step.id),
        step.name.clone(),
        step.step_type.clone(),
        step.status.badge(),
        fmt::took(&step.status, step.started_at.as_deref(), step.duration_s),
        exit_text(step.exit_code),
        detail.join("; "),
    ]
}

/// `push refs/heads/main @ 3f2c1a9b4e`, `pull_request #42 synchronize refs/heads/x @ …`, `schedule 0 2 * * *`.
pub fn trigger_text(run: &Run) -> String {
    let mut parts = vec![run.trigger_type.clone()];
    if let Some(Json::Object(p)) = &run.trigger_payload {
        if let Some(n) = p.get("number").and_then(Json::as_i64) {
            parts.push(format!("#{n}"));
        }
        for key in ["action", "ref", "cron"] {
            if let Some(v) = p.get(key).and_then(Json::as_str) {
                parts.push(v.to_string());
            }
        }
        if let Some(sha) = p.get("commit_sha").and_then(Json::as_str) {
            parts.push(format!("@ {}", sha.chars().take(10).collect::<String>()));
        }
    }
    parts.join(" ")
}

/// The commit a run was triggered for, if its payload names one.
pub fn commit_of(run: &Run) -> Option<String> {
    run.trigger_payload
        .as_ref()?
        .get("commit_sha")?
        .as_str()
        .map(str::to_string)
}

/// A workflow's name for a run.
pub fn run_workflow(run: &Run) -> String {
    fmt::workflow_name(run.workflow.as_deref(), run.definition_id)
}

/// `ci (alice/plue)` or `health-check (no repository)`.
pub fn run_title(run: &Run) -> String {
    match (&run.repository, &run.workflow) {
        (Some(repo), _) => format!("{} ({repo})", run_workflow(run)),
        (None, Some(_)) => format!("{} (no repository)", run_workflow(run)),
        (None, None) => run_workflow(run),
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CountsOut {
    pub total: i64,
    pub completed: i64,
    pub failed: i64,
    pub running: i64,
    pub pending: i64,
    pub cancelled: i64,
    // Finished runs the success rate counts: completed + failed.
    pub finished: i64,
    // completed ÷ (completed + failed) in percent; null when nothing finished.
    pub success_rate_percent: Option<f64>,
}

impl CountsOut {
    pub fn of(c: &Counts) -> CountsOut {
        CountsOut {
            total: c.total,
            completed: c.completed,
            failed: c.failed,
            running: c.running,
            pending: c.pending,
            cancelled: c.cancelled,
            finished: c.completed + c.failed,
            success_rate_percent: fmt::percent(c.completed, c.completed + c.failed),
        }
    }
}

/// `33.3% (1 of 3 finished runs completed; finished = completed + failed; 1 cancelled and 3 running or pending not counted)`.
pub fn success_text(c: &Counts) -> String {
    let finished = c.completed + c.failed;
    if finished == 0 {
        return format!(
            "n/a (no run finished; {} running or pending)",
            c.running + c.pending
        );
    }
    let mut left_out = Vec::new();
    if c.cancelled > 0 {
        left_out.push(format!("{} cancelled", c.cancelled));
    }
    let active = c.running + c.pending;
    if active > 0 {
        left_out.push(format!("{active} running or pending"));
    }
    let other = c.total - finished - c.cancelled - active;
    if other > 0 {
        left_out.push(format!("{other} in other states"));
    }
    let left_out = if left_out.is_empty() {
        String::new()
    } else {
        format!("; {} not counted", left_out.join(" and "))
    };
    format!(
        "{} ({} of {finished} finished runs completed; finished = completed + failed{left_out})",
        fmt::percent_text(fmt::percent(c.completed, finished)),
        c.completed
    )
}

/// Why a failed run failed, in one line: its error, its failing step and that
/// step's first error line; and the step's name.
pub fn failure_text(f: &FailedRun) -> (Option<String>, String) {
    let run_error = f.error_message.as_deref().map(|e| fmt::first_line(e, 160));
    let step_error = f.step_error.as_deref().and_then(logs::first_error_in);
    let text = match (&run_error, &f.failed_step) {
        (Some(r), Some(step)) => format!(
            "{r} · step '{step}': {}",
            step_error
                .as_deref()
                .map_or("no error message".into(), |e| fmt::cut(e, 160))
        ),
        (Some(r), None) => r.clone(),
        (None, Some(step)) => {
            let exit = exit_text(f.exit_code);
            let exit = if exit.is_empty() {
                String::new()
            } else {
                format!(" ({exit})")
            };
            match step_error {
                Some(e) => format!("step '{step}'{exit}: {}", fmt::cut(&e, 160)),
                None => format!("step '{step}'{exit} failed without an error message"),
            }
        }
        (None, None) => "no error message and no failed step recorded".into(),
    };
    (f.failed_step.clone(), text)
}

/// A JSON value on one line: strings as they are, anything else compact; cut.
pub fn json_text(value: &Json, max: usize) -> String {
    match value {
        Json::String(s) => fmt::one_line(s, max),
        other => json_line(other, max),
    }
}

/// A JSON value on one line, cut.
pub fn json_line(value: &Json, max: usize) -> String {
    fmt::cut(&value.to_string(), max)
}

/// The error for a run id that does not exist.
pub fn not_found(id: i64) -> ToolError {
    ToolError::failed(format!(
        "no workflow run #{id} exists; list_workflow_runs shows the recent runs and their ids"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_rate_counts_finished_runs_only() {
        let c = Counts {
            total: 6,
            completed: 1,
            failed: 2,
            running: 1,
            pending: 2,
            cancelled: 0,
        };
        assert_eq!(
            success_text(&c),
            "33.3% (1 of 3 finished runs completed; finished = completed + failed; 3 running or pending not counted)"
        );
        assert_eq!(CountsOut::of(&c).success_rate_percent, Some(33.3));
        let none = Counts {
            total: 2,
            running: 2,
            ..Counts::default()
        };
        assert_eq!(
            success_text(&none),
            "n/a (no run finished; 2 running or pending)"
        );
        assert_eq!(CountsOut::of(&none).success_rate_percent, None);
    }

    fn failed(
        id: i64,
        step: Option<&str>,
        step_error: Option<&str>,
        error: Option<&str>,
    ) -> FailedRun {
        FailedRun {
            id,
            definition_id: Some(1),
            workflow: Some("ci".into()),
            error_message: error.map(Into::into),
            created_at: None,
            completed_at: None,
            failed_step_id: step.map(|_| 10),
            failed_step: step.map(Into::into),
            step_type: Some("shell".into()),
            step_error: step_error.map(Into::into),
            exit_code: Some(1),
            now_utc: "2026-01-02T00:00:00".into(),
        }
    }

    #[test]
    fn failure_causes_read_as_one_line() {
        let f = failed(
            1,
            Some("test"),
            Some(" FAIL x\nTypeError: boom\n    at f (a.ts:1:2)"),
            None,
        );
        assert_eq!(failure_text(&f).1, "step 'test' (exit 1): TypeError: boom");
        let f = failed(
            2,
            Some("review"),
            Some("max turns"),
            Some("AgentMaxTurnsExceeded"),
        );
        assert_eq!(
            failure_text(&f).1,
            "AgentMaxTurnsExceeded · step 'review': max turns"
        );
        let f = failed(3, None, None, Some("ContainerStartFailed: x\nmore"));
        assert_eq!(
            failure_text(&f),
            (None, "ContainerStartFailed: x".to_string())
        );
        let f = failed(4, None, None, None);
        assert_eq!(
            failure_text(&f).1,
            "no error message and no failed step recorded"
        );
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Fake `sql::query` answers for the tools' unit tests: rows given as JSON
    //! objects, served by the SDK's routed fake database.

    use plue_plugin_sdk::testing;
    use serde_json::Value as Json;

    /// Serve each statement with the first handler whose needle it contains.
    pub fn serve(handlers: Vec<(&'static str, Vec<Json>)>) {
        let routes = handlers
            .into_iter()
            .map(|(needle, rows)| (needle, Ok(testing::json_rows(&rows))))
            .collect();
        testing::sql_routes(crate::queries::DB, routes);
    }
}
