//! The database tool group: ten read-only tools on Plue's PostgreSQL database
//! (granted to the plugin as database `plue`), with the names and parameters of
//! the original Plue database server, against Plue's real schema.
//!
//! Reading only is the host's guarantee, not this plugin's: every statement,
//! the agent's own included, goes to the host's `sql` capability, which runs
//! it alone in a read-only transaction with a timeout and accepts only reads.
//! The plugin adds no keyword filter of its own ([`db`]).
//!
//! Modules: [`db`] (the door to the database), [`errors`], [`format`] (tables,
//! UTC times, secret prefixes), [`plan`] (EXPLAIN JSON); one module per tool
//! family: [`query`], [`explain`], [`tables`], [`describe`], [`users`],
//! [`repos`], [`sessions`], [`activity`], [`stats`], [`connections`].

// The EXPLAIN fixtures in the tests are deep `json!` literals.
#![cfg_attr(test, recursion_limit = "256")]

pub mod activity;
pub mod connections;
pub mod db;
pub mod describe;
pub mod errors;
pub mod explain;
pub mod format;
pub mod plan;
pub mod query;
pub mod repos;
pub mod sessions;
pub mod stats;
pub mod tables;
pub mod users;

#[cfg(test)]
mod testkit;

use plue_plugin_sdk::prelude::*;

/// The plugin description: its capability (database `plue`) and its tools.
pub fn plugin() -> Plugin {
    Plugin::new(
        "database",
        env!("CARGO_PKG_VERSION"),
        "Read-only access to Plue's PostgreSQL database: run SELECT queries, read query plans, \
         browse tables and their columns, look up users, repositories and sessions, and check \
         activity, size and connections. Every statement runs in a read-only transaction with a \
         timeout; times are UTC.",
    )
    .sql(db::DATABASE)
    .tool(
        tool(
            "query",
            "Run one read-only SQL statement on Plue's PostgreSQL; times are UTC.",
            query::run,
        )
        .title("Run a read-only SQL query")
        .read_only(),
    )
    .tool(
        tool(
            "describe_table",
            "A table's columns, constraints, foreign keys, indexes, rows and size.",
            describe::run,
        )
        .title("Describe a table")
        .read_only(),
    )
    .tool(
        tool(
            "list_tables",
            "Tables and views with rows, size and comment: where data lives.",
            tables::run,
        )
        .title("List tables")
        .read_only(),
    )
    .tool(
        tool(
            "find_user",
            "A Plue user by id, username or email, with repositories, sessions and tokens.",
            users::run,
        )
        .title("Find a user")
        .read_only(),
    )
    .tool(
        tool(
            "find_repository",
            "A repository by id or owner/name, with workflows and recent runs.",
            repos::run,
        )
        .title("Find a repository")
        .read_only(),
    )
    .tool(
        tool(
            "recent_activity",
            "New users, repositories, sessions and runs in the last `hours`.",
            activity::run,
        )
        .title("Recent activity")
        .read_only(),
    )
    .tool(
        tool(
            "db_stats",
            "Database health: size, connections, cache hits, largest tables.",
            stats::run,
        )
        .title("Database statistics")
        .read_only(),
    )
    .tool(
        tool(
            "find_sessions",
            "Cookie sessions, newest first, optionally of one user.",
            sessions::run,
        )
        .title("Find sessions")
        .read_only(),
    )
    .tool(
        tool(
            "check_connections",
            "Connections, busy and longest first, with state, waits and query.",
            connections::run,
        )
        .title("Check connections")
        .read_only(),
    )
    .tool(
        tool(
            "explain_query",
            "Why a read-only query is slow: costliest plan nodes and misestimates.",
            explain::run,
        )
        .title("Explain a query")
        .read_only(),
    )
}

plue_plugin_sdk::export_plugin!(plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_read_only_tools_with_the_original_names_and_parameters() {
        let p = plugin();
        let names: Vec<&str> = p.tools().iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            [
                "query",
                "describe_table",
                "list_tables",
                "find_user",
                "find_repository",
                "recent_activity",
                "db_stats",
                "find_sessions",
                "check_connections",
                "explain_query"
            ]
        );
        let original: [(&str, &[&str], &[&str]); 10] = [
            ("query", &["sql", "limit"], &["sql"]),
            ("describe_table", &["table"], &["table"]),
            ("list_tables", &[], &[]),
            ("find_user", &["username", "email", "id"], &[]),
            ("find_repository", &["owner", "name", "id"], &[]),
            ("recent_activity", &["hours"], &[]),
            ("db_stats", &[], &[]),
            ("find_sessions", &["user_id", "active_only"], &[]),
            ("check_connections", &[], &[]),
            ("explain_query", &["sql"], &["sql"]),
        ];
        for (tool, params, required) in original {
            let def = p.tools().iter().find(|t| t.name() == tool).unwrap();
            let schema = def.input_schema();
            for param in params {
                let prop = &schema["properties"][param];
                assert!(prop.is_object(), "{tool} lacks parameter {param}: {schema}");
                assert!(
                    prop["description"].as_str().is_some_and(|d| d.len() > 10),
                    "{tool}.{param} has no description"
                );
            }
            let got: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            assert_eq!(got, required, "{tool} required parameters");
            assert!(def.output_schema().is_some(), "{tool} has no output schema");
        }
        let manifest = plue_plugin_sdk::__private::manifest(&p);
        assert_eq!(manifest.capabilities.sql, ["plue"]);
        assert!(
            manifest
                .tools
                .iter()
                .all(|t| t.annotations.read_only && !t.annotations.destructive)
        );
    }
}

plue_plugin_sdk::schema_test!(plugin);
