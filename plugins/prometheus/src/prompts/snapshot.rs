//! What the prompts report, gathered once per rendering: target health and
//! alerts (from the tools that answer them) and the traffic headline (from the
//! saved queries), each kept with its own error so one failing part does not
//! hide the others. When Prometheus cannot be reached at all, that is the one
//! fact reported.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::time::now;

use crate::api::Api;
use crate::saved::{self, Sample};
use crate::tools::alerts::{self, AlertsOut};
use crate::tools::health::{self, HealthOut};
use crate::tools::{Metrics, rules};

/// One job's traffic over the last 5m.
#[derive(Debug, Clone, PartialEq)]
pub struct JobTraffic {
    pub job: String,
    /// req/s.
    pub rate: f64,
    /// 5xx req/s.
    pub errors: f64,
    pub p95_ms: Option<f64>,
}

impl JobTraffic {
    /// 5xx share, when there were requests.
    pub fn ratio(&self) -> Option<f64> {
        (self.rate > 0.0).then(|| self.errors / self.rate)
    }
}

/// Requests, 5xx and p95 per job, highest 5xx share first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Traffic {
    pub jobs: Vec<JobTraffic>,
}

impl Traffic {
    pub fn rate(&self) -> f64 {
        self.jobs.iter().map(|j| j.rate).sum()
    }

    pub fn errors(&self) -> f64 {
        self.jobs.iter().map(|j| j.errors).sum()
    }

    /// The job with the highest p95.
    pub fn slowest(&self) -> Option<&JobTraffic> {
        self.jobs
            .iter()
            .filter(|j| j.p95_ms.is_some())
            .max_by(|a, b| a.p95_ms.unwrap_or(0.0).total_cmp(&b.p95_ms.unwrap_or(0.0)))
    }
}

/// The live facts of one rendering.
pub struct Snapshot {
    pub at: f64,
    pub metrics: Metrics,
    pub health: Answer<HealthOut>,
    pub alerts: Result<Answer<AlertsOut>, ToolError>,
    pub traffic: Result<Traffic, ToolError>,
}

/// Gather the facts (for one job, if given); `Err` when Prometheus does not
/// answer even the `up` query, with the message that says what to check.
pub fn gather(job: Option<&str>) -> Result<Snapshot, ToolError> {
    let health = health::run(health::Args {
        job: job.map(str::to_string),
    })?;
    let metrics = Metrics::load();
    let at = now();
    let alerts = alerts::run(alerts::Args::default());
    let traffic = traffic(&Api::new(), &metrics, at, job);
    Ok(Snapshot {
        at,
        metrics,
        health,
        alerts,
        traffic,
    })
}

fn by_job(samples: Vec<Sample>) -> BTreeMap<String, Option<f64>> {
    samples
        .into_iter()
        .map(|s| (s.label("job").to_string(), s.value))
        .collect()
}

/// The saved queries `request-rate`, `error-rate` and `latency-p95`, joined by job.
fn traffic(api: &Api, m: &Metrics, at: f64, job: Option<&str>) -> Result<Traffic, ToolError> {
    let eval = |name| saved::evaluate(api, saved::find(name)?, m, at).map(by_job);
    let rates = eval("request-rate")?;
    if rates.is_empty() {
        return Ok(Traffic::default());
    }
    let errors = eval("error-rate")?;
    let p95 = eval("latency-p95")?;
    let mut jobs: Vec<JobTraffic> = rates
        .into_iter()
        .filter(|(j, _)| job.is_none_or(|want| want == j))
        .map(|(j, rate)| JobTraffic {
            rate: rate.unwrap_or(0.0),
            errors: errors.get(&j).copied().flatten().unwrap_or(0.0),
            p95_ms: p95.get(&j).copied().flatten(),
            job: j,
        })
        .collect();
    jobs.sort_by(|a, b| {
        b.ratio()
            .unwrap_or(0.0)
            .total_cmp(&a.ratio().unwrap_or(0.0))
            .then(a.job.cmp(&b.job))
    });
    Ok(Traffic { jobs })
}

/// The rules with errors and the rules in all, or why the rules API gave none.
pub fn rule_health() -> Result<(usize, usize, Vec<String>), ToolError> {
    let answer = rules::run(rules::Args {
        limit: Some(3),
        ..Default::default()
    })?;
    let out = answer.value();
    let broken = out
        .rules
        .iter()
        .filter(|r| r.health != "ok" && !r.last_error.is_empty())
        .map(|r| {
            format!(
                "{} ({})",
                r.name,
                crate::format::one_line(&r.last_error, 120)
            )
        })
        .collect();
    Ok((out.with_errors, out.rules_total, broken))
}

/// A saved query evaluated now, or its error.
pub fn saved_now(snapshot: &Snapshot, name: &str) -> Result<Vec<Sample>, ToolError> {
    saved::evaluate(
        &Api::new(),
        saved::find(name)?,
        &snapshot.metrics,
        snapshot.at,
    )
}
