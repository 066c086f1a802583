//! The example plugin: one tool per host capability, for plugin authors to copy
//! and for the end-to-end tests to prove each capability works (and is denied
//! when not granted).

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::{files, http, sql, text};

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// Text to send back.
    text: String,
    /// How many times to repeat it (1 to 10).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10))]
    times: u8,
}

fn one() -> u8 {
    1
}

#[derive(Serialize, JsonSchema)]
struct Echoed {
    text: String,
    times: u8,
}

fn echo(args: EchoArgs) -> Result<Answer<Echoed>, ToolError> {
    plue_plugin_sdk::log::info(&format!(
        "echoing {} character(s) {} time(s)",
        args.text.chars().count(),
        args.times
    ));
    let repeated = vec![args.text.as_str(); args.times as usize].join(" ");
    Ok(Answer::new(
        repeated,
        Echoed {
            text: args.text,
            times: args.times,
        },
    ))
}

#[derive(Deserialize, JsonSchema)]
struct HttpGetArgs {
    /// Path and query below the endpoint's base URL, such as `/status?verbose=1`.
    path: String,
    /// The endpoint to call; the manifest asks for `web`.
    #[serde(default = "web")]
    endpoint: String,
}

fn web() -> String {
    "web".into()
}

#[derive(Serialize, JsonSchema)]
struct HttpAnswer {
    status: u16,
    body: String,
}

fn http_get(args: HttpGetArgs) -> Result<Answer<HttpAnswer>, ToolError> {
    let response = http::fetch(&http::Request {
        endpoint: args.endpoint.clone(),
        method: http::Method::Get,
        path_and_query: args.path.clone(),
        headers: Vec::new(),
        body: None,
    })?;
    let (body, cut) = text::truncate_chars(&response.text(), 4000);
    let mut out = format!(
        "HTTP {} from endpoint `{}` {}\n\n{body}",
        response.status, args.endpoint, args.path
    );
    if cut > 0 {
        out.push_str(&format!("\n\n({cut} more characters left out)"));
    }
    let answer = HttpAnswer {
        status: response.status,
        body: response.text(),
    };
    Ok(Answer::new(out, answer))
}

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

#[derive(Deserialize, JsonSchema)]
struct ReadFileArgs {
    /// Path relative to the granted directory.
    path: String,
    /// The directory; the manifest asks for `data`.
    #[serde(default = "data_dir")]
    directory: String,
}

fn data_dir() -> String {
    "data".into()
}

fn read_file(args: ReadFileArgs) -> Result<Output, ToolError> {
    let content = files::read_to_string(&args.directory, &args.path)?;
    let (shown, cut) = text::truncate_chars(&content, 8000);
    let mut out = shown;
    if cut > 0 {
        out.push_str(&format!("\n\n({cut} more characters left out)"));
    }
    Ok(Output::text(out))
}

pub fn plugin() -> Plugin {
    Plugin::new(
        "example",
        env!("CARGO_PKG_VERSION"),
        "Example plugin: one tool per host capability (echo, HTTP, SQL, files).",
    )
    .http("web")
    .sql("main")
    .directory("data")
    .setting(
        "greeting",
        "hello",
        "Prefix `echo` does not use; shown by `plue-mcp inspect`.",
    )
    .tool(
        tool("echo", "Send the text back, repeated `times` times.", echo)
            .title("Echo")
            .read_only(),
    )
    .tool(
        tool(
            "http_get",
            "GET a path on a granted HTTP endpoint and show status and body.",
            http_get,
        )
        .title("HTTP GET")
        .read_only()
        .open_world(),
    )
    .tool(
        tool(
            "sql_query",
            "Run one read-only SQL statement on a granted database.",
            sql_query,
        )
        .title("SQL query")
        .read_only(),
    )
    .tool(
        tool(
            "read_file",
            "Read a text file from a granted directory.",
            read_file,
        )
        .title("Read file")
        .read_only(),
    )
}

plue_plugin_sdk::export_plugin!(plugin);

#[cfg(test)]
mod tests {
    use super::*;
    use plue_plugin_sdk::testing;

    #[test]
    fn echo_repeats() {
        let out = testing::call(&plugin(), "echo", json!({"text": "hi", "times": 3})).unwrap();
        assert_eq!(out.text_content(), "hi hi hi");
        assert_eq!(out.structured().unwrap()["times"], 3);
    }

    #[test]
    fn read_file_refuses_parent_paths() {
        let err = testing::call(&plugin(), "read_file", json!({"path": "../secret"})).unwrap_err();
        assert!(err.to_string().contains("`..` is not allowed"), "{err}");
    }

    #[test]
    fn http_get_reports_status() {
        testing::fake_http(|req| {
            assert_eq!(req.path_and_query, "/status");
            Ok(testing::response(503, "down"))
        });
        let out = testing::call(&plugin(), "http_get", json!({"path": "/status"})).unwrap();
        assert!(out.text_content().starts_with("HTTP 503"));
    }
}

plue_plugin_sdk::schema_test!(plugin);
