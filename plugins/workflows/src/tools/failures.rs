//! `analyze_failures`: failed runs of a window grouped into patterns (same
//! workflow, same failing step, same error once numbers and ids are set aside),
//! most frequent first, with per-workflow failure counts and a success rate
//! computed from finished runs only.

use plue_plugin_sdk::prelude::*;

use super::{CountsOut, failure_text, success_text};
use crate::args;
use crate::fmt::{self, Clock};
use crate::logs;
use crate::queries::{self, Counts, FailedRun};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FailuresArgs {
    /// Default 24; fractions allowed.
    #[serde(default)]
    pub hours: Option<f64>,
    /// Substring, case-insensitive.
    #[serde(default)]
    pub workflow_name: Option<String>,
    /// `owner/name` or `name`.
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    #[schemars(extend("default" = 20))]
    pub limit: Option<i64>,
}

// One failure pattern.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Pattern {
    pub count: usize,
    pub workflow: Option<String>,
    pub failed_step: Option<String>,
    // The cause as shown (run error, step, first error line).
    pub cause: String,
    // Runs with this pattern, newest first.
    pub run_ids: Vec<i64>,
    pub last_at: Option<String>,
    pub first_at: Option<String>,
}

// Failures of one workflow.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkflowFailures {
    pub workflow: Option<String>,
    pub definition_id: Option<i64>,
    pub failed: i64,
    // completed + failed.
    pub finished: i64,
}

/// What `analyze_failures` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FailureAnalysis {
    pub hours: f64,
    // Runs created in the window (after the filters).
    pub runs: CountsOut,
    pub by_workflow: Vec<WorkflowFailures>,
    pub patterns: Vec<Pattern>,
    // Patterns found before `limit`.
    pub total_patterns: usize,
}

pub fn analyze_failures(a: FailuresArgs) -> Result<Answer<FailureAnalysis>, ToolError> {
    let hours = args::hours(a.hours, 24.0)?;
    let limit = args::limit("limit", a.limit, 20, 100)? as usize;
    let name = args::filter(&a.workflow_name)
        .map(fmt::like_pattern)
        .unwrap_or_default();
    let repository = args::filter(&a.repository).unwrap_or_default().to_string();
    let stats = queries::workflow_stats(hours, &name, &repository)?;
    let failed = queries::failed_runs(hours, &name, &repository, 1000)?;

    let totals = Counts::sum(stats.rows.iter().map(|s| &s.counts));
    let now = stats
        .rows
        .first()
        .map(|s| s.now_utc.clone())
        .or_else(|| failed.rows.first().map(|f| f.now_utc.clone()));
    let clock = now.as_deref().map(Clock::from_db);
    let filters = filters_text(&a.workflow_name, &repository);
    let since = clock
        .map(|c| format!(" (since {})", c.window_start(hours)))
        .unwrap_or_default();
    let mut out = vec![format!(
        "Failures, last {}{since}{filters}; times UTC",
        fmt::hours_text(hours)
    )];
    out.push(format!(
        "Runs created: {} — {} failed of {} finished; success rate {}",
        totals.total,
        totals.failed,
        totals.completed + totals.failed,
        success_text(&totals)
    ));
    let mut by_workflow: Vec<WorkflowFailures> = stats
        .rows
        .iter()
        .filter(|s| s.counts.completed + s.counts.failed > 0)
        .map(|s| WorkflowFailures {
            workflow: s.workflow.clone(),
            definition_id: s.definition_id,
            failed: s.counts.failed,
            finished: s.counts.completed + s.counts.failed,
        })
        .collect();
    by_workflow.sort_by_key(|w| (-w.failed, -w.finished));
    if !by_workflow.is_empty() {
        let items: Vec<String> = by_workflow
            .iter()
            .map(|w| {
                format!(
                    "{} {}/{}",
                    fmt::workflow_name(w.workflow.as_deref(), w.definition_id),
                    w.failed,
                    w.finished
                )
            })
            .collect();
        out.push(format!(
            "Per workflow (failed/finished): {}",
            items.join(" · ")
        ));
    }

    let patterns = group(&failed.rows);
    let total_patterns = patterns.len();
    if patterns.is_empty() {
        let finished = totals.completed + totals.failed;
        out.push(if finished > 0 {
            format!("No failures: all {finished} finished runs completed.")
        } else {
            "No failures (and no finished runs) in this window.".into()
        });
    } else {
        out.push(String::new());
        out.push(format!(
            "Failure patterns ({total_patterns}), most frequent first:"
        ));
        for p in patterns.iter().take(limit) {
            let (workflow, definition) = (p.workflow.as_deref(), p.definition_id);
            out.push(format!(
                "  [{}×] {} · {}",
                p.runs.len(),
                fmt::workflow_name(workflow, definition),
                fmt::cut(&p.cause, 180)
            ));
            let ids: Vec<String> = p.runs.iter().take(8).map(|r| format!("#{r}")).collect();
            let more = if p.runs.len() > 8 {
                format!(" +{}", p.runs.len() - 8)
            } else {
                String::new()
            };
            let when = match clock {
                Some(c) if p.runs.len() > 1 => format!(
                    "last {}, first {}",
                    c.ago(p.last_at.as_deref()),
                    c.ago(p.first_at.as_deref())
                ),
                Some(c) => c.at(p.last_at.as_deref()),
                None => fmt::utc(p.last_at.as_deref()),
            };
            out.push(format!("       runs {}{more} · {when}", ids.join(", ")));
        }
        if let Some(note) =
            plue_plugin_sdk::text::take(0..total_patterns, limit.min(total_patterns)).note(
                "patterns",
                "raise `limit`, or filter by workflow_name or repository",
            )
        {
            out.push(note);
        }
        if failed.truncated {
            out.push(
                "Only the newest 1000 failed runs were read; narrow `hours` for exact counts."
                    .into(),
            );
        }
        if let Some(top) = patterns.first().and_then(|p| p.runs.first()) {
            out.push(format!(
                "Next: quick_debug(run_id={top}) for the most frequent pattern's newest run."
            ));
        }
    }
    let links: Vec<Link> = patterns
        .iter()
        .take(3)
        .filter_map(|p| p.runs.first())
        .map(|r| crate::resources::run_link(*r, "newest run of a failure pattern"))
        .collect();
    let result = FailureAnalysis {
        hours,
        runs: CountsOut::of(&totals),
        by_workflow,
        patterns: patterns
            .into_iter()
            .take(limit)
            .map(|p| Pattern {
                count: p.runs.len(),
                workflow: p.workflow,
                failed_step: p.step,
                cause: p.cause,
                run_ids: p.runs,
                last_at: fmt::rfc3339(p.last_at.as_deref()),
                first_at: fmt::rfc3339(p.first_at.as_deref()),
            })
            .collect(),
        total_patterns,
    };
    let answer = Answer::new(out.join("\n"), result);
    Ok(links.into_iter().fold(answer, Answer::with_link))
}

/// `, workflow_name contains "ci", repository=acme/app`, or nothing without filters.
fn filters_text(workflow_name: &Option<String>, repository: &str) -> String {
    let mut filters = Vec::new();
    if let Some(n) = args::filter(workflow_name) {
        filters.push(format!("workflow_name contains {n:?}"));
    }
    if !repository.is_empty() {
        filters.push(format!("repository={repository}"));
    }
    if filters.is_empty() {
        String::new()
    } else {
        format!(", {}", filters.join(", "))
    }
}

struct Group {
    key: (Option<i64>, Option<String>, Option<String>, String),
    workflow: Option<String>,
    definition_id: Option<i64>,
    step: Option<String>,
    cause: String,
    runs: Vec<i64>,
    last_at: Option<String>,
    first_at: Option<String>,
}

/// Failed runs (newest first) grouped by workflow, failing step and normalised
/// error; biggest group first, then the most recent.
fn group(failed: &[FailedRun]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for f in failed {
        let (step, cause) = failure_text(f);
        let run_error = f
            .error_message
            .as_deref()
            .map(|e| logs::normalize_error(&fmt::first_line(e, 300)));
        let step_error = f
            .step_error
            .as_deref()
            .and_then(logs::first_error_in)
            .map(|e| logs::normalize_error(&e))
            .unwrap_or_default();
        let workflow_key = f
            .definition_id
            .or(if f.workflow.is_none() { Some(-1) } else { None });
        let key = (workflow_key, run_error, step.clone(), step_error);
        let at = f.completed_at.clone().or_else(|| f.created_at.clone());
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => {
                g.runs.push(f.id);
                g.first_at = at;
            }
            None => groups.push(Group {
                key,
                workflow: f.workflow.clone(),
                definition_id: f.definition_id,
                step,
                cause,
                runs: vec![f.id],
                last_at: at.clone(),
                first_at: at,
            }),
        }
    }
    // Stable: equal counts keep the newest-first order of their first run.
    groups.sort_by_key(|g| std::cmp::Reverse(g.runs.len()));
    groups
}

pub fn def() -> ToolDef {
    tool(
        "analyze_failures",
        "Failed runs grouped by workflow, step and error, with success rates.",
        analyze_failures,
    )
    .title("Analyze failures")
    .read_only()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, step: &str, error: &str) -> FailedRun {
        FailedRun {
            id,
            definition_id: Some(1),
            workflow: Some("ci".into()),
            error_message: None,
            created_at: Some(format!("2026-01-02T0{id}:00:00")),
            completed_at: None,
            failed_step_id: Some(id * 10),
            failed_step: Some(step.into()),
            step_type: Some("shell".into()),
            step_error: Some(error.into()),
            exit_code: Some(1),
            now_utc: "2026-01-02T10:00:00".into(),
        }
    }

    #[test]
    fn same_step_and_error_group_whatever_the_numbers() {
        let failed = [
            run(6, "test", "TypeError: x at parse.ts:44:17"),
            run(5, "lint", "eslint: 3 problems"),
            run(4, "test", "TypeError: x at parse.ts:42:17"),
            run(2, "test", "AssertionError: expected 500 to be 201"),
        ];
        let groups = group(&failed);
        assert_eq!(
            groups.iter().map(|g| g.runs.clone()).collect::<Vec<_>>(),
            [vec![6, 4], vec![5], vec![2]]
        );
        assert_eq!(groups[0].last_at.as_deref(), Some("2026-01-02T06:00:00"));
        assert_eq!(groups[0].first_at.as_deref(), Some("2026-01-02T04:00:00"));
    }
}
