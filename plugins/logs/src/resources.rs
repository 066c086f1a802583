//! The resource family `plue://logs/services/{service}`: one service's last
//! hour of logs as markdown (volume and error share, the top error kinds, the
//! newest lines, the next tools to call), built from the tools' own functions.
//! Listed: the services Loki's index names in the last 24 h (no line is
//! counted to list them), so a client can offer them, and the `service`
//! completion suggests them as the URI is typed.

use plue_plugin_sdk::TemplateDef;
use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;
use plue_plugin_sdk::uri_template;

use crate::context::Ctx;
use crate::logql;
use crate::render::cut;
use crate::tools;
use crate::window::Window;

/// The URI template.
pub const SERVICES: &str = "plue://logs/services/{service}";
/// The window a read covers…
const WINDOW: &str = "1h";
/// …and the one the listing (and an unknown service's error) looks back over.
const LISTED_WINDOW: &str = "24h";
/// Error kinds and newest lines a read shows.
pub const ERROR_KINDS: usize = 5;
pub const NEWEST_LINES: u32 = 10;
/// Characters of a message in a read.
const MESSAGE_CHARS: usize = 200;
const MARKDOWN: &str = "text/markdown";

/// The link to `service`'s page.
pub fn service_link(service: &str) -> Link {
    let uri = uri_template::expand(SERVICES, &[("service", service)])
        .expect("the template has exactly the variable `service`");
    Link::new(uri, service.to_string())
        .title(format!("{service} logs"))
        .description("Its last hour: volume, error share, top errors, newest lines.".to_string())
        .mime_type(MARKDOWN)
}

/// The family.
pub fn services() -> TemplateDef {
    resources(
        SERVICES,
        "service-logs",
        "One service's last hour of logs: volume and error share, the top error kinds, the newest lines, and what to call next.",
        read,
    )
    .title("Service logs")
    .mime_type(MARKDOWN)
    .list(|| {
        let ctx = Ctx::from_settings();
        let window = ctx.window(LISTED_WINDOW, None)?;
        let services = ctx.services_named(&window)?;
        Ok(services.iter().map(|s| service_link(s)).collect())
    })
}

/// Lines, errors and warnings of the streams `selector` picks in `window`.
fn volume(ctx: &Ctx, selector: &str, window: &Window) -> Result<[u64; 3], ToolError> {
    let queries = logql::stats(selector, &ctx.service_label, &window.range());
    Ok(tools::stats::volume(ctx, &queries, window.end_ns)?
        .into_values()
        .fold([0; 3], |sum, v| {
            [sum[0] + v[0], sum[1] + v[1], sum[2] + v[2]]
        }))
}

fn read(vars: &Vars) -> Result<Vec<Contents>, ToolError> {
    let service = vars.get("service")?.trim();
    let ctx = Ctx::from_settings();
    let window = ctx.window(WINDOW, None)?;
    let selector = ctx.selector(Some(service))?;
    let [lines, errors, warnings] = volume(&ctx, &selector, &window)?;
    let mut out = vec![format!("# {service}: logs of the last {WINDOW}")];
    if lines == 0 {
        let wide = ctx.window(LISTED_WINDOW, None)?;
        let [older, ..] = volume(&ctx, &selector, &wide)?;
        if older == 0 {
            return Err(ToolError::invalid(format!(
                "no service `{service}` has logs in the last {LISTED_WINDOW}. {}",
                ctx.empty_hint(Some(service), &wide)
            )));
        }
        out.push(format!(
            "No lines in the last {WINDOW}; {} in the last {LISTED_WINDOW}.",
            text::count(older as usize, "line")
        ));
        out.push(format!(
            "Next tools: tail_logs(service=\"{service}\", start=\"{LISTED_WINDOW}\") for its last lines; log_stats(start=\"{LISTED_WINDOW}\")"
        ));
        return Ok(vec![Contents::text(vars.uri(), MARKDOWN, out.join("\n"))]);
    }
    out.push(format!(
        "{}: {} ({:.1}%), {}.",
        text::count(lines as usize, "line"),
        text::count(errors as usize, "error"),
        100.0 * errors as f64 / lines as f64,
        text::count(warnings as usize, "warning")
    ));

    let found = tools::errors::run(tools::errors::Args {
        start: WINDOW.into(),
        end: None,
        service: Some(service.into()),
        limit: 500,
        groups: 100,
    })?;
    let e = found.value();
    if !e.groups.is_empty() {
        let shown = e.groups.len().min(ERROR_KINDS);
        let read = match e.matching {
            Some(total) if total > e.error_lines => {
                format!("the newest {} of {total} error lines", e.error_lines)
            }
            _ => text::count(e.error_lines, "error line"),
        };
        out.push(String::new());
        out.push(format!(
            "## Top errors ({shown} of {} kinds, in {read})",
            e.groups.len()
        ));
        out.extend(e.groups.iter().take(shown).enumerate().map(|(rank, g)| {
            format!(
                "{}. {}× {} (last {})",
                rank + 1,
                g.count,
                cut(&g.message, MESSAGE_CHARS),
                g.last_seen
            )
        }));
        if e.groups.len() > shown {
            out.push(format!(
                "({} more kinds: find_errors(service=\"{service}\"))",
                e.groups.len() - shown
            ));
        }
    }

    let tail = tools::tail::run(tools::tail::Args {
        service: Some(service.into()),
        lines: NEWEST_LINES,
        contains: None,
        start: WINDOW.into(),
        follow_seconds: 0,
    })?;
    let t = tail.value();
    out.push(String::new());
    out.push(format!(
        "## Newest lines ({} of {lines}, newest last)",
        t.entries.len()
    ));
    out.extend(t.entries.iter().map(|l| {
        format!(
            "- {} {} {}",
            l.time,
            l.level.as_deref().unwrap_or("-").to_uppercase(),
            cut(&l.message, MESSAGE_CHARS)
        )
    }));

    out.push(String::new());
    let mut next = vec![format!("find_errors(service=\"{service}\")")];
    if !e.by_service.is_empty() {
        next.push(format!("search_exceptions(service=\"{service}\")"));
    }
    next.push(format!(
        "tail_logs(service=\"{service}\", follow_seconds=10)"
    ));
    next.push(format!("find_slow_requests(service=\"{service}\")"));
    out.push(format!("Next tools: {}", next.join("; ")));
    Ok(vec![Contents::text(vars.uri(), MARKDOWN, out.join("\n"))])
}
