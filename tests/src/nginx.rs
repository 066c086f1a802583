//! A real nginx (the Debian package) on a free loopback port, balancing round-robin over
//! upstream servers: for the tests of stateless replicas behind a load balancer. nginx runs
//! in the foreground as one process (no user switch, so root or not alike), with everything
//! (config, pid, logs, temp files) in its own temporary directory, and is killed when
//! dropped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};

/// How long nginx may take to listen.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(20);

/// A running nginx proxying `http://127.0.0.1:PORT/` to its upstreams.
pub struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

/// The nginx binary: `NGINX_BIN`, else `nginx` on PATH, else Debian's `/usr/sbin/nginx`.
fn binary() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("NGINX_BIN") {
        return Ok(bin.into());
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("nginx"))
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|p| p.is_file());
    on_path.context("nginx not found (set NGINX_BIN or install the Debian package nginx: .ci/install-deps does)")
}

impl Nginx {
    /// Starts nginx balancing round-robin over `upstreams` (`host:port` each), with
    /// buffering off so streamed answers pass through as they come. Fails, with nginx's
    /// error log, if it exits or does not listen.
    pub async fn start(upstreams: &[String]) -> Result<Nginx> {
        let dir = tempfile::tempdir()?;
        let port = crate::ports::free_port();
        let servers: String = upstreams
            .iter()
            .map(|u| format!("    server {u} max_fails=0;\n"))
            .collect();
        let root = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {root}/nginx.pid;\nerror_log {root}/error.log info;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log {root}/access.log;\n\
             client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n\
             fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n\
             upstream replicas {{\n{servers}    keepalive 8;\n  }}\n\
             server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
             proxy_pass http://replicas;\n      proxy_http_version 1.1;\n\
             proxy_set_header Connection \"\";\n      proxy_set_header Host $http_host;\n\
             proxy_buffering off;\n      proxy_read_timeout 60s;\n    }}\n  }}\n}}\n"
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        let mut child = Command::new(binary()?)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("spawn nginx")?;
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            let log = || std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
            if let Some(status) = child.try_wait()? {
                bail!("nginx exited ({status}):\n{}", log());
            }
            if started.elapsed() > LISTEN_TIMEOUT {
                bail!("nginx did not listen on port {port}:\n{}", log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Nginx { child, port, dir })
    }

    /// `http://127.0.0.1:PORT` (paths pass through unchanged).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// nginx's access log: one line per proxied request.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
