//! The prometheus tool group: PromQL queries, series and label discovery, targets,
//! alerts, rules, metadata, and three analyses (service health, errors, latency)
//! over a Prometheus (or Prometheus-compatible) HTTP API the operator grants as
//! endpoint `prometheus`.
//!
//! The plugin sends only `/api/v1/...` paths: the host prepends the endpoint's base
//! URL (with any path prefix such as `/prometheus`) and adds its auth headers.
//!
//! Besides tools: prompts ([`prompts`]: its part of `observability` and
//! `health-check`, and `observability-guide`), saved queries as resources
//! ([`saved`], [`resources`]) and completions ([`completions`]).

pub mod api;
pub mod completions;
pub mod format;
pub mod prompts;
pub mod promql;
pub mod resources;
pub mod saved;
#[cfg(test)]
mod testutil;
pub mod tools;

use plue_plugin_sdk::prelude::*;

/// The plugin description: its capability, settings, tools, prompts, resources
/// and completions.
pub fn plugin() -> Plugin {
    let plugin = Plugin::new(
        "prometheus",
        env!("CARGO_PKG_VERSION"),
        "Prometheus metrics for agents: run PromQL (instant and range, summarised), find series, labels and metric metadata, check targets, alerts and rules, and analyse service health, HTTP errors and latency.",
    )
    .http(api::ENDPOINT)
    .setting(
        tools::REQUESTS_METRIC,
        "plue_http_requests_total",
        "Counter of HTTP requests with labels `status` (5xx, 4xx, … or codes), `method` and `path`; read by error_analysis.",
    )
    .setting(
        tools::DURATION_METRIC,
        "plue_http_request_duration_ms",
        "Histogram of HTTP request durations (name without `_bucket`; a name ending in `_seconds` is converted to ms); read by latency_analysis.",
    )
    .setting(
        tools::AUTH_METRIC,
        "plue_auth_attempts_total",
        "Counter of authentication attempts with a `result` label (`success` or a failure reason); read by error_analysis.",
    )
    .tool(tools::query::def())
    .tool(tools::range::def())
    .tool(tools::series::def())
    .tool(tools::labels::def())
    .tool(tools::targets::def())
    .tool(tools::alerts::def())
    .tool(tools::health::def())
    .tool(tools::errors::def())
    .tool(tools::latency::def())
    .tool(tools::rules::def())
    .tool(tools::metadata::def())
    .resources(resources::queries())
    .completion("job", completions::job)
    .completion("metric", completions::metric)
    .completion("name", completions::name)
    .completion("full", completions::flag)
    .completion("quick", completions::flag);
    prompts::defs().into_iter().fold(plugin, Plugin::prompt)
}

plue_plugin_sdk::export_plugin!(plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_declares_every_tool_read_only_with_schemas() {
        let p = plugin();
        let names: Vec<&str> = p.tools().iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            [
                "prometheus_query",
                "prometheus_query_range",
                "prometheus_series",
                "prometheus_labels",
                "prometheus_targets",
                "prometheus_alerts",
                "service_health",
                "error_analysis",
                "latency_analysis",
                "prometheus_rules",
                "prometheus_metadata",
            ]
        );
        let manifest = plue_plugin_sdk::__private::manifest(&p);
        assert_eq!(manifest.capabilities.http, vec!["prometheus".to_string()]);
        for t in &manifest.tools {
            assert!(
                t.annotations.read_only && t.annotations.idempotent && t.annotations.open_world,
                "{}",
                t.name
            );
            assert!(!t.annotations.destructive, "{}", t.name);
            let output: serde_json::Value =
                serde_json::from_str(t.output_schema.as_ref().unwrap()).unwrap();
            assert_eq!(output["type"], "object", "{}", t.name);
            let input: serde_json::Value = serde_json::from_str(&t.input_schema).unwrap();
            assert_eq!(input["type"], "object", "{}", t.name);
            for (name, prop) in input["properties"].as_object().unwrap() {
                assert!(
                    prop["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{}.{name}",
                    t.name
                );
            }
        }
        let query = p.tools()[0].input_schema();
        assert_eq!(query["required"], json!(["query"]));
        let series = p.tools()[2].input_schema();
        assert_eq!(series["required"], json!(["match"]));
    }
}

plue_plugin_sdk::schema_test!(plugin);
