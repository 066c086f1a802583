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
