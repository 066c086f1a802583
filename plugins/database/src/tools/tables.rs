//! `list_tables`: the tables (and views) of the database with their size,
//! column count, estimated rows and description, from the system catalogs;
//! exact `count(*)` per table when asked.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::sql::Value;
use plue_plugin_sdk::text;

use crate::db::{self, Counted, Params};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListTablesArgs {
    /// Default: all but PostgreSQL's own.
    #[serde(default)]
    pub schema: Option<String>,
    /// Substring, case-insensitive, `%` and `_` literal.
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: u32,
    /// count(*) instead of estimates; slower.
    #[serde(default)]
    pub exact_counts: bool,
}

fn default_limit() -> u32 {
    100
}

/// Tables counted exactly at most.
const EXACT_MAX: usize = 100;

// One table in structured content.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct TableInfo {
    // The schema.
    pub schema: String,
    // The table's name.
    pub name: String,
    // `table`, `partitioned table`, `view`, `materialized view` or `foreign table`.
    pub kind: String,
    // Rows according to the statistics (live tuples, else the planner's estimate); null when unknown.
    pub estimated_rows: Option<i64>,
    // Rows counted with count(*), when `exact_counts` was asked.
    #[serde(default)]
    pub exact_rows: Option<i64>,
    /// Bytes, with indexes and TOAST.
    pub total_bytes: i64,
    // The same, for people (`64 kB`).
    pub size: String,
    // How many columns.
    pub columns: i64,
    // The table's comment.
    pub description: Option<String>,
}

/// What `list_tables` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListTablesOutput {
    // The tables listed, `public` first, then by schema and name.
    pub tables: Vec<TableInfo>,
    // How many tables matched in all.
    pub total: i64,
}

/// List the tables.
pub fn run(args: ListTablesArgs) -> Result<Answer<ListTablesOutput>, ToolError> {
    let mut p = Params::default();
    let mut filters = String::new();
    if let Some(schema) = args
        .schema
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        filters.push_str(&format!(" AND n.nspname = {}::text", p.bind(schema)));
    }
    if let Some(pattern) = args
        .pattern
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        filters.push_str(&format!(
            r" AND c.relname ILIKE {}::text ESCAPE '\'",
            p.bind(db::contains_pattern(pattern))
        ));
    }
    let limit = p.bind(i64::from(args.limit.clamp(1, 1000)));
    let statement = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS name, {KIND} AS kind,
                {ESTIMATED_ROWS} AS estimated_rows,
                pg_total_relation_size(c.oid)::int8 AS total_bytes,
                pg_size_pretty(pg_total_relation_size(c.oid)) AS size,
                (SELECT count(*) FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)::int8 AS columns,
                obj_description(c.oid, 'pg_class') AS description,
                count(*) OVER ()::int8 AS total
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'{filters}
         ORDER BY n.nspname = 'public' DESC, n.nspname, c.relname
         LIMIT {limit}"
    );
    let rows: Vec<Counted<TableInfo>> =
        db::run("the list of tables", &statement, &p)?.to_structs()?;
    let total = rows.first().map_or(0, |r| r.total);
    let mut tables: Vec<TableInfo> = rows.into_iter().map(|r| r.item).collect();
    let mut count_errors = Vec::new();
    if args.exact_counts {
        for table in tables.iter_mut().take(EXACT_MAX) {
            let statement = format!(
                "SELECT count(*) FROM {}.{}",
                db::quote_ident(&table.schema),
                db::quote_ident(&table.name)
            );
            match db::run("a row count", &statement, &Params::default()) {
                Ok(r) => {
                    table.exact_rows = r
                        .rows
                        .first()
                        .and_then(|r| r.first())
                        .and_then(Value::as_i64)
                }
                Err(e) => count_errors.push(format!("{}: {e}", table.name)),
            }
        }
    }
    Ok(Answer::new(
        describe(&tables, total, &args, &count_errors),
        ListTablesOutput { tables, total },
    ))
}

/// The SQL for a relation's estimated rows: the planner's count from the last
/// VACUUM or ANALYZE, else the statistics' live tuples (needs `pg_class c` and
/// `pg_stat_all_tables s`).
pub const ESTIMATED_ROWS: &str =
    "(CASE WHEN c.reltuples >= 0 THEN c.reltuples::int8 ELSE s.n_live_tup END)";

/// The SQL for a relation's kind, as a word.
pub const KIND: &str = "CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view' \
                        WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' ELSE c.relkind::text END";

fn describe(
    tables: &[TableInfo],
    total: i64,
    args: &ListTablesArgs,
    count_errors: &[String],
) -> String {
    let scope = match (&args.schema, &args.pattern) {
        (Some(s), Some(p)) => format!(" in schema {s} matching `{p}`"),
        (Some(s), None) => format!(" in schema {s}"),
        (None, Some(p)) => format!(" matching `{p}`"),
        (None, None) => String::new(),
    };
    if tables.is_empty() {
        return format!(
            "No tables{scope}.{}",
            if scope.is_empty() {
                ""
            } else {
                " list_tables without filters shows them all."
            }
        );
    }
    let single_schema = tables.iter().all(|t| t.schema == tables[0].schema);
    let rows_header = if args.exact_counts {
        "rows"
    } else {
        "est. rows"
    };
    let headers = [
        "table",
        "kind",
        rows_header,
        "size",
        "columns",
        "description",
    ];
    let cells: Vec<Vec<String>> = tables
        .iter()
        .map(|t| {
            let name = if single_schema || t.schema == "public" {
                t.name.clone()
            } else {
                format!("{}.{}", t.schema, t.name)
            };
            let rows = match (args.exact_counts, t.exact_rows, t.estimated_rows) {
                (true, Some(n), _) => n.to_string(),
                (true, None, _) => "?".into(),
                (false, _, Some(n)) => n.to_string(),
                (false, _, None) => "-".into(),
            };
            vec![
                name,
                t.kind.clone(),
                rows,
                t.size.clone(),
                t.columns.to_string(),
                t.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let schema_note = if single_schema {
        format!(" (schema {})", tables[0].schema)
    } else {
        String::new()
    };
    let mut out = format!(
        "{total} tables{scope}{schema_note}. Sizes include indexes and TOAST; {}.\n{}",
        if args.exact_counts {
            "rows counted with count(*)"
        } else {
            "rows are estimates from the statistics (exact_counts: true counts them)"
        },
        text::table(&headers, &cells, 60)
    );
    if (tables.len() as i64) < total {
        out.push_str(&format!(
            "\n\n{}",
            text::cut_note(
                tables.len(),
                total as usize,
                "tables",
                "give a schema or a name pattern, or raise limit"
            )
        ));
    }
    if args.exact_counts && tables.len() > EXACT_MAX {
        out.push_str(&format!(
            "\n\nOnly the first {EXACT_MAX} tables were counted exactly."
        ));
    }
    if !count_errors.is_empty() {
        out.push_str(&format!("\n\nCould not count: {}", count_errors.join("; ")));
    }
    out.push_str("\n\ndescribe_table shows a table's columns, keys and indexes.");
    out
}

pub fn def() -> ToolDef {
    tool(
        "list_tables",
        "Tables and views with rows, size and comment: where data lives.",
        run,
    )
    .title("List tables")
    .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::{fake, rows, t};

    use super::*;

    fn catalog() -> plue_plugin_sdk::sql::Rows {
        let cols = [
            ("schema", "text"),
            ("name", "text"),
            ("kind", "text"),
            ("estimated_rows", "int8"),
            ("total_bytes", "int8"),
            ("size", "text"),
            ("columns", "int8"),
            ("description", "text"),
            ("total", "int8"),
        ];
        let row = |name: &str, est: Value, bytes: i64, size: &str, columns: i64, desc: Value| {
            vec![
                t("public"),
                t(name),
                t("table"),
                est,
                Value::Int(bytes),
                t(size),
                Value::Int(columns),
                desc,
                Value::Int(3),
            ]
        };
        rows(
            &cols,
            vec![
                row(
                    "auth_sessions",
                    Value::Int(7),
                    65536,
                    "64 kB",
                    8,
                    t("Cookie sessions; session_key is a secret"),
                ),
                row("users", Value::Int(11), 98304, "96 kB", 15, Value::Null),
            ],
        )
    }

    #[test]
    fn lists_tables_with_estimates_and_a_cut_note() {
        let log = fake(vec![("FROM pg_class", Ok(catalog()))]);
        let out = testing::call(&plugin(), "list_tables", json!({"limit": 2})).unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with(
                "3 tables (schema public). Sizes include indexes and TOAST; rows are estimates"
            ),
            "{text}"
        );
        assert!(text.contains("\nauth_sessions  table  7          64 kB  8        Cookie sessions; session_key is a secret\n"), "{text}");
        assert!(text.contains("Showing 2 of 3 tables (1 left out); to narrow: give a schema or a name pattern, or raise limit."), "{text}");
        assert_eq!(log.borrow()[0].1, vec![Value::Int(2)]);
        let s = out.structured().unwrap();
        assert_eq!(s["total"], 3);
        assert_eq!(s["tables"][1]["name"], "users");
        assert_eq!(s["tables"][1]["estimated_rows"], 11);
    }

    #[test]
    fn filters_are_parameters_and_patterns_are_literal() {
        let log = fake(vec![("FROM pg_class", Ok(catalog()))]);
        testing::call(
            &plugin(),
            "list_tables",
            json!({"schema": "public", "pattern": "auth_"}),
        )
        .unwrap();
        let (statement, params) = log.borrow()[0].clone();
        assert!(
            statement.contains("n.nspname = $1::text")
                && statement.contains(r"ILIKE $2::text ESCAPE '\'"),
            "{statement}"
        );
        assert_eq!(params, vec![t("public"), t(r"%auth\_%"), Value::Int(100)]);
    }

    #[test]
    fn exact_counts_count_each_table() {
        let log = fake(vec![
            ("FROM pg_class", Ok(catalog())),
            (
                "count(*) FROM \"public\".\"auth_sessions\"",
                Ok(rows(&[("count", "int8")], vec![vec![Value::Int(7)]])),
            ),
            (
                "count(*) FROM \"public\".\"users\"",
                Ok(rows(&[("count", "int8")], vec![vec![Value::Int(11)]])),
            ),
        ]);
        let out = testing::call(&plugin(), "list_tables", json!({"exact_counts": true})).unwrap();
        assert_eq!(log.borrow().len(), 3);
        assert!(out.text_content().contains("rows counted with count(*)"));
        assert_eq!(out.structured().unwrap()["tables"][1]["exact_rows"], 11);
    }
}
