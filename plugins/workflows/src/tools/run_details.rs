//! `get_run_details`: one run, step by step.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::{RunSummary, StepSummary, json_line, not_found, run_title, step_cells, trigger_text};
use crate::args;
use crate::fmt::{self, Clock};
use crate::queries;
use crate::status::Status;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DetailsArgs {
    pub run_id: i64,
}

/// What `get_run_details` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunDetails {
    pub run: RunSummary,
    pub file_path: Option<String>,
    // The trigger payload as stored.
    pub trigger_payload: Option<Json>,
    pub inputs: Option<Json>,
    pub outputs: Option<Json>,
    pub steps: Vec<StepSummary>,
}

pub fn get_run_details(a: DetailsArgs) -> Result<Answer<RunDetails>, ToolError> {
    let id = args::id("run_id", a.run_id)?;
    let run = queries::run(id)?.ok_or_else(|| not_found(id))?;
    let steps = queries::steps(id, id)?;
    let clock = Clock::from_db(&run.now_utc);

    let mut out = vec![format!(
        "Run #{} {}: {}",
        run.id,
        run_title(&run),
        run.status.as_str().to_uppercase()
    )];
    if let Some(path) = &run.file_path {
        out.push(format!("File: {path}"));
    }
    out.push(format!("Trigger: {}", trigger_text(&run)));
    out.push(format!(
        "Created {}; started {}; completed {}",
        clock.at(run.created_at.as_deref()),
        fmt::utc(run.started_at.as_deref()),
        fmt::utc(run.completed_at.as_deref())
    ));
    out.push(format!(
        "Took: {}",
        fmt::took(&run.status, run.started_at.as_deref(), run.duration_s)
    ));
    match &run.error_message {
        Some(e) => {
            let (shown, left) = text::head_lines(e.trim(), 6);
            out.push(format!("Error: {}", shown.replace('\n', "\n       ")));
            if left > 0 {
                out.push(format!("       (+{left} more lines)"));
            }
        }
        None if run.status == Status::Failed => out.push("Error: none recorded on the run (Plue leaves it empty when a step fails; see the failed steps)".into()),
        None => {}
    }
    if let Some(i) = &run.inputs {
        out.push(format!("Inputs: {}", json_line(i, 300)));
    }
    if let Some(o) = &run.outputs {
        out.push(format!("Outputs: {}", json_line(o, 300)));
    }
    if steps.is_empty() {
        out.push(match &run.status {
            Status::Pending => "Steps: none yet (the run has not started).".to_string(),
            _ => "Steps: none recorded (the run ended before any step was created).".to_string(),
        });
    } else {
        out.push(format!(
            "Steps ({}; times are durations, step ids go to get_step_logs):",
            steps.len()
        ));
        let cells: Vec<Vec<String>> = steps.iter().map(step_cells).collect();
        out.extend(text::columns(&cells, "  "));
    }
    let failed: Vec<_> = steps
        .iter()
        .filter(|s| s.failed() && !s.dependency_failure())
        .collect();
    let mut next = Vec::new();
    if run.status == Status::Failed || !failed.is_empty() {
        next.push(format!("quick_debug(run_id={})", run.id));
    }
    if let Some(s) = failed
        .first()
        .copied()
        .or_else(|| steps.iter().find(|s| s.status == Status::Running))
    {
        next.push(format!("get_step_logs(step_id={})", s.id));
    }
    next.push(format!("get_run_logs(run_id={})", run.id));
    out.push(format!("Next: {}", next.join(", ")));

    let mut links = vec![crate::resources::run_link(run.id, "this run's summary")];
    if let Some(s) = failed.first() {
        links.push(crate::resources::step_log_link(
            s.id,
            &format!("log of failed step '{}'", s.name),
        ));
    }
    let details = RunDetails {
        run: RunSummary::of(&run),
        file_path: run.file_path.clone(),
        trigger_payload: run.trigger_payload.clone(),
        inputs: run.inputs.clone(),
        outputs: run.outputs.clone(),
        steps: steps.iter().map(StepSummary::of).collect(),
    };
    let answer = Answer::new(out.join("\n"), details);
    Ok(links.into_iter().fold(answer, Answer::with_link))
}

pub fn def() -> ToolDef {
    tool(
        "get_run_details",
        "One run: trigger, timeline, error, steps.",
        get_run_details,
    )
    .title("Run details")
    .read_only()
}
