//! `agent_logs`: what AI agents did: one session's lines in time order with its
//! model, tools and errors, or every session in the window and the latest activity.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, table};

use crate::context::{Ctx, oldest_first};
use crate::logql::{self, Level};
use crate::loki::{Direction, MAX_LIMIT};
use crate::render::{self, Budget, Item, LogLine, TEXT_BUDGET};
use crate::tools::{note, one_hour};
use crate::window::{WindowJson, rfc3339_ms};

/// Lines of activity shown under the session summary when no session is asked for.
const LATEST_LINES: usize = 50;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// Else every session is summarised.
    pub session_id: Option<String>,
    /// `30m` ago, RFC 3339 or Unix seconds.
    #[serde(default = "one_hour")]
    pub start: String,
    pub end: Option<String>,
    /// `api`, `label=value` or `all` (default).
    pub service: Option<String>,
    /// Lines to read.
    #[serde(default = "two_hundred")]
    #[schemars(range(min = 1, max = 5000))]
    pub limit: u32,
}

fn two_hundred() -> u32 {
    200
}

// One agent session, as its lines tell it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Session {
    pub session_id: String,
    pub lines: usize,
    pub errors: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    // Tools the session called, in the order first seen.
    pub tools: Vec<String>,
    pub services: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub last_message: String,
}

/// What `agent_logs` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Agents {
    // The LogQL sent.
    pub query: String,
    pub window: WindowJson,
    // Lines read.
    pub lines: usize,
    // Sessions seen, newest first (at most 100).
    pub sessions: Vec<Session>,
    // The lines shown, oldest first.
    pub entries: Vec<LogLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

const SESSION_KEYS: [&str; 4] = ["session_id", "sessionId", "session", "session.id"];

/// The tool.
pub fn run(args: Args) -> Result<Answer<Agents>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window(&args.start, args.end.as_deref())?;
    let selector = ctx.selector(args.service.as_deref())?;
    let limit = (args.limit as usize).clamp(1, MAX_LIMIT);
    let session = args
        .session_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let (query, direction) = match session {
        Some(id) => (logql::token(&selector, id), Direction::Forward),
        None => (logql::agent_activity(&selector), Direction::Backward),
    };
    let mut items = ctx.items(&query, &window, limit, direction)?;
    oldest_first(&mut items);
    let mut sessions = summarise(&items, session);
    sessions.reverse();

    let title = match session {
        Some(id) => format!("Agent session {id}"),
        None => "Agent activity".to_string(),
    };
    let mut text = format!(
        "{title}: {} in {}",
        text::count(items.len(), "line"),
        window.describe()
    );
    let mut notes = Vec::new();
    if sessions.is_empty() {
        text.push('.');
    } else {
        text.push_str(&format!(", {}.", text::count(sessions.len(), "session")));
        let rows: Vec<Vec<String>> = sessions
            .iter()
            .take(100)
            .map(|s| {
                vec![
                    s.session_id.clone(),
                    s.model.clone().unwrap_or_default(),
                    s.lines.to_string(),
                    s.errors.to_string(),
                    s.tools.join(", "),
                    s.first_seen.clone(),
                    s.last_seen.clone(),
                    s.last_message.clone(),
                ]
            })
            .collect();
        text.push_str("\n\n");
        text.push_str(&table(
            &[
                "session",
                "model",
                "lines",
                "errors",
                "tools",
                "first",
                "last",
                "last message",
            ],
            &rows,
            60,
        ));
        if let Some(n) = note(
            rows.len(),
            sessions.len(),
            "sessions",
            "pass a `session_id` or shorten the window",
        ) {
            notes.push(n);
        }
    }
    // One session: all its lines. Otherwise the latest activity.
    let from = if session.is_some() {
        0
    } else {
        items.len().saturating_sub(LATEST_LINES)
    };
    let mut lines = String::new();
    let mut budget = Budget::new(TEXT_BUDGET);
    for item in &items[from..] {
        budget.push(&mut lines, &render::block(item, 16));
    }
    if !lines.is_empty() {
        text.push_str(if session.is_some() {
            "\n\n"
        } else {
            "\n\nLatest activity, newest last:\n"
        });
        text.push_str(lines.trim_end());
    }
    if let Some(n) = note(
        budget.shown,
        items.len(),
        "lines",
        "pass a `session_id` or shorten the window",
    ) {
        notes.push(n);
    }
    if items.is_empty() {
        let what = match session {
            Some(id) => format!("No line holds `{id}` as a whole token."),
            None => "No agent, LLM, tool-call or session lines.".to_string(),
        };
        notes.push(
            format!(
                "{what} {}",
                ctx.empty_hint(args.service.as_deref(), &window)
            )
            .trim()
            .to_string(),
        );
    }
    if items.len() >= limit {
        notes.push(format!("Loki stopped at `limit` = {limit}; raise it (at most {MAX_LIMIT}) or narrow the window."));
    }
    let note_text = (!notes.is_empty()).then(|| notes.join(" "));
    if let Some(n) = &note_text {
        text.push_str(&format!("\n\n{n}"));
    }
    sessions.truncate(100);
    let out = Agents {
        query,
        window: window.json(),
        lines: items.len(),
        sessions,
        entries: items[from..]
            .iter()
            .take(budget.shown)
            .map(Item::json)
            .collect(),
        note: note_text,
    };
    Ok(Answer::new(text, out))
}

/// Sessions in the order of their first line; lines without a session field count
/// for `only` when it is set.
fn summarise(items: &[Item], only: Option<&str>) -> Vec<Session> {
    let mut sessions: Vec<Session> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for item in items {
        let field = SESSION_KEYS.iter().find_map(|k| item.parsed.field(k));
        let Some(id) = only.or(field) else { continue };
        let time = rfc3339_ms(item.entry.ts);
        let i = *index.entry(id.to_string()).or_insert_with(|| {
            sessions.push(Session {
                session_id: id.to_string(),
                lines: 0,
                errors: 0,
                model: None,
                tools: Vec::new(),
                services: Vec::new(),
                first_seen: time.clone(),
                last_seen: time.clone(),
                last_message: String::new(),
            });
            sessions.len() - 1
        });
        let s = &mut sessions[i];
        s.lines += 1;
        s.errors += usize::from(item.parsed.level == Some(Level::Error));
        if let Some(m) = item.parsed.field("model") {
            s.model = Some(m.to_string());
        }
        if let Some(t) = item
            .parsed
            .field("tool")
            .or_else(|| item.parsed.field("tool_name"))
            && !s.tools.iter().any(|x| x == t)
        {
            s.tools.push(t.to_string());
        }
        if !s.services.contains(&item.service) {
            s.services.push(item.service.clone());
        }
        s.last_seen = time;
        s.last_message = plue_plugin_sdk::text::truncate_chars(&item.parsed.message, 80).0;
    }
    sessions
}

pub fn def() -> ToolDef {
    tool(
        "agent_logs",
        "AI agent sessions: one by `session_id`, or all in the window.",
        run,
    )
    .title("Agent logs")
    .read_only()
    .open_world()
}
