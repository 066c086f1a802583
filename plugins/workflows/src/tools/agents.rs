//! `recent_agent_activity`: LLM calls of a window with totals over the whole
//! window (not just the rows shown), usage per model, the agents' tool use
//! (calls and failing results, from the workflow logs) and the agent steps
//! running right now.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::args;
use crate::fmt::{self, Clock};
use crate::queries::{self, ToolUse};
use crate::status::Status;

/// LLM calls listed in the text (the structured content holds up to `limit`).
const TEXT_ROWS: usize = 20;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgentArgs {
    /// Default 1; fractions allowed.
    #[serde(default)]
    pub hours: Option<f64>,
    /// Default 50; totals cover the window.
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<i64>,
}

// An agent step running now.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunningAgentOut {
    pub step_id: i64,
    pub name: String,
    pub run_id: i64,
    pub workflow: Option<String>,
    pub running_seconds: Option<f64>,
    pub tool_calls: i64,
}

/// What `recent_agent_activity` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentActivity {
    pub hours: f64,
    // Over the whole window.
    pub calls: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub avg_latency_ms: Option<f64>,
    pub max_latency_ms: Option<i64>,
    // Per model: model, calls, tokens_in, tokens_out.
    pub by_model: Option<Json>,
    // Tool calls per tool of the window's agent steps and of agents running now.
    pub tool_use: Vec<ToolUse>,
    pub running_now: Vec<RunningAgentOut>,
    // The newest calls, at most `limit`.
    pub recent_calls: Vec<queries::Usage>,
}

pub fn recent_agent_activity(a: AgentArgs) -> Result<Answer<AgentActivity>, ToolError> {
    let hours = args::hours(a.hours, 1.0)?;
    let limit = args::limit("limit", a.limit, 50, 500)?;
    let totals = queries::usage_totals(hours)?;
    let rows = queries::usage_rows(hours, limit)?;
    let tools = queries::tool_use(hours)?;
    let running = queries::running_agents()?;
    let clock = Clock::from_db(&totals.now_utc);

    let mut out = vec![format!(
        "Agent activity, last {} (since {}; times UTC): {} LLM call(s) · {} in / {} out tokens{} — totals over the whole window",
        fmt::hours_text(hours),
        clock.window_start(hours),
        totals.calls,
        fmt::thousands(totals.tokens_in),
        fmt::thousands(totals.tokens_out),
        totals
            .avg_latency_ms
            .map(|ms| format!(
                " · mean latency {} (max {})",
                fmt::duration(Some(ms / 1000.0)),
                fmt::duration(totals.max_latency_ms.map(|m| m as f64 / 1000.0))
            ))
            .unwrap_or_default()
    )];
    out.extend(by_model(totals.by_model.as_ref()));
    if !tools.is_empty() {
        let items: Vec<String> = tools
            .iter()
            .map(|t| {
                let errors = if t.errors > 0 {
                    format!(", {} failed", t.errors)
                } else {
                    String::new()
                };
                format!("{} {} call(s){errors}", t.tool, t.calls)
            })
            .collect();
        out.push(format!(
            "Tool use (agent steps of the window and running now): {}",
            items.join(" · ")
        ));
    }
    for r in &running {
        out.push(format!(
            "Running now: step #{} {} ({}) of run #{} {}, running for {}, {} tool call(s) so far, no usage recorded until it ends",
            r.id,
            r.name,
            r.step_type,
            r.run_id,
            fmt::workflow_name(r.workflow.as_deref(), None),
            fmt::duration(r.running_s),
            r.tool_calls
        ));
    }
    if rows.is_empty() {
        out.push(format!(
            "No LLM calls in the last {}.",
            fmt::hours_text(hours)
        ));
    } else {
        let shown = rows.len().min(TEXT_ROWS);
        out.push(format!(
            "Calls ({shown} of {}, newest first):",
            totals.calls
        ));
        let cells: Vec<Vec<String>> = rows
            .iter()
            .take(shown)
            .map(|u| {
                let context = match (u.run_id, &u.step_name) {
                    (Some(run), Some(step)) => {
                        let turns = u
                            .turns_used
                            .map(|t| format!(", {t} turn{}", if t == 1 { "" } else { "s" }))
                            .unwrap_or_default();
                        format!(
                            "run #{run} {} → {step} ({}{turns})",
                            fmt::workflow_name(u.workflow.as_deref(), None),
                            u.step_status.as_ref().map_or("?", Status::as_str)
                        )
                    }
                    _ => "no step".into(),
                };
                vec![
                    format!(
                        "{} ({})",
                        fmt::utc(u.created_at.as_deref()).trim_end_matches(" UTC"),
                        clock.ago(u.created_at.as_deref())
                    ),
                    fmt::cut(u.prompt_name.as_deref().unwrap_or("-"), 48),
                    u.model.clone(),
                    format!(
                        "{}/{} tok",
                        fmt::thousands(u.input_tokens),
                        fmt::thousands(u.output_tokens)
                    ),
                    fmt::duration(Some(u.latency_ms as f64 / 1000.0)),
                    context,
                ]
            })
            .collect();
        out.extend(text::columns(&cells, "  "));
        if (totals.calls as usize) > shown {
            out.push(format!(
                "[{} older call(s) not listed; totals above include them. Narrow `hours` or see structured content (up to `limit`).]",
                totals.calls as usize - shown
            ));
        }
    }
    let result = AgentActivity {
        hours,
        calls: totals.calls,
        tokens_in: totals.tokens_in,
        tokens_out: totals.tokens_out,
        avg_latency_ms: totals.avg_latency_ms,
        max_latency_ms: totals.max_latency_ms,
        by_model: totals.by_model.clone(),
        tool_use: tools,
        running_now: running
            .iter()
            .map(|r| RunningAgentOut {
                step_id: r.id,
                name: r.name.clone(),
                run_id: r.run_id,
                workflow: r.workflow.clone(),
                running_seconds: r.running_s,
                tool_calls: r.tool_calls,
            })
            .collect(),
        recent_calls: rows,
    };
    Ok(Answer::new(out.join("\n"), result))
}

/// `By model: claude 12 call(s) (1,200 in / 300 out) · …`, when there are models.
fn by_model(models: Option<&Json>) -> Option<String> {
    let Some(Json::Array(models)) = models else {
        return None;
    };
    let items: Vec<String> = models
        .iter()
        .map(|m| {
            let n = |k: &str| m.get(k).and_then(Json::as_i64).unwrap_or(0);
            format!(
                "{} {} call(s) ({} in / {} out)",
                m.get("model").and_then(Json::as_str).unwrap_or("?"),
                n("calls"),
                fmt::thousands(n("tokens_in")),
                fmt::thousands(n("tokens_out"))
            )
        })
        .collect();
    (!items.is_empty()).then(|| format!("By model: {}", items.join(" · ")))
}

pub fn def() -> ToolDef {
    tool(
        "recent_agent_activity",
        "LLM and agent activity: tokens, latency, tool calls.",
        recent_agent_activity,
    )
    .title("Recent agent activity")
    .read_only()
}
