//! Completions: `request_id` (ids in lines of the last hour, newest first) and
//! `service` (values of the service label in the last 24 h, from Loki's index).

use plue_plugin_sdk::prelude::*;

use crate::context::{Ctx, newest_first};
use crate::logql;
use crate::loki::Direction;

/// Fields of JSON and logfmt lines that hold a request id.
pub const REQUEST_ID_FIELDS: [&str; 3] = ["request_id", "requestId", "req_id"];
/// Lines read to find request ids.
pub const LINES_READ: usize = 300;

/// Request ids starting with what was typed, from the newest lines of the last hour.
pub fn request_id(c: &Completing) -> Result<Vec<String>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window("1h", None)?;
    let mut query = format!(
        "{} |~ {}",
        ctx.selector(None)?,
        logql::regex(&REQUEST_ID_FIELDS.join("|"))
    );
    let typed = c.value.trim();
    if !typed.is_empty() {
        query.push_str(&format!(" |= {}", logql::string(typed)));
    }
    let mut items = ctx.items(&query, &window, LINES_READ, Direction::Backward)?;
    newest_first(&mut items);
    let mut ids: Vec<String> = Vec::new();
    for item in &items {
        for field in REQUEST_ID_FIELDS {
            if let Some(id) = item.parsed.field(field)
                && !id.is_empty()
                && c.matches(id)
                && !ids.iter().any(|i| i == id)
            {
                ids.push(id.to_string());
            }
        }
    }
    Ok(ids)
}

/// Services named in the last 24 h whose name starts with what was typed.
pub fn service(c: &Completing) -> Result<Vec<String>, ToolError> {
    let ctx = Ctx::from_settings();
    let window = ctx.window("24h", None)?;
    let services = ctx.services_named(&window).unwrap_or_default();
    Ok(c.filter(services))
}
