//! Which SQL statements the `sql` capability runs: exactly one statement that
//! only reads — `SELECT`, `WITH … SELECT`, `VALUES`, `TABLE`, `SHOW`, or
//! `EXPLAIN` of those — decided on the syntax tree of a real SQL parser, plus
//! a refusal of server functions that reach outside the database (files,
//! programs, other sessions, settings, locks that outlive the statement).
//!
//! This is one of two layers: every statement also runs on a session whose
//! transactions are all read-only and under a statement timeout; because no
//! accepted statement can change session settings, that layer holds too.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, ObjectName, ObjectNamePart, Query, SetExpr, Statement, Visit, Visitor};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// Functions refused by name (compared lowercase, schema ignored).
const REFUSED_FUNCTIONS: &[&str] = &[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_stat_file",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "pg_file_sync",
    "set_config",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_signal_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_promote",
    "pg_create_restore_point",
    "pg_notify",
    "nextval",
    "setval",
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "query_to_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "pg_logical_emit_message",
    "pg_log_backend_memory_contexts",
    "pg_import_system_collations",
    "txid_current",
    "pg_current_xact_id",
    "pg_backup_start",
    "pg_backup_stop",
];

/// Function name prefixes refused (files, large objects, remote links, locks,
/// replication, statistics resets).
const REFUSED_PREFIXES: &[&str] = &[
    "pg_ls_",
    "lo_",
    "dblink",
    "pg_advisory",
    "pg_try_advisory",
    "pg_stat_reset",
    "pg_replication_",
    "pg_create_",
    "pg_drop_",
    "pg_copy_",
    "pg_wal_replay_",
    "pg_start_backup",
    "pg_stop_backup",
];

/// Why a statement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// Accept `statement` if it is exactly one read-only statement.
pub fn check_statement(statement: &str) -> Result<(), Refusal> {
    // `TABLE name` is PostgreSQL shorthand for `SELECT * FROM name`, which the
    // parser does not know: check the equivalent form.
    let trimmed = statement.trim_start();
    let expanded;
    let statement = match trimmed.get(..6) {
        Some(word) if word.eq_ignore_ascii_case("table ") => {
            expanded = format!("SELECT * FROM {}", &trimmed[6..]);
            expanded.as_str()
        }
        _ => statement,
    };
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, statement).map_err(|e| {
        Refusal(format!(
            "the statement could not be parsed as one read-only statement ({e}); only SELECT, WITH … SELECT, VALUES, TABLE, SHOW and EXPLAIN are run"
        ))
    })?;
    match statements.as_slice() {
        [] => Err(Refusal("the statement is empty".into())),
        [one] => check_one(one),
        many => Err(Refusal(format!(
            "{} statements were given; send exactly one statement per call (no `;` separated lists)",
            many.len()
        ))),
    }
}

fn check_one(statement: &Statement) -> Result<(), Refusal> {
    match statement {
        Statement::Query(_) => {}
        Statement::ShowVariable { .. } | Statement::ShowVariables { .. } => return Ok(()),
        Statement::Explain { statement, .. } => {
            return check_one(statement)
                .map_err(|r| Refusal(format!("EXPLAIN of a statement that is refused: {}", r.0)));
        }
        other => {
            return Err(Refusal(format!(
                "only statements that read are run (SELECT, WITH … SELECT, VALUES, TABLE, SHOW, EXPLAIN); this is {}",
                kind(other)
            )));
        }
    }
    match statement.visit(&mut ReadOnlyVisitor) {
        ControlFlow::Break(refusal) => Err(refusal),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// The first word of a statement, for messages.
fn kind(statement: &Statement) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    match words.as_slice() {
        [first, second]
            if matches!(
                first.to_ascii_uppercase().as_str(),
                "CREATE" | "DROP" | "ALTER" | "SET" | "COPY"
            ) =>
        {
            format!(
                "{} {}",
                first.to_ascii_uppercase(),
                second.to_ascii_uppercase()
            )
        }
        [first, ..] => first.to_ascii_uppercase(),
        [] => "an unknown statement".into(),
    }
}

struct ReadOnlyVisitor;

impl Visitor for ReadOnlyVisitor {
    type Break = Refusal;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Refusal> {
        match statement {
            Statement::Query(_) => ControlFlow::Continue(()),
            other => ControlFlow::Break(Refusal(format!(
                "the statement contains {} (a data-modifying part); only reads are run",
                kind(other)
            ))),
        }
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Refusal> {
        if !query.locks.is_empty() {
            return ControlFlow::Break(Refusal(
                "FOR UPDATE / FOR SHARE take row locks; remove the locking clause".into(),
            ));
        }
        if has_select_into(&query.body) {
            return ControlFlow::Break(Refusal(
                "SELECT … INTO creates a table; remove INTO".into(),
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Refusal> {
        if let Expr::Function(f) = expr {
            return check_function(&f.name);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<Refusal> {
        // Table functions (`FROM pg_ls_dir('/')`) are visited as relations.
        check_function(relation)
    }
}

fn has_select_into(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => select.into.is_some(),
        SetExpr::SetOperation { left, right, .. } => {
            has_select_into(left) || has_select_into(right)
        }
        SetExpr::Query(q) => has_select_into(&q.body),
        _ => false,
    }
}

fn check_function(name: &ObjectName) -> ControlFlow<Refusal> {
    let Some(ObjectNamePart::Identifier(last)) = name.0.last() else {
        return ControlFlow::Continue(());
    };
    let lower = last.value.to_ascii_lowercase();
    if REFUSED_FUNCTIONS.contains(&lower.as_str())
        || REFUSED_PREFIXES.iter().any(|p| lower.starts_with(p))
    {
        return ControlFlow::Break(Refusal(format!(
            "function `{lower}` is refused: it reaches outside the database or changes state that outlives the statement"
        )));
    }
    ControlFlow::Continue(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sql: &str, expected: Result<(), &str>) {
        match (check_statement(sql), expected) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(why)) => assert!(
                e.0.contains(why),
                "{sql}\n  refusal: {}\n  expected to contain: {why}",
                e.0
            ),
            (got, want) => panic!("{sql}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn reads_are_accepted() {
        for sql in [
            "SELECT 1",
            "select * from users where id = $1;",
            "WITH recent AS (SELECT * FROM workflow_runs WHERE created_at > now() - interval '1 hour') SELECT count(*) FROM recent",
            "SELECT id, row_number() OVER (PARTITION BY status ORDER BY created_at DESC) FROM workflow_runs",
            "SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FROM steps",
            "SELECT data->>'name', data @> '{\"a\":1}'::jsonb FROM t",
            "SELECT count(*) FILTER (WHERE status = 'failed') FROM runs",
            "VALUES (1, 'a'), (2, 'b')",
            "TABLE users",
            "SHOW statement_timeout",
            "EXPLAIN SELECT * FROM users",
            "EXPLAIN (FORMAT JSON, ANALYZE) SELECT * FROM users",
            "SELECT pg_sleep(10)",
            "SELECT * FROM pg_stat_activity",
            "SELECT a FROM x UNION ALL SELECT b FROM y",
        ] {
            check(sql, Ok(()));
        }
    }

    #[test]
    fn writes_and_escapes_are_refused() {
        for (sql, why) in [
            ("INSERT INTO users (name) VALUES ('x')", "this is INSERT"),
            ("UPDATE users SET name = 'x'", "this is UPDATE"),
            ("DELETE FROM users", "this is DELETE"),
            ("CREATE TABLE t (a int)", "CREATE TABLE"),
            ("DROP TABLE users", "DROP TABLE"),
            ("SELECT * INTO copy FROM users", "INTO"),
            (
                "WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d",
                "data-modifying",
            ),
            ("SELECT 1; DELETE FROM users", "2 statements"),
            ("COMMIT; DELETE FROM users", "2 statements"),
            ("SET transaction_read_only = off", "SET"),
            (
                "SELECT set_config('transaction_read_only', 'off', false)",
                "set_config",
            ),
            ("SELECT * FROM users FOR UPDATE", "FOR UPDATE"),
            ("SELECT nextval('users_id_seq')", "nextval"),
            ("SELECT pg_read_file('/etc/passwd')", "pg_read_file"),
            ("SELECT * FROM pg_ls_dir('/')", "pg_ls_dir"),
            ("SELECT pg_catalog.pg_ls_dir('/')", "pg_ls_dir"),
            ("SELECT lo_import('/etc/passwd')", "lo_import"),
            ("COPY (SELECT 1) TO PROGRAM 'id'", "COPY"),
            ("SET ROLE postgres", "SET"),
            ("DO $$ BEGIN DELETE FROM users; END $$", "DO"),
            (
                "EXPLAIN ANALYZE DELETE FROM users",
                "EXPLAIN of a statement that is refused",
            ),
            ("SELECT pg_advisory_lock(1)", "pg_advisory_lock"),
            ("SELECT pg_terminate_backend(123)", "pg_terminate_backend"),
            (
                "SELECT query_to_xml('delete from users', true, true, '')",
                "query_to_xml",
            ),
            ("SELECT dblink_exec('x', 'y')", "dblink_exec"),
            ("", "empty"),
            ("TABLE users; DELETE FROM users", "2 statements"),
            ("GRANT ALL ON users TO public", "GRANT"),
            ("VACUUM users", "VACUUM"),
            ("LOCK TABLE users", "LOCK"),
            ("SELECT (SELECT nextval('s'))", "nextval"),
            (
                "SELECT 1 FROM (SELECT * FROM users FOR SHARE) s",
                "FOR UPDATE",
            ),
        ] {
            check(sql, Err(why));
        }
    }
}

/// Generated hostile statements: writes stacked behind reads, hidden behind
/// comments and odd case, and refused functions wrapped in expressions, with
/// or without a schema or quotes. None may pass.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const READS: &[&str] = &[
        "SELECT 1",
        "TABLE users",
        "VALUES (1)",
        "WITH a AS (SELECT 1) SELECT * FROM a",
        "SHOW work_mem",
    ];
    const WRITES: &[&str] = &[
        "INSERT INTO t VALUES (1)",
        "DELETE FROM t",
        "UPDATE t SET a = 1",
        "DROP TABLE t",
        "TRUNCATE t",
        "COPY t TO PROGRAM 'id'",
        "SET ROLE postgres",
        "CREATE TABLE x (a int)",
        "GRANT ALL ON t TO public",
        "ALTER ROLE me SUPERUSER",
        "COMMIT",
    ];
    const SEPARATORS: &[&str] = &[";", ";\n", "; -- note\n", ";/* c */", " ; "];
    const WRAPPERS: &[&str] = &[
        "SELECT {}",
        "SELECT 1 WHERE {} IS NOT NULL",
        "SELECT * FROM (SELECT {}) s",
        "WITH a AS (SELECT {} AS x) SELECT x FROM a",
        "SELECT coalesce(NULL, {})",
        "VALUES ({})",
        "EXPLAIN SELECT {}",
    ];

    /// `sql` with each ASCII letter's case chosen by `case`.
    fn recase(sql: &str, case: &[bool]) -> String {
        sql.chars()
            .zip(case.iter().cycle())
            .map(|(c, upper)| {
                if *upper {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn stacked_writes_are_refused(
            read in prop::sample::select(READS),
            sep in prop::sample::select(SEPARATORS),
            write in prop::sample::select(WRITES),
            lead in prop::sample::select(&["", "/* x */ ", "-- y\n", "\n\t"][..]),
            case in prop::collection::vec(any::<bool>(), 16),
        ) {
            let stacked = format!("{lead}{read}{sep}{}", recase(write, &case));
            prop_assert!(check_statement(&stacked).is_err(), "{}", stacked);
            let alone = format!("{lead}{}", recase(write, &case));
            prop_assert!(check_statement(&alone).is_err(), "{}", alone);
        }

        #[test]
        fn refused_functions_are_refused_wherever_they_hide(
            function in prop::sample::select(REFUSED_FUNCTIONS),
            schema in prop::sample::select(&["", "pg_catalog.", "\"pg_catalog\"."][..]),
            quoted in any::<bool>(),
            wrapper in prop::sample::select(WRAPPERS),
            case in prop::collection::vec(any::<bool>(), 16),
        ) {
            // Unquoted names fold to lowercase in PostgreSQL: any case is the
            // same function. Quoted ones are exact.
            let name = if quoted {
                format!("\"{function}\"")
            } else {
                recase(function, &case)
            };
            let call = format!("{schema}{name}('x')");
            let sql = wrapper.replace("{}", &call);
            prop_assert!(check_statement(&sql).is_err(), "{}", sql);
        }
    }
}
