//! `get_runner_pool`: runner pods, their health and what they hold, with the
//! problems spelled out.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::overview::STALE_AFTER_S;
use crate::args;
use crate::fmt::{self, Clock};
use crate::queries::{self, Runner};
use crate::status::Status;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunnerArgs {
    #[serde(default)]
    #[schemars(range(min = 1, max = 86400))]
    #[schemars(extend("default" = 30))]
    pub stale_after_seconds: Option<i64>,
}

// One runner.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunnerOut {
    pub id: i64,
    pub pod_name: String,
    pub pod_ip: Option<String>,
    pub node_name: Option<String>,
    // `available`, `claimed` or `terminated`.
    pub status: String,
    // `healthy`, `stale` or `terminated`.
    pub health: String,
    pub heartbeat_age_seconds: Option<f64>,
    pub last_heartbeat: Option<String>,
    pub claimed_at: Option<String>,
    pub claimed_by_step_id: Option<i64>,
    pub step_name: Option<String>,
    pub step_status: Option<Status>,
    pub run_id: Option<i64>,
    pub workflow: Option<String>,
}

/// What `get_runner_pool` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunnerPool {
    // False when the database has no runner_pool table (no warm pool).
    pub table_exists: bool,
    pub stale_after_seconds: i64,
    pub available: usize,
    pub available_healthy: usize,
    pub claimed: usize,
    pub terminated: usize,
    // Problems found, one sentence each.
    pub problems: Vec<String>,
    pub runners: Vec<RunnerOut>,
}

pub fn get_runner_pool(a: RunnerArgs) -> Result<Answer<RunnerPool>, ToolError> {
    let stale_after = args::limit(
        "stale_after_seconds",
        a.stale_after_seconds,
        STALE_AFTER_S as i64,
        86400,
    )?;
    let Some(runners) = queries::runners()? else {
        let empty = RunnerPool {
            table_exists: false,
            stale_after_seconds: stale_after,
            available: 0,
            available_healthy: 0,
            claimed: 0,
            terminated: 0,
            problems: Vec::new(),
            runners: Vec::new(),
        };
        return Ok(Answer::new(
            "No runner_pool table in this database: the warm runner pool is not set up, so runs execute without pooled runners.",
            empty,
        ));
    };
    let health = |r: &Runner| health(r, stale_after);
    let count = |status: &str| runners.iter().filter(|r| r.status == status).count();
    let available_healthy = runners
        .iter()
        .filter(|r| r.status == "available" && health(r) == "healthy")
        .count();
    let mut problems = Vec::new();
    for r in &runners {
        let age = fmt::duration(r.heartbeat_age_s);
        let holds = match (r.claimed_by_step_id, r.run_id) {
            (Some(step), Some(run)) => format!(
                "step #{step} {} of run #{run} {} ({})",
                r.step_name.as_deref().unwrap_or("?"),
                fmt::workflow_name(r.workflow.as_deref(), None),
                r.run_status.as_ref().map_or("?", Status::as_str)
            ),
            (Some(step), None) => format!("step #{step} (not found)"),
            (None, _) => String::new(),
        };
        match (r.status.as_str(), health(r)) {
            ("claimed", "stale") => problems.push(format!(
                "{} holds {holds} but its last heartbeat was {age} ago: the runner looks dead and the run stuck",
                r.pod_name
            )),
            ("claimed", _) if r.claimed_by_step_id.is_none() => {
                let task = r.claimed_by_task_id.map(|t| format!(" (claimed_by_task_id {t})")).unwrap_or_default();
                problems.push(format!("{} is claimed but holds no step{task}", r.pod_name))
            }
            ("claimed", _) if r.step_status.as_ref().is_some_and(|s| !matches!(s, Status::Running | Status::Pending)) => problems.push(
                format!("{} still holds {holds}, which has finished: the claim was not released", r.pod_name),
            ),
            ("available", "stale") => problems.push(format!(
                "{} is available but its last heartbeat was {age} ago: probably gone, yet it would be handed work",
                r.pod_name
            )),
            _ => {}
        }
    }
    if count("available") > 0 && available_healthy == 0 {
        problems.push("no available runner has a fresh heartbeat: new runs will wait".into());
    }

    let mut out = vec![format!(
        "Runner pool: {} runner(s) — available {} ({} healthy), claimed {}, terminated {}; stale = heartbeat older than {} s; times UTC",
        runners.len(),
        count("available"),
        available_healthy,
        count("claimed"),
        count("terminated"),
        stale_after
    )];
    if runners.is_empty() {
        out.push("The runner_pool table is empty: no runner pod has registered.".into());
    }
    if !problems.is_empty() {
        out.push("Problems:".into());
        out.extend(problems.iter().map(|p| format!("  - {p}")));
    }
    let clock = runners.first().map(|r| Clock::from_db(&r.now_utc));
    if let Some(clock) = clock {
        out.push("Runners:".into());
        let cells: Vec<Vec<String>> = runners
            .iter()
            .map(|r| {
                let holds = match (r.claimed_by_step_id, r.run_id) {
                    (Some(step), Some(run)) => format!(
                        "step #{step} {} of run #{run} {} ({}), claimed {}",
                        r.step_name.as_deref().unwrap_or("?"),
                        fmt::workflow_name(r.workflow.as_deref(), None),
                        r.step_status.as_ref().map_or("?", Status::as_str),
                        clock.ago(r.claimed_at.as_deref())
                    ),
                    (Some(step), None) => format!("step #{step}"),
                    _ => String::new(),
                };
                vec![
                    r.status.as_str().to_uppercase(),
                    r.pod_name.clone(),
                    r.pod_ip.clone().unwrap_or_default(),
                    r.node_name.clone().unwrap_or_default(),
                    format!(
                        "{} (heartbeat {})",
                        health(r),
                        clock.ago(r.last_heartbeat.as_deref())
                    ),
                    holds,
                ]
            })
            .collect();
        out.extend(text::columns(&cells, "  "));
    }
    let result = RunnerPool {
        table_exists: true,
        stale_after_seconds: stale_after,
        available: count("available"),
        available_healthy,
        claimed: count("claimed"),
        terminated: count("terminated"),
        problems,
        runners: runners
            .iter()
            .map(|r| RunnerOut {
                id: r.id,
                pod_name: r.pod_name.clone(),
                pod_ip: r.pod_ip.clone(),
                node_name: r.node_name.clone(),
                status: r.status.clone(),
                health: health(r).into(),
                heartbeat_age_seconds: r.heartbeat_age_s,
                last_heartbeat: fmt::rfc3339(r.last_heartbeat.as_deref()),
                claimed_at: fmt::rfc3339(r.claimed_at.as_deref()),
                claimed_by_step_id: r.claimed_by_step_id,
                step_name: r.step_name.clone(),
                step_status: r.step_status.clone(),
                run_id: r.run_id,
                workflow: r.workflow.clone(),
            })
            .collect(),
    };
    Ok(Answer::new(out.join("\n"), result))
}

/// `terminated`, `healthy` (a heartbeat within `stale_after` seconds) or `stale`.
fn health(r: &Runner, stale_after: i64) -> &'static str {
    if r.status == "terminated" {
        "terminated"
    } else if r.heartbeat_age_s.is_some_and(|h| h <= stale_after as f64) {
        "healthy"
    } else {
        "stale"
    }
}

pub fn def() -> ToolDef {
    tool(
        "get_runner_pool",
        "Warm runner pods: status, heartbeat, held step, and problems.",
        get_runner_pool,
    )
    .title("Runner pool")
    .read_only()
}
