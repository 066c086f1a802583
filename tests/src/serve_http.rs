//! `plue-mcp serve --http` as a child process on a free loopback port, for clients that
//! connect over streamable HTTP. Killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};

/// How long the server may take to listen (the first start may compile the plugins).
const LISTEN_TIMEOUT: Duration = Duration::from_secs(120);

/// A running `plue-mcp serve --http 127.0.0.1:PORT --config CONFIG`.
pub struct HttpHost {
    child: Child,
    url: String,
    log: PathBuf,
}

impl HttpHost {
    /// Starts the server with the configuration file `config`, its stderr in `log`, and waits
    /// until it accepts connections. Fails, with the server's log, if it exits first.
    pub async fn start(binary: &Path, config: &Path, log: &Path) -> Result<HttpHost> {
        HttpHost::start_with(binary, config, log, crate::ports::free_port(), &[], &[]).await
    }

    /// [`HttpHost::start`] on `port` (a configuration that names its own URL needs it
    /// first), with `env` added to the server's environment and `extra` arguments after
    /// `serve`'s own (e.g. `--stateless`).
    pub async fn start_with(
        binary: &Path,
        config: &Path,
        log: &Path,
        port: u16,
        env: &[(&str, &str)],
        extra: &[&str],
    ) -> Result<HttpHost> {
        let stderr = std::fs::File::create(log).context("create the server log")?;
        let mut command = Command::new(binary);
        command
            .args(["serve", "--http", &format!("127.0.0.1:{port}"), "--config"])
            .arg(config)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true);
        for (k, v) in crate::clients::host_env(binary) {
            command.env(k, v);
        }
        command.envs(env.iter().copied());
        let mut host = HttpHost {
            child: command.spawn().context("spawn plue-mcp serve --http")?,
            url: format!("http://127.0.0.1:{port}/mcp"),
            log: log.to_path_buf(),
        };
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Some(status) = host.child.try_wait()? {
                bail!("plue-mcp serve --http exited ({status}):\n{}", host.log());
            }
            if started.elapsed() > LISTEN_TIMEOUT {
                bail!(
                    "plue-mcp serve --http did not listen on port {port}:\n{}",
                    host.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(host)
    }

    /// `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `127.0.0.1:PORT`, the address it listens on.
    pub fn authority(&self) -> &str {
        let rest = self.url.trim_start_matches("http://");
        rest.split('/').next().unwrap_or(rest)
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends the server SIGTERM (graceful shutdown).
    pub fn terminate(&self) -> Result<()> {
        let pid = self.child.id().context("the server already exited")?;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM {pid}: {status}");
        Ok(())
    }

    /// Waits at most `timeout` for the server to exit: its status, or `None`.
    pub async fn wait_exit(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<std::process::ExitStatus>> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => Ok(Some(status?)),
            Err(_) => Ok(None),
        }
    }
}
