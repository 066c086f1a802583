//! `get_workflow_definition`: a workflow's triggers and step DAG, read from the
//! JSONB `plan` as the database returns it (already JSON: never parsed twice),
//! with each step's command or prompt in one line, and its recent runs.

use plue_plugin_sdk::prelude::*;

use super::{json_line, json_text};
use crate::args;
use crate::fmt::{self, Clock};
use crate::queries;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DefinitionArgs {
    /// `definition_id` in runs.
    #[serde(default)]
    pub workflow_id: Option<i64>,
    /// Part of the name; exact wins.
    #[serde(default)]
    pub workflow_name: Option<String>,
    /// `owner/name` or `name`, when ambiguous.
    #[serde(default)]
    pub repository: Option<String>,
}

// One step of the plan.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlanStep {
    // The plan's step id (`step_1`).
    pub id: String,
    pub name: String,
    // `shell`, `llm`, `agent` or `parallel`.
    pub step_type: String,
    pub depends_on: Vec<String>,
    // The command, prompt or sub-steps in one line.
    pub summary: String,
    // The step's configuration (the `data` object, unwrapped).
    pub config: Json,
}

// Another definition that matched.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OtherMatch {
    pub id: i64,
    pub name: String,
    pub repository: Option<String>,
}

/// What `get_workflow_definition` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkflowDefinition {
    pub id: i64,
    pub name: String,
    pub file_path: String,
    pub repository: Option<String>,
    pub image: Option<String>,
    pub dockerfile: Option<String>,
    pub content_hash: Option<String>,
    pub parsed_at: Option<String>,
    pub triggers: Option<Json>,
    pub steps: Vec<PlanStep>,
    // The plan as stored.
    pub plan: Option<Json>,
    pub runs_total: i64,
    // The newest runs (id, status, created_at).
    pub recent_runs: Option<Json>,
    pub other_matches: Vec<OtherMatch>,
}

pub fn get_workflow_definition(a: DefinitionArgs) -> Result<Answer<WorkflowDefinition>, ToolError> {
    let id = match a.workflow_id {
        Some(id) => args::id("workflow_id", id)?,
        None => 0,
    };
    let name = args::filter(&a.workflow_name);
    let repository = args::filter(&a.repository).unwrap_or_default();
    if id == 0 && name.is_none() {
        return Err(ToolError::invalid(
            "give `workflow_id` or `workflow_name` (list_workflow_runs and workflow_stats show the workflows)",
        ));
    }
    let pattern = name.map(fmt::like_pattern).unwrap_or_default();
    let found = queries::definitions(id, &pattern, name.unwrap_or(""), repository)?;
    let Some(d) = found.first() else {
        let mut what = Vec::new();
        if id > 0 {
            what.push(format!("id {id}"));
        }
        if let Some(n) = name {
            what.push(format!("a name containing {n:?}"));
        }
        if !repository.is_empty() {
            what.push(format!("repository {repository}"));
        }
        return Err(ToolError::failed(format!(
            "no workflow definition with {}; workflow_stats(hours=168) lists the workflows that ran (a deleted definition's runs remain with no definition)",
            what.join(" and ")
        )));
    };
    let clock = Clock::from_db(&d.now_utc);
    let steps = plan_steps(d.plan.as_ref());

    let mut out = vec![format!(
        "Workflow definition #{} {} ({})",
        d.id,
        d.name,
        d.repository.as_deref().unwrap_or("no repository")
    )];
    let image = match (&d.image, &d.dockerfile) {
        (Some(i), _) => format!("image {i}"),
        (None, Some(f)) => format!("built from {f}"),
        (None, None) => "default image".into(),
    };
    out.push(format!(
        "File: {} · {image} · content hash {} · parsed {}",
        d.file_path,
        d.content_hash
            .as_deref()
            .map(|h| h.chars().take(12).collect::<String>())
            .unwrap_or_else(|| "-".into()),
        clock.at(d.parsed_at.as_deref())
    ));
    out.push(format!("Triggers: {}", triggers_text(d.triggers.as_ref())));
    if steps.is_empty() {
        out.push(format!(
            "Plan: no steps ({})",
            d.plan.as_ref().map_or("none".into(), |p| json_line(p, 200))
        ));
    } else {
        out.push(format!("Steps ({}; ← depends on):", steps.len()));
        for s in &steps {
            let deps = if s.depends_on.is_empty() {
                String::new()
            } else {
                format!(" ← {}", s.depends_on.join(", "))
            };
            out.push(format!(
                "  {} {} [{}]{deps}: {}",
                s.id, s.name, s.step_type, s.summary
            ));
        }
    }
    out.push(format!(
        "Runs: {} in all{}",
        d.runs_total,
        recent_text(d.recent_runs.as_ref(), &clock)
    ));
    let others: Vec<OtherMatch> = found
        .iter()
        .skip(1)
        .map(|o| OtherMatch {
            id: o.id,
            name: o.name.clone(),
            repository: o.repository.clone(),
        })
        .collect();
    if !others.is_empty() {
        let list: Vec<String> = others
            .iter()
            .map(|o| {
                format!(
                    "#{} {} ({})",
                    o.id,
                    o.name,
                    o.repository.as_deref().unwrap_or("no repository")
                )
            })
            .collect();
        let more = if d.matches > found.len() as i64 {
            format!(" and {} more", d.matches - found.len() as i64)
        } else {
            String::new()
        };
        out.push(format!(
            "Other matches: {}{more}; pick one with workflow_id.",
            list.join(", ")
        ));
    }
    let result = WorkflowDefinition {
        id: d.id,
        name: d.name.clone(),
        file_path: d.file_path.clone(),
        repository: d.repository.clone(),
        image: d.image.clone(),
        dockerfile: d.dockerfile.clone(),
        content_hash: d.content_hash.clone(),
        parsed_at: fmt::rfc3339(d.parsed_at.as_deref()),
        triggers: d.triggers.clone(),
        steps,
        plan: d.plan.clone(),
        runs_total: d.runs_total,
        recent_runs: d.recent_runs.clone(),
        other_matches: others,
    };
    Ok(Answer::new(out.join("\n"), result))
}

/// `push (branches: ["main"]); pull_request`.
fn triggers_text(triggers: Option<&Json>) -> String {
    let Some(Json::Array(items)) = triggers else {
        return triggers.map_or("none".into(), |t| json_line(t, 200));
    };
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|t| {
            let kind = t.get("type").and_then(Json::as_str).unwrap_or("?");
            match t.get("config").and_then(Json::as_object) {
                Some(c) if !c.is_empty() => {
                    let cfg: Vec<String> = c
                        .iter()
                        .map(|(k, v)| format!("{k}: {}", json_line(v, 80)))
                        .collect();
                    format!("{kind} ({})", cfg.join(", "))
                }
                _ => kind.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The plan's steps, with each config unwrapped from `{"data": …}` when wrapped.
pub fn plan_steps(plan: Option<&Json>) -> Vec<PlanStep> {
    let Some(items) = plan.and_then(|p| p.get("steps")).and_then(Json::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|s| {
            let text = |k: &str| s.get(k).and_then(Json::as_str).unwrap_or("").to_string();
            let raw = s.get("config").cloned().unwrap_or(Json::Null);
            let config = match raw.get("data") {
                Some(data) if raw.as_object().is_some_and(|o| o.len() == 1) => data.clone(),
                _ => raw,
            };
            let step_type = text("type");
            PlanStep {
                id: text("id"),
                name: text("name"),
                summary: summary(&step_type, &config),
                step_type,
                depends_on: s
                    .get("depends_on")
                    .and_then(Json::as_array)
                    .map(|d| {
                        d.iter()
                            .filter_map(Json::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                config,
            }
        })
        .collect()
}

/// A step's configuration in one line.
fn summary(step_type: &str, config: &Json) -> String {
    let Some(c) = config.as_object() else {
        return json_line(config, 160);
    };
    let rest = |skip: &[&str]| {
        let extra: Vec<String> = c
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}: {}", json_text(v, 80)))
            .collect();
        if extra.is_empty() {
            String::new()
        } else {
            format!(" ({})", extra.join(", "))
        }
    };
    match step_type {
        "shell" => format!(
            "{}{}",
            c.get("cmd").and_then(Json::as_str).unwrap_or("(no cmd)"),
            rest(&["cmd", "name"])
        ),
        "llm" | "agent" => format!(
            "prompt {}{}",
            c.get("prompt_path")
                .and_then(Json::as_str)
                .unwrap_or("(none)"),
            rest(&["prompt_path"])
        ),
        "parallel" => format!(
            "runs in parallel: {}",
            c.get("step_ids").map_or("?".into(), |v| json_line(v, 120))
        ),
        _ => json_line(config, 160),
    }
}

/// `; newest: #14 pending 5m ago, #6 failed 25m ago`.
fn recent_text(recent: Option<&Json>, clock: &Clock) -> String {
    let Some(Json::Array(runs)) = recent else {
        return String::new();
    };
    if runs.is_empty() {
        return String::new();
    }
    let items: Vec<String> = runs
        .iter()
        .map(|r| {
            format!(
                "#{} {} {}",
                r.get("id").and_then(Json::as_i64).unwrap_or(0),
                r.get("status").and_then(Json::as_str).unwrap_or("?"),
                clock.ago(r.get("created_at").and_then(Json::as_str))
            )
        })
        .collect();
    format!("; newest: {}", items.join(", "))
}

pub fn def() -> ToolDef {
    tool(
        "get_workflow_definition",
        "A workflow's triggers, step DAG and recent runs.",
        get_workflow_definition,
    )
    .title("Workflow definition")
    .read_only()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_steps_unwrap_data_and_summarise() {
        let plan = json!({"steps": [
            {"id": "step_1", "name": "install", "type": "shell", "config": {"data": {"name": "install", "cmd": "npm ci", "cache": "node_modules"}}, "depends_on": []},
            {"id": "step_2", "name": "review", "type": "agent", "config": {"prompt_path": "p.md", "max_turns": 10}, "depends_on": ["step_1"]},
        ]});
        let steps = plan_steps(Some(&plan));
        assert_eq!(steps[0].summary, "npm ci (cache: node_modules)");
        assert_eq!(steps[1].summary, "prompt p.md (max_turns: 10)");
        assert_eq!(steps[1].depends_on, ["step_1"]);
        assert_eq!(
            triggers_text(Some(
                &json!([{"type": "push", "config": {"branches": ["main"]}}, {"type": "manual", "config": {}}])
            )),
            "push (branches: [\"main\"]); manual"
        );
    }
}
