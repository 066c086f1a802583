//! Prints what the host adds to a Prometheus query (not a timed test): the same
//! instant query sent straight to a real Prometheus with an HTTP client, and
//! through `plue-mcp serve` as the `prometheus_query` tool over stdio.
//!
//! Run: `cargo bench -p plue-mcp --bench prometheus` (needs the `prometheus` package).

use std::path::Path;
use std::time::{Duration, Instant};

use plue_tests::mcp::Host;
use plue_tests::prometheus::PromServer;
use serde_json::json;

const QUERY: &str = "sum by (job) (rate(plue_http_requests_total[5m]))";

fn report(label: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label:<40} p50 {:>7.2} ms   p99 {:>7.2} ms   (n = {})",
        p(0.5).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3,
        samples.len()
    );
    p(0.5)
}

#[tokio::main]
async fn main() {
    let prom = tokio::task::spawn_blocking(PromServer::start)
        .await
        .unwrap()
        .expect("start Prometheus");
    let client = reqwest::Client::new();
    let url =
        url::Url::parse_with_params(&format!("{}/api/v1/query", prom.url()), &[("query", QUERY)])
            .unwrap();
    let n = 300;
    let mut direct = Vec::new();
    for i in 0..n + 20 {
        let t = Instant::now();
        let r = client.get(url.clone()).send().await.unwrap();
        let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(body["status"], "success");
        if i >= 20 {
            direct.push(t.elapsed());
        }
    }
    let cache = tempfile::tempdir().unwrap();
    let config = format!(
        "[server]\ncache_dir = \"{}\"\n[endpoints.prometheus]\nurl = \"{}\"\n[plugins.prometheus]\nhttp = [\"prometheus\"]\n",
        cache.path().display(),
        prom.url()
    );
    let host = Host::start(Path::new(env!("CARGO_BIN_EXE_plue-mcp")), &config)
        .await
        .unwrap();
    let mut through = Vec::new();
    for i in 0..n + 20 {
        let t = Instant::now();
        host.call_ok("prometheus_query", json!({"query": QUERY}))
            .await
            .unwrap();
        if i >= 20 {
            through.push(t.elapsed());
        }
    }
    println!("prometheus_query: `{QUERY}`\n");
    let a = report("straight to Prometheus (reqwest)", direct);
    let b = report("prometheus_query via plue-mcp (stdio)", through);
    println!(
        "added by the host (p50): {:.2} ms",
        (b.as_secs_f64() - a.as_secs_f64()) * 1e3
    );
}
