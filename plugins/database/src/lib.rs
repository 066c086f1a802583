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
//! in [`tools`], each holding its arguments, answer, handler and definition;
//! [`prompts`] its parts of the shared `health-check` and `observability` prompts.

// The EXPLAIN fixtures in the tests are deep `json!` literals.
#![cfg_attr(test, recursion_limit = "256")]

pub mod db;
pub mod errors;
pub mod format;
pub mod plan;
pub mod prompts;
pub mod tools;

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
    .tool(tools::query::def())
    .tool(tools::describe::def())
    .tool(tools::tables::def())
    .tool(tools::users::def())
    .tool(tools::repos::def())
    .tool(tools::activity::def())
    .tool(tools::stats::def())
    .tool(tools::sessions::def())
    .tool(tools::connections::def())
    .tool(tools::explain::def())
    .prompt(prompts::health_check())
    .prompt(prompts::observability())
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
