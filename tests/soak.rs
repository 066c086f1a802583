//! The soak: 64 concurrent calls for 60 s (`PLUE_SOAK_SECONDS` to change it)
//! across all five bundled groups, against real PostgreSQL, Prometheus, the
//! a real Grafana Loki and Playwright reports, through one `plue-mcp serve`.
//! Every call must be answered (some may be told clearly that a backend was
//! saturated, at most a fifth), the host's RSS is reported before and after and must not
//! grow without bound. The database keeps its default of 4
//! connections: SQL calls queue for them within their own deadline. A test binary of its own, so it runs after the
//! end-to-end suite instead of competing with its timing-sensitive tests.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use plue_tests::mcp::{self, Host};
use serde_json::json;

const CONCURRENCY: usize = 64;

/// Resident set size of the process whose command line mentions `marker`, in KiB.
fn rss_kib(marker: &Path) -> u64 {
    let marker = marker.display().to_string();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.contains("serve") && cmdline.contains(&marker) {
            let status = std::fs::read_to_string(entry.path().join("status")).unwrap();
            let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
            return line.split_whitespace().nth(1).unwrap().parse().unwrap();
        }
    }
    panic!("no plue-mcp serve process for {marker}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_calls_across_all_groups() {
    let seconds: u64 = std::env::var("PLUE_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let stack = plue_tests::stack::Stack::start().await.unwrap();
    let config = stack.config();
    let host = Arc::new(
        Host::start(Path::new(env!("CARGO_BIN_EXE_plue-mcp")), &config)
            .await
            .unwrap(),
    );
    let calls = Arc::new([
        ("prometheus_query", json!({ "query": "up" })),
        ("query", json!({ "sql": "SELECT count(*) FROM users" })),
        ("list_workflow_runs", json!({})),
        // A recent window: the real Loki on two shared cores answers it in
        // milliseconds, so the soak loads the host, not Loki's query queue.
        ("search_logs", json!({ "start": "15m", "limit": 10 })),
        ("test_summary", json!({})),
    ]);
    // One round first: every tool works, and the host is warm before measuring.
    for (tool, args) in calls.iter() {
        host.call_ok(tool, args.clone()).await.unwrap();
    }
    let before = rss_kib(host.dir.path());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|worker| {
            let host = host.clone();
            let calls = calls.clone();
            tokio::spawn(async move {
                let mut done: BTreeMap<&str, u64> = BTreeMap::new();
                let mut failures = Vec::new();
                let mut i = worker;
                while Instant::now() < deadline {
                    let (tool, args) = &calls[i % calls.len()];
                    match host.call(tool, args.clone()).await {
                        Ok(r) if !mcp::is_error(&r) => *done.entry(*tool).or_default() += 1,
                        Ok(r) => failures.push((*tool, mcp::text(&r), true)),
                        Err(e) => failures.push((*tool, format!("{e:#}"), false)),
                    }
                    i += 1;
                }
                (done, failures)
            })
        })
        .collect();
    let mut done: BTreeMap<&str, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    for w in workers {
        let (d, f) = w.await.unwrap();
        for (tool, n) in d {
            *done.entry(tool).or_default() += n;
        }
        failures.extend(f);
    }
    let after = rss_kib(host.dir.path());
    let total: u64 = done.values().sum();
    println!(
        "soak: {total} calls in {seconds} s by {CONCURRENCY} concurrent callers ({done:?}); RSS {:.1} MiB before, {:.1} MiB after",
        before as f64 / 1024.0,
        after as f64 / 1024.0
    );
    // Every call is answered. The backends share two cores with 64 callers,
    // so a few may be told, clearly, that a backend was saturated (a timeout
    // naming the endpoint, Loki's own 429, or busy connections naming the
    // database); anything else, or more than a fifth of the calls (the
    // backends, not the host, are what saturates here), fails the soak.
    let attempted = total + failures.len() as u64;
    for (tool, text, answered) in &failures {
        assert!(answered, "{tool}: no answer: {text}");
        let saturated = text.contains("did not answer within")
            || text.contains("is rate-limiting queries")
            || text.contains("no connection within")
            || text.contains("stayed busy");
        assert!(saturated, "{tool}: {text}");
    }
    println!(
        "soak: {} of {attempted} calls were told a backend was saturated",
        failures.len()
    );
    assert!(
        failures.len() as u64 * 5 <= attempted,
        "{} of {attempted} calls failed, first: {:?}",
        failures.len(),
        failures.first()
    );
    assert_eq!(done.len(), calls.len(), "{done:?}");
    assert!(
        after < before + 256 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    host.call_ok("test_summary", json!({})).await.unwrap();
    drop(stack);
}
