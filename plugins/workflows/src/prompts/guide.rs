//! `workflow-debugging-guide`: the workflow-debugging skill as a prompt: a
//! decision tree over this plugin's tools and Plue's known failure patterns,
//! opened by a few live numbers (when the database answers) so the agent
//! knows which branch to take first.

use plue_plugin_sdk::prelude::*;

use super::HEADING;
use crate::fmt;
use crate::tools::overview::{OverviewArgs, system_overview};

/// The decision tree and the failure patterns (static: the tools they name are this plugin's).
pub const GUIDE: &str = "\
Decision tree:
1. A run id is known → quick_debug(run_id=N): cause, failed step, decisive log lines, similar failures, last success.
   - Cause names a step → get_step_logs(step_id=S, log_type=\"stderr\") for shell steps, log_type=\"tool_result\" for agents.
   - It worked before → compare_runs(run_id_a=<last success>, run_id_b=N): what changed (commit, inputs, steps, first error).
2. No run id → quick_debug(latest=true), or system_overview() to see what is failing, stuck or waiting.
3. Many failures → analyze_failures(hours=24): patterns by workflow, step and error; workflow_stats() for rates and p95 durations.
4. Nothing starts → get_pending_tasks() (what waits, how long) and get_runner_pool() (available runners, stale heartbeats).
5. An agent step misbehaves → recent_agent_activity(): LLM calls, tokens, failing tool calls; get_step_logs(log_type=\"tool_call\").
6. The plan looks wrong (missing steps, wrong order) → get_workflow_definition(workflow_name=…): triggers, image, step DAG.

Known failure patterns:
- Stuck pending: runs wait with no available runner, or runners with heartbeats older than 30 s → get_pending_tasks, get_runner_pool.
- Step failure (exit ≠ 0): the first error line and stack trace in stderr; later steps fail with \"dependency failed\" (not the cause) → quick_debug, get_step_logs.
- Agent failure: max turns exceeded or failing tool calls (is_error results) → recent_agent_activity, get_step_logs(log_type=\"tool_result\").
- Plan or definition error: the run fails before any step runs, with a run error and no steps → get_workflow_definition, get_run_details.
- Intermittent (flaky): the same step fails with different errors across runs, successes in between → analyze_failures(hours=168), workflow_stats, compare_runs.
- Stuck running: a run running over 1 h whose runner stopped heart-beating → get_runner_pool, get_run_logs.

Report: status (HEALTHY/DEGRADED/UNHEALTHY), root cause with the run and step ids, the evidence lines, the fix, how to prevent it.";

pub fn render(_: &PromptArgs) -> Result<Briefing, ToolError> {
    let live = match system_overview(OverviewArgs { hours: Some(24.0) }) {
        Ok(a) => {
            let o = a.value();
            let newest = o
                .recent_failures
                .first()
                .map(|f| format!("; newest failure run #{}", f.run_id))
                .unwrap_or_default();
            let runners = o
                .runners
                .as_ref()
                .map(|n| format!("; runners {} available, {} stale", n.available, n.stale))
                .unwrap_or_default();
            format!(
                "Now (last 24 h): {} runs, {} failed, success rate {}; {} need attention{newest}{runners}.",
                o.runs.total,
                o.runs.failed,
                fmt::percent_text(o.runs.success_rate_percent),
                o.attention.len()
            )
        }
        Err(e) => format!("Now: live numbers unavailable ({e})."),
    };
    Ok(
        Briefing::text(format!("{HEADING}: debugging guide\n{live}\n\n{GUIDE}"))
            .described("How to debug Plue workflows with the workflows tools"),
    )
}
