//! Unit-test helpers: typed values as the host returns them, and the fake `plue`
//! database (the SDK's routed fake: the first route whose key occurs in the
//! statement answers, and every statement is logged).

use plue_plugin_sdk::sql::{Rows, SqlError, Value};
pub use plue_plugin_sdk::testing::rows;
use plue_plugin_sdk::testing::{self, SqlLog};

/// A text value.
pub fn t(s: &str) -> Value {
    Value::Text(s.into())
}

/// A `timestamptz` value `seconds_ago` before now, as the host returns it.
pub fn ago(seconds_ago: f64) -> Value {
    let t = plue_plugin_sdk::time::now() - seconds_ago;
    Value::Timestamptz(plue_plugin_sdk::time::rfc3339(t))
}

/// Serve database `plue` on this thread by `routes`.
pub fn fake(routes: Vec<(&'static str, Result<Rows, SqlError>)>) -> SqlLog {
    testing::sql_routes(crate::db::DATABASE, routes)
}
