//! Typed values across the `sql` capability: plugin parameters bound as
//! PostgreSQL types, and result cells decoded into the WIT `value` variant
//! (exact numerics with their display scale, UTC timestamps, arrays; unknown
//! types as text or bytes).

use sqlx::postgres::{PgRow, PgTypeKind};
use sqlx::{Column as _, Row, TypeInfo, ValueRef};

use crate::bindings::sql::{Column, Element, SqlError, Value};

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

pub(super) fn bind(query: PgQuery<'_>, value: Value) -> Result<PgQuery<'_>, SqlError> {
    let bad = |what: &str, text: &str| {
        SqlError::Refused(format!("parameter is not a valid {what}: `{text}`"))
    };
    Ok(match value {
        Value::Null => query.bind(None::<String>),
        Value::Boolean(b) => query.bind(b),
        Value::Int(i) => query.bind(i),
        Value::Float(f) => query.bind(f),
        Value::Numeric(s) => query.bind(
            s.parse::<bigdecimal::BigDecimal>()
                .map_err(|_| bad("numeric", &s))?,
        ),
        Value::Text(s) => query.bind(s),
        Value::Json(s) => {
            query.bind(serde_json::from_str::<serde_json::Value>(&s).map_err(|_| bad("JSON", &s))?)
        }
        Value::Bytes(b) => query.bind(b),
        Value::Timestamptz(s) => query.bind(
            chrono::DateTime::parse_from_rfc3339(&s)
                .map_err(|_| bad("RFC 3339 timestamp", &s))?
                .with_timezone(&chrono::Utc),
        ),
        Value::Timestamp(s) => query.bind(
            s.parse::<chrono::NaiveDateTime>()
                .map_err(|_| bad("timestamp", &s))?,
        ),
        Value::Date(s) => query.bind(
            s.parse::<chrono::NaiveDate>()
                .map_err(|_| bad("date", &s))?,
        ),
        Value::Time(s) => query.bind(
            s.parse::<chrono::NaiveTime>()
                .map_err(|_| bad("time", &s))?,
        ),
        Value::IntervalSeconds(secs) => query.bind(sqlx::postgres::types::PgInterval {
            months: 0,
            days: 0,
            microseconds: (secs * 1e6) as i64,
        }),
        Value::Uuid(s) => query.bind(s.parse::<uuid::Uuid>().map_err(|_| bad("uuid", &s))?),
        Value::Array(items) => bind_array(query, items),
    })
}

fn bind_array(query: PgQuery<'_>, items: Vec<Element>) -> PgQuery<'_> {
    let all = |f: fn(&Element) -> bool| items.iter().all(|e| matches!(e, Element::Null) || f(e));
    if all(|e| matches!(e, Element::Int(_))) {
        query.bind(
            items
                .iter()
                .map(|e| {
                    if let Element::Int(i) = e {
                        Some(*i)
                    } else {
                        None
                    }
                })
                .collect::<Vec<_>>(),
        )
    } else if all(|e| matches!(e, Element::Float(_) | Element::Int(_))) {
        query.bind(
            items
                .iter()
                .map(|e| match e {
                    Element::Float(f) => Some(*f),
                    Element::Int(i) => Some(*i as f64),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )
    } else if all(|e| matches!(e, Element::Boolean(_))) {
        query.bind(
            items
                .iter()
                .map(|e| {
                    if let Element::Boolean(b) = e {
                        Some(*b)
                    } else {
                        None
                    }
                })
                .collect::<Vec<_>>(),
        )
    } else {
        query.bind(items.into_iter().map(element_text).collect::<Vec<_>>())
    }
}

fn element_text(e: Element) -> Option<String> {
    match e {
        Element::Null => None,
        Element::Boolean(b) => Some(b.to_string()),
        Element::Int(i) => Some(i.to_string()),
        Element::Float(f) => Some(f.to_string()),
        Element::Numeric(s) | Element::Text(s) => Some(s),
    }
}

pub(super) fn type_name(info: &sqlx::postgres::PgTypeInfo) -> String {
    info.name().to_ascii_lowercase()
}

pub(super) fn describe(row: &PgRow) -> Vec<Column> {
    row.columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_string(),
            type_name: type_name(c.type_info()),
        })
        .collect()
}

pub(super) fn decode_row(row: &PgRow) -> Vec<Value> {
    (0..row.columns().len()).map(|i| decode(row, i)).collect()
}

/// One cell as a typed value. Types without a case of their own become text
/// (enums and other types whose binary form is text) or hex.
fn decode(row: &PgRow, i: usize) -> Value {
    let Ok(raw) = row.try_get_raw(i) else {
        return Value::Null;
    };
    if raw.is_null() {
        return Value::Null;
    }
    let info = raw.type_info().into_owned();
    let name = info.name().to_ascii_uppercase();
    macro_rules! get {
        ($t:ty) => {
            row.try_get::<$t, _>(i).ok()
        };
    }
    let value = match name.as_str() {
        "BOOL" => get!(bool).map(Value::Boolean),
        "INT2" => get!(i16).map(|v| Value::Int(v.into())),
        "INT4" => get!(i32).map(|v| Value::Int(v.into())),
        "INT8" => get!(i64).map(Value::Int),
        "OID" => get!(sqlx::postgres::types::Oid).map(|v| Value::Int(v.0.into())),
        "FLOAT4" => get!(f32).map(|v| Value::Float(v.into())),
        "FLOAT8" => get!(f64).map(Value::Float),
        "NUMERIC" => get!(bigdecimal::BigDecimal)
            .map(|v| Value::Numeric(numeric_text(v, raw.as_bytes().ok()))),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" => get!(String).map(Value::Text),
        "JSON" | "JSONB" => get!(serde_json::Value).map(|v| Value::Json(v.to_string())),
        "BYTEA" => get!(Vec<u8>).map(Value::Bytes),
        "TIMESTAMPTZ" => get!(chrono::DateTime<chrono::Utc>)
            .map(|v| Value::Timestamptz(v.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))),
        "TIMESTAMP" => get!(chrono::NaiveDateTime)
            .map(|v| Value::Timestamp(v.format("%Y-%m-%dT%H:%M:%S%.f").to_string())),
        "DATE" => get!(chrono::NaiveDate).map(|v| Value::Date(v.to_string())),
        "TIME" => get!(chrono::NaiveTime).map(|v| Value::Time(v.to_string())),
        "INTERVAL" => get!(sqlx::postgres::types::PgInterval).map(|v| {
            Value::IntervalSeconds(
                v.months as f64 * 30.0 * 86400.0
                    + v.days as f64 * 86400.0
                    + v.microseconds as f64 / 1e6,
            )
        }),
        "UUID" => get!(uuid::Uuid).map(|v| Value::Uuid(v.hyphenated().to_string())),
        "BOOL[]" => get!(Vec<Option<bool>>).map(|v| {
            Value::Array(
                v.into_iter()
                    .map(|x| x.map_or(Element::Null, Element::Boolean))
                    .collect(),
            )
        }),
        "INT2[]" => get!(Vec<Option<i16>>).map(|v| {
            Value::Array(
                v.into_iter()
                    .map(|x| x.map_or(Element::Null, |n| Element::Int(n.into())))
                    .collect(),
            )
        }),
        "INT4[]" => get!(Vec<Option<i32>>).map(|v| {
            Value::Array(
                v.into_iter()
                    .map(|x| x.map_or(Element::Null, |n| Element::Int(n.into())))
                    .collect(),
            )
        }),
        "INT8[]" => get!(Vec<Option<i64>>).map(|v| {
            Value::Array(
                v.into_iter()
                    .map(|x| x.map_or(Element::Null, Element::Int))
                    .collect(),
            )
        }),
        "FLOAT4[]" => get!(Vec<Option<f32>>).map(|v| {
            Value::Array(
                v.into_iter()
                    .map(|x| x.map_or(Element::Null, |n| Element::Float(n.into())))
                    .collect(),
            )
        }),
        "FLOAT8[]" => get!(Vec<Option<f64>>).map(|v| {
            Value::Array(
                v.into_iter()
                    .map(|x| x.map_or(Element::Null, Element::Float))
                    .collect(),
            )
        }),
        "NUMERIC[]" => get!(Vec<Option<bigdecimal::BigDecimal>>).map(|v| {
            Value::Array(
                v.into_iter()
                    .map(|x| x.map_or(Element::Null, |n| Element::Numeric(n.to_plain_string())))
                    .collect(),
            )
        }),
        "TEXT[]" | "VARCHAR[]" | "NAME[]" | "BPCHAR[]" => get!(Vec<Option<String>>).map(|v| {
            Value::Array(
                v.into_iter()
                    .map(|x| x.map_or(Element::Null, Element::Text))
                    .collect(),
            )
        }),
        _ => None,
    };
    value.unwrap_or_else(|| fallback(&info, raw.as_bytes().ok()))
}

/// A numeric's exact text with the column's display scale (`12.50`, not `12.5000`):
/// the binary format carries it as `dscale` (bytes 6..8).
fn numeric_text(value: bigdecimal::BigDecimal, raw: Option<&[u8]>) -> String {
    match raw.and_then(|b| b.get(6..8)) {
        Some(d) => value
            .with_scale(i64::from(u16::from_be_bytes([d[0], d[1]])))
            .to_plain_string(),
        None => value.to_plain_string(),
    }
}

fn fallback(info: &sqlx::postgres::PgTypeInfo, bytes: Option<&[u8]>) -> Value {
    let Some(bytes) = bytes else {
        return Value::Null;
    };
    // Enums (and domains over text) travel as text in the binary protocol.
    let texty = matches!(info.kind(), PgTypeKind::Enum(_))
        || std::str::from_utf8(bytes).is_ok_and(|s| !s.chars().any(|c| c.is_control()));
    if texty {
        Value::Text(String::from_utf8_lossy(bytes).into_owned())
    } else {
        Value::Bytes(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_text_keeps_the_display_scale() {
        let v: bigdecimal::BigDecimal = "12.5".parse().unwrap();
        // ndigits, weight, sign, dscale = 2
        assert_eq!(
            numeric_text(v.clone(), Some(&[0, 2, 0, 0, 0, 0, 0, 2])),
            "12.50"
        );
        assert_eq!(numeric_text(v, None), "12.5");
    }
}
