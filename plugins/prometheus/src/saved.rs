//! Saved queries: a small catalogue of named PromQL expressions, the ones the
//! tools compute and the Grafana dashboards and recording rules in `deploy/`
//! show, written against the metrics of the plugin's settings. Each is read as
//! the resource `plue://prometheus/queries/{name}` (its query, meaning and value
//! evaluated now) and the prompts evaluate them for their headlines, so a number
//! in a briefing and in a resource comes from the same expression.

use plue_plugin_sdk::ToolError;
use plue_plugin_sdk::text;
use plue_plugin_sdk::time::rfc3339;

use crate::api::{Api, Labels};
use crate::format;
use crate::tools::Metrics;

/// How a saved query's values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Per second, with this unit (`req/s`).
    Rate(&'static str),
    /// A share (0..1), shown as a percentage.
    Ratio,
    /// Milliseconds.
    Millis,
    /// A count, with this noun (`targets down`).
    Count(&'static str),
    /// 1 up, 0 down.
    Up,
}

impl Unit {
    /// `value` as an agent reads it.
    pub fn show(self, value: Option<f64>) -> String {
        let Some(v) = value else {
            return "no data".into();
        };
        match self {
            Unit::Rate(unit) => format::rate(v, unit),
            Unit::Ratio => format::percent_of_ratio(v),
            Unit::Millis => format::millis(Some(v)),
            Unit::Count(noun) => format!("{} {noun}", format::count(v)),
            Unit::Up if v >= 1.0 => "up".into(),
            Unit::Up => "DOWN".into(),
        }
    }

    /// Whether the smallest values matter most (down before up).
    fn low_first(self) -> bool {
        self == Unit::Up
    }
}

/// One saved query.
#[derive(Debug)]
pub struct SavedQuery {
    /// Lowercase words joined by `-`, the resource's `{name}`.
    pub name: &'static str,
    pub title: &'static str,
    /// What the value means.
    pub meaning: &'static str,
    /// Where the same number is shown in `deploy/` (dashboard panel, recording rule, alert).
    pub seen_in: &'static str,
    pub unit: Unit,
    build: fn(&Metrics) -> String,
}

impl SavedQuery {
    /// The PromQL, with the metric names of the plugin's settings.
    pub fn promql(&self, m: &Metrics) -> String {
        (self.build)(m)
    }
}

fn five_xx(m: &Metrics) -> String {
    format!(
        r#"sum by (job) (rate({}{{status=~"5.."}}[5m]))"#,
        m.requests
    )
}

fn requests(m: &Metrics) -> String {
    format!("sum by (job) (rate({}[5m]))", m.requests)
}

/// `histogram_quantile(q, …)` by `by`, in milliseconds whatever the histogram's unit.
fn quantile(m: &Metrics, q: &str, by: &str) -> String {
    let scale = if m.duration_to_ms() == 1.0 {
        String::new()
    } else {
        format!(" * {}", m.duration_to_ms())
    };
    format!(
        "histogram_quantile({q}, sum by ({by}le) (rate({}_bucket[5m]))){scale}",
        m.duration
    )
}

/// Every saved query, in the order they are listed.
pub const ALL: [SavedQuery; 15] = [
    SavedQuery {
        name: "targets-down",
        title: "Targets down per job",
        meaning: "How many of each job's scrape targets failed their last scrape (0: all up).",
        seen_in: "Plue Overview › Service health; alert PlueServiceDown (`up == 0` for 2m)",
        unit: Unit::Count("down"),
        build: |_| "sum by (job) (1 - up)".into(),
    },
    SavedQuery {
        name: "request-rate",
        title: "Request rate per job",
        meaning: "HTTP requests per second over the last 5m.",
        seen_in: "Plue Overview › Request rate; recording rule service:plue_http_requests:rate5m",
        unit: Unit::Rate("req/s"),
        build: requests,
    },
    SavedQuery {
        name: "error-rate",
        title: "5xx rate per job",
        meaning: "Requests per second answered with a server error (5xx) over the last 5m.",
        seen_in: "recording rule service:plue_http_requests_5xx:rate5m; error_analysis",
        unit: Unit::Rate("req/s"),
        build: five_xx,
    },
    SavedQuery {
        name: "error-ratio",
        title: "5xx share per job",
        meaning: "Share of requests answered with 5xx over the last 5m.",
        seen_in: "Plue Overview › 5xx error rate; recording rule service:plue_http_errors:ratio_rate5m; alert PlueHigh5xxRate (> 5% for 5m)",
        unit: Unit::Ratio,
        build: |m| format!("{} / {}", five_xx(m), requests(m)),
    },
    SavedQuery {
        name: "client-error-ratio",
        title: "4xx share per job",
        meaning: "Share of requests answered with a client error (4xx) over the last 5m: bad input, auth, missing routes.",
        seen_in: "error_analysis",
        unit: Unit::Ratio,
        build: |m| {
            format!(
                r#"sum by (job) (rate({}{{status=~"4.."}}[5m])) / {}"#,
                m.requests,
                requests(m)
            )
        },
    },
    SavedQuery {
        name: "latency-p50",
        title: "Median latency per job",
        meaning: "Half of the requests of the last 5m took at most this long.",
        seen_in: "Plue Overview › Latency p50 / p95 / p99; recording rule service:plue_http_request_duration_ms:p50_5m",
        unit: Unit::Millis,
        build: |m| quantile(m, "0.5", "job, "),
    },
    SavedQuery {
        name: "latency-p95",
        title: "p95 latency per job",
        meaning: "95% of the requests of the last 5m took at most this long.",
        seen_in: "Plue Overview › Latency p50 / p95 / p99; recording rule service:plue_http_request_duration_ms:p95_5m; alert PlueLatencyP95High (> 1000 ms for 10m)",
        unit: Unit::Millis,
        build: |m| quantile(m, "0.95", "job, "),
    },
    SavedQuery {
        name: "latency-p99",
        title: "p99 latency per job",
        meaning: "99% of the requests of the last 5m took at most this long: the tail users notice.",
        seen_in: "Plue Overview › Latency p50 / p95 / p99; recording rule service:plue_http_request_duration_ms:p99_5m",
        unit: Unit::Millis,
        build: |m| quantile(m, "0.99", "job, "),
    },
    SavedQuery {
        name: "slowest-endpoints",
        title: "Slowest endpoints (p95)",
        meaning: "The 10 slowest method and path pairs by p95 over the last 5m (one series per job when the histogram has no `path` label).",
        seen_in: "Plue Overview › Slowest endpoints (p95); latency_analysis",
        unit: Unit::Millis,
        build: |m| format!("topk(10, {})", quantile(m, "0.95", "job, method, path, ")),
    },
    SavedQuery {
        name: "top-5xx-endpoints",
        title: "Endpoints with most 5xx in the last hour",
        meaning: "5xx responses per method and path over the last hour, the 10 highest.",
        seen_in: "alert PlueHigh5xxRate's playbook; error_analysis",
        unit: Unit::Count("5xx in 1h"),
        build: |m| {
            format!(
                r#"topk(10, sum by (job, method, path) (increase({}{{status=~"5.."}}[1h])))"#,
                m.requests
            )
        },
    },
    SavedQuery {
        name: "auth-failures",
        title: "Authentication failures by result",
        meaning: "Failed authentication attempts per second over the last 5m, by result (failed, invalid_signature, invalid_nonce, expired, rate_limited).",
        seen_in: "Plue Overview › Authentication failures; recording rule result:plue_auth_failures:rate5m",
        unit: Unit::Rate("/s"),
        build: |m| {
            format!(
                r#"sum by (result) (rate({}{{result!="success"}}[5m]))"#,
                m.auth
            )
        },
    },
    SavedQuery {
        name: "auth-failure-ratio",
        title: "Authentication failure share",
        meaning: "Share of authentication attempts that failed over the last 5m.",
        seen_in: "Plue Overview › Authentication failures; recording rule plue:auth_failures:ratio_rate5m; alert PlueAuthFailureSpike (> 20% for 5m)",
        unit: Unit::Ratio,
        build: |m| {
            format!(
                r#"sum(rate({a}{{result!="success"}}[5m])) / sum(rate({a}[5m]))"#,
                a = m.auth
            )
        },
    },
    SavedQuery {
        name: "db-query-error-ratio",
        title: "Database query error share per job",
        meaning: "Share of the service's database queries that failed over the last 5m.",
        seen_in: "Plue Overview › Database query errors; recording rule service:plue_db_query_errors:ratio_rate5m; alert PlueDatabaseQueryErrors (> 1% for 5m)",
        unit: Unit::Ratio,
        build: |_| {
            "sum by (job) (rate(plue_db_query_errors_total[5m])) / sum by (job) (rate(plue_db_queries_total[5m]))".into()
        },
    },
    SavedQuery {
        name: "firing-alerts",
        title: "Firing alerts",
        meaning: "Alerts firing now, by name and severity (the value counts the firing series).",
        seen_in: "Plue Overview › Firing alerts; prometheus_alerts",
        unit: Unit::Count("firing"),
        build: |_| r#"sum by (alertname, severity) (ALERTS{alertstate="firing"})"#.into(),
    },
    SavedQuery {
        name: "mcp-backends",
        title: "plue-mcp backends reachable",
        meaning: "Whether each plue-mcp plugin reached its configured backend (Prometheus, Loki, the database) on its last call or probe.",
        seen_in: "plue-mcp › Backend reachable",
        unit: Unit::Up,
        build: |_| "min by (plugin, endpoint) (plue_mcp_backend_up)".into(),
    },
];

/// The saved query `name`, or an error listing the names.
pub fn find(name: &str) -> Result<&'static SavedQuery, ToolError> {
    ALL.iter().find(|q| q.name == name.trim()).ok_or_else(|| {
        ToolError::invalid(format!(
            "no saved query `{name}`; the saved queries are {}",
            names().join(", ")
        ))
    })
}

/// The names, in catalogue order.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|q| q.name).collect()
}

/// The URI of saved query `name`.
pub fn uri(name: &str) -> String {
    format!("plue://prometheus/queries/{name}")
}

/// One series of a saved query's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    /// `None` for NaN (no requests in the window, 0/0).
    pub value: Option<f64>,
}

impl Sample {
    /// `{job="api"}`-style, or `total` for a series without labels.
    pub fn name(&self) -> String {
        let labels: Labels = self
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if labels.is_empty() {
            "total".into()
        } else {
            format::series(&labels)
        }
    }

    /// A label's value, empty when absent.
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map(String::as_str).unwrap_or("")
    }
}

/// The query's value at `at`, most telling first (highest, or down first for
/// [`Unit::Up`]); series without data last.
pub fn evaluate(api: &Api, q: &SavedQuery, m: &Metrics, at: f64) -> Result<Vec<Sample>, ToolError> {
    let mut samples: Vec<Sample> = api
        .vector(&q.promql(m), at)?
        .into_iter()
        .map(|s| Sample {
            value: s.number(),
            labels: s.metric,
        })
        .collect();
    let low_first = q.unit.low_first();
    samples.sort_by(|a, b| match (a.value, b.value) {
        (Some(x), Some(y)) if low_first => x.total_cmp(&y),
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(samples)
}

/// At most this many series are shown per saved query.
pub const MAX_SERIES: usize = 20;

/// The resource's text: query, meaning, where it is shown, and its value now.
pub fn markdown(q: &SavedQuery, m: &Metrics, samples: &[Sample], at: f64) -> String {
    let mut out = format!(
        "# {}: {}\n\n```promql\n{}\n```\n\n{}\nAlso shown in: {}.\n\n## Value at {}\n\n",
        q.name,
        q.title,
        q.promql(m),
        q.meaning,
        q.seen_in,
        rfc3339(at)
    );
    if samples.is_empty() {
        out.push_str(
            "No series: nothing matched (for a ratio, no requests in the window; for the HTTP metrics, check the plugin settings and that the service is instrumented).\n",
        );
    } else {
        let taken = text::take(samples, MAX_SERIES);
        for s in &taken.items {
            out.push_str(&format!("- {}: {}\n", s.name(), q.unit.show(s.value)));
        }
        if let Some(note) = taken.note(
            "series",
            "run the query with prometheus_query and a label matcher",
        ) {
            out.push_str(&format!("\n{note}\n"));
        }
    }
    out.push_str("\nTrend: prometheus_query_range with this query (e.g. `start` 6h, `step` 5m).");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::vector;
    use plue_plugin_sdk::testing;

    #[test]
    fn names_are_unique_and_uri_safe() {
        let names = names();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ALL.len());
        for n in names {
            assert!(
                n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{n}"
            );
        }
        assert!(
            find("nope")
                .unwrap_err()
                .to_string()
                .contains("the saved queries are targets-down, request-rate")
        );
    }

    #[test]
    fn queries_follow_the_settings_and_scale_seconds_to_ms() {
        testing::set_setting(
            crate::tools::DURATION_METRIC,
            "http_duration_seconds_bucket",
        );
        testing::set_setting(crate::tools::REQUESTS_METRIC, "http_requests_total");
        let m = Metrics::load();
        assert_eq!(
            find("latency-p95").unwrap().promql(&m),
            "histogram_quantile(0.95, sum by (job, le) (rate(http_duration_seconds_bucket[5m]))) * 1000"
        );
        assert_eq!(
            find("error-ratio").unwrap().promql(&m),
            r#"sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m]))"#
        );
    }

    #[test]
    fn values_are_ranked_and_shown_in_their_unit() {
        testing::fake_http(|_| {
            Ok(testing::response(
                200,
                &vector(&[
                    (r#""plugin":"logs","endpoint":"loki""#, "1"),
                    (r#""plugin":"db","endpoint":"database""#, "0"),
                ]),
            ))
        });
        let m = Metrics::load();
        let q = find("mcp-backends").unwrap();
        let samples = evaluate(&Api::new(), q, &m, 1_700_000_000.0).unwrap();
        let text = markdown(q, &m, &samples, 1_700_000_000.0);
        assert!(
            text.contains(
                "- {endpoint=\"database\", plugin=\"db\"}: DOWN\n- {endpoint=\"loki\", plugin=\"logs\"}: up\n"
            ),
            "{text}"
        );
        assert_eq!(Unit::Ratio.show(Some(0.0244)), "2.44%");
        assert_eq!(Unit::Millis.show(Some(250.0)), "250 ms");
        assert_eq!(Unit::Count("down").show(Some(2.0)), "2 down");
        assert_eq!(Unit::Ratio.show(None), "no data");
    }
}
