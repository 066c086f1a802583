//! `find_errors`: error lines of every shape, grouped by their normalised message,
//! counted per service, most frequent first, with the latest example of each.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::context::{Ctx, newest_first};
use crate::logql;
use crate::loki::{Direction, MAX_LIMIT};
use crate::normalize::normalize;
use crate::render::{self, Budget, Item, LogLine, TEXT_BUDGET};
use crate::tools::{counts, note, one_hour};
use crate::window::{WindowJson, rfc3339_ms};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// `30m` ago, RFC 3339 or Unix seconds.
    #[serde(default = "one_hour")]
    pub start: String,
    pub end: Option<String>,
    /// `api`, `label=value` or `all` (default).
    pub service: Option<String>,
    /// Error lines to read.
    #[serde(default = "five_hundred")]
    #[schemars(range(min = 1, max = 5000))]
    pub limit: u32,
    #[serde(default = "twenty")]
    #[schemars(range(min = 1, max = 100))]
    pub groups: u32,
}

fn five_hundred() -> u32 {
    500
}

fn twenty() -> u32 {
    20
}

// Errors with the same normalised message.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorGroup {
    // The message with numbers, ids, hex and quoted values replaced (`<N>`, `<UUID>`, `<HEX>`, `<Q>`).
    pub message: String,
    pub count: usize,
    // Occurrences per service.
    pub services: BTreeMap<String, usize>,
    pub first_seen: String,
    pub last_seen: String,
    // The latest occurrence.
    pub example: LogLine,
}

/// What `find_errors` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Errors {
    // The LogQL sent.
    pub query: String,
    pub window: WindowJson,
    // Error lines read (at most `limit`).
    pub error_lines: usize,
    // Error lines in the whole window, when there were more than `limit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matching: Option<usize>,
    // Error lines read, per service.
    pub by_service: BTreeMap<String, usize>,
    // Most frequent first.
    pub groups: Vec<ErrorGroup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

struct Group<'a> {
    key: String,
    items: Vec<&'a Item>,
}

/// The tool.
pub fn run(args: Args) -> Result<Answer<Errors>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window(&args.start, args.end.as_deref())?;
    let query = logql::errors(&ctx.selector(args.service.as_deref())?);
    let limit = (args.limit as usize).clamp(1, MAX_LIMIT);
    let (mut items, returned, unjoined) =
        ctx.joined_items(&query, &window, limit, Direction::Backward)?;
    newest_first(&mut items);
    let matching = if returned >= limit {
        ctx.count(&query, &window)
    } else {
        None
    };

    // Group (items are newest first, so each group's first item is its latest).
    let mut groups: Vec<Group> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for item in &items {
        let key = normalize(&item.parsed.message);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(Group {
                key,
                items: Vec::new(),
            });
            groups.len() - 1
        });
        groups[i].items.push(item);
    }
    groups.sort_by(|a, b| {
        b.items
            .len()
            .cmp(&a.items.len())
            .then_with(|| b.items[0].entry.ts.cmp(&a.items[0].entry.ts))
    });

    let mut by_service: BTreeMap<String, usize> = BTreeMap::new();
    for item in &items {
        *by_service.entry(item.service.clone()).or_default() += 1;
    }
    let max_groups = (args.groups as usize).clamp(1, 100);
    let mut text = String::new();
    let mut budget = Budget::new(TEXT_BUDGET);
    let mut out_groups = Vec::new();
    for (rank, g) in groups.iter().take(max_groups).enumerate() {
        let mut services: BTreeMap<String, usize> = BTreeMap::new();
        for item in &g.items {
            *services.entry(item.service.clone()).or_default() += 1;
        }
        let latest = g.items[0];
        let first = g.items[g.items.len() - 1];
        let block = format!(
            "{}. {}× {}\n   {} · first {} · last {}\n   e.g. {}",
            rank + 1,
            g.items.len(),
            g.key,
            counts(&services),
            rfc3339_ms(first.entry.ts),
            rfc3339_ms(latest.entry.ts),
            render::headline(latest)
        );
        if !budget.push(&mut text, &block) {
            break;
        }
        out_groups.push(ErrorGroup {
            message: g.key.clone(),
            count: g.items.len(),
            services,
            first_seen: rfc3339_ms(first.entry.ts),
            last_seen: rfc3339_ms(latest.entry.ts),
            example: latest.json(),
        });
    }

    let mut notes = Vec::new();
    if items.is_empty() {
        notes.push(
            format!(
                "No error lines. {}",
                ctx.empty_hint(args.service.as_deref(), &window)
            )
            .trim()
            .to_string(),
        );
    }
    if let Some(n) = note(
        out_groups.len(),
        groups.len(),
        "kinds of error",
        "pick a `service` or shorten the window",
    ) {
        notes.push(n);
    }
    if let Some(total) = matching.filter(|t| *t > returned) {
        notes.push(format!(
            "Grouped the newest {returned} of {total} error lines; raise `limit` (at most {MAX_LIMIT}) or narrow the window to group them all."
        ));
    }
    notes.extend(unjoined);
    let note_text = (!notes.is_empty()).then(|| notes.join(" "));
    let mut header = format!(
        "{} in {}, {}.",
        text::count(items.len(), "error line"),
        window.describe(),
        text::count(groups.len(), "kind")
    );
    if !by_service.is_empty() {
        header.push_str(&format!(" By service: {}.", counts(&by_service)));
    }
    let body = text::blocks([
        Some(header),
        (!text.is_empty()).then(|| text.trim_end().to_string()),
        note_text.clone(),
    ]);
    let errors = Errors {
        query,
        window: window.json(),
        error_lines: items.len(),
        matching,
        by_service,
        groups: out_groups,
        note: note_text,
    };
    Ok(Answer::new(body, errors))
}

pub fn def() -> ToolDef {
    tool(
        "find_errors",
        "Error lines grouped by message, most frequent first.",
        run,
    )
    .title("Find errors")
    .read_only()
    .open_world()
}
