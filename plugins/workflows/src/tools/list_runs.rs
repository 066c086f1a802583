//! `list_workflow_runs`: recent runs with filters, the repository one included.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::args::{self, RunStatus};
use crate::fmt::{self, Clock};
use crate::queries::{self, RunFilter};
use crate::status::Status;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    #[schemars(extend("default" = 20))]
    pub limit: Option<i64>,
    #[serde(default)]
    pub status: Option<RunStatus>,
    /// Substring, case-insensitive.
    #[serde(default)]
    pub workflow_name: Option<String>,
    /// `owner/name` or `name`.
    #[serde(default)]
    pub repository: Option<String>,
    /// Created within; default any age.
    #[serde(default)]
    pub hours: Option<f64>,
}

// A run in the list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListedRunOut {
    pub id: i64,
    pub workflow: Option<String>,
    pub repository: Option<String>,
    pub status: Status,
    pub trigger_type: String,
    pub created_at: Option<String>,
    /// Seconds; until now for a running run; null when not started.
    pub duration_seconds: Option<f64>,
    // Names of the steps that failed.
    pub failed_steps: Option<String>,
    pub error_message: Option<String>,
}

/// What `list_workflow_runs` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunList {
    // Runs matching the filters, in all.
    pub total: i64,
    // The runs shown, newest first.
    pub runs: Vec<ListedRunOut>,
}

pub fn list_workflow_runs(a: ListArgs) -> Result<Answer<RunList>, ToolError> {
    let limit = args::limit("limit", a.limit, 20, 200)?;
    let hours = match a.hours {
        Some(h) => args::hours(Some(h), h)?,
        None => 0.0,
    };
    let name = args::filter(&a.workflow_name)
        .map(fmt::like_pattern)
        .unwrap_or_default();
    let repository = args::filter(&a.repository).unwrap_or_default().to_string();
    let status = a.status.map(RunStatus::as_str).unwrap_or("");
    let fetched = queries::list_runs(&RunFilter {
        status,
        name_pattern: &name,
        repository: &repository,
        hours,
        limit,
    })?;

    let mut filters = Vec::new();
    if !status.is_empty() {
        filters.push(format!("status={status}"));
    }
    if let Some(n) = args::filter(&a.workflow_name) {
        filters.push(format!("workflow_name contains {n:?}"));
    }
    if !repository.is_empty() {
        filters.push(format!("repository={repository}"));
    }
    if hours > 0.0 {
        filters.push(format!("created in the last {}", fmt::hours_text(hours)));
    }
    let filters = if filters.is_empty() {
        "no filters".to_string()
    } else {
        filters.join(", ")
    };

    let Some(first) = fetched.rows.first() else {
        let hint = if repository.is_empty() {
            ""
        } else {
            " (repository matches the definition's repository as owner/name or name)"
        };
        return Ok(Answer::new(
            format!("No workflow runs match ({filters}){hint}."),
            RunList {
                total: 0,
                runs: Vec::new(),
            },
        ));
    };
    let clock = Clock::from_db(&first.now_utc);
    let total = first.total;
    let mut cells = vec![vec![
        "run".to_string(),
        "status".into(),
        "workflow".into(),
        "trigger".into(),
        "created (UTC)".into(),
        "took".into(),
        "note".into(),
    ]];
    for r in &fetched.rows {
        let note = match &r.status {
            Status::Failed => match (&r.failed_steps, &r.error_message) {
                (_, Some(e)) => fmt::first_line(e, 70),
                (Some(s), None) => format!("failed step: {s}"),
                (None, None) => "no error recorded".into(),
            },
            Status::Running => r
                .running_steps
                .as_ref()
                .map(|s| format!("running step: {s}"))
                .unwrap_or_default(),
            Status::Pending => format!(
                "waiting {}",
                clock.ago(r.created_at.as_deref()).trim_end_matches(" ago")
            ),
            _ => r
                .failed_steps
                .as_ref()
                .map(|s| format!("failed step: {s}"))
                .unwrap_or_default(),
        };
        cells.push(vec![
            format!("#{}", r.id),
            r.status.badge(),
            fmt::workflow_name(r.workflow.as_deref(), r.definition_id),
            r.trigger_type.clone(),
            format!(
                "{} ({})",
                fmt::utc(r.created_at.as_deref()).trim_end_matches(" UTC"),
                clock.ago(r.created_at.as_deref())
            ),
            fmt::took(&r.status, r.started_at.as_deref(), r.duration_s),
            note,
        ]);
    }
    let mut out = vec![format!(
        "Workflow runs, newest first ({filters}): {} of {total} shown.",
        fetched.rows.len()
    )];
    out.extend(text::columns(&cells, ""));
    if let Some(note) = text::take(0..total, fetched.rows.len()).note(
        "runs",
        "raise `limit`, or filter by status, workflow_name, repository or hours",
    ) {
        out.push(note);
    }
    out.push(
        "Next: get_run_details(run_id=…) for steps; quick_debug(run_id=…) for why a run failed."
            .into(),
    );
    let runs = fetched
        .rows
        .iter()
        .map(|r| ListedRunOut {
            id: r.id,
            workflow: r.workflow.clone(),
            repository: r.repository.clone(),
            status: r.status.clone(),
            trigger_type: r.trigger_type.clone(),
            created_at: fmt::rfc3339(r.created_at.as_deref()),
            duration_seconds: r.started_at.as_ref().and(r.duration_s),
            failed_steps: r.failed_steps.clone(),
            error_message: r.error_message.clone(),
        })
        .collect();
    Ok(Answer::new(out.join("\n"), RunList { total, runs }))
}

pub fn def() -> ToolDef {
    tool(
        "list_workflow_runs",
        "Workflow runs, newest first, by status, workflow, repository and age.",
        list_workflow_runs,
    )
    .title("List workflow runs")
    .read_only()
}
