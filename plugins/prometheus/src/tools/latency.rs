//! `latency_analysis`: p50/p95/p99 and mean request latency from a histogram over a
//! window, in total and by job, with the slowest instances (and paths, when the
//! histogram has a `path` label). The histogram's name comes from the plugin's
//! settings; values are reported in milliseconds whatever its unit.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::table;
use plue_plugin_sdk::time::{now, rfc3339};

use crate::api::{Api, InstantSample};
use crate::format::{millis, number};
use crate::promql::{time_arg, window};
use crate::tools::{Metrics, matchers};

const QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)];

pub use super::WindowArgs as Args;

// Latency of one job, or of all (`job` null). Null values: no requests in the window.
#[derive(Serialize, JsonSchema, Clone, Default)]
pub struct JobLatency {
    pub job: Option<String>,
    /// Per second.
    pub request_rate: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    // `_sum` / `_count`.
    pub mean_ms: Option<f64>,
}

// p95 of one instance or path.
#[derive(Serialize, JsonSchema)]
pub struct Slowest {
    pub job: String,
    // The instance or the path.
    pub name: String,
    pub p95_ms: f64,
    /// Per second.
    pub request_rate: Option<f64>,
}

/// What `latency_analysis` returns.
#[derive(Serialize, JsonSchema)]
pub struct LatencyOut {
    pub window: String,
    pub window_seconds: f64,
    pub time: String,
    // The histogram queried.
    pub metric: String,
    pub overall: JobLatency,
    // By job, slowest p95 first.
    pub jobs: Vec<JobLatency>,
    // Slowest instances by p95 (only when a job has several), at most 5.
    pub slowest_instances: Vec<Slowest>,
    // Slowest paths by p95 (only when the histogram has a `path` label), at most 5.
    pub slowest_paths: Vec<Slowest>,
}

/// Per-second rates of `_sum` and `_count` by (job, instance).
#[derive(Default, Clone, Copy)]
struct Rates {
    sum: f64,
    count: f64,
}

fn mean(r: Rates, to_ms: f64) -> Option<f64> {
    (r.count > 0.0).then(|| r.sum / r.count * to_ms)
}

fn run(args: Args) -> Result<Answer<LatencyOut>, ToolError> {
    let now = now();
    let at = time_arg("time", args.time.as_deref(), now)?;
    let w = window(args.duration.as_deref().unwrap_or("15m"))?;
    let job = args.job.as_deref().filter(|j| !j.is_empty());
    let m = Metrics::load();
    let to_ms = m.duration_to_ms();
    let api = Api::new();
    let (h, d, sel) = (&m.duration, &w.promql, matchers(job, &[]));
    let (scope, ends) = super::scope_and_end(job, at, now);

    let mut rates: BTreeMap<(String, String), Rates> = BTreeMap::new();
    for s in api.vector(
        &format!("sum by (job, instance) (rate({h}_count{sel}[{d}]))"),
        at,
    )? {
        let key = (s.label("job").to_string(), s.label("instance").to_string());
        rates.entry(key).or_default().count = s.number().unwrap_or(0.0);
    }
    let blank = LatencyOut {
        window: w.human.clone(),
        window_seconds: w.seconds,
        time: rfc3339(at),
        metric: h.clone(),
        overall: JobLatency {
            job: job.map(str::to_string),
            ..Default::default()
        },
        jobs: vec![],
        slowest_instances: vec![],
        slowest_paths: vec![],
    };
    if rates.is_empty() {
        let text = format!(
            "No requests recorded by the histogram `{h}` over the last {}{ends} ({scope}). Check the metric name (plugin setting `{}`, without `_bucket`), the job name (service_health lists jobs), and that the service is scraped.",
            w.human,
            crate::tools::DURATION_METRIC
        );
        return Ok(Answer::new(text, blank));
    }
    for s in api.vector(
        &format!("sum by (job, instance) (rate({h}_sum{sel}[{d}]))"),
        at,
    )? {
        let key = (s.label("job").to_string(), s.label("instance").to_string());
        rates.entry(key).or_default().sum = s.number().unwrap_or(0.0);
    }
    let mut per_job: BTreeMap<String, Rates> = BTreeMap::new();
    let mut overall = Rates::default();
    for ((j, _), r) in &rates {
        let e = per_job.entry(j.clone()).or_default();
        e.sum += r.sum;
        e.count += r.count;
        overall.sum += r.sum;
        overall.count += r.count;
    }

    let quantile = |q: f64, by: &str| {
        format!("histogram_quantile({q}, sum by ({by}le) (rate({h}_bucket{sel}[{d}])))")
    };
    let mut jobs: BTreeMap<String, JobLatency> = per_job
        .iter()
        .map(|(j, r)| {
            let l = JobLatency {
                job: Some(j.clone()),
                request_rate: r.count,
                mean_ms: mean(*r, to_ms),
                ..Default::default()
            };
            (j.clone(), l)
        })
        .collect();
    let mut total = JobLatency {
        job: job.map(str::to_string),
        request_rate: overall.count,
        mean_ms: mean(overall, to_ms),
        ..Default::default()
    };
    let set = |l: &mut JobLatency, name: &str, v: Option<f64>| match name {
        "p50" => l.p50_ms = v,
        "p95" => l.p95_ms = v,
        _ => l.p99_ms = v,
    };
    for (name, q) in QUANTILES {
        for s in api.vector(&quantile(q, "job, "), at)? {
            if let Some(l) = jobs.get_mut(s.label("job")) {
                set(l, name, s.number().map(|v| v * to_ms));
            }
        }
        if job.is_none() && jobs.len() > 1 {
            let v = api
                .vector(&quantile(q, ""), at)?
                .first()
                .and_then(|s| s.number());
            set(&mut total, name, v.map(|v| v * to_ms));
        }
    }
    if job.is_some() || jobs.len() == 1 {
        let only = jobs.values().next().cloned().unwrap_or_default();
        (total.p50_ms, total.p95_ms, total.p99_ms) = (only.p50_ms, only.p95_ms, only.p99_ms);
    }
    let mut jobs: Vec<JobLatency> = jobs.into_values().collect();
    jobs.sort_by(|a, b| {
        b.p95_ms
            .unwrap_or(-1.0)
            .total_cmp(&a.p95_ms.unwrap_or(-1.0))
            .then(a.job.cmp(&b.job))
    });

    let several = per_job.len() < rates.len();
    let mut slowest_instances: Vec<Slowest> = if several {
        api.vector(&quantile(0.95, "job, instance, "), at)?
            .into_iter()
            .filter_map(|s| {
                let key = (s.label("job").to_string(), s.label("instance").to_string());
                Some(Slowest {
                    p95_ms: s.number()? * to_ms,
                    request_rate: rates.get(&key).map(|r| r.count),
                    job: key.0,
                    name: key.1,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    slowest_instances.sort_by(|a, b| b.p95_ms.total_cmp(&a.p95_ms).then(a.name.cmp(&b.name)));
    slowest_instances.truncate(5);
    let paths = api.vector(&format!("topk(5, {})", quantile(0.95, "job, path, ")), at)?;
    let slowest_paths = slowest_paths(paths, to_ms);

    let out = LatencyOut {
        overall: total,
        jobs,
        slowest_instances,
        slowest_paths,
        ..blank
    };
    let text = latency_text(&out, &scope, &ends, job.is_none());
    Ok(Answer::new(text, out))
}

/// The paths by p95, slowest first, from a `job, path` quantile (series without a
/// `path` label left out).
fn slowest_paths(series: Vec<InstantSample>, to_ms: f64) -> Vec<Slowest> {
    let mut paths: Vec<Slowest> = series
        .into_iter()
        .filter(|s| !s.label("path").is_empty())
        .filter_map(|s| {
            Some(Slowest {
                p95_ms: s.number()? * to_ms,
                request_rate: None,
                job: s.label("job").into(),
                name: s.label("path").into(),
            })
        })
        .collect();
    paths.sort_by(|a, b| b.p95_ms.total_cmp(&a.p95_ms));
    paths
}

/// The text answer, from the structured one: overall quantiles, then by job, the
/// slowest instances and the slowest paths.
fn latency_text(out: &LatencyOut, scope: &str, ends: &str, all_jobs: bool) -> String {
    let (total, w_human) = (&out.overall, &out.window);
    let mut text = format!(
        "Latency over the last {}{ends} ({scope}), from the histogram `{}`:\np50 {}, p95 {}, p99 {}; mean {} at {} req/s",
        w_human,
        out.metric,
        millis(total.p50_ms),
        millis(total.p95_ms),
        millis(total.p99_ms),
        millis(total.mean_ms),
        number(total.request_rate)
    );
    if total.request_rate == 0.0 {
        text.push_str(&format!(
            " (no requests in the last {w_human}: no latency to report)"
        ));
    }
    if all_jobs && out.jobs.len() > 1 {
        let rows: Vec<Vec<String>> = out
            .jobs
            .iter()
            .map(|j| {
                vec![
                    j.job.clone().unwrap_or_default(),
                    number(j.request_rate),
                    millis(j.p50_ms),
                    millis(j.p95_ms),
                    millis(j.p99_ms),
                    millis(j.mean_ms),
                ]
            })
            .collect();
        text.push_str("\n\nBy job, slowest p95 first:\n");
        text.push_str(&table(
            &["job", "req/s", "p50", "p95", "p99", "mean"],
            &rows,
            60,
        ));
    }
    if !out.slowest_instances.is_empty() {
        let rows: Vec<Vec<String>> = out
            .slowest_instances
            .iter()
            .map(|s| {
                vec![
                    s.job.clone(),
                    s.name.clone(),
                    millis(Some(s.p95_ms)),
                    s.request_rate.map(number).unwrap_or_default(),
                ]
            })
            .collect();
        text.push_str("\n\nSlowest instances:\n");
        text.push_str(&table(&["job", "instance", "p95", "req/s"], &rows, 80));
    }
    if !out.slowest_paths.is_empty() {
        let rows: Vec<Vec<String>> = out
            .slowest_paths
            .iter()
            .map(|s| vec![s.job.clone(), s.name.clone(), millis(Some(s.p95_ms))])
            .collect();
        text.push_str("\n\nSlowest paths:\n");
        text.push_str(&table(&["job", "path", "p95"], &rows, 80));
    }
    text.push_str("\n\n(Quantiles are interpolated within the histogram's buckets.)");
    text
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "latency_analysis",
        "Latency p50/p95/p99 (ms) and rate per job, instance, path.",
        run,
    )
    .title("Latency analysis")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use crate::plugin;
    use crate::testutil::vector;
    use plue_plugin_sdk::testing::percent_decode as decode;

    fn serve() {
        testing::fake_http(|req| {
            let q = decode(&req.path_and_query);
            let body = if q.contains("_count[900s]") {
                vector(&[
                    (r#""job":"api","instance":"a1""#, "10"),
                    (r#""job":"api","instance":"a2""#, "10"),
                    (r#""job":"web","instance":"w1""#, "25"),
                ])
            } else if q.contains("_sum[900s]") {
                vector(&[
                    (r#""job":"api","instance":"a1""#, "900"),
                    (r#""job":"api","instance":"a2""#, "900"),
                    (r#""job":"web","instance":"w1""#, "300"),
                ])
            } else if q.contains("by (job, path, le)") {
                vector(&[(r#""job":"api""#, "406.25"), (r#""job":"web""#, "43.75")])
            } else if q.contains("by (job, instance, le)") {
                vector(&[
                    (r#""job":"api","instance":"a1""#, "406.25"),
                    (r#""job":"api","instance":"a2""#, "400"),
                ])
            } else if q.contains("by (job, le)") {
                let (api, web) = match () {
                    _ if q.contains("(0.5,") => ("37.5", "4"),
                    _ if q.contains("(0.95,") => ("406.25", "43.75"),
                    _ => ("750", "175"),
                };
                vector(&[(r#""job":"api""#, api), (r#""job":"web""#, web)])
            } else {
                assert!(
                    q.contains("sum by (le) (rate(plue_http_request_duration_ms_bucket[900s]))"),
                    "{q}"
                );
                let v = match () {
                    _ if q.contains("(0.5,") => "9.0625",
                    _ if q.contains("(0.95,") => "235",
                    _ => "NaN",
                };
                vector(&[("", v)])
            };
            Ok(testing::response(200, &body))
        });
    }

    #[test]
    fn overall_by_job_and_instances() {
        serve();
        let out = testing::call(&plugin(), "latency_analysis", json!({})).unwrap();
        let text = out.text_content();
        assert!(text.starts_with("Latency over the last 15m (all jobs), from the histogram `plue_http_request_duration_ms`:\np50 9.062 ms, p95 235 ms, p99 no data; mean 46.667 ms at 45 req/s"), "{text}");
        assert!(
            text.contains("api  20     37.5 ms  406.25 ms  750 ms  90 ms"),
            "{text}"
        );
        assert!(
            text.contains("web  25     4 ms     43.75 ms   175 ms  12 ms"),
            "{text}"
        );
        assert!(text.contains("Slowest instances:\njob  instance  p95        req/s\n---  --------  ---------  -----\napi  a1        406.25 ms  10\napi  a2        400 ms     10"), "{text}");
        assert!(!text.contains("Slowest paths"), "{text}");
        assert!(!text.contains("NaN"), "{text}");
        let s = out.structured().unwrap();
        assert_eq!(s["overall"]["p95_ms"], 235.0);
        assert!(s["overall"]["p99_ms"].is_null());
        assert_eq!(s["jobs"][0]["job"], "api");
        assert_eq!(s["jobs"][0]["mean_ms"], 90.0);
    }

    #[test]
    fn no_data_in_words() {
        testing::fake_http(|_| Ok(testing::response(200, &vector(&[]))));
        let out = testing::call(&plugin(), "latency_analysis", json!({"job": "x"})).unwrap();
        assert!(out.text_content().starts_with("No requests recorded by the histogram `plue_http_request_duration_ms` over the last 15m (job x)."), "{}", out.text_content());
    }

    #[test]
    fn seconds_histograms_are_shown_in_ms() {
        testing::set_setting("duration_metric", "http_request_duration_seconds");
        testing::fake_http(|req| {
            let q = decode(&req.path_and_query);
            assert!(q.contains("http_request_duration_seconds_"), "{q}");
            let v = if q.contains("_count") {
                "2"
            } else if q.contains("_sum") {
                "0.5"
            } else {
                "0.25"
            };
            Ok(testing::response(
                200,
                &vector(&[(r#""job":"a","instance":"i""#, v)]),
            ))
        });
        let out = testing::call(&plugin(), "latency_analysis", json!({"job": "a"})).unwrap();
        assert!(
            out.text_content()
                .contains("p50 250 ms, p95 250 ms, p99 250 ms; mean 250 ms at 2 req/s"),
            "{}",
            out.text_content()
        );
    }
}
