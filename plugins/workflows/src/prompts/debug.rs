//! `debug-workflows`: with `run_id`, that run on one screen (status, cause,
//! failed step, its error and decisive log lines, similar failures, next
//! tools), built from `quick_debug`; otherwise the newest failed runs ranked,
//! newest first, each with its failed step and error line, repeats marked.

use plue_plugin_sdk::prelude::*;

use super::{HEADING, arg, next_line};
use crate::args::MAX_HOURS;
use crate::fmt::{self, Clock};
use crate::logs;
use crate::queries;
use crate::resources::{parse_id, run_link, step_log_link};
use crate::tools::debug::{DebugArgs, quick_debug};
use crate::tools::failure_text;

/// Log lines shown for the failed step.
pub const LOG_LINES: usize = 14;
/// Characters of one log line.
const LINE_CHARS: usize = 200;
/// Most failed runs listed; the default.
pub const MAX_RECENT: i64 = 20;
pub const DEFAULT_RECENT: i64 = 5;

pub fn render(args: &PromptArgs) -> Result<Briefing, ToolError> {
    match args.get(arg::RUN_ID) {
        Some(run) => one_run(
            parse_id(arg::RUN_ID, run, "list_workflow_runs shows run ids")?,
            args.get(arg::RECENT).is_some(),
        ),
        None => {
            let n = match args.get(arg::RECENT) {
                None => DEFAULT_RECENT,
                Some(v) => match v.parse::<i64>() {
                    Ok(n) if (1..=MAX_RECENT).contains(&n) => n,
                    // `recent` given as a flag (`--recent`): the default count.
                    Err(_) if args.flag(arg::RECENT) => DEFAULT_RECENT,
                    _ => {
                        return Err(ToolError::invalid(format!(
                            "`recent` must be a count of failed runs from 1 to {MAX_RECENT} (or `true`), got `{v}`; leave it out for {DEFAULT_RECENT}"
                        )));
                    }
                },
            };
            recent(n)
        }
    }
}

/// One run, from `quick_debug`'s findings.
fn one_run(id: i64, recent_ignored: bool) -> Result<Briefing, ToolError> {
    let answer = quick_debug(DebugArgs {
        run_id: Some(id),
        latest: None,
    })?;
    let d = answer.value();
    let run = d.run.as_ref().ok_or_else(|| crate::tools::not_found(id))?;
    let workflow = fmt::workflow_name(run.workflow.as_deref(), run.definition_id);
    let repo = run
        .repository
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let mut out = vec![
        HEADING.to_string(),
        format!(
            "Run #{} {workflow}{repo}: {} · {} · took {} · created {}",
            run.id,
            run.status.as_str().to_uppercase(),
            run.trigger_type,
            fmt::duration(run.duration_seconds),
            run.created_at.as_deref().unwrap_or("-"),
        ),
    ];
    if recent_ignored {
        out.push("(run_id given, so `recent` was not used)".into());
    }
    if let Some(c) = &d.cause {
        out.push(format!("Cause: {}", fmt::cut(c, 400)));
    }
    let failed = d.steps.iter().filter(|s| s.error.is_some()).count();
    out.push(format!(
        "Steps: {} ({} with an error): {}",
        d.steps.len(),
        failed,
        d.steps
            .iter()
            .take(12)
            .map(|s| format!("#{} {} {}", s.id, s.name, s.status))
            .collect::<Vec<_>>()
            .join(", ")
            + if d.steps.len() > 12 { ", …" } else { "" }
    ));
    let mut briefing_links = vec![run_link(run.id, &format!("run {} summary", run.id))];
    if let Some(f) = d.findings.first() {
        // Findings are the failed steps, or for a run still going its running ones.
        let which = if f.status == crate::status::Status::Running {
            "Running step"
        } else {
            "Failed step"
        };
        out.push(format!(
            "{which}: '{}' (#{}, {}{}), {} log rows",
            f.name,
            f.step_id,
            f.step_type,
            crate::tools::exit_suffix(f.exit_code),
            f.log_rows
        ));
        // The cause usually quotes the error already.
        if let Some(e) = &f.first_error
            && !d.cause.as_deref().is_some_and(|c| c.contains(e.as_str()))
        {
            out.push(format!("Error: {}", fmt::cut(e, 300)));
        }
        if !f.decisive_lines.is_empty() {
            let total = f.decisive_lines.len();
            let shown = total.min(LOG_LINES);
            let cut = if shown < total {
                format!("{shown} of {total} shown; ")
            } else {
                String::new()
            };
            out.push(format!(
                "Decisive log lines ({cut}the step has {} log rows):",
                f.log_rows
            ));
            out.extend(
                f.decisive_lines
                    .iter()
                    .take(LOG_LINES)
                    .map(|l| format!("  {}", fmt::cut(l, LINE_CHARS))),
            );
        }
        briefing_links.push(step_log_link(
            f.step_id,
            &format!("log of step '{}' of run {}", f.name, run.id),
        ));
    }
    if !d.similar_failures.is_empty() {
        let same = d.similar_failures.iter().filter(|s| s.same_error).count();
        out.push(format!(
            "Similar failures of {workflow} in 7 d: {} ({same} with the same error): {}",
            d.similar_failures.len(),
            d.similar_failures
                .iter()
                .take(5)
                .map(|s| format!("#{}", s.run_id))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(s) = &d.last_success {
        out.push(format!("Last success before it: run #{}", s.run_id));
    }
    out.push(next_line(&d.next));
    let mut b = Briefing::text(out.join("\n")).described(format!("Debugging run #{}", run.id));
    for l in briefing_links {
        b = b.with_link(l);
    }
    Ok(b)
}

/// The newest `n` failed runs, ranked newest first.
fn recent(n: i64) -> Result<Briefing, ToolError> {
    let failed = queries::failed_runs(MAX_HOURS, "", "", n)?;
    let Some(first) = failed.rows.first() else {
        return Ok(Briefing::text(format!(
            "{HEADING}\nNo failed workflow runs in the last year.\n{}",
            next_line(&["list_workflow_runs()".into(), "system_overview()".into()])
        ))
        .described("No failed runs"));
    };
    let clock = Clock::from_db(&first.now_utc);
    let mut out = vec![
        HEADING.to_string(),
        format!(
            "The {} newest failed runs, newest first (times UTC):",
            failed.rows.len()
        ),
    ];
    let mut seen: Vec<(String, i64)> = Vec::new();
    for (i, f) in failed.rows.iter().enumerate() {
        let (_, cause) = failure_text(f);
        let key = format!(
            "{:?}|{:?}|{}",
            f.definition_id,
            f.failed_step,
            logs::normalize_error(&cause)
        );
        let repeat = seen
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, id)| format!(" (same failure as #{id})"))
            .unwrap_or_default();
        if repeat.is_empty() {
            seen.push((key, f.id));
        }
        let step = f
            .failed_step_id
            .map(|s| format!(" [step #{s}]"))
            .unwrap_or_default();
        out.push(format!(
            "{}. #{} {}, {}{step}: {}{repeat}",
            i + 1,
            f.id,
            fmt::workflow_name(f.workflow.as_deref(), f.definition_id),
            clock.ago(f.completed_at.as_deref().or(f.created_at.as_deref())),
            fmt::cut(&cause, 200)
        ));
    }
    out.push(format!(
        "{} distinct failure(s) among {} runs.",
        seen.len(),
        failed.rows.len()
    ));
    let mut next = vec![format!("quick_debug(run_id={}) for the newest", first.id)];
    if let Some(s) = first.failed_step_id {
        next.push(format!("get_step_logs(step_id={s}, log_type=\"stderr\")"));
    }
    next.push("analyze_failures(hours=24) for patterns".into());
    next.push("debug-workflows with run_id=<id> for one run".into());
    out.push(next_line(&next));
    let mut b = Briefing::text(out.join("\n"))
        .described(format!("The {} newest failed runs", failed.rows.len()));
    for f in failed.rows.iter().take(3) {
        b = b.with_link(run_link(f.id, &format!("failed run {}", f.id)));
    }
    Ok(b)
}
