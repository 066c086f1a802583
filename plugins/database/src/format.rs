//! Presentation shared by the tools: cells as text, times in UTC with their age,
//! secrets shortened to a prefix, and result sets as a bounded aligned table
//! plus typed structured content ([`ResultSet`]).

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::sql::{Rows, Value};
use plue_plugin_sdk::text;
use plue_plugin_sdk::time;

/// How many characters of a session key or similar secret are ever shown.
pub const SECRET_PREFIX: usize = 8;

/// The first [`SECRET_PREFIX`] characters of a secret, then `…`.
///
/// ```
/// assert_eq!(plue_plugin_database::format::secret_prefix("f62b922a949efc89"), "f62b922a…");
/// ```
pub fn secret_prefix(secret: &str) -> String {
    let prefix: String = secret.chars().take(SECRET_PREFIX).collect();
    format!("{prefix}…")
}

/// A cell as text: `NULL` for null, numbers and JSON as PostgreSQL prints
/// them, times as returned (`timestamptz` in UTC with `Z`), intervals in
/// seconds with a human reading, `bytea` as `\x…` hex.
pub fn cell(value: &Value) -> String {
    match value {
        Value::IntervalSeconds(s) if s.abs() >= 60.0 => {
            format!(
                "{} s ({})",
                time::trim_float(*s, 6),
                time::human_duration(*s)
            )
        }
        Value::IntervalSeconds(s) => format!("{} s", time::trim_float(*s, 6)),
        other => other.render(),
    }
}

/// Seconds since the Unix epoch of an RFC 3339 time; a time without a zone
/// (a `timestamp` column) is read as UTC.
pub fn unix(ts: &str) -> Option<f64> {
    let ts = ts.trim();
    let has_zone = ts.ends_with('Z') || ts.get(19..).is_some_and(|rest| rest.contains(['+', '-']));
    let full = if has_zone {
        ts.to_string()
    } else {
        format!("{ts}Z")
    };
    match time::parse_time(&full, 0.0) {
        Ok(t) if full.len() >= 20 => Some(t),
        _ => None,
    }
}

/// `2026-11-24 21:19:33 UTC`, or the text unchanged when it is not a time.
pub fn utc(ts: &str) -> String {
    match unix(ts) {
        Some(t) => time::rfc3339(t).replace('T', " ").replace('Z', " UTC"),
        None => ts.to_string(),
    }
}

/// How long ago (or ahead) `ts` is from `now`: `3h ago`, `in 29d 21h`.
pub fn age(ts: &str, now: f64) -> Option<String> {
    let t = unix(ts)?;
    Some(if t > now + 1.0 {
        format!("in {}", time::human_duration(t - now))
    } else {
        time::ago(t, now)
    })
}

/// `2026-11-24 21:19:33 UTC (3h ago)`; `never` for none.
pub fn when(ts: Option<&str>, now: f64) -> String {
    match ts {
        None => "never".into(),
        Some(ts) => match age(ts, now) {
            Some(a) => format!("{} ({a})", utc(ts)),
            None => utc(ts),
        },
    }
}

/// A duration in seconds for people, or `-` when unknown.
pub fn duration(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "-".into(), time::human_duration)
}

/// An optional text, or `-`.
pub fn or_dash(text: Option<&str>) -> String {
    match text {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => "-".into(),
    }
}

// One column of a result set.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct ColumnInfo {
    // The column's name as the statement labels it.
    pub name: String,
    // PostgreSQL's type name, for example `int4`, `text`, `timestamptz`, `_text`.
    #[serde(rename = "type")]
    pub type_name: String,
}

/// A result set as structured content: columns with their types and the rows
/// shown, each an array of typed values in column order.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResultSet {
    // The columns, in order.
    pub columns: Vec<ColumnInfo>,
    // The rows shown, each an array in column order: numbers as numbers, `numeric`
    // as exact decimal strings, `json`/`jsonb` as JSON, `timestamptz` as RFC 3339 in
    // UTC, `timestamp` (no zone) as stored, `bytea` as hex, `interval` in seconds,
    // arrays as arrays, NULL as null.
    pub rows: Vec<Vec<Json>>,
    // How many rows the database returned (at most its row cap).
    pub row_count: usize,
    // How many of them are in `rows` (and in the text table).
    pub rows_shown: usize,
    // The database's row cap stopped the result: more rows exist than `row_count`.
    pub truncated: bool,
}

/// Bounds on the text table and structured rows.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// At most this many rows.
    pub rows: usize,
    /// Cells wider than this many characters are cut with `…`.
    pub width: usize,
    /// At most this many characters of table text.
    pub text_chars: usize,
    /// At most this many bytes of structured rows.
    pub structured_bytes: usize,
    /// At most this many columns in the text table (all are in the structured rows).
    pub columns: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            rows: 100,
            width: 60,
            text_chars: 48_000,
            structured_bytes: 120_000,
            columns: 30,
        }
    }
}

/// A rendered result set: the table text, the notes on what was left out, and
/// the structured content.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The aligned table (header, rule, rows).
    pub table: String,
    /// Sentences on what was left out and how to narrow; empty when nothing was.
    pub notes: Vec<String>,
    /// The structured content.
    pub structured: ResultSet,
}

/// Render `rows` within `bounds`. `narrow` says how the agent can ask for less
/// (for example "add a WHERE clause or a LIMIT").
pub fn result_set(rows: &Rows, bounds: Bounds, narrow: &str) -> Rendered {
    let columns: Vec<ColumnInfo> = rows
        .columns
        .iter()
        .map(|c| ColumnInfo {
            name: c.name.clone(),
            type_name: c.type_name.clone(),
        })
        .collect();
    let shown_columns = columns.len().min(bounds.columns.max(1));
    let width = bounds.width.max(4);

    // Rows fit when under every bound; the table's header line counts too.
    let header_chars: usize = columns
        .iter()
        .take(shown_columns)
        .map(|c| c.name.chars().count().min(width) + 2)
        .sum();
    let mut text_used = header_chars * 2;
    let mut structured_used = 0;
    let mut cells: Vec<Vec<String>> = Vec::new();
    let mut typed: Vec<Vec<Json>> = Vec::new();
    let mut stopped_by_size = false;
    for row in rows.rows.iter().take(bounds.rows) {
        let text_row: Vec<String> = row.iter().take(shown_columns).map(cell).collect();
        let json_row: Vec<Json> = row.iter().map(Value::to_json).collect();
        let text_len: usize = text_row
            .iter()
            .map(|c| c.chars().count().min(width) + 2)
            .sum();
        let json_len = Json::Array(json_row.clone()).to_string().len();
        if !cells.is_empty()
            && (text_used + text_len > bounds.text_chars
                || structured_used + json_len > bounds.structured_bytes)
        {
            stopped_by_size = true;
            break;
        }
        text_used += text_len;
        structured_used += json_len;
        cells.push(text_row);
        typed.push(json_row);
    }

    let headers: Vec<&str> = columns
        .iter()
        .take(shown_columns)
        .map(|c| c.name.as_str())
        .collect();
    let table = if columns.is_empty() {
        "(the statement returned no columns)".into()
    } else {
        text::table(&headers, &cells, width)
    };

    let mut notes = Vec::new();
    let shown = cells.len();
    if rows.truncated {
        notes.push(format!(
            "The database's row cap stopped the result at {} rows: more rows exist. {}.",
            rows.rows.len(),
            capitalize(narrow)
        ));
    }
    if shown < rows.rows.len() {
        let why = if stopped_by_size {
            " to keep the answer small"
        } else {
            ""
        };
        let total = if rows.truncated {
            format!("more than {}", rows.rows.len())
        } else {
            rows.rows.len().to_string()
        };
        notes.push(format!(
            "Showing {shown} of {total} rows ({} left out{why}); to narrow: {}.",
            rows.rows.len() - shown,
            narrow.trim_end_matches('.')
        ));
    }
    if shown_columns < columns.len() {
        let left: Vec<&str> = columns[shown_columns..]
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        notes.push(format!(
            "The table shows the first {shown_columns} of {} columns (left out: {}); select fewer columns to see them here (structuredContent has them all).",
            columns.len(),
            text::truncate_chars(&left.join(", "), 200).0
        ));
    }
    if cells.iter().any(|r| {
        r.iter()
            .any(|c| c.chars().count() > width || c.contains('\n'))
    }) {
        notes.push(format!(
            "Cells longer than {width} characters are cut with … and line breaks shown as ⏎ (structuredContent has the full values); select a shorter expression such as left(col, 200) or raise max_width."
        ));
    }
    let zone_less: Vec<&str> = columns
        .iter()
        .filter(|c| c.type_name == "timestamp")
        .map(|c| c.name.as_str())
        .collect();
    if !zone_less.is_empty() {
        notes.push(format!(
            "{} {} `timestamp` without time zone, shown as stored (Plue stores UTC); `timestamptz` values are shown in UTC (Z).",
            zone_less.join(", "),
            if zone_less.len() == 1 { "is" } else { "are" }
        ));
    }

    Rendered {
        table,
        notes,
        structured: ResultSet {
            columns,
            rows: typed,
            row_count: rows.rows.len(),
            rows_shown: shown,
            truncated: rows.truncated,
        },
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.trim_end_matches('.').chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::rows;

    #[test]
    fn times_are_shown_in_utc_with_their_age() {
        assert_eq!(
            utc("2026-11-24T21:19:33.123456Z"),
            "2026-11-24 21:19:33 UTC"
        );
        assert_eq!(utc("2026-11-24T21:19:33.5"), "2026-11-24 21:19:33 UTC");
        assert_eq!(utc("2026-11-24T23:19:33+02:00"), "2026-11-24 21:19:33 UTC");
        assert_eq!(utc("infinity"), "infinity");
        let now = unix("2026-11-24T21:19:33Z").unwrap();
        assert_eq!(age("2026-11-24T18:19:33Z", now).unwrap(), "3h ago");
        assert_eq!(age("2026-12-24T21:19:33", now).unwrap(), "in 30d");
        assert_eq!(when(None, now), "never");
        assert_eq!(
            when(Some("2026-11-24T21:14:33Z"), now),
            "2026-11-24 21:14:33 UTC (5m ago)"
        );
    }

    #[test]
    fn cells_are_faithful() {
        assert_eq!(cell(&Value::Null), "NULL");
        assert_eq!(cell(&Value::Numeric("12.50".into())), "12.50");
        assert_eq!(cell(&Value::Float(0.1)), "0.1");
        assert_eq!(cell(&Value::IntervalSeconds(90.5)), "90.5 s (1m 30s)");
        assert_eq!(
            cell(&Value::Json(r#"{"a":[1,2]}"#.into())),
            r#"{"a":[1,2]}"#
        );
        assert_eq!(cell(&Value::Bytes(vec![0, 255])), r"\x00ff");
    }

    #[test]
    fn rows_are_capped_with_a_note() {
        let data: Vec<Vec<Value>> = (0..10)
            .map(|i| vec![Value::Int(i), Value::Text(format!("user{i}"))])
            .collect();
        let r = rows(&[("id", "int4"), ("name", "text")], data);
        let out = result_set(
            &r,
            Bounds {
                rows: 3,
                ..Bounds::default()
            },
            "add a LIMIT",
        );
        assert_eq!(
            out.table,
            "id  name\n--  -----\n0   user0\n1   user1\n2   user2"
        );
        assert_eq!(
            out.notes,
            vec!["Showing 3 of 10 rows (7 left out); to narrow: add a LIMIT."]
        );
        assert_eq!(out.structured.rows_shown, 3);
        assert_eq!(out.structured.row_count, 10);
        assert_eq!(out.structured.rows[1], vec![json!(1), json!("user1")]);
        assert_eq!(
            out.structured.columns[0],
            ColumnInfo {
                name: "id".into(),
                type_name: "int4".into()
            }
        );
    }

    #[test]
    fn the_row_cap_of_the_database_is_reported() {
        let mut r = rows(
            &[("n", "int8")],
            (0..5).map(|i| vec![Value::Int(i)]).collect(),
        );
        r.truncated = true;
        let out = result_set(
            &r,
            Bounds {
                rows: 2,
                ..Bounds::default()
            },
            "add a WHERE clause",
        );
        assert_eq!(
            out.notes[0],
            "The database's row cap stopped the result at 5 rows: more rows exist. Add a WHERE clause."
        );
        assert_eq!(
            out.notes[1],
            "Showing 2 of more than 5 rows (3 left out); to narrow: add a WHERE clause."
        );
        assert!(out.structured.truncated);
    }

    #[test]
    fn wide_cells_and_many_columns_are_cut() {
        let cols: Vec<(String, String)> = (0..5)
            .map(|i| (format!("c{i}"), "text".to_string()))
            .collect();
        let cols: Vec<(&str, &str)> = cols.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let r = rows(
            &cols,
            vec![(0..5).map(|_| Value::Text("x".repeat(30))).collect()],
        );
        let out = result_set(
            &r,
            Bounds {
                width: 10,
                columns: 2,
                ..Bounds::default()
            },
            "narrow",
        );
        assert_eq!(out.table.lines().nth(2).unwrap(), "xxxxxxxxx…  xxxxxxxxx…");
        assert!(
            out.notes
                .iter()
                .any(|n| n.contains("first 2 of 5 columns (left out: c2, c3, c4)")),
            "{:?}",
            out.notes
        );
        assert!(
            out.notes
                .iter()
                .any(|n| n.contains("longer than 10 characters"))
        );
        assert_eq!(out.structured.rows[0].len(), 5);
    }

    #[test]
    fn size_budget_stops_rows_early() {
        let r = rows(
            &[("t", "text")],
            (0..100)
                .map(|_| vec![Value::Text("y".repeat(50))])
                .collect(),
        );
        let out = result_set(
            &r,
            Bounds {
                text_chars: 600,
                ..Bounds::default()
            },
            "add a LIMIT",
        );
        assert!(
            out.structured.rows_shown < 12 && out.structured.rows_shown > 5,
            "{}",
            out.structured.rows_shown
        );
        assert!(
            out.notes[0].contains("left out to keep the answer small"),
            "{:?}",
            out.notes
        );
    }

    #[test]
    fn zone_less_timestamps_are_explained() {
        let r = rows(
            &[("created_at", "timestamp")],
            vec![vec![Value::Timestamp("2026-01-02T03:04:05".into())]],
        );
        let out = result_set(&r, Bounds::default(), "x");
        assert!(
            out.notes[0].starts_with("created_at is `timestamp` without time zone"),
            "{:?}",
            out.notes
        );
    }

    #[test]
    fn secrets_keep_a_short_prefix() {
        assert_eq!(secret_prefix("abc"), "abc…");
        assert_eq!(
            secret_prefix(&"a".repeat(64)).chars().count(),
            SECRET_PREFIX + 1
        );
    }
}
