//! The logs tool group: nine tools that answer questions about logs straight from
//! Grafana Loki through the host's `loki` endpoint.
//!
//! Every query is LogQL built in [`logql`] (quoted and escaped by LogQL's rules,
//! syntax that Loki 2.x and 3.x both accept); [`loki`] talks to the API; [`line`],
//! [`traces`] and [`normalize`] read what the lines say whatever their shape
//! ([`rejoin`] puts traces split one line per entry back together);
//! [`render`] bounds what the agent reads; [`tools`] holds one module per tool.
//! The operator's settings name the label that identifies a service and the base
//! stream selector, so the tools fit any Promtail or Alloy set-up.

pub mod context;
pub mod line;
pub mod logql;
pub mod loki;
pub mod normalize;
pub mod rejoin;
pub mod render;
pub mod tools;
pub mod traces;
pub mod window;

use plue_plugin_sdk::prelude::*;

use context::{DURATION_FIELD, SELECTOR, SERVICE_LABEL};

/// The plugin description: its capabilities, settings and tools.
pub fn plugin() -> Plugin {
    let logs = |def: ToolDef, title: &str| def.title(title).read_only().open_world();
    Plugin::new(
        "logs",
        env!("CARGO_PKG_VERSION"),
        "Logs from Grafana Loki: search, tail, errors grouped by message, requests traced across services, \
         slow requests, volume per service, stack traces by language, workflow runs and agent sessions.",
    )
    .http(loki::ENDPOINT)
    .setting(SERVICE_LABEL.0, SERVICE_LABEL.1, "The stream label that names a service (the `service` argument matches it).")
    .setting(SELECTOR.0, SELECTOR.1, "The stream selector every query starts from, such as {job=\"containerlogs\"}.")
    .setting(
        DURATION_FIELD.0,
        DURATION_FIELD.1,
        "The JSON or logfmt field holding a request's duration in milliseconds (find_slow_requests).",
    )
    .tool(logs(
        tool(
            "search_logs",
            "Log lines by service, level and text, or your own LogQL; newest first.",
            tools::search::run,
        ),
        "Search logs",
    ))
    .tool(logs(
        tool(
            "tail_logs",
            "The newest log lines; `follow_seconds` keeps polling.",
            tools::tail::run,
        ),
        "Tail logs",
    ))
    .tool(logs(
        tool(
            "find_errors",
            "Error lines grouped by message, most frequent first.",
            tools::errors::run,
        ),
        "Find errors",
    ))
    .tool(logs(
        tool(
            "trace_request",
            "One request id across services, in time order.",
            tools::trace::run,
        ),
        "Trace a request",
    ))
    .tool(logs(
        tool(
            "find_slow_requests",
            "Requests slower than `threshold_ms` (a duration field, or `812ms` / `took 2.4s` in plain text), slowest first.",
            tools::slow::run,
        ),
        "Find slow requests",
    ))
    .tool(logs(
        tool(
            "log_stats",
            "Log volume per service with error and warning counts.",
            tools::stats::run,
        ),
        "Log statistics",
    ))
    .tool(logs(
        tool(
            "search_exceptions",
            "Stack traces and panics grouped by language and type.",
            tools::exceptions::run,
        ),
        "Search exceptions",
    ))
    .tool(logs(
        tool(
            "workflow_logs",
            "Workflow run logs: one run, a workflow's runs, or all runs summarised.",
            tools::workflows::run,
        ),
        "Workflow logs",
    ))
    .tool(logs(
        tool(
            "agent_logs",
            "AI agent sessions: one by `session_id`, or all in the window.",
            tools::agents::run,
        ),
        "Agent logs",
    ))
}

plue_plugin_sdk::export_plugin!(plugin);

plue_plugin_sdk::schema_test!(plugin);
