//! `find_slow_requests`: requests that took longer than a threshold (the boundary
//! excluded, as agents ask "over 1000 ms"), from a JSON or logfmt duration field or a
//! plain-text duration such as `(812ms)` or `took 2.4s`, slowest first, each shown in
//! milliseconds exactly as logged.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, table};

use crate::context::Ctx;
use crate::logql;
use crate::loki::Direction;
use crate::render::{self, Item};
use crate::tools::{note, one_hour};
use crate::window::{WindowJson, rfc3339_ms};

/// Lines read per query (JSON, logfmt) before sorting by duration.
const READ: usize = 2000;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// Exclusive: a request of exactly this long is not listed.
    #[serde(default = "thousand")]
    #[schemars(range(min = 0.0))]
    pub threshold_ms: f64,
    /// `30m` ago, RFC 3339 or Unix seconds.
    #[serde(default = "one_hour")]
    pub start: String,
    pub end: Option<String>,
    /// `api`, `label=value` or `all` (default).
    pub service: Option<String>,
    #[serde(default = "twenty")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
}

fn thousand() -> f64 {
    1000.0
}

fn twenty() -> u32 {
    20
}

// One slow request.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SlowRequest {
    pub duration_ms: f64,
    pub time: String,
    pub service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub message: String,
    // The raw line (cut at 1000 characters).
    pub line: String,
}

/// What `find_slow_requests` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Slow {
    // The LogQL sent: JSON lines, logfmt lines, then lines with a plain-text duration.
    pub queries: Vec<String>,
    pub window: WindowJson,
    pub threshold_ms: f64,
    // Requests above the threshold.
    pub matching: usize,
    // Slowest first.
    pub requests: Vec<SlowRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The tool.
pub fn run(args: Args) -> Result<Answer<Slow>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window(&args.start, args.end.as_deref())?;
    if !args.threshold_ms.is_finite() || args.threshold_ms < 0.0 {
        return Err(ToolError::invalid(
            "`threshold_ms` must be a number of milliseconds, 0 or more",
        ));
    }
    let field = logql::label_name(&ctx.duration_field)
        .map_err(|e| ToolError::invalid(format!("the `duration_field` setting: {e}")))?
        .to_string();
    let queries = logql::slow(
        &ctx.selector(args.service.as_deref())?,
        &field,
        args.threshold_ms,
    );
    let mut found: Vec<(f64, Item)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut capped = false;
    for q in &queries {
        let items = ctx.items(q, &window, READ, Direction::Backward)?;
        capped |= items.len() >= READ;
        for item in items {
            let key = (
                item.entry.ts,
                item.entry.line.clone(),
                item.entry.labels.clone(),
            );
            if let Some(d) = duration(&item, &field)
                && seen.insert(key)
            {
                found.push((d, item));
            }
        }
    }
    found.retain(|(d, _)| *d > args.threshold_ms);
    found.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| b.1.entry.ts.cmp(&a.1.entry.ts))
    });
    let limit = (args.limit as usize).clamp(1, 100);
    let requests: Vec<SlowRequest> = found
        .iter()
        .take(limit)
        .map(|(d, i)| slow_request(*d, i))
        .collect();

    let threshold = plue_plugin_sdk::time::trim_float(args.threshold_ms, 3);
    let mut text = format!(
        "{} took over {threshold} ms in {}, slowest first.",
        text::count(found.len(), "request"),
        window.describe()
    );
    if !requests.is_empty() {
        let rows: Vec<Vec<String>> = requests
            .iter()
            .zip(&found)
            .map(|(r, (_, item))| {
                vec![
                    format!("{} ms", plue_plugin_sdk::time::trim_float(r.duration_ms, 3)),
                    r.time.clone(),
                    r.service.clone(),
                    r.status.clone().unwrap_or_default(),
                    r.request_id.clone().unwrap_or_default(),
                    what(r, item, &field),
                ]
            })
            .collect();
        text.push_str("\n\n");
        text.push_str(&table(
            &[
                "duration",
                "time",
                "service",
                "status",
                "request_id",
                "request",
            ],
            &rows,
            80,
        ));
    }
    let mut notes = Vec::new();
    if found.is_empty() {
        notes.push(format!(
            "No JSON or logfmt line has a numeric `{field}` over {threshold}, and no plain-text duration (`(812ms)`, `took 2.4s`) is over {threshold} ms. {}",
            ctx.empty_hint(args.service.as_deref(), &window)
        ));
    }
    if let Some(n) = note(
        requests.len(),
        found.len(),
        "requests",
        "raise `threshold_ms` or pick a `service`",
    ) {
        notes.push(n);
    }
    if capped {
        notes.push(format!("A query reached {READ} lines, so slower requests may be missing; raise `threshold_ms` or narrow the window."));
    }
    let note_text = (!notes.is_empty()).then(|| notes.join(" ").trim().to_string());
    if let Some(n) = &note_text {
        text.push_str(&format!("\n\n{n}"));
    }
    let slow = Slow {
        queries: queries.to_vec(),
        window: window.json(),
        threshold_ms: args.threshold_ms,
        matching: found.len(),
        requests,
        note: note_text,
    };
    Ok(Answer::new(text, slow))
}

/// `GET /path`, or the message and the line's other fields.
fn what(r: &SlowRequest, item: &Item, field: &str) -> String {
    if let Some(p) = &r.path {
        return format!("{} {p}", r.method.as_deref().unwrap_or(""))
            .trim()
            .to_string();
    }
    let skip = [field, "status", "request_id", "requestId", "trace_id"];
    let mut parts = vec![r.message.clone()];
    parts.extend(
        item.parsed
            .fields
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}")),
    );
    parts.join(" ")
}

/// The request's duration in ms: the line's duration field (as parsed, else the label
/// Loki extracted), else a plain-text duration in the line.
fn duration(item: &Item, field: &str) -> Option<f64> {
    let v = item
        .parsed
        .field(field)
        .or_else(|| item.entry.labels.get(field).map(String::as_str));
    match v {
        Some(v) => v.trim().parse::<f64>().ok().filter(|d| d.is_finite()),
        None => text_duration(&item.entry.line),
    }
}

/// The first plain-text duration of `line` ([`logql::TEXT_DURATION_RE`]), in ms.
pub fn text_duration(line: &str) -> Option<f64> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(logql::TEXT_DURATION_RE).expect("static pattern"));
    let c = re.captures(line)?;
    let n: f64 = c[1].parse().ok()?;
    Some(if &c[2] == "s" { n * 1000.0 } else { n })
}

fn slow_request(duration_ms: f64, item: &Item) -> SlowRequest {
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| item.parsed.field(n))
            .map(str::to_string)
    };
    SlowRequest {
        duration_ms,
        time: rfc3339_ms(item.entry.ts),
        service: item.service.clone(),
        method: field(&["method", "http.method"]),
        path: field(&["path", "url", "route", "http.path"]),
        status: field(&["status", "status_code", "http.status"]),
        request_id: field(&["request_id", "requestId", "trace_id"]),
        message: item.parsed.message.clone(),
        line: render::cut(&item.entry.line, 1000),
    }
}

pub fn def() -> ToolDef {
    tool(
        "find_slow_requests",
        "Requests slower than `threshold_ms` (a duration field, or `812ms` / `took 2.4s` in plain text), slowest first.",
        run,
    )
    .title("Find slow requests")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use super::text_duration;

    #[test]
    fn plain_text_durations_in_ms() {
        for (line, ms) in [
            ("info(http): GET /api/user 200 (812ms)", Some(812.0)),
            ("step 'test' took 2.4s", Some(2400.0)),
            ("render (1.5 s)", Some(1500.0)),
            ("took 120 ms in all", Some(120.0)),
            ("wrote 42 buffers (0.3%)", None),
            ("timeout=30s", None),
        ] {
            assert_eq!(text_duration(line), ms, "{line}");
        }
    }
}
