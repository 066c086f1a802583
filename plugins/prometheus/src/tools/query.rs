//! `prometheus_query`: one PromQL expression evaluated at one instant, its series
//! ranked by value (unless the query sorts them itself) and capped.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, cut_note, table};
use plue_plugin_sdk::time::{now, rfc3339};

use crate::api::{Api, InstantSample, Labels, QueryData};
use crate::format;
use crate::promql::time_arg;
use crate::tools::notes_text;
use crate::tools::range::{SeriesSummary, summarise_all};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// e.g. `rate(plue_http_requests_total[5m])`.
    pub query: String,
    /// `now` (default), `15m` ago, RFC 3339, Unix seconds.
    #[serde(default)]
    pub time: Option<String>,
    /// Default 50; the rest are counted.
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
}

// One series of an instant vector.
#[derive(Serialize, JsonSchema)]
pub struct SampleOut {
    // The series' labels, `__name__` included when present.
    pub labels: Labels,
    /// The value; null when Prometheus gave NaN (no data) or ±Inf.
    pub value: Option<f64>,
    // The value exactly as Prometheus wrote it (`NaN`, `+Inf`, `0.05`).
    pub raw: String,
}

/// What `prometheus_query` returns.
#[derive(Serialize, JsonSchema)]
pub struct QueryOut {
    pub query: String,
    pub time: String,
    // `vector`, `matrix`, `scalar` or `string`.
    pub result_type: String,
    // How many series Prometheus returned.
    pub series_total: usize,
    // The series shown (vector results), at most `limit`.
    pub series: Vec<SampleOut>,
    // Range-vector results (a query such as `up[5m]`), summarised.
    pub range_series: Vec<SeriesSummary>,
    // The value of a scalar or string result.
    pub scalar: Option<String>,
    // Whether series were left out.
    pub truncated: bool,
    // Warnings and infos from Prometheus.
    pub warnings: Vec<String>,
}

/// Whether the query orders its result itself (`sort`, `sort_desc`, `sort_by_label…`).
fn keeps_order(query: &str) -> bool {
    let q: String = query.to_ascii_lowercase().split_whitespace().collect();
    ["sort(", "sort_desc(", "sort_by_label"]
        .iter()
        .any(|f| q.contains(f))
}

/// For a bare selector of a cumulative series (`x_total`, `x_count`, `x_sum`,
/// `x_bucket`), a hint to take its rate.
pub fn counter_hint(query: &str) -> Option<String> {
    let q = query.trim();
    let name_end = q.find('{').unwrap_or(q.len());
    let name = &q[..name_end];
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && (name_end == q.len() || q.ends_with('}'));
    let cumulative = ["_total", "_count", "_sum", "_bucket"]
        .iter()
        .any(|s| name.ends_with(s));
    (bare && cumulative).then(|| {
        format!("Hint: `{name}` only grows; rate({q}[5m]) gives it per second, increase({q}[1h]) per hour.")
    })
}

/// Highest value first; series without a number (NaN, histograms) last.
pub fn rank(samples: &mut [InstantSample]) {
    samples.sort_by(|a, b| match (a.number(), b.number()) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

fn sample_value_text(s: &InstantSample) -> String {
    match (&s.value, &s.histogram) {
        (Some(p), _) => format::raw_value(&p.1),
        (None, Some(h)) => format!(
            "histogram: count {}, sum {}",
            format::raw_value(&h.1.count),
            format::raw_value(&h.1.sum)
        ),
        (None, None) => "no data".into(),
    }
}

fn run(args: Args) -> Result<Answer<QueryOut>, ToolError> {
    let now = now();
    let at = time_arg("time", args.time.as_deref(), now)?;
    let limit = text::limit(args.limit, 50, 200);
    let reply = Api::new().query(&args.query, at)?;
    let mut out = QueryOut {
        query: args.query.clone(),
        time: rfc3339(at),
        result_type: reply.data.kind().into(),
        series_total: 0,
        series: Vec::new(),
        range_series: Vec::new(),
        scalar: None,
        truncated: false,
        warnings: reply.notes.clone(),
    };
    let body = match reply.data {
        QueryData::Vector(mut samples) => {
            out.series_total = samples.len();
            if samples.is_empty() {
                format!(
                    "No data: `{}` matched no series at {}. To see what exists: prometheus_series with a matcher such as {{job=\"…\"}}, or prometheus_labels with label `__name__` for metric names.",
                    args.query, out.time
                )
            } else {
                let sorted = !keeps_order(&args.query);
                if sorted {
                    rank(&mut samples);
                }
                let shown = &samples[..limit.min(samples.len())];
                out.truncated = shown.len() < samples.len();
                let rows: Vec<Vec<String>> = shown
                    .iter()
                    .map(|s| vec![sample_value_text(s), format::series(&s.metric)])
                    .collect();
                out.series = shown
                    .iter()
                    .map(|s| SampleOut {
                        labels: s.metric.clone(),
                        value: s.number(),
                        raw: s.value.as_ref().map(|p| p.1.clone()).unwrap_or_default(),
                    })
                    .collect();
                let order = if sorted { ", highest first" } else { "" };
                let mut text = format!(
                    "{} series at {}{order}:\n{}",
                    samples.len(),
                    out.time,
                    table(&["value", "series"], &rows, 300)
                );
                if out.truncated {
                    text.push_str("\n\n");
                    text.push_str(&cut_note(
                        shown.len(),
                        samples.len(),
                        "series",
                        "aggregate (sum by (job) (…)), add label matchers, use topk(), or raise `limit`",
                    ));
                }
                text
            }
        }
        QueryData::Matrix(series) => {
            out.series_total = series.len();
            let summary = summarise_all(&series, limit, 12, None);
            out.truncated = summary.shown.len() < series.len();
            out.range_series = summary.shown;
            if series.is_empty() {
                format!(
                    "No data: `{}` matched no series at {}.",
                    args.query, out.time
                )
            } else {
                format!("Range vector at {}: {}", out.time, summary.text)
            }
        }
        QueryData::Scalar(p) => {
            out.scalar = Some(p.1.clone());
            format!("Scalar: {} (at {})", format::raw_value(&p.1), rfc3339(p.0))
        }
        QueryData::String(p) => {
            out.scalar = Some(p.1.clone());
            format!("String: {:?} (at {})", p.1, rfc3339(p.0))
        }
    };
    let hint = (out.series_total > 0)
        .then(|| counter_hint(&args.query))
        .flatten();
    let text = text::blocks(vec![Some(body), hint, notes_text(&out.warnings)]);
    Ok(Answer::new(text, out))
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "prometheus_query",
        "Evaluate PromQL at one instant; series ranked by value unless the query sorts.",
        run,
    )
    .title("PromQL instant query")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use crate::plugin;

    fn serve(body: &'static str) {
        testing::fake_http(move |req| {
            assert!(
                req.path_and_query.starts_with("/api/v1/query?query="),
                "{}",
                req.path_and_query
            );
            Ok(testing::response(200, body))
        });
    }

    #[test]
    fn vector_ranked_and_capped() {
        serve(
            r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"job":"a"},"value":[1700000000,"1"]},
            {"metric":{"job":"b"},"value":[1700000000,"NaN"]},
            {"metric":{"job":"c"},"value":[1700000000,"20"]},
            {"metric":{"job":"d"},"value":[1700000000,"5"]}]}}"#,
        );
        let out = testing::call(
            &plugin(),
            "prometheus_query",
            json!({"query": "x", "limit": 2}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(text.starts_with("4 series at "), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[3], r#"20     {job="c"}"#, "{text}");
        assert_eq!(lines[4], r#"5      {job="d"}"#, "{text}");
        assert!(
            text.contains("Showing 2 of 4 series (2 left out)"),
            "{text}"
        );
        let s = out.structured().unwrap();
        assert_eq!(s["series_total"], 4);
        assert_eq!(s["series"][0]["value"], 20.0);
        assert_eq!(s["truncated"], true);
    }

    #[test]
    fn nan_is_no_data_and_sorting_queries_keep_order() {
        serve(
            r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"job":"b"},"value":[1700000000,"NaN"]},
            {"metric":{"job":"a"},"value":[1700000000,"3"]}]}}"#,
        );
        let out =
            testing::call(&plugin(), "prometheus_query", json!({"query": "sort(x)"})).unwrap();
        let text = out.text_content();
        assert!(!text.contains("NaN"), "{text}");
        assert!(text.contains(r#"no data  {job="b"}"#), "{text}");
        assert!(
            text.find("job=\"b\"").unwrap() < text.find("job=\"a\"").unwrap(),
            "{text}"
        );
        assert!(out.structured().unwrap()["series"][0]["value"].is_null());
    }

    #[test]
    fn empty_scalar_and_time() {
        testing::fake_http(|req| {
            assert!(
                req.path_and_query.contains("&time=1700000000"),
                "{}",
                req.path_and_query
            );
            Ok(testing::response(
                200,
                r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
            ))
        });
        let out = testing::call(
            &plugin(),
            "prometheus_query",
            json!({"query": "nope", "time": "1700000000"}),
        )
        .unwrap();
        assert!(
            out.text_content()
                .starts_with("No data: `nope` matched no series"),
            "{}",
            out.text_content()
        );
        serve(r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"45"]}}"#);
        let out =
            testing::call(&plugin(), "prometheus_query", json!({"query": "scalar(x)"})).unwrap();
        assert_eq!(out.text_content(), "Scalar: 45 (at 2023-11-14T22:13:20Z)");
        let err = testing::call(
            &plugin(),
            "prometheus_query",
            json!({"query": "x", "time": "soon"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("`time`"), "{err}");
    }

    #[test]
    fn counters_get_a_rate_hint() {
        use super::counter_hint;
        assert!(
            counter_hint("http_requests_total{job=\"a\"}")
                .unwrap()
                .contains("rate(http_requests_total{job=\"a\"}[5m])")
        );
        assert!(counter_hint("x_bucket").is_some());
        assert_eq!(counter_hint("rate(x_total[5m])"), None);
        assert_eq!(counter_hint("up"), None);
        assert_eq!(counter_hint("x_total offset 1h"), None);
    }

    #[test]
    fn bad_promql_reaches_the_agent() {
        testing::fake_http(|_| {
            Ok(testing::response(
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:11: parse error: unexpected right parenthesis ')'"}"#,
            ))
        });
        let err = testing::call(
            &plugin(),
            "prometheus_query",
            json!({"query": "rate(x[5m)"}),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("bad_data, HTTP 400"), "{text}");
        assert!(
            text.contains("1:11: parse error: unexpected right parenthesis"),
            "{text}"
        );
        assert!(text.ends_with("rate(x[5m)\n          ^"), "{text}");
    }

    #[test]
    fn range_vector_is_summarised() {
        serve(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","job":"a"},"values":[[1700000000,"1"],[1700000010,"0"]]}]}}"#,
        );
        let out = testing::call(&plugin(), "prometheus_query", json!({"query": "up[1m]"})).unwrap();
        assert!(
            out.text_content().contains("up{job=\"a\"}"),
            "{}",
            out.text_content()
        );
        assert_eq!(out.structured().unwrap()["range_series"][0]["max"], 1.0);
    }
}
