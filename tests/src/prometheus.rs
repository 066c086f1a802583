//! A real Prometheus for the prometheus tool group's tests, holding data whose answers are
//! known exactly.
//!
//! [`PromServer::start`] runs the Debian `prometheus` binary on a free loopback port with a
//! data directory in a temporary directory, and:
//!
//! * backfills three hours of Plue metrics ([`expected::HISTORY_SECONDS`]) with
//!   `promtool tsdb create-blocks-from openmetrics`, one sample every
//!   [`expected::STEP_SECONDS`], ending at the last step boundary before the start, with
//!   the `up` series of a job it does not scrape ([`expected::JOB_BATCH`]);
//! * serves the same series from then on through a tiny in-process exporter (axum), one
//!   listener per instance, which Prometheus scrapes every second: two `plue-api` instances
//!   and one `plue-web` instance;
//! * scrapes itself (job `prometheus`, up) and a `plue-runner` target on a port where
//!   nothing listens (down, "connection refused"); a `plue-web` canary target is dropped
//!   by relabelling;
//! * loads `tests/fixtures/prometheus/rules.yml`: recording rules, an alert that fires for
//!   `plue-api`'s error ratio, one that fires for the down target, one that stays pending
//!   (`for: 1h`), one inactive, and a rule that fails at every evaluation.
//!
//! Every counter grows by a whole number of events per step, so every `rate()`,
//! `increase()` and `histogram_quantile()` over windows of 1 minute or more, evaluated at
//! any time from three hours before the start until the server stops, gives the values of
//! [`expected`] up to floating-point rounding (compare with [`expected::close`]).
//!
//! ## Why backfill *and* an exporter
//!
//! Backfilled data alone is exact only at the instant it ends. `rate(x[5m])` extrapolates
//! to the window's end only when the last sample is less than 1.1 sample intervals before
//! it; a few seconds after the backfill ends, the result drifts below the true rate, and
//! five minutes later (the lookback delta) instant queries find nothing at all. Backfilling
//! into the future is no way out either: the head refuses samples older than the newest
//! block, so Prometheus would drop its own `up`, the down target's `up` and every recorded
//! rule until then. So the exporter continues the same series on the same grid:
//!
//! * it serves each sample with an explicit timestamp on the [`expected::STEP_SECONDS`]
//!   grid (the values are a function of that timestamp, so backfill and exporter agree);
//! * each scrape serves the next grid point not yet served, at most the one at or just
//!   after now: it catches up (one point per 1 s scrape) over the gap between the backfill
//!   and the first scrape, then serves the boundary up to one step ahead of now, so the
//!   newest point at or before any query time is always in the TSDB. Samples up to ten
//!   seconds in the future are accepted by Prometheus and ignored by queries at now.
//!
//! `start` returns once Prometheus is ready, every target has been scraped (the down one
//! with its error), the exporter has caught up to the present, and every rule has been
//! evaluated after that.
//!
//! Metadata (`/api/v1/metadata`) comes from the exporter, which speaks OpenMetrics so the
//! histogram has a unit (`ms`); the names are the Plue API's (`plue_http_requests_total`
//! with TYPE counter). Backfilled blocks carry no metadata.

use std::fmt::Write as _;
use std::fs;
use std::net::TcpListener as StdTcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use tempfile::TempDir;

use crate::ports::free_port;
use expected::{HISTORY_SECONDS, STEP_SECONDS};

pub(crate) const MISSING_BINARIES: &str =
    "prometheus not found: run `bash .ci/install-deps` (apt-get install -y prometheus)";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const CONFIG_TEMPLATE: &str = include_str!("../fixtures/prometheus/prometheus.yml");
const RULES: &str = include_str!("../fixtures/prometheus/rules.yml");
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The exact answers the fixture data gives. Rates are per second and hold for any
/// `rate()`/`increase()` window of 1 minute or more; latencies are in milliseconds.
pub mod expected {
    /// Seconds between two samples of the Plue series (backfilled and live).
    pub const STEP_SECONDS: i64 = 10;
    /// How far back the backfilled data reaches before the start.
    pub const HISTORY_SECONDS: i64 = 3 * 3600;

    pub const JOB_PROMETHEUS: &str = "prometheus";
    pub const JOB_API: &str = "plue-api";
    pub const JOB_WEB: &str = "plue-web";
    pub const JOB_RUNNER: &str = "plue-runner";
    /// Jobs whose every target is up.
    pub const UP_JOBS: &[&str] = &[JOB_PROMETHEUS, JOB_API, JOB_WEB];
    /// Jobs whose every target is down (`PromServer::down_instance` gives the instance).
    pub const DOWN_JOBS: &[&str] = &[JOB_RUNNER];
    /// Targets per job, in the same order as `UP_JOBS` then `DOWN_JOBS`.
    pub const TARGETS_PER_JOB: &[(&str, usize)] = &[
        (JOB_PROMETHEUS, 1),
        (JOB_API, 2),
        (JOB_WEB, 1),
        (JOB_RUNNER, 1),
    ];
    /// Dropped by relabelling (`/api/v1/targets?state=dropped`): its `__address__`.
    pub const DROPPED_TARGET: &str = "plue-web-canary:5173";
    /// A job Prometheus does not scrape: its `up` series (1, one instance) is backfilled,
    /// as remote write or federation would bring it; instant queries see it for the
    /// first 5 minutes (the lookback) after the start.
    pub const JOB_BATCH: &str = "plue-batch";
    pub const BATCH_INSTANCE: &str = "batch-1:9102";
    /// Part of the down target's `lastError`.
    pub const DOWN_ERROR: &str = "connection refused";

    // ---- The series one instance exposes (the fixture is built from these tables) ----

    /// Instances of `plue-api` (each exposes the `API_*` tables); `plue-web` has one.
    pub const API_INSTANCES: usize = 2;
    /// `plue_http_requests_total` of one `plue-api` instance: (method, path, status, req/s).
    /// Path categories and status classes are the Plue API's.
    pub const API_REQUESTS: &[(&str, &str, &str, f64)] = &[
        ("GET", "/api/:user/:repo/*", "2xx", 5.4),
        ("POST", "/api/auth/*", "2xx", 0.6),
        ("GET", "/health", "2xx", 1.0),
        ("POST", "/api/sessions/*", "2xx", 2.0),
        ("GET", "/api/users/*", "4xx", 0.3),
        ("POST", "/api/auth/*", "4xx", 0.2),
        ("POST", "/api/:user/:repo/workflows/*", "5xx", 0.4),
        ("GET", "/api/:user/:repo/issues/*", "5xx", 0.1),
    ];
    /// `plue_http_requests_total` of the `plue-web` instance.
    pub const WEB_REQUESTS: &[(&str, &str, &str, f64)] = &[
        ("GET", "other", "2xx", 21.0),
        ("GET", "/health", "2xx", 2.0),
        ("GET", "other", "3xx", 1.0),
        ("GET", "other", "4xx", 0.9),
        ("GET", "other", "5xx", 0.1),
    ];
    /// `le` of `plue_http_request_duration_ms_bucket` (the Plue API's buckets), as
    /// exposed (the label value is the string here).
    pub const LATENCY_BUCKETS: &[&str] = &[
        "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "+Inf",
    ];
    /// Requests per second of one `plue-api` instance falling in each bucket (not
    /// cumulative: entry i counts durations in (LATENCY_BUCKETS[i-1], LATENCY_BUCKETS[i]]).
    pub const API_LATENCY: &[f64] = &[
        0.0, 0.5, 1.5, 2.0, 2.0, 2.0, 1.0, 0.8, 0.2, 0.0, 0.0, 0.0, 0.0,
    ];
    /// The same for the `plue-web` instance.
    pub const WEB_LATENCY: &[f64] = &[
        5.0, 10.0, 5.0, 3.0, 1.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    /// `rate(plue_http_request_duration_ms_sum)` of one instance, ms per second.
    pub const API_LATENCY_SUM_PER_SECOND: f64 = 900.0;
    pub const WEB_LATENCY_SUM_PER_SECOND: f64 = 300.0;
    /// `plue_auth_attempts_total` of one `plue-api` instance: (result, method, per second).
    pub const API_AUTH: &[(&str, &str, f64)] = &[
        ("success", "siwe", 0.6),
        ("success", "api_token", 1.2),
        ("failed", "siwe", 0.1),
        ("invalid_nonce", "siwe", 0.1),
    ];
    /// `plue_active_sessions` (gauge) of one `plue-api` instance.
    pub const API_ACTIVE_SESSIONS: f64 = 7.0;

    // ---- Job-level answers ----

    /// What the queries of one job (or of all jobs, `job: None`) answer.
    #[derive(Debug, Clone, Copy)]
    pub struct JobAnswers {
        pub job: Option<&'static str>,
        /// `sum(rate(plue_http_requests_total[W]))`
        pub request_rate: f64,
        /// `sum(rate(plue_http_requests_total{status=~"5.."}[W]))`
        pub server_error_rate: f64,
        /// server_error_rate / request_rate
        pub error_ratio: f64,
        /// `sum(rate(plue_http_requests_total{status=~"4.."}[W]))`
        pub client_error_rate: f64,
        /// `histogram_quantile(q, sum by (le) (rate(plue_http_request_duration_ms_bucket[W])))`
        pub p50: f64,
        pub p95: f64,
        pub p99: f64,
        /// `sum(rate(..._sum[W])) / sum(rate(..._count[W]))`
        pub mean_latency: f64,
    }

    /// Job `plue-api` (both instances). Cumulative bucket rates (×2 instances):
    /// le 5: 1, 10: 4, 25: 8, 50: 12, 100: 16, 250: 18, 500: 19.6, 1000: 20 = +Inf.
    /// p50: rank 10 falls in (25, 50] (8..12): 25 + 25·(10−8)/4 = 37.5.
    /// p95: rank 19 in (250, 500] (18..19.6): 250 + 250·1/1.6 = 406.25.
    /// p99: rank 19.8 in (500, 1000] (19.6..20): 500 + 500·0.2/0.4 = 750.
    pub const API: JobAnswers = JobAnswers {
        job: Some(JOB_API),
        request_rate: 20.0,
        server_error_rate: 1.0,
        error_ratio: 0.05,
        client_error_rate: 1.0,
        p50: 37.5,
        p95: 406.25,
        p99: 750.0,
        mean_latency: 90.0,
    };
    /// Job `plue-web`. Cumulative: le 1: 5, 5: 15, 10: 20, 25: 23, 50: 24, 100: 24.5, 250: 25.
    /// p50: rank 12.5 in (1, 5] (5..15): 1 + 4·7.5/10 = 4.
    /// p95: rank 23.75 in (25, 50] (23..24): 25 + 25·0.75 = 43.75.
    /// p99: rank 24.75 in (100, 250] (24.5..25): 100 + 150·0.25/0.5 = 175.
    pub const WEB: JobAnswers = JobAnswers {
        job: Some(JOB_WEB),
        request_rate: 25.0,
        server_error_rate: 0.1,
        error_ratio: 0.004,
        client_error_rate: 0.9,
        p50: 4.0,
        p95: 43.75,
        p99: 175.0,
        mean_latency: 12.0,
    };
    /// All jobs together. Cumulative: le 1: 5, 5: 16, 10: 24, 25: 31, 50: 36, 100: 40.5,
    /// 250: 43, 500: 44.6, 1000: 45.
    /// p50: rank 22.5 in (5, 10] (16..24): 5 + 5·6.5/8 = 9.0625.
    /// p95: rank 42.75 in (100, 250] (40.5..43): 100 + 150·2.25/2.5 = 235.
    /// p99: rank 44.55 in (250, 500] (43..44.6): 250 + 250·1.55/1.6 = 492.1875.
    pub const ALL: JobAnswers = JobAnswers {
        job: None,
        request_rate: 45.0,
        server_error_rate: 1.1,
        error_ratio: 1.1 / 45.0,
        client_error_rate: 1.9,
        p50: 9.0625,
        p95: 235.0,
        p99: 492.1875,
        mean_latency: 2100.0 / 45.0,
    };

    /// 5xx requests per second by (method, path), all jobs, highest first
    /// (`sum by (method, path) (rate(plue_http_requests_total{status=~"5.."}[W]))`).
    pub const SERVER_ERRORS_BY_ENDPOINT: &[(&str, &str, f64)] = &[
        ("POST", "/api/:user/:repo/workflows/*", 0.8),
        ("GET", "/api/:user/:repo/issues/*", 0.2),
        ("GET", "other", 0.1),
    ];
    /// `sum(rate(plue_auth_attempts_total[W]))`
    pub const AUTH_ATTEMPT_RATE: f64 = 4.0;
    /// `sum(rate(plue_auth_attempts_total{result!="success"}[W]))`
    pub const AUTH_FAILURE_RATE: f64 = 0.4;
    /// AUTH_FAILURE_RATE / AUTH_ATTEMPT_RATE
    pub const AUTH_FAILURE_RATIO: f64 = 0.1;

    /// `increase()` over `seconds` of something growing at `rate` per second, e.g.
    /// `increase(AUTH_FAILURE_RATE, 900.0)` = 360 for the `15m` default of `error_analysis`.
    pub fn increase(rate: f64, seconds: f64) -> f64 {
        rate * seconds
    }

    // ---- Rules and alerts ----

    /// Groups of `rules.yml`, as `/api/v1/rules` lists them (by name, not in file order).
    pub const RULE_GROUPS: &[&str] = &["plue-alerts", "plue-broken", "plue-recording"];
    /// Recording rules that evaluate fine.
    pub const RECORDING_RULES: &[&str] = &[
        "job:plue_http_requests:rate5m",
        "job:plue_http_errors:ratio_rate5m",
        "job:plue_http_request_duration_ms:p95_5m",
    ];
    /// A recording rule whose every evaluation fails (health `err`).
    pub const BROKEN_RULE: &str = "plue:up:many_to_many";
    /// Part of [`BROKEN_RULE`]'s `lastError`.
    pub const BROKEN_RULE_ERROR: &str = "many-to-many matching not allowed";
    /// Firing alerts: (alertname, the label identifying the instance of the alert, value).
    /// PlueHighErrorRate{job="plue-api"} = 0.05 (plue-web's 0.4% stays below 1%);
    /// PlueTargetDown{job="plue-runner"} = 0.
    pub const FIRING_ALERTS: &[(&str, &str, f64)] = &[
        ("PlueHighErrorRate", JOB_API, 0.05),
        ("PlueTargetDown", JOB_RUNNER, 0.0),
    ];
    /// Pending alert (true since the start, `for: 1h`), no job label, value 0.1.
    pub const PENDING_ALERT: &str = "PlueAuthFailuresHigh";
    /// Alerting rule that is inactive (p99 > 2500 ms never holds).
    pub const INACTIVE_ALERT: &str = "PlueLatencyP99High";
    /// `summary` annotation of the firing error-rate alert.
    pub const HIGH_ERROR_RATE_SUMMARY: &str = "plue-api answers 5% of requests with 5xx";

    // ---- Metadata ----

    /// `/api/v1/metadata`: (metric, type, unit).
    pub const METADATA: &[(&str, &str, &str)] = &[
        ("plue_http_requests_total", "counter", ""),
        ("plue_http_request_duration_ms", "histogram", "ms"),
        ("plue_auth_attempts_total", "counter", ""),
        ("plue_active_sessions", "gauge", ""),
        ("plue_uptime_seconds", "gauge", "seconds"),
    ];

    /// Relative closeness for comparing Prometheus's floats with these values.
    pub fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0)
    }
}

// ---------------------------------------------------------------------------------------
// The fixture series

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Job {
    Api,
    Web,
}

impl Job {
    fn name(self) -> &'static str {
        match self {
            Job::Api => expected::JOB_API,
            Job::Web => expected::JOB_WEB,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Value {
    /// A counter that grows by this many per step.
    Counter(u64),
    /// A constant gauge.
    Gauge(f64),
    /// Seconds since the process "started" (one hour before the history).
    Uptime,
}

#[derive(Debug)]
struct Sample {
    name: String,
    labels: String,
    value: Value,
}

#[derive(Debug)]
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    unit: Option<&'static str>,
    api: Vec<Sample>,
    web: Vec<Sample>,
}

impl Family {
    fn samples(&self, job: Job) -> &[Sample] {
        match job {
            Job::Api => &self.api,
            Job::Web => &self.web,
        }
    }
}

/// Events per step for a per-second rate; the tables only hold rates that give whole numbers.
fn per_step(rate: f64) -> u64 {
    let n = rate * STEP_SECONDS as f64;
    assert!(
        (n - n.round()).abs() < 1e-9 && n >= 0.0,
        "rate {rate}/s is not a whole number per {STEP_SECONDS}s step"
    );
    n.round() as u64
}

fn counter(name: &str, labels: String, rate: f64) -> Sample {
    Sample {
        name: name.to_string(),
        labels,
        value: Value::Counter(per_step(rate)),
    }
}

fn request_samples(table: &[(&str, &str, &str, f64)]) -> Vec<Sample> {
    table
        .iter()
        .map(|(method, path, status, rate)| {
            counter(
                "plue_http_requests_total",
                format!("method=\"{method}\",path=\"{path}\",status=\"{status}\""),
                *rate,
            )
        })
        .collect()
}

fn histogram_samples(per_bucket: &[f64], sum_per_second: f64) -> Vec<Sample> {
    assert_eq!(per_bucket.len(), expected::LATENCY_BUCKETS.len());
    let mut out = Vec::new();
    let mut cumulative = 0.0;
    for (le, rate) in expected::LATENCY_BUCKETS.iter().zip(per_bucket) {
        cumulative += rate;
        out.push(counter(
            "plue_http_request_duration_ms_bucket",
            format!("le=\"{le}\""),
            cumulative,
        ));
    }
    out.push(counter(
        "plue_http_request_duration_ms_sum",
        String::new(),
        sum_per_second,
    ));
    out.push(counter(
        "plue_http_request_duration_ms_count",
        String::new(),
        cumulative,
    ));
    out
}

fn families() -> Vec<Family> {
    let uptime = || Sample {
        name: "plue_uptime_seconds".into(),
        labels: String::new(),
        value: Value::Uptime,
    };
    vec![
        Family {
            name: "plue_uptime_seconds",
            kind: "gauge",
            help: "Seconds since the server started.",
            unit: Some("seconds"),
            api: vec![uptime()],
            web: vec![uptime()],
        },
        Family {
            name: "plue_http_requests_total",
            kind: "counter",
            help: "Total HTTP requests by method, path category and status class.",
            unit: None,
            api: request_samples(expected::API_REQUESTS),
            web: request_samples(expected::WEB_REQUESTS),
        },
        Family {
            name: "plue_http_request_duration_ms",
            kind: "histogram",
            help: "HTTP request duration in milliseconds.",
            unit: Some("ms"),
            api: histogram_samples(expected::API_LATENCY, expected::API_LATENCY_SUM_PER_SECOND),
            web: histogram_samples(expected::WEB_LATENCY, expected::WEB_LATENCY_SUM_PER_SECOND),
        },
        Family {
            name: "plue_auth_attempts_total",
            kind: "counter",
            help: "Authentication attempts by result and method.",
            unit: None,
            api: expected::API_AUTH
                .iter()
                .map(|(result, method, rate)| {
                    counter(
                        "plue_auth_attempts_total",
                        format!("result=\"{result}\",method=\"{method}\""),
                        *rate,
                    )
                })
                .collect(),
            web: vec![],
        },
        Family {
            name: "plue_active_sessions",
            kind: "gauge",
            help: "Active user sessions.",
            unit: None,
            api: vec![Sample {
                name: "plue_active_sessions".into(),
                labels: String::new(),
                value: Value::Gauge(expected::API_ACTIVE_SESSIONS),
            }],
            web: vec![],
        },
    ]
}

/// The times every series is defined on: counters count from `origin` (one hour before
/// the history starts), so a sample at `t` (Unix seconds, on the step grid) is a pure
/// function of `t`, for the backfill and the exporter alike.
#[derive(Clone, Copy, Debug)]
struct Clock {
    origin: i64,
}

impl Clock {
    fn value(&self, v: Value, t: i64) -> String {
        match v {
            Value::Counter(n) => (n as i64 * ((t - self.origin) / STEP_SECONDS)).to_string(),
            Value::Gauge(g) => format!("{g}"),
            Value::Uptime => (t - self.origin).to_string(),
        }
    }
}

fn write_meta(out: &mut String, fam: &Family) {
    let _ = writeln!(out, "# HELP {} {}", fam.name, fam.help);
    let _ = writeln!(out, "# TYPE {} {}", fam.name, fam.kind);
    if let Some(unit) = fam.unit {
        let _ = writeln!(out, "# UNIT {} {}", fam.name, unit);
    }
}

fn write_sample(out: &mut String, clock: Clock, s: &Sample, target_labels: &str, t: i64) {
    let mut labels = String::from(target_labels);
    if !labels.is_empty() && !s.labels.is_empty() {
        labels.push(',');
    }
    labels.push_str(&s.labels);
    let value = clock.value(s.value, t);
    if labels.is_empty() {
        let _ = writeln!(out, "{} {value} {t}", s.name);
    } else {
        let _ = writeln!(out, "{}{{{labels}}} {value} {t}", s.name);
    }
}

/// What one instance's exporter serves at grid time `t` (OpenMetrics, with timestamps).
fn render_scrape(families: &[Family], clock: Clock, job: Job, t: i64) -> String {
    let mut out = String::new();
    for fam in families {
        write_meta(&mut out, fam);
        for s in fam.samples(job) {
            write_sample(&mut out, clock, s, "", t);
        }
    }
    out.push_str("# EOF\n");
    out
}

/// The backfill: every target's series on the grid `from..=to`, grouped as OpenMetrics
/// wants (by family, then by metric, each metric's points in time order).
fn render_backfill(
    families: &[Family],
    clock: Clock,
    targets: &[(Job, String)],
    from: i64,
    to: i64,
) -> String {
    let mut out = String::new();
    for fam in families {
        write_meta(&mut out, fam);
        for (job, instance) in targets {
            let target = format!("job=\"{}\",instance=\"{instance}\"", job.name());
            let samples = fam.samples(*job);
            if fam.kind == "histogram" {
                // One metric per target: each point is all its buckets, sum and count.
                for t in (from..=to).step_by(STEP_SECONDS as usize) {
                    for s in samples {
                        write_sample(&mut out, clock, s, &target, t);
                    }
                }
            } else {
                for s in samples {
                    for t in (from..=to).step_by(STEP_SECONDS as usize) {
                        write_sample(&mut out, clock, s, &target, t);
                    }
                }
            }
        }
    }
    // `up` of a job Prometheus does not scrape, as remote write or federation brings it.
    let _ = writeln!(out, "# TYPE up gauge");
    for t in (from..=to).step_by(STEP_SECONDS as usize) {
        let _ = writeln!(
            out,
            "up{{job=\"{}\",instance=\"{}\"}} 1 {t}",
            expected::JOB_BATCH,
            expected::BATCH_INSTANCE
        );
    }
    out.push_str("# EOF\n");
    out
}

// ---------------------------------------------------------------------------------------
// The in-process exporter

struct InstanceState {
    job: Job,
    families: Arc<Vec<Family>>,
    clock: Clock,
    /// The next grid time to serve.
    next: Mutex<i64>,
}

impl InstanceState {
    /// The next grid point not served yet, but never beyond the first one at or after now.
    fn timestamp(&self, now_ms: i64) -> i64 {
        let step_ms = STEP_SECONDS * 1000;
        let ceil = (now_ms + step_ms - 1).div_euclid(step_ms) * STEP_SECONDS;
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        if *next <= ceil {
            let t = *next;
            *next += STEP_SECONDS;
            t
        } else {
            *next - STEP_SECONDS
        }
    }
}

async fn serve_metrics(
    axum::extract::State(st): axum::extract::State<Arc<InstanceState>>,
) -> impl axum::response::IntoResponse {
    let t = st.timestamp(now_ms());
    let body = render_scrape(&st.families, st.clock, st.job, t);
    ([(axum::http::header::CONTENT_TYPE, OPENMETRICS)], body)
}

struct Exporter {
    handle: tokio::runtime::Handle,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    fn start(instances: Vec<(StdTcpListener, Arc<InstanceState>)>) -> Result<Exporter> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("build the exporter's runtime")?;
        let handle = runtime.handle().clone();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut servers = Vec::new();
        for (listener, state) in instances {
            listener.set_nonblocking(true)?;
            let listener = {
                let _guard = runtime.enter();
                tokio::net::TcpListener::from_std(listener)?
            };
            let app = axum::Router::new()
                .route("/metrics", axum::routing::get(serve_metrics))
                .with_state(state);
            let mut rx = rx.clone();
            servers.push(
                axum::serve(listener, app).with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                }),
            );
        }
        let mut stop = rx;
        let thread = std::thread::Builder::new()
            .name("prometheus-exporter".into())
            .spawn(move || {
                runtime.block_on(async move {
                    for server in servers {
                        tokio::spawn(async move {
                            let _ = server.await;
                        });
                    }
                    let _ = stop.wait_for(|stop| *stop).await;
                });
            })
            .context("spawn the exporter thread")?;
        Ok(Exporter {
            handle,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The server

/// A running Prometheus with the fixture data. Killed (and its directory removed) on drop.
pub struct PromServer {
    child: Option<Child>,
    binary: PathBuf,
    port: u16,
    dir: TempDir,
    log_file: PathBuf,
    api_instances: Vec<String>,
    web_instance: String,
    down_instance: String,
    history_start: i64,
    backfill_end: i64,
    exporter: Exporter,
    /// Holds the down target's port for the server's life (see [`refusing_port`]).
    _down_reserved: socket2::Socket,
}

/// A loopback port that refuses connections and that no other server can take while
/// the socket lives: bound, never listening. A port only picked free could be bound
/// again by a server another test starts, and the down target would answer.
fn refusing_port() -> Result<(u16, socket2::Socket)> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    let port = socket
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .context("bound socket has no address")?;
    Ok((port, socket))
}

impl PromServer {
    /// Backfills the data, starts the exporter and Prometheus, and waits until every target
    /// has been scraped and every rule evaluated on up-to-date data (at most 30 s).
    pub fn start() -> Result<PromServer> {
        let prometheus = find_binary("prometheus").ok_or_else(|| anyhow!(MISSING_BINARIES))?;
        let promtool = find_binary("promtool").ok_or_else(|| anyhow!(MISSING_BINARIES))?;

        let dir = tempfile::Builder::new()
            .prefix("plue-prometheus-")
            .tempdir()?;
        let data_dir = dir.path().join("data");
        fs::create_dir(&data_dir)?;

        // Exporter listeners first: bound on port 0, so no other process can take them.
        let bind = || StdTcpListener::bind("127.0.0.1:0").context("bind an exporter port");
        let listeners = [
            (Job::Api, bind()?),
            (Job::Api, bind()?),
            (Job::Web, bind()?),
        ];
        let instance = |l: &StdTcpListener| -> Result<String> {
            Ok(format!("127.0.0.1:{}", l.local_addr()?.port()))
        };
        let targets: Vec<(Job, String)> = listeners
            .iter()
            .map(|(job, l)| Ok((*job, instance(l)?)))
            .collect::<Result<_>>()?;

        // The backfill ends at the last grid point at or before now.
        let now = now_ms().div_euclid(1000);
        let backfill_end = now - now.rem_euclid(STEP_SECONDS);
        let history_start = backfill_end - HISTORY_SECONDS;
        let clock = Clock {
            origin: history_start - 3600,
        };
        let families = Arc::new(families());

        let openmetrics = dir.path().join("backfill.om");
        fs::write(
            &openmetrics,
            render_backfill(&families, clock, &targets, history_start, backfill_end),
        )?;
        let out = Command::new(&promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
            .arg(&openmetrics)
            .arg(&data_dir)
            .output()
            .with_context(|| format!("run {}", promtool.display()))?;
        if !out.status.success() {
            bail!(
                "promtool tsdb create-blocks-from openmetrics failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let _ = fs::remove_file(&openmetrics);

        let instances = listeners
            .into_iter()
            .map(|(job, listener)| {
                let state = InstanceState {
                    job,
                    families: families.clone(),
                    clock,
                    next: Mutex::new(backfill_end + STEP_SECONDS),
                };
                (listener, Arc::new(state))
            })
            .collect();
        let exporter = Exporter::start(instances)?;

        let port = free_port();
        let (down_port, down_reserved) = refusing_port()?;
        let api: Vec<&String> = targets
            .iter()
            .filter(|(j, _)| *j == Job::Api)
            .map(|(_, i)| i)
            .collect();
        let web = targets
            .iter()
            .find(|(j, _)| *j == Job::Web)
            .map(|(_, i)| i.clone())
            .expect("web target");
        let port_of = |i: &str| i.rsplit(':').next().unwrap_or_default().to_string();
        let config = CONFIG_TEMPLATE
            .replace("@PROMETHEUS_PORT@", &port.to_string())
            .replace("@API_PORT_0@", &port_of(api[0]))
            .replace("@API_PORT_1@", &port_of(api[1]))
            .replace("@WEB_PORT@", &port_of(&web))
            .replace("@DOWN_PORT@", &down_port.to_string());
        let config_file = dir.path().join("prometheus.yml");
        fs::write(&config_file, config)?;
        fs::write(dir.path().join("rules.yml"), RULES)?;
        let check = Command::new(&promtool)
            .args(["check", "config"])
            .arg(&config_file)
            .output()?;
        if !check.status.success() {
            bail!(
                "promtool check config failed:\n{}{}",
                String::from_utf8_lossy(&check.stdout),
                String::from_utf8_lossy(&check.stderr)
            );
        }

        let log_file = dir.path().join("prometheus.log");
        let child = spawn_prometheus(&prometheus, dir.path(), port, &log_file)?;

        let mut server = PromServer {
            child: Some(child),
            binary: prometheus,
            port,
            dir,
            log_file,
            api_instances: api.into_iter().cloned().collect(),
            web_instance: web,
            down_instance: format!("127.0.0.1:{down_port}"),
            _down_reserved: down_reserved,
            history_start,
            backfill_end,
            exporter,
        };
        if let Err(e) = server.wait_ready() {
            let log = server.log();
            server.stop();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "Prometheus did not get ready: {e:#}\n--- prometheus log (tail) ---\n{}",
                tail.join("\n")
            );
        }
        Ok(server)
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills Prometheus (the exporter keeps running): for the "Prometheus is down" tests.
    /// Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts Prometheus again after [`PromServer::stop`], on the same port and
    /// data, and waits (at most 30 s) until it answers ready.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        let child = spawn_prometheus(&self.binary, self.dir.path(), self.port, &self.log_file)?;
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if answers_ready(self.port) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                bail!("Prometheus did not get ready again:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The `instance` labels of the two `plue-api` targets.
    pub fn api_instances(&self) -> &[String] {
        &self.api_instances
    }

    /// The `instance` label of the `plue-web` target.
    pub fn web_instance(&self) -> &str {
        &self.web_instance
    }

    /// The `instance` label of the down `plue-runner` target (nothing listens there).
    pub fn down_instance(&self) -> &str {
        &self.down_instance
    }

    /// Unix seconds of the oldest sample of the Plue series.
    pub fn history_start(&self) -> i64 {
        self.history_start
    }

    /// Unix seconds of the newest backfilled sample; later ones were scraped.
    pub fn backfill_end(&self) -> i64 {
        self.backfill_end
    }

    /// The temporary directory (config, rules, data, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Prometheus's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    fn wait_ready(&mut self) -> Result<()> {
        let url = self.url();
        let (tx, rx) = mpsc::channel();
        self.exporter.handle.spawn(async move {
            let _ = tx.send(wait_ready(&url).await);
        });
        let deadline = std::time::Instant::now() + START_TIMEOUT + Duration::from_secs(5);
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(result) => return result,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    bail!("the readiness check was dropped")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("prometheus exited with {status}");
            }
            if std::time::Instant::now() > deadline {
                bail!("timed out");
            }
        }
    }
}

/// Whether `GET /-/ready` on `port` answers 200.
fn answers_ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = [0u8; 12];
    stream
        .write_all(b"GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .and_then(|()| stream.read_exact(&mut head))
        .is_ok_and(|()| head.ends_with(b" 200"))
}

/// Prometheus on `port` with the configuration and data of `dir`, logging to `log_file`
/// (appended, so a restart keeps the earlier log).
pub(crate) fn spawn_prometheus(
    binary: &Path,
    dir: &Path,
    port: u16,
    log_file: &Path,
) -> Result<Child> {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file)?;
    Command::new(binary)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=info")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("start {}", binary.display()))
}

impl Drop for PromServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls the HTTP API until Prometheus is ready, every target has been scraped with the
/// expected health, the exporter has caught up to the present, and every rule has been
/// evaluated after that.
async fn wait_ready(url: &str) -> Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()?;
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    let mut caught_up: Option<chrono::DateTime<chrono::Utc>> = None;
    let mut waiting_for = String::from("/-/ready");
    while tokio::time::Instant::now() < deadline {
        match readiness_step(&client, url, &mut caught_up).await {
            Ok(None) => return Ok(()),
            Ok(Some(what)) | Err(what) => waiting_for = what,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!(
        "after {}s still waiting for {waiting_for}",
        START_TIMEOUT.as_secs()
    )
}

/// `Ok(None)` when ready, else what is still awaited.
async fn readiness_step(
    client: &reqwest::Client,
    url: &str,
    caught_up: &mut Option<chrono::DateTime<chrono::Utc>>,
) -> std::result::Result<Option<String>, String> {
    let ready = client
        .get(format!("{url}/-/ready"))
        .send()
        .await
        .map_err(|e| format!("/-/ready: {e}"))?;
    if !ready.status().is_success() {
        return Ok(Some(format!("/-/ready (status {})", ready.status())));
    }

    let targets = api_get(client, url, "targets", &[]).await?;
    let active = targets["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let expected_count: usize = expected::TARGETS_PER_JOB.iter().map(|(_, n)| n).sum();
    if active.len() != expected_count {
        return Ok(Some(format!(
            "{expected_count} active targets (have {})",
            active.len()
        )));
    }
    for t in &active {
        let job = t["labels"]["job"].as_str().unwrap_or_default();
        let health = t["health"].as_str().unwrap_or_default();
        let want = if expected::DOWN_JOBS.contains(&job) {
            "down"
        } else {
            "up"
        };
        if health != want {
            return Ok(Some(format!(
                "target of job {job} to be {want} (is {health:?})"
            )));
        }
    }

    if caught_up.is_none() {
        let data = api_get(
            client,
            url,
            "query",
            &[("query", "timestamp(plue_uptime_seconds)")],
        )
        .await?;
        let result = data["result"].as_array().cloned().unwrap_or_default();
        if result.len() != expected::API_INSTANCES + 1 {
            return Ok(Some("the exporter's series".into()));
        }
        for r in &result {
            let at = r["value"][0].as_f64().unwrap_or_default();
            let ts: f64 = r["value"][1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or_default();
            let grid = (at as i64).div_euclid(STEP_SECONDS) * STEP_SECONDS;
            if (ts as i64) < grid {
                return Ok(Some(format!(
                    "the exporter to catch up (newest sample {ts}, want {grid})"
                )));
            }
        }
        *caught_up = Some(chrono::Utc::now());
    }
    let since = caught_up.expect("set above");

    let rules = api_get(client, url, "rules", &[]).await?;
    for group in rules["groups"].as_array().cloned().unwrap_or_default() {
        for rule in group["rules"].as_array().cloned().unwrap_or_default() {
            let name = rule["name"].as_str().unwrap_or_default();
            let evaluated = rule["lastEvaluation"]
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            if evaluated.is_none_or(|t| t <= since) {
                return Ok(Some(format!("rule {name} to be evaluated")));
            }
        }
    }
    Ok(None)
}

/// GET `/api/v1/<endpoint>`, returning `data`.
async fn api_get(
    client: &reqwest::Client,
    url: &str,
    endpoint: &str,
    params: &[(&str, &str)],
) -> std::result::Result<serde_json::Value, String> {
    let resp = client
        .get(format!("{url}/api/v1/{endpoint}"))
        .query(params)
        .send()
        .await
        .map_err(|e| format!("/api/v1/{endpoint}: {e}"))?;
    let body: serde_json::Value = resp
        .json()
        .await
        .map_err(|e| format!("/api/v1/{endpoint}: {e}"))?;
    if body["status"] != "success" {
        return Err(format!("/api/v1/{endpoint}: {body}"));
    }
    Ok(body["data"].clone())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

pub(crate) fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::expected::{self, JobAnswers, close};
    use super::*;
    use serde_json::Value as Json;

    /// histogram_quantile's linear interpolation, for checking the constants by hand.
    fn quantile(q: f64, per_bucket: &[f64]) -> f64 {
        let bounds: Vec<f64> = expected::LATENCY_BUCKETS
            .iter()
            .map(|b| b.parse::<f64>().unwrap())
            .collect();
        let total: f64 = per_bucket.iter().sum();
        let rank = q * total;
        let mut cumulative = 0.0;
        for (i, rate) in per_bucket.iter().enumerate() {
            if cumulative + rate >= rank && *rate > 0.0 {
                let lower = if i == 0 { 0.0 } else { bounds[i - 1] };
                return lower + (bounds[i] - lower) * (rank - cumulative) / rate;
            }
            cumulative += rate;
        }
        f64::NAN
    }

    /// A table of `plue_http_requests_total` series and how many instances expose it.
    type Requests<'a> = (&'a [(&'a str, &'a str, &'a str, f64)], f64);

    fn answers_from_tables(
        requests: &[Requests],
        latency: &[(&[f64], f64, f64)],
    ) -> (f64, f64, f64, [f64; 3], f64) {
        let mut total = 0.0;
        let mut e5 = 0.0;
        let mut e4 = 0.0;
        for (table, n) in requests {
            for (_, _, status, rate) in table.iter() {
                total += rate * n;
                if *status == "5xx" {
                    e5 += rate * n;
                }
                if *status == "4xx" {
                    e4 += rate * n;
                }
            }
        }
        let mut buckets = vec![0.0; expected::LATENCY_BUCKETS.len()];
        let mut sum = 0.0;
        for (table, n, s) in latency {
            for (b, r) in buckets.iter_mut().zip(table.iter()) {
                *b += r * n;
            }
            sum += s * n;
        }
        let count: f64 = buckets.iter().sum();
        assert!(
            close(count, total),
            "histogram count {count} != request rate {total}"
        );
        let q = [
            quantile(0.5, &buckets),
            quantile(0.95, &buckets),
            quantile(0.99, &buckets),
        ];
        (total, e5, e4, q, sum / count)
    }

    fn check(a: &JobAnswers, got: (f64, f64, f64, [f64; 3], f64)) {
        let (total, e5, e4, q, mean) = got;
        for (what, g, w) in [
            ("request rate", total, a.request_rate),
            ("5xx rate", e5, a.server_error_rate),
            ("error ratio", e5 / total, a.error_ratio),
            ("4xx rate", e4, a.client_error_rate),
            ("p50", q[0], a.p50),
            ("p95", q[1], a.p95),
            ("p99", q[2], a.p99),
            ("mean latency", mean, a.mean_latency),
        ] {
            assert!(
                close(g, w),
                "{:?} {what}: tables give {g}, constant says {w}",
                a.job
            );
        }
    }

    #[test]
    fn expected_constants_follow_from_the_tables() {
        let n = expected::API_INSTANCES as f64;
        let api = (
            expected::API_LATENCY,
            n,
            expected::API_LATENCY_SUM_PER_SECOND,
        );
        let web = (
            expected::WEB_LATENCY,
            1.0,
            expected::WEB_LATENCY_SUM_PER_SECOND,
        );
        check(
            &expected::API,
            answers_from_tables(&[(expected::API_REQUESTS, n)], &[api]),
        );
        check(
            &expected::WEB,
            answers_from_tables(&[(expected::WEB_REQUESTS, 1.0)], &[web]),
        );
        check(
            &expected::ALL,
            answers_from_tables(
                &[(expected::API_REQUESTS, n), (expected::WEB_REQUESTS, 1.0)],
                &[api, web],
            ),
        );
        let auth: f64 = expected::API_AUTH.iter().map(|a| a.2 * n).sum();
        let fail: f64 = expected::API_AUTH
            .iter()
            .filter(|a| a.0 != "success")
            .map(|a| a.2 * n)
            .sum();
        assert!(
            close(auth, expected::AUTH_ATTEMPT_RATE) && close(fail, expected::AUTH_FAILURE_RATE)
        );
        assert!(close(fail / auth, expected::AUTH_FAILURE_RATIO));
        // Every rate is a whole number of events per step.
        families();
    }

    #[test]
    fn exporter_serves_each_grid_point_once_then_tracks_now() {
        let state = InstanceState {
            job: Job::Web,
            families: Arc::new(families()),
            clock: Clock { origin: 0 },
            next: Mutex::new(1000),
        };
        // Far behind: one point per scrape.
        assert_eq!(state.timestamp(1_050_500), 1000);
        assert_eq!(state.timestamp(1_050_600), 1010);
        let mut t = 1020;
        while t < 1050 {
            assert_eq!(state.timestamp(1_050_700), t);
            t += 10;
        }
        // Caught up: 1050.7 s rounds up to 1060, served once and then repeated.
        assert_eq!(state.timestamp(1_050_800), 1050);
        assert_eq!(state.timestamp(1_050_900), 1060);
        assert_eq!(state.timestamp(1_051_000), 1060);
        assert_eq!(state.timestamp(1_060_000), 1060);
        assert_eq!(state.timestamp(1_060_001), 1070);
        let body = render_scrape(&state.families, state.clock, Job::Web, 1070);
        assert!(body.contains(
            "plue_http_requests_total{method=\"GET\",path=\"other\",status=\"5xx\"} 107 1070\n"
        ));
        assert!(body.contains("# UNIT plue_http_request_duration_ms ms\n"));
        assert!(body.ends_with("# EOF\n"));
    }

    // ---- Against the real Prometheus ----

    struct Api {
        client: reqwest::Client,
        url: String,
    }

    impl Api {
        async fn get(&self, endpoint: &str, params: &[(&str, &str)]) -> Json {
            api_get(&self.client, &self.url, endpoint, params)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }

        /// An instant query at now: (labels, value) per series.
        async fn query(&self, q: &str) -> Vec<(Json, f64)> {
            let data = self.get("query", &[("query", q)]).await;
            assert_eq!(data["resultType"], "vector", "{q}");
            data["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["metric"].clone(),
                        r["value"][1].as_str().unwrap().parse::<f64>().unwrap(),
                    )
                })
                .collect()
        }

        /// The single value of a query.
        async fn scalar(&self, q: &str) -> f64 {
            let r = self.query(q).await;
            assert_eq!(r.len(), 1, "{q} gave {r:?}");
            r[0].1
        }

        /// Values by job.
        async fn by_job(&self, q: &str) -> Vec<(String, f64)> {
            let mut v: Vec<(String, f64)> = self
                .query(q)
                .await
                .into_iter()
                .map(|(m, v)| (m["job"].as_str().unwrap_or_default().to_string(), v))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        }
    }

    fn assert_close(what: &str, got: f64, want: f64) {
        assert!(close(got, want), "{what}: got {got}, want {want}");
    }

    fn assert_jobs(what: &str, got: &[(String, f64)], want: &[(&str, f64)]) {
        assert_eq!(got.len(), want.len(), "{what}: {got:?}");
        for ((gj, gv), (wj, wv)) in got.iter().zip(want) {
            assert_eq!(gj, wj, "{what}: {got:?}");
            assert_close(&format!("{what} {gj}"), *gv, *wv);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn real_prometheus_gives_the_expected_answers() {
        let mut prom = PromServer::start().expect("start Prometheus");
        let api = Api {
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            url: prom.url(),
        };
        let (a, w, all) = (expected::API, expected::WEB, expected::ALL);
        let jobs = |f: fn(&JobAnswers) -> f64| [(a.job.unwrap(), f(&a)), (w.job.unwrap(), f(&w))];

        // Request, error and client-error rates; the analysis tools' queries, with 5m and 15m.
        for d in ["5m", "15m"] {
            let rate =
                |sel: &str| format!("sum by (job) (rate(plue_http_requests_total{sel}[{d}]))");
            assert_jobs(
                "request rate",
                &api.by_job(&rate("")).await,
                &jobs(|j| j.request_rate),
            );
            assert_jobs(
                "5xx rate",
                &api.by_job(&rate("{status=~\"5..\"}")).await,
                &jobs(|j| j.server_error_rate),
            );
            assert_jobs(
                "4xx rate",
                &api.by_job(&rate("{status=~\"4..\"}")).await,
                &jobs(|j| j.client_error_rate),
            );
            let ratio = format!("{} / {}", rate("{status=~\"5..\"}"), rate(""));
            assert_jobs(
                "error ratio",
                &api.by_job(&ratio).await,
                &jobs(|j| j.error_ratio),
            );
            let total = format!("sum(rate(plue_http_requests_total[{d}]))");
            assert_close(
                "total request rate",
                api.scalar(&total).await,
                all.request_rate,
            );
            let e5 = format!("sum(rate(plue_http_requests_total{{status=~\"5..\"}}[{d}]))");
            assert_close(
                "total 5xx rate",
                api.scalar(&e5).await,
                all.server_error_rate,
            );
            let e4 = format!("sum(rate(plue_http_requests_total{{status=~\"4..\"}}[{d}]))");
            assert_close(
                "total 4xx rate",
                api.scalar(&e4).await,
                all.client_error_rate,
            );
        }

        // Latency quantiles per job and overall.
        for (q, pick) in [
            ("0.50", (|j: &JobAnswers| j.p50) as fn(&JobAnswers) -> f64),
            ("0.95", |j: &JobAnswers| j.p95),
            ("0.99", |j: &JobAnswers| j.p99),
        ] {
            let per_job = format!(
                "histogram_quantile({q}, sum by (job, le) (rate(plue_http_request_duration_ms_bucket[5m])))"
            );
            assert_jobs(&format!("p{q}"), &api.by_job(&per_job).await, &jobs(pick));
            let overall = format!(
                "histogram_quantile({q}, sum by (le) (rate(plue_http_request_duration_ms_bucket[15m])))"
            );
            assert_close(
                &format!("overall p{q}"),
                api.scalar(&overall).await,
                pick(&all),
            );
        }
        let mean = "sum by (job) (rate(plue_http_request_duration_ms_sum[5m])) \
                    / sum by (job) (rate(plue_http_request_duration_ms_count[5m]))";
        assert_jobs(
            "mean latency",
            &api.by_job(mean).await,
            &jobs(|j| j.mean_latency),
        );

        // Top error endpoints and auth failures as error_analysis asks for them (15m).
        let top = api
            .query(r#"topk(10, sum by (path, method) (increase(plue_http_requests_total{status=~"5.."}[15m])))"#)
            .await;
        assert_eq!(
            top.len(),
            expected::SERVER_ERRORS_BY_ENDPOINT.len(),
            "{top:?}"
        );
        for (method, path, rate) in expected::SERVER_ERRORS_BY_ENDPOINT {
            let (_, v) = top
                .iter()
                .find(|(m, _)| m["method"] == *method && m["path"] == *path)
                .unwrap_or_else(|| panic!("{method} {path} missing from {top:?}"));
            assert_close(
                &format!("5xx increase of {method} {path}"),
                *v,
                expected::increase(*rate, 900.0),
            );
        }
        let failures = api
            .scalar(r#"sum(increase(plue_auth_attempts_total{result!="success"}[15m]))"#)
            .await;
        assert_close(
            "auth failures in 15m",
            failures,
            expected::increase(expected::AUTH_FAILURE_RATE, 900.0),
        );
        let ratio = api
            .scalar(r#"sum(rate(plue_auth_attempts_total{result!="success"}[5m])) / sum(rate(plue_auth_attempts_total[5m]))"#)
            .await;
        assert_close("auth failure ratio", ratio, expected::AUTH_FAILURE_RATIO);

        // Recording rules.
        assert_jobs(
            "recorded request rate",
            &api.by_job("job:plue_http_requests:rate5m").await,
            &[("plue-api", a.request_rate), ("plue-web", w.request_rate)],
        );
        assert_jobs(
            "recorded error ratio",
            &api.by_job("job:plue_http_errors:ratio_rate5m").await,
            &[("plue-api", a.error_ratio), ("plue-web", w.error_ratio)],
        );
        assert_jobs(
            "recorded p95",
            &api.by_job("job:plue_http_request_duration_ms:p95_5m").await,
            &[("plue-api", a.p95), ("plue-web", w.p95)],
        );

        // The history is exact too: a range query over the backfilled hours.
        let end = prom.backfill_end() - 600;
        let start = prom.history_start() + 600;
        let data = api
            .get(
                "query_range",
                &[
                    ("query", "sum(rate(plue_http_requests_total[5m]))"),
                    ("start", &start.to_string()),
                    ("end", &end.to_string()),
                    ("step", "97"),
                ],
            )
            .await;
        let points = data["result"][0]["values"].as_array().unwrap();
        assert!(points.len() > 90, "{} points", points.len());
        for p in points {
            assert_close(
                "historic request rate",
                p[1].as_str().unwrap().parse().unwrap(),
                all.request_rate,
            );
        }

        // Targets: up, down with its error, dropped.
        let up = api.by_job("up").await;
        for (job, n) in expected::TARGETS_PER_JOB {
            let values: Vec<f64> = up
                .iter()
                .filter(|(j, _)| j == job)
                .map(|(_, v)| *v)
                .collect();
            let want = if expected::DOWN_JOBS.contains(job) {
                0.0
            } else {
                1.0
            };
            assert_eq!(values, vec![want; *n], "up of {job}");
        }
        let targets = api.get("targets", &[("state", "any")]).await;
        let down: Vec<&Json> = targets["activeTargets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["health"] == "down")
            .collect();
        assert_eq!(down.len(), 1, "{down:?}");
        assert_eq!(down[0]["labels"]["job"], expected::JOB_RUNNER);
        assert_eq!(down[0]["labels"]["instance"], prom.down_instance());
        let error = down[0]["lastError"].as_str().unwrap();
        assert!(error.contains(expected::DOWN_ERROR), "{error}");
        let dropped = targets["droppedTargets"].as_array().unwrap();
        assert_eq!(dropped.len(), 1, "{dropped:?}");
        assert_eq!(
            dropped[0]["discoveredLabels"]["__address__"],
            expected::DROPPED_TARGET
        );
        let instances: Vec<String> = api
            .query("up{job=\"plue-api\"}")
            .await
            .iter()
            .map(|(m, _)| m["instance"].as_str().unwrap().into())
            .collect();
        let mut want: Vec<String> = prom.api_instances().to_vec();
        want.sort();
        let mut got = instances;
        got.sort();
        assert_eq!(got, want);

        // Alerts: which fire, which is pending.
        let alerts = api.get("alerts", &[]).await;
        let alerts = alerts["alerts"].as_array().unwrap();
        let firing: Vec<&Json> = alerts.iter().filter(|a| a["state"] == "firing").collect();
        assert_eq!(firing.len(), expected::FIRING_ALERTS.len(), "{alerts:?}");
        for (name, job, value) in expected::FIRING_ALERTS {
            let alert = firing
                .iter()
                .find(|a| a["labels"]["alertname"] == *name)
                .unwrap_or_else(|| panic!("{name} not firing: {alerts:?}"));
            assert_eq!(alert["labels"]["job"], *job);
            assert_close(
                name,
                alert["value"].as_str().unwrap().parse().unwrap(),
                *value,
            );
        }
        let high = firing
            .iter()
            .find(|a| a["labels"]["alertname"] == "PlueHighErrorRate")
            .unwrap();
        assert_eq!(
            high["annotations"]["summary"],
            expected::HIGH_ERROR_RATE_SUMMARY
        );
        let pending: Vec<&Json> = alerts.iter().filter(|a| a["state"] == "pending").collect();
        assert_eq!(pending.len(), 1, "{alerts:?}");
        assert_eq!(pending[0]["labels"]["alertname"], expected::PENDING_ALERT);
        assert_close(
            "pending value",
            pending[0]["value"].as_str().unwrap().parse().unwrap(),
            expected::AUTH_FAILURE_RATIO,
        );

        // Rules: groups, health, the broken one, the inactive alert.
        let rules = api.get("rules", &[]).await;
        let groups = rules["groups"].as_array().unwrap();
        let names: Vec<&str> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
        assert_eq!(names, expected::RULE_GROUPS);
        let all_rules: Vec<&Json> = groups
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .collect();
        let rule = |name: &str| {
            *all_rules
                .iter()
                .find(|r| r["name"] == name)
                .unwrap_or_else(|| panic!("rule {name}"))
        };
        for name in expected::RECORDING_RULES {
            assert_eq!(rule(name)["type"], "recording");
            assert_eq!(rule(name)["health"], "ok", "{}", rule(name));
        }
        let broken = rule(expected::BROKEN_RULE);
        assert_eq!(broken["health"], "err");
        assert!(
            broken["lastError"]
                .as_str()
                .unwrap()
                .contains(expected::BROKEN_RULE_ERROR),
            "{broken}"
        );
        assert_eq!(rule(expected::INACTIVE_ALERT)["state"], "inactive");
        assert_eq!(rule(expected::PENDING_ALERT)["state"], "pending");
        for (name, _, _) in expected::FIRING_ALERTS {
            assert_eq!(rule(name)["state"], "firing");
        }

        // Metadata from the exporter.
        let metadata = api.get("metadata", &[]).await;
        for (metric, kind, unit) in expected::METADATA {
            let m = &metadata[*metric][0];
            assert_eq!(m["type"], *kind, "{metric}: {metadata}");
            assert_eq!(m["unit"], *unit, "{metric}");
            assert!(
                !m["help"].as_str().unwrap_or_default().is_empty(),
                "{metric}"
            );
        }

        // Still exact a little later (the exporter keeps the series going).
        tokio::time::sleep(Duration::from_secs(STEP_SECONDS as u64 + 2)).await;
        assert_close(
            "request rate later",
            api.scalar("sum(rate(plue_http_requests_total[1m]))").await,
            all.request_rate,
        );

        // No sample was refused: the backfill and the exporter's samples fit together.
        let log = prom.log();
        for refused in [
            "out of bounds",
            "out of order",
            "duplicate sample",
            "too old",
        ] {
            assert!(
                !log.to_lowercase().contains(refused),
                "{refused} in the log:\n{log}"
            );
        }

        // Stopped: the port refuses connections (asked on a new client: a kept-alive
        // connection of `api.client` would fail as closed, not refused).
        prom.stop();
        let err = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("{}/-/ready", prom.url()))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err}");
    }

    #[test]
    fn start_works_outside_a_runtime_and_drop_kills() {
        let prom = PromServer::start().expect("start Prometheus");
        let addr = format!("127.0.0.1:{}", prom.port());
        assert!(std::net::TcpStream::connect(&addr).is_ok());
        let dir = prom.dir().to_path_buf();
        drop(prom);
        assert!(std::net::TcpStream::connect(&addr).is_err());
        assert!(!dir.exists());
    }
}
