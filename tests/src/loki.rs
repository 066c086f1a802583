//! A real Grafana Loki for the logs tests, started on free loopback ports.
//!
//! The binary is `$LOKI_BIN`, else `loki` on `PATH`, else the unmodified upstream 2.7.3
//! that `../shared/tools/install-loki` (beside the workspace) unpacks into
//! `target/loki/`. Starting fails loudly when none of these exists or Loki does not
//! get ready: no test falls back to anything else.
//!
//! Starting Loki costs a second or more, so a test binary shares one instance
//! ([`Loki::shared`]) that runs multi-tenant: every test takes a [`Tenant`] of its own,
//! so its streams, labels and windows see no other test's lines, and the host reaches
//! it as an operator of a multi-tenant Loki would, with an `X-Scope-OrgID` header
//! configured on the endpoint ([`Tenant::endpoint_toml`]). [`Loki::start`] starts a
//! single-tenant instance of one's own (no header needed, as with the built-in default
//! configuration), killed on drop. Either way the process dies with the test binary:
//! a watchdog shell kills it and removes its directory when the test process is gone.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::json;

use crate::ports::free_port;

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// One log stream to push: its labels and its entries `(Unix ns, line)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    pub labels: Vec<(String, String)>,
    pub entries: Vec<(i64, String)>,
}

impl Stream {
    pub fn new<'a>(
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
        entries: Vec<(i64, String)>,
    ) -> Stream {
        Stream {
            labels: labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            entries,
        }
    }
}

/// Now, in Unix nanoseconds.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

/// A running Loki.
pub struct Loki {
    url: String,
    multi_tenant: bool,
    dir: PathBuf,
    child: Mutex<Option<Child>>,
    watchdog: Mutex<Option<Child>>,
    tenants: AtomicU32,
}

impl Loki {
    /// The instance shared by every test of this test binary (multi-tenant: take a
    /// [`Tenant`] per test with [`Loki::tenant`]). Started by the first caller.
    pub async fn shared() -> Result<&'static Loki> {
        static SHARED: tokio::sync::OnceCell<Loki> = tokio::sync::OnceCell::const_new();
        SHARED.get_or_try_init(|| Loki::launch(true)).await
    }

    /// A single-tenant Loki of one's own, killed (and its directory removed) on drop.
    pub async fn start() -> Result<Loki> {
        Loki::launch(false).await
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// A tenant of its own on a multi-tenant Loki; on a single-tenant one, the one
    /// tenant there is.
    pub fn tenant(&self) -> Tenant {
        let n = self.tenants.fetch_add(1, Ordering::Relaxed);
        Tenant {
            url: self.url.clone(),
            org: self
                .multi_tenant
                .then(|| format!("test-{}-{n}", std::process::id())),
        }
    }

    /// Loki's own log (warnings and errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("loki.log")).unwrap_or_default()
    }

    async fn launch(multi_tenant: bool) -> Result<Loki> {
        let binary = tokio::task::spawn_blocking(binary).await??;
        let dir = tempfile::Builder::new()
            .prefix("plue-loki-")
            .tempdir()?
            .keep();
        let (http, grpc) = (free_port(), free_port());
        let config = dir.join("loki.yaml");
        std::fs::write(&config, config_yaml(&dir, http, grpc, multi_tenant))?;
        let log = std::fs::File::create(dir.join("loki.log"))?;
        let child = Command::new(&binary)
            .arg(format!("-config.file={}", config.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let watchdog = watchdog(child.id(), &dir)?;
        let loki = Loki {
            url: format!("http://127.0.0.1:{http}"),
            multi_tenant,
            dir,
            child: Mutex::new(Some(child)),
            watchdog: Mutex::new(Some(watchdog)),
            tenants: AtomicU32::new(0),
        };
        if let Err(e) = loki.wait_ready().await {
            let log = loki.log();
            let tail: Vec<&str> = log.lines().rev().take(30).collect::<Vec<_>>();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "Loki ({}) did not get ready: {e:#}\n--- loki log (tail) ---\n{}",
                binary.display(),
                tail.join("\n")
            );
        }
        Ok(loki)
    }

    async fn wait_ready(&self) -> Result<()> {
        let client = client()?;
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.lock().unwrap().as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("loki exited with {status}");
            }
            let ready = client.get(format!("{}/ready", self.url)).send().await;
            if let Ok(r) = ready
                && r.status().is_success()
                && r.text().await.unwrap_or_default().trim() == "ready"
            {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                bail!("/ready did not answer `ready` within {READY_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Loki {
    fn drop(&mut self) {
        for child in [&self.child, &self.watchdog] {
            if let Some(mut c) = child.lock().unwrap().take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One tenant's view of a Loki: where to push, and how the host reaches it.
#[derive(Debug, Clone)]
pub struct Tenant {
    url: String,
    org: Option<String>,
}

impl Tenant {
    /// Loki's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `X-Scope-OrgID` this tenant is (none on a single-tenant Loki).
    pub fn org_id(&self) -> Option<&str> {
        self.org.as_deref()
    }

    /// The host configuration's `[endpoints.loki]` table for this tenant.
    pub fn endpoint_toml(&self) -> String {
        let mut t = format!("[endpoints.loki]\nurl = \"{}\"\n", self.url);
        if let Some(org) = &self.org {
            t.push_str(&format!("headers = {{ \"X-Scope-OrgID\" = \"{org}\" }}\n"));
        }
        t
    }

    /// `POST /loki/api/v1/push`. Loki refuses an entry older than its stream's newest
    /// by more than an hour, so push each stream in time order.
    pub async fn push(&self, streams: &[Stream]) -> Result<()> {
        let stream = |s: &Stream| {
            let labels: serde_json::Map<String, serde_json::Value> = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect();
            let values: Vec<serde_json::Value> = s
                .entries
                .iter()
                .map(|(ts, line)| json!([ts.to_string(), line]))
                .collect();
            json!({"stream": labels, "values": values})
        };
        let body = json!({"streams": streams.iter().map(stream).collect::<Vec<_>>()});
        let client = client()?;
        let started = Instant::now();
        loop {
            let mut request = client
                .post(format!("{}/loki/api/v1/push", self.url))
                .json(&body);
            if let Some(org) = &self.org {
                request = request.header("X-Scope-OrgID", org);
            }
            let response = request.send().await.context("push to Loki")?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let said = response.text().await.unwrap_or_default();
            // Right after /ready the ingester may still be joining its ring.
            if status.is_server_error() && started.elapsed() < Duration::from_secs(10) {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            bail!("Loki refused the push (HTTP {status}): {said}");
        }
    }

    /// Pushes the standard fixture ([`crate::logs_fixture::streams`]) as of `now_ns`.
    pub async fn load_fixture(&self, now_ns: i64) -> Result<()> {
        self.push(&crate::logs_fixture::streams(now_ns)).await
    }
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// The Loki binary: `$LOKI_BIN`, `loki` on `PATH`, or the one `install-loki` unpacks.
fn binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("LOKI_BIN").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("LOKI_BIN is set to {}, which is not a file", path.display());
        }
        return Ok(path);
    }
    if let Some(path) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("loki"))
        .find(|p| p.is_file())
    {
        return Ok(path);
    }
    static INSTALL: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or_else(|| anyhow!("the tests crate has no parent directory"))?;
    let script = workspace.join("../shared/tools/install-loki");
    if !script.is_file() {
        bail!(
            "no Loki: set LOKI_BIN, put `loki` on PATH (Grafana's release binaries or packages), \
             or provide {} (the CI layout has ../shared beside the clone)",
            script.display()
        );
    }
    let dest = workspace.join("target/loki");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&dest)
        .output()
        .with_context(|| format!("run {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !path.is_file() {
        bail!(
            "{} printed {}, which is not a file",
            script.display(),
            path.display()
        );
    }
    Ok(path)
}

/// A shell that waits for this test process to end, then kills Loki and removes its
/// directory (statics are never dropped, so the shared instance needs it).
fn watchdog(loki_pid: u32, dir: &Path) -> Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(
            r#"while kill -0 "$1" 2>/dev/null; do sleep 1; done
kill "$2" 2>/dev/null; sleep 1; kill -9 "$2" 2>/dev/null; rm -rf "$3""#,
        )
        .arg("loki-watchdog")
        .arg(std::process::id().to_string())
        .arg(loki_pid.to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start the Loki watchdog")
}

/// The single-process configuration of `../shared/tools/README.md`, with ingester
/// readiness immediate, tenants when `multi_tenant`, and every pushed line kept in the
/// ingester and queried there: the fixture reaches back three hours, and a chunk cut
/// at the default two-hour age would be flushed to a store whose index queriers see
/// only minutes later, so its lines would vanish from answers meanwhile.
fn config_yaml(dir: &Path, http: u16, grpc: u16, multi_tenant: bool) -> String {
    let dir = dir.display();
    format!(
        r#"auth_enabled: {multi_tenant}
server:
  http_listen_address: 127.0.0.1
  http_listen_port: {http}
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: {grpc}
  log_level: warn
common:
  path_prefix: {dir}
  storage:
    filesystem:
      chunks_directory: {dir}/chunks
      rules_directory: {dir}/rules
  replication_factor: 1
  instance_addr: 127.0.0.1
  instance_interface_names: [lo]
  ring:
    instance_addr: 127.0.0.1
    kvstore:
      store: inmemory
ingester:
  lifecycler:
    min_ready_duration: 0s
    final_sleep: 0s
  max_chunk_age: 12h
  chunk_idle_period: 12h
  chunk_retain_period: 1h
querier:
  query_ingesters_within: 0
frontend:
  address: 127.0.0.1
frontend_worker:
  frontend_address: 127.0.0.1:{grpc}
memberlist:
  bind_addr: [127.0.0.1]
schema_config:
  configs:
    - from: 2020-10-24
      store: boltdb-shipper
      object_store: filesystem
      schema: v11
      index:
        prefix: index_
        period: 24h
limits_config:
  reject_old_samples: false
  max_query_lookback: 0s
ruler:
  alertmanager_url: http://127.0.0.1:9093
analytics:
  reporting_enabled: false
"#
    )
}
