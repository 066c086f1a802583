//! `workflow_logs`: the lines of one workflow run (`run_id=42` in logfmt,
//! `"run_id":42` or `"workflow_run_id":42` in JSON; never run 420), the runs of a
//! workflow by name, or a summary of every run in the window.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, table};
use plue_plugin_sdk::time::human_duration;
use regex::Regex;

use crate::context::{Ctx, oldest_first};
use crate::logql::{self, Level};
use crate::loki::{Direction, MAX_LIMIT};
use crate::render::{self, Budget, Item, LogLine, TEXT_BUDGET};
use crate::tools::{note, one_hour};
use crate::window::{Window, WindowJson, rfc3339_ms};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    pub run_id: Option<i64>,
    /// Its `workflow` or `workflow_name` field.
    pub workflow_name: Option<String>,
    /// `30m` ago, RFC 3339 or Unix seconds.
    #[serde(default = "one_hour")]
    pub start: String,
    pub end: Option<String>,
    /// Lines to read.
    #[serde(default = "five_hundred")]
    #[schemars(range(min = 1, max = 5000))]
    pub limit: u32,
}

fn five_hundred() -> u32 {
    500
}

// One workflow run, as its lines tell it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Run {
    pub run_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    // The last non-numeric `status` a line of the run gave (`success`, `failure`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub lines: usize,
    pub errors: usize,
    pub services: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub last_message: String,
}

/// What `workflow_logs` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Workflows {
    // The LogQL sent, in order.
    pub queries: Vec<String>,
    pub window: WindowJson,
    // Runs seen, newest first (at most 100).
    pub runs: Vec<Run>,
    // The lines, oldest first (for one run or one workflow; empty for the summary of all runs).
    pub entries: Vec<LogLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The tool.
pub fn run(args: Args) -> Result<Answer<Workflows>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window(&args.start, args.end.as_deref())?;
    let selector = ctx.selector(None)?;
    let limit = (args.limit as usize).clamp(1, MAX_LIMIT);
    let name = args
        .workflow_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let mut queries = Vec::new();
    let mut notes = Vec::new();

    let (title, mut items, show_lines) = if let Some(id) = args.run_id {
        let q = logql::workflow_runs(&selector, &[id]);
        let items = ctx.items(&q, &window, limit, Direction::Forward)?;
        queries.push(q);
        (format!("Workflow run {id}"), items, true)
    } else if let Some(name) = name {
        let q = logql::workflow_name(&selector, name);
        let named = ctx.items(&q, &window, limit, Direction::Backward)?;
        queries.push(q);
        let mut ids: Vec<i64> = named.iter().filter_map(run_id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            (format!("Workflow `{name}`"), named, true)
        } else {
            let q = logql::workflow_runs(&selector, &ids);
            let items = ctx.items(&q, &window, limit, Direction::Forward)?;
            queries.push(q);
            (format!("Workflow `{name}`"), items, true)
        }
    } else {
        let q = logql::workflow_runs(&selector, &[]);
        let items = ctx.items(&q, &window, limit, Direction::Backward)?;
        queries.push(q);
        ("All workflow runs".to_string(), items, false)
    };
    oldest_first(&mut items);
    let read = items.len();
    let mut runs = summarise(&items, args.run_id);
    runs.reverse();

    let mut text = format!(
        "{title}: {} in {}",
        text::count(items.len(), "line"),
        window.describe()
    );
    if runs.is_empty() {
        text.push('.');
    } else if let (Some(_), [r]) = (args.run_id, runs.as_slice()) {
        let facts = [
            r.workflow.as_ref().map(|w| format!("workflow {w}")),
            r.status.as_ref().map(|s| format!("status {s}")),
            Some(text::count(r.errors, "error")),
            Some(format!("started {}, lasted {}", r.first_seen, span(r))),
            Some(format!("services {}", r.services.join(", "))),
        ];
        let facts: Vec<String> = facts.into_iter().flatten().collect();
        text.push_str(&format!("; {}.", facts.join(", ")));
    } else {
        text.push_str(&format!(", {}.", text::count(runs.len(), "run")));
        let rows: Vec<Vec<String>> = runs
            .iter()
            .take(100)
            .map(|r| {
                vec![
                    r.run_id.to_string(),
                    r.workflow.clone().unwrap_or_default(),
                    r.status.clone().unwrap_or_default(),
                    r.lines.to_string(),
                    r.errors.to_string(),
                    r.first_seen.clone(),
                    span(r),
                    r.services.join(", "),
                    r.last_message.clone(),
                ]
            })
            .collect();
        text.push_str("\n\n");
        text.push_str(&table(
            &[
                "run",
                "workflow",
                "status",
                "lines",
                "errors",
                "started",
                "lasted",
                "services",
                "last message",
            ],
            &rows,
            60,
        ));
        if let Some(n) = note(
            rows.len(),
            runs.len(),
            "runs",
            "pass `workflow_name` or shorten the window",
        ) {
            notes.push(n);
        }
    }
    let mut shown = 0;
    if show_lines && !items.is_empty() {
        let mut lines = String::new();
        let mut budget = Budget::new(TEXT_BUDGET);
        for item in &items {
            budget.push(&mut lines, &render::block(item, 12));
        }
        shown = budget.shown;
        text.push_str("\n\n");
        text.push_str(lines.trim_end());
        if let Some(n) = note(
            budget.shown,
            items.len(),
            "lines",
            "pass one `run_id` or shorten the window",
        ) {
            notes.push(n);
        }
    } else if !show_lines && !runs.is_empty() {
        notes.push("Pass `run_id` to see a run's lines.".into());
    }
    if items.is_empty() {
        notes.push(empty(&ctx, &window, args.run_id, name));
    }
    if read >= limit {
        notes.push(format!("Loki stopped at `limit` = {limit}; raise it (at most {MAX_LIMIT}) or narrow the window."));
    }
    let note_text = (!notes.is_empty()).then(|| notes.join(" "));
    if let Some(n) = &note_text {
        text.push_str(&format!("\n\n{n}"));
    }
    runs.truncate(100);
    let out = Workflows {
        queries,
        window: window.json(),
        runs,
        entries: if show_lines {
            items.iter().take(shown).map(Item::json).collect()
        } else {
            Vec::new()
        },
        note: note_text,
    };
    Ok(Answer::new(text, out))
}

fn empty(ctx: &Ctx, window: &Window, run_id: Option<i64>, name: Option<&str>) -> String {
    let what = match (run_id, name) {
        (Some(id), _) => format!("No line mentions run {id} (`run_id=` or `\"run_id\":`)"),
        (None, Some(n)) => format!("No line has `workflow={n}` or `\"workflow\":\"{n}\"`"),
        _ => "No line mentions a workflow run".into(),
    };
    format!(
        "{what} in {}. {}",
        window.describe(),
        ctx.empty_hint(None, window)
    )
    .trim()
    .to_string()
}

/// The run a line belongs to: a `run_id` or `*_run_id` field, else `run_id=N` in the text.
pub fn run_id(item: &Item) -> Option<i64> {
    static TEXT: OnceLock<Regex> = OnceLock::new();
    let field = item
        .parsed
        .fields
        .iter()
        .find(|(k, _)| k == "run_id" || k.ends_with("_run_id") || k.ends_with(".run_id"))
        .and_then(|(_, v)| v.trim().parse().ok());
    field.or_else(|| {
        let re = TEXT
            .get_or_init(|| Regex::new(r#"run_id"?\s*[=:]\s*"?(\d+)\b"#).expect("static pattern"));
        re.captures(&item.entry.line)?[1].parse().ok()
    })
}

/// Runs in the order of their first line (items are oldest first); only `only` if set.
fn summarise(items: &[Item], only: Option<i64>) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut index: BTreeMap<i64, usize> = BTreeMap::new();
    for item in items {
        let Some(id) = run_id(item) else { continue };
        if only.is_some_and(|o| o != id) {
            continue;
        }
        let time = rfc3339_ms(item.entry.ts);
        let i = *index.entry(id).or_insert_with(|| {
            runs.push(Run {
                run_id: id,
                workflow: None,
                status: None,
                lines: 0,
                errors: 0,
                services: Vec::new(),
                first_seen: time.clone(),
                last_seen: time.clone(),
                last_message: String::new(),
            });
            runs.len() - 1
        });
        let run = &mut runs[i];
        run.lines += 1;
        run.errors += usize::from(item.parsed.level == Some(Level::Error));
        if !run.services.contains(&item.service) {
            run.services.push(item.service.clone());
        }
        if let Some(w) = item
            .parsed
            .field("workflow")
            .or_else(|| item.parsed.field("workflow_name"))
        {
            run.workflow = Some(w.to_string());
        }
        if let Some(s) = item
            .parsed
            .field("status")
            .filter(|s| s.parse::<f64>().is_err())
        {
            run.status = Some(s.to_string());
        }
        run.last_seen = time;
        run.last_message = plue_plugin_sdk::text::truncate_chars(&item.parsed.message, 80).0;
    }
    runs
}

fn span(run: &Run) -> String {
    if run.lines < 2 {
        return "-".into();
    }
    let parse = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.timestamp_millis())
            .unwrap_or(0)
    };
    human_duration((parse(&run.last_seen) - parse(&run.first_seen)) as f64 / 1000.0)
}

pub fn def() -> ToolDef {
    tool(
        "workflow_logs",
        "Workflow run logs: one run, a workflow's runs, or all runs summarised.",
        run,
    )
    .title("Workflow logs")
    .read_only()
    .open_world()
}
