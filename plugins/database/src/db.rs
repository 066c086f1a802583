//! The one door to the database: every statement of this plugin goes through
//! [`run`] (the tools' own statements) or [`run_user`] (a statement the agent
//! wrote), to the host's read-only `sql` capability on database `plue`.
//!
//! The read-only guarantee is the host's (one prepared statement in a
//! `READ ONLY` transaction with a statement timeout, a parser that accepts only
//! reads, no superuser role). This module deliberately adds no keyword filter:
//! one that could be bypassed would only reject valid reads.

use plue_plugin_sdk::ToolError;
use plue_plugin_sdk::sql::{self, Rows, Value};

use crate::errors;

/// The database this plugin asks the operator for.
pub const DATABASE: &str = "plue";

/// Positional parameters, numbered as they are bound.
///
/// ```
/// use plue_plugin_database::db::Params;
/// let mut p = Params::default();
/// assert_eq!(p.bind(7i64), "$1");
/// assert_eq!(p.bind("bob"), "$2");
/// assert_eq!(p.values().len(), 2);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: Vec<sql::Value>,
}

impl Params {
    /// Add a parameter and return its placeholder (`$1`, `$2`, …).
    pub fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// The values bound so far, in order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }
}

/// A row with `count(*) OVER () AS total` beside the item's own columns.
#[derive(Debug, serde::Deserialize)]
pub struct Counted<T> {
    /// The row's own columns.
    #[serde(flatten)]
    pub item: T,
    /// How many rows matched before the LIMIT.
    pub total: i64,
}

/// Run one of the tool's own statements; `what` names what it reads, for the
/// error message ("the user's repositories").
pub fn run(what: &str, statement: &str, params: &Params) -> Result<Rows, ToolError> {
    sql::query(DATABASE, statement, params.values()).map_err(|e| errors::internal(what, e))
}

/// Run a statement written by the agent, `prefix` + `user_sql`, without
/// parameters. PostgreSQL's error positions are mapped back into `user_sql`.
pub fn run_user(prefix: &str, user_sql: &str) -> Result<Rows, ToolError> {
    let statement = format!("{prefix}{user_sql}");
    sql::query(DATABASE, &statement, &[])
        .map_err(|e| errors::for_statement(e, user_sql, prefix.chars().count()))
}

/// `name` as a quoted SQL identifier.
///
/// ```
/// assert_eq!(plue_plugin_database::db::quote_ident(r#"we"ird"#), r#""we""ird""#);
/// ```
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a `LIKE`/`ILIKE` pattern matching it anywhere, with `%`, `_` and
/// `\` matched literally (use with `ESCAPE '\'`).
///
/// ```
/// assert_eq!(plue_plugin_database::db::contains_pattern("bob_smith"), r"%bob\_smith%");
/// ```
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `column AT TIME ZONE 'UTC'`: Plue's `TIMESTAMP` columns hold UTC wall-clock
/// times; this makes them `timestamptz`, which the host returns as RFC 3339 in UTC.
pub fn utc(column: &str) -> String {
    format!("({column} AT TIME ZONE 'UTC')")
}

/// The current time as Plue stores it (`TIMESTAMP` in UTC), for comparisons.
pub const NOW_UTC: &str = "(now() AT TIME ZONE 'UTC')";
