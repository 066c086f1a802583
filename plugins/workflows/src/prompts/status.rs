//! This plugin's parts of `observability` and `health-check`: run counts and
//! the success rate over 24 h, the newest failures, stuck and waiting work and
//! runners, from `system_overview`, `get_pending_tasks` and `workflow_stats`.
//! Health is judged HEALTHY, DEGRADED or UNHEALTHY by the rules in [`verdict`].

use plue_plugin_sdk::prelude::*;

use super::{HEADING, arg, next_line};
use crate::fmt;
use crate::resources::run_link;
use crate::tools::overview::{OverviewArgs, SystemOverview, system_overview};
use crate::tools::pending_tasks::{Pending, PendingArgs, get_pending_tasks};
use crate::tools::stats::{StatsArgs, workflow_stats};

/// The window of both parts, in hours.
pub const HOURS: f64 = 24.0;
/// Below this success rate (percent of finished runs) workflows are degraded…
pub const DEGRADED_BELOW: f64 = 90.0;
/// …and below this, unhealthy.
pub const UNHEALTHY_BELOW: f64 = 50.0;
/// Items of waiting work read.
const PENDING_READ: i64 = 50;

/// Live facts both parts use.
struct Facts {
    overview: Answer<SystemOverview>,
    waiting_work: Answer<Pending>,
}

impl Facts {
    fn read() -> Result<Facts, ToolError> {
        Ok(Facts {
            overview: system_overview(OverviewArgs { hours: Some(HOURS) })?,
            waiting_work: get_pending_tasks(PendingArgs {
                limit: Some(PENDING_READ),
            })?,
        })
    }

    fn ov(&self) -> &SystemOverview {
        self.overview.value()
    }

    fn pending(&self) -> &Pending {
        self.waiting_work.value()
    }

    /// Waiting (not yet running) items and the longest wait.
    fn waiting(&self) -> (usize, Option<f64>) {
        let waiting: Vec<_> = self
            .pending()
            .items
            .iter()
            .filter(|w| w.status != "running")
            .collect();
        let oldest = waiting
            .iter()
            .filter_map(|w| w.waiting_seconds)
            .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
        (waiting.len(), oldest)
    }

    fn runs_line(&self) -> String {
        let r = &self.ov().runs;
        format!(
            "Last 24 h: {} runs — {} completed, {} failed, {} running, {} pending, {} cancelled; success rate {} ({} of {} finished runs completed)",
            r.total,
            r.completed,
            r.failed,
            r.running,
            r.pending,
            r.cancelled,
            fmt::percent_text(r.success_rate_percent),
            r.completed,
            r.finished
        )
    }

    fn waiting_line(&self) -> String {
        let (waiting, oldest) = self.waiting();
        let running = self.pending().items.len() - waiting;
        let oldest = oldest
            .map(|s| format!(", oldest waiting {}", fmt::duration(Some(s))))
            .unwrap_or_default();
        format!(
            "Waiting work ({}): {} in all — {waiting} waiting{oldest}, {running} running",
            self.pending().source,
            self.pending().total
        )
    }

    fn runners_line(&self) -> String {
        match &self.ov().runners {
            Some(n) => format!(
                "Runners: {} available, {} claimed, {} terminated; {} with a stale heartbeat (> 30 s)",
                n.available, n.claimed, n.terminated, n.stale
            ),
            None => "Runners: no runner_pool table in this database".into(),
        }
    }

    fn failure_lines(&self, max: usize) -> Vec<String> {
        let f = &self.ov().recent_failures;
        if f.is_empty() {
            return vec!["Failures: none in the last 24 h.".into()];
        }
        let mut out = vec![format!(
            "Newest failures ({} shown of {}{}):",
            f.len().min(max),
            self.ov().failures_in_window,
            if self.ov().failures_in_window >= 50 {
                "+"
            } else {
                ""
            }
        )];
        out.extend(f.iter().take(max).map(|r| {
            format!(
                "  - #{} {}: {}",
                r.run_id,
                fmt::workflow_name(r.workflow.as_deref(), None),
                fmt::cut(&r.cause, 160)
            )
        }));
        out
    }

    fn attention_lines(&self, max: usize) -> Vec<String> {
        let a = &self.ov().attention;
        if a.is_empty() {
            return Vec::new();
        }
        let mut out = vec![format!("Needs attention ({}):", a.len())];
        out.extend(a.iter().take(max).map(|a| {
            format!(
                "  - run #{} {}: {}",
                a.run_id,
                fmt::workflow_name(a.workflow.as_deref(), None),
                a.reason
            )
        }));
        if a.len() > max {
            out.push(format!("  ({} more: get_pending_tasks())", a.len() - max));
        }
        out
    }

    fn next(&self) -> Vec<String> {
        let mut next = Vec::new();
        if let Some(f) = self.ov().recent_failures.first() {
            next.push(format!("quick_debug(run_id={})", f.run_id));
        }
        if self.ov().runs.failed > 1 {
            next.push("analyze_failures(hours=24)".into());
        }
        if !self.ov().attention.is_empty() || self.waiting().0 > 0 {
            next.push("get_pending_tasks()".into());
            next.push("get_runner_pool()".into());
        }
        next.push("system_overview(hours=24)".into());
        next
    }
}

/// HEALTHY, DEGRADED or UNHEALTHY, with the reasons.
fn verdict(f: &Facts) -> (&'static str, Vec<String>) {
    let mut unhealthy = Vec::new();
    let mut degraded = Vec::new();
    let r = &f.ov().runs;
    if let Some(rate) = r.success_rate_percent {
        let why = format!("success rate {} over 24 h", fmt::percent_text(Some(rate)));
        if rate < UNHEALTHY_BELOW {
            unhealthy.push(why);
        } else if rate < DEGRADED_BELOW {
            degraded.push(why);
        }
    }
    let (waiting, oldest) = f.waiting();
    if let Some(n) = &f.ov().runners {
        if waiting > 0 && n.available == 0 {
            unhealthy.push(format!("{waiting} waiting and no runner available"));
        }
        if n.stale > 0 {
            degraded.push(format!("{} runner(s) with a stale heartbeat", n.stale));
        }
    }
    let stuck = f
        .ov()
        .attention
        .iter()
        .filter(|a| a.reason.contains("stuck"))
        .count();
    if stuck > 0 {
        degraded.push(format!("{stuck} run(s) running over 1 h"));
    }
    if oldest.is_some_and(|s| s > crate::tools::overview::WAITING_AFTER_S) {
        degraded.push(format!("work waiting {}", fmt::duration(oldest)));
    }
    if !unhealthy.is_empty() {
        unhealthy.extend(degraded);
        ("UNHEALTHY", unhealthy)
    } else if !degraded.is_empty() {
        ("DEGRADED", degraded)
    } else {
        ("HEALTHY", Vec::new())
    }
}

/// This plugin's part of `observability`.
pub fn observability(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let full = args.flag(arg::FULL);
    let f = Facts::read()?;
    let mut out = vec![HEADING.to_string(), f.runs_line()];
    out.extend(f.failure_lines(if full { 5 } else { 3 }));
    out.extend(f.attention_lines(if full { 5 } else { 3 }));
    out.push(f.waiting_line());
    if full {
        out.push(f.runners_line());
        let l = &f.ov().llm;
        out.push(format!(
            "LLM/agent calls: {}, {} in / {} out tokens{}",
            l.calls,
            fmt::thousands(l.tokens_in),
            fmt::thousands(l.tokens_out),
            l.avg_latency_ms
                .map(|ms| format!(", mean latency {}", fmt::duration(Some(ms / 1000.0))))
                .unwrap_or_default()
        ));
        out.extend(worst_workflows(5)?);
    }
    out.push(next_line(&f.next()));
    let mut b = Briefing::text(out.join("\n")).described("Workflows over the last 24 h");
    if let Some(r) = f.ov().recent_failures.first() {
        b = b.with_link(run_link(r.run_id, "the newest failed run"));
    }
    Ok(b)
}

/// Workflows with the most failures over 24 h (at most `max`).
fn worst_workflows(max: usize) -> Result<Vec<String>, ToolError> {
    let stats = workflow_stats(StatsArgs {
        hours: Some(HOURS),
        workflow_name: None,
        repository: None,
    })?;
    let mut w: Vec<_> = stats.value().workflows.iter().collect();
    w.sort_by_key(|w| (-w.runs.failed, -w.runs.total));
    if w.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = vec![format!(
        "Per workflow (most failures first, {} of {}):",
        w.len().min(max),
        w.len()
    )];
    out.extend(w.iter().take(max).map(|w| {
        format!(
            "  - {}: {} runs, {} failed, success {}, p95 {}",
            fmt::workflow_name(w.workflow.as_deref(), w.definition_id),
            w.runs.total,
            w.runs.failed,
            fmt::percent_text(w.runs.success_rate_percent),
            fmt::duration(w.p95_seconds)
        )
    }));
    Ok(out)
}

/// This plugin's part of `health-check`: one line (quick, the default) or the evidence (full).
pub fn health_check(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let full = args.flag(arg::FULL) && !args.flag(arg::QUICK);
    let f = Facts::read()?;
    let (word, reasons) = verdict(&f);
    let r = &f.ov().runs;
    let (waiting, _) = f.waiting();
    let runners = f
        .ov()
        .runners
        .as_ref()
        .map(|n| format!("; runners {} available, {} stale", n.available, n.stale))
        .unwrap_or_default();
    let line = format!(
        "Workflows: {word}{} — success {} over 24 h ({} failed of {} finished); {waiting} waiting{runners}",
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join("; "))
        },
        fmt::percent_text(r.success_rate_percent),
        r.failed,
        r.finished,
    );
    let mut out = vec![HEADING.to_string(), line];
    if full {
        out.push(f.runs_line());
        out.extend(f.attention_lines(5));
        out.extend(f.failure_lines(3));
        out.push(f.waiting_line());
        out.push(f.runners_line());
    }
    out.push(next_line(&f.next()));
    Ok(Briefing::text(out.join("\n")).described(format!("Workflows: {word}")))
}
