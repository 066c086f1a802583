//! `get_run_logs`: a whole run's logs, grouped by step and bounded per step,
//! agent tokens joined and tool JSON compact, saying how to fetch what it
//! leaves out.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;

use crate::args;
use crate::fmt;
use crate::logs::{self, Piece};
use crate::queries;
use crate::status::Status;
use crate::tools::exit_suffix;

/// Display lines of all steps together in `get_run_logs`.
const RUN_LINES: usize = 160;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunLogsArgs {
    pub run_id: i64,
    /// Default 1000, whole run.
    #[serde(default)]
    #[schemars(range(min = 1, max = 5000))]
    pub limit: Option<i64>,
}

// One step's part of `get_run_logs`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepLogView {
    pub step_id: i64,
    pub name: String,
    pub status: Status,
    // All rows the step has.
    pub log_rows: i64,
    // Display lines, with `[… N rows left out …]` markers.
    pub lines: Vec<String>,
}

/// What `get_run_logs` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunLogs {
    pub run_id: i64,
    pub status: Status,
    pub steps: Vec<StepLogView>,
    // Rows read from the database.
    pub rows_read: usize,
    // Rows existed beyond `limit` or the database's row cap.
    pub truncated: bool,
}

pub fn get_run_logs(a: RunLogsArgs) -> Result<Answer<RunLogs>, ToolError> {
    let id = args::id("run_id", a.run_id)?;
    let limit = args::limit("limit", a.limit, 1000, 5000)?;
    let run = queries::run(id)?.ok_or_else(|| super::not_found(id))?;
    let steps = queries::steps(id, id)?;
    let fetched = queries::run_logs(id, 150, limit)?;
    let mut by_step: BTreeMap<i64, Vec<logs::LogRow>> = BTreeMap::new();
    for r in &fetched.rows {
        by_step.entry(r.step_id).or_default().push(r.row.clone());
    }
    let with_logs = steps
        .iter()
        .filter(|s| by_step.contains_key(&s.id))
        .count()
        .max(1);
    let per_step = (RUN_LINES / with_logs).clamp(12, 60);

    let mut out = vec![format!(
        "Logs of run #{} {} ({}), step by step; agent tokens joined, tool JSON compact, long steps cut to about {per_step} lines.",
        run.id,
        super::run_title(&run),
        run.status
    )];
    let mut result = RunLogs {
        run_id: run.id,
        status: run.status.clone(),
        steps: Vec::new(),
        rows_read: fetched.rows.len(),
        truncated: fetched.truncated || fetched.rows.len() as i64 >= limit,
    };
    if steps.is_empty() {
        out.push("The run has no steps, so no logs.".into());
        if let Some(e) = &run.error_message {
            out.push(format!("Run error: {}", fmt::one_line(e, 400)));
        }
    }
    for step in &steps {
        out.push(format!(
            "── #{} {} ({}, {}{}, {}) — {} row(s) ──",
            step.id,
            step.name,
            step.step_type,
            step.status,
            exit_suffix(step.exit_code),
            fmt::took(&step.status, step.started_at.as_deref(), step.duration_s),
            step.log_rows
        ));
        let mut lines = Vec::new();
        match by_step.get(&step.id) {
            None if step.log_rows == 0 => lines.push("(no logs)".to_string()),
            None => lines.push(format!(
                "[{} rows not read (limit reached): get_step_logs(step_id={})]",
                step.log_rows, step.id
            )),
            Some(rows) => {
                let entries = logs::condense(rows);
                for piece in logs::view(&entries, step.log_rows as usize, per_step, 300) {
                    lines.push(match piece {
                        Piece::Line(l) => l,
                        Piece::Gap { rows, lines } if rows.is_empty() => format!("[… {lines} line(s) …]"),
                        Piece::Gap { rows, .. } => format!(
                            "[… {} row(s) left out: get_step_logs(step_id={}, offset={}, limit={}) …]",
                            rows.len(),
                            step.id,
                            rows.start,
                            rows.len().min(1000)
                        ),
                    });
                }
            }
        }
        out.extend(
            lines
                .iter()
                .map(|l| format!("  {}", l.replace('\n', "\n  "))),
        );
        result.steps.push(StepLogView {
            step_id: step.id,
            name: step.name.clone(),
            status: step.status.clone(),
            log_rows: step.log_rows,
            lines,
        });
    }
    if result.truncated {
        out.push(format!(
            "Only {} rows were read (limit {limit} or the database's row cap); use get_step_logs for a single step.",
            fetched.rows.len()
        ));
    }
    Ok(Answer::new(out.join("\n"), result))
}

pub fn def() -> ToolDef {
    tool(
        "get_run_logs",
        "A run's logs step by step, long steps cut.",
        get_run_logs,
    )
    .title("Run logs")
    .read_only()
}
