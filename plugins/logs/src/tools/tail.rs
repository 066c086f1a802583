//! `tail_logs`: the newest lines, newest last, optionally following new ones for a
//! few seconds by polling Loki once a second (bounded in time and in lines).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::context::{Ctx, oldest_first};
use crate::logql;
use crate::loki::Direction;
use crate::render::{self, Budget, Item, LogLine, TEXT_BUDGET};
use crate::tools::{note, shown_query};
use crate::window::{Window, WindowJson};

/// The longest follow.
pub const MAX_FOLLOW_SECONDS: u32 = 10;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// `api`, `label=value` or `all` (default).
    pub service: Option<String>,
    #[serde(default = "fifty")]
    #[schemars(range(min = 1, max = 1000))]
    pub lines: u32,
    /// Literal, case-sensitive.
    pub contains: Option<String>,
    /// `5m` (default), RFC 3339, Unix seconds.
    #[serde(default = "five_minutes")]
    pub start: String,
    #[serde(default)]
    #[schemars(range(min = 0, max = 10))]
    pub follow_seconds: u32,
}

fn fifty() -> u32 {
    50
}

fn five_minutes() -> String {
    "5m".into()
}

/// What `tail_logs` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Tail {
    // The LogQL sent.
    pub query: String,
    pub window: WindowJson,
    // The lines, oldest first (newest last), followed lines included.
    pub entries: Vec<LogLine>,
    /// Seconds spent following (0 when not asked).
    pub followed_seconds: u32,
    // Lines that arrived while following.
    pub new_lines: usize,
    // What was left out, or why nothing was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The tool.
pub fn run(args: Args) -> Result<Answer<Tail>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window(&args.start, None)?;
    let query = logql::search(
        &ctx.selector(args.service.as_deref())?,
        None,
        args.contains.as_deref(),
    );
    let lines = (args.lines as usize).clamp(1, 1000);
    let mut items = ctx.items(&query, &window, lines, Direction::Backward)?;
    oldest_first(&mut items);
    let initial = items.len();

    let follow = args.follow_seconds.min(MAX_FOLLOW_SECONDS);
    let mut new_lines = 0;
    if follow > 0 {
        new_lines = follow_for(
            &ctx,
            &query,
            &mut items,
            lines,
            Duration::from_secs(u64::from(follow)),
        )?;
    }

    let mut text = String::new();
    let mut budget = Budget::new(TEXT_BUDGET);
    // Keep the newest: drop from the front what does not fit.
    let mut start_at = 0;
    let mut size: usize = items
        .iter()
        .map(|i| render::block(i, 8).chars().count() + 1)
        .sum();
    while size > TEXT_BUDGET && start_at + 1 < items.len() {
        size -= render::block(&items[start_at], 8).chars().count() + 1;
        start_at += 1;
    }
    for item in &items[start_at..] {
        budget.push(&mut text, &render::block(item, 8));
    }
    let mut notes = Vec::new();
    if items.is_empty() {
        notes.push(format!(
            "No lines in {}. {}",
            window.describe(),
            ctx.empty_hint(args.service.as_deref(), &window)
        ));
    } else if let Some(n) = note(
        items.len() - start_at,
        items.len(),
        "lines",
        "ask for fewer `lines`, or pick a `service`",
    ) {
        notes.push(format!("{n} (the oldest were left out)"));
    }
    let header = format!(
        "{} of {}, newest last{}. LogQL: {}",
        text::count(initial, "line"),
        window.describe(),
        if follow > 0 {
            format!(
                "; followed for {follow} s: {}",
                text::count(new_lines, "new line")
            )
        } else {
            String::new()
        },
        shown_query(&query)
    );
    let note_text = (!notes.is_empty()).then(|| notes.join(" ").trim().to_string());
    let body = text::blocks([
        Some(header),
        (!text.is_empty()).then(|| text.trim_end().to_string()),
        note_text.clone(),
    ]);
    let tail = Tail {
        query,
        window: window.json(),
        entries: items[start_at..].iter().map(Item::json).collect(),
        followed_seconds: follow,
        new_lines,
        note: note_text,
    };
    Ok(Answer::new(body, tail))
}

/// Poll once a second for `how_long`, appending lines newer than the newest seen
/// (at most `max_new`); returns how many arrived.
fn follow_for(
    ctx: &Ctx,
    query: &str,
    items: &mut Vec<Item>,
    max_new: usize,
    how_long: Duration,
) -> Result<usize, ToolError> {
    let started = Instant::now();
    let mut seen: HashSet<(i64, String, String)> = items
        .iter()
        .map(|i| {
            (
                i.entry.ts,
                format!("{:?}", i.entry.labels),
                i.entry.line.clone(),
            )
        })
        .collect();
    let mut since = items.last().map(|i| i.entry.ts).unwrap_or(ctx.now_ns);
    let mut added = 0;
    while started.elapsed() < how_long && added < max_new {
        std::thread::sleep(Duration::from_secs(1).min(how_long.saturating_sub(started.elapsed())));
        let now = plue_plugin_sdk::time::now_nanos();
        if now <= since {
            continue;
        }
        let window = Window::between(since, now + 1);
        let mut fresh = ctx.items(query, &window, max_new - added, Direction::Forward)?;
        oldest_first(&mut fresh);
        for item in fresh {
            let key = (
                item.entry.ts,
                format!("{:?}", item.entry.labels),
                item.entry.line.clone(),
            );
            if seen.insert(key) {
                since = since.max(item.entry.ts);
                items.push(item);
                added += 1;
            }
        }
    }
    Ok(added)
}

pub fn def() -> ToolDef {
    tool(
        "tail_logs",
        "The newest log lines; `follow_seconds` keeps polling.",
        run,
    )
    .title("Tail logs")
    .read_only()
    .open_world()
}
