//! This plugin's parts of the shared `health-check` prompt (connections against
//! the server's limit, long-running statements and idle transactions, the
//! database's size; one line when quick) and of `observability` (only with
//! `full`: the same facts plus cache and largest tables), headed
//! `## Database (PostgreSQL)` so each stands alone when the host joins several
//! plugins' parts. They call `db_stats` and `check_connections`.

use plue_plugin_sdk::PromptDef;
use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::time::human_duration;

use crate::tools::connections::{self, CheckConnectionsArgs, CheckConnectionsOutput};
use crate::tools::stats::{self, DbStatsArgs, DbStatsOutput};

/// The heading of this plugin's parts.
pub const HEADING: &str = "## Database (PostgreSQL)";
/// A statement running (or a transaction idle) longer than this is long.
pub const LONG_SECONDS: f64 = 60.0;
/// Connections above this share of the server's limit (percent) are degraded…
pub const DEGRADED_ABOVE: f64 = 80.0;
/// …and above this, unhealthy.
pub const UNHEALTHY_ABOVE: f64 = 95.0;
/// Connections read to find long ones (busy ones come first).
const CONNECTIONS_READ: u32 = 50;
/// Long connections listed in full mode.
const LONG_LISTED: usize = 5;

/// The shared prompts' descriptions, word for word the same in every plugin that
/// offers them (the host joins the parts under one prompt).
const OBSERVABILITY: &str = "The state of the stack now, one part per source (workflows, logs, database, …): failures, errors, waiting work; more detail with `full`.";
const HEALTH_CHECK: &str = "Is everything healthy: a HEALTHY, DEGRADED or UNHEALTHY verdict per part with its evidence; one line each (quick, the default) or the details (full).";
const FULL_LONG: &str = "`true` for the long version: more detail in every part.";
const QUICK: &str = "`true` for one line per part (the default).";
const FULL_DETAILS: &str = "`true` for the details behind each part's verdict.";

pub fn health_check() -> PromptDef {
    prompt("health-check", HEALTH_CHECK, render_health)
        .title("Health check")
        .argument("quick", QUICK)
        .argument("full", FULL_DETAILS)
}

pub fn observability() -> PromptDef {
    prompt("observability", OBSERVABILITY, render_observability)
        .title("Observability briefing")
        .argument("full", FULL_LONG)
}

/// The facts both parts use.
struct Facts {
    stats: Answer<DbStatsOutput>,
    conns: Answer<CheckConnectionsOutput>,
}

impl Facts {
    fn read(tables: u32) -> Result<Facts, ToolError> {
        Ok(Facts {
            stats: stats::run(DbStatsArgs { limit: tables })?,
            conns: connections::run(CheckConnectionsArgs {
                state: None,
                limit: CONNECTIONS_READ,
                query_chars: 120,
            })?,
        })
    }

    /// Other connections running one statement, or idle in a transaction, for
    /// longer than [`LONG_SECONDS`]: (running, idle in transaction), longest first.
    fn long(
        &self,
    ) -> (
        Vec<&connections::ConnectionOut>,
        Vec<&connections::ConnectionOut>,
    ) {
        let long = |prefix: &str| {
            let mut v: Vec<_> = self
                .conns
                .value()
                .connections
                .iter()
                .filter(|c| !c.is_self && c.state_seconds.unwrap_or(0.0) >= LONG_SECONDS)
                .filter(|c| c.state.as_deref().is_some_and(|s| s.starts_with(prefix)))
                .collect();
            v.sort_by(|a, b| {
                b.state_seconds
                    .unwrap_or(0.0)
                    .total_cmp(&a.state_seconds.unwrap_or(0.0))
            });
            v
        };
        (long("active"), long("idle in transaction"))
    }

    fn used_percent(&self) -> f64 {
        let d = &self.stats.value().database;
        if d.max_connections > 0 {
            100.0 * d.connections as f64 / d.max_connections as f64
        } else {
            0.0
        }
    }

    fn verdict(&self) -> (&'static str, Vec<String>) {
        let used = self.used_percent();
        let (running, idle) = self.long();
        let mut reasons = Vec::new();
        if used > DEGRADED_ABOVE {
            reasons.push(format!("connections at {used:.0}% of the limit"));
        }
        if !running.is_empty() {
            reasons.push(format!("{} statement(s) running over 60 s", running.len()));
        }
        if !idle.is_empty() {
            reasons.push(format!("{} transaction(s) idle over 60 s", idle.len()));
        }
        let word = if used > UNHEALTHY_ABOVE {
            "UNHEALTHY"
        } else if reasons.is_empty() {
            "HEALTHY"
        } else {
            "DEGRADED"
        };
        (word, reasons)
    }

    fn line(&self) -> String {
        let d = &self.stats.value().database;
        let (word, reasons) = self.verdict();
        let (running, idle) = self.long();
        format!(
            "Database {}: {word}{} — {} of {} connections ({:.0}%), {} active; {} running over 60 s, {} idle in transaction over 60 s; size {}",
            d.database,
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join("; "))
            },
            d.connections,
            d.max_connections,
            self.used_percent(),
            d.active,
            running.len(),
            idle.len(),
            d.size
        )
    }

    fn details(&self) -> Vec<String> {
        let s = self.stats.value();
        let d = &s.database;
        let mut out = Vec::new();
        let (running, idle) = self.long();
        for (what, list) in [
            ("Running over 60 s", &running),
            ("Idle in transaction over 60 s", &idle),
        ] {
            if list.is_empty() {
                continue;
            }
            out.push(format!("{what} ({}, longest first):", list.len()));
            out.extend(list.iter().take(LONG_LISTED).map(|c| {
                format!(
                    "  - pid {} ({}) for {}: {}",
                    c.pid,
                    c.username.as_deref().unwrap_or("-"),
                    human_duration(c.state_seconds.unwrap_or(0.0)),
                    c.query.as_deref().unwrap_or("-")
                )
            }));
            if list.len() > LONG_LISTED {
                out.push(format!(
                    "  ({} more: check_connections())",
                    list.len() - LONG_LISTED
                ));
            }
        }
        let mut facts = Vec::new();
        if let Some(r) = d.cache_hit_ratio {
            facts.push(format!("cache hit ratio {:.2}%", r * 100.0));
        }
        if let Some(n) = d.deadlocks {
            facts.push(format!("{n} deadlocks"));
        }
        if let Some(u) = d.uptime_seconds {
            facts.push(format!("up {}", human_duration(u)));
        }
        if !facts.is_empty() {
            out.push(format!(
                "PostgreSQL {}: {}",
                d.server_version,
                facts.join(", ")
            ));
        }
        if !s.largest_tables.is_empty() {
            out.push(format!(
                "Largest tables ({} of {}): {}",
                s.largest_tables.len(),
                s.table_count,
                s.largest_tables
                    .iter()
                    .map(|t| format!("{} {}", t.name, t.size))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out
    }

    fn next(&self) -> String {
        let (running, idle) = self.long();
        let mut next = Vec::new();
        if !running.is_empty() || !idle.is_empty() {
            next.push("check_connections()".to_string());
        }
        if let Some(c) = running.first()
            && c.query.is_some()
        {
            next.push("explain_query(sql=…) on the long statement".into());
        }
        next.push("db_stats()".into());
        format!("Next tools: {}", next.join("; "))
    }
}

fn render_health(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let full = args.flag("full") && !args.flag("quick");
    let f = Facts::read(if full { 3 } else { 1 })?;
    let mut out = vec![HEADING.to_string(), f.line()];
    if full {
        out.extend(f.details());
    }
    out.push(f.next());
    Ok(Briefing::text(out.join("\n")).described(format!("Database: {}", f.verdict().0)))
}

/// Nothing (no messages) without `full`: the database adds to the long version only.
fn render_observability(args: &PromptArgs) -> Result<Briefing, ToolError> {
    if !args.flag("full") {
        return Ok(Briefing::default().described("Database: only with full=true"));
    }
    let f = Facts::read(3)?;
    let mut out = vec![HEADING.to_string(), f.line()];
    out.extend(f.details());
    out.push(f.next());
    Ok(Briefing::text(out.join("\n")).described("Database connections, size and long statements"))
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::sql::Value;
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::fake;

    /// 45 of 50 connections (90%): one statement running 125 s, one
    /// transaction idle 70 s, one idle connection and this tool's own.
    fn serve() -> plue_plugin_sdk::testing::SqlLog {
        fake(vec![
            (
                "FROM pg_stat_database",
                Ok(testing::json_rows(&[serde_json::json!({
                "database": "plue", "server_version": "16.4", "size_bytes": 9_000_000, "size": "8789 kB",
                "uptime_seconds": 7500.0, "max_connections": 50, "connections": 45, "active": 2, "idle": 42,
                "idle_in_transaction": 1, "commits": 1200, "rollbacks": 7, "cache_hit_ratio": 0.9987,
                "deadlocks": 0, "temp_bytes": 0})])),
            ),
            (
                "FROM pg_stat_user_tables",
                Ok(testing::json_rows(&[
                    serde_json::json!({"schema": "public", "name": "workflow_logs", "total_bytes": 5_000_000, "size": "4883 kB", "total": 12}),
                ])),
            ),
            (
                "AS is_self",
                Ok(testing::json_rows(&[
                    serde_json::json!({"pid": 101, "username": "plue", "state": "active", "state_seconds": 125.0, "query": "SELECT pg_sleep(600)", "is_self": false, "total": 4}),
                    serde_json::json!({"pid": 102, "username": "plue", "state": "idle in transaction", "state_seconds": 70.0, "query": "UPDATE runs SET x = 1", "is_self": false, "total": 4}),
                    serde_json::json!({"pid": 103, "username": "plue", "state": "idle", "state_seconds": 900.0, "query": "SELECT 1", "is_self": false, "total": 4}),
                    serde_json::json!({"pid": 104, "username": "mcp", "state": "active", "state_seconds": 0.0, "query": "SELECT …", "is_self": true, "total": 4}),
                ])),
            ),
            (
                "GROUP BY 1",
                Ok(testing::json_rows(&[
                    serde_json::json!({"state": "idle", "count": 42}),
                ])),
            ),
        ])
    }

    #[test]
    fn health_check_quick_is_one_line_from_stats_and_connections() {
        serve();
        let b = testing::prompt(&plugin(), "health-check", &[]).unwrap();
        let text = b.texts().join("\n");
        // 45/50 = 90% > 80%; the idle connection (900 s) is not long: only busy states count.
        assert_eq!(
            text,
            "## Database (PostgreSQL)\nDatabase plue: DEGRADED (connections at 90% of the limit; 1 statement(s) running over 60 s; 1 transaction(s) idle over 60 s) — 45 of 50 connections (90%), 2 active; 1 running over 60 s, 1 idle in transaction over 60 s; size 8789 kB\nNext tools: check_connections(); explain_query(sql=…) on the long statement; db_stats()"
        );
        assert_eq!(b.description(), Some("Database: DEGRADED"));
    }

    #[test]
    fn health_check_full_lists_the_long_ones() {
        let log = serve();
        let b = testing::prompt(&plugin(), "health-check", &[("full", "1")]).unwrap();
        let text = b.texts().join("\n");
        assert!(text.contains("Running over 60 s (1, longest first):\n  - pid 101 (plue) for 2m 5s: SELECT pg_sleep(600)"), "{text}");
        assert!(text.contains("Idle in transaction over 60 s (1, longest first):\n  - pid 102 (plue) for 1m 10s: UPDATE runs SET x = 1"), "{text}");
        assert!(
            text.contains("PostgreSQL 16.4: cache hit ratio 99.87%, 0 deadlocks, up 2h 5m"),
            "{text}"
        );
        assert!(
            text.contains("Largest tables (1 of 12): workflow_logs 4883 kB"),
            "{text}"
        );
        // Full asks db_stats for 3 tables.
        let log = log.borrow();
        let tables = log
            .iter()
            .find(|(s, _)| s.contains("pg_stat_user_tables"))
            .unwrap();
        assert_eq!(tables.1[0], Value::Int(3));
    }

    #[test]
    fn observability_only_with_full() {
        let log = serve();
        let b = testing::prompt(&plugin(), "observability", &[]).unwrap();
        assert!(b.texts().is_empty());
        assert!(log.borrow().is_empty(), "nothing is read without full");
        serve();
        let b = testing::prompt(&plugin(), "observability", &[("full", "true")]).unwrap();
        let text = b.texts().join("\n");
        assert!(
            text.starts_with("## Database (PostgreSQL)\nDatabase plue: DEGRADED"),
            "{text}"
        );
        assert!(text.lines().count() <= 12, "{text}");
    }

    #[test]
    fn prompts_use_the_shared_argument_names() {
        let manifest = plue_plugin_sdk::__private::manifest(&plugin());
        let prompts: Vec<(&str, Vec<&str>)> = manifest
            .prompts
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.arguments.iter().map(|a| a.name.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            prompts,
            [
                ("health-check", vec!["quick", "full"]),
                ("observability", vec!["full"])
            ]
        );
    }
}
