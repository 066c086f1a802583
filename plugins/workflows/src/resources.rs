//! Resources: a run's summary (`plue://runs/{run_id}`, markdown) and a step's
//! log (`plue://steps/{step_id}/logs`, plain text, the tail kept), the links
//! tool answers and prompts carry to them, and the listing (the newest runs and
//! the failed steps of the newest failed runs). Reads reuse the tools' queries.

use plue_plugin_sdk::TemplateDef;
use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::args;
use crate::fmt::{self, Clock};
use crate::logs;
use crate::queries::{self, RunFilter};
use crate::status::Status;
use crate::tools::{exit_text, not_found, run_title, trigger_text};

/// The run-summary family.
pub const RUN_TEMPLATE: &str = "plue://runs/{run_id}";
/// The step-log family.
pub const STEP_LOG_TEMPLATE: &str = "plue://steps/{step_id}/logs";
/// Runs listed.
pub const LISTED_RUNS: i64 = 20;
/// Failed runs whose failed step's log is listed.
pub const LISTED_FAILED: i64 = 5;
/// Characters of log text a step-log read returns (its tail).
pub const LOG_BUDGET: usize = 16_000;
/// Steps in a run summary's table (failing and running ones are kept first).
pub const TABLE_STEPS: usize = 50;
/// Lines of a failed step's error message in a run summary, and characters of each.
const ERROR_LINES: usize = 12;
const ERROR_LINE_CHARS: usize = 300;
/// Rows of a step's log read for the tail.
const TAIL_ROWS: i64 = 1000;
/// Characters of one log entry in a step-log read.
const ENTRY_CHARS: usize = 2_000;
const MARKDOWN: &str = "text/markdown";
const PLAIN: &str = "text/plain";

/// A link to run `id`'s summary.
pub fn run_link(id: i64, what: &str) -> Link {
    Link::new(format!("plue://runs/{id}"), format!("run {id}"))
        .description(what.to_string())
        .mime_type(MARKDOWN)
}

/// A link to step `id`'s log.
pub fn step_log_link(id: i64, what: &str) -> Link {
    Link::new(format!("plue://steps/{id}/logs"), format!("step {id} log"))
        .description(what.to_string())
        .mime_type(PLAIN)
}

/// A positive id from a URI or prompt argument given as text, or an error that
/// says what to pass.
pub fn parse_id(name: &str, value: &str, hint: &str) -> Result<i64, ToolError> {
    match value.trim().trim_start_matches('#').parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ToolError::invalid(format!(
            "`{name}` must be a positive whole number such as 13, got `{value}`; {hint}"
        ))),
    }
}

/// The run family.
pub fn runs() -> TemplateDef {
    resources(
        RUN_TEMPLATE,
        "workflow-run",
        "A workflow run's summary: status, trigger, timing, each step with its status and duration, and the failed steps' errors.",
        read_run,
    )
    .title("Workflow run")
    .mime_type(MARKDOWN)
    .list(list_runs)
}

/// The step-log family.
pub fn step_logs() -> TemplateDef {
    resources(
        STEP_LOG_TEMPLATE,
        "workflow-step-log",
        "A workflow step's log as plain text (agent tokens joined, tool JSON compact); long logs keep their tail, with a note on what was left out.",
        read_step_log,
    )
    .title("Workflow step log")
    .mime_type(PLAIN)
    .list(list_step_logs)
}

/// The newest runs, newest first.
fn list_runs() -> Result<Vec<Link>, ToolError> {
    let runs = queries::list_runs(&RunFilter {
        status: "",
        name_pattern: "",
        repository: "",
        hours: 0.0,
        limit: LISTED_RUNS,
    })?;
    Ok(runs
        .rows
        .iter()
        .map(|r| {
            let name = fmt::workflow_name(r.workflow.as_deref(), r.definition_id);
            run_link(r.id, &format!("{name}: {}", r.status))
                .title(format!("Run #{} {name} ({})", r.id, r.status))
        })
        .collect())
}

/// The failed step of each of the newest failed runs (last 7 days).
fn list_step_logs() -> Result<Vec<Link>, ToolError> {
    let failed = queries::failed_runs(168.0, "", "", LISTED_FAILED)?;
    Ok(failed
        .rows
        .iter()
        .filter_map(|f| {
            let step = f.failed_step_id?;
            let name = f.failed_step.clone().unwrap_or_default();
            Some(
                step_log_link(step, &format!("failed step '{name}' of run {}", f.id))
                    .title(format!("Log of step #{step} '{name}' (run #{})", f.id)),
            )
        })
        .collect())
}

fn read_run(vars: &Vars) -> Result<Vec<Contents>, ToolError> {
    let id = parse_id(
        "run_id",
        vars.get("run_id")?,
        "list_workflow_runs shows run ids",
    )?;
    let markdown = run_markdown(id)?;
    Ok(vec![Contents::text(vars.uri(), MARKDOWN, markdown)])
}

/// Run `id` as markdown: header facts, a step table, the failed steps' errors.
pub fn run_markdown(id: i64) -> Result<String, ToolError> {
    let id = args::id("run_id", id)?;
    let run = queries::run(id)?.ok_or_else(|| not_found(id))?;
    let steps = queries::steps(id, id)?;
    let clock = Clock::from_db(&run.now_utc);
    let mut out = vec![
        format!(
            "# Run #{} {}: {}",
            run.id,
            run_title(&run),
            run.status.as_str().to_uppercase()
        ),
        String::new(),
        format!("- Trigger: {}", trigger_text(&run)),
        format!("- Created: {}", clock.at(run.created_at.as_deref())),
        format!(
            "- Took: {}",
            fmt::took(&run.status, run.started_at.as_deref(), run.duration_s)
        ),
    ];
    if let Some(e) = &run.error_message {
        out.push(format!("- Run error: {}", fmt::first_line(e, 300)));
    }
    out.push(String::new());
    if steps.is_empty() {
        out.push("No steps recorded.".into());
    } else {
        out.push(format!("## Steps ({})", steps.len()));
        out.push(String::new());
        out.push("| id | name | type | status | duration | exit |".into());
        out.push("|---|---|---|---|---|---|".into());
        // Failing and running steps first when the table must be cut, then in id order.
        let mut shown: Vec<&queries::Step> = steps
            .iter()
            .filter(|s| s.failed() || s.status == Status::Running)
            .chain(
                steps
                    .iter()
                    .filter(|s| !(s.failed() || s.status == Status::Running)),
            )
            .take(TABLE_STEPS)
            .collect();
        shown.sort_by_key(|s| s.id);
        for s in &shown {
            out.push(format!(
                "| {} | {} | {} | {} | {} | {} |",
                s.id,
                s.name.replace('|', "\\|"),
                s.step_type,
                s.status,
                fmt::took(&s.status, s.started_at.as_deref(), s.duration_s),
                exit_text(s.exit_code)
            ));
        }
        if shown.len() < steps.len() {
            out.push(String::new());
            out.push(format!(
                "({} of {} steps shown, failing and running ones first; get_run_details(run_id={id}) lists them all)",
                shown.len(),
                steps.len()
            ));
        }
    }
    let failed: Vec<_> = steps
        .iter()
        .filter(|s| s.failed() && !s.dependency_failure())
        .collect();
    for s in failed.iter().take(3) {
        out.push(String::new());
        out.push(format!("## Failed step #{} '{}'", s.id, s.name));
        out.push(String::new());
        match s.error_message.as_deref() {
            Some(m) => {
                if let Some(first) = logs::first_error_in(m) {
                    out.push(format!("First error: `{}`", fmt::cut(&first, 300)));
                    out.push(String::new());
                }
                let (head, left) = text::head_lines(m.trim(), ERROR_LINES);
                out.push("```".into());
                out.extend(head.lines().map(|l| fmt::cut(l, ERROR_LINE_CHARS)));
                out.push("```".into());
                if left > 0 {
                    out.push(format!("({left} more lines of the error message left out)"));
                }
            }
            None => out.push("No error message recorded.".into()),
        }
        out.push(format!(
            "Log: plue://steps/{}/logs ({} rows)",
            s.id, s.log_rows
        ));
    }
    if failed.len() > 3 {
        out.push(format!(
            "\n({} more failed steps: get_run_details(run_id={id}))",
            failed.len() - 3
        ));
    }
    out.push(String::new());
    let next = if run.status == Status::Failed {
        format!("Next: quick_debug(run_id={id}), get_run_logs(run_id={id})")
    } else {
        format!("Next: get_run_details(run_id={id}), get_run_logs(run_id={id})")
    };
    out.push(next);
    Ok(out.join("\n"))
}

fn read_step_log(vars: &Vars) -> Result<Vec<Contents>, ToolError> {
    let id = parse_id(
        "step_id",
        vars.get("step_id")?,
        "get_run_details(run_id=…) lists a run's step ids",
    )?;
    let text = step_log_text(id)?;
    Ok(vec![Contents::text(vars.uri(), PLAIN, text)])
}

/// Step `id`'s log as text: its last rows within [`LOG_BUDGET`] characters,
/// with a note on the rows left out before them.
pub fn step_log_text(id: i64) -> Result<String, ToolError> {
    let step = queries::step_header(id, "all")?.ok_or_else(|| {
        ToolError::failed(format!(
            "no workflow step #{id} exists; get_run_details(run_id=…) lists a run's step ids"
        ))
    })?;
    let head = format!(
        "Step #{} '{}' ({}, {}{}) of run #{}: {} log rows",
        step.id,
        step.name,
        step.step_type,
        step.status,
        crate::tools::exit_suffix(step.exit_code),
        step.run_id.map_or("?".into(), |r| r.to_string()),
        step.total_rows
    );
    if step.total_rows == 0 {
        return Ok(format!("{head}.\n(no log rows)"));
    }
    let offset = (step.total_rows - TAIL_ROWS).max(0);
    let page = queries::step_logs(id, "all", offset, TAIL_ROWS)?;
    let rendered: Vec<String> = logs::condense(&page.rows)
        .iter()
        .map(|e| logs::render(e, ENTRY_CHARS))
        .collect();
    // Keep the tail: walk back from the end until the budget is spent.
    let mut used = 0;
    let mut keep = 0;
    for line in rendered.iter().rev() {
        if keep > 0 && used + line.len() + 1 > LOG_BUDGET {
            break;
        }
        used += line.len() + 1;
        keep += 1;
    }
    let left = rendered.len() - keep;
    let mut out = vec![head];
    if offset > 0 || left > 0 {
        out.push(format!(
            "[the log is cut to its last {keep} entries (~{} characters): {} earlier rows and {left} earlier entries left out; get_step_logs(step_id={id}, offset=0) pages from the start]",
            fmt::thousands(used as i64),
            fmt::thousands(offset),
        ));
    }
    out.extend(rendered[left..].iter().cloned());
    Ok(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::prelude::*;
    use plue_plugin_sdk::testing;

    use crate::tools::testing::serve;

    const NOW: &str = "2026-01-02T10:25:00";

    fn listed(id: i64, status: &str) -> Json {
        json!({"id": id, "definition_id": 1, "workflow": "ci", "trigger_type": "push", "status": status,
               "created_at": "2026-01-02T10:00:00", "total": 2, "now_utc": NOW})
    }

    #[test]
    fn listing_is_newest_runs_then_failed_steps() {
        let log = testing::sql_routes(
            crate::queries::DB,
            vec![
                (
                    "LIMIT $5::bigint",
                    Ok(testing::json_rows(&[
                        listed(6, "failed"),
                        listed(5, "completed"),
                    ])),
                ),
                (
                    "LIMIT $4::bigint",
                    Ok(testing::json_rows(&[
                        json!({"id": 6, "definition_id": 1, "workflow": "ci", "failed_step_id": 18, "failed_step": "test", "now_utc": NOW}),
                        json!({"id": 3, "definition_id": 1, "workflow": "ci", "now_utc": NOW}),
                    ])),
                ),
            ],
        );
        let links = testing::list_resources(&crate::plugin()).unwrap();
        let uris: Vec<&str> = links.iter().map(|l| l.uri()).collect();
        // Run 3 failed without a failed step: it has no step log to list.
        assert_eq!(
            uris,
            ["plue://runs/6", "plue://runs/5", "plue://steps/18/logs"]
        );
        assert_eq!(links[0].mime(), Some("text/markdown"));
        assert_eq!(links[2].mime(), Some("text/plain"));
        let log = log.borrow();
        assert_eq!(log[0].1[4].as_i64(), Some(super::LISTED_RUNS));
        assert_eq!(log[1].1[3].as_i64(), Some(super::LISTED_FAILED));
    }

    #[test]
    fn a_run_reads_as_markdown_with_its_failed_step() {
        serve(vec![
            (
                "WHERE r.id = $1::bigint",
                vec![
                    json!({"id": 6, "definition_id": 1, "workflow": "ci", "repository": "alice/plue",
                "trigger_type": "push", "status": "failed", "created_at": "2026-01-02T10:00:00", "started_at": "2026-01-02T10:00:03",
                "duration_s": 85.0, "now_utc": NOW}),
                ],
            ),
            (
                "FROM workflow_steps s\n  LEFT JOIN LATERAL",
                vec![
                    json!({"id": 16, "run_id": 6, "plan_id": "step_1", "name": "install", "step_type": "shell", "status": "completed",
                       "started_at": "2026-01-02T10:00:03", "duration_s": 20.0, "exit_code": 0, "log_rows": 2}),
                    json!({"id": 18, "run_id": 6, "plan_id": "step_3", "name": "test", "step_type": "shell", "status": "failed",
                       "started_at": "2026-01-02T10:00:23", "duration_s": 27.0, "exit_code": 1,
                       "error_message": "npm test\nTypeError: boom\n    at f (a.ts:1:2)", "log_rows": 5}),
                ],
            ),
        ]);
        let c = testing::read(&crate::plugin(), "plue://runs/6").unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].mime(), Some("text/markdown"));
        let md = c[0].as_text().unwrap();
        assert!(md.starts_with("# Run #6 ci (alice/plue): FAILED\n"), "{md}");
        assert!(md.contains("- Took: 1m 25s"), "{md}");
        assert!(
            md.contains("| 16 | install | shell | completed | 20 s | exit 0 |"),
            "{md}"
        );
        assert!(
            md.contains("| 18 | test | shell | failed | 27 s | exit 1 |"),
            "{md}"
        );
        assert!(
            md.contains("## Failed step #18 'test'\n\nFirst error: `TypeError: boom`"),
            "{md}"
        );
        assert!(md.contains("Log: plue://steps/18/logs (5 rows)"), "{md}");
        assert!(
            md.ends_with("Next: quick_debug(run_id=6), get_run_logs(run_id=6)"),
            "{md}"
        );
    }

    #[test]
    fn a_long_run_keeps_its_failed_step_in_the_cut_table() {
        // 60 steps, #155 the only failed one: the table keeps it and 49 others.
        let steps: Vec<Json> = (101..=160)
            .map(|id| {
                let failed = id == 155;
                json!({"id": id, "run_id": 7, "plan_id": format!("step_{id}"), "name": format!("s{id}"),
                       "step_type": "shell", "status": if failed { "failed" } else { "completed" },
                       "exit_code": i64::from(failed), "error_message": if failed { Some("boom") } else { None },
                       "log_rows": 1})
            })
            .collect();
        serve(vec![
            (
                "WHERE r.id = $1::bigint",
                vec![
                    json!({"id": 7, "definition_id": 1, "workflow": "ci", "trigger_type": "push",
                "status": "failed", "now_utc": NOW}),
                ],
            ),
            ("FROM workflow_steps s\n  LEFT JOIN LATERAL", steps),
        ]);
        let md = testing::read(&crate::plugin(), "plue://runs/7").unwrap()[0]
            .as_text()
            .unwrap()
            .to_string();
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| 1")).collect();
        assert_eq!(rows.len(), super::TABLE_STEPS);
        assert!(
            rows.iter()
                .any(|r| r.starts_with("| 155 | s155 | shell | failed |")),
            "{md}"
        );
        assert!(
            rows[0].starts_with("| 101 |") && rows[48].starts_with("| 149 |"),
            "{md}"
        );
        assert!(md.contains("(50 of 60 steps shown, failing and running ones first; get_run_details(run_id=7) lists them all)"), "{md}");
    }

    #[test]
    fn bad_and_unknown_runs_say_what_to_do() {
        let e = testing::read(&crate::plugin(), "plue://runs/latest").unwrap_err();
        assert!(
            e.to_string()
                .contains("`run_id` must be a positive whole number such as 13, got `latest`"),
            "{e}"
        );
        serve(vec![("WHERE r.id = $1::bigint", vec![])]);
        let e = testing::read(&crate::plugin(), "plue://runs/404").unwrap_err();
        assert!(e.to_string().contains("no workflow run #404 exists"), "{e}");
        serve(vec![("AS matching_rows", vec![])]);
        let e = testing::read(&crate::plugin(), "plue://steps/77/logs").unwrap_err();
        assert!(e.to_string().contains("no workflow step #77 exists"), "{e}");
    }

    #[test]
    fn a_long_step_log_keeps_its_tail_and_says_so() {
        // 1,500 rows: the read asks for the last 1,000 (offset 500); of those,
        // 100-character lines fill the 16,000-character budget at 145 entries
        // (each 110 characters with its `[stdout] ` prefix and newline).
        let rows: Vec<Json> = (500..1500)
            .map(|i| json!({"log_type": "stdout", "content": format!("{:0>100}", i), "sequence": i, "row_index": i}))
            .collect();
        let log = testing::sql_routes(
            crate::queries::DB,
            vec![
                (
                    "AS matching_rows",
                    Ok(testing::json_rows(&[
                        json!({"id": 18, "run_id": 6, "name": "test", "step_type": "shell",
                    "status": "failed", "exit_code": 1, "total_rows": 1500, "matching_rows": 1500}),
                    ])),
                ),
                ("OFFSET $3::bigint", Ok(testing::json_rows(&rows))),
            ],
        );
        let c = testing::read(&crate::plugin(), "plue://steps/18/logs").unwrap();
        assert_eq!(c[0].mime(), Some("text/plain"));
        let text = c[0].as_text().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "Step #18 'test' (shell, failed, exit 1) of run #6: 1500 log rows"
        );
        assert_eq!(
            lines[1],
            "[the log is cut to its last 145 entries (~15,950 characters): 500 earlier rows and 855 earlier entries left out; get_step_logs(step_id=18, offset=0) pages from the start]"
        );
        assert_eq!(lines.len(), 2 + 145);
        assert_eq!(lines.last().unwrap(), &format!("[stdout] {:0>100}", 1499));
        assert!(text.len() <= super::LOG_BUDGET + 400);
        assert_eq!(log.borrow()[1].1[2].as_i64(), Some(500));
    }

    #[test]
    fn step_logs_and_failure_analysis_link_what_they_mention() {
        serve(vec![
            (
                "AS matching_rows",
                vec![
                    json!({"id": 18, "run_id": 6, "name": "test", "step_type": "shell",
                "status": "failed", "exit_code": 1, "total_rows": 1, "matching_rows": 1, "by_type": {"stderr": 1}}),
                ],
            ),
            (
                "OFFSET $3::bigint",
                vec![
                    json!({"log_type": "stderr", "content": "boom", "sequence": 0, "row_index": 0}),
                ],
            ),
        ]);
        let out = testing::call(&crate::plugin(), "get_step_logs", json!({"step_id": 18})).unwrap();
        let uris: Vec<&str> = out.links().iter().map(|l| l.uri()).collect();
        assert_eq!(uris, ["plue://steps/18/logs", "plue://runs/6"]);

        let failed = |id: i64, step: &str, error: &str| {
            json!({"id": id, "definition_id": 1, "workflow": "ci", "created_at": NOW, "failed_step_id": id * 10,
                   "failed_step": step, "step_type": "shell", "step_error": error, "exit_code": 1, "now_utc": NOW})
        };
        serve(vec![
            (
                "WITH runs AS",
                vec![
                    json!({"definition_id": 1, "workflow": "ci", "total": 3, "completed": 0, "failed": 3,
                "running": 0, "pending": 0, "cancelled": 0, "now_utc": NOW}),
                ],
            ),
            (
                "LIMIT $4::bigint",
                vec![
                    failed(9, "test", "TypeError: boom"),
                    failed(8, "lint", "3 problems"),
                    failed(7, "test", "TypeError: boom"),
                ],
            ),
        ]);
        let out = testing::call(&crate::plugin(), "analyze_failures", json!({})).unwrap();
        let uris: Vec<&str> = out.links().iter().map(|l| l.uri()).collect();
        // Two patterns (test ×2, newest run 9; lint ×1, run 8): each pattern's newest run.
        assert_eq!(uris, ["plue://runs/9", "plue://runs/8"]);
    }

    #[test]
    fn tool_answers_link_the_run_and_failed_step() {
        serve(vec![
            (
                "WHERE r.id = $1::bigint",
                vec![
                    json!({"id": 6, "definition_id": 1, "workflow": "ci", "trigger_type": "push",
                "status": "failed", "now_utc": NOW}),
                ],
            ),
            (
                "FROM workflow_steps s\n  LEFT JOIN LATERAL",
                vec![
                    json!({"id": 18, "run_id": 6, "plan_id": "step_3", "name": "test", "step_type": "shell", "status": "failed",
                       "exit_code": 1, "error_message": "boom", "log_rows": 0}),
                ],
            ),
        ]);
        let out = testing::call(&crate::plugin(), "get_run_details", json!({"run_id": 6})).unwrap();
        let uris: Vec<&str> = out.links().iter().map(|l| l.uri()).collect();
        assert_eq!(uris, ["plue://runs/6", "plue://steps/18/logs"]);
    }
}
