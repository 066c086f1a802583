//! Completions: `job` (the values of Prometheus's `job` label), `metric` (metric
//! names), `name` (saved query names) and the prompt flags `full` and `quick`
//! (`true`, `false`), each a case-insensitive prefix match; the SDK keeps the
//! first 100 and reports how many matched.

use plue_plugin_sdk::prelude::*;

use crate::api::Api;
use crate::saved;

/// Values of label `label` that continue what was typed, sorted.
fn label_values(label: &str, typed: &Completing) -> Result<Vec<String>, ToolError> {
    let path = format!(
        "/api/v1/label/{}/values",
        crate::promql::label_path_segment(label)
    );
    let mut values = Api::new().get::<Vec<String>>(&path, &[])?.data;
    values.sort();
    Ok(typed.filter(values))
}

/// Job names.
pub fn job(typed: &Completing) -> Result<Vec<String>, ToolError> {
    label_values("job", typed)
}

/// Metric names.
pub fn metric(typed: &Completing) -> Result<Vec<String>, ToolError> {
    label_values("__name__", typed)
}

/// Saved query names, in catalogue order.
pub fn name(typed: &Completing) -> Result<Vec<String>, ToolError> {
    Ok(typed.filter(saved::names().into_iter().map(String::from)))
}

/// A prompt flag's values.
pub fn flag(typed: &Completing) -> Result<Vec<String>, ToolError> {
    Ok(typed.filter(["true", "false"].map(String::from)))
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testutil::serve_stack;

    #[test]
    fn jobs_metrics_and_saved_query_names_by_prefix() {
        serve_stack();
        let p = plugin();
        assert_eq!(
            testing::complete(&p, "job", "", &[]).unwrap(),
            ["api", "batch", "runner", "web"]
        );
        assert_eq!(testing::complete(&p, "job", "R", &[]).unwrap(), ["runner"]);
        assert_eq!(
            testing::complete(&p, "metric", "plue_http", &[]).unwrap(),
            [
                "plue_http_request_duration_ms_bucket",
                "plue_http_requests_total"
            ]
        );
        assert_eq!(
            testing::complete(&p, "name", "latency", &[]).unwrap(),
            ["latency-p50", "latency-p95", "latency-p99"]
        );
        assert!(
            testing::complete(&p, "name", "zzz", &[])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_backend_error_is_reported() {
        testing::fake_http(|_| Ok(testing::response(404, "not found")));
        let err = testing::complete(&plugin(), "job", "", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("answered HTTP 404 for /api/v1/label/job/values"),
            "{err}"
        );
    }
}
