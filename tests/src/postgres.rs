//! A real PostgreSQL for the tests, loaded with Plue's schema and realistic data.
//!
//! [`PgServer::start`] creates a throw-away cluster in a temporary directory, starts it on a
//! free loopback port (never 5432: other servers on the machine must not answer our tests),
//! creates database `plue` from `tests/fixtures/plue/schema.sql` and `data.sql`, and two
//! login roles reachable over TCP with a password:
//!
//! * [`READER_ROLE`]: least privilege, `pg_read_all_data` + `pg_monitor` + CONNECT on `plue`;
//!   this is the role the plugins run as ([`PgServer::reader_url`]);
//! * [`SUPERUSER_ROLE`]: a superuser, for the tests that check the host refuses one
//!   ([`PgServer::superuser_url`]).
//!
//! Setup and checks go through the `psql` CLI as the bootstrap superuser over the cluster's
//! own Unix socket ([`PgServer::psql`]). [`PgServer::checksum`] fingerprints every table's
//! rows, the sequences and the catalog objects an attack could add, so a test can assert
//! that nothing changed. Dropping the [`PgServer`] stops the server and removes the directory.
//!
//! The PostgreSQL binaries refuse to run as root: when the tests run as root, the cluster
//! directory is owned by the `postgres` OS user and the server commands run through
//! `runuser -u postgres --`. The facts the data guarantees are listed at the top of
//! `tests/fixtures/plue/data.sql`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use tempfile::TempDir;

/// The database the fixtures are loaded into.
pub const DATABASE: &str = "plue";
/// The least-privilege login role (`pg_read_all_data`, `pg_monitor`, CONNECT on `plue`).
pub const READER_ROLE: &str = "plue_reader";
/// [`READER_ROLE`]'s password (scram-sha-256 over TCP).
pub const READER_PASSWORD: &str = "reader-secret-7c1f";
/// A superuser login role with a password, for the tests of superuser refusal.
pub const SUPERUSER_ROLE: &str = "plue_admin";
/// [`SUPERUSER_ROLE`]'s password.
pub const SUPERUSER_PASSWORD: &str = "admin-secret-93be";
/// The bootstrap superuser, reachable only over the cluster's Unix socket (trust).
const BOOTSTRAP_ROLE: &str = "postgres";

const MISSING_BINARIES: &str = "PostgreSQL server binaries not found: run `bash .ci/install-deps` (apt-get install -y postgresql)";
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// `tests/fixtures/plue`: `schema.sql`, `data.sql` and optional extras such as
/// `workflow_tasks.sql`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("plue")
}

/// A running PostgreSQL cluster holding database `plue`. Stopped and deleted on drop.
pub struct PgServer {
    dir: Option<TempDir>,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    bins: Binaries,
    /// Running as root: server commands go through `runuser -u postgres --`.
    as_postgres: bool,
}

#[derive(Clone, Debug)]
struct Binaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
    psql: PathBuf,
}

impl PgServer {
    /// Creates, starts and loads a fresh cluster. Blocking (a few seconds); fails loudly,
    /// with the server log, when anything does not work.
    pub fn start() -> Result<PgServer> {
        let bins = find_binaries()?;
        let as_postgres = running_as_root()?;
        let base = tempfile::Builder::new()
            .prefix("plue-pg-")
            .tempdir_in(temp_root())
            .context("create the PostgreSQL temporary directory")?;
        let root = base.path().to_path_buf();
        let data_dir = root.join("data");
        let socket_dir = root.join("sock");
        let log_file = root.join("server.log");
        fs::create_dir(&socket_dir).context("create the socket directory")?;
        if as_postgres {
            let (uid, gid) = postgres_ids()?;
            for p in [&root, &socket_dir] {
                std::os::unix::fs::chown(p, Some(uid), Some(gid))
                    .with_context(|| format!("chown {} to the postgres user", p.display()))?;
            }
        }

        let mut server = PgServer {
            dir: Some(base),
            data_dir,
            socket_dir,
            log_file,
            port: 0,
            bins,
            as_postgres,
        };
        server.init_cluster()?;
        server.start_server()?;
        server.load_fixtures()?;
        Ok(server)
    }

    /// The TCP port the server listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `postgres://plue_reader:…@127.0.0.1:PORT/plue`: the least-privilege role.
    pub fn reader_url(&self) -> String {
        self.url(READER_ROLE, READER_PASSWORD)
    }

    /// `postgres://plue_admin:…@127.0.0.1:PORT/plue`: a superuser with a password.
    pub fn superuser_url(&self) -> String {
        self.url(SUPERUSER_ROLE, SUPERUSER_PASSWORD)
    }

    /// A URL for any role on database `plue` over TCP.
    pub fn url(&self, user: &str, password: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/{DATABASE}",
            self.port
        )
    }

    /// Runs SQL (any number of statements) on `plue` as the bootstrap superuser and returns
    /// the output, tuples only, unaligned (`|` between columns, one row a line), without
    /// the final newline. Stops at the first error, which is returned with psql's message.
    pub fn psql(&self, sql: &str) -> Result<String> {
        self.run_psql(&self.socket_args(DATABASE), sql)
    }

    /// Like [`psql`](Self::psql) but connected through `url` (TCP, password auth), e.g.
    /// `pg.psql_at(&pg.reader_url(), "select 1")`.
    pub fn psql_at(&self, url: &str, sql: &str) -> Result<String> {
        self.run_psql(&["-d".to_string(), url.to_string()], sql)
    }

    /// Runs a file of `tests/fixtures/plue/` (e.g. `workflow_tasks.sql`) as the superuser.
    pub fn load_fixture(&self, name: &str) -> Result<()> {
        let path = fixtures_dir().join(name);
        self.psql_file(DATABASE, &path)
    }

    /// Sets the heartbeats of the two runners that data.sql makes fresh (ids 1 and 2) back to
    /// 2 and 4 seconds ago, for tests that assert "healthy" long after the data was loaded.
    /// Changes the [`checksum`](Self::checksum): call it before taking one.
    pub fn refresh_heartbeats(&self) -> Result<()> {
        self.psql(
            "UPDATE runner_pool SET last_heartbeat = (now() AT TIME ZONE 'UTC') - interval '2 seconds' WHERE id = 1;
             UPDATE runner_pool SET last_heartbeat = (now() AT TIME ZONE 'UTC') - interval '4 seconds' WHERE id = 2;",
        )
        .map(|_| ())
    }

    /// A fingerprint of the database's state: every table's rows (all schemas but the
    /// system ones), every sequence's value, the relations, functions and schemas that
    /// exist (temporary ones included), roles and role memberships, per-database/role
    /// settings, large objects and databases. Equal before and after an attack means the
    /// attack changed nothing. Panics when the server cannot be queried.
    pub fn checksum(&self) -> String {
        let sql = self
            .snapshot_sql()
            .expect("list the tables for the checksum");
        let sql = format!(
            "SELECT md5(string_agg(line, E'\\n' ORDER BY line)) FROM ({sql}) AS snapshot(line)"
        );
        self.psql(&sql).expect("compute the database checksum")
    }

    /// The lines [`checksum`](Self::checksum) is computed from, sorted: compare two of these
    /// for a readable diff of what changed.
    pub fn snapshot(&self) -> String {
        let sql = self
            .snapshot_sql()
            .expect("list the tables for the snapshot");
        self.psql(&format!(
            "SELECT line FROM ({sql}) AS snapshot(line) ORDER BY line"
        ))
        .expect("take the database snapshot")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    fn snapshot_sql(&self) -> Result<String> {
        const USER_NS: &str =
            "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'";
        let tables = self.psql(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
               AND schemaname !~ '^pg_(toast|temp_)' ORDER BY 1",
        )?;
        let mut parts: Vec<String> = tables
            .lines()
            .filter(|t| !t.is_empty())
            .map(|t| {
                let lit = t.replace('\'', "''");
                format!(
                    "SELECT 'rows {lit} ' || count(*) || ' ' \
                     || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {t} AS t"
                )
            })
            .collect();
        parts.push(
            "SELECT format('sequence %I.%I %s', schemaname, sequencename, coalesce(last_value::text, 'unset'))
             FROM pg_sequences"
                .into(),
        );
        parts.push(format!(
            "SELECT format('relation %I.%I %s', n.nspname, c.relname, c.relkind)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NS}"
        ));
        parts.push(format!(
            "SELECT format('function %I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_NS}"
        ));
        parts.push(format!(
            "SELECT format('schema %I', n.nspname) FROM pg_namespace n WHERE {USER_NS} AND n.nspname !~ '^pg_temp_'"
        ));
        parts.push(
            "SELECT format('role %I super=%s login=%s createrole=%s createdb=%s replication=%s bypassrls=%s config=%s',
                           rolname, rolsuper, rolcanlogin, rolcreaterole, rolcreatedb, rolreplication,
                           rolbypassrls, rolconfig)
             FROM pg_roles WHERE rolname !~ '^pg_'"
                .into(),
        );
        parts.push(
            "SELECT format('member %s of %s admin=%s', member::regrole, roleid::regrole, admin_option)
             FROM pg_auth_members"
                .into(),
        );
        parts.push(
            "SELECT format('setting db=%s role=%s %s', setdatabase, setrole, setconfig) FROM pg_db_role_setting"
                .into(),
        );
        parts.push("SELECT 'large objects ' || count(*) FROM pg_largeobject_metadata".into());
        parts.push("SELECT format('database %I', datname) FROM pg_database".into());
        Ok(parts.join("\nUNION ALL\n"))
    }

    // --- setup -------------------------------------------------------------------

    fn init_cluster(&self) -> Result<()> {
        let out = self
            .server_command(&self.bins.initdb)
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "-U",
                BOOTSTRAP_ROLE,
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "--auth=trust",
            ])
            .output()
            .context("run initdb")?;
        if !out.status.success() {
            bail!("initdb failed ({}):\n{}", out.status, output_text(&out));
        }
        // Trust on our own socket (setup and checks); passwords over TCP.
        fs::write(
            self.data_dir.join("pg_hba.conf"),
            "# written by plue-tests (tests/src/postgres.rs)\n\
             local all all trust\n\
             host  all all 127.0.0.1/32 scram-sha-256\n",
        )
        .context("write pg_hba.conf")?;
        let socket = self.socket_dir.display().to_string().replace('\'', "''");
        let mut conf = fs::OpenOptions::new()
            .append(true)
            .open(self.data_dir.join("postgresql.conf"))
            .context("open postgresql.conf")?;
        write!(
            conf,
            "\n# plue-tests\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{socket}'\n\
             password_encryption = 'scram-sha-256'\n\
             timezone = 'UTC'\n\
             log_timezone = 'UTC'\n\
             max_connections = 50\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n"
        )
        .context("write postgresql.conf")?;
        Ok(())
    }

    fn start_server(&mut self) -> Result<()> {
        let mut last_error = String::new();
        for _attempt in 0..5 {
            self.port = crate::ports::free_port();
            match self.pg_ctl_start() {
                Ok(()) => return Ok(()),
                Err(e) => last_error = format!("{e:#}"),
            }
            // Someone took the port between free_port() and the bind: try another one.
            if !(last_error.contains("could not bind")
                || last_error.contains("Address already in use"))
            {
                break;
            }
        }
        bail!("{last_error}")
    }

    /// `pg_ctl start` on the current port, then wait until it is ours and ready.
    fn pg_ctl_start(&self) -> Result<()> {
        let out = self
            .server_command(&self.bins.pg_ctl)
            .arg("start")
            .arg("-w")
            .args(["-t", &START_TIMEOUT.as_secs().to_string()])
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&self.log_file)
            .args(["-o", &format!("-p {}", self.port)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .context("run pg_ctl start")?;
        if out.status.success() {
            return self.wait_until_ready();
        }
        bail!(
            "pg_ctl start failed ({}):\n{}\nserver log:\n{}",
            out.status,
            output_text(&out),
            self.log()
        )
    }

    /// Stop the server (fast: open sessions are cut), keeping its data and port,
    /// to test what clients do while a database is down.
    pub fn stop(&self) -> Result<()> {
        let out = self
            .server_command(&self.bins.pg_ctl)
            .arg("stop")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "-t", "30"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .context("run pg_ctl stop")?;
        ensure!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            output_text(&out)
        );
        Ok(())
    }

    /// Start the server again after [`PgServer::stop`], on the same port.
    pub fn restart(&self) -> Result<()> {
        self.pg_ctl_start()
    }

    /// Checks that the server answering on our socket and port is ours (same data
    /// directory, same port), within [`START_TIMEOUT`].
    fn wait_until_ready(&self) -> Result<()> {
        let want_dir = fs::canonicalize(&self.data_dir).unwrap_or_else(|_| self.data_dir.clone());
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last;
        loop {
            match self.run_psql(
                &self.socket_args("postgres"),
                "SELECT current_setting('data_directory') || '|' || current_setting('port')",
            ) {
                Ok(answer) => {
                    let (dir, port) = answer.split_once('|').unwrap_or((&answer, ""));
                    let dir = fs::canonicalize(dir).unwrap_or_else(|_| PathBuf::from(dir));
                    if dir == want_dir && port == self.port.to_string() {
                        return Ok(());
                    }
                    bail!(
                        "a PostgreSQL answered on port {} but it is not ours (data_directory {}, port {port}); \
                         server log:\n{}",
                        self.port,
                        dir.display(),
                        self.log()
                    );
                }
                Err(e) => last = format!("{e:#}"),
            }
            if Instant::now() > deadline {
                bail!(
                    "PostgreSQL did not become ready on port {} within {:?}: {last}\nserver log:\n{}",
                    self.port,
                    START_TIMEOUT,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn load_fixtures(&self) -> Result<()> {
        self.run_psql(
            &self.socket_args("postgres"),
            &format!("CREATE DATABASE {DATABASE}"),
        )?;
        let dir = fixtures_dir();
        self.psql_file(DATABASE, &dir.join("schema.sql"))?;
        self.psql_file(DATABASE, &dir.join("data.sql"))?;
        self.psql(&format!(
            "CREATE ROLE {READER_ROLE} LOGIN PASSWORD '{READER_PASSWORD}';
             GRANT pg_read_all_data, pg_monitor TO {READER_ROLE};
             GRANT CONNECT ON DATABASE {DATABASE} TO {READER_ROLE};
             CREATE ROLE {SUPERUSER_ROLE} LOGIN SUPERUSER PASSWORD '{SUPERUSER_PASSWORD}';"
        ))?;
        // Both roles really log in over TCP with their passwords.
        for (url, want) in [
            (self.reader_url(), READER_ROLE),
            (self.superuser_url(), SUPERUSER_ROLE),
        ] {
            let got = self.psql_at(&url, "SELECT current_user").with_context(|| {
                format!("log in as {want} over TCP; server log:\n{}", self.log())
            })?;
            if got != want {
                bail!("logged in over TCP as {got:?}, expected {want}");
            }
        }
        Ok(())
    }

    // --- commands ----------------------------------------------------------------

    fn socket_args(&self, database: &str) -> Vec<String> {
        vec![
            "-h".into(),
            self.socket_dir.display().to_string(),
            "-p".into(),
            self.port.to_string(),
            "-U".into(),
            BOOTSTRAP_ROLE.into(),
            "-d".into(),
            database.into(),
        ]
    }

    fn psql_file(&self, database: &str, path: &Path) -> Result<()> {
        let sql = fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        self.run_psql(&self.socket_args(database), &sql)
            .with_context(|| format!("load {}", path.display()))
            .map(|_| ())
    }

    fn run_psql(&self, conn: &[String], sql: &str) -> Result<String> {
        let mut cmd = Command::new(&self.bins.psql);
        clear_pg_env(&mut cmd);
        cmd.args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
            .args(conn)
            .env("PGCONNECT_TIMEOUT", "10")
            .env("PGAPPNAME", "plue-tests")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("run {}", self.bins.psql.display()))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = sql.to_string();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().context("wait for psql")?;
        let _ = writer.join();
        if !out.status.success() {
            bail!(
                "psql failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let mut text =
            String::from_utf8(out.stdout).map_err(|e| anyhow!("psql output is not UTF-8: {e}"))?;
        if text.ends_with('\n') {
            text.pop();
        }
        Ok(text)
    }

    /// A command for a server binary: as the `postgres` OS user when we are root.
    fn server_command(&self, program: &Path) -> Command {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        clear_pg_env(&mut cmd);
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir.path());
        }
        cmd.stdin(Stdio::null());
        cmd
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self
                .server_command(&self.bins.pg_ctl)
                .arg("stop")
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-m", "immediate", "-w", "-t", "10"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

// --- environment -------------------------------------------------------------------

/// libpq and the server tools read PG* variables (PGHOST, PGPORT, PGDATA, PGPASSWORD, …):
/// none of them may point a test at another server.
fn clear_pg_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
}

fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Unix socket paths are limited to ~107 bytes: use /tmp when TMPDIR is long.
fn temp_root() -> PathBuf {
    let tmp = std::env::temp_dir();
    if tmp.as_os_str().len() > 60 {
        PathBuf::from("/tmp")
    } else {
        tmp
    }
}

fn running_as_root() -> Result<bool> {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .context("run `id -u`")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn postgres_ids() -> Result<(u32, u32)> {
    let id = |flag: &str| -> Result<u32> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .context("run `id postgres`")?;
        if !out.status.success() {
            bail!(
                "the tests run as root, and PostgreSQL refuses root: an OS user `postgres` is needed \
                 (the postgresql package creates it; run `bash .ci/install-deps`)"
            );
        }
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .context("parse `id postgres`")
    };
    Ok((id("-u")?, id("-g")?))
}

/// initdb and pg_ctl from PATH, else from the newest /usr/lib/postgresql/<version>/bin;
/// psql preferably from the same directory as pg_ctl.
fn find_binaries() -> Result<Binaries> {
    let in_path = |name: &str| -> Option<PathBuf> {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|d| d.join(name))
            .find(|p| is_executable(p))
    };
    let (initdb, pg_ctl) = match (in_path("initdb"), in_path("pg_ctl")) {
        (Some(i), Some(c)) => (i, c),
        _ => {
            let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .filter_map(|e| {
                            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                            Some((v, e.path().join("bin")))
                        })
                        .filter(|(_, bin)| {
                            is_executable(&bin.join("initdb")) && is_executable(&bin.join("pg_ctl"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            versions.sort();
            let (_, bin) = versions.pop().ok_or_else(|| anyhow!(MISSING_BINARIES))?;
            (bin.join("initdb"), bin.join("pg_ctl"))
        }
    };
    let server_bin = fs::canonicalize(&pg_ctl)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let psql = server_bin
        .map(|d| d.join("psql"))
        .filter(|p| is_executable(p))
        .or_else(|| in_path("psql"))
        .ok_or_else(|| {
            anyhow!("psql not found: run `bash .ci/install-deps` (apt-get install -y postgresql)")
        })?;
    Ok(Binaries {
        initdb,
        pg_ctl,
        psql,
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// PostgreSQL with the fixture loaded (started off the async runtime: it blocks
/// while loading) and `binary serve` configured by `config` from the reader's URL.
pub async fn with_host(
    binary: &std::path::Path,
    config: impl Fn(&str) -> String,
) -> Result<(PgServer, crate::mcp::Host)> {
    let pg = tokio::task::spawn_blocking(PgServer::start).await??;
    let host = crate::mcp::Host::start(binary, &config(&pg.reader_url())).await?;
    Ok((pg, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(pg: &PgServer, sql: &str) -> i64 {
        pg.psql(sql).unwrap().trim().parse().unwrap()
    }

    #[test]
    fn starts_loads_plue_and_guards_the_data() {
        let pg = PgServer::start().expect("start PostgreSQL");
        assert_ne!(pg.port(), 5432);

        // The data set (see the facts at the top of data.sql).
        assert_eq!(count(&pg, "SELECT count(*) FROM users"), 11);
        assert_eq!(
            count(&pg, "SELECT count(*) FROM users WHERE NOT is_active"),
            4
        );
        assert_eq!(
            count(&pg, "SELECT count(*) FROM repositories WHERE NOT is_public"),
            2
        );
        assert_eq!(
            count(
                &pg,
                "SELECT count(*) FROM auth_sessions WHERE expires_at > now() AT TIME ZONE 'UTC'"
            ),
            4
        );
        assert_eq!(
            pg.psql("SELECT status || '=' || count(*) FROM workflow_runs GROUP BY status ORDER BY status").unwrap(),
            "cancelled=1\ncompleted=7\nfailed=6\npending=2\nrunning=2"
        );
        assert_eq!(
            count(
                &pg,
                "SELECT count(*) FROM workflow_runs WHERE workflow_definition_id IS NULL"
            ),
            2
        );
        assert_eq!(
            count(
                &pg,
                "SELECT count(*) FROM workflow_definitions WHERE repository_id IS NULL"
            ),
            1
        );
        assert_eq!(
            count(
                &pg,
                "SELECT count(*) FROM runner_pool WHERE status = 'claimed'"
            ),
            2
        );
        assert_eq!(pg.psql("SHOW timezone").unwrap(), "UTC");

        // The reader reads over TCP with its password, and cannot write.
        assert_eq!(
            pg.psql_at(&pg.reader_url(), "SELECT count(*) FROM workflow_steps")
                .unwrap(),
            "38"
        );
        let err = pg
            .psql_at(
                &pg.reader_url(),
                "INSERT INTO users (username, lower_username) VALUES ('mallory', 'mallory')",
            )
            .unwrap_err();
        assert!(format!("{err:#}").contains("permission denied"), "{err:#}");
        assert_eq!(
            pg.psql_at(
                &pg.reader_url(),
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            .unwrap(),
            "f"
        );
        assert_eq!(
            pg.psql_at(
                &pg.superuser_url(),
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            .unwrap(),
            "t"
        );

        // The checksum is stable, and sees writes, new objects and sequence use.
        let before = pg.checksum();
        assert_eq!(before.len(), 32);
        assert_eq!(pg.checksum(), before);
        let snapshot = pg.snapshot();
        assert!(
            snapshot.contains("rows public.workflow_logs "),
            "{snapshot}"
        );
        pg.psql("SELECT nextval('users_id_seq')").unwrap();
        let after_nextval = pg.checksum();
        assert_ne!(after_nextval, before);
        pg.psql("CREATE TABLE public.stolen AS SELECT 1 AS x")
            .unwrap();
        assert_ne!(pg.checksum(), after_nextval);
    }
}
