//! Prints the host's costs (not a timed test): cold and warm start to the first
//! `tools/list` answer, the echo tool's overhead per call in-process and over a
//! stdio round trip, calls per second with 8 concurrent callers, and RSS.
//!
//! Run: `cargo bench -p plue-mcp --bench overhead`

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support {
    pub mod dispatch;
}

use plue_mcp::app::App;
use plue_mcp::caller::Caller;
use plue_mcp::capability::log::LogSink;
use plue_mcp::config::{Config, resolve::ProcessEnv};
use plue_tests::mcp::Host;
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_plue-mcp");

fn config() -> String {
    let data = std::env::temp_dir();
    format!(
        "[endpoints.web]\nurl = \"http://127.0.0.1:9\"\n[databases.main]\nurl = \"${{PLUE_BENCH_UNSET}}\"\n[directories.data]\npath = \"{}\"\n[plugins.example]\nhttp = [\"web\"]\nsql = [\"main\"]\ndirectories = [\"data\"]\n",
        data.display()
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{label:<34} p50 {:>8.1} µs   p99 {:>8.1} µs   (n = {})",
        percentile(&samples, 0.5).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.len()
    );
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Start `plue-mcp serve` with `cfg` and compile cache `cache`; time to the first `tools/list` answer.
async fn start_to_first_list(cfg: &str, cache: &Path) -> (Duration, usize) {
    let started = Instant::now();
    let host = Host::start_with_env(
        Path::new(BINARY),
        cfg,
        &[("PLUE_MCP_CACHE_DIR", cache.to_str().unwrap())],
    )
    .await
    .expect("start plue-mcp");
    let tools = host.list_tools().await.expect("tools/list").len();
    (started.elapsed(), tools)
}

#[tokio::main]
async fn main() {
    let cfg = config();
    println!(
        "plue-mcp overhead benchmark ({} cores)\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    // Start-up: the first run compiles (empty cache), later runs load from the cache.
    for (label, text) in [
        ("example plugin (4 tools)", cfg.as_str()),
        (
            "built-in default (5 bundled groups)",
            plue_mcp::config::BUILT_IN_DEFAULT,
        ),
    ] {
        let cache = tempfile::tempdir().unwrap();
        let (cold, tools) = start_to_first_list(text, cache.path()).await;
        let mut warm = Vec::new();
        for _ in 0..10 {
            warm.push(start_to_first_list(text, cache.path()).await.0);
        }
        warm.sort();
        println!(
            "start to first tools/list, {label}: cold {:.1} ms (empty compile cache), warm {:.1} ms (median of 10), {tools} tools",
            cold.as_secs_f64() * 1e3,
            warm[5].as_secs_f64() * 1e3
        );
    }

    per_call_instantiation().await;

    // In-process: App::call, validation and a fresh instance included.
    let parsed = Config::from_toml(&cfg, Path::new("."), "bench", &ProcessEnv).unwrap();
    let app = Arc::new(App::load(parsed).await.unwrap());
    let args = json!({"text": "hello"});
    for _ in 0..200 {
        app.call("echo", args.clone(), &Caller::default(), LogSink::default())
            .await
            .unwrap();
    }
    let mut samples = Vec::new();
    for _ in 0..5000 {
        let t = Instant::now();
        let r = app
            .call("echo", args.clone(), &Caller::default(), LogSink::default())
            .await
            .unwrap();
        samples.push(t.elapsed());
        assert!(!r.is_error);
    }
    report("echo in-process (App::call)", samples);

    // 8 concurrent callers, in-process.
    let started = Instant::now();
    let per_task = 2000;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    app.call(
                        "echo",
                        json!({"text": "x"}),
                        &Caller::default(),
                        LogSink::default(),
                    )
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    println!(
        "in-process, 8 concurrent callers    {:>8.0} calls/s",
        (8 * per_task) as f64 / started.elapsed().as_secs_f64()
    );

    // Over stdio with a real MCP client.
    let host = Host::start(Path::new(BINARY), &cfg)
        .await
        .expect("start plue-mcp");
    let child_pid = find_child_pid();
    let idle_rss = child_pid.map(rss_kib).unwrap_or(0);
    for _ in 0..200 {
        host.call_ok("echo", args.clone()).await.unwrap();
    }
    let mut samples = Vec::new();
    for _ in 0..2000 {
        let t = Instant::now();
        host.call_ok("echo", args.clone()).await.unwrap();
        samples.push(t.elapsed());
    }
    report("echo over stdio (round trip)", samples);

    let host = Arc::new(host);
    let started = Instant::now();
    let per_task = 500;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let host = host.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    host.call_ok("echo", json!({"text": "x"})).await.unwrap();
                }
            })
        })
        .collect();
    let mut peak = 0;
    for t in tasks {
        if let Some(pid) = child_pid {
            peak = peak.max(rss_kib(pid));
        }
        t.await.unwrap();
    }
    println!(
        "stdio, 8 concurrent callers         {:>8.0} calls/s",
        (8 * per_task) as f64 / started.elapsed().as_secs_f64()
    );
    if let Some(pid) = child_pid {
        peak = peak.max(rss_kib(pid));
        println!(
            "RSS of plue-mcp serve: idle {:.1} MiB, under load {:.1} MiB",
            idle_rss as f64 / 1024.0,
            peak as f64 / 1024.0
        );
    }
}

/// Per call, each bundled plugin of the built-in default: a fresh instance, the
/// plugin's own set-up and a dispatch that finds no tool, with no backend
/// involved; the figure should not grow with a plugin's number of tools.
async fn per_call_instantiation() {
    let config = Config::from_toml(
        plue_mcp::config::BUILT_IN_DEFAULT,
        Path::new("."),
        "bench",
        &ProcessEnv,
    )
    .unwrap();
    let app = App::load(config).await.unwrap();
    println!();
    for plugin in &app.plugins {
        let samples = support::dispatch::instantiate_and_dispatch(&app, plugin, 100, 1000).await;
        report(
            &format!(
                "instantiate + dispatch, {} ({} tools)",
                plugin.name,
                plugin.manifest.tools.len()
            ),
            samples,
        );
    }
    println!();
}

/// The newest `plue-mcp` child of this process.
fn find_child_pid() -> Option<u32> {
    let me = std::process::id();
    let mut found = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let after = stat.rsplit(')').next().unwrap_or("");
        let ppid: u32 = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if ppid == me && comm.trim() == "plue-mcp" {
            found = Some(found.map_or(pid, |f: u32| f.max(pid)));
        }
    }
    found
}
