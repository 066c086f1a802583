//! `trace_request`: one request id followed through every service, all streams
//! merged in time order, the services it touched listed first.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::context::{Ctx, oldest_first};
use crate::logql::{self, Level};
use crate::loki::{Direction, MAX_LIMIT};
use crate::render::{self, Budget, Item, LogLine, TEXT_BUDGET};
use crate::tools::note;
use crate::window::{WindowJson, rfc3339_ms};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// Any id, matched as a whole token.
    pub request_id: String,
    /// Default `24h` ago.
    #[serde(default = "day")]
    pub start: String,
    pub end: Option<String>,
    /// Lines to read.
    #[serde(default = "five_hundred")]
    #[schemars(range(min = 1, max = 5000))]
    pub limit: u32,
}

fn day() -> String {
    "24h".into()
}

fn five_hundred() -> u32 {
    500
}

// One service a request touched.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Touched {
    pub service: String,
    pub lines: usize,
    pub errors: usize,
    pub first_seen: String,
    pub last_seen: String,
}

/// What `trace_request` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Traced {
    pub request_id: String,
    // The LogQL sent.
    pub query: String,
    pub window: WindowJson,
    // Lines found.
    pub lines: usize,
    // Services in the order the request reached them.
    pub services: Vec<Touched>,
    /// Seconds from the first line to the last.
    pub span_seconds: f64,
    // All lines, oldest first, every stream merged.
    pub entries: Vec<LogLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The tool.
pub fn run(args: Args) -> Result<Answer<Traced>, ToolError> {
    let id = args.request_id.trim();
    if id.is_empty() {
        return Err(ToolError::invalid("request_id is required"));
    }
    let ctx = Ctx::from_settings();
    let window = ctx.window(&args.start, args.end.as_deref())?;
    let query = logql::token(&ctx.selector(None)?, id);
    let limit = (args.limit as usize).clamp(1, MAX_LIMIT);
    let mut items = ctx.items(&query, &window, limit, Direction::Forward)?;
    oldest_first(&mut items);

    let mut services: Vec<Touched> = Vec::new();
    for item in &items {
        let time = rfc3339_ms(item.entry.ts);
        let error = usize::from(item.parsed.level == Some(Level::Error));
        match services.iter_mut().find(|s| s.service == item.service) {
            Some(s) => {
                s.lines += 1;
                s.errors += error;
                s.last_seen = time;
            }
            None => services.push(Touched {
                service: item.service.clone(),
                lines: 1,
                errors: error,
                first_seen: time.clone(),
                last_seen: time,
            }),
        }
    }
    let span = match (items.first(), items.last()) {
        (Some(a), Some(b)) => (b.entry.ts - a.entry.ts) as f64 / 1e9,
        _ => 0.0,
    };
    let errors: usize = services.iter().map(|s| s.errors).sum();

    let mut header = format!("Request {id}: {}", text::count(items.len(), "line"));
    if let (Some(first), Some(last)) = (items.first(), items.last()) {
        header.push_str(&format!(
            " across {}, {} to {} ({}); {}.\nServices touched, in order: {}",
            text::count(services.len(), "service"),
            rfc3339_ms(first.entry.ts),
            rfc3339_ms(last.entry.ts),
            plue_plugin_sdk::time::human_duration(span),
            text::count(errors, "error"),
            services
                .iter()
                .map(|s| format!("{} ({})", s.service, s.lines))
                .collect::<Vec<_>>()
                .join(" → ")
        ));
    } else {
        header.push_str(&format!(" in {}.", window.describe()));
    }
    let mut text = String::new();
    let mut budget = Budget::new(TEXT_BUDGET);
    for item in &items {
        budget.push(&mut text, &render::block(item, 12));
    }
    let mut notes = Vec::new();
    if items.is_empty() {
        notes.push(format!(
            "No line holds `{id}` as a whole token; check the id, or widen `start` (the default looks back 24h)."
        ));
    }
    if let Some(n) = note(
        budget.shown,
        items.len(),
        "lines",
        "shorten the window around the request",
    ) {
        notes.push(n);
    }
    if items.len() >= limit {
        notes.push(format!("Loki stopped at `limit` = {limit}: later lines were not read; raise `limit` or set `start` later."));
    }
    let note_text = (!notes.is_empty()).then(|| notes.join(" "));
    let body = text::blocks([
        Some(header),
        (!text.is_empty()).then(|| text.trim_end().to_string()),
        note_text.clone(),
    ]);
    let traced = Traced {
        request_id: id.to_string(),
        query,
        window: window.json(),
        lines: items.len(),
        services,
        span_seconds: span,
        entries: items.iter().take(budget.shown).map(Item::json).collect(),
        note: note_text,
    };
    Ok(Answer::new(body, traced))
}

pub fn def() -> ToolDef {
    tool(
        "trace_request",
        "One request id across services, in time order.",
        run,
    )
    .title("Trace a request")
    .read_only()
    .open_world()
}
