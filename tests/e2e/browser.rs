//! Browser telemetry end to end: an error in a real browser page becomes an answer of
//! the logs tool group. Debian's Chromium, driven by Playwright
//! (`tests/playwright-project/telemetry-page.mjs`), loads the test page
//! (`tests/fixtures/telemetry`), which runs `ui/telemetry`'s script-tag build: an
//! uncaught error, an unhandled rejection, an operation timed out by `withTimeout`, a
//! failing `fetch` and a `logError`. The module's batches go through the collector relay
//! (`plue_tests::telemetry`) unchanged into the real Loki; `plue-mcp` then finds them
//! with `find_errors`, `search_exceptions` and `trace_request`, the last one joining the
//! browser's fetch line to the line the site's API logged with the propagated request id.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use plue_tests::clients::node22;
use plue_tests::loki::Loki;
use plue_tests::mcp::{self, Host};
use plue_tests::telemetry::{API_ERROR, MAX_BODY, Relay, Site};
use serde_json::{Value, json};

/// The error messages the test page's five error steps log, as the module writes them
/// (tests/fixtures/telemetry/app.js).
const PAGE_ERRORS: [&str; 5] = [
    "TypeError: Cannot read properties of null (reading 'owner')",
    "Unhandled rejection: RangeError: cart total out of range: -3",
    "TimeoutError: loadRecommendations timed out after 50 ms",
    "fetch GET /api/orders failed: HTTP 503",
    "Error: checkout failed",
];

/// The page's lines: its five errors and its page-load timing.
const PAGE_LINES: usize = 6;

fn config(endpoint: &str) -> String {
    format!("[limits]\ncall_timeout_ms = 30000\n\n{endpoint}\n[plugins.logs]\nhttp = [\"loki\"]\n")
}

fn playwright_project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/playwright-project")
}

/// Open `url` in headless Chromium until the page is done and left; what it printed.
async fn run_page(url: &str) -> Result<String> {
    let project = playwright_project();
    ensure!(
        project.join("node_modules/@playwright/test").is_dir(),
        "Playwright is not installed in {}: run `bash .ci/install-deps`",
        project.display()
    );
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    ensure!(
        Path::new(&chromium).is_file(),
        "no Chromium at {chromium}: run `bash .ci/install-deps` (Debian's chromium package) or set CHROMIUM_PATH"
    );
    let run = tokio::process::Command::new(node22()?)
        .arg("telemetry-page.mjs")
        .arg(url)
        .current_dir(&project)
        .env("CHROMIUM_PATH", &chromium)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .context("the browser run took over 120 s")??;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("telemetry-page.mjs failed ({}):\n{printed}", out.status);
    }
    Ok(printed)
}

/// Wait until the relay has forwarded `n` lines (the pagehide beacon may land after
/// the browser is gone).
async fn forwarded_lines(relay: &Relay, n: usize, printed: &str) -> Result<Vec<Value>> {
    let started = Instant::now();
    loop {
        let lines = relay.lines();
        if lines.len() >= n {
            return lines
                .iter()
                .map(|l| serde_json::from_str(l).context("a line the module sent is not JSON"))
                .collect();
        }
        if started.elapsed() > Duration::from_secs(15) {
            bail!(
                "the relay forwarded {} of {n} lines; the browser printed:\n{printed}",
                lines.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn call(host: &Host, tool: &str, args: Value) -> Result<(String, Value)> {
    let result = host.call_ok(tool, args).await?;
    Ok((mcp::text(&result), mcp::structured(&result)))
}

#[tokio::test]
async fn a_browser_error_is_found_with_its_stack_and_request_id() -> Result<()> {
    let tenant = Loki::shared().await?.tenant();
    let host = Host::start(
        Path::new(env!("CARGO_BIN_EXE_plue-mcp")),
        &config(&tenant.endpoint_toml()),
    )
    .await?;
    let site = Site::start(&tenant).await?;
    let relay = Relay::start(&tenant, &site.origin()).await?;
    let page_url = format!(
        "{}/?collector={}&session=s3cr3t-page-query",
        site.origin(),
        relay.url()
    );
    let printed = run_page(&page_url).await?;

    // What left the browser: six lines, none of the page's secrets.
    let lines = forwarded_lines(&relay, PAGE_LINES, &printed).await?;
    assert_eq!(lines.len(), PAGE_LINES, "{lines:#?}");
    for body in relay.forwarded() {
        assert!(
            !body.contains("s3cr3t"),
            "a secret left the browser: {body}"
        );
        let v: Value = serde_json::from_str(&body)?;
        assert_eq!(
            v["streams"][0]["stream"],
            json!({"job": "containerlogs", "source": "browser", "service": "web"})
        );
    }
    let page_id = lines[0]["page_id"].as_str().context("page_id")?.to_string();
    for line in &lines {
        assert_eq!(line["page_id"], page_id.as_str());
        assert_eq!(line["page"], format!("{}/", site.origin()));
        assert_eq!(line["service"], "web");
    }
    let ids = site.request_ids();
    assert_eq!(ids.len(), 1, "the API got one request: {ids:?}");
    let request_id = ids[0].clone();
    assert!(request_id.starts_with("req-"), "{request_id}");
    let fetch_line = lines
        .iter()
        .find(|l| l["kind"] == "fetch")
        .context("no fetch line")?;
    assert_eq!(
        (
            &fetch_line["request_id"],
            &fetch_line["status"],
            &fetch_line["url"]
        ),
        (
            &json!(request_id),
            &json!(503),
            &json!(format!("{}/api/orders", site.origin()))
        )
    );
    let load = lines
        .iter()
        .find(|l| l["kind"] == "page_load")
        .context("no page load")?;
    assert_eq!(load["level"], "info");
    let (total, ttfb) = (load["duration_ms"].as_i64(), load["ttfb_ms"].as_i64());
    assert!(
        matches!((total, ttfb), (Some(t), Some(f)) if f >= 0 && t >= f),
        "{load}"
    );

    // find_errors: the page's five errors and the API's one, each with its latest example.
    let (text, s) = call(&host, "find_errors", json!({"start": "15m"})).await?;
    assert_eq!(s["error_lines"], 6, "{text}");
    assert_eq!(s["by_service"], json!({"api": 1, "web": 5}), "{text}");
    let examples: BTreeSet<String> = s["groups"]
        .as_array()
        .context("groups")?
        .iter()
        .map(|g| g["example"]["message"].as_str().unwrap_or("").to_string())
        .collect();
    let mut expected: BTreeSet<String> = PAGE_ERRORS.iter().map(|m| m.to_string()).collect();
    expected.insert(API_ERROR.to_string());
    assert_eq!(examples, expected, "{text}");
    let uncaught = s["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["example"]["message"] == PAGE_ERRORS[0])
        .unwrap();
    let fields = &uncaught["example"]["fields"];
    assert_eq!(fields["request_id"], page_id.as_str());
    let frame = format!("    at renderHeader ({}/app.js:", site.origin());
    assert!(
        fields["stack"]
            .as_str()
            .is_some_and(|st| st.starts_with(PAGE_ERRORS[0]) && st.contains(&frame)),
        "{uncaught:#}"
    );

    // search_exceptions: four traces of four types (a failed fetch throws nothing).
    let (text, s) = call(
        &host,
        "search_exceptions",
        json!({"language": "typescript", "start": "15m"}),
    )
    .await?;
    assert_eq!(s["traces"], 4, "{text}");
    let language = &s["languages"][0];
    assert_eq!(language["language"], "typescript");
    let types: BTreeSet<&str> = language["exceptions"]
        .as_array()
        .context("exceptions")?
        .iter()
        .map(|e| e["exception"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "Error: checkout failed",
            "RangeError",
            "TimeoutError",
            "TypeError"
        ]),
        "{text}"
    );
    for e in language["exceptions"].as_array().unwrap() {
        assert_eq!(e["services"], json!({"web": 1}));
        let trace = e["latest"]["trace"].as_str().unwrap_or("");
        assert!(trace.contains("\n    at "), "{e:#}");
    }
    assert!(text.contains(&frame), "{text}");

    // trace_request: the fetch's id joins the browser's line and the API's.
    let (text, s) = call(&host, "trace_request", json!({"request_id": request_id})).await?;
    assert_eq!(s["lines"], 2, "{text}");
    let services: BTreeSet<&str> = s["services"]
        .as_array()
        .context("services")?
        .iter()
        .map(|t| t["service"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(services, BTreeSet::from(["api", "web"]), "{text}");
    for t in s["services"].as_array().unwrap() {
        assert_eq!(
            (&t["lines"], &t["errors"]),
            (&json!(1), &json!(1)),
            "{text}"
        );
    }
    // … and the page's id gathers every line of the page view.
    let (text, s) = call(&host, "trace_request", json!({"request_id": page_id})).await?;
    assert_eq!(s["lines"], PAGE_LINES, "{text}");
    assert_eq!(s["services"][0]["errors"], 5, "{text}");
    Ok(())
}

#[tokio::test]
async fn the_relay_takes_only_its_origin_and_bounded_batches() -> Result<()> {
    let tenant = Loki::shared().await?.tenant();
    let origin = "http://app.example";
    let relay = Relay::start(&tenant, origin).await?;
    let client = reqwest::Client::builder().no_proxy().build()?;
    let body = |line: &str| {
        json!({"streams": [{"stream": {"job": "containerlogs", "service": "web"},
            "values": [[plue_tests::loki::now_ns().to_string(), line]]}]})
        .to_string()
    };

    let preflight = client
        .request(reqwest::Method::OPTIONS, relay.url())
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await?;
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        origin,
        "{preflight:?}"
    );

    let ok = client
        .post(relay.url())
        .header("Origin", origin)
        .header("Content-Type", "text/plain;charset=UTF-8")
        .body(body(r#"{"level":"info","message":"hello"}"#))
        .send()
        .await?;
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], origin);

    let other = client
        .post(relay.url())
        .header("Origin", "http://evil.example")
        .body(body(r#"{"level":"info","message":"spoofed"}"#))
        .send()
        .await?;
    assert_eq!(other.status(), 403);

    let big = client
        .post(relay.url())
        .header("Origin", origin)
        .body(body(&"x".repeat(MAX_BODY)))
        .send()
        .await?;
    assert_eq!(big.status(), 413);

    let broken = client
        .post(relay.url())
        .header("Origin", origin)
        .body("not json")
        .send()
        .await?;
    assert_eq!(broken.status(), 400, "Loki's refusal is passed on");

    assert_eq!(relay.lines(), vec![r#"{"level":"info","message":"hello"}"#]);
    Ok(())
}
