//! `service_health`: every job's targets, up or down, unhealthy jobs first; each down
//! target with its last scrape error and how long ago it was last up.
//!
//! Health comes from the `up` series, which every Prometheus-compatible query API has
//! (Thanos, Mimir, VictoriaMetrics, a Prometheus fed by remote write or federation)
//! and which holds every job and instance however its samples arrived. When
//! `/api/v1/targets` answers, its scrape errors, last-scrape times and not-yet-scraped
//! targets are added; each down target says which of the two its facts came from.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, table};
use plue_plugin_sdk::time::{ago, now, rfc3339};

use crate::api::{ActiveTarget, Api};
use crate::format;
use crate::promql::{quote, regex_literal};
use crate::tools::targets::{fetch, sort_targets};

/// How far back the last successful scrape of a down target is looked for.
const LAST_UP_LOOKBACK: &str = "1d";

#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Default all.
    #[serde(default)]
    pub job: Option<String>,
}

// One job.
#[derive(Serialize, JsonSchema)]
pub struct JobHealth {
    pub job: String,
    // `ok`, `partial` (some targets down), `down` (all down) or `unknown` (not scraped yet).
    pub status: String,
    pub up: usize,
    pub down: usize,
    pub unknown: usize,
    pub total: usize,
}

// One target that is down.
#[derive(Serialize, JsonSchema)]
pub struct DownTarget {
    pub job: String,
    pub instance: String,
    // The last scrape's error (empty when only the `up` metric was available).
    pub error: String,
    /// `targets` (targets API) or `up` (only the `up` series knows it).
    pub source: String,
    pub last_scrape: Option<String>,
    // When it was last up (within the last day), RFC 3339; null if not in that day.
    pub last_up: Option<String>,
}

/// What `service_health` returns.
#[derive(Serialize, JsonSchema)]
pub struct HealthOut {
    // Every target is up.
    pub healthy: bool,
    pub targets_up: usize,
    pub targets_total: usize,
    // Jobs, unhealthy first.
    pub jobs: Vec<JobHealth>,
    pub down: Vec<DownTarget>,
    /// `up` or `up+targets` (enriched from the targets API).
    pub source: String,
}

/// A target as this tool sees it, from either source.
struct Target {
    job: String,
    instance: String,
    health: String,
    error: String,
    last_scrape: Option<f64>,
    /// `up` or `targets`.
    source: &'static str,
}

impl From<&ActiveTarget> for Target {
    fn from(t: &ActiveTarget) -> Self {
        Target {
            job: t.job().into(),
            instance: t.instance().into(),
            health: t.health.clone(),
            error: t.last_error.clone(),
            last_scrape: format::timestamp(&t.last_scrape),
            source: "targets",
        }
    }
}

/// Targets from the `up` series.
fn from_up(api: &Api, job: Option<&str>, now: f64) -> Result<Vec<Target>, ToolError> {
    let selector = match job {
        Some(j) => format!("up{{job={}}}", quote(j)),
        None => "up".into(),
    };
    Ok(api
        .vector(&selector, now)?
        .into_iter()
        .map(|s| Target {
            job: s.label("job").into(),
            instance: s.label("instance").into(),
            health: if s.number() == Some(1.0) {
                "up"
            } else {
                "down"
            }
            .into(),
            error: String::new(),
            last_scrape: s.value.as_ref().map(|p| p.0),
            source: "up",
        })
        .collect())
}

/// The `up` series' targets, each replaced by what `/api/v1/targets` says of it when
/// that answers (with the scraped targets `up` has no sample of yet); and why the
/// targets API added nothing, when it did not answer.
fn gather(
    api: &Api,
    job: Option<&str>,
    now: f64,
) -> Result<(Vec<Target>, Option<String>), ToolError> {
    let mut targets = from_up(api, job, now)?;
    let scraped = match fetch("active") {
        Ok(mut data) => {
            sort_targets(&mut data.active_targets);
            data.active_targets
        }
        Err(e) => {
            let why = if e.is_missing_api() {
                "this server has no targets API (`/api/v1/targets` answered 404)".to_string()
            } else {
                format!("`/api/v1/targets` failed: {}", e.message())
            };
            return Ok((targets, Some(why)));
        }
    };
    for t in scraped.iter().map(Target::from) {
        match targets
            .iter_mut()
            .find(|u| u.job == t.job && u.instance == t.instance)
        {
            Some(u) => *u = t,
            None => targets.push(t),
        }
    }
    Ok((targets, None))
}

/// When each down target (by job and instance) was last up within the lookback.
fn last_up(api: &Api, down: &[&Target], now: f64) -> BTreeMap<(String, String), f64> {
    let mut jobs: Vec<&str> = down.iter().map(|t| t.job.as_str()).collect();
    jobs.sort();
    jobs.dedup();
    if jobs.is_empty() {
        return BTreeMap::new();
    }
    let re = jobs
        .iter()
        .map(|j| regex_literal(j))
        .collect::<Vec<_>>()
        .join("|");
    let sel = format!("up{{job=~{}}}", quote(&re));
    let query = format!(
        "max by (job, instance) (max_over_time((timestamp({sel}) and {sel} == 1)[{LAST_UP_LOOKBACK}:1m]))"
    );
    match api.vector(&query, now) {
        Ok(v) => v
            .into_iter()
            .filter_map(|s| {
                Some((
                    (s.label("job").to_string(), s.label("instance").to_string()),
                    s.number()?,
                ))
            })
            .collect(),
        Err(e) => {
            plue_plugin_sdk::log::warn(&format!("service_health: last-up lookup failed: {e}"));
            BTreeMap::new()
        }
    }
}

fn status(up: usize, down: usize, total: usize) -> &'static str {
    if down == 0 && up == total {
        "ok"
    } else if up == 0 && down == total {
        "down"
    } else if down > 0 {
        "partial"
    } else {
        "unknown"
    }
}

pub(crate) fn run(args: Args) -> Result<Answer<HealthOut>, ToolError> {
    let now = now();
    let api = Api::new();
    let job = args.job.as_deref().filter(|j| !j.is_empty());
    let (mut targets, no_targets_api) = gather(&api, job, now)?;
    let source = if no_targets_api.is_some() {
        "up"
    } else {
        "up+targets"
    };
    if let Some(job) = job {
        targets.retain(|t| t.job == job);
    }
    if targets.is_empty() {
        let text = match job {
            Some(j) => format!(
                "No targets of job {j}. The jobs are listed by prometheus_labels with label `job`, or service_health without `job`."
            ),
            None => "No targets: no `up` series and nothing scraped. Check `scrape_configs` in Prometheus's configuration (or what writes to this server).".into(),
        };
        let out = HealthOut {
            healthy: false,
            targets_up: 0,
            targets_total: 0,
            jobs: vec![],
            down: vec![],
            source: source.into(),
        };
        return Ok(Answer::new(text, out));
    }

    let mut by_job: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for t in &targets {
        let e = by_job.entry(&t.job).or_default();
        match t.health.as_str() {
            "up" => e.0 += 1,
            "down" => e.1 += 1,
            _ => e.2 += 1,
        }
    }
    let mut jobs: Vec<JobHealth> = by_job
        .into_iter()
        .map(|(job, (up, down, unknown))| {
            let total = up + down + unknown;
            JobHealth {
                job: job.into(),
                status: status(up, down, total).into(),
                up,
                down,
                unknown,
                total,
            }
        })
        .collect();
    let rank = |s: &str| match s {
        "down" => 0,
        "partial" => 1,
        "unknown" => 2,
        _ => 3,
    };
    jobs.sort_by(|a, b| {
        rank(&a.status)
            .cmp(&rank(&b.status))
            .then(a.job.cmp(&b.job))
    });

    let down_targets: Vec<&Target> = targets.iter().filter(|t| t.health == "down").collect();
    let last = last_up(&api, &down_targets, now);
    let down: Vec<DownTarget> = down_targets
        .iter()
        .map(|t| DownTarget {
            job: t.job.clone(),
            instance: t.instance.clone(),
            error: t.error.clone(),
            source: t.source.into(),
            last_scrape: t.last_scrape.map(rfc3339),
            last_up: last
                .get(&(t.job.clone(), t.instance.clone()))
                .map(|t| rfc3339(*t)),
        })
        .collect();

    let targets_up = targets.iter().filter(|t| t.health == "up").count();
    let unhealthy = jobs.iter().filter(|j| j.status != "ok").count();
    let headline = if unhealthy == 0 {
        format!(
            "Healthy: all {} of {} are up.",
            text::plural(targets.len(), "target", "targets"),
            text::plural(jobs.len(), "job", "jobs")
        )
    } else {
        format!(
            "Unhealthy: {unhealthy} of {} not fully up; {targets_up} of {} up.",
            text::plural(jobs.len(), "job", "jobs"),
            text::plural(targets.len(), "target", "targets")
        )
    };
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.status.to_uppercase(),
                j.job.clone(),
                format!("{}/{} up", j.up, j.total),
            ]
        })
        .collect();
    let mut text = format!(
        "{headline}\n\n{}",
        table(&["status", "job", "targets"], &rows, 80)
    );
    if !down.is_empty() {
        text.push_str("\n\nDown targets:");
        for d in &down {
            text.push_str(&down_line(d, &last, now));
        }
    }
    if let Some(why) = &no_targets_api {
        text.push_str(&format!(
            "\n\n(From the `up` series alone: {why}, so scrape errors are not known; last scrape is the newest `up` sample.)"
        ));
    } else if down.iter().any(|d| d.source == "up") {
        text.push_str("\n\n(A down target without an error is known only from the `up` series: this server does not scrape it.)");
    }
    let out = HealthOut {
        healthy: unhealthy == 0,
        targets_up,
        targets_total: targets.len(),
        jobs,
        down,
        source: source.into(),
    };
    Ok(Answer::new(text, out))
}

/// `- job instance: error` and, below, the last scrape and when it was last up.
fn down_line(d: &DownTarget, last: &BTreeMap<(String, String), f64>, now: f64) -> String {
    let error = if d.error.is_empty() {
        "down".to_string()
    } else {
        format::one_line(&d.error, 300)
    };
    let scraped = d
        .last_scrape
        .as_deref()
        .map(|s| format!("last scrape {}", format::ago_text(s, now)))
        .unwrap_or_else(|| "never scraped".into());
    let up = match last.get(&(d.job.clone(), d.instance.clone())) {
        Some(t) => format!("last up {} ({})", ago(*t, now), rfc3339(*t)),
        None => format!("not up at any time in the last {LAST_UP_LOOKBACK}"),
    };
    format!("\n- {} {}: {error}\n  {scraped}; {up}", d.job, d.instance)
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "service_health",
        "Start here when something looks broken: targets up per job from the `up` series (Thanos, Mimir too), with errors.",
        run,
    )
    .title("Service health")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use crate::plugin;
    use crate::tools::targets::tests::TARGETS;

    #[test]
    fn groups_by_job_and_names_down_targets() {
        testing::fake_http(|req| {
            let q = &req.path_and_query;
            if q.starts_with("/api/v1/targets") {
                return Ok(testing::response(200, TARGETS));
            }
            // `up` knows api (scraped) and batch (remote-written); runner has no sample yet.
            if q.starts_with("/api/v1/query?query=up&") {
                return Ok(testing::response(
                    200,
                    r#"{"status":"success","data":{"resultType":"vector","result":[
                    {"metric":{"__name__":"up","job":"api","instance":"a:1"},"value":[1700000000,"1"]},
                    {"metric":{"__name__":"up","job":"batch","instance":"b:3"},"value":[1700000000,"1"]}]}}"#,
                ));
            }
            assert!(
                q.starts_with("/api/v1/query?query=max%20by%20%28job%2C%20instance%29"),
                "{q}"
            );
            assert!(q.contains("job%3D~%22runner%22"), "{q}");
            Ok(testing::response(
                200,
                r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"job":"runner","instance":"r:2"},"value":[1700000000,"1699999700"]}]}}"#,
            ))
        });
        let out = testing::call(&plugin(), "service_health", json!({})).unwrap();
        let text = out.text_content();
        assert!(text.starts_with("Unhealthy: 1 of 3 jobs not fully up; 2 of 3 targets up.\n\nstatus  job     targets\n------  ------  -------\nDOWN    runner  0/1 up\nOK      api     1/1 up\nOK      batch   1/1 up"), "{text}");
        assert!(text.contains("- runner r:2: Get \"http://r:2/metrics\": dial tcp r:2: connect: connection refused"), "{text}");
        assert!(text.contains("; last up "), "{text}");
        let s = out.structured().unwrap();
        assert_eq!(s["healthy"], false);
        assert_eq!(s["down"][0]["last_up"], "2023-11-14T22:08:20Z");
        assert_eq!(s["jobs"][0]["status"], "down");
        assert_eq!(
            (&s["down"][0]["source"], &s["source"]),
            (&json!("targets"), &json!("up+targets"))
        );
    }

    #[test]
    fn falls_back_to_up_without_a_targets_api() {
        testing::fake_http(|req| {
            if req.path_and_query.starts_with("/api/v1/targets") {
                return Ok(testing::response(404, "404 page not found"));
            }
            if req.path_and_query.starts_with("/api/v1/query?query=up&") {
                return Ok(testing::response(
                    200,
                    r#"{"status":"success","data":{"resultType":"vector","result":[
                    {"metric":{"job":"a","instance":"x"},"value":[1700000000,"1"]},
                    {"metric":{"job":"a","instance":"y"},"value":[1700000000,"0"]}]}}"#,
                ));
            }
            Ok(testing::response(
                200,
                r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
            ))
        });
        let out = testing::call(&plugin(), "service_health", json!({})).unwrap();
        let text = out.text_content();
        assert!(text.contains("PARTIAL  a    1/2 up"), "{text}");
        assert!(text.contains("- a y: down\n  last scrape"), "{text}");
        assert!(text.contains("not up at any time in the last 1d"), "{text}");
        assert!(
            text.contains("From the `up` series alone: this server has no targets API"),
            "{text}"
        );
        let s = out.structured().unwrap();
        assert_eq!(
            (&s["down"][0]["source"], &s["source"]),
            (&json!("up"), &json!("up"))
        );
    }

    #[test]
    fn unreachable_prometheus_is_an_error() {
        testing::fake_http(|_| {
            Err(plue_plugin_sdk::http::HttpError::Unreachable(
                "connection refused".into(),
            ))
        });
        let err = testing::call(&plugin(), "service_health", json!({})).unwrap_err();
        assert!(
            err.to_string()
                .contains("Prometheus could not be reached (endpoint `prometheus`"),
            "{err}"
        );
    }
}
