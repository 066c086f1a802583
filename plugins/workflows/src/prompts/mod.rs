//! Prompts: short briefings rendered from live data for an AI agent, each
//! ending with the tools to call next. `debug-workflows` (one run, or the
//! newest failures), this plugin's parts of the shared `observability` and
//! `health-check` prompts (each headed `## Workflows (database)` so it stands
//! alone when the host joins several plugins' parts), and the skill prompt
//! `workflow-debugging-guide`. They call the tools' own functions.

pub mod debug;
pub mod guide;
pub mod status;

use plue_plugin_sdk::PromptDef;
use plue_plugin_sdk::prelude::*;

/// The heading of this plugin's part of a shared prompt.
pub const HEADING: &str = "## Workflows (database)";

/// The prompt argument names shared with the other plugins.
pub mod arg {
    pub const FULL: &str = "full";
    pub const QUICK: &str = "quick";
    pub const RUN_ID: &str = "run_id";
    pub const RECENT: &str = "recent";
}

/// The shared prompts' descriptions, word for word the same in every plugin that
/// offers them (the host joins the parts under one prompt).
const OBSERVABILITY: &str = "The state of the stack now, one part per source (workflows, logs, database, …): failures, errors, waiting work; more detail with `full`.";
const HEALTH_CHECK: &str = "Is everything healthy: a HEALTHY, DEGRADED or UNHEALTHY verdict per part with its evidence; one line each (quick, the default) or the details (full).";
const FULL_LONG: &str = "`true` for the long version: more detail in every part.";
const QUICK: &str = "`true` for one line per part (the default).";
const FULL_DETAILS: &str = "`true` for the details behind each part's verdict.";

pub fn debug_workflows() -> PromptDef {
    prompt(
        "debug-workflows",
        "Debug workflow runs: one run (status, failed step, its error and log lines, next tools) or the newest failed runs ranked.",
        debug::render,
    )
    .title("Debug workflows")
    .argument(
        arg::RUN_ID,
        "A run id such as 13: debug that run. Leave out for the newest failed runs.",
    )
    .argument(
        arg::RECENT,
        "How many of the newest failed runs to list (1–20, or `true` for 5, the default); ignored when run_id is given.",
    )
}

pub fn observability() -> PromptDef {
    prompt("observability", OBSERVABILITY, status::observability)
        .title("Observability briefing")
        .argument(arg::FULL, FULL_LONG)
}

pub fn health_check() -> PromptDef {
    prompt("health-check", HEALTH_CHECK, status::health_check)
        .title("Health check")
        .argument(arg::QUICK, QUICK)
        .argument(arg::FULL, FULL_DETAILS)
}

pub fn guide() -> PromptDef {
    prompt(
        "workflow-debugging-guide",
        "How to debug Plue workflows with this plugin's tools: a decision tree and the known failure patterns, with today's numbers.",
        guide::render,
    )
    .title("Workflow debugging guide")
}

/// `Next: a; b; c` as the last line of a briefing.
pub fn next_line(next: &[String]) -> String {
    format!("Next tools: {}", next.join("; "))
}

#[cfg(test)]
mod tests;
