//! The `sql` capability: read-only statements on PostgreSQL databases granted by
//! name. Each statement is checked by [`crate::policy::sql`], then runs alone
//! on a session whose every transaction is read-only and under the statement
//! timeout (both set once per connection, in its startup parameters); rows are
//! capped and values typed. A read costs one round trip once its statement is
//! prepared on the connection (two the first time): no ping before or after,
//! no transaction wrapper; a connection found dead is replaced and the read
//! retried once (`sql_pool.rs` keeps the connections).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::Column as _;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::Mutex;

use super::sql_pool::Connections;
use super::sql_values::{bind, decode_row, describe, type_name};
use crate::bindings::sql::{Column, DatabaseError, Rows, SqlError, Value};
use crate::config::DatabaseConfig;
use crate::metrics::{BackendResult, metrics};
use crate::policy;

/// One configured database and its connections, shared by every plugin
/// granted it.
pub struct Database {
    pub config: Arc<DatabaseConfig>,
    pool: Result<Arc<Connections>, String>,
    /// One permit per connection: calls queue here (fairly, within their own
    /// deadline), so at most `max_connections` are open.
    slots: tokio::sync::Semaphore,
    /// `Some(Ok)` once the role was checked; errors are not cached.
    role_checked: Mutex<Option<Result<(), String>>>,
    /// Statements the policy accepted (see [`Accepted`]).
    accepted: Accepted,
}

/// Statements the policy already accepted, so a repeated statement (a tool's
/// own SQL, an agent's retry) is not parsed again. The verdict is a pure
/// function of the text, so remembering it changes no decision. It also keeps
/// the parser off a plugin call's stack: the parser guards its recursion by
/// switching to a freshly mapped stack when it cannot measure the one it runs
/// on, which on a wasmtime fiber is every time (an mmap, a munmap and a TLB
/// shootdown across cores per statement). Bounded: at most
/// [`Accepted::ENTRIES`] statements of at most [`Accepted::MAX_LEN`] bytes,
/// forgotten all at once when full.
#[derive(Default)]
struct Accepted(std::sync::Mutex<std::collections::HashSet<String>>);

impl Accepted {
    const ENTRIES: usize = 512;
    const MAX_LEN: usize = 4096;

    fn check(&self, statement: &str) -> Result<(), SqlError> {
        let known = |set: &std::collections::HashSet<String>| set.contains(statement);
        if self.0.lock().is_ok_and(|set| known(&set)) {
            return Ok(());
        }
        policy::sql::check_statement(statement).map_err(|r| SqlError::Refused(r.0))?;
        if statement.len() <= Self::MAX_LEN
            && let Ok(mut set) = self.0.lock()
        {
            if set.len() >= Self::ENTRIES {
                set.clear();
            }
            set.insert(statement.to_string());
        }
        Ok(())
    }
}

/// How long opening a connection may take; past it, the database is reported
/// unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Database {
    /// Prepare (without connecting) the pool of `config`.
    pub fn new(config: Arc<DatabaseConfig>) -> Database {
        let pool = config.url.as_ref().map_err(Clone::clone).and_then(|url| {
            let options: PgConnectOptions = url.expose().parse().map_err(|_| {
                format!("database `{}` has a malformed connection url", config.name)
            })?;
            // Every transaction of the session is read-only and bounded: the
            // policy refuses any statement that could change either (SET,
            // set_config, transaction control), so they hold for the
            // connection's life, across reconnects (they are startup values).
            let timeout_ms = config.statement_timeout.as_millis().max(1).to_string();
            let options = options.application_name("plue-mcp").options([
                ("default_transaction_read_only", "on"),
                ("statement_timeout", timeout_ms.as_str()),
            ]);
            Ok(Connections::new(
                options,
                config.idle_timeout,
                CONNECT_TIMEOUT,
            ))
        });
        Database {
            slots: tokio::sync::Semaphore::new(config.max_connections as usize),
            config,
            pool,
            role_checked: Mutex::new(None),
            accepted: Accepted::default(),
        }
    }

    fn unavailable(&self, e: &sqlx::Error) -> SqlError {
        let name = &self.config.name;
        let cause = match e {
            sqlx::Error::Database(db) => db.message().to_string(),
            sqlx::Error::PoolTimedOut => {
                format!(
                    "no connection within {} s (is PostgreSQL running and reachable?)",
                    CONNECT_TIMEOUT.as_secs()
                )
            }
            sqlx::Error::Io(io) => io.to_string(),
            other => crate::text::root_cause(other),
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
        let result = crate::policy::grants::superuser(
            &self.config.name,
            is_super,
            self.config.allow_superuser,
        );
        *checked = Some(result.clone());
        result.map_err(SqlError::AccessDenied)
    }

    /// Run one read-only statement. A connection that turns out to be dead
    /// (the server restarted since it was pooled) is dropped and the read
    /// retried once on a fresh one: a read is safe to repeat.
    pub async fn query(&self, statement: &str, params: Vec<Value>) -> Result<Rows, SqlError> {
        self.accepted.check(statement)?;
        let pool = self
            .pool
            .as_ref()
            .map_err(|why| SqlError::Unavailable(why.clone()))?;
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| SqlError::Unavailable("the host is shutting down".into()))?;
        let mut retried = false;
        loop {
            let mut conn = pool.lease().await.map_err(|e| self.unavailable(&e))?;
            self.check_role(&mut conn).await?;
            match self.run(&mut conn, statement, params.clone()).await {
                Err(Failure::Connection(e)) if !retried => {
                    // The server went away: so did every idle connection.
                    tracing::debug!(database = %self.config.name, "reconnecting after: {e}");
                    drop(conn);
                    pool.forget_idle();
                    retried = true;
                }
                Err(Failure::Connection(e)) => {
                    pool.forget_idle();
                    return Err(self.unavailable(&e));
                }
                Err(Failure::Sql(e)) => {
                    conn.give_back();
                    return Err(e);
                }
                Ok(rows) => {
                    conn.give_back();
                    return Ok(rows);
                }
            }
        }
    }

    async fn run(
        &self,
        conn: &mut sqlx::PgConnection,
        statement: &str,
        params: Vec<Value>,
    ) -> Result<Rows, Failure> {
        // The one place a plugin's SQL text reaches the database: it was checked
        // by the policy above and runs read-only; values travel as parameters.
        // Prepared once per connection and cached there.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.to_string()));
        for param in params {
            query = bind(query, param).map_err(Failure::Sql)?;
        }
        let max_rows = self.config.max_rows as usize;
        let mut stream = query.fetch(&mut *conn);
        let mut rows = Vec::new();
        let mut columns = None;
        let mut truncated = false;
        while let Some(row) = stream.try_next().await.map_err(|e| self.failure(e))? {
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
                let prepared = (&mut *conn)
                    .prepare(sqlx::AssertSqlSafe(statement.to_string()).into_sql_str())
                    .await
                    .map_err(|e| self.failure(e))?;
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

    /// A failed read: the connection's fault (retry on another), or the
    /// statement's (report it).
    fn failure(&self, e: sqlx::Error) -> Failure {
        let connection_lost = match &e {
            sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
            // Class 08 (connection exception), 57P01–57P03 (server shut down).
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        };
        if connection_lost {
            Failure::Connection(e)
        } else {
            Failure::Sql(self.error(&e))
        }
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

/// Why a read failed.
enum Failure {
    /// The connection broke: another connection may succeed.
    Connection(sqlx::Error),
    /// The statement failed, as the plugin should hear it.
    Sql(SqlError),
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
        let started = std::time::Instant::now();
        let result = db.query(statement, params).await;
        let counted = match &result {
            Ok(_) => BackendResult::Ok,
            Err(SqlError::AccessDenied(_) | SqlError::Refused(_)) => BackendResult::Refused,
            Err(SqlError::Timeout(_)) => BackendResult::StatementTimeout,
            Err(SqlError::Unavailable(_)) => BackendResult::Unreachable,
            Err(SqlError::Database(_)) => BackendResult::Error,
        };
        metrics().backend(
            &self.plugin,
            "sql",
            &db.config.name,
            counted,
            started.elapsed().as_secs_f64(),
        );
        result
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
        let reported = |e: sqlx::Error| match self.unavailable(&e) {
            SqlError::Unavailable(m) => m,
            other => format!("{other:?}"),
        };
        let mut conn = pool.lease().await.map_err(reported)?;
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
        .fetch_one(&mut *conn)
        .await
        .map_err(reported)?;
        conn.give_back();
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

    #[test]
    fn remembered_statements_are_only_ever_accepted_ones_and_stay_bounded() {
        let accepted = Accepted::default();
        assert!(accepted.check("SELECT 1").is_ok());
        assert!(accepted.0.lock().unwrap().contains("SELECT 1"));
        // A refused statement is refused each time and never remembered.
        for _ in 0..2 {
            assert!(matches!(
                accepted.check("DELETE FROM users"),
                Err(SqlError::Refused(_))
            ));
        }
        assert!(!accepted.0.lock().unwrap().contains("DELETE FROM users"));
        // Long statements are checked but not kept; a full set is emptied, not grown.
        let long = format!("SELECT '{}'", "x".repeat(Accepted::MAX_LEN));
        assert!(accepted.check(&long).is_ok());
        assert!(!accepted.0.lock().unwrap().contains(&long));
        for n in 0..Accepted::ENTRIES + 10 {
            accepted.check(&format!("SELECT {n}")).unwrap();
        }
        assert!(accepted.0.lock().unwrap().len() <= Accepted::ENTRIES);
    }

    use super::*;

    fn grants(url: Result<&str, &str>) -> SqlGrants {
        let config = DatabaseConfig {
            name: "plue".into(),
            url: url.map(crate::secret::Secret::new).map_err(String::from),
            statement_timeout: Duration::from_secs(1),
            max_rows: 10,
            max_connections: 1,
            idle_timeout: Duration::from_secs(300),
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
}
