//! `sql_query`: one read-only statement on a granted database (the sql capability).

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::{sql, text};

#[derive(Deserialize, JsonSchema)]
struct SqlArgs {
    /// One read-only SQL statement.
    statement: String,
    /// The database; the manifest asks for `main`.
    #[serde(default = "main_db")]
    database: String,
}

fn main_db() -> String {
    "main".into()
}

#[derive(Serialize, JsonSchema)]
struct Column {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
}

#[derive(Serialize, JsonSchema)]
struct RowsAnswer {
    columns: Vec<Column>,
    /// One object per row, keyed by column name.
    rows: Vec<serde_json::Map<String, Json>>,
    /// Whether the database's row cap cut the result.
    truncated: bool,
}

fn sql_query(args: SqlArgs) -> Result<Answer<RowsAnswer>, ToolError> {
    let rows = sql::query(&args.database, &args.statement, &[])?;
    let headers: Vec<&str> = rows.columns.iter().map(|c| c.name.as_str()).collect();
    let cells: Vec<Vec<String>> = rows
        .rows
        .iter()
        .map(|r| r.iter().map(|v| v.render()).collect())
        .collect();
    let mut out = format!(
        "{} row(s)\n{}",
        rows.rows.len(),
        text::table(&headers, &cells, 60)
    );
    if rows.truncated {
        out.push_str("\n(more rows exist: the database's row cap was reached; add a LIMIT or a WHERE clause)");
    }
    let columns = rows
        .columns
        .iter()
        .map(|c| Column {
            name: c.name.clone(),
            type_name: c.type_name.clone(),
        })
        .collect();
    Ok(Answer::new(
        out,
        RowsAnswer {
            columns,
            rows: rows.to_json_objects(),
            truncated: rows.truncated,
        },
    ))
}

pub fn def() -> ToolDef {
    tool(
        "sql_query",
        "Run one read-only SQL statement on a granted database.",
        sql_query,
    )
    .title("SQL query")
    .read_only()
}
