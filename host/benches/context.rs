//! How long prompts, resources and completions take on the test suite's data (issue 16's
//! target: a completion under 50 ms), through `App` in this process against the real
//! backends the end-to-end suite starts (PostgreSQL, Prometheus, Loki, the Playwright
//! reports): each figure is a fresh plugin instance plus its backend queries, without
//! the transport. Not a timed test; CI does not run it.
//!
//! Run: `cargo bench -p plue-mcp --bench context`

use std::path::Path;
use std::time::{Duration, Instant};

use plue_mcp::app::App;
use plue_mcp::bindings::CompletionRef;
use plue_mcp::caller::Caller;
use plue_mcp::capability::log::LogSink;
use plue_mcp::config::{Config, resolve::ProcessEnv};
use plue_tests::stack::Stack;

const ROUNDS: usize = 50;
const WARMUP: usize = 5;
/// The completion target, in milliseconds.
const COMPLETION_TARGET_MS: f64 = 50.0;

/// p50 and p90 in milliseconds of `ROUNDS` runs of `f` after `WARMUP`, and the last result.
async fn measure<F, Fut, T>(mut f: F) -> (f64, f64, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut samples: Vec<Duration> = Vec::with_capacity(ROUNDS);
    let mut last = f().await;
    for i in 0..WARMUP + ROUNDS {
        let t = Instant::now();
        last = f().await;
        if i >= WARMUP {
            samples.push(t.elapsed());
        }
    }
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    (at(0.5), at(0.9), last)
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::main]
async fn main() {
    let stack = Stack::start().await.expect("start the test backends");
    let config = Config::from_toml(&stack.config(), Path::new("."), "bench", &ProcessEnv).unwrap();
    let app = App::load(config).await.unwrap();
    let caller = Caller::default();
    let facts = stack.log_facts();
    // The newest run with a failed step, from the database itself.
    let run = stack
        .pg
        .psql("SELECT run_id FROM workflow_steps WHERE status = 'failed' ORDER BY run_id DESC LIMIT 1")
        .expect("a failed run in the fixture")
        .trim()
        .to_string();
    let prefix = &facts.request_id[..4];

    println!("completion/complete (target p50 < {COMPLETION_TARGET_MS} ms)");
    // (label, target, argument, typed value, other arguments)
    type Case<'a> = (
        &'a str,
        CompletionRef,
        &'a str,
        &'a str,
        Vec<(String, String)>,
    );
    let completions: Vec<Case> = vec![
        (
            "run_id",
            CompletionRef::Prompt("debug-workflows".into()),
            "run_id",
            "",
            vec![],
        ),
        (
            "step_id of a run",
            CompletionRef::ResourceTemplate("plue://steps/{step_id}/logs".into()),
            "step_id",
            "",
            pairs(&[("run_id", &run)]),
        ),
        (
            "request_id (last hour)",
            CompletionRef::Prompt("trace-request".into()),
            "request_id",
            prefix,
            vec![],
        ),
        (
            "job",
            CompletionRef::Prompt("observability-guide".into()),
            "job",
            "",
            vec![],
        ),
        (
            "saved query name",
            CompletionRef::ResourceTemplate("plue://prometheus/queries/{name}".into()),
            "name",
            "err",
            vec![],
        ),
        (
            "test title",
            CompletionRef::Prompt("test-debugging-guide".into()),
            "test",
            "",
            vec![],
        ),
    ];
    let mut missed = Vec::new();
    for (label, target, argument, value, context) in &completions {
        let (p50, p90, count) = measure(|| async {
            app.complete(
                target.clone(),
                argument,
                value,
                context.clone(),
                &caller,
                LogSink::default(),
            )
            .await
            .expect("completion")
            .values
            .len()
        })
        .await;
        let verdict = if p50 < COMPLETION_TARGET_MS {
            "met"
        } else {
            "MISSED"
        };
        if p50 >= COMPLETION_TARGET_MS {
            missed.push(*label);
        }
        println!(
            "  {label:<28} p50 {p50:>6.2} ms  p90 {p90:>6.2} ms  {count:>3} values  {verdict}"
        );
    }

    println!("prompts/get");
    let prompts: Vec<(&str, Vec<(String, String)>)> = vec![
        ("observability", vec![]),
        ("observability", pairs(&[("full", "true")])),
        ("health-check", pairs(&[("quick", "true")])),
        ("debug-workflows", pairs(&[("run_id", &run)])),
        ("trace-request", pairs(&[("request_id", &facts.request_id)])),
        ("workflow-debugging-guide", vec![]),
    ];
    for (name, args) in &prompts {
        let (p50, p90, bytes) = measure(|| async {
            let p = app
                .get_prompt(name, args.clone(), &caller, LogSink::default())
                .await
                .expect("prompt");
            text_bytes(&p.messages)
        })
        .await;
        let label = format!(
            "{name} {}",
            args.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!("  {label:<40} p50 {p50:>6.2} ms  p90 {p90:>6.2} ms  {bytes:>6} B");
    }

    println!("resources");
    let (p50, p90, _) = measure(|| app.list_resources(&caller, LogSink::default())).await;
    println!(
        "  {:<40} p50 {p50:>6.2} ms  p90 {p90:>6.2} ms",
        "resources/list"
    );
    for uri in [
        format!("plue://runs/{run}"),
        "plue://prometheus/queries/error-ratio".to_string(),
        "plue://playwright/reports/latest".to_string(),
    ] {
        let (p50, p90, _) = measure(|| app.read_resource(&uri, &caller, LogSink::default())).await;
        println!("  {uri:<40} p50 {p50:>6.2} ms  p90 {p90:>6.2} ms");
    }
    if missed.is_empty() {
        println!("every completion under {COMPLETION_TARGET_MS} ms at p50: met");
    } else {
        println!(
            "completions over {COMPLETION_TARGET_MS} ms at p50: {}",
            missed.join(", ")
        );
    }
}

/// Bytes of the messages' text, the part an agent reads.
fn text_bytes(messages: &[plue_mcp::bindings::PromptMessage]) -> usize {
    messages
        .iter()
        .map(|m| match &m.content {
            plue_mcp::bindings::Content::Text(t) => t.len(),
            _ => 0,
        })
        .sum()
}
