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
            "Start here for workflows: run status, stuck runs, failures, runners.",
            overview::system_overview,
        )
        .title("System overview")
        .read_only(),
    )
    .tool(
        tool(
            "quick_debug",
            "Why a run failed: cause, key log lines, similar failures, last success.",
            debug::quick_debug,
        )
        .title("Quick debug a run")
        .read_only(),
    )
    .tool(
        tool(
            "compare_runs",
            "Two runs step by step: what B broke or fixed, and what else changed.",
            compare::compare_runs,
        )
        .title("Compare two runs")
        .read_only(),
    )
    .tool(
        tool(
            "list_workflow_runs",
            "Workflow runs, newest first, by status, workflow, repository and age.",
            runs::list_workflow_runs,
        )
        .title("List workflow runs")
        .read_only(),
    )
    .tool(
        tool(
            "get_run_details",
            "One run: trigger, timeline, error, steps.",
            runs::get_run_details,
        )
        .title("Run details")
        .read_only(),
    )
    .tool(
        tool(
            "get_step_logs",
            "One step's logs, paged by `offset`.",
            step_logs::get_step_logs,
        )
        .title("Step logs")
        .read_only(),
    )
    .tool(
        tool(
            "get_run_logs",
            "A run's logs step by step, long steps cut.",
            step_logs::get_run_logs,
        )
        .title("Run logs")
        .read_only(),
    )
    .tool(
        tool(
            "analyze_failures",
            "Failed runs grouped by workflow, step and error, with success rates.",
            failures::analyze_failures,
        )
        .title("Analyze failures")
        .read_only(),
    )
    .tool(
        tool(
            "get_runner_pool",
            "Warm runner pods: status, heartbeat, held step, and problems.",
            runners::get_runner_pool,
        )
        .title("Runner pool")
        .read_only(),
    )
    .tool(
        tool(
            "get_pending_tasks",
            "What waits for a runner, oldest first, with wait time.",
            runners::get_pending_tasks,
        )
        .title("Pending tasks")
        .read_only(),
    )
    .tool(
        tool(
            "workflow_stats",
            "Per workflow: runs by status, success rate, duration percentiles.",
            stats::workflow_stats,
        )
        .title("Workflow statistics")
        .read_only(),
    )
    .tool(
        tool(
            "get_workflow_definition",
            "A workflow's triggers, step DAG and recent runs.",
            definition::get_workflow_definition,
        )
        .title("Workflow definition")
        .read_only(),
    )
    .tool(
        tool(
            "recent_agent_activity",
            "LLM and agent activity: tokens, latency, tool calls.",
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
                .contains("get_run_details")
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

plue_plugin_sdk::schema_test!(plugin);
