//! The `sql` capability: read-only statements on PostgreSQL databases granted by
//! name. Each statement is checked by [`crate::policy::sql`], then runs alone as
//! an unnamed prepared statement inside a `READ ONLY` transaction with a local
//! statement timeout; the transaction is always rolled back, rows are capped
//! and values typed. Pools connect lazily, so a database that is down never
//! stops the host.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow, PgTypeKind};
use sqlx::{Column as _, Row, TypeInfo, ValueRef};
use tokio::sync::Mutex;

use crate::bindings::sql::{Column, DatabaseError, Element, Rows, SqlError, Value};
use crate::config::DatabaseConfig;
use crate::policy;

/// One configured database and its lazily created pool, shared by every
/// plugin granted it.
pub struct Database {
    pub config: Arc<DatabaseConfig>,
    pool: Result<PgPool, String>,
    /// `Some(Ok)` once the role was checked; errors are not cached.
    role_checked: Mutex<Option<Result<(), String>>>,
}

impl Database {
    /// Prepare (without connecting) the pool of `config`.
    pub fn new(config: Arc<DatabaseConfig>) -> Database {
        let pool = config.url.as_ref().map_err(Clone::clone).and_then(|url| {
            let options: PgConnectOptions = url.expose().parse().map_err(|_| {
                format!("database `{}` has a malformed connection url", config.name)
            })?;
            let options = options
                .application_name("plue-mcp")
                .options([("default_transaction_read_only", "on")]);
            Ok(PgPoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(Duration::from_secs(5))
                .idle_timeout(Duration::from_secs(300))
                .connect_lazy_with(options))
        });
        Database {
            config,
            pool,
            role_checked: Mutex::new(None),
        }
    }

    fn unavailable(&self, e: &sqlx::Error) -> SqlError {
        let name = &self.config.name;
        let cause = match e {
            sqlx::Error::Database(db) => db.message().to_string(),
            sqlx::Error::PoolTimedOut => {
                "no connection within 5 s (is PostgreSQL running and reachable?)".into()
            }
            sqlx::Error::Io(io) => io.to_string(),
            other => {
                let mut cause: &dyn std::error::Error = other;
                while let Some(next) = cause.source() {
                    cause = next;
                }
                cause.to_string()
            }
        };
        SqlError::Unavailable(format!(
            "cannot connect to database `{name}`: {cause}; check that PostgreSQL runs and the url in [databases.{name}]"
        ))
    }

    /// Refuse superuser roles unless the operator allowed them. Checked once
    /// per process, on the first successful connection.
    async fn check_role(&self, conn: &mut sqlx::PgConnection) -> Result<(), SqlError> {
        let mut checked = self.role_checked.lock().await;
        if let Some(result) = checked.as_ref() {
            return result.clone().map_err(SqlError::AccessDenied);
        }
        let (is_super,): (bool,) =
            sqlx::query_as("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| self.unavailable(&e))?;
        let result = if is_super && !self.config.allow_superuser {
            Err(format!(
                "database `{0}` connects as a superuser, which a read-only transaction cannot contain (COPY … TO PROGRAM, server files); connect as a role with only pg_read_all_data (see README), or set allow_superuser = true in [databases.{0}]",
                self.config.name
            ))
        } else {
            Ok(())
        };
        *checked = Some(result.clone());
        result.map_err(SqlError::AccessDenied)
    }

    /// Run one read-only statement.
    pub async fn query(&self, statement: &str, params: Vec<Value>) -> Result<Rows, SqlError> {
        policy::sql::check_statement(statement).map_err(|r| SqlError::Refused(r.0))?;
        let pool = self
            .pool
            .as_ref()
            .map_err(|why| SqlError::Unavailable(why.clone()))?;
        let mut conn = pool.acquire().await.map_err(|e| self.unavailable(&e))?;
        self.check_role(&mut conn).await?;
        let timeout_ms = self.config.statement_timeout.as_millis().max(1);
        let mut tx = sqlx::Connection::begin(&mut *conn)
            .await
            .map_err(|e| self.unavailable(&e))?;
        sqlx::query("SET TRANSACTION READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(|e| self.unavailable(&e))?;
        // The number is ours, not the plugin's: formatting it is safe.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SET LOCAL statement_timeout = {timeout_ms}"
        )))
        .execute(&mut *tx)
        .await
        .map_err(|e| self.unavailable(&e))?;
        let result = self.run(&mut tx, statement, params).await;
        // Always roll back: nothing a statement does is kept.
        let _ = tx.rollback().await;
        result
    }

    async fn run(
        &self,
        tx: &mut sqlx::PgConnection,
        statement: &str,
        params: Vec<Value>,
    ) -> Result<Rows, SqlError> {
        // The one place a plugin's SQL text reaches the database: it was checked
        // by the policy above and runs read-only; values travel as parameters.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).persistent(false);
        for param in params {
            query = bind(query, param)?;
        }
        let max_rows = self.config.max_rows as usize;
        let mut stream = query.fetch(&mut *tx);
        let mut rows = Vec::new();
        let mut columns = None;
        let mut truncated = false;
        while let Some(row) = stream.try_next().await.map_err(|e| self.error(&e))? {
            if columns.is_none() {
                columns = Some(describe(&row));
            }
            if rows.len() == max_rows {
                truncated = true;
                break;
            }
            rows.push(decode_row(&row));
        }
        drop(stream);
        let columns = match columns {
            Some(c) => c,
            None => {
                // No rows: still name the columns.
                use sqlx::{Executor as _, SqlSafeStr as _, Statement as _};
                let prepared = (&mut *tx)
                    .prepare(sqlx::AssertSqlSafe(statement.to_string()).into_sql_str())
                    .await
                    .map_err(|e| self.error(&e))?;
                prepared
                    .columns()
                    .iter()
                    .map(|c| Column {
                        name: c.name().to_string(),
                        type_name: type_name(c.type_info()),
                    })
                    .collect()
            }
        };
        Ok(Rows {
            columns,
            rows,
            truncated,
        })
    }

    fn error(&self, e: &sqlx::Error) -> SqlError {
        let sqlx::Error::Database(db) = e else {
            return self.unavailable(e);
        };
        let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>();
        let code = db.code().map(|c| c.to_string()).unwrap_or_default();
        match code.as_str() {
            "57014" => {
                return SqlError::Timeout(format!(
                    "the statement ran past the {} ms statement timeout of database `{}`; narrow it (a WHERE, a LIMIT) or ask the operator to raise statement_timeout_ms",
                    self.config.statement_timeout.as_millis(),
                    self.config.name
                ));
            }
            "25006" => {
                return SqlError::Refused(format!(
                    "{} (statements run in a read-only transaction)",
                    db.message()
                ));
            }
            _ => {}
        }
        SqlError::Database(DatabaseError {
            code,
            message: db.message().to_string(),
            detail: pg.and_then(|p| p.detail()).map(str::to_string),
            hint: pg.and_then(|p| p.hint()).map(str::to_string),
            position: pg.and_then(|p| match p.position() {
                Some(sqlx::postgres::PgErrorPosition::Original(n)) => u32::try_from(n).ok(),
                _ => None,
            }),
        })
    }
}

/// The databases one plugin may query, by the names its manifest declares.
#[derive(Clone, Default)]
pub struct SqlGrants {
    pub plugin: String,
    pub databases: BTreeMap<String, Arc<Database>>,
}

impl SqlGrants {
    pub async fn query(
        &self,
        database: &str,
        statement: &str,
        params: Vec<Value>,
    ) -> Result<Rows, SqlError> {
        let Some(db) = self.databases.get(database) else {
            return Err(SqlError::AccessDenied(format!(
                "database `{database}` is not granted to plugin `{}` (the operator grants it with sql = [\"{database}\"] in [plugins.{}])",
                self.plugin, self.plugin
            )));
        };
        db.query(statement, params).await
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn bind(query: PgQuery<'_>, value: Value) -> Result<PgQuery<'_>, SqlError> {
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

fn type_name(info: &sqlx::postgres::PgTypeInfo) -> String {
    info.name().to_ascii_lowercase()
}

fn describe(row: &PgRow) -> Vec<Column> {
    row.columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_string(),
            type_name: type_name(c.type_info()),
        })
        .collect()
}

fn decode_row(row: &PgRow) -> Vec<Value> {
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

/// What `plue-mcp check` says about a database's role.
#[derive(Debug, Clone)]
pub struct RoleReport {
    pub role: String,
    pub superuser: bool,
    pub reads_all_data: bool,
    pub writes_all_data: bool,
    /// Tables the role may INSERT, UPDATE, DELETE or TRUNCATE.
    pub writable_tables: i64,
    pub can_create_in_database: bool,
}

impl RoleReport {
    /// What the operator should change, if anything.
    pub fn advice(&self, db: &str) -> Vec<String> {
        let mut advice = Vec::new();
        if self.superuser {
            advice.push(format!("role `{}` is a superuser: use a role with only pg_read_all_data and pg_monitor (see README); [databases.{db}] is refused unless allow_superuser = true", self.role));
        }
        if self.writes_all_data || self.writable_tables > 0 {
            advice.push(format!(
                "role `{}` can write ({} table(s) writable): statements still run read-only, but a least-privilege role is safer",
                self.role, self.writable_tables
            ));
        }
        if self.can_create_in_database {
            advice.push(format!(
                "role `{}` may CREATE in this database; revoke it for a read-only deployment",
                self.role
            ));
        }
        advice
    }
}

impl Database {
    /// The role's privileges, read straight from the catalog (used by `check`).
    pub async fn role_report(&self) -> Result<RoleReport, String> {
        let pool = self.pool.as_ref().map_err(Clone::clone)?;
        let row: (String, bool, bool, bool, i64, bool) = sqlx::query_as(
            "SELECT current_user::text,
                    r.rolsuper,
                    pg_has_role(current_user, 'pg_read_all_data', 'MEMBER'),
                    pg_has_role(current_user, 'pg_write_all_data', 'MEMBER'),
                    (SELECT count(DISTINCT (table_schema, table_name)) FROM information_schema.table_privileges
                      WHERE grantee = current_user AND privilege_type IN ('INSERT','UPDATE','DELETE','TRUNCATE')),
                    has_database_privilege(current_database(), 'CREATE')
               FROM pg_roles r WHERE r.rolname = current_user",
        )
        .fetch_one(pool)
        .await
        .map_err(|e| match self.unavailable(&e) {
            SqlError::Unavailable(m) => m,
            other => format!("{other:?}"),
        })?;
        Ok(RoleReport {
            role: row.0,
            superuser: row.1,
            reads_all_data: row.2,
            writes_all_data: row.3,
            writable_tables: row.4,
            can_create_in_database: row.5,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(url: Result<&str, &str>) -> SqlGrants {
        let config = DatabaseConfig {
            name: "plue".into(),
            url: url.map(crate::secret::Secret::new).map_err(String::from),
            statement_timeout: Duration::from_secs(1),
            max_rows: 10,
            max_connections: 1,
            allow_superuser: false,
        };
        SqlGrants {
            plugin: "p".into(),
            databases: [(
                "plue".to_string(),
                Arc::new(Database::new(Arc::new(config))),
            )]
            .into(),
        }
    }

    /// Denials and refusals need no database: they are decided before connecting.
    #[tokio::test]
    async fn refusals_happen_before_connecting() {
        // Port 9 on loopback: reaching the network would be `Unavailable`.
        let g = grants(Ok("postgres://u:p@127.0.0.1:9/plue"));
        match g.query("other", "SELECT 1", vec![]).await {
            Err(SqlError::AccessDenied(m)) => assert!(
                m.contains("database `other` is not granted to plugin `p`"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        match g.query("plue", "DELETE FROM users", vec![]).await {
            Err(SqlError::Refused(m)) => assert!(m.contains("DELETE"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_missing_url_says_what_to_set() {
        let g = grants(Err(
            "database `plue` is unavailable: environment variable DATABASE_URL is not set",
        ));
        match g.query("plue", "SELECT 1", vec![]).await {
            Err(SqlError::Unavailable(m)) => assert!(m.contains("DATABASE_URL is not set"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

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
