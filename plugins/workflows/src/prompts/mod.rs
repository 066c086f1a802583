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
        "How many of the newest failed runs to list (1–20, default 5); ignored when run_id is given.",
    )
}

pub fn observability() -> PromptDef {
    prompt(
        "observability",
        "Status of the stack: workflow failures, success rate over 24 h and waiting work (and more per part with `full`).",
        status::observability,
    )
    .title("Observability briefing")
    .argument(
        arg::FULL,
        "`true` for the long version (per-workflow statistics, runners, LLM usage).",
    )
}

pub fn health_check() -> PromptDef {
    prompt(
        "health-check",
        "Is everything healthy: one line per part (quick, the default) or the evidence behind it (full).",
        status::health_check,
    )
    .title("Health check")
    .argument(arg::QUICK, "`true` for one line per part (the default).")
    .argument(arg::FULL, "`true` for the details behind each verdict.")
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
