//! `error_analysis`: server (5xx) and client (4xx) error rates over a window, in
//! total and by job, the endpoints with most 5xx, and authentication failures. The
//! metric names come from the plugin's settings, so any service instrumented like
//! the Plue API works.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::table;
use plue_plugin_sdk::time::{now, rfc3339};

use crate::api::{Api, InstantSample};
use crate::format::{count, number, percent};
use crate::promql::{time_arg, window};
use crate::tools::{Metrics, matchers};

pub use super::WindowArgs as Args;

#[derive(Serialize, JsonSchema, Clone, Default)]
pub struct JobErrors {
    pub job: Option<String>,
    /// Per second.
    pub request_rate: f64,
    /// Per second.
    pub server_error_rate: f64,
    /// 5xx share of requests (0..1); null without requests.
    pub server_error_ratio: Option<f64>,
    /// Per second.
    pub client_error_rate: f64,
    /// 4xx share of requests (0..1); null without requests.
    pub client_error_ratio: Option<f64>,
}

// An endpoint answering with 5xx.
#[derive(Serialize, JsonSchema)]
pub struct EndpointErrors {
    pub job: String,
    pub method: String,
    pub path: String,
    /// Per second.
    pub rate: f64,
    // 5xx responses over the window (rate × window).
    pub count: f64,
}

/// Failed authentication attempts.
#[derive(Serialize, JsonSchema)]
pub struct AuthFailures {
    /// Per second.
    pub attempt_rate: f64,
    /// Attempts whose `result` is not `success`, per second.
    pub failure_rate: f64,
    /// Failure share of attempts (0..1); null without attempts.
    pub failure_ratio: Option<f64>,
    // Failures over the window.
    pub failures: f64,
    /// Failures per second by `result`, most first.
    pub by_result: BTreeMap<String, f64>,
}

/// What `error_analysis` returns.
#[derive(Serialize, JsonSchema)]
pub struct ErrorsOut {
    // The window, for example `15m`.
    pub window: String,
    pub window_seconds: f64,
    pub time: String,
    // All jobs together (or the one asked for).
    pub total: JobErrors,
    // By job, highest 5xx share first.
    pub jobs: Vec<JobErrors>,
    // Endpoints with the most 5xx (at most 10).
    pub top_endpoints: Vec<EndpointErrors>,
    /// Null when the auth metric has no data.
    pub auth: Option<AuthFailures>,
    // The metrics queried.
    pub requests_metric: String,
    pub auth_metric: String,
}

fn by_label(samples: &[InstantSample], label: &str) -> BTreeMap<String, f64> {
    samples
        .iter()
        .map(|s| (s.label(label).to_string(), s.number().unwrap_or(0.0)))
        .collect()
}

fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

fn pct(part: f64, whole: f64) -> String {
    percent(part, whole).unwrap_or_else(|| "no requests".into())
}

fn run(args: Args) -> Result<Answer<ErrorsOut>, ToolError> {
    let now = now();
    let at = time_arg("time", args.time.as_deref(), now)?;
    let w = window(args.duration.as_deref().unwrap_or("15m"))?;
    let job = args.job.as_deref().filter(|j| !j.is_empty());
    let m = Metrics::load();
    let api = Api::new();
    let (r, d) = (&m.requests, &w.promql);
    let all = matchers(job, &[]);
    let e5 = matchers(job, &[r#"status=~"5..""#]);
    let e4 = matchers(job, &[r#"status=~"4..""#]);

    let requests = by_label(
        &api.vector(&format!("sum by (job) (rate({r}{all}[{d}]))"), at)?,
        "job",
    );
    let (scope, ends) = super::scope_and_end(job, at, now);
    if requests.is_empty() {
        let text = format!(
            "No requests recorded by `{r}` over the last {}{ends} ({scope}). Check the metric name (plugin setting `{}`), the job name (service_health lists jobs), and that the service is scraped.",
            w.human,
            crate::tools::REQUESTS_METRIC
        );
        let out = ErrorsOut {
            window: w.human.clone(),
            window_seconds: w.seconds,
            time: rfc3339(at),
            total: JobErrors {
                job: job.map(str::to_string),
                ..Default::default()
            },
            jobs: vec![],
            top_endpoints: vec![],
            auth: None,
            requests_metric: m.requests.clone(),
            auth_metric: m.auth.clone(),
        };
        return Ok(Answer::new(text, out));
    }
    let server = by_label(
        &api.vector(&format!("sum by (job) (rate({r}{e5}[{d}]))"), at)?,
        "job",
    );
    let client = by_label(
        &api.vector(&format!("sum by (job) (rate({r}{e4}[{d}]))"), at)?,
        "job",
    );
    let mut top = api.vector(
        &format!("topk(10, sum by (job, method, path) (rate({r}{e5}[{d}])))"),
        at,
    )?;
    crate::tools::query::rank(&mut top);
    let auth = api.vector(&format!("sum by (result) (rate({}{all}[{d}]))", m.auth), at)?;

    let job_errors = |job: Option<String>, req: f64, s: f64, c: f64| JobErrors {
        job,
        request_rate: req,
        server_error_rate: s,
        server_error_ratio: ratio(s, req),
        client_error_rate: c,
        client_error_ratio: ratio(c, req),
    };
    let mut jobs: Vec<JobErrors> = requests
        .iter()
        .map(|(j, req)| {
            let get = |m: &BTreeMap<String, f64>| m.get(j).copied().unwrap_or(0.0);
            job_errors(Some(j.clone()), *req, get(&server), get(&client))
        })
        .collect();
    jobs.sort_by(|a, b| {
        b.server_error_ratio
            .unwrap_or(0.0)
            .total_cmp(&a.server_error_ratio.unwrap_or(0.0))
            .then(a.job.cmp(&b.job))
    });
    let sum = |f: fn(&JobErrors) -> f64| jobs.iter().map(f).sum::<f64>();
    let total = job_errors(
        job.map(str::to_string),
        sum(|j| j.request_rate),
        sum(|j| j.server_error_rate),
        sum(|j| j.client_error_rate),
    );
    let top_endpoints: Vec<EndpointErrors> = top
        .iter()
        .filter_map(|s| {
            let rate = s.number().filter(|v| *v > 0.0)?;
            Some(EndpointErrors {
                job: s.label("job").into(),
                method: s.label("method").into(),
                path: s.label("path").into(),
                rate,
                count: rate * w.seconds,
            })
        })
        .collect();
    let auth = (!auth.is_empty()).then(|| {
        let by = by_label(&auth, "result");
        let attempt_rate: f64 = by.values().sum();
        let failures: BTreeMap<String, f64> = by
            .into_iter()
            .filter(|(r, v)| r != "success" && *v > 0.0)
            .collect();
        let failure_rate: f64 = failures.values().sum();
        AuthFailures {
            attempt_rate,
            failure_rate,
            failure_ratio: ratio(failure_rate, attempt_rate),
            failures: failure_rate * w.seconds,
            by_result: failures,
        }
    });

    // Text, most useful first.
    let t = &total;
    let mut text = format!(
        "Errors over the last {}{ends} ({scope}), from `{r}`:\n5xx: {} req/s of {} req/s ({}), about {} in {}\n4xx: {} req/s ({})",
        w.human,
        number(t.server_error_rate),
        number(t.request_rate),
        pct(t.server_error_rate, t.request_rate),
        count(t.server_error_rate * w.seconds),
        w.human,
        number(t.client_error_rate),
        pct(t.client_error_rate, t.request_rate),
    );
    if job.is_none() {
        text.push_str("\n\nBy job, highest 5xx share first (rates in req/s):\n");
        text.push_str(&jobs_table(&jobs));
    }
    text.push_str(&endpoints_text(&top_endpoints, &w.human));
    text.push_str(&auth_text(auth.as_ref(), &m.auth, &w.human));
    let out = ErrorsOut {
        window: w.human.clone(),
        window_seconds: w.seconds,
        time: rfc3339(at),
        total,
        jobs,
        top_endpoints,
        auth,
        requests_metric: m.requests.clone(),
        auth_metric: m.auth.clone(),
    };
    Ok(Answer::new(text, out))
}

/// The endpoints answering most 5xx, or a line saying none did.
fn endpoints_text(top: &[EndpointErrors], window: &str) -> String {
    if top.is_empty() {
        return "\n\nNo endpoint answered with 5xx.".into();
    }
    let rows: Vec<Vec<String>> = top
        .iter()
        .map(|e| {
            let endpoint = format!("{} {}", e.method, e.path);
            vec![
                number(e.rate),
                count(e.count),
                e.job.clone(),
                endpoint.trim().to_string(),
            ]
        })
        .collect();
    format!(
        "\n\nTop 5xx endpoints (req/s, count in {window}):\n{}",
        table(&["5xx/s", "count", "job", "endpoint"], &rows, 80)
    )
}

/// Per job: requests, 5xx and 4xx rates and shares.
fn jobs_table(jobs: &[JobErrors]) -> String {
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.job.clone().unwrap_or_default(),
                number(j.request_rate),
                number(j.server_error_rate),
                pct(j.server_error_rate, j.request_rate),
                number(j.client_error_rate),
                pct(j.client_error_rate, j.request_rate),
            ]
        })
        .collect();
    table(
        &["job", "requests", "5xx", "5xx %", "4xx", "4xx %"],
        &rows,
        60,
    )
}

/// The authentication paragraph: failures by result, or why there is none.
fn auth_text(auth: Option<&AuthFailures>, metric: &str, window: &str) -> String {
    match auth {
        None => format!("\n\nAuth: no attempts recorded by `{metric}`."),
        Some(a) if a.failure_rate == 0.0 => format!(
            "\n\nAuth: no failures in {} attempts/s.",
            number(a.attempt_rate)
        ),
        Some(a) => {
            let by: Vec<String> = a
                .by_result
                .iter()
                .map(|(r, v)| format!("{r} {}/s", number(*v)))
                .collect();
            format!(
                "\n\nAuth failures: {}/s of {} attempts/s ({}), about {} in {window}; by result: {}",
                number(a.failure_rate),
                number(a.attempt_rate),
                pct(a.failure_rate, a.attempt_rate),
                count(a.failures),
                by.join(", ")
            )
        }
    }
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "error_analysis",
        "HTTP 5xx/4xx rates per job and endpoint, and auth failures.",
        run,
    )
    .title("Error analysis")
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
            let body = if q.contains("topk(10, sum by (job, method, path)") {
                vector(&[
                    (r#""job":"api","method":"GET","path":"/issues""#, "0.2"),
                    (r#""job":"api","method":"POST","path":"/workflows""#, "0.8"),
                ])
            } else if q.contains("status=~\"5..\"") {
                vector(&[(r#""job":"api""#, "1"), (r#""job":"web""#, "0.1")])
            } else if q.contains("status=~\"4..\"") {
                vector(&[(r#""job":"api""#, "1"), (r#""job":"web""#, "0.9")])
            } else if q.contains("plue_auth_attempts_total") {
                vector(&[
                    (r#""result":"success""#, "3.6"),
                    (r#""result":"failed""#, "0.2"),
                    (r#""result":"invalid_nonce""#, "0.2"),
                ])
            } else {
                assert!(
                    q.contains("sum by (job) (rate(plue_http_requests_total[900s]))"),
                    "{q}"
                );
                vector(&[(r#""job":"api""#, "20"), (r#""job":"web""#, "25")])
            };
            Ok(testing::response(200, &body))
        });
    }

    #[test]
    fn totals_jobs_endpoints_and_auth() {
        serve();
        let out = testing::call(&plugin(), "error_analysis", json!({})).unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with("Errors over the last 15m (all jobs), from `plue_http_requests_total`:\n5xx: 1.1 req/s of 45 req/s (2.44%), about 990 in 15m\n4xx: 1.9 req/s (4.22%)"),
            "{text}"
        );
        assert!(
            text.contains("api  20        1    5%     1    5%"),
            "{text}"
        );
        assert!(
            text.contains("web  25        0.1  0.4%   0.9  3.6%"),
            "{text}"
        );
        assert!(
            text.contains("0.8    720    api  POST /workflows\n0.2    180    api  GET /issues"),
            "{text}"
        );
        assert!(text.contains("Auth failures: 0.4/s of 4 attempts/s (10%), about 360 in 15m; by result: failed 0.2/s, invalid_nonce 0.2/s"), "{text}");
        let s = out.structured().unwrap();
        assert_eq!(s["total"]["request_rate"], 45.0);
        assert_eq!(s["jobs"][0]["job"], "api");
        assert_eq!(s["jobs"][0]["server_error_ratio"], 0.05);
        assert_eq!(s["auth"]["failure_ratio"], 0.1);
    }

    #[test]
    fn job_filter_reaches_every_query_and_no_data_is_said() {
        testing::fake_http(|req| {
            assert!(
                req.path_and_query.contains("job%3D%22api%22"),
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
            "error_analysis",
            json!({"job": "api", "duration": "1h"}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with(
                "No requests recorded by `plue_http_requests_total` over the last 1h (job api)."
            ),
            "{text}"
        );
        assert!(!text.contains("NaN"));
    }

    #[test]
    fn settings_and_bad_duration() {
        testing::set_setting("requests_metric", "http_requests_total");
        testing::fake_http(|req| {
            assert!(
                req.path_and_query.contains("rate%28http_requests_total"),
                "{}",
                req.path_and_query
            );
            Ok(testing::response(
                200,
                r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
            ))
        });
        testing::call(&plugin(), "error_analysis", json!({})).unwrap();
        let err = testing::call(
            &plugin(),
            "error_analysis",
            json!({"duration": "15 minutes"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("`duration`"), "{err}");
    }
}
