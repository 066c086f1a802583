//! `db_stats`: the database's size, uptime, connections, transaction and
//! cache statistics and its largest tables, from the statistics views
//! (`pg_stat_database`, `pg_stat_user_tables`; readable by a `pg_monitor` role).

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;
use plue_plugin_sdk::time::human_duration;

use crate::db::{self, Counted, Params};
use crate::format;
use crate::tools::connections::ACTIVITY;
use crate::tools::tables::ESTIMATED_ROWS;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DbStatsArgs {
    #[serde(default = "ten")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
}

fn ten() -> u32 {
    10
}

// The database as a whole.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct DatabaseOut {
    // The database's name.
    pub database: String,
    // The server's version.
    pub server_version: String,
    /// Bytes on disk.
    pub size_bytes: i64,
    // The same, for people.
    pub size: String,
    /// Seconds since the server started.
    pub uptime_seconds: Option<f64>,
    // The server's connection limit.
    pub max_connections: i64,
    // Connections to this database.
    pub connections: i64,
    // Of which running a statement.
    pub active: i64,
    // Of which idle.
    pub idle: i64,
    // Of which idle inside a transaction.
    pub idle_in_transaction: i64,
    // Transactions committed since statistics were reset.
    pub commits: Option<i64>,
    // Transactions rolled back.
    pub rollbacks: Option<i64>,
    /// Share of block reads served from shared buffers (0 to 1).
    pub cache_hit_ratio: Option<f64>,
    // Deadlocks detected.
    pub deadlocks: Option<i64>,
    /// Bytes written to temporary files.
    pub temp_bytes: Option<i64>,
}

// A table's size and activity.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct TableStats {
    // The schema.
    pub schema: String,
    // The table.
    pub name: String,
    /// Bytes with indexes and TOAST.
    pub total_bytes: i64,
    // The same, for people.
    pub size: String,
    // Estimated rows (from the last VACUUM or ANALYZE, else the statistics' live rows).
    pub estimated_rows: Option<i64>,
    // Dead rows waiting for vacuum.
    pub dead_rows: Option<i64>,
    // Sequential scans.
    pub seq_scans: Option<i64>,
    // Index scans.
    pub index_scans: Option<i64>,
    pub last_analyze: Option<String>,
}

/// What `db_stats` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DbStatsOutput {
    // The database as a whole.
    pub database: DatabaseOut,
    // The largest tables, biggest first.
    pub largest_tables: Vec<TableStats>,
    // How many user tables there are.
    pub table_count: i64,
}

/// Report database statistics.
pub fn run(args: DbStatsArgs) -> Result<Answer<DbStatsOutput>, ToolError> {
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
    Ok(Answer::new(stats_text(&out), out))
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

pub fn def() -> ToolDef {
    tool(
        "db_stats",
        "Database health: size, connections, cache hits, largest tables.",
        run,
    )
    .title("Database statistics")
    .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::sql::Value;
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::{fake, rows, t};

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
}
