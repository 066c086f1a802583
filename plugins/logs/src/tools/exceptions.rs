//! `search_exceptions`: stack traces and panics, whole, grouped by language and by
//! exception type, most frequent first.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::context::{Ctx, newest_first};
use crate::logql::{self, Language};
use crate::loki::{Direction, MAX_LIMIT};
use crate::render::{Budget, Item, TEXT_BUDGET};
use crate::tools::{counts, note};
use crate::window::{WindowJson, rfc3339_ms};

/// Lines of one trace shown in the text answer.
const TRACE_LINES: usize = 40;

/// Exception types listed in the text answer's summary.
const SUMMARY_TYPES: usize = 50;

/// A language to look for, or all.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LanguageArg {
    Zig,
    /// TypeScript and JavaScript (V8 stack frames).
    Typescript,
    Python,
    Rust,
    #[default]
    All,
}

impl LanguageArg {
    fn language(self) -> Option<Language> {
        match self {
            LanguageArg::Zig => Some(Language::Zig),
            LanguageArg::Typescript => Some(Language::Typescript),
            LanguageArg::Python => Some(Language::Python),
            LanguageArg::Rust => Some(Language::Rust),
            LanguageArg::All => None,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// Default `6h` ago.
    #[serde(default = "six_hours")]
    pub start: String,
    pub end: Option<String>,
    #[serde(default)]
    pub language: LanguageArg,
    /// `api`, `label=value` or `all` (default).
    pub service: Option<String>,
    /// Entries to read.
    #[serde(default = "hundred")]
    #[schemars(range(min = 1, max = 5000))]
    pub limit: u32,
}

fn six_hours() -> String {
    "6h".into()
}

fn hundred() -> u32 {
    100
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Occurrence {
    pub time: String,
    pub service: String,
    // The whole trace (cut at 3000 characters): the entry, or the field of a JSON line holding it.
    pub trace: String,
}

// Traces of one exception type.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExceptionGroup {
    // Such as `KeyError`, `TypeError`, `error.FileNotFound`, `panic: index out of bounds`.
    pub exception: String,
    pub count: usize,
    pub services: BTreeMap<String, usize>,
    // The line saying what went wrong, in the latest trace.
    pub summary: String,
    pub first_seen: String,
    pub last_seen: String,
    // The latest occurrence, whole.
    pub latest: Occurrence,
}

// Traces of one language.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LanguageGroup {
    // `python`, `rust`, `typescript` or `zig`.
    pub language: String,
    pub count: usize,
    // Most frequent first.
    pub exceptions: Vec<ExceptionGroup>,
}

/// What `search_exceptions` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Exceptions {
    // The LogQL sent.
    pub query: String,
    pub window: WindowJson,
    // Traces found (at most `limit`).
    pub traces: usize,
    // Most traces first (at most 50 exception types in all).
    pub languages: Vec<LanguageGroup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The tool.
pub fn run(args: Args) -> Result<Answer<Exceptions>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window(&args.start, args.end.as_deref())?;
    let wanted = args.language.language();
    let query = logql::exceptions(&ctx.selector(args.service.as_deref())?, wanted);
    let limit = (args.limit as usize).clamp(1, MAX_LIMIT);
    let (mut items, returned, unjoined) =
        ctx.joined_items(&query, &window, limit, Direction::Backward)?;
    newest_first(&mut items);
    items.retain(|i| {
        i.parsed
            .trace
            .as_ref()
            .is_some_and(|t| wanted.is_none_or(|w| w == t.language))
    });

    // language -> exception -> occurrences (newest first)
    let mut tree: BTreeMap<Language, BTreeMap<String, Vec<&Item>>> = BTreeMap::new();
    for item in &items {
        let t = item.parsed.trace.as_ref().expect("kept only traces");
        tree.entry(t.language)
            .or_default()
            .entry(t.exception.clone())
            .or_default()
            .push(item);
    }
    let mut languages: Vec<LanguageGroup> = tree
        .into_iter()
        .map(|(language, by_type)| {
            let mut exceptions: Vec<ExceptionGroup> = by_type
                .into_iter()
                .map(|(exception, occ)| group(exception, &occ))
                .collect();
            exceptions.sort_by(|a, b| {
                b.count
                    .cmp(&a.count)
                    .then_with(|| b.last_seen.cmp(&a.last_seen))
            });
            LanguageGroup {
                language: language.as_str().into(),
                count: exceptions.iter().map(|e| e.count).sum(),
                exceptions,
            }
        })
        .collect();
    languages.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.language.cmp(&b.language))
    });

    let kinds: usize = languages.iter().map(|l| l.exceptions.len()).sum();
    let mut header = format!(
        "{} in {}",
        text::count(items.len(), "stack trace"),
        window.describe()
    );
    if !items.is_empty() {
        header.push_str(&format!(
            ", {} of {}",
            text::count(kinds, "exception type"),
            text::count(languages.len(), "language")
        ));
    }
    header.push('.');
    let (summary, listed) = summary_text(&languages);
    let (traces, budget) = latest_traces(&languages, TEXT_BUDGET.saturating_sub(summary.len()));
    let mut notes = Vec::new();
    if items.is_empty() {
        notes.push(
            format!(
                "No stack traces. {}",
                ctx.empty_hint(args.service.as_deref(), &window)
            )
            .trim()
            .to_string(),
        );
    }
    if let Some(n) = note(
        listed,
        kinds,
        "exception types",
        "pick a `language` or a `service`",
    ) {
        notes.push(n);
    }
    if let Some(n) = note(
        budget.shown,
        kinds,
        "traces",
        "pick a `language` or a `service`",
    ) {
        notes.push(n);
    }
    if returned >= limit {
        notes.push(format!(
            "Loki stopped at `limit` = {limit}: older traces in the window were not read; raise `limit` (at most {MAX_LIMIT}) or narrow the window."
        ));
    }
    notes.extend(unjoined);
    let note_text = (!notes.is_empty()).then(|| notes.join(" "));
    let body = text::blocks([
        Some(header),
        (!summary.is_empty()).then(|| summary.trim_end().to_string()),
        (!traces.is_empty())
            .then(|| format!("Latest trace of each type:\n\n{}", traces.trim_end())),
        note_text.clone(),
    ]);
    let mut budget_types = SUMMARY_TYPES;
    for l in &mut languages {
        l.exceptions.truncate(budget_types);
        budget_types -= l.exceptions.len();
    }
    let out = Exceptions {
        query,
        window: window.json(),
        traces: items.len(),
        languages,
        note: note_text,
    };
    Ok(Answer::new(body, out))
}

/// Per language, its exception types with counts, services and last time (at most
/// [`SUMMARY_TYPES`] types in all), and how many types were listed.
fn summary_text(languages: &[LanguageGroup]) -> (String, usize) {
    let mut summary = String::new();
    let mut listed = 0;
    for l in languages {
        summary.push_str(&format!("{} ({})\n", l.language, l.count));
        for e in l
            .exceptions
            .iter()
            .take(SUMMARY_TYPES.saturating_sub(listed))
        {
            summary.push_str(&format!(
                "  {}× {} · {} · last {}\n",
                e.count,
                e.exception,
                counts(&e.services),
                e.last_seen
            ));
            listed += 1;
        }
    }
    (summary, listed)
}

/// The latest trace of each type, as many as fit in `chars`.
fn latest_traces(languages: &[LanguageGroup], chars: usize) -> (String, Budget) {
    let mut traces = String::new();
    let mut budget = Budget::new(chars);
    for l in languages {
        for e in &l.exceptions {
            let lines: Vec<&str> = e.latest.trace.lines().collect();
            let mut block = format!(
                "── {} {} · {} · {} (latest of {})\n{}",
                l.language,
                e.exception,
                e.latest.service,
                e.latest.time,
                e.count,
                lines
                    .iter()
                    .take(TRACE_LINES)
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            if lines.len() > TRACE_LINES {
                block.push_str(&format!(
                    "\n… {}",
                    text::count(lines.len() - TRACE_LINES, "more line")
                ));
            }
            budget.push(&mut traces, &format!("{block}\n"));
        }
    }
    (traces, budget)
}

fn group(exception: String, occurrences: &[&Item]) -> ExceptionGroup {
    let latest = occurrences[0];
    let first = occurrences[occurrences.len() - 1];
    let mut services: BTreeMap<String, usize> = BTreeMap::new();
    for o in occurrences {
        *services.entry(o.service.clone()).or_default() += 1;
    }
    ExceptionGroup {
        exception,
        count: occurrences.len(),
        services,
        summary: latest
            .parsed
            .trace
            .as_ref()
            .map(|t| t.summary.clone())
            .unwrap_or_default(),
        first_seen: rfc3339_ms(first.entry.ts),
        last_seen: rfc3339_ms(latest.entry.ts),
        latest: Occurrence {
            time: rfc3339_ms(latest.entry.ts),
            service: latest.service.clone(),
            trace: plue_plugin_sdk::text::truncate_chars(
                latest
                    .parsed
                    .trace
                    .as_ref()
                    .and_then(|t| t.text.as_deref())
                    .unwrap_or(&latest.entry.line),
                3000,
            )
            .0,
        },
    }
}

pub fn def() -> ToolDef {
    tool(
        "search_exceptions",
        "Stack traces and panics grouped by language and type.",
        run,
    )
    .title("Search exceptions")
    .read_only()
    .open_world()
}
