//! `get_pending_tasks`: what waits for a runner (the `workflow_tasks` table when
//! it exists, else pending and running runs and their open steps), oldest first.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::args;
use crate::fmt::{self, Clock};
use crate::queries;
use crate::status::Status;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PendingArgs {
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    #[schemars(extend("default" = 50))]
    pub limit: Option<i64>,
}

// One waiting item: a task, or a pending or running run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Waiting {
    // `task` (a workflow_tasks row) or `run`.
    pub kind: String,
    // The task's or run's id.
    pub id: i64,
    pub status: String,
    // Tasks: `agent` or `workflow`. Runs: the workflow's name.
    pub label: Option<String>,
    // Tasks only.
    pub priority: Option<i64>,
    // Seconds since created (tasks and pending runs) or since started (running runs).
    pub waiting_seconds: Option<f64>,
    /// Runs: seconds from creation to start (or to now when not started).
    pub queued_seconds: Option<f64>,
    pub run_id: Option<i64>,
    pub session_id: Option<String>,
    // Runs: their pending and running steps (id, name, status, runner).
    pub open_steps: Option<Json>,
}

/// What `get_pending_tasks` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Pending {
    // `workflow_tasks` when that table exists, else `workflow_runs`.
    pub source: String,
    pub total: i64,
    pub items: Vec<Waiting>,
}

pub fn get_pending_tasks(a: PendingArgs) -> Result<Answer<Pending>, ToolError> {
    let limit = args::limit("limit", a.limit, 50, 500)?;
    if queries::table_exists("workflow_tasks")?
        && let Some(tasks) = queries::pending_tasks(limit)?
    {
        return Ok(tasks_answer(tasks));
    }
    let fetched = queries::active_runs(limit)?;
    let Some(first) = fetched.rows.first() else {
        return Ok(Answer::new(
            "Nothing is waiting: no pending or running runs (there is no workflow_tasks table, so runs are the queue).",
            Pending {
                source: "workflow_runs".into(),
                total: 0,
                items: Vec::new(),
            },
        ));
    };
    let clock = Clock::from_db(&first.now_utc);
    let total = first.total;
    let pending: Vec<_> = fetched
        .rows
        .iter()
        .filter(|r| r.status == Status::Pending)
        .collect();
    let running = fetched.rows.len() - pending.len();
    let oldest_wait = pending
        .iter()
        .filter_map(|r| r.age_s)
        .fold(None, |m: Option<f64>, a| Some(m.map_or(a, |m| m.max(a))));
    let mut out = vec![format!(
        "Waiting work: no workflow_tasks table, so pending and running runs, oldest first ({} of {total}; times UTC): {} pending{}, {running} running",
        fetched.rows.len(),
        pending.len(),
        oldest_wait
            .map(|w| format!(" (oldest waiting {})", fmt::duration(Some(w))))
            .unwrap_or_default(),
    )];
    let mut items = Vec::new();
    let mut cells = Vec::new();
    for r in &fetched.rows {
        let steps = r
            .open_steps
            .as_ref()
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        let describe_step = |s: &Json| {
            let name = s.get("name").and_then(Json::as_str).unwrap_or("?");
            let status = s.get("status").and_then(Json::as_str).unwrap_or("?");
            match s.get("runner").and_then(Json::as_str) {
                Some(runner) => format!("{name} {status} on {runner}"),
                None if status == "pending" => format!("{name} waiting"),
                None => format!("{name} {status} (no runner)"),
            }
        };
        let steps_text = if steps.is_empty() {
            "no steps yet".to_string()
        } else {
            steps
                .iter()
                .map(describe_step)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let state = match &r.status {
            Status::Pending => format!("waiting for {}", fmt::duration(r.age_s)),
            _ => format!(
                "running for {} (waited {} to start)",
                fmt::duration(r.age_s),
                fmt::duration(r.queued_s)
            ),
        };
        cells.push(vec![
            format!("#{}", r.id),
            fmt::workflow_name(r.workflow.as_deref(), r.definition_id),
            r.status.badge(),
            format!("created {}", clock.ago(r.created_at.as_deref())),
            state,
            steps_text,
        ]);
        items.push(Waiting {
            kind: "run".into(),
            id: r.id,
            status: r.status.to_string(),
            label: r.workflow.clone(),
            priority: None,
            waiting_seconds: r.age_s,
            queued_seconds: r.queued_s,
            run_id: Some(r.id),
            session_id: None,
            open_steps: r.open_steps.clone(),
        });
    }
    out.extend(text::columns(&cells, "  "));
    if let Some(note) =
        plue_plugin_sdk::text::take(0..total, fetched.rows.len()).note("runs", "raise `limit`")
    {
        out.push(note);
    }
    if !pending.is_empty() {
        out.push("Pending runs wait for a runner: get_runner_pool() shows whether a healthy one is available.".into());
    }
    Ok(Answer::new(
        out.join("\n"),
        Pending {
            source: "workflow_runs".into(),
            total,
            items,
        },
    ))
}

/// The answer from a `workflow_tasks` table.
fn tasks_answer(tasks: Vec<queries::Task>) -> Answer<Pending> {
    let total = tasks.first().map_or(0, |t| t.total);
    if tasks.is_empty() {
        return Answer::new(
            "No tasks waiting in workflow_tasks (none is waiting, pending or assigned).",
            Pending {
                source: "workflow_tasks".into(),
                total: 0,
                items: Vec::new(),
            },
        );
    }
    let mut out = vec![format!(
        "Pending tasks from workflow_tasks (status waiting, pending or assigned), highest priority first, then oldest: {} of {total}",
        tasks.len()
    )];
    let mut cells = Vec::new();
    let mut items = Vec::new();
    for t in &tasks {
        let get = |k: &str| t.task.get(k).filter(|v| !v.is_null());
        let id = get("id").and_then(Json::as_i64).unwrap_or(0);
        let kind = get("workload_type")
            .and_then(Json::as_str)
            .map(str::to_string);
        let priority = get("priority").and_then(Json::as_i64);
        let status = get("status")
            .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_string))
            .unwrap_or_default();
        let run = get("workflow_run_id").and_then(Json::as_i64);
        let session = get("session_id").and_then(Json::as_str).map(str::to_string);
        let priority_text = priority.map_or("-".into(), |p| {
            let name = match p {
                0 => " (low)",
                1 => " (normal)",
                2 => " (high)",
                3 => " (critical)",
                _ => "",
            };
            format!("priority {p}{name}")
        });
        let link = match (run, &session) {
            (Some(r), _) => format!("run #{r}"),
            (None, Some(s)) => format!("session {s}"),
            _ => String::new(),
        };
        cells.push(vec![
            format!("task #{id}"),
            kind.clone().unwrap_or_default(),
            priority_text,
            status.clone(),
            format!("waited {}", fmt::duration(t.wait_s)),
            link,
        ]);
        items.push(Waiting {
            kind: "task".into(),
            id,
            status,
            label: kind,
            priority,
            waiting_seconds: t.wait_s,
            queued_seconds: None,
            run_id: run,
            session_id: session,
            open_steps: None,
        });
    }
    out.extend(text::columns(&cells, "  "));
    if let Some(note) =
        plue_plugin_sdk::text::take(0..total, tasks.len()).note("tasks", "raise `limit`")
    {
        out.push(note);
    }
    Answer::new(
        out.join("\n"),
        Pending {
            source: "workflow_tasks".into(),
            total,
            items,
        },
    )
}

pub fn def() -> ToolDef {
    tool(
        "get_pending_tasks",
        "What waits for a runner, oldest first, with wait time.",
        get_pending_tasks,
    )
    .title("Pending tasks")
    .read_only()
}
