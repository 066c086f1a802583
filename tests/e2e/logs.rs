//! The logs tool group end to end, over a real MCP client.
//!
//! Every test runs against a real Grafana Loki (`plue_tests::loki`: one per test
//! binary, a tenant of its own per test) holding the realistic multi-service Plue
//! fixture (`plue_tests::logs_fixture`), pushed through `/loki/api/v1/push` as of the
//! moment the host is ready; every expected answer is one of the fixture's facts,
//! derived by hand from its lines.

use std::path::Path;

use plue_tests::declared;
use plue_tests::image::{png_of, series_color};
use plue_tests::logs_fixture as fixture;
use plue_tests::loki::{Loki, Stream, Tenant, now_ns};
use plue_tests::mcp::{self, Host};
use serde_json::{Value, json};

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_plue-mcp"))
}

fn config(endpoint: &str) -> String {
    format!("[limits]\ncall_timeout_ms = 30000\n\n{endpoint}\n[plugins.logs]\nhttp = [\"loki\"]\n")
}

/// The host and a Loki tenant holding the Plue fixture as of when the host is
/// ready (so the fixture's window facts hold however long the host took to start).
async fn start() -> (Host, Tenant) {
    let tenant = Loki::shared().await.unwrap().tenant();
    let host = Host::start(binary(), &config(&tenant.endpoint_toml()))
        .await
        .unwrap();
    tenant.load_fixture(now_ns()).await.unwrap();
    (host, tenant)
}

/// Call a tool that must succeed: its text and structured content.
async fn call(host: &Host, tool: &str, args: Value) -> (String, Value) {
    let result = host.call_ok(tool, args).await.unwrap();
    (mcp::text(&result), mcp::structured(&result))
}

#[tokio::test]
async fn lists_the_declared_tools_read_only_with_output_schemas() {
    let (host, _server) = start().await;
    let tools = host.list_tools().await.unwrap();
    let declared = declared::bundled(binary(), "logs").unwrap();
    declared::listed_as_declared(&tools, &declared).unwrap();
    declared::with_output_schemas(&tools).unwrap();
    declared::every_tool_is(&declared, "read_only").unwrap();
    declared::every_tool_is(&declared, "open_world").unwrap();
    let schema = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name);
        tool.unwrap_or_else(|| panic!("{name} not listed"))
            .input_schema
            .clone()
    };
    let search = &schema("search_logs")["properties"];
    assert_eq!(
        search["level"]["enum"],
        json!(["error", "warn", "info", "debug", "all"])
    );
    for p in ["query", "service", "contains", "start", "limit"] {
        assert!(search.get(p).is_some(), "search_logs lacks `{p}`");
    }
    assert_eq!(schema("trace_request")["required"], json!(["request_id"]));
}

#[tokio::test]
async fn log_stats_counts_volume_errors_and_warnings_per_service() {
    let (host, _tenant) = start().await;
    let (text, s) = call(&host, "log_stats", json!({})).await;
    for c in fixture::SERVICE_COUNTS {
        let row = s["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["service"] == c.service)
            .unwrap();
        assert_eq!(
            (&row["lines"], &row["errors"], &row["warnings"]),
            (
                &json!(c.lines_last_hour),
                &json!(c.errors_last_hour),
                &json!(c.warnings_last_hour)
            ),
            "{}",
            c.service
        );
    }
    let unlabelled = s["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service"] == "")
        .unwrap();
    assert_eq!(
        (&unlabelled["lines"], &unlabelled["errors"]),
        (&json!(fixture::POSTGRES_LINES), &json!(1))
    );
    let total: usize = fixture::SERVICE_COUNTS
        .iter()
        .map(|c| c.lines_last_hour)
        .sum::<usize>()
        + fixture::POSTGRES_LINES;
    assert_eq!(s["lines"], json!(total));
    assert!(text.starts_with("Log volume in the last 1h ("), "{text}");
    assert!(text.contains("(no service label)"), "{text}");
    // `/api/error-reports` is an info line: a naive `|~ "(?i)error"` would count it.
}

#[tokio::test]
async fn log_stats_charts_lines_per_service_on_request() {
    let (host, _tenant) = start().await;
    let end = now_ns() / 1_000_000_000;
    let args = |chart: Option<bool>| {
        let mut a = json!({"start": (end - 3600).to_string(), "end": end.to_string()});
        if let Some(c) = chart {
            a["chart"] = json!(c);
        }
        a
    };
    let plain = host.call_ok("log_stats", args(None)).await.unwrap();
    let off = host.call_ok("log_stats", args(Some(false))).await.unwrap();
    assert_eq!(
        serde_json::to_string(&plain).unwrap(),
        serde_json::to_string(&off).unwrap()
    );
    let on = host.call_ok("log_stats", args(Some(true))).await.unwrap();
    // The fixture's services and the unlabelled streams: all fit, so no note.
    let n = fixture::SERVICE_COUNTS.len() + 1;
    let text = mcp::text(&on);
    assert_eq!(text, mcp::text(&plain));
    assert_eq!(mcp::structured(&on), mcp::structured(&plain));
    let total: usize = fixture::SERVICE_COUNTS
        .iter()
        .map(|c| c.lines_last_hour)
        .sum::<usize>()
        + fixture::POSTGRES_LINES;
    assert!(text.contains(&format!(": {total} lines, ")), "{text}");
    let img = png_of(&on).unwrap();
    assert_eq!((img.width, img.height), (800, 300));
    assert!(img.png.len() < 20_000, "{} bytes", img.png.len());
    for i in 0..8 {
        assert_eq!(img.has(series_color(i), 0..800), i < n, "series {i} of {n}");
    }
}

#[tokio::test]
async fn find_errors_groups_by_normalised_message_per_service() {
    let (host, _tenant) = start().await;
    let (text, s) = call(&host, "find_errors", json!({})).await;
    let groups = s["groups"].as_array().unwrap();
    for (service, message, last_hour, _) in fixture::ERROR_GROUPS {
        let g = groups
            .iter()
            .find(|g| g["message"] == message)
            .unwrap_or_else(|| panic!("no group {message}: {text}"));
        assert_eq!(g["services"][service], json!(last_hour), "{message}");
        assert!(g["example"]["time"].as_str().unwrap().ends_with('Z'));
    }
    // A split Python trace is one error, not its head and its exception line.
    for (service, errors) in fixture::ERROR_ENTRIES_LAST_HOUR {
        assert_eq!(s["by_service"][service], json!(errors), "{service}: {text}");
    }
    assert!(!text.contains("× Traceback"), "{text}");
    let timeout = groups
        .iter()
        .find(|g| {
            g["message"] == "TimeoutError: upload of /tmp/out/build.tar.gz timed out after <N>s"
        })
        .unwrap_or_else(|| panic!("no rejoined TimeoutError: {text}"));
    assert_eq!(timeout["services"]["runner"], json!(1));
    // The split Zig error-return trace and Rust panic, each one error with its summary.
    for (service, message) in [
        (
            "api",
            "error(storage): failed to write pack /data/repos/bob/zig-http.git/objects/pack/tmp_pack: error.NoSpaceLeft",
        ),
        (
            "agent",
            "thread <Q> panicked at src/tools/bash.rs:<N>:<N>: index out of bounds: the len is <N> but the index is <N>",
        ),
    ] {
        let g = groups
            .iter()
            .find(|g| g["message"] == message)
            .unwrap_or_else(|| panic!("no rejoined {message}: {text}"));
        assert_eq!(g["services"][service], json!(1), "{message}");
    }
    // Most frequent first.
    let counts: Vec<u64> = groups
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    assert!(
        text.contains("1. 3× failed to load repository <N>: not found\n   api 3 · first "),
        "{text}"
    );

    // Over the whole fixture, the totals.
    let (_, s) = call(&host, "find_errors", json!({"start": "4h"})).await;
    for (service, message, _, total) in fixture::ERROR_GROUPS {
        let g = s["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["message"] == message)
            .unwrap();
        assert_eq!(g["services"][service], json!(total), "{message}");
    }
}

#[tokio::test]
async fn trace_request_follows_one_id_across_services_in_time_order() {
    let (host, _tenant) = start().await;
    let (text, s) = call(
        &host,
        "trace_request",
        json!({"request_id": fixture::REQUEST_ID}),
    )
    .await;
    assert_eq!(s["lines"], json!(fixture::REQUEST_ID_LINES));
    let services: Vec<&str> = s["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["service"].as_str().unwrap())
        .collect();
    assert_eq!(services, fixture::REQUEST_ID_SERVICES);
    let times: Vec<&str> = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(!text.contains(fixture::DECOY_REQUEST_ID), "{text}");
    assert_eq!(s["span_seconds"], json!(15.0));
    let head = format!("Request {}: 6 lines across 3 services", fixture::REQUEST_ID);
    assert!(text.starts_with(&head), "{text}");
    assert!(
        text.contains("Services touched, in order: api (1) → runner (3) → agent (2)"),
        "{text}"
    );

    let err = host
        .call_err("trace_request", json!({"request_id": "  "}))
        .await
        .unwrap();
    assert!(err.contains("request_id is required"), "{err}");
}

/// Cases of `find_slow_requests`: (arguments, the durations it must list, slowest first,
/// and how many requests are over the threshold), read off `SLOW_LAST_HOUR` by hand.
const SLOW_CASES: &[(&str, &[i64], usize)] = &[
    // Over 500 ms: 500 itself is not; JSON, logfmt and plain-text durations all count.
    (
        r#"{"threshold_ms": 500}"#,
        &[12950, 3200, 2500, 2400, 1500, 1000, 812, 812, 750, 501],
        10,
    ),
    (
        r#"{"threshold_ms": 499}"#,
        &[12950, 3200, 2500, 2400, 1500, 1000, 812, 812, 750, 501, 500],
        11,
    ),
    // The 1000 ms request is not over 1000 ms; the 9000 ms one is 75 min old.
    (
        r#"{"threshold_ms": 1000, "start": "2h"}"#,
        &[12950, 9000, 3200, 2500, 2400, 1500],
        6,
    ),
    (r#"{"threshold_ms": 400, "limit": 2}"#, &[12950, 3200], 12),
    (r#"{"threshold_ms": 3000, "service": "runner"}"#, &[3200], 1),
    (r#"{"threshold_ms": 20000}"#, &[], 0),
];

#[tokio::test]
async fn find_slow_requests_lists_requests_over_the_threshold_slowest_first() {
    let (host, _tenant) = start().await;
    let mut failures = Vec::new();
    for (args, want, matching) in SLOW_CASES {
        let (text, s) = call(
            &host,
            "find_slow_requests",
            serde_json::from_str(args).unwrap(),
        )
        .await;
        let got: Vec<f64> = s["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["duration_ms"].as_f64().unwrap())
            .collect();
        let want: Vec<f64> = want.iter().map(|d| *d as f64).collect();
        if got != want || s["matching"] != json!(matching) {
            failures.push(format!(
                "{args}: got {got:?} ({}), want {want:?} ({matching})\n{text}",
                s["matching"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    let (text, _) = call(&host, "find_slow_requests", json!({"threshold_ms": 1000})).await;
    assert!(
        text.starts_with("5 requests took over 1000 ms in the last 1h"),
        "{text}"
    );
    // In ms exactly as logged, never rounded to seconds.
    assert!(text.contains("12950 ms"), "{text}");
    assert!(text.contains("2400 ms"), "{text}");
    assert!(!text.contains("12.9 s") && !text.contains("13 s"), "{text}");
    // The line with `"duration_ms":"n/a"` never shows up.
    assert!(!text.contains("request aborted"), "{text}");
}

#[tokio::test]
async fn search_exceptions_returns_whole_traces_by_language_and_type() {
    let (host, _tenant) = start().await;
    let (text, s) = call(&host, "search_exceptions", json!({})).await;
    assert_eq!(s["traces"], json!(fixture::TRACES.len()));
    let languages = s["languages"].as_array().unwrap();
    for t in fixture::TRACES {
        let lang = languages
            .iter()
            .find(|l| l["language"] == t.language)
            .unwrap_or_else(|| panic!("{}", t.language));
        let ex = lang["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["exception"] == t.exception);
        let ex = ex.unwrap_or_else(|| panic!("no {} {}: {text}", t.language, t.exception));
        assert_eq!(ex["services"][t.service], json!(1));
        let trace = ex["latest"]["trace"].as_str().unwrap();
        assert!(trace.starts_with(t.first_line), "{trace}");
        assert_eq!(trace.lines().count(), t.lines, "{trace}");
    }
    assert!(text.contains("python (4)\n"), "{text}");
    assert!(
        text.contains("Traceback (most recent call last):\n  File \"/app/runner/queue.py\""),
        "{text}"
    );

    let (_, s) = call(
        &host,
        "search_exceptions",
        json!({"language": "python", "start": "1h"}),
    )
    .await;
    let recent_python = fixture::TRACES
        .iter()
        .filter(|t| t.language == "python" && t.seconds_ago < 3600.0)
        .count();
    assert_eq!(s["traces"], json!(recent_python));
    assert_eq!(s["languages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn workflow_logs_match_the_run_exactly() {
    let (host, _tenant) = start().await;
    let (text, s) = call(&host, "workflow_logs", json!({"run_id": fixture::RUN_ID})).await;
    assert_eq!(
        s["entries"].as_array().unwrap().len(),
        fixture::RUN_ID_LINES,
        "{text}"
    );
    assert!(
        !text.contains(&format!("run_id={}", fixture::DECOY_RUN_ID)),
        "{text}"
    );
    assert_eq!(
        (&s["runs"][0]["workflow"], &s["runs"][0]["status"]),
        (&json!("ci"), &json!("failure"))
    );
    assert!(
        text.starts_with("Workflow run 42: 5 lines in the last 1h"),
        "{text}"
    );

    let (_, s) = call(&host, "workflow_logs", json!({})).await;
    let runs: Vec<i64> = s["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_i64().unwrap())
        .collect();
    assert!(
        runs.contains(&fixture::RUN_ID) && runs.contains(&fixture::DECOY_RUN_ID),
        "{runs:?}"
    );

    let (_, s) = call(&host, "workflow_logs", json!({"workflow_name": "nightly"})).await;
    let runs: Vec<i64> = s["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_i64().unwrap())
        .collect();
    assert_eq!(runs, [fixture::DECOY_RUN_ID]);
}

#[tokio::test]
async fn agent_logs_follow_sessions() {
    let (host, _tenant) = start().await;
    let (text, s) = call(
        &host,
        "agent_logs",
        json!({"session_id": fixture::SESSION_ID}),
    )
    .await;
    assert_eq!(s["lines"], json!(fixture::SESSION_ID_LINES), "{text}");
    assert_eq!(s["sessions"][0]["model"], "claude-sonnet-4");

    let (_, s) = call(&host, "agent_logs", json!({})).await;
    let sessions = s["sessions"].as_array().unwrap();
    let find = |id: &str| {
        sessions
            .iter()
            .find(|x| x["session_id"] == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert_eq!(
        find(fixture::SESSION_ID)["lines"],
        json!(fixture::SESSION_ID_LINES)
    );
    assert_eq!(
        find(fixture::OTHER_SESSION_ID)["lines"],
        json!(fixture::OTHER_SESSION_ID_LINES)
    );
    assert_eq!(find(fixture::OTHER_SESSION_ID)["errors"], json!(2));
    // Newest session first.
    assert_eq!(sessions[0]["session_id"], fixture::OTHER_SESSION_ID);
}

#[tokio::test]
async fn tail_logs_shows_the_newest_last_and_follows() {
    let (host, tenant) = start().await;
    let (_, s) = call(&host, "tail_logs", json!({})).await;
    let times: Vec<&str> = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    assert_eq!(times.len(), fixture::LINES_LAST_5_MIN);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    let (_, s) = call(&host, "tail_logs", json!({"lines": 3})).await;
    assert_eq!(s["entries"].as_array().unwrap().len(), 3);

    // A line arrives while following.
    let push = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let labels = [
            ("job", "containerlogs"),
            ("service", "api"),
            ("container", "plue-api-1"),
            ("stream", "stdout"),
        ];
        let line = r#"{"level":"info","message":"followed line arrived"}"#.to_string();
        tenant
            .push(&[Stream::new(labels, vec![(now_ns(), line)])])
            .await
            .unwrap();
    };
    let (result, ()) = tokio::join!(
        host.call_ok("tail_logs", json!({"service": "api", "follow_seconds": 4})),
        push
    );
    let s = mcp::structured(&result.unwrap());
    assert_eq!(
        (&s["followed_seconds"], &s["new_lines"]),
        (&json!(4), &json!(1))
    );
    let entries = s["entries"].as_array().unwrap();
    assert_eq!(entries.last().unwrap()["message"], "followed line arrived");
}

#[tokio::test]
async fn search_logs_by_level_service_and_literal_text() {
    let (host, _tenant) = start().await;
    let api = fixture::SERVICE_COUNTS[0];
    let (_, s) = call(
        &host,
        "search_logs",
        json!({"service": "api", "level": "error"}),
    )
    .await;
    assert_eq!(s["returned"], json!(api.errors_last_hour));
    let (_, s) = call(
        &host,
        "search_logs",
        json!({"level": "warn", "limit": 1000}),
    )
    .await;
    let warnings: usize = fixture::SERVICE_COUNTS
        .iter()
        .map(|c| c.warnings_last_hour)
        .sum();
    assert_eq!(s["returned"], json!(warnings));

    // Quotes and LogQL operators in the text are taken literally.
    let (_, s) = call(&host, "search_logs", json!({"contains": r#""status":404"#})).await;
    assert_eq!(s["query"], r#"{job="containerlogs"} |= "\"status\":404""#);
    assert_eq!(s["returned"], json!(3));
    let (_, s) = call(
        &host,
        "search_logs",
        json!({"contains": r#"|= "x" or ` \."#}),
    )
    .await;
    assert_eq!(s["returned"], json!(0));

    // Bounded, with the count of what was left out.
    let (text, s) = call(&host, "search_logs", json!({"service": "api", "limit": 5})).await;
    assert_eq!(s["entries"].as_array().unwrap().len(), 5);
    assert_eq!(s["matching"], json!(api.lines_last_hour));
    let note = format!(
        "Showing 5 of {} lines ({} left out)",
        api.lines_last_hour,
        api.lines_last_hour - 5
    );
    assert!(text.contains(&note), "{text}");

    // The agent's own LogQL, as it is.
    let (_, s) = call(
        &host,
        "search_logs",
        json!({"query": r#"{container="plue-postgres-1"} |= "ERROR""#}),
    )
    .await;
    assert_eq!(s["returned"], json!(1));

    // A service that is not a label value: which ones are, and the unlabelled stream.
    let (text, _) = call(&host, "search_logs", json!({"service": "postgres"})).await;
    assert!(
        text.contains("services with logs: agent, api, runner, web."),
        "{text}"
    );
    assert!(text.contains("container=plue-postgres-1"), "{text}");
    let (_, s) = call(
        &host,
        "search_logs",
        json!({"service": "container=plue-postgres-1"}),
    )
    .await;
    assert_eq!(s["returned"], json!(fixture::POSTGRES_LINES));
}

#[tokio::test]
async fn bad_logql_from_the_agent_is_lokis_own_error() {
    let (host, _tenant) = start().await;
    // `\.` is not an escape in a double-quoted LogQL string.
    let err = host
        .call_err(
            "search_logs",
            json!({"query": r#"{job="containerlogs"} |~ "error\.""#}),
        )
        .await
        .unwrap();
    assert!(
        err.contains("Loki rejected the query (HTTP 400): parse error at line 1, col "),
        "{err}"
    );
    assert!(err.contains("invalid char escape"), "{err}");
    assert!(
        err.contains(r#"LogQL: {job="containerlogs"} |~ "error\.""#),
        "{err}"
    );
}

#[tokio::test]
async fn unreachable_loki_names_the_endpoint_and_what_to_check() {
    let port = plue_tests::ports::free_port();
    let host = Host::start(
        binary(),
        &config(&format!(
            "[endpoints.loki]\nurl = \"http://127.0.0.1:{port}\"\n"
        )),
    )
    .await
    .unwrap();
    for tool in ["log_stats", "search_logs", "find_errors"] {
        let err = host.call_err(tool, json!({})).await.unwrap();
        assert!(err.contains("endpoint `loki`"), "{tool}: {err}");
        assert!(err.contains("unreachable"), "{tool}: {err}");
        assert!(err.contains("[endpoints.loki] url"), "{tool}: {err}");
    }
}

#[tokio::test]
async fn an_empty_window_says_so() {
    let (host, _tenant) = start().await;
    let window = json!({"start": "10h", "end": "9h"});
    let (text, s) = call(&host, "search_logs", window.clone()).await;
    assert_eq!(s["returned"], json!(0));
    assert!(text.starts_with("No lines matched in "), "{text}");
    assert!(
        text.contains("Loki has no logs at all in this window; widen `start`."),
        "{text}"
    );
    let (text, s) = call(&host, "find_errors", window.clone()).await;
    assert_eq!(s["groups"], json!([]));
    assert!(text.starts_with("0 error lines in "), "{text}");
    let (text, s) = call(&host, "log_stats", window.clone()).await;
    assert_eq!(s["lines"], json!(0));
    assert!(text.contains("No logs in this window."), "{text}");
    let (text, _) = call(
        &host,
        "trace_request",
        json!({"request_id": fixture::REQUEST_ID, "start": "10h", "end": "9h"}),
    )
    .await;
    assert!(text.contains("No line holds"), "{text}");
}

/// Lines in every case a level is written in, each with the level read off it by hand
/// (`None`: no level, though it says "exception" and "panic"), and whether it is agent
/// activity. Loki 2.7's regex simplifier breaks case-insensitive alternations such as
/// `(?i)(error|exception|panic)` (grafana/loki#7904); these run the plugin's filters on
/// the real server.
const LEVEL_LINES: &[(&str, Option<&str>, bool)] = &[
    (
        r#"{"level":"ERROR","msg":"upper-case JSON level"}"#,
        Some("error"),
        false,
    ),
    (
        r#"{"severity":"Fatal","msg":"capitalised severity"}"#,
        Some("error"),
        false,
    ),
    (
        r#"level=Error msg="logfmt capitalised""#,
        Some("error"),
        false,
    ),
    (
        "java.lang.IllegalStateException: stale cache",
        Some("error"),
        false,
    ),
    ("Exception: bare exception", Some("error"), false),
    (
        "thread 7 panic: reached unreachable code",
        Some("error"),
        false,
    ),
    (
        r#"{"level":"Warning","msg":"capitalised warning"}"#,
        Some("warn"),
        false,
    ),
    (
        r#"level=WARN msg="upper-case logfmt warning""#,
        Some("warn"),
        false,
    ),
    (
        r#"{"level":"Info","msg":"capitalised info"}"#,
        Some("info"),
        false,
    ),
    (r#"level=Notice msg="notice is info""#, Some("info"), false),
    (
        r#"{"level":"info","msg":"GET /api/error-reports 200"}"#,
        Some("info"),
        false,
    ),
    (
        r#"{"level":"info","msg":"Claude replied","model":"claude-sonnet-4"}"#,
        Some("info"),
        true,
    ),
    (
        r#"{"level":"info","msg":"TOOL_RESULT received"}"#,
        Some("info"),
        true,
    ),
    (
        r#"{"level":"info","msg":"LLM request sent"}"#,
        Some("info"),
        true,
    ),
    (
        r#"{"level":"Debug","msg":"capitalised debug"}"#,
        Some("debug"),
        false,
    ),
    (r#"level=TRACE msg="trace is debug""#, Some("debug"), false),
    (
        "plain line mentioning an exception and a panic",
        None,
        false,
    ),
];

#[tokio::test]
async fn level_and_agent_filters_hold_on_the_real_server() {
    let (host, tenant) = start().await;
    let now = now_ns();
    let entries = LEVEL_LINES
        .iter()
        .enumerate()
        .map(|(i, (line, _, _))| (now - (60 - i as i64) * 1_000_000_000, line.to_string()))
        .collect();
    let labels = [
        ("job", "containerlogs"),
        ("service", "levels"),
        ("stream", "stdout"),
    ];
    tenant.push(&[Stream::new(labels, entries)]).await.unwrap();
    let lines = |s: &Value| -> Vec<String> {
        let mut v: Vec<String> = s["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["line"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let mut failures = Vec::new();
    for level in ["error", "warn", "info", "debug"] {
        let (_, s) = call(
            &host,
            "search_logs",
            json!({"service": "levels", "level": level}),
        )
        .await;
        let mut want: Vec<String> = LEVEL_LINES
            .iter()
            .filter(|(_, l, _)| *l == Some(level))
            .map(|(line, _, _)| line.to_string())
            .collect();
        want.sort();
        if lines(&s) != want {
            failures.push(format!("level {level}: got {:?}, want {want:?}", lines(&s)));
        }
    }
    let (_, s) = call(&host, "agent_logs", json!({"service": "levels"})).await;
    let mut want: Vec<String> = LEVEL_LINES
        .iter()
        .filter(|(_, _, agent)| *agent)
        .map(|(line, _, _)| line.to_string())
        .collect();
    want.sort();
    if lines(&s) != want {
        failures.push(format!(
            "agent activity: got {:?}, want {want:?}",
            lines(&s)
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A single-tenant Loki of its own (no tenant header, as with the built-in default
/// configuration) holding the whole fixture, its three-hour-old lines included.
#[tokio::test]
async fn a_single_tenant_loki_holds_the_whole_fixture() {
    let loki = Loki::start().await.unwrap();
    let tenant = loki.tenant();
    assert_eq!(tenant.org_id(), None);
    assert!(!tenant.endpoint_toml().contains("headers"));
    let host = Host::start(binary(), &config(&tenant.endpoint_toml()))
        .await
        .unwrap();
    tenant.load_fixture(now_ns()).await.unwrap();
    let (text, s) = call(&host, "log_stats", json!({"start": "6h"})).await;
    for c in fixture::SERVICE_COUNTS {
        let row = s["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["service"] == c.service)
            .unwrap();
        assert_eq!(row["lines"], json!(c.lines_total), "{}: {text}", c.service);
    }
    let (_, s) = call(
        &host,
        "search_logs",
        json!({"contains": "Starting server", "start": "4h"}),
    )
    .await;
    assert_eq!(s["returned"], json!(1));
}

/// The text of the one text block a resource read returns, or the error.
async fn read_resource(host: &Host, uri: &str) -> Result<String, String> {
    let contents = host
        .client()
        .read_resource(rmcp::model::ReadResourceRequestParams::new(uri))
        .await
        .map(|r| r.contents)
        .map_err(|e| e.to_string())?;
    assert_eq!(contents.len(), 1, "{uri}: {contents:?}");
    match &contents[0] {
        rmcp::model::ResourceContents::TextResourceContents {
            text, mime_type, ..
        } => {
            assert_eq!(mime_type.as_deref(), Some("text/markdown"), "{uri}");
            Ok(text.clone())
        }
        other => panic!("{uri}: not text: {other:?}"),
    }
}

#[tokio::test]
async fn a_service_page_gives_its_last_hour_and_its_name_completes() {
    let (host, _tenant) = start().await;
    let client = host.client();

    // Listed: every service with lines (the unlabelled stream has no page).
    let listed = client.list_all_resources().await.unwrap();
    let mut uris: Vec<&str> = listed.iter().map(|r| r.uri.as_str()).collect();
    uris.sort();
    let mut expected: Vec<String> = fixture::SERVICES
        .iter()
        .map(|s| format!("plue://logs/services/{s}"))
        .collect();
    expected.sort();
    assert_eq!(uris, expected);

    // Each page: the fixture's counts for that service.
    for c in fixture::SERVICE_COUNTS {
        let text = read_resource(&host, &format!("plue://logs/services/{}", c.service))
            .await
            .unwrap();
        let share = 100.0 * c.errors_last_hour as f64 / c.lines_last_hour as f64;
        let counts = format!(
            "{} lines: {} errors ({share:.1}%), {} warning",
            c.lines_last_hour, c.errors_last_hour, c.warnings_last_hour
        );
        assert!(
            text.starts_with(&format!("# {}: logs of the last 1h\n", c.service)),
            "{text}"
        );
        assert!(text.contains(&counts), "{counts} not in {text}");
        let newest = text
            .split("## Newest lines (")
            .nth(1)
            .unwrap_or_else(|| panic!("{text}"));
        let shown = 10.min(c.lines_last_hour);
        assert!(
            newest.starts_with(&format!("{shown} of {}, newest last)", c.lines_last_hour)),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "Next tools: find_errors(service=\"{}\")",
                c.service
            )),
            "{text}"
        );
    }
    // The top error kinds of `api`, most frequent first, with the fixture's counts.
    let api = read_resource(&host, "plue://logs/services/api")
        .await
        .unwrap();
    let mut api_groups: Vec<(&str, usize)> = fixture::ERROR_GROUPS
        .iter()
        .filter(|(service, ..)| *service == "api")
        .map(|(_, message, last_hour, _)| (*message, *last_hour))
        .collect();
    api_groups.sort_by_key(|g| std::cmp::Reverse(g.1));
    let (message, count) = api_groups[0];
    assert!(
        api.contains(&format!("1. {count}× {message} (last ")),
        "{api}"
    );
    for (message, count) in &api_groups {
        assert!(
            api.contains(&format!("{count}× {message}")),
            "{message}: {api}"
        );
    }

    // A stream without the service label, named by another label as the tools take it.
    let postgres = read_resource(&host, "plue://logs/services/container=plue-postgres-1")
        .await
        .unwrap();
    let counts = format!(
        "{} lines: 1 error ({:.1}%)",
        fixture::POSTGRES_LINES,
        100.0 / fixture::POSTGRES_LINES as f64
    );
    assert!(postgres.contains(&counts), "{counts} not in {postgres}");

    // A service with no logs is an error that names the ones there are.
    let err = read_resource(&host, "plue://logs/services/apii")
        .await
        .unwrap_err();
    assert!(err.contains("no service `apii`"), "{err}");
    for service in fixture::SERVICES {
        assert!(err.contains(service), "{service} not named: {err}");
    }

    // The `service` completion, reached through the page's URI template.
    let complete = |value: &'static str| async move {
        client
            .complete(rmcp::model::CompleteRequestParams::new(
                rmcp::model::Reference::for_resource("plue://logs/services/{service}"),
                rmcp::model::ArgumentInfo::new("service", value),
            ))
            .await
            .unwrap()
            .completion
            .values
    };
    let mut all = complete("").await;
    all.sort();
    let mut services: Vec<&str> = fixture::SERVICES.to_vec();
    services.sort();
    assert_eq!(all, services);
    assert_eq!(complete("ru").await, ["runner"]);
}
