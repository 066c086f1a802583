//! Read-only SQL on databases the operator granted by name. The host runs each
//! statement alone, prepared, in a read-only transaction with a timeout, and
//! caps the rows; this module adds typed parameters and rows.
//!
//! ```
//! use plue_plugin_sdk::sql::{self, Value, Rows, Column};
//! plue_plugin_sdk::testing::fake_sql(|db, stmt, params| {
//!     assert_eq!((db, stmt), ("plue", "SELECT id, name FROM users WHERE id = $1"));
//!     assert_eq!(params, &[Value::Int(7)]);
//!     Ok(Rows {
//!         columns: vec![Column { name: "id".into(), type_name: "int8".into() },
//!                       Column { name: "name".into(), type_name: "text".into() }],
//!         rows: vec![vec![Value::Int(7), Value::Text("ada".into())]],
//!         truncated: false,
//!     })
//! });
//! #[derive(serde::Deserialize)]
//! struct User { id: i64, name: String }
//! let rows = sql::query("plue", "SELECT id, name FROM users WHERE id = $1", &[7i64.into()]).unwrap();
//! let users: Vec<User> = rows.to_structs().unwrap();
//! assert_eq!((users[0].id, users[0].name.as_str()), (7, "ada"));
//! ```

use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

use crate::ToolError;
pub use crate::bindings::plue::plugin::sql::{
    Column, DatabaseError, Element, Rows, SqlError, Value,
};

/// Run one read-only statement on `database` with parameters `$1`, `$2`, ….
pub fn query(database: &str, statement: &str, params: &[Value]) -> Result<Rows, SqlError> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::plue::plugin::sql::query(database, statement, params)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::HOST.with(|h| match &h.borrow().sql {
            Some(f) => f(database, statement, params),
            None => Err(SqlError::Unavailable(format!(
                "no fake SQL host on this thread for database `{database}` (use testing::fake_sql)"
            ))),
        })
    }
}

impl Rows {
    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Each row as a JSON object keyed by column name.
    pub fn to_json_objects(&self) -> Vec<Map<String, Json>> {
        self.rows
            .iter()
            .map(|row| {
                self.columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| (c.name.clone(), v.to_json()))
                    .collect()
            })
            .collect()
    }

    /// Each row deserialised into `T` by column name (timestamps as RFC 3339
    /// strings, numerics as strings, JSON columns as JSON values).
    pub fn to_structs<T: DeserializeOwned>(&self) -> Result<Vec<T>, ToolError> {
        self.to_json_objects()
            .into_iter()
            .map(|obj| {
                serde_json::from_value(Json::Object(obj))
                    .map_err(|e| ToolError::failed(format!("unexpected row shape: {e}")))
            })
            .collect()
    }
}

impl Value {
    /// The value as JSON: numbers as numbers (`numeric` as a string, to stay exact),
    /// JSON columns parsed, bytes as a hex string, times as strings.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Boolean(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Value::Json(text) => {
                serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.clone()))
            }
            Value::Bytes(b) => Json::String(hex(b)),
            Value::IntervalSeconds(s) => serde_json::Number::from_f64(*s)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Value::Array(items) => Json::Array(items.iter().map(element_json).collect()),
            Value::Numeric(s)
            | Value::Text(s)
            | Value::Timestamptz(s)
            | Value::Timestamp(s)
            | Value::Date(s)
            | Value::Time(s)
            | Value::Uuid(s) => Json::String(s.clone()),
        }
    }

    /// The value as display text for tables: `NULL` for null, JSON compact.
    pub fn render(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Text(s)
            | Value::Numeric(s)
            | Value::Timestamptz(s)
            | Value::Timestamp(s)
            | Value::Date(s)
            | Value::Time(s)
            | Value::Uuid(s)
            | Value::Json(s) => s.clone(),
            Value::Boolean(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bytes(b) => format!("\\x{}", hex(b)),
            Value::IntervalSeconds(s) => crate::time::human_duration(*s),
            Value::Array(_) => self.to_json().to_string(),
        }
    }

    /// Text-like content, if the value is text, numeric, a time or a uuid.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s)
            | Value::Numeric(s)
            | Value::Timestamptz(s)
            | Value::Timestamp(s)
            | Value::Date(s)
            | Value::Time(s)
            | Value::Uuid(s)
            | Value::Json(s) => Some(s),
            _ => None,
        }
    }

    /// An integer value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Numeric(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// A number (integers, floats, numerics, intervals in seconds).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) | Value::IntervalSeconds(f) => Some(*f),
            Value::Numeric(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// Whether the value is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

fn element_json(e: &Element) -> Json {
    match e {
        Element::Null => Json::Null,
        Element::Boolean(b) => Json::Bool(*b),
        Element::Int(i) => Json::from(*i),
        Element::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Element::Numeric(s) | Element::Text(s) => Json::String(s.clone()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

macro_rules! value_from {
    ($($t:ty => $case:ident($conv:expr)),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::$case($conv(v)) }
        }
    )*};
}

value_from! {
    bool => Boolean(|v| v),
    i16 => Int(i64::from),
    i32 => Int(i64::from),
    i64 => Int(|v| v),
    u32 => Int(i64::from),
    f64 => Float(|v| v),
    String => Text(|v| v),
    &str => Text(String::from),
    &String => Text(String::clone),
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

impl std::fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgreSQL error {}: {}", self.code, self.message)?;
        if let Some(p) = self.position {
            write!(f, " (at character {p})")?;
        }
        if let Some(d) = &self.detail {
            write!(f, "\nDETAIL: {d}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\nHINT: {h}")?;
        }
        Ok(())
    }
}

impl SqlError {
    /// A message for the agent: the kind of failure and the host's explanation.
    pub fn describe(&self) -> String {
        match self {
            SqlError::AccessDenied(m) => format!("access denied: {m}"),
            SqlError::Refused(m) => format!("refused: {m}"),
            SqlError::Timeout(m) => format!("timed out: {m}"),
            SqlError::Unavailable(m) => format!("database unavailable: {m}"),
            SqlError::Database(e) => e.to_string(),
        }
    }
}

impl From<SqlError> for ToolError {
    fn from(e: SqlError) -> Self {
        ToolError::failed(e.describe())
    }
}
