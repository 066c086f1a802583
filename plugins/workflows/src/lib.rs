//! The workflows tool group: thirteen read-only tools for debugging Plue's
//! workflow runs, over its PostgreSQL database (`plue`, granted by the operator).
//!
//! Code map: `tools/` holds one module per tool (its arguments, definition,
//! structured output and text); `queries.rs` every SQL statement; `logs.rs`
//! the pure log condensing (tokens joined, decisive lines, bounded views);
//! `fmt.rs` times, durations and numbers; `args.rs` shared argument checks;
//! `prompts/` the briefings, `resources.rs` run summaries and step logs as
//! resources, `complete.rs` run and step id completions.
//! This file only registers them.

pub mod args;
pub mod complete;
pub mod fmt;
pub mod logs;
pub mod prompts;
pub mod queries;
pub mod resources;
pub mod status;
pub mod tools;

use plue_plugin_sdk::prelude::*;

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
    .tool(tools::overview::def())
    .tool(tools::debug::def())
    .tool(tools::compare::def())
    .tool(tools::list_runs::def())
    .tool(tools::run_details::def())
    .tool(tools::step_logs::def())
    .tool(tools::run_logs::def())
    .tool(tools::failures::def())
    .tool(tools::runner_pool::def())
    .tool(tools::pending_tasks::def())
    .tool(tools::stats::def())
    .tool(tools::definition::def())
    .tool(tools::agents::def())
    .prompt(prompts::debug_workflows())
    .prompt(prompts::observability())
    .prompt(prompts::health_check())
    .prompt(prompts::guide())
    .resources(resources::runs())
    .resources(resources::step_logs())
    .completion("run_id", complete::run_id)
    .completion("step_id", complete::step_id)
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
    fn prompts_and_resource_families_are_declared() {
        let manifest = plue_plugin_sdk::__private::manifest(&plugin());
        plue_plugin_sdk::testing::assert_prompt_signatures(
            &plugin(),
            &[
                ("debug-workflows", &[("run_id", false), ("recent", false)]),
                ("observability", &[("full", false)]),
                ("health-check", &[("quick", false), ("full", false)]),
                ("workflow-debugging-guide", &[]),
            ],
        );
        let templates: Vec<(&str, Option<&str>)> = manifest
            .resource_templates
            .iter()
            .map(|t| (t.uri_template.as_str(), t.mime_type.as_deref()))
            .collect();
        assert_eq!(
            templates,
            [
                ("plue://runs/{run_id}", Some("text/markdown")),
                ("plue://steps/{step_id}/logs", Some("text/plain")),
            ]
        );
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
