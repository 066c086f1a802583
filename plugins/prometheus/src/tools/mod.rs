//! The tools, one module each, and what several of them share: the notes
//! Prometheus attaches to answers, and the metric names the analysis tools read from
//! the plugin's settings.

use plue_plugin_sdk::settings;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

pub mod alerts;
pub mod errors;
pub mod health;
pub mod labels;
pub mod latency;
pub mod metadata;
pub mod query;
pub mod range;
pub mod rules;
pub mod series;
pub mod targets;

/// Prometheus's warnings and infos as lines to append to an answer.
pub fn notes_text(notes: &[String]) -> Option<String> {
    (!notes.is_empty()).then(|| {
        notes
            .iter()
            .map(|n| format!("Prometheus notes: {}", crate::format::one_line(n, 400)))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Series selectors as agents pass them: a list, or a single selector.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Selectors {
    Many(Vec<String>),
    One(String),
}

/// Deserialize [`Selectors`] into a list, dropping blank ones.
pub fn selectors<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = match Selectors::deserialize(d)? {
        Selectors::Many(v) => v,
        Selectors::One(s) => vec![s],
    };
    Ok(list.into_iter().filter(|s| !s.trim().is_empty()).collect())
}

/// The arguments of the analyses over a window of one job or all.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct WindowArgs {
    /// Default `15m`.
    #[serde(default)]
    pub duration: Option<String>,
    /// Default all, per job.
    #[serde(default)]
    pub job: Option<String>,
    /// Window end; default now.
    #[serde(default)]
    pub time: Option<String>,
}

/// `job api` or `all jobs`, and `, ending <time>` unless the window ends now.
pub fn scope_and_end(job: Option<&str>, at: f64, now: f64) -> (String, String) {
    let scope = job.map_or("all jobs".to_string(), |j| format!("job {j}"));
    let ends = if (at - now).abs() < 1.0 {
        String::new()
    } else {
        format!(", ending {}", plue_plugin_sdk::time::rfc3339(at))
    };
    (scope, ends)
}

/// Setting: the counter of HTTP requests (labels `status`, `method`, `path`).
pub const REQUESTS_METRIC: &str = "requests_metric";
/// Setting: the histogram of HTTP request durations.
pub const DURATION_METRIC: &str = "duration_metric";
/// Setting: the counter of authentication attempts (label `result`).
pub const AUTH_METRIC: &str = "auth_metric";

/// The metric names the analysis tools query, from the plugin's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub requests: String,
    /// The histogram's name without `_bucket`.
    pub duration: String,
    pub auth: String,
}

impl Metrics {
    /// The operator's settings, else the defaults.
    pub fn load() -> Self {
        let duration = settings::get_or(DURATION_METRIC, "plue_http_request_duration_ms");
        let duration = duration
            .strip_suffix("_bucket")
            .unwrap_or(&duration)
            .to_string();
        Metrics {
            requests: settings::get_or(REQUESTS_METRIC, "plue_http_requests_total"),
            duration,
            auth: settings::get_or(AUTH_METRIC, "plue_auth_attempts_total"),
        }
    }

    /// What to multiply the histogram's values by to get milliseconds.
    pub fn duration_to_ms(&self) -> f64 {
        if self.duration.ends_with("_seconds") {
            1000.0
        } else {
            1.0
        }
    }
}

/// `{job="x"}`-style matchers for an optional job filter plus `extra` (already PromQL).
pub fn matchers(job: Option<&str>, extra: &[&str]) -> String {
    let mut all: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    if let Some(job) = job {
        all.push(format!("job={}", crate::promql::quote(job)));
    }
    if all.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", all.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_add_the_job() {
        assert_eq!(matchers(None, &[]), "");
        assert_eq!(
            matchers(Some("a\"b"), &[r#"status=~"5..""#]),
            r#"{status=~"5..", job="a\"b"}"#
        );
    }

    #[test]
    fn metric_settings() {
        plue_plugin_sdk::testing::set_setting(
            DURATION_METRIC,
            "http_request_duration_seconds_bucket",
        );
        let m = Metrics::load();
        assert_eq!(m.duration, "http_request_duration_seconds");
        assert_eq!(m.duration_to_ms(), 1000.0);
        assert_eq!(m.requests, "plue_http_requests_total");
    }
}
