//! The logs tool group: nine tools that answer questions about logs straight from
//! Grafana Loki through the host's `loki` endpoint.
//!
//! Every query is LogQL built in [`logql`] (quoted and escaped by LogQL's rules,
//! syntax that Loki 2.x and 3.x both accept); [`loki`] talks to the API; [`line`],
//! [`traces`] and [`normalize`] read what the lines say whatever their shape
//! ([`rejoin`] puts traces split one line per entry back together);
//! [`render`] bounds what the agent reads; [`tools`] holds one module per tool.
//! [`prompts`] renders `trace-request` and this plugin's parts of `observability`
//! and `health-check`; [`resources`] serves a page per service
//! (`plue://logs/services/{service}`); [`complete`] suggests request ids and
//! services.
//! The operator's settings name the label that identifies a service and the base
//! stream selector, so the tools fit any Promtail or Alloy set-up.

pub mod complete;
pub mod context;
pub mod line;
pub mod logql;
pub mod loki;
pub mod normalize;
pub mod prompts;
pub mod rejoin;
pub mod render;
pub mod resources;
pub mod tools;
pub mod traces;
pub mod window;

use plue_plugin_sdk::prelude::*;

use context::{DURATION_FIELD, SELECTOR, SERVICE_LABEL};

/// The plugin description: its capabilities, settings and tools.
pub fn plugin() -> Plugin {
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
    .tool(tools::search::def())
    .tool(tools::tail::def())
    .tool(tools::errors::def())
    .tool(tools::trace::def())
    .tool(tools::slow::def())
    .tool(tools::stats::def())
    .tool(tools::exceptions::def())
    .tool(tools::workflows::def())
    .tool(tools::agents::def())
    .prompt(prompts::trace_request())
    .prompt(prompts::observability())
    .prompt(prompts::health_check())
    .resources(resources::services())
    .completion("request_id", complete::request_id)
    .completion("service", complete::service)
}

plue_plugin_sdk::export_plugin!(plugin);

plue_plugin_sdk::schema_test!(plugin);

#[cfg(test)]
mod tests {
    #[test]
    fn prompts_use_the_shared_argument_names() {
        let manifest = plue_plugin_sdk::__private::manifest(&super::plugin());
        plue_plugin_sdk::testing::assert_prompt_signatures(
            &super::plugin(),
            &[
                ("trace-request", &[("request_id", true)]),
                ("observability", &[("full", false)]),
                ("health-check", &[("quick", false), ("full", false)]),
            ],
        );
        let templates: Vec<&str> = manifest
            .resource_templates
            .iter()
            .map(|t| t.uri_template.as_str())
            .collect();
        assert_eq!(templates, [super::resources::SERVICES]);
    }
}
