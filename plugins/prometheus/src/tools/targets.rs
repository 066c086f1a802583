//! `prometheus_targets`: scrape targets, down ones first with their last error; and
//! the targets service discovery found but relabelling dropped, when asked.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, cut_note};
use plue_plugin_sdk::time::{now, rfc3339};

use crate::api::{ActiveTarget, Api, DroppedTarget, Labels, TargetsData};
use crate::format;

/// Which targets to list.
#[derive(Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Targets being scraped.
    #[default]
    Active,
    /// Targets discovered but dropped by relabelling.
    Dropped,
    /// Both.
    Any,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// `active` (default), `dropped` or `any`.
    #[serde(default)]
    pub state: State,
    /// Default all.
    #[serde(default)]
    pub job: Option<String>,
    /// Per state (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

// One scraped target.
#[derive(Serialize, JsonSchema)]
pub struct TargetOut {
    pub job: String,
    pub instance: String,
    // `up`, `down` or `unknown` (not scraped yet).
    pub health: String,
    pub scrape_url: String,
    // The last scrape's error; empty when it succeeded.
    pub last_error: String,
    /// Null if never.
    pub last_scrape: Option<String>,
    /// How long the last scrape took, in seconds.
    pub last_scrape_duration_seconds: f64,
    // The target's labels after relabelling.
    pub labels: Labels,
}

// One dropped target.
#[derive(Serialize, JsonSchema)]
pub struct DroppedOut {
    // `__address__` before relabelling.
    pub address: String,
    pub job: String,
    // Its labels before relabelling, without the `__meta_*` ones.
    pub labels: Labels,
}

/// What `prometheus_targets` returns.
#[derive(Serialize, JsonSchema)]
pub struct TargetsOut {
    pub active_total: usize,
    pub up: usize,
    pub down: usize,
    pub unknown: usize,
    // Active targets listed, down first, at most `limit`.
    pub active: Vec<TargetOut>,
    pub dropped_total: usize,
    // Dropped targets listed, at most `limit`.
    pub dropped: Vec<DroppedOut>,
    pub truncated: bool,
}

fn health_rank(health: &str) -> u8 {
    match health {
        "down" => 0,
        "unknown" => 1,
        _ => 2,
    }
}

/// Active targets, down first, then by job and instance.
pub fn sort_targets(targets: &mut [ActiveTarget]) {
    targets.sort_by(|a, b| {
        health_rank(&a.health)
            .cmp(&health_rank(&b.health))
            .then_with(|| a.job().cmp(b.job()))
            .then_with(|| a.instance().cmp(b.instance()))
    });
}

fn target_line(t: &ActiveTarget, now: f64) -> String {
    let state = t.health.to_uppercase();
    let scraped = match format::timestamp(&t.last_scrape) {
        Some(_) => format!(
            "last scrape {}, took {}",
            format::ago_text(&t.last_scrape, now),
            format::millis(Some(t.last_scrape_duration * 1000.0))
        ),
        None => "not scraped yet".into(),
    };
    let mut line = format!("{state:<7} {} {} ({scraped})", t.job(), t.instance());
    if !t.last_error.is_empty() {
        line.push_str(&format!(
            "\n        error: {}",
            format::one_line(&t.last_error, 300)
        ));
    }
    line
}

fn dropped_out(d: &DroppedTarget) -> DroppedOut {
    let labels: Labels = d
        .discovered_labels
        .iter()
        .filter(|(k, _)| !k.starts_with("__meta_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    DroppedOut {
        address: d
            .discovered_labels
            .get("__address__")
            .cloned()
            .unwrap_or_default(),
        job: d.discovered_labels.get("job").cloned().unwrap_or_default(),
        labels,
    }
}

/// Fetch the targets (`state` as Prometheus takes it).
pub fn fetch(state: &str) -> Result<TargetsData, crate::api::ApiError> {
    Ok(Api::new()
        .get::<TargetsData>("/api/v1/targets", &[("state", state)])?
        .data)
}

fn run(args: Args) -> Result<Answer<TargetsOut>, ToolError> {
    let now = now();
    let limit = text::limit(args.limit, 50, 500);
    let state = match args.state {
        State::Active => "active",
        State::Dropped => "dropped",
        State::Any => "any",
    };
    let mut data = fetch(state)?;
    let job = args.job.as_deref().filter(|j| !j.is_empty());
    if let Some(job) = job {
        data.active_targets
            .retain(|t| t.job() == job || t.scrape_pool == job);
        data.dropped_targets
            .retain(|d| d.discovered_labels.get("job").map(String::as_str) == Some(job));
    }
    sort_targets(&mut data.active_targets);
    let count = |h: &str| data.active_targets.iter().filter(|t| t.health == h).count();
    let (up, down) = (count("up"), count("down"));
    let active_total = data.active_targets.len();
    let unknown = active_total - up - down;
    let dropped_total = data.dropped_targets.len();
    let scope = job.map(|j| format!(" of job {j}")).unwrap_or_default();

    let mut parts = Vec::new();
    let mut truncated = false;
    if args.state != State::Dropped {
        let shown = &data.active_targets[..limit.min(active_total)];
        let mut text = if active_total == 0 {
            format!("No active targets{scope}.")
        } else {
            let unknown_text = if unknown > 0 {
                format!(", {unknown} not scraped yet")
            } else {
                String::new()
            };
            format!(
                "{}{scope}: {up} up, {down} down{unknown_text}.\n{}",
                text::plural(active_total, "active target", "active targets"),
                shown
                    .iter()
                    .map(|t| target_line(t, now))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        };
        if shown.len() < active_total {
            truncated = true;
            text.push_str("\n\n");
            text.push_str(&cut_note(
                shown.len(),
                active_total,
                "active targets",
                "pass `job`, or raise `limit`",
            ));
        }
        parts.push(Some(text));
    }
    let dropped: Vec<DroppedOut> = data
        .dropped_targets
        .iter()
        .take(limit)
        .map(dropped_out)
        .collect();
    if args.state != State::Active {
        let mut text = if dropped_total == 0 {
            format!("No dropped targets{scope}.")
        } else {
            let lines: Vec<String> = dropped
                .iter()
                .map(|d| {
                    let rest: Labels = d
                        .labels
                        .iter()
                        .filter(|(k, _)| !k.starts_with("__") && k.as_str() != "job")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    let rest = if rest.is_empty() {
                        String::new()
                    } else {
                        format!("  {}", format::series(&rest))
                    };
                    format!("{}  job {}{rest}", d.address, d.job)
                })
                .collect();
            format!(
                "{}{scope} (discovered, then dropped by relabelling; labels before relabelling):\n{}",
                text::plural(dropped_total, "dropped target", "dropped targets"),
                lines.join("\n")
            )
        };
        if dropped.len() < dropped_total {
            truncated = true;
            text.push_str("\n\n");
            text.push_str(&cut_note(
                dropped.len(),
                dropped_total,
                "dropped targets",
                "pass `job`, or raise `limit`",
            ));
        }
        parts.push(Some(text));
    }
    let out = TargetsOut {
        active_total,
        up,
        down,
        unknown,
        active: data.active_targets[..limit.min(active_total)]
            .iter()
            .map(|t| TargetOut {
                job: t.job().into(),
                instance: t.instance().into(),
                health: t.health.clone(),
                scrape_url: t.scrape_url.clone(),
                last_error: t.last_error.clone(),
                last_scrape: format::timestamp(&t.last_scrape).map(rfc3339),
                last_scrape_duration_seconds: t.last_scrape_duration,
                labels: t.labels.clone(),
            })
            .collect(),
        dropped_total,
        dropped: if args.state == State::Active {
            Vec::new()
        } else {
            dropped
        },
        truncated,
    };
    Ok(Answer::new(text::blocks(parts), out))
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "prometheus_targets",
        "Scrape targets, down first, with last error.",
        run,
    )
    .title("Scrape targets")
    .read_only()
    .open_world()
}

#[cfg(test)]
pub(crate) mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use crate::plugin;

    pub(crate) const TARGETS: &str = r#"{"status":"success","data":{
      "activeTargets":[
        {"labels":{"job":"api","instance":"a:1"},"scrapePool":"api","scrapeUrl":"http://a:1/metrics","lastError":"","lastScrape":"2023-11-14T22:13:10Z","lastScrapeDuration":0.003,"health":"up"},
        {"labels":{"job":"runner","instance":"r:2"},"scrapePool":"runner","scrapeUrl":"http://r:2/metrics","lastError":"Get \"http://r:2/metrics\": dial tcp r:2: connect: connection refused","lastScrape":"2023-11-14T22:13:15Z","lastScrapeDuration":0.001,"health":"down"}],
      "droppedTargets":[{"discoveredLabels":{"__address__":"canary:5173","job":"web","canary":"true","__meta_x":"y"}}]}}"#;

    #[test]
    fn down_first_and_dropped_when_asked() {
        testing::fake_http(|req| {
            assert_eq!(req.path_and_query, "/api/v1/targets?state=any");
            Ok(testing::response(200, TARGETS))
        });
        let out = testing::call(&plugin(), "prometheus_targets", json!({"state": "any"})).unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with("2 active targets: 1 up, 1 down.\nDOWN    runner r:2 (last scrape "),
            "{text}"
        );
        assert!(text.contains("error: Get \"http://r:2/metrics\": dial tcp r:2: connect: connection refused\nUP      api a:1"), "{text}");
        assert!(text.contains("1 dropped target (discovered, then dropped by relabelling; labels before relabelling):\ncanary:5173  job web  {canary=\"true\"}"), "{text}");
        let s = out.structured().unwrap();
        assert_eq!((s["up"].clone(), s["down"].clone()), (json!(1), json!(1)));
        assert_eq!(s["dropped"][0]["address"], "canary:5173");
        assert!(s["dropped"][0]["labels"].get("__meta_x").is_none());
    }

    #[test]
    fn job_filter_and_active_only() {
        testing::fake_http(|_| Ok(testing::response(200, TARGETS)));
        let out = testing::call(&plugin(), "prometheus_targets", json!({"job": "api"})).unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with("1 active target of job api: 1 up, 0 down.\nUP      api a:1"),
            "{text}"
        );
        assert!(!text.contains("dropped"), "{text}");
    }
}
