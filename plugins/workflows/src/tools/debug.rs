//! `quick_debug`: one call that answers "why did this run fail" on one screen:
//! the cause in a sentence, the steps, the decisive log lines of the failed
//! steps (the first error and its stack trace, or an agent's failing tool
//! calls), the run's error, similar recent failures of the same workflow, the
//! last success to compare with, and the next tools to call. For a run that is
//! still running or waiting it says where it is stuck instead.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::{RunSummary, StepSummary, run_title, step_cells, trigger_text};
use crate::args;
use crate::fmt::{self, Clock};
use crate::logs::{self, LogRow};
use crate::queries::{self, FailedRun, Run, Step};
use crate::status::Status;

/// Decisive lines of the first failed step, and of each further one.
const FIRST_STEP_LINES: usize = 14;
const OTHER_STEP_LINES: usize = 6;
/// Failed steps whose logs are shown.
const STEPS_WITH_LOGS: usize = 3;
/// Steps listed before the rest are summarised.
const STEP_ROWS: usize = 12;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DebugArgs {
    /// Wins over `latest`.
    #[serde(default)]
    pub run_id: Option<i64>,
    /// Newest failed run (also without `run_id`).
    #[serde(default)]
    pub latest: Option<bool>,
}

// A failed (or stuck) step with its decisive lines.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepFinding {
    pub step_id: i64,
    pub name: String,
    pub step_type: String,
    pub status: Status,
    pub exit_code: Option<i64>,
    // The first error line (from its logs or its error message).
    pub first_error: Option<String>,
    // Its error message's first line (for shell steps the message is the whole stderr).
    pub error_message: Option<String>,
    pub log_rows: i64,
    // The lines that explain it, with `[… N lines …]` markers.
    pub decisive_lines: Vec<String>,
}

// Another failed run of the same workflow.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SimilarFailure {
    pub run_id: i64,
    pub created_at: Option<String>,
    pub failed_step: Option<String>,
    pub error: Option<String>,
    // The same step failed.
    pub same_step: bool,
    // The same error, numbers and ids aside.
    pub same_error: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RunRefOut {
    pub run_id: i64,
    pub created_at: Option<String>,
}

/// What `quick_debug` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct QuickDebug {
    // False when there was no failed run to debug.
    pub found: bool,
    // How the run was chosen: `run_id` or `latest failed run`.
    pub selected_by: String,
    pub run: Option<RunSummary>,
    // The cause in one sentence.
    pub cause: Option<String>,
    pub steps: Vec<StepSummary>,
    pub findings: Vec<StepFinding>,
    pub similar_failures: Vec<SimilarFailure>,
    // The newest successful run of the same workflow before this one.
    pub last_success: Option<RunRefOut>,
    // Tool calls worth making next.
    pub next: Vec<String>,
}

pub fn quick_debug(a: DebugArgs) -> Result<Answer<QuickDebug>, ToolError> {
    let (run, selected_by) = match a.run_id {
        Some(id) => {
            let id = args::id("run_id", id)?;
            (
                queries::run(id)?.ok_or_else(|| super::not_found(id))?,
                "run_id",
            )
        }
        None => match queries::latest_failed_run()? {
            Some(run) => (run, "latest failed run"),
            None => {
                let empty = QuickDebug {
                    found: false,
                    selected_by: "latest failed run".into(),
                    run: None,
                    cause: None,
                    steps: Vec::new(),
                    findings: Vec::new(),
                    similar_failures: Vec::new(),
                    last_success: None,
                    next: vec!["list_workflow_runs()".into(), "system_overview()".into()],
                };
                return Ok(Answer::new(
                    "No failed runs found to debug. list_workflow_runs() shows recent runs; quick_debug(run_id=…) debugs any of them.",
                    empty,
                ));
            }
        },
    };
    let clock = Clock::from_db(&run.now_utc);
    let steps = queries::steps(run.id, run.id)?;
    let failing: Vec<&Step> = steps.iter().filter(|s| s.failed()).collect();
    let roots: Vec<&Step> = failing
        .iter()
        .copied()
        .filter(|s| !s.dependency_failure())
        .collect();
    let running: Vec<&Step> = steps
        .iter()
        .filter(|s| s.status == Status::Running)
        .collect();

    // Logs of the steps that matter: the failed ones, else the running ones.
    let (focus, which): (Vec<&Step>, &str) = if !roots.is_empty() {
        (
            roots.iter().copied().take(STEPS_WITH_LOGS).collect(),
            "failed",
        )
    } else if run.status == Status::Running && !running.is_empty() {
        (
            running.iter().copied().take(STEPS_WITH_LOGS).collect(),
            "running",
        )
    } else {
        (Vec::new(), "")
    };
    let mut rows: BTreeMap<i64, Vec<LogRow>> = BTreeMap::new();
    let mut last_output: BTreeMap<i64, String> = BTreeMap::new();
    if focus.iter().any(|s| s.log_rows > 0) {
        for r in queries::decisive_logs(run.id, which)?.rows {
            if let Some(t) = r.created_at.clone() {
                last_output.insert(r.step_id, t);
            }
            rows.entry(r.step_id).or_default().push(r.row);
        }
    }
    let findings: Vec<StepFinding> = focus
        .iter()
        .enumerate()
        .map(|(i, s)| {
            finding(
                s,
                rows.get(&s.id).map(Vec::as_slice).unwrap_or(&[]),
                if i == 0 {
                    FIRST_STEP_LINES
                } else {
                    OTHER_STEP_LINES
                },
            )
        })
        .collect();

    let cause = cause(
        &run,
        &steps,
        &roots,
        &findings,
        &running,
        &last_output,
        &clock,
    );

    let (similar, last_success) = if run.status == Status::Failed {
        similar_and_last_success(&run, roots.first().copied(), findings.first())?
    } else {
        (Vec::new(), None)
    };

    let mut out = run_lines(
        &run,
        &clock,
        &cause,
        selected_by,
        a.run_id.is_some() && a.latest == Some(true),
    );
    out.push(String::new());
    out.extend(step_lines(&steps, run.id));
    out.extend(finding_lines(&findings, which));
    if run.status == Status::Failed {
        out.extend(history_lines(&run, &similar, last_success.as_ref(), &clock));
    }
    let next = next_steps(&run, &findings, &running, last_success.as_ref(), which);
    out.push(String::new());
    out.push("Next:".into());
    out.extend(next.iter().map(|n| format!("  - {n}")));

    let mut links = vec![crate::resources::run_link(
        run.id,
        "the debugged run's summary",
    )];
    if let Some(f) = findings.first() {
        links.push(crate::resources::step_log_link(
            f.step_id,
            &format!("log of step '{}'", f.name),
        ));
    }
    let result = QuickDebug {
        found: true,
        selected_by: selected_by.into(),
        run: Some(RunSummary::of(&run)),
        cause: Some(cause),
        steps: steps.iter().map(StepSummary::of).collect(),
        findings,
        similar_failures: similar
            .iter()
            .map(|(o, sig, same_step, same_error)| SimilarFailure {
                run_id: o.id,
                created_at: fmt::rfc3339(o.created_at.as_deref()),
                failed_step: sig.step.clone(),
                error: sig.shown.clone(),
                same_step: *same_step,
                same_error: *same_error,
            })
            .collect(),
        last_success: last_success.as_ref().map(|s| RunRefOut {
            run_id: s.id,
            created_at: fmt::rfc3339(s.created_at.as_deref()),
        }),
        next: next
            .iter()
            .map(|n| n.split(':').next().unwrap_or(n).to_string())
            .collect(),
    };
    let answer = Answer::new(out.join("\n"), result);
    Ok(links.into_iter().fold(answer, Answer::with_link))
}

/// Failed runs of the last 7 days like this one, same step and error first, and
/// the workflow's newest success before it.
fn similar_and_last_success(
    run: &Run,
    root: Option<&Step>,
    finding: Option<&StepFinding>,
) -> Result<(Vec<Similar>, Option<queries::RunRef>), ToolError> {
    let mut similar = Vec::new();
    let signature = Signature::of_run(run, root, finding);
    for other in queries::similar_failures(run.id, run.definition_id.unwrap_or(0))? {
        let theirs = Signature::of_failed(&other);
        let same_step = signature.step.is_some() && signature.step == theirs.step;
        let same_error = signature.error.is_some() && signature.error == theirs.error;
        if run.definition_id.is_none() && !same_error {
            continue; // no workflow to compare by: only the same error counts
        }
        similar.push((other, theirs, same_step, same_error));
    }
    similar.sort_by_key(|(o, _, same_step, same_error)| {
        (
            !(*same_step && *same_error),
            !*same_error,
            !*same_step,
            -o.id,
        )
    });
    let last_success = match run.definition_id {
        Some(def) => queries::last_success_before(def, run.id)?,
        None => None,
    };
    Ok((similar, last_success))
}

/// The run in a few lines: state, cause, trigger and timing, its own error.
fn run_lines(
    run: &Run,
    clock: &Clock,
    cause: &str,
    selected_by: &str,
    latest_ignored: bool,
) -> Vec<String> {
    let mut out = vec![format!(
        "quick_debug: run #{} {} is {}{}",
        run.id,
        run_title(run),
        run.status.as_str().to_uppercase(),
        if selected_by == "latest failed run" {
            " (the newest failed run)"
        } else {
            ""
        }
    )];
    if latest_ignored {
        out.push("(run_id given, so latest=true was not used)".into());
    }
    out.push(format!("Cause: {cause}"));
    out.push(format!(
        "Run: {} · created {} · {}",
        trigger_text(run),
        clock.at(run.created_at.as_deref()),
        match &run.status {
            Status::Pending => format!(
                "waiting for {}",
                fmt::duration(clock.since(run.created_at.as_deref()))
            ),
            Status::Running => fmt::took(&run.status, run.started_at.as_deref(), run.duration_s),
            _ => format!(
                "took {}",
                fmt::took(&run.status, run.started_at.as_deref(), run.duration_s)
            ),
        }
    ));
    if let Some(e) = &run.error_message {
        let lines: Vec<&str> = e.trim().lines().collect();
        if lines.len() > 1 {
            out.push("Run error:".into());
            out.extend(
                lines
                    .iter()
                    .take(6)
                    .map(|l| format!("  {}", fmt::cut(l, 200))),
            );
            if lines.len() > 6 {
                out.push(format!(
                    "  [… {} more lines: get_run_details(run_id={})]",
                    lines.len() - 6,
                    run.id
                ));
            }
        }
    }
    out
}

/// The steps, failing and running ones first when there are too many to show.
fn step_lines(steps: &[Step], run_id: i64) -> Vec<String> {
    let mut out = Vec::new();
    if steps.is_empty() {
        out.push("Steps: none (the run has no steps).".into());
    } else {
        out.push(format!("Steps ({}):", steps.len()));
        let shown: Vec<&Step> = if steps.len() <= STEP_ROWS {
            steps.iter().collect()
        } else {
            let mut keep: Vec<&Step> = steps
                .iter()
                .filter(|s| s.failed() || s.status == Status::Running)
                .take(STEP_ROWS)
                .collect();
            for s in steps {
                if keep.len() >= STEP_ROWS {
                    break;
                }
                if !keep.iter().any(|k| k.id == s.id) {
                    keep.push(s);
                }
            }
            keep.sort_by_key(|s| s.id);
            keep
        };
        out.extend(text::columns(
            &shown.iter().map(|s| step_cells(s)).collect::<Vec<_>>(),
            "  ",
        ));
        if shown.len() < steps.len() {
            out.push(format!(
                "  [… {} more steps: get_run_details(run_id={})]",
                steps.len() - shown.len(),
                run_id
            ));
        }
    }
    out
}

/// Per step that matters: its decisive lines (or latest output), else its error.
fn finding_lines(findings: &[StepFinding], which: &str) -> Vec<String> {
    let mut out = Vec::new();
    for f in findings {
        out.push(String::new());
        let what = if which == "running" {
            "Latest output"
        } else {
            "Decisive lines"
        };
        out.push(format!(
            "{what} of '{}' (#{}, {} log rows):",
            f.name, f.step_id, f.log_rows
        ));
        if f.decisive_lines.is_empty() {
            match &f.error_message {
                Some(m) => out.push(format!("  (no logs) error: {m}")),
                None => out.push("  (no logs and no error message)".into()),
            }
        } else {
            out.extend(f.decisive_lines.iter().map(|l| format!("  {l}")));
            if f.step_type != "shell"
                && let Some(m) = &f.error_message
            {
                out.push(format!("  [step error] {m}"));
            }
        }
    }
    out
}

/// A failed run like the one debugged: its signature, and whether its failing
/// step and its error are the same.
type Similar = (FailedRun, Signature, bool, bool);

/// Similar failures of the workflow in the last 7 days and its last success.
fn history_lines(
    run: &Run,
    similar: &[Similar],
    last_success: Option<&queries::RunRef>,
    clock: &Clock,
) -> Vec<String> {
    let mut out = Vec::new();
    out.push(String::new());
    let workflow = super::run_workflow(run);
    if similar.is_empty() {
        out.push(format!(
            "Similar failures of {workflow} in the last 7 days: none."
        ));
    } else {
        out.push(format!(
            "Similar failures of {workflow} in the last 7 days ({}):",
            similar.len()
        ));
        let cells: Vec<Vec<String>> = similar
            .iter()
            .take(5)
            .map(|(o, sig, same_step, same_error)| {
                let tag = match (same_step, same_error) {
                    (true, true) => "same step, same error",
                    (false, true) => "same error",
                    (true, false) => "same step, other error",
                    (false, false) => "other cause",
                };
                vec![
                    format!("#{}", o.id),
                    clock.ago(o.created_at.as_deref()),
                    sig.step
                        .as_ref()
                        .map(|s| format!("step '{s}'"))
                        .unwrap_or_else(|| "no step".into()),
                    tag.to_string(),
                    fmt::cut(sig.shown.as_deref().unwrap_or("no error recorded"), 90),
                ]
            })
            .collect();
        out.extend(text::columns(&cells, "  "));
        if similar.len() > 5 {
            out.push(format!(
                "  [… {} more: analyze_failures(workflow_name=\"{workflow}\", hours=168)]",
                similar.len() - 5
            ));
        }
    }
    match last_success {
        Some(s) => out.push(format!(
            "Last success of {workflow} before this run: #{} ({}).",
            s.id,
            clock.ago(s.created_at.as_deref())
        )),
        None if run.definition_id.is_some() => {
            out.push(format!("No earlier successful run of {workflow}."))
        }
        None => {}
    }
    out
}

/// The decisive lines of one step from its log rows (or, without logs, from its error message).
pub(super) fn finding(step: &Step, rows: &[LogRow], max_lines: usize) -> StepFinding {
    let entries = logs::condense(rows);
    let excerpt = logs::decisive(&entries, max_lines);
    let from_message = step.error_message.as_deref().and_then(logs::first_error_in);
    // A shell step's message is its stderr: its logs say more. Agents and LLM
    // steps state their failure in the message.
    let first_error = if step.step_type == "shell" {
        excerpt.first_error.clone().or(from_message)
    } else {
        from_message.or(excerpt.first_error.clone())
    };
    let mut lines = excerpt.lines;
    if lines.is_empty()
        && step.log_rows == 0
        && let Some(m) = &step.error_message
    {
        // No logs: the message itself, condensed the same way.
        let rows = [LogRow::new("stderr", m, 0)];
        lines = logs::decisive(&logs::condense(&rows), max_lines).lines;
    }
    StepFinding {
        step_id: step.id,
        name: step.name.clone(),
        step_type: step.step_type.clone(),
        status: step.status.clone(),
        exit_code: step.exit_code,
        first_error,
        error_message: step
            .error_message
            .as_deref()
            .map(|m| fmt::first_line(m, 300)),
        log_rows: step.log_rows,
        decisive_lines: lines,
    }
}

// The cause in one sentence.
fn cause(
    run: &Run,
    steps: &[Step],
    roots: &[&Step],
    findings: &[StepFinding],
    running: &[&Step],
    last_output: &BTreeMap<i64, String>,
    clock: &Clock,
) -> String {
    let run_error = run
        .error_message
        .as_deref()
        .map(|e| fmt::first_line(e, 200));
    let mut parts = Vec::new();
    if let Some(e) = &run_error {
        parts.push(format!("run error {e}"));
    }
    for (i, s) in roots.iter().enumerate().take(2) {
        let f = findings.iter().find(|f| f.step_id == s.id);
        let head = format!(
            "step '{}' (#{}, {}{}) failed",
            s.name,
            s.id,
            s.step_type,
            super::exit_suffix(s.exit_code)
        );
        let error = f.and_then(|f| f.first_error.clone());
        let mut part = match error {
            Some(e) => format!("{head}: {}", fmt::cut(&e, 200)),
            None => format!("{head} without an error message or error lines"),
        };
        if i == 0 && s.step_type != "shell" {
            // An agent's failing tool calls are evidence for its own message.
            if let Some(tool) = f.and_then(|f| {
                f.decisive_lines
                    .iter()
                    .find(|l| l.starts_with("[tool_result"))
            }) {
                part.push_str(&format!(
                    "; its tool calls failed: {}",
                    fmt::cut(tool.split_once("] ").map_or(tool.as_str(), |x| x.1), 160)
                ));
            }
        }
        parts.push(part);
    }
    if roots.len() > 2 {
        parts.push(format!("and {} more failed steps", roots.len() - 2));
    }
    let dependents: Vec<&str> = steps
        .iter()
        .filter(|s| s.dependency_failure())
        .map(|s| s.name.as_str())
        .collect();
    if !dependents.is_empty() && !roots.is_empty() {
        parts.push(format!(
            "then {} skipped (dependency failed)",
            dependents.join(", ")
        ));
    }
    match &run.status {
        Status::Running => {
            let mut text = format!("still running, for {}", fmt::duration(run.duration_s));
            if let Some(s) = running.first() {
                text.push_str(&format!(
                    "; step '{}' (#{}) running for {}",
                    s.name,
                    s.id,
                    fmt::duration(s.duration_s)
                ));
                match last_output.get(&s.id) {
                    Some(t) => text.push_str(&format!(", last output {}", clock.ago(Some(t)))),
                    None if s.log_rows == 0 => text.push_str(", no output yet"),
                    None => {}
                }
                if let Some(r) = &s.runner {
                    let stale = s.runner_heartbeat_s.is_some_and(|h| h > 30.0);
                    text.push_str(&format!(
                        "; runner {r} last heartbeat {} ago{}",
                        fmt::duration(s.runner_heartbeat_s),
                        if stale {
                            " (stale: the runner looks dead)"
                        } else {
                            ""
                        }
                    ));
                }
                if let Some(e) = findings.first().and_then(|f| f.first_error.as_ref()) {
                    text.push_str(&format!("; latest error line: {}", fmt::cut(e, 160)));
                }
                if s.duration_s.is_some_and(|d| d > 3600.0) {
                    text.push_str(" — looks stuck");
                }
            }
            text
        }
        Status::Pending => format!(
            "not started: waiting for a runner for {} (see get_pending_tasks and get_runner_pool)",
            fmt::duration(clock.since(run.created_at.as_deref()))
        ),
        Status::Completed if parts.is_empty() => {
            "nothing failed: the run completed successfully".into()
        }
        _ if parts.is_empty() && run.status == Status::Failed && steps.is_empty() => {
            "the run failed before any step ran and recorded no error message".into()
        }
        _ if parts.is_empty() && run.status == Status::Failed => {
            "the run is marked failed, but no step failed and no error message was recorded".into()
        }
        _ if parts.is_empty() => format!("the run is {}; no step failed", run.status),
        Status::Failed if roots.is_empty() && !steps.is_empty() && run_error.is_some() => {
            format!("{} (no step failed on its own)", parts.join("; "))
        }
        Status::Failed if steps.is_empty() => format!("{} (before any step ran)", parts.join("; ")),
        Status::Cancelled => format!("cancelled; {}", parts.join("; ")),
        _ => parts.join("; "),
    }
}

/// What identifies a failure: the failing step and its normalised error.
struct Signature {
    step: Option<String>,
    error: Option<String>,
    /// The error as shown.
    shown: Option<String>,
}

impl Signature {
    fn new(step: Option<String>, shown: Option<String>) -> Signature {
        Signature {
            step,
            error: shown.as_deref().map(logs::normalize_error),
            shown,
        }
    }

    fn of_run(run: &Run, root: Option<&Step>, finding: Option<&StepFinding>) -> Signature {
        match root {
            Some(s) => {
                // Other runs are read from their step's message: read this one the same way.
                let shown = s
                    .error_message
                    .as_deref()
                    .and_then(logs::first_error_in)
                    .or_else(|| finding.and_then(|f| f.first_error.clone()));
                Signature::new(Some(s.name.clone()), shown)
            }
            None => Signature::new(
                None,
                run.error_message
                    .as_deref()
                    .map(|e| fmt::first_line(e, 300)),
            ),
        }
    }

    fn of_failed(f: &FailedRun) -> Signature {
        match &f.failed_step {
            Some(name) => Signature::new(
                Some(name.clone()),
                f.step_error
                    .as_deref()
                    .and_then(logs::first_error_in)
                    .or_else(|| f.error_message.as_deref().map(|e| fmt::first_line(e, 300))),
            ),
            None => Signature::new(
                None,
                f.error_message.as_deref().map(|e| fmt::first_line(e, 300)),
            ),
        }
    }
}

/// The tool calls worth making next, each with why.
fn next_steps(
    run: &Run,
    findings: &[StepFinding],
    running: &[&Step],
    last_success: Option<&queries::RunRef>,
    which: &str,
) -> Vec<String> {
    let mut next = Vec::new();
    if let Some(f) = findings.first() {
        let log_type = if f.step_type == "shell" {
            ", log_type=\"stderr\""
        } else {
            ""
        };
        let why = if which == "running" {
            "its latest output"
        } else {
            "the full error output"
        };
        next.push(format!(
            "get_step_logs(step_id={}{log_type}): {why} of '{}'",
            f.step_id, f.name
        ));
    }
    if let Some(s) = last_success {
        next.push(format!(
            "compare_runs(run_id_a={}, run_id_b={}): what changed since the last success",
            s.id, run.id
        ));
    }
    if !running.is_empty() || run.status == Status::Pending {
        next.push("get_runner_pool(): is a healthy runner holding it?".into());
        next.push("get_pending_tasks(): what else is waiting".into());
    }
    if let Some(name) = &run.workflow
        && run.status == Status::Failed
    {
        next.push(format!(
            "analyze_failures(workflow_name=\"{name}\", hours=168): how often it fails and why"
        ));
    }
    match run.definition_id {
        Some(def) if run.workflow.is_some() => next.push(format!(
            "get_workflow_definition(workflow_id={def}): the step DAG and its commands"
        )),
        _ => next.push(
            "list_workflow_runs(): its definition was deleted; other runs may tell more".into(),
        ),
    }
    next
}

pub fn def() -> ToolDef {
    tool(
        "quick_debug",
        "Why a run failed: cause, key log lines, similar failures, last success.",
        quick_debug,
    )
    .title("Quick debug a run")
    .read_only()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::testing::serve;

    fn run6() -> Json {
        json!({"id": 6, "definition_id": 1, "workflow": "ci", "file_path": ".plue/workflows/ci.py", "repository": "alice/plue",
               "trigger_type": "push", "trigger_payload": {"event": "push", "ref": "refs/heads/main", "commit_sha": "0123456789abcdef"},
               "status": "failed", "created_at": "2026-01-02T10:00:00", "started_at": "2026-01-02T10:00:03",
               "completed_at": "2026-01-02T10:01:28", "duration_s": 85.0, "now_utc": "2026-01-02T10:25:00"})
    }

    fn step(id: i64, name: &str, status: &str, exit: i64, error: Option<&str>) -> Json {
        json!({"id": id, "run_id": 6, "plan_id": format!("step_{}", id - 15), "name": name, "step_type": "shell", "status": status,
               "started_at": "2026-01-02T10:00:03", "completed_at": "2026-01-02T10:00:30", "duration_s": 27.0,
               "exit_code": exit, "error_message": error, "log_rows": if status == "failed" { 5 } else { 2 }})
    }

    #[test]
    fn failed_run_names_the_cause_on_one_screen() {
        let stderr = " FAIL  src/diff/parse.test.ts > parseHunk\nTypeError: Cannot read properties of undefined (reading 'oldPath')\n    at parseHunk (src/diff/parse.ts:44:17)\nnpm error code 1";
        serve(vec![
            ("WHERE r.status = 'failed' ORDER BY", vec![run6()]),
            (
                "FROM workflow_steps s\n  LEFT JOIN LATERAL",
                vec![
                    step(16, "install", "completed", 0, None),
                    step(18, "test", "failed", 1, Some(stderr)),
                ],
            ),
            (
                "row_number() OVER (PARTITION BY l.step_id, l.log_type",
                vec![
                    json!({"step_id": 18, "log_type": "stdout", "content": "> vitest run", "sequence": 0, "row_index": 0}),
                    json!({"step_id": 18, "log_type": "stderr", "content": stderr, "sequence": 1, "row_index": 1}),
                ],
            ),
            (
                "interval '7 days'",
                vec![
                    json!({"id": 4, "definition_id": 1, "workflow": "ci", "created_at": "2026-01-02T08:00:00",
                "failed_step_id": 12, "failed_step": "test", "step_type": "shell",
                "step_error": "TypeError: Cannot read properties of undefined (reading 'oldPath')\n    at x (a.ts:42:1)", "exit_code": 1,
                "now_utc": "2026-01-02T10:25:00"}),
                ],
            ),
            (
                "r.status = 'completed' AND r.id <>",
                vec![json!({"id": 5, "created_at": "2026-01-02T09:45:00"})],
            ),
        ]);
        let out =
            plue_plugin_sdk::testing::call(&crate::plugin(), "quick_debug", json!({})).unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with(
                "quick_debug: run #6 ci (alice/plue) is FAILED (the newest failed run)"
            ),
            "{text}"
        );
        assert!(text.contains("Cause: step 'test' (#18, shell, exit 1) failed: TypeError: Cannot read properties of undefined (reading 'oldPath')"), "{text}");
        assert!(
            text.contains("[stderr]     at parseHunk (src/diff/parse.ts:44:17)"),
            "{text}"
        );
        assert!(
            text.contains("#4  2h 25m ago  step 'test'  same step, same error"),
            "{text}"
        );
        assert!(
            text.contains("compare_runs(run_id_a=5, run_id_b=6)"),
            "{text}"
        );
        assert!(text.lines().count() <= 40, "{text}");
        let s = out.structured().unwrap();
        assert_eq!(s["similar_failures"][0]["same_error"], true);
        assert_eq!(s["last_success"]["run_id"], 5);
        assert_eq!(
            s["next"][0],
            "get_step_logs(step_id=18, log_type=\"stderr\")"
        );
        let links: Vec<&str> = out.links().iter().map(|l| l.uri()).collect();
        assert_eq!(links, ["plue://runs/6", "plue://steps/18/logs"]);
    }

    #[test]
    fn no_failed_run_is_an_answer() {
        serve(vec![("WHERE r.status = 'failed' ORDER BY", vec![])]);
        let out = plue_plugin_sdk::testing::call(
            &crate::plugin(),
            "quick_debug",
            json!({"latest": true}),
        )
        .unwrap();
        assert!(
            out.text_content()
                .starts_with("No failed runs found to debug.")
        );
        assert_eq!(out.structured().unwrap()["found"], false);
    }
}
