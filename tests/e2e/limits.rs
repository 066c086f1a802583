//! Limits end to end, with a test-only plugin that misbehaves on purpose: a
//! loop, unbounded allocation, a flood of output, a panic. Each ends in an
//! `isError` naming the limit within its deadline, and the next call works.

use std::path::Path;
use std::time::{Duration, Instant};

use plue_tests::mcp::{self, Host};
use serde_json::json;

pub fn misbehave_config() -> String {
    let wasm = Path::new(env!("PLUE_TEST_PLUGINS_DIR")).join("plue_test_misbehave.wasm");
    format!(
        r#"
[plugins.misbehave]
path = "{}"
call_timeout_ms = 1000
memory_mib = 32
max_output_bytes = 1048576
"#,
        wasm.display()
    )
}

async fn host() -> Host {
    Host::start(super::example::binary(), &misbehave_config())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_plugin_that_loops_forever_is_stopped_at_its_deadline() {
    let host = host().await;
    let started = Instant::now();
    let err = host.call_err("spin", json!({})).await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        err.contains("plugin `misbehave` exceeded its time limit") && err.contains("1000 ms"),
        "{err}"
    );
    assert!(
        elapsed < Duration::from_millis(2500),
        "stopped after {elapsed:?}"
    );
    assert_eq!(
        mcp::text(&host.call_ok("ok", json!({})).await.unwrap()),
        "still fine"
    );
}

#[tokio::test]
async fn a_plugin_that_allocates_without_bound_hits_its_memory_cap() {
    let host = host().await;
    let err = host.call_err("hog", json!({})).await.unwrap();
    assert!(err.contains("exceeded its memory limit of 32 MiB"), "{err}");
    assert_eq!(
        mcp::text(&host.call_ok("ok", json!({})).await.unwrap()),
        "still fine"
    );
}

#[tokio::test]
async fn output_over_the_cap_is_refused() {
    let host = host().await;
    let err = host
        .call_err("flood", json!({"bytes": 10 * 1024 * 1024}))
        .await
        .unwrap();
    assert!(
        err.contains("over its output limit of 1048576 bytes"),
        "{err}"
    );
    let r = host.call_ok("flood", json!({"bytes": 1000})).await.unwrap();
    assert_eq!(mcp::text(&r).len(), 1000);
}

#[tokio::test]
async fn a_panic_is_reported_with_its_message() {
    let host = host().await;
    let err = host.call_err("crash", json!({})).await.unwrap();
    assert!(
        err.contains("plugin `misbehave` crashed")
            && err.contains("deliberate panic for the tests"),
        "{err}"
    );
    assert_eq!(
        mcp::text(&host.call_ok("ok", json!({})).await.unwrap()),
        "still fine"
    );
}

#[tokio::test]
async fn calls_run_concurrently_next_to_a_stuck_one() {
    let host = host().await;
    let started = Instant::now();
    let stuck = async {
        let result = host.call("spin", json!({})).await.unwrap();
        (result, started.elapsed())
    };
    let quick = async {
        let mut answers = Vec::new();
        for _ in 0..8 {
            answers.push(mcp::text(&host.call_ok("ok", json!({})).await.unwrap()));
        }
        (answers, started.elapsed())
    };
    let ((stuck, stuck_elapsed), (answers, quick_elapsed)) = tokio::join!(stuck, quick);
    assert!(mcp::is_error(&stuck), "{}", mcp::text(&stuck));
    // Each quick call got its own answer, not the stuck call's error.
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer, "still fine", "quick call {i}");
    }
    assert!(
        quick_elapsed < Duration::from_millis(900),
        "quick calls waited for the stuck one: {quick_elapsed:?}"
    );
    // The stuck call ran to its 1000 ms deadline, after every quick call had its answer.
    assert!(
        stuck_elapsed >= Duration::from_millis(1000) && quick_elapsed < stuck_elapsed,
        "stuck call ended after {stuck_elapsed:?}, quick calls after {quick_elapsed:?}"
    );
}
