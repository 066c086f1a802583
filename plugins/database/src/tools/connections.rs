//! `check_connections`: the connections to the database from
//! `pg_stat_activity` (all of them visible to a `pg_monitor` role), busy ones
//! first, with long-running statements and idle transactions pointed out.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;
use plue_plugin_sdk::text::count;
use plue_plugin_sdk::time::human_duration;

use crate::db::{self, Counted, Params};
use crate::format;

/// The connections to the current database, as a FROM clause (alias `a`).
pub const ACTIVITY: &str = "pg_stat_activity a WHERE a.datname = current_database()";

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CheckConnectionsArgs {
    /// `active`, `idle`, `idle in transaction`, …
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default = "twenty")]
    #[schemars(range(min = 1, max = 200))]
    pub limit: u32,
    /// Characters of each query to show.
    #[serde(default = "two_hundred")]
    #[schemars(range(min = 10, max = 2000))]
    pub query_chars: u32,
}

fn twenty() -> u32 {
    20
}

fn two_hundred() -> u32 {
    200
}

// One connection (server backend) in structured content.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct ConnectionOut {
    // The backend's process id.
    pub pid: i64,
    // The role it is logged in as.
    pub username: Option<String>,
    // The client's application_name.
    pub application: Option<String>,
    /// The client's address (null for Unix sockets and background workers).
    pub client: Option<String>,
    // `active`, `idle`, `idle in transaction`, …; null for background workers.
    pub state: Option<String>,
    /// Seconds in that state.
    pub state_seconds: Option<f64>,
    /// Seconds since its current (or last) query started.
    pub query_seconds: Option<f64>,
    // What it waits for (`Lock: transactionid`, `Client: ClientRead`, …).
    pub waiting_on: Option<String>,
    // The start of its current or last query, cut to `query_chars`.
    pub query: Option<String>,
    pub connected_at: Option<String>,
    // This is the connection that answered this tool.
    pub is_self: bool,
}

/// What `check_connections` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckConnectionsOutput {
    // Connections, problems first: active and idle-in-transaction ones, longest first.
    pub connections: Vec<ConnectionOut>,
    // How many connections matched.
    pub total: i64,
    // Connections to this database by state (all states, before the `state` filter).
    pub by_state: Vec<StateCount>,
}

// How many connections are in a state.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct StateCount {
    // The state (or the backend type for background workers).
    pub state: String,
    // How many connections.
    pub count: i64,
}

/// Connections running or idle in a transaction longer than this are pointed out.
const LONG_SECONDS: f64 = 60.0;

/// List the connections to the database.
pub fn run(args: CheckConnectionsArgs) -> Result<Answer<CheckConnectionsOutput>, ToolError> {
    let mut p = Params::default();
    let chars = p.bind(i64::from(args.query_chars.clamp(10, 2000)));
    let state_filter = match args
        .state
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => format!(" AND a.state = {}::text", p.bind(s)),
        None => String::new(),
    };
    let limit = p.bind(i64::from(args.limit.clamp(1, 200)));
    let rows: Vec<Counted<ConnectionOut>> = db::run(
        "the connections",
        &format!(
            "SELECT a.pid::int8 AS pid, a.usename::text AS username, a.application_name AS application,
                    a.client_addr::text AS client, a.state AS state,
                    greatest(extract(epoch FROM now() - a.state_change), 0)::float8 AS state_seconds,
                    greatest(extract(epoch FROM now() - a.query_start), 0)::float8 AS query_seconds,
                    CASE WHEN a.wait_event IS NOT NULL THEN a.wait_event_type || ': ' || a.wait_event END AS waiting_on,
                    left(regexp_replace(a.query, '\\s+', ' ', 'g'), {chars}::int) AS query,
                    a.backend_start AS connected_at, a.pid = pg_backend_pid() AS is_self,
                    count(*) OVER ()::int8 AS total
             FROM {ACTIVITY}{state_filter}
             ORDER BY CASE WHEN a.pid = pg_backend_pid() THEN 3 WHEN a.state = 'active' THEN 0
                           WHEN a.state LIKE 'idle in transaction%' THEN 1 ELSE 2 END,
                      a.state_change ASC NULLS LAST, a.pid
             LIMIT {limit}"
        ),
        &p,
    )?
    .to_structs()?;
    let by_state: Vec<StateCount> = db::run(
        "the connections by state",
        &format!(
            "SELECT coalesce(a.state, a.backend_type, 'unknown') AS state, count(*)::int8 AS count
             FROM {ACTIVITY} GROUP BY 1 ORDER BY 2 DESC, 1"
        ),
        &Params::default(),
    )?
    .to_structs()?;
    let total = rows.first().map_or(0, |r| r.total);
    let out = CheckConnectionsOutput {
        connections: rows.into_iter().map(|r| r.item).collect(),
        total,
        by_state,
    };
    Ok(Answer::new(connections_text(&out, &args), out))
}

fn connections_text(out: &CheckConnectionsOutput, args: &CheckConnectionsArgs) -> String {
    let all: i64 = out.by_state.iter().map(|s| s.count).sum();
    let states: Vec<String> = out
        .by_state
        .iter()
        .map(|s| format!("{} {}", s.count, s.state))
        .collect();
    let mut text_out = format!(
        "{} to this database: {}.",
        count(all, "connection"),
        states.join(", ")
    );
    if let Some(s) = &args.state {
        text_out.push_str(&format!(" {} in state `{s}`.", out.total));
    }
    if out.connections.is_empty() {
        return text_out;
    }
    let long: Vec<String> = out
        .connections
        .iter()
        .filter(|c| !c.is_self && c.state_seconds.unwrap_or(0.0) >= LONG_SECONDS)
        .filter_map(|c| match c.state.as_deref() {
            Some("active") => Some(format!(
                "pid {} running one query for {}",
                c.pid,
                human_duration(c.state_seconds.unwrap_or(0.0))
            )),
            Some(s) if s.starts_with("idle in transaction") => Some(format!(
                "pid {} idle in a transaction for {} (holds its locks and holds back vacuum)",
                c.pid,
                human_duration(c.state_seconds.unwrap_or(0.0))
            )),
            _ => None,
        })
        .collect();
    if !long.is_empty() {
        text_out.push_str(&format!("\nLook at: {}.", long.join("; ")));
    }
    let headers = [
        "pid",
        "user",
        "application",
        "client",
        "state",
        "for",
        "waiting on",
        "query",
    ];
    let cells: Vec<Vec<String>> = out
        .connections
        .iter()
        .map(|c| {
            let state = match (&c.state, c.is_self) {
                (_, true) => "active (this tool)".to_string(),
                (Some(s), false) => s.clone(),
                (None, false) => "-".into(),
            };
            vec![
                c.pid.to_string(),
                format::or_dash(c.username.as_deref()),
                format::or_dash(c.application.as_deref()),
                format::or_dash(c.client.as_deref()),
                state,
                if c.is_self {
                    "-".into()
                } else {
                    format::duration(c.state_seconds)
                },
                format::or_dash(c.waiting_on.as_deref()),
                format::or_dash(c.query.as_deref()),
            ]
        })
        .collect();
    text_out.push_str(&format!(
        "\nBusy connections first (active, then idle in transaction, longest first); `for` is the time in that state; `query` is the current or last statement.\n{}",
        text::table(&headers, &cells, 80)
    ));
    if (out.connections.len() as i64) < out.total {
        text_out.push_str(&format!(
            "\n\n{}",
            text::cut_note(
                out.connections.len(),
                out.total as usize,
                "connections",
                "give a state or raise limit"
            )
        ));
    }
    text_out
}

pub fn def() -> ToolDef {
    tool(
        "check_connections",
        "Connections, busy and longest first, with state, waits and query.",
        run,
    )
    .title("Check connections")
    .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::sql::Value;
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::{ago, fake, rows, t};

    use super::*;

    #[test]
    fn check_connections_ranks_busy_ones_first_and_flags_long_ones() {
        let cols = [
            ("pid", "int8"),
            ("username", "text"),
            ("application", "text"),
            ("client", "text"),
            ("state", "text"),
            ("state_seconds", "float8"),
            ("query_seconds", "float8"),
            ("waiting_on", "text"),
            (
                "query",
                "Run one read-only SQL statement (SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN) on Plue's PostgreSQL. Errors mark the position; timestamps are UTC.",
            ),
            ("connected_at", "timestamptz"),
            ("is_self", "bool"),
            ("total", "int8"),
        ];
        let conn = |pid: i64, state: &str, secs: f64, is_self: bool| {
            vec![
                Value::Int(pid),
                t("plue_reader"),
                t("psql"),
                t("127.0.0.1/32"),
                t(state),
                Value::Float(secs),
                Value::Float(secs),
                Value::Null,
                t("SELECT pg_sleep(600)"),
                ago(4000.0),
                Value::Boolean(is_self),
                Value::Int(3),
            ]
        };
        let log = fake(vec![
            (
                "left(regexp_replace",
                Ok(rows(
                    &cols,
                    vec![
                        conn(101, "idle in transaction", 420.0, false),
                        conn(102, "idle", 5.0, false),
                    ],
                )),
            ),
            (
                "GROUP BY 1",
                Ok(rows(
                    &[("state", "text"), ("count", "int8")],
                    vec![
                        vec![t("idle"), Value::Int(2)],
                        vec![t("active"), Value::Int(1)],
                    ],
                )),
            ),
        ]);
        let out = testing::call(&plugin(), "check_connections", json!({"limit": 2})).unwrap();
        let text = out.text_content();
        assert!(text.starts_with("3 connections to this database: 2 idle, 1 active.\nLook at: pid 101 idle in a transaction for 7m (holds its locks and holds back vacuum).\nBusy connections first"), "{text}");
        assert!(
            text.contains(
                "\n101  plue_reader  psql         127.0.0.1/32  idle in transaction  7m "
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "Showing 2 of 3 connections (1 left out); to narrow: give a state or raise limit."
            ),
            "{text}"
        );
        assert_eq!(log.borrow()[0].1, vec![Value::Int(200), Value::Int(2)]);
        assert_eq!(
            out.structured().unwrap()["by_state"][1],
            json!({"state": "active", "count": 1})
        );
    }
}
