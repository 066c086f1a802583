//! `query`: one read-only statement written by the agent, passed unchanged to
//! the host's sql capability (which alone decides what may run), answered as a
//! bounded aligned table plus typed rows.

use plue_plugin_sdk::prelude::*;

use crate::db;
use crate::format::{self, Bounds};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct QueryArgs {
    /// Runs as is, read-only, with a timeout.
    pub sql: String,
    /// Add LIMIT to make the database do less work.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: u32,
    /// Text table cell width; structuredContent is uncut.
    #[serde(default = "default_width")]
    #[schemars(range(min = 8, max = 2000))]
    pub max_width: u32,
}

fn default_limit() -> u32 {
    100
}

fn default_width() -> u32 {
    60
}

/// Run the agent's statement.
pub fn run(args: QueryArgs) -> Result<Answer<crate::format::ResultSet>, ToolError> {
    if args.sql.trim().is_empty() {
        return Err(ToolError::invalid(
            "`sql` is empty: give one SELECT (or WITH, VALUES, TABLE, SHOW, EXPLAIN) statement",
        ));
    }
    let rows = db::run_user("", &args.sql)?;
    let bounds = Bounds {
        rows: args.limit.clamp(1, 1000) as usize,
        width: args.max_width.clamp(8, 2000) as usize,
        ..Bounds::default()
    };
    let rendered = format::result_set(
        &rows,
        bounds,
        "add a WHERE clause or a LIMIT, aggregate, or select fewer columns",
    );
    let count = rows.rows.len();
    let mut text = match (count, rows.truncated) {
        (0, _) => "No rows.".to_string(),
        (1, _) => "1 row.".to_string(),
        (n, false) => format!("{n} rows."),
        (n, true) => format!("{n} rows (the database's row cap; more exist)."),
    };
    if count > 0 || !rows.columns.is_empty() {
        text.push('\n');
        text.push_str(&rendered.table);
    }
    for note in &rendered.notes {
        text.push_str("\n\n");
        text.push_str(note);
    }
    Ok(Answer::new(text, rendered.structured))
}

pub fn def() -> ToolDef {
    tool(
        "query",
        "Run one read-only SQL statement on Plue's PostgreSQL; times are UTC.",
        run,
    )
    .title("Run a read-only SQL query")
    .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::sql::{DatabaseError, SqlError, Value};
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::{fake, rows, t};

    use super::*;

    #[test]
    fn passes_the_statement_unchanged_and_answers_a_table_and_typed_rows() {
        let sql = "WITH x AS (SELECT 1) SELECT id, username, created_at FROM users ORDER BY id; ";
        let log = fake(vec![(
            "FROM users",
            Ok(rows(
                &[
                    ("id", "int4"),
                    ("username", "varchar"),
                    ("created_at", "timestamptz"),
                ],
                vec![
                    vec![
                        Value::Int(1),
                        t("alice"),
                        Value::Timestamptz("2026-01-02T03:04:05Z".into()),
                    ],
                    vec![Value::Int(2), t("bob"), Value::Null],
                ],
            )),
        )]);
        let out = testing::call(&plugin(), "query", json!({"sql": sql})).unwrap();
        assert_eq!(log.borrow()[0], (sql.to_string(), vec![]));
        assert_eq!(
            out.text_content(),
            "2 rows.\nid  username  created_at\n--  --------  --------------------\n1   alice     2026-01-02T03:04:05Z\n2   bob       NULL"
        );
        let s = out.structured().unwrap();
        assert_eq!(
            s["columns"][2],
            json!({"name": "created_at", "type": "timestamptz"})
        );
        assert_eq!(
            s["rows"],
            json!([[1, "alice", "2026-01-02T03:04:05Z"], [2, "bob", null]])
        );
        assert_eq!(s["truncated"], false);
    }

    #[test]
    fn shows_at_most_limit_rows() {
        fake(vec![(
            "generate_series",
            Ok(rows(
                &[("n", "int4")],
                (1..=5).map(|i| vec![Value::Int(i)]).collect(),
            )),
        )]);
        let out = testing::call(
            &plugin(),
            "query",
            json!({"sql": "SELECT generate_series(1,5) n", "limit": 2}),
        )
        .unwrap();
        assert!(out.text_content().ends_with("Showing 2 of 5 rows (3 left out); to narrow: add a WHERE clause or a LIMIT, aggregate, or select fewer columns."), "{}", out.text_content());
        assert_eq!(out.structured().unwrap()["rows"], json!([[1], [2]]));
    }

    #[test]
    fn an_empty_result_says_so() {
        fake(vec![("WHERE false", Ok(rows(&[("id", "int4")], vec![])))]);
        let out = testing::call(
            &plugin(),
            "query",
            json!({"sql": "SELECT id FROM users WHERE false"}),
        )
        .unwrap();
        assert_eq!(out.text_content(), "No rows.\nid\n--");
    }

    #[test]
    fn postgres_errors_point_at_the_position() {
        fake(vec![(
            "nme",
            Err(SqlError::Database(DatabaseError {
                code: "42703".into(),
                message: "column \"nme\" does not exist".into(),
                detail: None,
                hint: None,
                position: Some(8),
            })),
        )]);
        let err =
            testing::call(&plugin(), "query", json!({"sql": "SELECT nme FROM users"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "PostgreSQL error 42703: column \"nme\" does not exist (at character 8)\n  SELECT nme FROM users\n         ^"
        );
    }

    #[test]
    fn the_hosts_refusal_is_passed_on() {
        fake(vec![(
            "DELETE",
            Err(SqlError::Refused(
                "only statements that read are accepted, not DELETE".into(),
            )),
        )]);
        let err =
            testing::call(&plugin(), "query", json!({"sql": "DELETE FROM users"})).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("refused: only statements that read are accepted, not DELETE"),
            "{err}"
        );
    }

    #[test]
    fn nothing_valid_is_filtered_by_the_plugin() {
        // Words the original keyword filter rejected reach the database untouched.
        for sql in [
            "SELECT 'do' AS word, 1 AS \"lock\"",
            "(SELECT 1)",
            "-- comment\nSELECT 1",
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY id) FROM users",
            "SHOW server_version",
            "SELECT created_at, update_count FROM t",
        ] {
            let log = fake(vec![("", Ok(rows(&[("x", "text")], vec![vec![t("ok")]])))]);
            testing::call(&plugin(), "query", json!({ "sql": sql })).unwrap();
            assert_eq!(log.borrow()[0].0, sql);
        }
    }
}
