//! `log_stats`: log volume, errors and warnings per service over a window, counted
//! by Loki with three metric queries (one per level); on request also a PNG chart
//! of the busiest services' line counts over the window (a fourth, range query).

use std::collections::BTreeMap;

use plue_plugin_sdk::chart::{self, Chart};
use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, table};
use plue_plugin_sdk::time::human_duration;

use crate::context::Ctx;
use crate::logql;
use crate::tools::{note, one_hour};
use crate::window::{Window, WindowJson};

/// Services listed in the text answer.
const MAX_ROWS: usize = 50;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// `30m` ago, RFC 3339 or Unix seconds.
    #[serde(default = "one_hour")]
    pub start: String,
    pub end: Option<String>,
    /// PNG.
    #[serde(default)]
    #[schemars(transform = chart::argument)]
    pub chart: bool,
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

/// Lines, errors and warnings per value of the service label (`""` for streams
/// without one), counted by Loki at `end_ns` with the three [`logql::stats`]
/// `queries`.
pub fn volume(
    ctx: &Ctx,
    queries: &[String; 3],
    end_ns: i64,
) -> Result<BTreeMap<String, [u64; 3]>, ToolError> {
    let mut per: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for (i, q) in queries.iter().enumerate() {
        for s in ctx.loki.instant(q, end_ns)? {
            let service = s
                .labels
                .get(&ctx.service_label)
                .cloned()
                .unwrap_or_default();
            per.entry(service).or_default()[i] += s.value.round().max(0.0) as u64;
        }
    }
    Ok(per)
}

/// The tool.
pub fn run(args: Args) -> Result<Answer<Stats>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window(&args.start, args.end.as_deref())?;
    let label = ctx.service_label.clone();
    let queries = logql::stats(&ctx.selector(None)?, &label, &window.range());
    let mut services: Vec<ServiceStats> = volume(&ctx, &queries, window.end_ns)?
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
    let image = if args.chart && !services.is_empty() {
        let busiest: Vec<&str> = services
            .iter()
            .take(chart::MAX_SERIES)
            .map(|s| s.service.as_str())
            .collect();
        match volume_chart(&ctx, &window, &busiest, &no_label) {
            Ok(png) => {
                notes.extend(chart::left_out_note(busiest.len(), services.len()));
                Some(png)
            }
            Err(e) => {
                notes.push(format!("No chart: {e}."));
                None
            }
        }
    } else {
        None
    };
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
    let answer = Answer::new(text, stats);
    Ok(match image {
        Some(png) => answer.with_image(png, "image/png"),
        None => answer,
    })
}

/// A step giving at most about 150 points over `seconds`, on a round value.
fn chart_step(seconds: f64) -> f64 {
    const STEPS: [f64; 15] = [
        1.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 10800.0,
        21600.0, 86400.0,
    ];
    STEPS
        .into_iter()
        .find(|s| seconds / s <= 150.0)
        .unwrap_or((seconds / 150.0 / 86400.0).ceil() * 86400.0)
}

/// Lines per step of each of `services` over `window` (a step without lines is a 0).
fn volume_chart(
    ctx: &Ctx,
    window: &Window,
    services: &[&str],
    no_label: &str,
) -> Result<Vec<u8>, String> {
    let label = &ctx.service_label;
    let step = chart_step(window.seconds());
    let query = logql::stats(
        &ctx.selector(None).map_err(|e| e.to_string())?,
        label,
        &logql::range(step),
    )[0]
    .clone();
    let series = ctx
        .loki
        .matrix(&query, window, step)
        .map_err(|e| e.to_string())?;
    let start = window.start_ns as f64 / 1e9;
    let steps = (window.seconds() / step).floor() as usize;
    let picture = Chart {
        title: format!("Log lines per {} by {label}", human_duration(step)),
        y_unit: String::new(),
        range: Some((start, window.end_ns as f64 / 1e9)),
        series: services
            .iter()
            .map(|service| {
                let mut counts = vec![0.0; steps + 1];
                let found = series
                    .iter()
                    .filter(|s| s.labels.get(label).map_or("", String::as_str) == *service);
                for (t, v) in found.flat_map(|s| s.points.iter()) {
                    let i = ((t - start) / step).round().max(0.0) as usize;
                    if let Some(c) = counts.get_mut(i) {
                        *c += v;
                    }
                }
                chart::Series {
                    name: if service.is_empty() {
                        no_label.to_string()
                    } else {
                        service.to_string()
                    },
                    points: counts
                        .into_iter()
                        .enumerate()
                        .map(|(i, c)| (start + i as f64 * step, c))
                        .collect(),
                }
            })
            .collect(),
    };
    chart::line_chart(&picture).map_err(|e| e.to_string())
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

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use super::*;
    use crate::plugin;

    const T0: i64 = 1_764_000_000;

    /// Loki with services `api` (10 lines a step, 2 errors), `web` (3 lines in the
    /// first 10 minutes only) and lines without a service label.
    fn fake_loki() {
        testing::fake_http(|req| {
            let q = testing::percent_decode(&req.path_and_query);
            let body = if q.starts_with("/loki/api/v1/query_range?") {
                assert!(q.contains("[30s]") && q.contains("&step=30"), "{q}");
                let values = |n: i64, v: &str| -> Vec<serde_json::Value> {
                    (0..n).map(|i| json!([T0 - 3600 + 30 * i, v])).collect()
                };
                json!({"status": "success", "data": {"resultType": "matrix", "result": [
                    {"metric": {"service": "api"}, "values": values(121, "10")},
                    {"metric": {"service": "web"}, "values": values(20, "3")},
                ]}})
            } else {
                let errors = q.contains("|~") && !q.contains("!~");
                let (api, web, none) = if errors {
                    ("2", "0", "0")
                } else {
                    ("1210", "60", "1")
                };
                json!({"status": "success", "data": {"resultType": "vector", "result": [
                    {"metric": {"service": "api"}, "value": [T0, api]},
                    {"metric": {"service": "web"}, "value": [T0, web]},
                    {"metric": {}, "value": [T0, none]},
                ]}})
            };
            Ok(testing::response(200, &body.to_string()))
        });
    }

    #[test]
    fn chart_of_lines_per_service() {
        fake_loki();
        let window = json!({"start": (T0 - 3600).to_string(), "end": T0.to_string()});
        let plain = testing::call(&plugin(), "log_stats", window.clone()).unwrap();
        let mut args = window.clone();
        args["chart"] = json!(false);
        let off = testing::call(&plugin(), "log_stats", args.clone()).unwrap();
        assert!(plain.images().is_empty() && off.images().is_empty());
        assert_eq!(plain.text_content(), off.text_content());

        args["chart"] = json!(true);
        let on = testing::call(&plugin(), "log_stats", args).unwrap();
        assert_eq!(on.text_content(), plain.text_content());
        let (png_bytes, mime) = &on.images()[0];
        assert_eq!(mime, "image/png");
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes.as_slice()));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (800, 300));
        let px: Vec<[u8; 3]> = buf[..info.buffer_size()]
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        // api, web and the unlabelled streams: three lines, no fourth.
        for i in 0..3 {
            assert!(px.contains(&chart::series_color(i)), "series {i}");
        }
        assert!(!px.contains(&chart::series_color(3)));
    }

    #[test]
    fn chart_steps_are_round() {
        assert_eq!(chart_step(3600.0), 30.0);
        assert_eq!(chart_step(86400.0), 600.0);
        assert_eq!(chart_step(60.0), 1.0);
    }
}
