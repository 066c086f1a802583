//! The workflows tool group: thirteen read-only tools for debugging Plue's
//! workflow runs, over its PostgreSQL database (`plue`, granted by the operator).
//!
//! Code map: `tools/` holds one module per subject (each tool's arguments,
//! structured output and text); `queries.rs` every SQL statement; `logs.rs`
//! the pure log condensing (tokens joined, decisive lines, bounded views);
//! `fmt.rs` times, durations and numbers; `args.rs` shared argument checks.
//! This file only registers the tools.

pub mod args;
pub mod fmt;
pub mod logs;
pub mod queries;
pub mod tools;

use plue_plugin_sdk::prelude::*;
use tools::*;

/// The plugin description: its capability and its tools.
pub fn plugin() -> Plugin {
    Plugin::new(
        "workflows",
        env!("CARGO_PKG_VERSION"),
        "Debug Plue's workflow runs: what failed and why (quick_debug), what changed between two runs, \
         logs condensed for reading, failure patterns, statistics, runners and queues. Reads Plue's \
         PostgreSQL database; never writes.",
    )
    .sql(queries::DB)
    .tool(
        tool(
            "system_overview",
            "START HERE: a snapshot of the workflow system over the last `hours` (default 1): runs by status \
             with the success rate of finished runs, runs stuck or waiting now (any age), the newest failures \
             with their cause, LLM usage and runner health, and which tool to call next. Times are UTC.",
            overview::system_overview,
        )
        .title("System overview")
        .read_only(),
    )
    .tool(
        tool(
            "quick_debug",
            "One call that answers \"why did this run fail\": the cause in one sentence, the steps, the decisive \
             log lines of the failed steps (first error and stack trace, or an agent's failing tool calls), the \
             run's error, similar failures of the same workflow in the last 7 days, the last successful run to \
             compare with, and the next tools to call. Give `run_id`, or nothing (or latest=true) for the newest \
             failed run; an explicit run_id always wins. On a running or pending run it says where it is stuck.",
            debug::quick_debug,
        )
        .title("Quick debug a run")
        .read_only(),
    )
    .tool(
        tool(
            "compare_runs",
            "Compare two runs step by step (paired by the plan's step id and name): status, duration, exit code \
             and first error line of each step; what newly fails in B, what B fixed, and what else changed \
             (commit, trigger, inputs, timings). Use A = a good run, B = the bad one (quick_debug names the last \
             success).",
            compare::compare_runs,
        )
        .title("Compare two runs")
        .read_only(),
    )
    .tool(
        tool(
            "list_workflow_runs",
            "List workflow runs, newest first, filtered by status, workflow name, repository (`owner/name` or \
             `name`, through the run's workflow definition) and age; each with its status, trigger, creation time \
             (UTC), duration (\"running for …\" while running) and failed step or error.",
            runs::list_workflow_runs,
        )
        .title("List workflow runs")
        .read_only(),
    )
    .tool(
        tool(
            "get_run_details",
            "One run in detail: workflow, repository, file, trigger (ref, commit), timeline (UTC), error, inputs \
             and outputs, and every step with its status, duration, exit code, first error line, agent turns and \
             tokens, and the runner holding it. Step ids shown here go to get_step_logs.",
            runs::get_run_details,
        )
        .title("Run details")
        .read_only(),
    )
    .tool(
        tool(
            "get_step_logs",
            "A step's logs, in order, paged: agent `token` rows joined into text, tool_call / tool_result JSON \
             shown compactly, long lines cut. Filter by `log_type`; page with `offset` (rows to skip) and `limit`. \
             The answer says how many rows are left and the offset to continue from.",
            step_logs::get_step_logs,
        )
        .title("Step logs")
        .read_only(),
    )
    .tool(
        tool(
            "get_run_logs",
            "All logs of a run, grouped step by step (never interleaved): short steps whole, long steps cut to \
             their first lines, error lines and last lines, with notes saying which get_step_logs call returns \
             what was left out. Agent tokens joined, tool JSON compact.",
            step_logs::get_run_logs,
        )
        .title("Run logs")
        .read_only(),
    )
    .tool(
        tool(
            "analyze_failures",
            "Failure patterns over the last `hours` (default 24): failed runs grouped by workflow, failing step \
             and error (numbers and ids set aside), most frequent first, with the runs of each; failed/finished \
             per workflow; and the success rate of finished runs (completed ÷ (completed + failed)).",
            failures::analyze_failures,
        )
        .title("Analyze failures")
        .read_only(),
    )
    .tool(
        tool(
            "get_runner_pool",
            "The warm pool of runner pods: each runner's status, heartbeat age and health, and the step and run \
             it holds; with the problems spelled out (claimed by a dead runner, claim not released, available but \
             stale, no healthy runner).",
            runners::get_runner_pool,
        )
        .title("Runner pool")
        .read_only(),
    )
    .tool(
        tool(
            "get_pending_tasks",
            "What waits for a runner, oldest first, with how long it has waited: rows of a `workflow_tasks` \
             table when the database has one (highest priority first); otherwise (Plue's schema) the pending \
             and running runs and their open steps and runners.",
            runners::get_pending_tasks,
        )
        .title("Pending tasks")
        .read_only(),
    )
    .tool(
        tool(
            "workflow_stats",
            "Per workflow over the last `hours` (default 24): runs by status, success rate of finished runs, \
             duration mean / median / p95 / max of finished runs, runs per hour and the last run.",
            stats::workflow_stats,
        )
        .title("Workflow statistics")
        .read_only(),
    )
    .tool(
        tool(
            "get_workflow_definition",
            "A workflow's definition: file, image, triggers and its step DAG (each step's type, dependencies and \
             command or prompt), plus its recent runs. Find it by `workflow_id` or by `workflow_name` (exact name \
             first, else the closest match), optionally within a `repository`.",
            definition::get_workflow_definition,
        )
        .title("Workflow definition")
        .read_only(),
    )
    .tool(
        tool(
            "recent_agent_activity",
            "LLM and agent activity over the last `hours` (default 1): calls, tokens and latency totalled over the \
             whole window, usage per model, the agents' tool calls and failing tool results, agent steps running \
             now, and the newest calls with their run and step.",
            agents::recent_agent_activity,
        )
        .title("Recent agent activity")
        .read_only(),
    )
}

plue_plugin_sdk::export_plugin!(plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirteen_read_only_tools_with_output_schemas() {
        let p = plugin();
        let names: Vec<&str> = p.tools().iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            [
                "system_overview",
                "quick_debug",
                "compare_runs",
                "list_workflow_runs",
                "get_run_details",
                "get_step_logs",
                "get_run_logs",
                "analyze_failures",
                "get_runner_pool",
                "get_pending_tasks",
                "workflow_stats",
                "get_workflow_definition",
                "recent_agent_activity",
            ]
        );
        let manifest = plue_plugin_sdk::__private::manifest(&p);
        for t in &manifest.tools {
            assert!(t.annotations.read_only, "{}", t.name);
            assert!(t.output_schema.is_some(), "{}", t.name);
        }
        assert_eq!(manifest.capabilities.sql, ["plue"]);
    }

    #[test]
    fn parameters_are_the_originals_and_more() {
        let p = plugin();
        let params = |name: &str| -> Vec<String> {
            let t = p.tools().iter().find(|t| t.name() == name).unwrap();
            t.input_schema()["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        let original: &[(&str, &[&str])] = &[
            ("system_overview", &["hours"]),
            (
                "list_workflow_runs",
                &["limit", "status", "workflow_name", "repository"],
            ),
            ("get_run_details", &["run_id"]),
            ("get_step_logs", &["step_id", "log_type", "limit"]),
            ("get_run_logs", &["run_id", "limit"]),
            ("analyze_failures", &["hours", "workflow_name"]),
            ("get_runner_pool", &[]),
            ("get_pending_tasks", &["limit"]),
            ("workflow_stats", &["hours", "workflow_name"]),
            ("get_workflow_definition", &["workflow_id", "workflow_name"]),
            ("recent_agent_activity", &["hours", "limit"]),
            ("quick_debug", &["run_id", "latest"]),
            ("compare_runs", &["run_id_a", "run_id_b"]),
        ];
        for (tool, wanted) in original {
            let have = params(tool);
            for w in *wanted {
                assert!(have.iter().any(|h| h == w), "{tool} lacks {w}: {have:?}");
            }
        }
        let t = p
            .tools()
            .iter()
            .find(|t| t.name() == "compare_runs")
            .unwrap();
        assert_eq!(
            t.input_schema()["required"],
            json!(["run_id_a", "run_id_b"])
        );
        let t = p
            .tools()
            .iter()
            .find(|t| t.name() == "get_step_logs")
            .unwrap();
        let s = t.input_schema();
        assert!(
            s["properties"]["step_id"]["description"]
                .as_str()
                .unwrap()
                .contains("step")
        );
        assert_eq!(
            s["properties"]["log_type"]["enum"],
            json!([
                "all",
                "stdout",
                "stderr",
                "token",
                "tool_call",
                "tool_result"
            ]),
            "{s}"
        );
    }
}

#[cfg(test)]
mod schema_tests {
    /// What an MCP client would reject in any tool's input or output schema.
    #[test]
    fn every_schema_is_clean() {
        let problems = plue_plugin_sdk::testing::schema_problems(&super::plugin());
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
