//! `search_logs`: lines matching a service, a level and a substring (or the agent's
//! own LogQL), newest first.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::context::{Ctx, newest_first};
use crate::logql::{self, Level};
use crate::loki::{Direction, MAX_LIMIT, RangeAnswer};
use crate::render::{self, Budget, LogLine, TEXT_BUDGET};
use crate::tools::{note, one_hour, shown_query};
use crate::window::{WindowJson, rfc3339_ms};

/// A level to keep, or all.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LevelArg {
    Error,
    Warn,
    Info,
    Debug,
    #[default]
    All,
}

impl LevelArg {
    /// The level, `None` for all.
    pub fn level(self) -> Option<Level> {
        match self {
            LevelArg::Error => Some(Level::Error),
            LevelArg::Warn => Some(Level::Warn),
            LevelArg::Info => Some(Level::Info),
            LevelArg::Debug => Some(Level::Debug),
            LevelArg::All => None,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// Full LogQL; overrides `service`, `level`, `contains`.
    pub query: Option<String>,
    /// `api`, `label=value` or `all` (default).
    pub service: Option<String>,
    /// Recognised in JSON, logfmt and plain lines.
    #[serde(default)]
    pub level: LevelArg,
    /// Literal, case-sensitive.
    pub contains: Option<String>,
    /// `30m` ago, RFC 3339 or Unix seconds.
    #[serde(default = "one_hour")]
    pub start: String,
    pub end: Option<String>,
    #[serde(default = "hundred")]
    #[schemars(range(min = 1, max = 5000))]
    pub limit: u32,
}

fn hundred() -> u32 {
    100
}

// One series of a metric query.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SeriesOut {
    pub labels: BTreeMap<String, String>,
    pub last_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_value: Option<f64>,
    pub points: usize,
}

/// What `search_logs` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Found {
    // The LogQL sent.
    pub query: String,
    pub window: WindowJson,
    // Lines Loki returned (at most `limit`).
    pub returned: usize,
    // Lines matching in the whole window, when Loki stopped at `limit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matching: Option<usize>,
    // The lines, newest first.
    pub entries: Vec<LogLine>,
    // The series, for a metric query.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesOut>,
    // What was left out and how to narrow, or why nothing was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The tool.
pub fn run(args: Args) -> Result<Answer<Found>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window(&args.start, args.end.as_deref())?;
    let limit = (args.limit as usize).clamp(1, MAX_LIMIT);
    let verbatim = args
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    let query = match verbatim {
        Some(q) => q.to_string(),
        None => logql::search(
            &ctx.selector(args.service.as_deref())?,
            args.level.level(),
            args.contains.as_deref(),
        ),
    };
    let answer = ctx
        .loki
        .range(&query, &window, limit, Direction::Backward)?;
    let entries = match answer {
        RangeAnswer::Streams(entries) => entries,
        RangeAnswer::Matrix(series) => return Ok(metric(query, &window, series)),
    };
    let mut items = render::items(entries, &ctx.service_label);
    newest_first(&mut items);
    let returned = items.len();
    let matching = if returned >= limit {
        ctx.count(&query, &window)
    } else {
        None
    };

    let mut text = String::new();
    let mut budget = Budget::new(TEXT_BUDGET);
    for item in &items {
        budget.push(&mut text, &render::block(item, 12));
    }
    let total = matching.unwrap_or(returned).max(returned);
    let how = "add `contains` or `level`, pick a `service`, or shorten the window";
    let mut notes = Vec::new();
    if returned == 0 {
        if verbatim.is_none() {
            notes.push(ctx.empty_hint(args.service.as_deref(), &window));
        }
    } else if let Some(n) = note(budget.shown, total, "lines", how) {
        notes.push(n);
    }
    if returned >= limit && matching.is_none() {
        notes.push(format!("Loki stopped at `limit` = {limit}: older lines in the window were not read; raise `limit` (at most {MAX_LIMIT}) or narrow the window."));
    }
    let note_text = (!notes.is_empty()).then(|| notes.join(" "));
    let header = if returned == 0 {
        format!(
            "No lines matched in {}. LogQL: {}",
            window.describe(),
            shown_query(&query)
        )
    } else {
        format!(
            "{} in {}, newest first. LogQL: {}",
            text::count(total, "matching line"),
            window.describe(),
            shown_query(&query)
        )
    };
    let body = text::blocks([
        Some(header),
        (!text.is_empty()).then(|| text.trim_end().to_string()),
        note_text.clone(),
    ]);
    let found = Found {
        query,
        window: window.json(),
        returned,
        matching,
        entries: items.iter().take(budget.shown).map(|i| i.json()).collect(),
        series: Vec::new(),
        note: note_text,
    };
    Ok(Answer::new(body, found))
}

/// The answer to a metric query: each series with its last value, most recent first.
fn metric(
    query: String,
    window: &crate::window::Window,
    series: Vec<crate::loki::Series>,
) -> Answer<Found> {
    let total = series.len();
    let shown: Vec<SeriesOut> = series
        .into_iter()
        .map(|s| {
            let (t, v) = s.points.last().copied().unwrap_or((0.0, f64::NAN));
            SeriesOut {
                labels: s.labels,
                last_time: rfc3339_ms((t * 1e9) as i64),
                last_value: v.is_finite().then_some(v),
                points: s.points.len(),
            }
        })
        .take(200)
        .collect();
    let mut text = format!("{total} series in {}. LogQL: {query}\n", window.describe());
    for s in &shown {
        let labels: Vec<String> = s
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={}", logql::string(v)))
            .collect();
        text.push_str(&format!(
            "\n{{{}}}  last {} at {} ({} points)",
            labels.join(", "),
            s.last_value
                .map(|v| plue_plugin_sdk::time::trim_float(v, 3))
                .unwrap_or_else(|| "NaN".into()),
            s.last_time,
            s.points
        ));
    }
    let note = note(
        shown.len(),
        total,
        "series",
        "aggregate with `sum by (...)` or add label matchers",
    );
    if let Some(n) = &note {
        text.push_str(&format!("\n\n{n}"));
    }
    let found = Found {
        query,
        window: window.json(),
        returned: 0,
        matching: None,
        entries: Vec::new(),
        series: shown,
        note,
    };
    Answer::new(text, found)
}

pub fn def() -> ToolDef {
    tool(
        "search_logs",
        "Log lines by service, level and text, or your own LogQL; newest first.",
        run,
    )
    .title("Search logs")
    .read_only()
    .open_world()
}
