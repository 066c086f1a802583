//! Helpers for the unit tests: Prometheus-shaped answers.

/// A successful instant-vector answer: (labels as JSON object members, value).
pub fn vector(items: &[(&str, &str)]) -> String {
    let result: Vec<String> = items
        .iter()
        .map(|(labels, v)| format!(r#"{{"metric":{{{labels}}},"value":[1700000000,"{v}"]}}"#))
        .collect();
    format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
        result.join(",")
    )
}

/// Alerts: one critical firing, one warning pending.
pub const ALERTS: &str = r#"{"status":"success","data":{"alerts":[
  {"labels":{"alertname":"PlueServiceDown","severity":"critical","job":"runner"},"annotations":{"summary":"runner (r:2) is down"},"state":"firing","activeAt":"2023-11-14T22:00:00Z","value":"0"},
  {"labels":{"alertname":"PlueLatencyP95High","severity":"warning"},"annotations":{"summary":"p95 latency of api is 1200 ms"},"state":"pending","activeAt":"2023-11-14T22:10:00Z","value":"1200"}]}}"#;

/// Rules: one healthy, one failing to evaluate.
pub const RULES: &str = r#"{"status":"success","data":{"groups":[{"name":"plue-http","file":"rules/plue-recording.yml","interval":15,"rules":[
  {"name":"service:plue_http_requests:rate5m","query":"sum by (service) (rate(plue_http_requests_total[5m]))","type":"recording","health":"ok","lastError":""},
  {"name":"service:plue_http_errors:ratio_rate5m","query":"a / b","type":"recording","health":"err","lastError":"many-to-many matching not allowed"}]}]}}"#;

/// The `query` parameter of an API request, decoded.
pub fn query_of(path_and_query: &str) -> String {
    path_and_query
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("query="))
        .map(plue_plugin_sdk::testing::percent_decode)
        .unwrap_or_default()
}

/// A whole Prometheus for the prompts: targets (api and batch up, runner down),
/// alerts, rules, and the saved queries' values: requests api 20 and web 25
/// req/s, 5xx api 1 and web 0.1 req/s, p95 api 480 and web 120 ms, auth
/// failures 10%, database errors api 0.2%, plue-mcp's database backend down.
pub fn serve_stack() {
    use crate::saved::find;
    use crate::tools::Metrics;
    let m = Metrics::load();
    let q = |name: &str| find(name).unwrap().promql(&m);
    let answers: Vec<(String, String)> = vec![
        (
            q("request-rate"),
            vector(&[(r#""job":"api""#, "20"), (r#""job":"web""#, "25")]),
        ),
        (
            q("error-rate"),
            vector(&[(r#""job":"api""#, "1"), (r#""job":"web""#, "0.1")]),
        ),
        (
            q("latency-p95"),
            vector(&[(r#""job":"api""#, "480"), (r#""job":"web""#, "120")]),
        ),
        (
            q("top-5xx-endpoints"),
            vector(&[
                (
                    r#""job":"api","method":"POST","path":"/api/:user/:repo/workflows/*""#,
                    "2880",
                ),
                (
                    r#""job":"api","method":"GET","path":"/api/:user/:repo/issues/*""#,
                    "720",
                ),
            ]),
        ),
        (q("auth-failure-ratio"), vector(&[("", "0.1")])),
        (
            q("db-query-error-ratio"),
            vector(&[(r#""job":"api""#, "0.002")]),
        ),
        (
            q("mcp-backends"),
            vector(&[
                (r#""plugin":"logs","endpoint":"loki""#, "1"),
                (r#""plugin":"database","endpoint":"database""#, "0"),
            ]),
        ),
        (
            "up".into(),
            vector(&[
                (r#""__name__":"up","job":"api","instance":"a:1""#, "1"),
                (r#""__name__":"up","job":"batch","instance":"b:3""#, "1"),
            ]),
        ),
    ];
    plue_plugin_sdk::testing::fake_http(move |req| {
        let p = &req.path_and_query;
        let body = if p.starts_with("/api/v1/targets") {
            crate::tools::targets::tests::TARGETS.to_string()
        } else if p.starts_with("/api/v1/alerts") {
            ALERTS.to_string()
        } else if p.starts_with("/api/v1/rules") {
            RULES.to_string()
        } else if p.starts_with("/api/v1/label/job/values") {
            r#"{"status":"success","data":["web","api","runner","batch"]}"#.to_string()
        } else if p.starts_with("/api/v1/label/__name__/values") {
            r#"{"status":"success","data":["up","plue_http_requests_total","plue_http_request_duration_ms_bucket","plue_auth_attempts_total"]}"#.to_string()
        } else {
            let query = query_of(p);
            if query.starts_with("max by (job, instance)") {
                vector(&[(r#""job":"runner","instance":"r:2""#, "1699999700")])
            } else {
                answers
                    .iter()
                    .find(|(q, _)| *q == query)
                    .map(|(_, body)| body.clone())
                    .unwrap_or_else(|| vector(&[]))
            }
        };
        Ok(plue_plugin_sdk::testing::response(200, &body))
    });
}
