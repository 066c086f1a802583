//! `get_step_logs`: one step's logs, paged by row offset and log type, agent
//! tokens joined and tool JSON compact, saying how to fetch what it leaves out.

use plue_plugin_sdk::prelude::*;

use crate::args::{self, LogType};
use crate::fmt;
use crate::logs;
use crate::queries;
use crate::status::Status;
use crate::tools::exit_suffix;

/// Characters of log text one `get_step_logs` answer holds before it stops and
/// points at the next offset.
const STEP_BUDGET: usize = 12_000;
/// Characters of one entry (a joined agent text, a long line) in `get_step_logs`.
const ENTRY_CHARS: usize = 4_000;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct StepLogsArgs {
    /// `#id` in get_run_details.
    pub step_id: i64,
    /// `token` rows are joined into text.
    #[serde(default)]
    pub log_type: LogType,
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    #[schemars(extend("default" = 500))]
    pub limit: Option<i64>,
    /// Rows to skip (default 0).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub offset: Option<i64>,
}

/// What `get_step_logs` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepLogs {
    pub step_id: i64,
    pub run_id: Option<i64>,
    pub name: String,
    pub status: Status,
    pub log_type: LogType,
    // Rows of every type the step has.
    pub total_rows: i64,
    // Rows of `log_type`.
    pub matching_rows: i64,
    // Rows per log type.
    pub rows_by_type: Option<Json>,
    pub offset: i64,
    // Rows the lines below were made from.
    pub rows_shown: i64,
    // The offset to pass to read on, when rows are left.
    pub next_offset: Option<i64>,
    // The rows as display lines (tokens joined, tool JSON compact, long lines cut).
    pub lines: Vec<String>,
}

pub fn get_step_logs(a: StepLogsArgs) -> Result<Answer<StepLogs>, ToolError> {
    let id = args::id("step_id", a.step_id)?;
    let limit = args::limit("limit", a.limit, 500, 1000)?;
    let offset = a.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ToolError::invalid(format!(
            "`offset` must be 0 or more, got {offset}"
        )));
    }
    let kind = a.log_type.as_str();
    let step = queries::step_header(id, kind)?.ok_or_else(|| {
        ToolError::failed(format!(
            "no workflow step #{id} exists; get_run_details(run_id=…) lists a run's step ids"
        ))
    })?;
    let by_type = type_counts(step.by_type.as_ref());
    let title = format!(
        "Step #{} '{}' ({}, {}{}) of run #{} {}",
        step.id,
        step.name,
        step.step_type,
        step.status,
        exit_suffix(step.exit_code),
        step.run_id.map_or("?".into(), |r| r.to_string()),
        fmt::workflow_name(step.workflow.as_deref(), step.definition_id),
    );
    let mut result = StepLogs {
        step_id: step.id,
        run_id: step.run_id,
        name: step.name.clone(),
        status: step.status.clone(),
        log_type: a.log_type,
        total_rows: step.total_rows,
        matching_rows: step.matching_rows,
        rows_by_type: step.by_type.clone(),
        offset,
        rows_shown: 0,
        next_offset: None,
        lines: Vec::new(),
    };
    if step.matching_rows == 0 {
        let what = if a.log_type == LogType::All {
            "no log rows".to_string()
        } else {
            format!("no {kind} rows")
        };
        let has = if step.total_rows > 0 {
            format!(" (it has {by_type})")
        } else {
            String::new()
        };
        return Ok(Answer::new(format!("{title}: {what}{has}."), result));
    }
    if offset >= step.matching_rows {
        return Ok(Answer::new(
            format!(
                "{title}: offset {offset} is past the end; it has {} {} row(s) (offsets 0–{}).",
                step.matching_rows,
                kind,
                step.matching_rows - 1
            ),
            result,
        ));
    }

    let page = queries::step_logs(id, kind, offset, limit)?;
    let entries = logs::condense(&page.rows);
    let mut used = 0;
    let mut next_row = offset as usize;
    for e in &entries {
        let line = logs::render(e, ENTRY_CHARS);
        if used > 0 && used + line.len() > STEP_BUDGET {
            break;
        }
        used += line.len() + 1;
        result.lines.push(line);
        next_row = e.rows.end;
    }
    let shown_rows = next_row as i64 - offset;
    result.rows_shown = shown_rows;
    let end = offset + shown_rows;
    if end < step.matching_rows {
        result.next_offset = Some(end);
    }
    let filter = if a.log_type == LogType::All {
        String::new()
    } else {
        format!(" {kind}")
    };
    let mut out = vec![format!(
        "{title}: rows {}–{} of {}{filter} ({by_type}); agent tokens joined, tool JSON compact.",
        offset + 1,
        end,
        step.matching_rows
    )];
    out.extend(result.lines.iter().cloned());
    if let Some(next) = result.next_offset {
        let type_arg = if a.log_type == LogType::All {
            String::new()
        } else {
            format!(", log_type=\"{kind}\"")
        };
        out.push(format!(
            "[{} more row(s): get_step_logs(step_id={id}, offset={next}{type_arg})]",
            step.matching_rows - next
        ));
    }
    if step.status == Status::Failed
        && let Some(run) = step.run_id
    {
        out.push(format!(
            "For just the decisive lines: quick_debug(run_id={run})."
        ));
    }
    let mut answer = Answer::new(out.join("\n"), result).with_link(
        crate::resources::step_log_link(id, &format!("log tail of step '{}'", step.name)),
    );
    if let Some(run) = step.run_id {
        answer = answer.with_link(crate::resources::run_link(run, "the step's run"));
    }
    Ok(answer)
}

/// `stdout 255, stderr 3` from `{"stdout": 255, "stderr": 3}`.
fn type_counts(by_type: Option<&Json>) -> String {
    let Some(Json::Object(map)) = by_type else {
        return "no rows".into();
    };
    let order = ["stdout", "stderr", "token", "tool_call", "tool_result"];
    let mut items: Vec<(&String, &Json)> = map.iter().collect();
    items.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
    items
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn def() -> ToolDef {
    tool(
        "get_step_logs",
        "One step's logs, paged by `offset`.",
        get_step_logs,
    )
    .title("Step logs")
    .read_only()
}
