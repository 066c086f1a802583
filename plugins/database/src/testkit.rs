//! Unit-test helpers: result sets built by hand, and a fake `plue` database
//! (on the SDK's `testing::fake_sql`) that answers by the first route whose
//! key occurs in the statement and records every statement it was sent.

use std::cell::RefCell;
use std::rc::Rc;

use plue_plugin_sdk::sql::{Column, Rows, SqlError, Value};
use plue_plugin_sdk::testing;

/// A result set with `columns` as (name, type) and `data`.
pub fn rows(columns: &[(&str, &str)], data: Vec<Vec<Value>>) -> Rows {
    Rows {
        columns: columns
            .iter()
            .map(|(name, type_name)| Column {
                name: name.to_string(),
                type_name: type_name.to_string(),
            })
            .collect(),
        rows: data,
        truncated: false,
    }
}

/// A text value.
pub fn t(s: &str) -> Value {
    Value::Text(s.into())
}

/// A `timestamptz` value `seconds_ago` before now, as the host returns it.
pub fn ago(seconds_ago: f64) -> Value {
    let t = plue_plugin_sdk::time::now() - seconds_ago;
    Value::Timestamptz(plue_plugin_sdk::time::rfc3339(t))
}

/// The statements and parameters the fake database received.
pub type Log = Rc<RefCell<Vec<(String, Vec<Value>)>>>;

/// Serve database `plue` on this thread: the first route whose key occurs in
/// the statement answers; a statement no route knows fails the test.
pub fn fake(routes: Vec<(&'static str, Result<Rows, SqlError>)>) -> Log {
    let log: Log = Rc::default();
    let seen = log.clone();
    testing::fake_sql(move |db, statement, params| {
        assert_eq!(db, "plue");
        seen.borrow_mut()
            .push((statement.to_string(), params.to_vec()));
        routes
            .iter()
            .find(|(key, _)| statement.contains(key))
            .map(|(_, answer)| answer.clone())
            .unwrap_or_else(|| panic!("no fake answer for statement:\n{statement}"))
    });
    log
}
