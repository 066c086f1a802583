//! `log_stats`: log volume, errors and warnings per service over a window, counted
//! by Loki with three metric queries (one per level).

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, table};

use crate::context::Ctx;
use crate::logql;
use crate::tools::{note, one_hour};
use crate::window::WindowJson;

/// Services listed in the text answer.
const MAX_ROWS: usize = 50;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// `30m` ago, RFC 3339 or Unix seconds.
    #[serde(default = "one_hour")]
    pub start: String,
    pub end: Option<String>,
}

// Counts for one service.
#[derive(Debug, Serialize, JsonSchema, PartialEq)]
pub struct ServiceStats {
    // The service label's value; empty for streams without one.
    pub service: String,
    pub lines: u64,
    pub errors: u64,
    pub warnings: u64,
    // Lines that are neither errors nor warnings (info, debug, or no level shown).
    pub other: u64,
}

/// What `log_stats` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Stats {
    // The LogQL sent: all lines, error lines, warning lines.
    pub queries: Vec<String>,
    pub window: WindowJson,
    pub lines: u64,
    pub errors: u64,
    pub warnings: u64,
    pub other: u64,
    // Most lines first (at most 200).
    pub services: Vec<ServiceStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The tool.
pub fn run(args: Args) -> Result<Answer<Stats>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window(&args.start, args.end.as_deref())?;
    let label = ctx.service_label.clone();
    let queries = logql::stats(&ctx.selector(None)?, &label, &window.range());
    let mut per: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for (i, q) in queries.iter().enumerate() {
        for s in ctx.loki.instant(q, window.end_ns)? {
            let service = s.labels.get(&label).cloned().unwrap_or_default();
            per.entry(service).or_default()[i] += s.value.round().max(0.0) as u64;
        }
    }
    let mut services: Vec<ServiceStats> = per
        .into_iter()
        .map(|(service, [lines, errors, warnings])| ServiceStats {
            service,
            lines,
            errors,
            warnings,
            other: lines.saturating_sub(errors + warnings),
        })
        .collect();
    services.sort_by(|a, b| {
        b.lines
            .cmp(&a.lines)
            .then_with(|| a.service.cmp(&b.service))
    });
    let sum = |f: fn(&ServiceStats) -> u64| services.iter().map(f).sum::<u64>();
    let (lines, errors, warnings, other) = (
        sum(|s| s.lines),
        sum(|s| s.errors),
        sum(|s| s.warnings),
        sum(|s| s.other),
    );

    let mut text = format!(
        "Log volume in {}: {}, {}, {}, {} other (info, debug or no level).",
        window.describe(),
        text::count(lines as usize, "line"),
        text::count(errors as usize, "error"),
        text::count(warnings as usize, "warning"),
        other
    );
    let no_label = format!("(no {label} label)");
    if !services.is_empty() {
        let rows: Vec<Vec<String>> = services
            .iter()
            .take(MAX_ROWS)
            .map(|s| {
                let share = if s.lines > 0 {
                    format!("{:.1}%", 100.0 * s.errors as f64 / s.lines as f64)
                } else {
                    "-".into()
                };
                let name = if s.service.is_empty() {
                    no_label.clone()
                } else {
                    s.service.clone()
                };
                vec![
                    name,
                    s.lines.to_string(),
                    s.errors.to_string(),
                    s.warnings.to_string(),
                    s.other.to_string(),
                    share,
                ]
            })
            .collect();
        text.push_str("\n\n");
        text.push_str(&table(
            &[
                label.as_str(),
                "lines",
                "errors",
                "warnings",
                "other",
                "error %",
            ],
            &rows,
            60,
        ));
    }
    let mut notes = Vec::new();
    if services.is_empty() {
        notes.push(
            format!("No logs in this window. {}", ctx.empty_hint(None, &window))
                .trim()
                .to_string(),
        );
    }
    if let Some(n) = note(
        services.len().min(MAX_ROWS),
        services.len(),
        "services",
        "use search_logs or find_errors on one service",
    ) {
        notes.push(n);
    }
    if services.iter().any(|s| s.service.is_empty()) {
        notes.push(format!(
            "{no_label} counts streams that have no `{label}` label (search them with service=\"container=<name>\")."
        ));
    }
    let note_text = (!notes.is_empty()).then(|| notes.join(" "));
    if let Some(n) = &note_text {
        text.push_str(&format!("\n\n{n}"));
    }
    services.truncate(200);
    let stats = Stats {
        queries: queries.to_vec(),
        window: window.json(),
        lines,
        errors,
        warnings,
        other,
        services,
        note: note_text,
    };
    Ok(Answer::new(text, stats))
}

pub fn def() -> ToolDef {
    tool(
        "log_stats",
        "Log volume per service with error and warning counts.",
        run,
    )
    .title("Log statistics")
    .read_only()
    .open_world()
}
