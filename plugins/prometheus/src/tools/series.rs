//! `prometheus_series`: which series match one or more selectors, counted by metric
//! name first (the overview an agent needs), then listed up to a cap.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, cut_note};
use plue_plugin_sdk::time::now;

use crate::api::{Api, Labels, unix};
use crate::format;
use crate::promql::time_arg;
use crate::tools::notes_text;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// e.g. `["up", "{job=\"plue-api\"}"]`.
    #[serde(rename = "match", deserialize_with = "crate::tools::selectors")]
    #[schemars(with = "crate::tools::Selectors")]
    pub selectors: Vec<String>,
    /// Default: all data.
    #[serde(default)]
    pub start: Option<String>,
    /// Default now.
    #[serde(default)]
    pub end: Option<String>,
    /// Default 50; all are counted.
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

// Series count of one metric.
#[derive(Serialize, JsonSchema)]
pub struct MetricCount {
    pub metric: String,
    pub series: usize,
}

/// What `prometheus_series` returns.
#[derive(Serialize, JsonSchema)]
pub struct SeriesOut {
    // How many series matched.
    pub total: usize,
    // Series per metric name, most first.
    pub by_metric: Vec<MetricCount>,
    // The series listed (label sets), sorted, at most `limit`.
    pub series: Vec<Labels>,
    pub truncated: bool,
    pub warnings: Vec<String>,
}

fn run(args: Args) -> Result<Answer<SeriesOut>, ToolError> {
    if args.selectors.is_empty() {
        return Err(ToolError::invalid(
            "`match` needs at least one series selector, such as `up` or `{job=\"plue-api\"}`",
        ));
    }
    let now = now();
    let mut params: Vec<(&str, String)> = args
        .selectors
        .iter()
        .map(|s| ("match[]", s.clone()))
        .collect();
    if let Some(start) = &args.start {
        params.push(("start", unix(time_arg("start", Some(start), now)?)));
    }
    if args.start.is_some() || args.end.is_some() {
        params.push(("end", unix(time_arg("end", args.end.as_deref(), now)?)));
    }
    let query: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = Api::new()
        .get::<Vec<Labels>>("/api/v1/series", &query)
        .map_err(|e| e.for_query(&args.selectors.join(" ")))?;
    let mut series = reply.data;
    series.sort_by_key(format::series);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for s in &series {
        *counts
            .entry(s.get("__name__").cloned().unwrap_or_default())
            .or_default() += 1;
    }
    let mut by_metric: Vec<MetricCount> = counts
        .into_iter()
        .map(|(metric, series)| MetricCount { metric, series })
        .collect();
    by_metric.sort_by(|a, b| b.series.cmp(&a.series).then(a.metric.cmp(&b.metric)));
    let limit = text::limit(args.limit, 50, 500);
    let total = series.len();
    series.truncate(limit);

    let body = if total == 0 {
        format!(
            "No series match {}. Check the metric name with prometheus_labels (label `__name__`) and the label values with prometheus_labels (label `job`, …).",
            args.selectors.join(", ")
        )
    } else {
        let metrics: Vec<String> = by_metric
            .iter()
            .take(20)
            .map(|m| {
                format!(
                    "{} ({})",
                    if m.metric.is_empty() {
                        "(no name)"
                    } else {
                        &m.metric
                    },
                    m.series
                )
            })
            .collect();
        let more = if by_metric.len() > 20 {
            format!(", and {} more metrics", by_metric.len() - 20)
        } else {
            String::new()
        };
        let mut text = format!(
            "{total} series of {} metric(s): {}{more}\n\n{}",
            by_metric.len(),
            metrics.join(", "),
            series
                .iter()
                .map(format::series)
                .collect::<Vec<_>>()
                .join("\n")
        );
        if series.len() < total {
            text.push_str("\n\n");
            text.push_str(&cut_note(
                series.len(),
                total,
                "series",
                "add label matchers to `match` (e.g. {job=\"…\"}), set `start`, or raise `limit`",
            ));
        }
        text
    };
    let out = SeriesOut {
        total,
        truncated: series.len() < total,
        by_metric,
        series,
        warnings: reply.notes,
    };
    Ok(Answer::new(
        text::blocks(vec![Some(body), notes_text(&out.warnings)]),
        out,
    ))
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "prometheus_series",
        "Series matching selectors: a metric's labels before querying.",
        run,
    )
    .title("Find series")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use crate::plugin;

    #[test]
    fn counts_by_metric_and_caps() {
        testing::fake_http(|req| {
            assert_eq!(
                req.path_and_query,
                "/api/v1/series?match%5B%5D=up&match%5B%5D=%7Bjob%3D%22a%22%7D&start=1700000000&end=1700000600"
            );
            Ok(testing::response(
                200,
                r#"{"status":"success","data":[
                {"__name__":"up","job":"b"},{"__name__":"x","job":"a"},{"__name__":"up","job":"a"}]}"#,
            ))
        });
        let out = testing::call(
            &plugin(),
            "prometheus_series",
            json!({"match": ["up", "{job=\"a\"}"], "start": "1700000000", "end": "1700000600", "limit": 2}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(text.starts_with("3 series of 2 metric(s): up (2), x (1)\n\nup{job=\"a\"}\nup{job=\"b\"}\n\nShowing 2 of 3"), "{text}");
        assert_eq!(out.structured().unwrap()["by_metric"][0]["series"], 2);
    }

    #[test]
    fn empty_and_errors() {
        testing::fake_http(|_| Ok(testing::response(200, r#"{"status":"success","data":[]}"#)));
        let out =
            testing::call(&plugin(), "prometheus_series", json!({"match": ["nope"]})).unwrap();
        assert!(
            out.text_content().starts_with("No series match nope."),
            "{}",
            out.text_content()
        );
        testing::fake_http(|_| {
            Ok(testing::response(
                400,
                r#"{"status":"error","errorType":"bad_data","error":"1:2: parse error: unexpected"}"#,
            ))
        });
        let err =
            testing::call(&plugin(), "prometheus_series", json!({"match": ["{"]})).unwrap_err();
        assert!(err.to_string().contains("parse error: unexpected"), "{err}");
    }
}
