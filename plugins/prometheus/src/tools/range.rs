//! `prometheus_query_range`: a PromQL expression over a time range, each series
//! summarised (min, max, mean, last, and its points down-sampled to a readable
//! trend) instead of dumped, series ranked by mean and capped; on request also a
//! PNG line chart of the top series.

use plue_plugin_sdk::chart::{self, Chart};
use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, cut_note};
use plue_plugin_sdk::time::{human_duration, now, parse_duration, rfc3339};

use crate::api::{Api, Labels, QueryData, RangeSeries};
use crate::format;
use crate::promql::time_arg;
use crate::tools::notes_text;

/// Prometheus refuses range queries with more points per series than this.
const MAX_POINTS: f64 = 11_000.0;
/// Trend points in one answer, all series together.
const TREND_BUDGET: usize = 1000;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// e.g. `rate(plue_http_requests_total[5m])`.
    pub query: String,
    /// Default `1h` ago.
    #[serde(default)]
    pub start: Option<String>,
    /// Default `now`.
    #[serde(default)]
    pub end: Option<String>,
    /// `15s`, `1m` or seconds; default ~250 points.
    #[serde(default)]
    pub step: Option<String>,
    /// Default 20; the rest are counted.
    #[serde(default)]
    #[schemars(range(min = 1, max = 50))]
    pub limit: Option<u32>,
    /// Default 12.
    #[serde(default)]
    #[schemars(range(min = 2, max = 100))]
    pub points: Option<u32>,
    /// PNG.
    #[serde(default)]
    #[schemars(transform = chart::argument)]
    pub chart: bool,
}

// One point of a down-sampled trend.
#[derive(Serialize, JsonSchema, Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// Start of the span the point stands for.
    pub time: String,
    // Mean of the span's values.
    pub value: f64,
}

// One series, summarised.
#[derive(Serialize, JsonSchema, Debug, Clone)]
pub struct SeriesSummary {
    pub labels: Labels,
    // Points Prometheus returned.
    pub points: usize,
    // Points whose value was NaN or ±Inf (left out of the statistics).
    pub points_without_value: usize,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub last: Option<f64>,
    pub last_time: Option<String>,
    // The points down-sampled: each the mean of an equal span of the range.
    pub trend: Vec<TrendPoint>,
}

/// What `prometheus_query_range` returns.
#[derive(Serialize, JsonSchema)]
pub struct RangeOut {
    pub query: String,
    pub start: String,
    pub end: String,
    pub step_seconds: f64,
    // How many series Prometheus returned.
    pub series_total: usize,
    // The series shown, highest mean first, at most `limit`.
    pub series: Vec<SeriesSummary>,
    pub truncated: bool,
    pub warnings: Vec<String>,
}

/// Summaries of the first `limit` series (highest mean first) and their text.
pub struct Summaries {
    pub shown: Vec<SeriesSummary>,
    pub text: String,
}

/// The span a range query covers, for gaps and trend buckets.
#[derive(Clone, Copy)]
pub struct Span {
    pub start: f64,
    pub end: f64,
    pub step: f64,
}

impl Span {
    fn steps(&self) -> usize {
        ((self.end - self.start) / self.step).floor() as usize + 1
    }
}

/// Summarise one series, its trend down-sampled to `points` spans of `[lo, hi]`.
pub fn summarise(series: &RangeSeries, points: usize, span: Option<Span>) -> SeriesSummary {
    let values: Vec<(f64, f64)> = series
        .values
        .iter()
        .filter_map(|p| p.value().map(|v| (p.0, v)))
        .collect();
    let n = values.len();
    let min = values.iter().map(|p| p.1).reduce(f64::min);
    let max = values.iter().map(|p| p.1).reduce(f64::max);
    let mean = (n > 0).then(|| values.iter().map(|p| p.1).sum::<f64>() / n as f64);
    let last = values.last().copied();
    let (lo, hi) = match (span, series.values.first(), series.values.last()) {
        (Some(s), _, _) => (s.start, s.end),
        (None, Some(a), Some(b)) => (a.0, b.0),
        _ => (0.0, 0.0),
    };
    let trend = if n <= points {
        values
            .iter()
            .map(|(t, v)| TrendPoint {
                time: rfc3339(*t),
                value: *v,
            })
            .collect()
    } else {
        let width = ((hi - lo) / points as f64).max(f64::MIN_POSITIVE);
        let mut sums = vec![(0.0, 0usize, f64::NAN); points];
        for (t, v) in &values {
            let i = (((t - lo) / width).floor().max(0.0) as usize).min(points - 1);
            let b = &mut sums[i];
            if b.1 == 0 {
                b.2 = *t;
            }
            b.0 += v;
            b.1 += 1;
        }
        sums.iter()
            .filter(|b| b.1 > 0)
            .map(|b| TrendPoint {
                time: rfc3339(b.2),
                value: b.0 / b.1 as f64,
            })
            .collect()
    };
    SeriesSummary {
        labels: series.metric.clone(),
        points: series.values.len(),
        points_without_value: series.values.len() - n,
        min,
        max,
        mean,
        last: last.map(|p| p.1),
        last_time: last.map(|p| rfc3339(p.0)),
        trend,
    }
}

fn summary_text(s: &SeriesSummary, span: Option<Span>, with_date: bool) -> String {
    let mut lines = vec![format::series(&s.labels)];
    if s.mean.is_none() {
        lines.push(format!("  no data in any of its {} points", s.points));
        return lines.join("\n");
    }
    let last_at = s
        .last_time
        .as_deref()
        .and_then(format::timestamp)
        .map(|t| format!(" at {}", format::clock(t, with_date)))
        .unwrap_or_default();
    let mut stats = format!(
        "  mean {}, min {}, max {}, last {}{last_at}",
        format::opt_number(s.mean),
        format::opt_number(s.min),
        format::opt_number(s.max),
        format::opt_number(s.last),
    );
    match span {
        Some(sp) if s.points < sp.steps() => {
            stats.push_str(&format!("; values at {} of {} steps", s.points, sp.steps()))
        }
        _ => stats.push_str(&format!("; {} points", s.points)),
    }
    if s.points_without_value > 0 {
        stats.push_str(&format!(" ({} without a value)", s.points_without_value));
    }
    lines.push(stats);
    let label = if s.trend.len() < s.points - s.points_without_value {
        format!("  trend ({} spans, each its mean):", s.trend.len())
    } else {
        "  points:".to_string()
    };
    let trend: Vec<String> = s
        .trend
        .iter()
        .map(|p| {
            let t = format::timestamp(&p.time)
                .map(|t| format::clock(t, with_date))
                .unwrap_or_default();
            format!("{t} {}", format::number(p.value))
        })
        .collect();
    lines.push(format!("{label} {}", trend.join(", ")));
    lines.join("\n")
}

/// Summarise `series` ranked by mean (highest first), keeping `limit`.
pub fn summarise_all(
    series: &[RangeSeries],
    limit: usize,
    points: usize,
    span: Option<Span>,
) -> Summaries {
    let mut all: Vec<SeriesSummary> = series.iter().map(|s| summarise(s, points, span)).collect();
    all.sort_by(|a, b| match (a.mean, b.mean) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let total = all.len();
    all.truncate(limit);
    let with_date = match span {
        Some(s) => s.end - s.start > 86_400.0,
        None => series
            .iter()
            .flat_map(|s| s.values.first().zip(s.values.last()))
            .any(|(a, b)| b.0 - a.0 > 86_400.0),
    };
    let mut text = format!("{total} series, highest mean first.");
    for s in &all {
        text.push_str("\n\n");
        text.push_str(&summary_text(s, span, with_date));
    }
    if all.len() < total {
        text.push_str("\n\n");
        text.push_str(&cut_note(
            all.len(),
            total,
            "series",
            "aggregate (sum by (job) (…)), add label matchers, use topk(), or raise `limit`",
        ));
    }
    Summaries { shown: all, text }
}

/// A step giving about 250 points over `range` seconds, rounded up to a round value.
pub fn auto_step(range: f64) -> f64 {
    const NICE: [f64; 17] = [
        1.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        10800.0, 21600.0, 43200.0, 86400.0,
    ];
    let want = range / 250.0;
    NICE.iter()
        .copied()
        .find(|s| *s >= want)
        .unwrap_or((want / 86400.0).ceil() * 86400.0)
}

fn run(args: Args) -> Result<Answer<RangeOut>, ToolError> {
    let now = now();
    let start = time_arg("start", Some(args.start.as_deref().unwrap_or("1h")), now)?;
    let end = time_arg("end", args.end.as_deref(), now)?;
    if start >= end {
        return Err(ToolError::invalid(format!(
            "`start` ({}) must be before `end` ({})",
            rfc3339(start),
            rfc3339(end)
        )));
    }
    let step = match args.step.as_deref() {
        Some(text) => {
            parse_duration(text).map_err(|e| ToolError::invalid(format!("`step`: {e}")))?
        }
        None => auto_step(end - start),
    };
    if step < 0.001 {
        return Err(ToolError::invalid(
            "`step` must be at least 1ms; use 15s, 1m or more",
        ));
    }
    if (end - start) / step > MAX_POINTS {
        return Err(ToolError::invalid(format!(
            "`step` {} gives {} points per series over this range; Prometheus allows {MAX_POINTS}. Use a step of at least {} or a shorter range.",
            human_duration(step),
            ((end - start) / step).floor(),
            human_duration(auto_step(end - start))
        )));
    }
    let limit = text::limit(args.limit, 20, 50);
    let points = text::limit(args.points, 12, 100).max(2);
    let reply = Api::new().query_range(&args.query, start, end, step)?;
    let series = match reply.data {
        QueryData::Matrix(series) => series,
        other => {
            return Err(ToolError::failed(format!(
                "Prometheus answered the range query with a {} instead of a matrix",
                other.kind()
            )));
        }
    };
    let span = Span { start, end, step };
    // At most about 1000 trend points in all, so the answer stays readable.
    let shown = limit.min(series.len()).max(1);
    let trend_points = points.min((TREND_BUDGET / shown).max(2));
    let summaries = summarise_all(&series, limit, trend_points, Some(span));
    let mut header = format!(
        "`{}` from {} to {} ({}), step {} ({} steps).",
        args.query,
        rfc3339(start),
        rfc3339(end),
        human_duration(end - start),
        human_duration(step),
        span.steps()
    );
    if trend_points < points {
        header.push_str(&format!(
            " Trends cut to {trend_points} points per series for {shown} series; ask for fewer series (`limit`) for more points."
        ));
    }
    let body = if series.is_empty() {
        "No data: the query matched no series in this range. To see what exists: prometheus_series with a matcher, or prometheus_labels with label `__name__` for metric names.".to_string()
    } else {
        summaries.text
    };
    let (image, chart_note) = if args.chart {
        chart_of(&args.query, &series, &summaries.shown, (start, end))
    } else {
        (None, None)
    };
    let out = RangeOut {
        query: args.query,
        start: rfc3339(start),
        end: rfc3339(end),
        step_seconds: step,
        series_total: series.len(),
        truncated: summaries.shown.len() < series.len(),
        series: summaries.shown,
        warnings: reply.notes,
    };
    let hint = (out.series_total > 0)
        .then(|| crate::tools::query::counter_hint(&out.query))
        .flatten();
    let text = text::blocks(vec![
        Some(header),
        Some(body),
        hint,
        notes_text(&out.warnings),
        chart_note,
    ]);
    let answer = Answer::new(text, out);
    Ok(match image {
        Some(png) => answer.with_image(png, "image/png"),
        None => answer,
    })
}

/// The chart of the first [`chart::MAX_SERIES`] of `shown` (ranked), and a note
/// when series were left out of it or it could not be drawn.
fn chart_of(
    query: &str,
    series: &[RangeSeries],
    shown: &[SeriesSummary],
    range: (f64, f64),
) -> (Option<Vec<u8>>, Option<String>) {
    let drawn: Vec<&RangeSeries> = shown
        .iter()
        .take(chart::MAX_SERIES)
        .filter_map(|s| series.iter().find(|r| r.metric == s.labels))
        .collect();
    // Legend names without the labels all drawn series share.
    let shared: Vec<&str> = match drawn.split_first() {
        Some((first, rest)) if !rest.is_empty() => first
            .metric
            .iter()
            .filter(|(k, v)| rest.iter().all(|r| r.metric.get(*k) == Some(v)))
            .map(|(k, _)| k.as_str())
            .collect(),
        _ => Vec::new(),
    };
    let picture = Chart {
        title: query.to_string(),
        y_unit: value_unit(query).to_string(),
        range: Some(range),
        series: drawn
            .iter()
            .map(|r| chart::Series {
                name: legend_name(&r.metric, &shared),
                points: r
                    .values
                    .iter()
                    .map(|p| (p.0, p.value().unwrap_or(f64::NAN)))
                    .collect(),
            })
            .collect(),
    };
    match chart::line_chart(&picture) {
        Ok(png) => (Some(png), chart::left_out_note(drawn.len(), series.len())),
        Err(e) => (None, Some(format!("No chart: {e}."))),
    }
}

/// A series in a chart legend: its metric name and the labels not in `shared`, as
/// `name job=api method=GET` (unquoted: the legend is narrow).
fn legend_name(labels: &Labels, shared: &[&str]) -> String {
    let parts: Vec<String> = labels
        .iter()
        .filter(|(k, _)| !shared.contains(&k.as_str()))
        .map(|(k, v)| match k.as_str() {
            "__name__" => v.clone(),
            _ => format!("{k}={v}"),
        })
        .collect();
    if parts.is_empty() {
        format::series(labels)
    } else {
        parts.join(" ")
    }
}

/// `query` without label matchers, ranges and strings: its names and operators.
fn skeleton(query: &str) -> String {
    let mut out = String::new();
    let mut chars = query.chars();
    while let Some(c) = chars.next() {
        let close = match c {
            '{' => '}',
            '[' => ']',
            '"' | '\'' | '`' => c,
            _ => {
                out.push(c);
                continue;
            }
        };
        let mut quote = None;
        while let Some(d) = chars.next() {
            match (quote, d) {
                (Some(_), '\\') => {
                    chars.next();
                }
                (Some(q), _) if d == q => quote = None,
                (Some(_), _) => {}
                (None, _) if d == close => break,
                (None, '"' | '\'' | '`') => quote = Some(d),
                (None, _) => {}
            }
        }
        out.push(' ');
    }
    out
}

/// The first metric name in `query` (not a function, keyword or grouping label).
fn metric_name(query: &str) -> Option<String> {
    const GROUPING: [&str; 6] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    // Operators, and aggregations (`sum by (job) (…)` has no `(` after `sum`).
    const KEYWORDS: [&str; 19] = [
        "bool",
        "offset",
        "and",
        "or",
        "unless",
        "sum",
        "avg",
        "min",
        "max",
        "count",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "limitk",
        "limit_ratio",
    ];
    let s = skeleton(query);
    let mut rest = s.as_str();
    let is_start = |c: char| c.is_ascii_alphabetic() || c == '_' || c == ':';
    let is_part = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    while let Some(i) = rest.find(is_start) {
        // A name inside a number (`1e3`) or after a digit is not one.
        let prev = rest[..i].chars().last();
        let len = rest[i..].find(|c| !is_part(c)).unwrap_or(rest.len() - i);
        let name = &rest[i..i + len];
        let after = rest[i + len..].trim_start();
        rest = &rest[i + len..];
        if prev.is_some_and(|c| c.is_ascii_digit() || c == '.') {
            continue;
        }
        if GROUPING.contains(&name) && after.starts_with('(') {
            // Skip the label list.
            rest = after.find(')').map_or("", |j| &after[j + 1..]);
            continue;
        }
        if after.starts_with('(') || KEYWORDS.contains(&name) || GROUPING.contains(&name) {
            continue;
        }
        return Some(name.to_string());
    }
    None
}

/// The unit of `query`'s values for the chart's y axis, read from its metric name
/// (`_seconds`, `_bytes`) and whether a rate is taken; empty when not known.
fn value_unit(query: &str) -> &'static str {
    let Some(name) = metric_name(query) else {
        return "";
    };
    let s = skeleton(query).replace(' ', "");
    let rate = s.contains("rate(");
    let stem = ["_total", "_sum", "_count", "_bucket"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(&name);
    let base = if stem.ends_with("_seconds") {
        "s"
    } else if stem.ends_with("_bytes") {
        "B"
    } else {
        ""
    };
    if s.contains("histogram_quantile(") {
        return base;
    }
    if name.ends_with("_sum") && s.contains('/') {
        // sum / count: a mean.
        return base;
    }
    if s.contains(['/', '*']) {
        // A ratio or a product: its unit is not the metric's.
        return "";
    }
    match (rate, base) {
        (true, "B") => "B/s",
        (true, "s") => "",
        (true, _) => "/s",
        (false, _) if name.ends_with("_count") || name.ends_with("_bucket") => "",
        (false, b) => b,
    }
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "prometheus_query_range",
        "How a PromQL value changed over a range: mean, min, max, last, trend.",
        run,
    )
    .title("PromQL range query")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use super::*;
    use crate::api::RawPoint;
    use crate::plugin;

    fn series(values: &[(f64, &str)]) -> RangeSeries {
        RangeSeries {
            metric: Labels::from([("job".to_string(), "a".to_string())]),
            values: values
                .iter()
                .map(|(t, v)| RawPoint(*t, v.to_string()))
                .collect(),
            histograms: Vec::new(),
        }
    }

    #[test]
    fn summary_statistics_and_trend() {
        let day = 86_400.0;
        let values: Vec<(f64, String)> = (0..100)
            .map(|i| (day + i as f64 * 10.0, format!("{i}")))
            .collect();
        let refs: Vec<(f64, &str)> = values.iter().map(|(t, v)| (*t, v.as_str())).collect();
        let span = Span {
            start: day,
            end: day + 1000.0,
            step: 10.0,
        };
        let s = summarise(&series(&refs), 10, Some(span));
        assert_eq!(
            (s.min, s.max, s.mean, s.last),
            (Some(0.0), Some(99.0), Some(49.5), Some(99.0))
        );
        assert_eq!(s.trend.len(), 10);
        assert_eq!(
            s.trend[0],
            TrendPoint {
                time: rfc3339(day),
                value: 4.5
            }
        );
        let text = summary_text(&s, Some(span), false);
        assert!(
            text.contains(
                "mean 49.5, min 0, max 99, last 99 at 00:16:30; values at 100 of 101 steps"
            ),
            "{text}"
        );
        assert!(
            text.contains("trend (10 spans, each its mean): 00:00:00 4.5, 00:01:40 14.5"),
            "{text}"
        );
    }

    #[test]
    fn nan_points_are_counted_not_shown() {
        let s = summarise(
            &series(&[(0.0, "NaN"), (10.0, "2"), (20.0, "NaN")]),
            12,
            None,
        );
        assert_eq!(s.points_without_value, 2);
        assert_eq!(s.mean, Some(2.0));
        let text = summary_text(&s, None, false);
        assert!(!text.contains("NaN"), "{text}");
        assert!(text.contains("(2 without a value)"), "{text}");
        let empty = summarise(&series(&[(0.0, "NaN")]), 12, None);
        assert_eq!(
            summary_text(&empty, None, false),
            "{job=\"a\"}\n  no data in any of its 1 points"
        );
    }

    #[test]
    fn steps() {
        assert_eq!(auto_step(3600.0), 15.0);
        assert_eq!(auto_step(7.0 * 86400.0), 3600.0);
        assert_eq!(auto_step(60.0), 1.0);
    }

    #[test]
    fn range_query_end_to_end() {
        testing::fake_http(|req| {
            let q = &req.path_and_query;
            assert!(q.starts_with("/api/v1/query_range?query=up&start="), "{q}");
            assert!(q.ends_with("&step=60"), "{q}");
            Ok(testing::response(
                200,
                r#"{"status":"success","data":{"resultType":"matrix","result":[
                {"metric":{"job":"low"},"values":[[1700000000,"1"],[1700000060,"1"]]},
                {"metric":{"job":"high"},"values":[[1700000000,"3"],[1700000060,"5"]]},
                {"metric":{"job":"mid"},"values":[[1700000000,"2"]]}]}}"#,
            ))
        });
        let out = testing::call(
            &plugin(),
            "prometheus_query_range",
            json!({"query": "up", "start": "2023-11-14T22:13:20Z", "end": "2023-11-14T22:23:20Z", "step": "1m", "limit": 2}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with(
                "`up` from 2023-11-14T22:13:20Z to 2023-11-14T22:23:20Z (10m), step 1m (11 steps)."
            ),
            "{text}"
        );
        assert!(
            text.find("job=\"high\"").unwrap() < text.find("job=\"mid\"").unwrap(),
            "{text}"
        );
        assert!(!text.contains("job=\"low\""), "{text}");
        assert!(
            text.contains("Showing 2 of 3 series (1 left out)"),
            "{text}"
        );
        assert!(
            text.contains("mean 4, min 3, max 5, last 5 at 22:14:20; values at 2 of 11 steps"),
            "{text}"
        );
        let s = out.structured().unwrap();
        assert_eq!(s["series"][0]["trend"][1]["value"], 5.0);
        assert_eq!(s["series_total"], 3);
    }

    #[test]
    fn trend_points_are_budgeted() {
        testing::fake_http(|_| {
            let series: Vec<String> = (0..50)
                .map(|i| {
                    let values: Vec<String> = (0..100)
                        .map(|t| format!("[{},\"{i}\"]", 1_700_000_000 + t * 10))
                        .collect();
                    format!(
                        r#"{{"metric":{{"i":"{i}"}},"values":[{}]}}"#,
                        values.join(",")
                    )
                })
                .collect();
            let body = format!(
                r#"{{"status":"success","data":{{"resultType":"matrix","result":[{}]}}}}"#,
                series.join(",")
            );
            Ok(testing::response(200, &body))
        });
        let out = testing::call(
            &plugin(),
            "prometheus_query_range",
            json!({"query": "x", "start": "1700000000", "end": "1700001000", "limit": 50, "points": 100}),
        )
        .unwrap();
        assert!(
            out.text_content()
                .contains("Trends cut to 20 points per series for 50 series"),
            "{}",
            out.text_content()
        );
        let s = out.structured().unwrap();
        assert_eq!(s["series"][0]["trend"].as_array().unwrap().len(), 20);
    }

    #[test]
    fn units_come_from_the_metric_name() {
        let cases = [
            ("up", ""),
            ("process_resident_memory_bytes", "B"),
            (
                "rate(node_network_receive_bytes_total{device=\"eth0\"}[5m])",
                "B/s",
            ),
            (
                "sum by (job) (rate(http_requests_total{path=\"/a/b\"}[5m]))",
                "/s",
            ),
            ("rate(process_cpu_seconds_total[1m])", ""),
            (
                "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
                "s",
            ),
            (
                "rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])",
                "s",
            ),
            ("rate(a_total[5m]) / rate(b_total[5m])", ""),
            ("increase(http_requests_total[1h])", ""),
            ("go_gc_duration_seconds{quantile=\"0.5\"} offset 5m", "s"),
        ];
        for (query, unit) in cases {
            assert_eq!(value_unit(query), unit, "{query}");
        }
        assert_eq!(
            metric_name("sum without (instance) (up)").as_deref(),
            Some("up")
        );
        assert_eq!(metric_name("topk by (job) (3, max)").as_deref(), None);
        let labels = Labels::from(
            [("__name__", "up"), ("job", "a"), ("env", "prod")]
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        assert_eq!(legend_name(&labels, &["env"]), "up job=a");
        assert_eq!(
            legend_name(&labels, &["__name__", "job", "env"]),
            "up{env=\"prod\", job=\"a\"}"
        );
    }

    /// RGB pixels of a PNG, after checking it is 800×300.
    fn pixels(png_bytes: &[u8]) -> Vec<[u8; 3]> {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (chart::WIDTH, chart::HEIGHT));
        buf[..info.buffer_size()]
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect()
    }

    #[test]
    fn chart_on_request_draws_the_top_series() {
        // Ten series; series i has value i at every step.
        testing::fake_http(|_| {
            let series: Vec<String> = (0..10)
                .map(|i| {
                    let values: Vec<String> = (0..11)
                        .map(|t| format!("[{},\"{i}\"]", 1_700_000_000 + t * 60))
                        .collect();
                    format!(
                        r#"{{"metric":{{"job":"j{i}"}},"values":[{}]}}"#,
                        values.join(",")
                    )
                })
                .collect();
            Ok(testing::response(
                200,
                &format!(
                    r#"{{"status":"success","data":{{"resultType":"matrix","result":[{}]}}}}"#,
                    series.join(",")
                ),
            ))
        });
        let args = json!({"query": "x", "start": "1700000000", "end": "1700000600", "step": "1m"});
        let call = |extra: serde_json::Value| {
            let mut a = args.clone();
            a.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            testing::call(&plugin(), "prometheus_query_range", a).unwrap()
        };
        let plain = call(json!({}));
        let off = call(json!({"chart": false}));
        assert!(plain.images().is_empty() && off.images().is_empty());
        assert_eq!(plain.text_content(), off.text_content());
        assert_eq!(plain.structured(), off.structured());

        let on = call(json!({"chart": true}));
        assert_eq!(on.images().len(), 1);
        let (png_bytes, mime) = &on.images()[0];
        assert_eq!(mime, "image/png");
        let px = pixels(png_bytes);
        for i in 0..chart::MAX_SERIES {
            assert!(px.contains(&chart::series_color(i)), "series {i}");
        }
        let text = on.text_content();
        assert!(text.starts_with(&plain.text_content()), "{text}");
        assert!(
            text.ends_with("The chart draws the first 8 of 10 series; 2 are left out of it."),
            "{text}"
        );
        assert_eq!(on.structured(), plain.structured());
    }

    #[test]
    fn a_chart_without_values_is_a_note() {
        testing::fake_http(|_| {
            Ok(testing::response(
                200,
                r#"{"status":"success","data":{"resultType":"matrix","result":[
                {"metric":{"job":"a"},"values":[[1700000000,"NaN"],[1700000060,"NaN"]]}]}}"#,
            ))
        });
        let out = testing::call(
            &plugin(),
            "prometheus_query_range",
            json!({"query": "x", "start": "1700000000", "end": "1700000060", "step": "1m", "chart": true}),
        )
        .unwrap();
        assert!(out.images().is_empty());
        assert!(
            out.text_content()
                .ends_with("No chart: no series has a value to draw."),
            "{}",
            out.text_content()
        );
    }

    #[test]
    fn bad_ranges_are_refused() {
        let call = |args| {
            testing::call(&plugin(), "prometheus_query_range", args)
                .unwrap_err()
                .to_string()
        };
        assert!(
            call(json!({"query": "up", "start": "now", "end": "1h"})).contains("must be before")
        );
        assert!(
            call(json!({"query": "up", "start": "30d", "step": "1s"}))
                .contains("Prometheus allows 11000")
        );
        assert!(call(json!({"query": "up", "step": "fast"})).contains("`step`"));
    }
}
