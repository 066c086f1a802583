//! Host and PostgreSQL errors turned into messages an agent can act on: the
//! SQLSTATE and message, the offending spot of the agent's statement marked
//! with a caret, and what to try instead. Every one ends as an `isError` result.

use plue_plugin_sdk::ToolError;
use plue_plugin_sdk::sql::{DatabaseError, SqlError};

const READS: &str = "SELECT, WITH … SELECT, VALUES, TABLE, SHOW, or EXPLAIN of those";

/// An error of a statement the agent wrote. `offset` is how many characters
/// the tool put before `user_sql` (for `EXPLAIN (…) `), so positions point
/// into the agent's text.
pub fn for_statement(error: SqlError, user_sql: &str, offset: usize) -> ToolError {
    let message = match error {
        SqlError::Database(e) => database(&e, Some((user_sql, offset))),
        SqlError::Refused(m) => format!(
            "refused: {m}\nNothing was executed: one statement that reads ({READS}) is run per call."
        ),
        SqlError::Timeout(m) => format!(
            "timed out: {m}\nThe statement was cancelled. Its plan (explain_query without analyze, \
             which does not run it) shows where the time would go."
        ),
        other => other.describe(),
    };
    ToolError::failed(message)
}

/// An error of one of the tools' own statements; `what` says what was being read.
pub fn internal(what: &str, error: SqlError) -> ToolError {
    let detail = match &error {
        SqlError::Database(e) => format!(
            "{}\n(This tool expects Plue's schema; the `query` and `describe_table` tools show what this database has.)",
            database(e, None)
        ),
        other => other.describe(),
    };
    ToolError::failed(format!("could not read {what}: {detail}"))
}

/// `PostgreSQL error 42703: … (at character 8)`, the statement line with a
/// caret under that character, then DETAIL and HINT.
fn database(e: &DatabaseError, statement: Option<(&str, usize)>) -> String {
    let mut out = format!("PostgreSQL error {}: {}", e.code, e.message);
    let position = e.position.map(|p| p as usize);
    match (position, statement) {
        (Some(p), Some((sql, offset)))
            if p > offset && p - offset <= sql.chars().count().max(1) =>
        {
            let p = p - offset;
            out.push_str(&format!(" (at character {p})"));
            out.push('\n');
            out.push_str(&caret(sql, p));
        }
        (Some(p), None) => out.push_str(&format!(" (at character {p})")),
        _ => {}
    }
    if let Some(d) = &e.detail {
        out.push_str(&format!("\nDETAIL: {d}"));
    }
    if let Some(h) = &e.hint {
        out.push_str(&format!("\nHINT: {h}"));
    }
    out
}

/// The line of `sql` holding the 1-based character `position`, and a caret
/// under it; long lines are cut around the spot.
fn caret(sql: &str, position: usize) -> String {
    const WINDOW: usize = 60;
    let mut line_start = 0;
    let mut line_no = 1;
    let chars: Vec<char> = sql.chars().collect();
    let index = position.saturating_sub(1).min(chars.len());
    for (i, c) in chars.iter().enumerate().take(index) {
        if *c == '\n' {
            line_start = i + 1;
            line_no += 1;
        }
    }
    let line_end = chars[line_start..]
        .iter()
        .position(|c| *c == '\n')
        .map_or(chars.len(), |n| line_start + n);
    let column = index - line_start;
    let from = column.saturating_sub(WINDOW);
    let to = (column + WINDOW).min(line_end - line_start);
    let line: String = chars[line_start + from..line_start + to]
        .iter()
        .map(|c| if *c == '\t' { ' ' } else { *c })
        .collect();
    let lead = if from > 0 { "…" } else { "" };
    let tail = if line_start + to < line_end {
        "…"
    } else {
        ""
    };
    let pad = " ".repeat(column - from + lead.chars().count());
    let label = if sql.contains('\n') {
        format!("line {line_no}: ")
    } else {
        String::new()
    };
    let indent = " ".repeat(label.chars().count());
    format!("  {label}{lead}{line}{tail}\n  {indent}{pad}^")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_error(position: Option<u32>) -> SqlError {
        SqlError::Database(DatabaseError {
            code: "42703".into(),
            message: "column \"nme\" does not exist".into(),
            detail: None,
            hint: Some("Perhaps you meant to reference the column \"users.name\".".into()),
            position,
        })
    }

    #[test]
    fn marks_the_position_in_the_agents_statement() {
        let e = for_statement(db_error(Some(8)), "SELECT nme FROM users", 0).to_string();
        assert_eq!(
            e,
            "PostgreSQL error 42703: column \"nme\" does not exist (at character 8)\n  \
             SELECT nme FROM users\n         ^\nHINT: Perhaps you meant to reference the column \"users.name\"."
        );
    }

    #[test]
    fn positions_skip_the_tools_prefix_and_name_the_line() {
        let prefix = "EXPLAIN (FORMAT JSON) ";
        let sql = "SELECT id\nFROM users\nWHERE nme = 1";
        let position = (prefix.chars().count() + sql.find("nme").unwrap() + 1) as u32;
        let e = for_statement(db_error(Some(position)), sql, prefix.chars().count()).to_string();
        assert!(
            e.contains("(at character 28)\n  line 3: WHERE nme = 1\n                ^"),
            "{e}"
        );
    }

    #[test]
    fn a_position_in_the_prefix_is_not_marked() {
        let e = for_statement(db_error(Some(3)), "SELECT 1", 10).to_string();
        assert!(!e.contains('^'), "{e}");
    }

    #[test]
    fn refusals_and_timeouts_say_what_to_do() {
        let e = for_statement(
            SqlError::Refused("DELETE is not a read".into()),
            "DELETE FROM users",
            0,
        );
        assert!(
            e.to_string()
                .starts_with("refused: DELETE is not a read\nNothing was executed")
        );
        let e = for_statement(
            SqlError::Timeout("statement timeout (5000 ms)".into()),
            "SELECT pg_sleep(9)",
            0,
        );
        assert!(e.to_string().contains("explain_query"));
    }

    #[test]
    fn internal_errors_name_what_was_read() {
        let e = internal("the user's repositories", db_error(Some(8))).to_string();
        assert!(
            e.starts_with("could not read the user's repositories: PostgreSQL error 42703"),
            "{e}"
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_spot() {
        let sql = format!("SELECT {} nme", "x, ".repeat(100));
        let position = sql.find("nme").unwrap() + 1;
        let c = caret(&sql, position);
        let lines: Vec<&str> = c.lines().collect();
        assert!(
            lines[0].starts_with("  …") && lines[0].ends_with("nme"),
            "{c}"
        );
        assert_eq!(
            lines[1].chars().count(),
            lines[0]
                .find("nme")
                .map(|b| lines[0][..b].chars().count())
                .unwrap()
                + 1
        );
    }
}
