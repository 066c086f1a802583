//! `db_stats` and `check_connections`: the database server's health from its
//! statistics views (`pg_stat_database`, `pg_stat_user_tables`,
//! `pg_stat_activity`; readable by a `pg_monitor` role).

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;
use plue_plugin_sdk::time::human_duration;

use crate::db::{self, Params};
use crate::format;
use crate::tables::ESTIMATED_ROWS;

/// Arguments of `db_stats`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DbStatsArgs {
    /// How many of the largest tables to list (default 10, at most 100).
    #[serde(default = "ten")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
}

fn ten() -> u32 {
    10
}

/// The database as a whole.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct DatabaseOut {
    /// The database's name.
    pub database: String,
    /// The server's version.
    pub server_version: String,
    /// Bytes on disk.
    pub size_bytes: i64,
    /// The same, for people.
    pub size: String,
    /// Seconds since the server started.
    pub uptime_seconds: Option<f64>,
    /// The server's connection limit.
    pub max_connections: i64,
    /// Connections to this database.
    pub connections: i64,
    /// Of which running a statement.
    pub active: i64,
    /// Of which idle.
    pub idle: i64,
    /// Of which idle inside a transaction.
    pub idle_in_transaction: i64,
    /// Transactions committed since statistics were reset.
    pub commits: Option<i64>,
    /// Transactions rolled back.
    pub rollbacks: Option<i64>,
    /// Share of block reads served from shared buffers (0 to 1).
    pub cache_hit_ratio: Option<f64>,
    /// Deadlocks detected.
    pub deadlocks: Option<i64>,
    /// Bytes written to temporary files.
    pub temp_bytes: Option<i64>,
}

/// A table's size and activity.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct TableStats {
    /// The schema.
    pub schema: String,
    /// The table.
    pub name: String,
    /// Bytes with indexes and TOAST.
    pub total_bytes: i64,
    /// The same, for people.
    pub size: String,
    /// Estimated rows (from the last VACUUM or ANALYZE, else the statistics' live rows).
    pub estimated_rows: Option<i64>,
    /// Dead rows waiting for vacuum.
    pub dead_rows: Option<i64>,
    /// Sequential scans.
    pub seq_scans: Option<i64>,
    /// Index scans.
    pub index_scans: Option<i64>,
    /// Last (auto)analyze, RFC 3339 UTC.
    pub last_analyze: Option<String>,
}

/// What `db_stats` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DbStatsOutput {
    /// The database as a whole.
    pub database: DatabaseOut,
    /// The largest tables, biggest first.
    pub largest_tables: Vec<TableStats>,
    /// How many user tables there are.
    pub table_count: i64,
}

#[derive(Deserialize)]
struct Counted<T> {
    #[serde(flatten)]
    item: T,
    total: i64,
}

const ACTIVITY: &str = "pg_stat_activity a WHERE a.datname = current_database()";

/// Report database statistics.
pub fn db_stats(args: DbStatsArgs) -> Result<Output, ToolError> {
    let database: DatabaseOut = db::run(
        "the database statistics",
        &format!(
            "SELECT current_database()::text AS database, current_setting('server_version') AS server_version,
                    pg_database_size(current_database())::int8 AS size_bytes,
                    pg_size_pretty(pg_database_size(current_database())) AS size,
                    extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_seconds,
                    current_setting('max_connections')::int8 AS max_connections,
                    (SELECT count(*) FROM {ACTIVITY})::int8 AS connections,
                    (SELECT count(*) FROM {ACTIVITY} AND a.state = 'active')::int8 AS active,
                    (SELECT count(*) FROM {ACTIVITY} AND a.state = 'idle')::int8 AS idle,
                    (SELECT count(*) FROM {ACTIVITY} AND a.state LIKE 'idle in transaction%')::int8 AS idle_in_transaction,
                    d.xact_commit::int8 AS commits, d.xact_rollback::int8 AS rollbacks,
                    CASE WHEN d.blks_hit + d.blks_read > 0 THEN d.blks_hit::float8 / (d.blks_hit + d.blks_read) END AS cache_hit_ratio,
                    d.deadlocks::int8 AS deadlocks, d.temp_bytes::int8 AS temp_bytes
             FROM pg_stat_database d WHERE d.datname = current_database()"
        ),
        &Params::default(),
    )?
    .to_structs()?
    .into_iter()
    .next()
    .ok_or_else(|| ToolError::failed("pg_stat_database has no row for the current database"))?;
    let mut p = Params::default();
    let limit = p.bind(i64::from(args.limit.clamp(1, 100)));
    let tables: Vec<Counted<TableStats>> = db::run(
        "the largest tables",
        &format!(
            "SELECT s.schemaname::text AS schema, s.relname::text AS name,
                    pg_total_relation_size(s.relid)::int8 AS total_bytes,
                    pg_size_pretty(pg_total_relation_size(s.relid)) AS size,
                    {ESTIMATED_ROWS} AS estimated_rows, s.n_dead_tup::int8 AS dead_rows,
                    s.seq_scan::int8 AS seq_scans, s.idx_scan::int8 AS index_scans,
                    greatest(s.last_analyze, s.last_autoanalyze) AS last_analyze,
                    count(*) OVER ()::int8 AS total
             FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
             ORDER BY pg_total_relation_size(s.relid) DESC, s.schemaname, s.relname
             LIMIT {limit}"
        ),
        &p,
    )?
    .to_structs()?;
    let table_count = tables.first().map_or(0, |t| t.total);
    let out = DbStatsOutput {
        database,
        largest_tables: tables.into_iter().map(|t| t.item).collect(),
        table_count,
    };
    Ok(Output::text(stats_text(&out)).with_structured(&out))
}

fn stats_text(s: &DbStatsOutput) -> String {
    let d = &s.database;
    let now = plue_plugin_sdk::time::now();
    let uptime = d
        .uptime_seconds
        .map(|u| format!(", up {}", human_duration(u)))
        .unwrap_or_default();
    let mut lines = vec![
        format!(
            "Database {}: {} on disk; PostgreSQL {}{uptime}.",
            d.database, d.size, d.server_version
        ),
        format!(
            "Connections: {} to this database (server limit {}): {} active, {} idle, {} idle in transaction.",
            d.connections, d.max_connections, d.active, d.idle, d.idle_in_transaction
        ),
    ];
    let mut activity = Vec::new();
    if let (Some(c), Some(r)) = (d.commits, d.rollbacks) {
        activity.push(format!("{c} transactions committed, {r} rolled back"));
    }
    if let Some(ratio) = d.cache_hit_ratio {
        activity.push(format!("cache hit ratio {:.2}%", ratio * 100.0));
    }
    if let Some(n) = d.deadlocks {
        activity.push(format!("{n} deadlocks"));
    }
    if let Some(b) = d.temp_bytes.filter(|b| *b > 0) {
        activity.push(format!("{b} bytes of temporary files"));
    }
    if !activity.is_empty() {
        lines.push(format!(
            "Since the statistics were reset: {}.",
            activity.join("; ")
        ));
    }
    let mut out = lines.join("\n");
    if !s.largest_tables.is_empty() {
        let headers = [
            "table",
            "size",
            "est. rows",
            "dead rows",
            "seq scans",
            "index scans",
            "last analyze (UTC)",
        ];
        let n = |v: Option<i64>| v.map_or_else(|| "-".into(), |v| v.to_string());
        let cells: Vec<Vec<String>> = s
            .largest_tables
            .iter()
            .map(|t| {
                vec![
                    if t.schema == "public" {
                        t.name.clone()
                    } else {
                        format!("{}.{}", t.schema, t.name)
                    },
                    t.size.clone(),
                    n(t.estimated_rows),
                    n(t.dead_rows),
                    n(t.seq_scans),
                    n(t.index_scans),
                    format::when(t.last_analyze.as_deref(), now),
                ]
            })
            .collect();
        out.push_str(&format!(
            "\n\nLargest tables ({} of {}, by size with indexes):\n{}",
            s.largest_tables.len(),
            s.table_count,
            text::table(&headers, &cells, 50)
        ));
    }
    out
}

/// Arguments of `check_connections`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CheckConnectionsArgs {
    /// Only connections in this state: `active`, `idle`, `idle in transaction`, … (default: all).
    #[serde(default)]
    pub state: Option<String>,
    /// How many connections to list (default 20, at most 200).
    #[serde(default = "twenty")]
    #[schemars(range(min = 1, max = 200))]
    pub limit: u32,
    /// How many characters of each connection's current or last query to show (default 200, at most 2000).
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

/// One connection (server backend) in structured content.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct ConnectionOut {
    /// The backend's process id.
    pub pid: i64,
    /// The role it is logged in as.
    pub username: Option<String>,
    /// The client's application_name.
    pub application: Option<String>,
    /// The client's address (null for Unix sockets and background workers).
    pub client: Option<String>,
    /// `active`, `idle`, `idle in transaction`, …; null for background workers.
    pub state: Option<String>,
    /// Seconds in that state.
    pub state_seconds: Option<f64>,
    /// Seconds since its current (or last) query started.
    pub query_seconds: Option<f64>,
    /// What it waits for (`Lock: transactionid`, `Client: ClientRead`, …).
    pub waiting_on: Option<String>,
    /// The start of its current or last query, cut to `query_chars`.
    pub query: Option<String>,
    /// When it connected (RFC 3339, UTC).
    pub connected_at: Option<String>,
    /// This is the connection that answered this tool.
    pub is_self: bool,
}

/// What `check_connections` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckConnectionsOutput {
    /// Connections, problems first: active and idle-in-transaction ones, longest first.
    pub connections: Vec<ConnectionOut>,
    /// How many connections matched.
    pub total: i64,
    /// Connections to this database by state (all states, before the `state` filter).
    pub by_state: Vec<StateCount>,
}

/// How many connections are in a state.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct StateCount {
    /// The state (or the backend type for background workers).
    pub state: String,
    /// How many connections.
    pub count: i64,
}

/// Connections running or idle in a transaction longer than this are pointed out.
const LONG_SECONDS: f64 = 60.0;

/// List the connections to the database.
pub fn check_connections(args: CheckConnectionsArgs) -> Result<Output, ToolError> {
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
    Ok(Output::text(connections_text(&out, &args)).with_structured(&out))
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
        format::count(all, "connection"),
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

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::sql::Value;
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::{ago, fake, rows, t};

    use super::*;

    #[test]
    fn db_stats_reports_size_connections_and_largest_tables() {
        let log = fake(vec![
            (
                "FROM pg_stat_database",
                Ok(rows(
                    &[
                        ("database", "text"),
                        ("server_version", "text"),
                        ("size_bytes", "int8"),
                        ("size", "text"),
                        ("uptime_seconds", "float8"),
                        ("max_connections", "int8"),
                        ("connections", "int8"),
                        ("active", "int8"),
                        ("idle", "int8"),
                        ("idle_in_transaction", "int8"),
                        ("commits", "int8"),
                        ("rollbacks", "int8"),
                        ("cache_hit_ratio", "float8"),
                        ("deadlocks", "int8"),
                        ("temp_bytes", "int8"),
                    ],
                    vec![vec![
                        t("plue"),
                        t("16.4"),
                        Value::Int(9_000_000),
                        t("8789 kB"),
                        Value::Float(7500.0),
                        Value::Int(50),
                        Value::Int(3),
                        Value::Int(1),
                        Value::Int(2),
                        Value::Int(0),
                        Value::Int(1200),
                        Value::Int(7),
                        Value::Float(0.9987),
                        Value::Int(0),
                        Value::Int(0),
                    ]],
                )),
            ),
            (
                "FROM pg_stat_user_tables",
                Ok(rows(
                    &[
                        ("schema", "text"),
                        ("name", "text"),
                        ("total_bytes", "int8"),
                        ("size", "text"),
                        ("estimated_rows", "int8"),
                        ("dead_rows", "int8"),
                        ("seq_scans", "int8"),
                        ("index_scans", "int8"),
                        ("last_analyze", "timestamptz"),
                        ("total", "int8"),
                    ],
                    vec![vec![
                        t("public"),
                        t("workflow_logs"),
                        Value::Int(262_144),
                        t("256 kB"),
                        Value::Int(982),
                        Value::Int(0),
                        Value::Int(4),
                        Value::Int(0),
                        Value::Null,
                        Value::Int(11),
                    ]],
                )),
            ),
        ]);
        let out = testing::call(&plugin(), "db_stats", json!({"limit": 1})).unwrap();
        let text = out.text_content();
        assert!(text.starts_with("Database plue: 8789 kB on disk; PostgreSQL 16.4, up 2h 5m.\nConnections: 3 to this database (server limit 50): 1 active, 2 idle, 0 idle in transaction.\nSince the statistics were reset: 1200 transactions committed, 7 rolled back; cache hit ratio 99.87%; 0 deadlocks."), "{text}");
        assert!(
            text.contains(
                "Largest tables (1 of 11, by size with indexes):\ntable          size    est. rows"
            ),
            "{text}"
        );
        assert!(text.contains("\nworkflow_logs  256 kB  982  "), "{text}");
        assert_eq!(log.borrow()[1].1, vec![Value::Int(1)]);
        assert_eq!(out.structured().unwrap()["database"]["max_connections"], 50);
    }

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
            ("query", "text"),
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
