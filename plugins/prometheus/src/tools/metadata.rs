//! `prometheus_metadata`: a metric's type, unit and help text as its targets expose
//! them, or a search over all metrics' names and help.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, cut_note};

use crate::api::{Api, MetadataData};
use crate::format;

#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// e.g. `plue_http_requests_total`.
    #[serde(default)]
    pub metric: Option<String>,
    /// Text in name or help.
    #[serde(default)]
    pub search: Option<String>,
    /// Default 50.
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

// One metric's metadata.
#[derive(Serialize, JsonSchema)]
pub struct MetricOut {
    pub metric: String,
    // `counter`, `gauge`, `histogram`, `summary`, `gaugehistogram`, `info`, `stateset` or `unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    // The unit, empty when the exposition gives none.
    pub unit: String,
    pub help: String,
    // Other help/type variants different targets expose for the same name.
    pub variants: usize,
}

/// What `prometheus_metadata` returns.
#[derive(Serialize, JsonSchema)]
pub struct MetadataOut {
    // How many metrics matched.
    pub total: usize,
    // Sorted by name, at most `limit`.
    pub metrics: Vec<MetricOut>,
    pub truncated: bool,
}

fn family_name(metric: &str) -> Option<&str> {
    ["_bucket", "_sum", "_count", "_total", "_created", "_info"]
        .iter()
        .find_map(|s| metric.strip_suffix(s))
}

fn collect(data: MetadataData, search: Option<&str>) -> Vec<MetricOut> {
    let search = search.map(str::to_lowercase);
    data.into_iter()
        .filter_map(|(metric, entries)| {
            let first = entries.first()?.clone();
            let keep = search.as_ref().is_none_or(|s| {
                metric.to_lowercase().contains(s)
                    || entries.iter().any(|e| e.help.to_lowercase().contains(s))
            });
            keep.then(|| MetricOut {
                metric,
                kind: first.kind,
                unit: first.unit,
                help: first.help,
                variants: entries.len() - 1,
            })
        })
        .collect()
}

fn line(m: &MetricOut) -> String {
    let unit = if m.unit.is_empty() {
        String::new()
    } else {
        format!(", unit {}", m.unit)
    };
    let variants = if m.variants > 0 {
        format!(" (+{} variants)", m.variants)
    } else {
        String::new()
    };
    format!(
        "{}: {}{unit}{variants}: {}",
        m.metric,
        m.kind,
        format::one_line(&m.help, 300)
    )
}

fn run(args: Args) -> Result<Answer<MetadataOut>, ToolError> {
    let api = Api::new();
    let limit = text::limit(args.limit, 50, 500);
    let metric = args
        .metric
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let fetch = |m: &str| {
        api.get::<MetadataData>("/api/v1/metadata", &[("metric", m)])
            .map(|r| r.data)
    };
    let mut metrics = match metric {
        Some(m) => {
            let mut data = fetch(m)?;
            if data.is_empty()
                && let Some(family) = family_name(m)
            {
                data = fetch(family)?;
            }
            collect(data, None)
        }
        None => collect(
            api.get::<MetadataData>("/api/v1/metadata", &[])?.data,
            args.search.as_deref(),
        ),
    };
    let total = metrics.len();
    metrics.truncate(limit);
    let body = match (metric, total) {
        (Some(m), 0) => format!(
            "No metadata for `{m}`. Metadata comes from scraped targets; series from backfill, recording rules or remote write have none. Whether the series exist: prometheus_series with match `{m}`."
        ),
        (None, 0) => match args.search.as_deref() {
            Some(s) => format!("No metric's name or help contains `{s}`."),
            None => "No metadata: no scraped target exposes any.".into(),
        },
        _ => metrics.iter().map(line).collect::<Vec<_>>().join("\n"),
    };
    let note = (metrics.len() < total).then(|| {
        cut_note(
            metrics.len(),
            total,
            "metrics",
            "pass `metric` or `search`, or raise `limit`",
        )
    });
    let out = MetadataOut {
        total,
        truncated: metrics.len() < total,
        metrics,
    };
    Ok(Answer::new(text::blocks(vec![Some(body), note]), out))
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "prometheus_metadata",
        "What a metric measures: type, unit and help.",
        run,
    )
    .title("Metric metadata")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use crate::plugin;

    #[test]
    fn one_metric_and_family_fallback() {
        testing::fake_http(|req| {
            let body = match req.path_and_query.as_str() {
                "/api/v1/metadata?metric=http_ms_bucket" => r#"{"status":"success","data":{}}"#,
                "/api/v1/metadata?metric=http_ms" => {
                    r#"{"status":"success","data":{"http_ms":[{"type":"histogram","help":"Request duration.","unit":"ms"}]}}"#
                }
                other => panic!("{other}"),
            };
            Ok(testing::response(200, body))
        });
        let out = testing::call(
            &plugin(),
            "prometheus_metadata",
            json!({"metric": "http_ms_bucket"}),
        )
        .unwrap();
        assert_eq!(
            out.text_content(),
            "http_ms: histogram, unit ms: Request duration."
        );
        assert_eq!(out.structured().unwrap()["metrics"][0]["unit"], "ms");
    }

    #[test]
    fn search_and_cap() {
        testing::fake_http(|_| {
            Ok(testing::response(
                200,
                r#"{"status":"success","data":{
                "a_total":[{"type":"counter","help":"Requests.","unit":""}],
                "b":[{"type":"gauge","help":"Sessions open.","unit":""},{"type":"gauge","help":"Other","unit":""}],
                "c_requests":[{"type":"gauge","help":"x","unit":""}]}}"#,
            ))
        });
        let out = testing::call(
            &plugin(),
            "prometheus_metadata",
            json!({"search": "REQUEST", "limit": 1}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with("a_total: counter: Requests.\n\nShowing 1 of 2 metrics"),
            "{text}"
        );
        let out = testing::call(
            &plugin(),
            "prometheus_metadata",
            json!({"search": "sessions"}),
        )
        .unwrap();
        assert_eq!(out.text_content(), "b: gauge (+1 variants): Sessions open.");
        testing::fake_http(|_| Ok(testing::response(200, r#"{"status":"success","data":{}}"#)));
        let out =
            testing::call(&plugin(), "prometheus_metadata", json!({"metric": "nope"})).unwrap();
        assert!(
            out.text_content().starts_with("No metadata for `nope`."),
            "{}",
            out.text_content()
        );
    }
}
