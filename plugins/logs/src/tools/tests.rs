//! The tools natively, with the SDK's fake HTTP host answering as Loki does.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::testing;

use crate::plugin;

/// A query parameter of a request path, percent-decoded.
fn param(path_and_query: &str, name: &str) -> Option<String> {
    let query = path_and_query.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| testing::percent_decode(v))
    })
}

pub(crate) fn streams(result: Json) -> String {
    json!({"status": "success", "data": {"resultType": "streams", "result": result}}).to_string()
}

pub(crate) fn vector(result: Json) -> String {
    json!({"status": "success", "data": {"resultType": "vector", "result": result}}).to_string()
}

/// Serve Loki's API: `answer(path, query)` gives the body of query endpoints; label
/// endpoints answer `api`, `web`.
pub(crate) fn fake_loki(answer: impl Fn(&str, &str) -> String + 'static) {
    testing::fake_http(move |req| {
        assert_eq!(req.endpoint, "loki");
        let path = req.path_and_query.split('?').next().unwrap().to_string();
        let body = match path.as_str() {
            "/loki/api/v1/query_range" | "/loki/api/v1/query" => {
                let q = param(&req.path_and_query, "query").unwrap();
                answer(&path, &q)
            }
            "/loki/api/v1/labels" | "/loki/api/v1/label/service/values" => {
                json!({"status": "success", "data": ["api", "web"]}).to_string()
            }
            _ => json!({"status": "success", "data": []}).to_string(),
        };
        Ok(testing::response(200, &body))
    });
}

pub(crate) const T0: i64 = 1_764_000_000_000_000_000;

pub(crate) fn ts(seconds: i64) -> String {
    (T0 + seconds * 1_000_000_000).to_string()
}

#[test]
fn find_errors_groups_and_ranks() {
    fake_loki(|_, q| {
        assert!(
            q.starts_with(r#"{job="containerlogs"} |~ `"(?:level|severity|lvl)""#),
            "{q}"
        );
        streams(json!([
            {"stream": {"service": "api"}, "values": [
                [ts(30), r#"{"level":"error","message":"failed to load repository 98: not found"}"#],
                [ts(20), r#"{"level":"error","message":"failed to load repository 1234: not found"}"#],
                [ts(10), "error(db): connection refused (attempt 1)"],
            ]},
            {"stream": {"service": "web"}, "values": [
                [ts(25), r#"{"level":"error","msg":"failed to load repository 7: not found"}"#],
            ]},
        ]))
    });
    let out = testing::call(
        &plugin(),
        "find_errors",
        json!({"start": "2025-11-24T15:00:00Z", "end": "2025-11-24T17:00:00Z"}),
    )
    .unwrap();
    let text = out.text_content();
    assert!(
        text.starts_with(
            "4 error lines in 2025-11-24T15:00:00Z to 2025-11-24T17:00:00Z, 2 kinds. By service: api 3, web 1.\n\n\
             1. 3× failed to load repository <N>: not found\n   api 2, web 1 · first 2025-11-24T16:00:20.000Z · last 2025-11-24T16:00:30.000Z\n   \
             e.g. 2025-11-24T16:00:30.000Z [api] ERROR failed to load repository 98: not found\n\
             2. 1× error(db): connection refused (attempt <N>)"
        ),
        "{text}"
    );
    let s = out.structured().unwrap();
    assert_eq!(s["groups"][0]["services"], json!({"api": 2, "web": 1}));
    assert_eq!(s["by_service"], json!({"api": 3, "web": 1}));
}

#[test]
fn trace_request_merges_streams_in_time_order() {
    fake_loki(|path, q| {
        assert_eq!(path, "/loki/api/v1/query_range");
        assert_eq!(q, r#"{job="containerlogs"} |= "req-1" |~ `\breq-1\b`"#);
        streams(json!([
            {"stream": {"service": "runner"}, "values": [[ts(2), "level=info msg=\"step\" request_id=req-1"], [ts(5), "level=error msg=\"failed\" request_id=req-1"]]},
            {"stream": {"service": "api"}, "values": [[ts(1), r#"{"level":"info","message":"dispatch","request_id":"req-1"}"#]]},
            {"stream": {"service": "agent"}, "values": [[ts(3), r#"{"severity":"info","message":"tool","request_id":"req-1"}"#]]},
        ]))
    });
    let out = testing::call(&plugin(), "trace_request", json!({"request_id": " req-1 "})).unwrap();
    let text = out.text_content();
    assert!(
        text.contains("Services touched, in order: api (1) → runner (2) → agent (1)"),
        "{text}"
    );
    let s = out.structured().unwrap();
    let messages: Vec<&str> = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["dispatch", "step", "tool", "failed"]);
    assert_eq!(
        (s["span_seconds"].as_f64(), &s["services"][1]["errors"]),
        (Some(4.0), &json!(1))
    );
}

#[test]
fn find_slow_requests_reads_json_logfmt_and_text_over_the_threshold() {
    fake_loki(|_, q| {
        let values = if q.contains("| json |") {
            assert!(
                q.ends_with(r#"| json | duration_ms > 500 | __error__="""#),
                "{q}"
            );
            json!([
                [
                    ts(1),
                    r#"{"message":"done","method":"GET","path":"/a","status":200,"duration_ms":500}"#
                ],
                [
                    ts(2),
                    r#"{"message":"done","method":"GET","path":"/b","status":200,"duration_ms":2500}"#
                ]
            ])
        } else if q.contains("| logfmt |") {
            assert!(
                q.ends_with(r#"| logfmt | duration_ms > 500 | __error__="""#),
                "{q}"
            );
            json!([[
                ts(3),
                r#"level=warn msg="step finished" run_id=45 duration_ms=3200"#
            ]])
        } else {
            assert!(q.contains("|~ `"), "{q}");
            json!([
                [ts(4), "info(http): GET /c 200 (812ms)"],
                [ts(5), "info(http): GET /d 200 (400ms)"]
            ])
        };
        streams(json!([{"stream": {"service": "x"}, "values": values}]))
    });
    let out = testing::call(
        &plugin(),
        "find_slow_requests",
        json!({"threshold_ms": 500}),
    )
    .unwrap();
    let s = out.structured().unwrap();
    let d: Vec<f64> = s["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["duration_ms"].as_f64().unwrap())
        .collect();
    // 500 is not over the threshold, nor is the plain-text 400 ms.
    assert_eq!(d, [3200.0, 2500.0, 812.0]);
    let text = out.text_content();
    assert!(
        text.starts_with("3 requests took over 500 ms in "),
        "{text}"
    );
    assert!(text.contains("3200 ms   2025-"), "{text}");
    assert!(text.contains("step finished run_id=45"), "{text}");
    assert!(text.contains("GET /b"), "{text}");
}

#[test]
fn log_stats_counts_per_service_with_three_queries() {
    fake_loki(|path, q| {
        assert_eq!(path, "/loki/api/v1/query");
        let (api, none) = if q.contains("!~") {
            ("2", "0")
        } else if q.contains("|~") {
            ("3", "1")
        } else {
            ("50", "4")
        };
        vector(json!([
            {"metric": {"service": "api"}, "value": [1764000000, api]},
            {"metric": {}, "value": [1764000000, none]},
        ]))
    });
    let out = testing::call(&plugin(), "log_stats", json!({})).unwrap();
    let s = out.structured().unwrap();
    assert_eq!(
        (&s["lines"], &s["errors"], &s["warnings"], &s["other"]),
        (&json!(54), &json!(4), &json!(2), &json!(48))
    );
    assert_eq!(
        s["services"][0],
        json!({"service": "api", "lines": 50, "errors": 3, "warnings": 2, "other": 45})
    );
    let text = out.text_content();
    assert!(
        text.contains("\napi                 50     3       2         45     6.0%\n"),
        "{text}"
    );
    assert!(
        text.contains("(no service label)  4      1       0         3      25.0%"),
        "{text}"
    );
}

#[test]
fn settings_change_the_selector_and_the_service_label() {
    testing::set_setting("service_label", "app");
    testing::set_setting("selector", r#"{env="prod"}"#);
    fake_loki(|_, q| {
        assert_eq!(q, r#"{env="prod", app="web"} |= "GET""#);
        streams(
            json!([{"stream": {"app": "web", "env": "prod"}, "values": [[ts(1), "GET / 200"]]}]),
        )
    });
    let out = testing::call(
        &plugin(),
        "search_logs",
        json!({"service": "web", "contains": "GET"}),
    )
    .unwrap();
    assert!(
        out.text_content().contains("[web] -     GET / 200"),
        "{}",
        out.text_content()
    );
}

#[test]
fn tail_logs_puts_the_newest_last() {
    fake_loki(|_, _| {
        streams(json!([
            {"stream": {"service": "a"}, "values": [[ts(9), "nine"], [ts(1), "one"]]},
            {"stream": {"service": "b"}, "values": [[ts(5), "five"]]},
        ]))
    });
    let out = testing::call(&plugin(), "tail_logs", json!({"lines": 3})).unwrap();
    let s = out.structured().unwrap();
    let lines: Vec<&str> = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["one", "five", "nine"]);
}

#[test]
fn lokis_refusal_reaches_the_agent() {
    testing::fake_http(|_| {
        Ok(testing::response(
            400,
            "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER",
        ))
    });
    let err = testing::call(&plugin(), "search_logs", json!({"query": "up"})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Loki rejected the query (HTTP 400): parse error at line 1, col 1: syntax error: unexpected IDENTIFIER\nLogQL: up"
    );
    let err = testing::call(&plugin(), "search_logs", json!({"service": "a b=c"})).unwrap_err();
    assert!(
        err.to_string()
            .contains("`service`: `a b` is not a label name"),
        "{err}"
    );
}

#[test]
fn search_exceptions_reads_a_browser_stack_field() {
    let stack = "RangeError: cart total out of range: -3\n    at checkout (http://127.0.0.1:8080/app.js:14:11)";
    let line = json!({"level": "error", "message": format!("Unhandled rejection: {}", stack.lines().next().unwrap()), "service": "web", "stack": stack}).to_string();
    fake_loki(move |_, q| {
        assert!(q.contains(r#"\\n\s+at [^"\\]*"#), "{q}");
        streams(json!([{"stream": {"service": "web"}, "values": [[ts(5), line.clone()]]}]))
    });
    let out = testing::call(
        &plugin(),
        "search_exceptions",
        json!({"language": "typescript", "start": "2025-11-24T15:00:00Z", "end": "2025-11-24T17:00:00Z"}),
    )
    .unwrap();
    let s = out.structured().unwrap();
    let exception = &s["languages"][0]["exceptions"][0];
    assert_eq!(s["languages"][0]["language"], "typescript");
    assert_eq!(exception["exception"], "RangeError");
    assert_eq!(
        exception["summary"],
        "RangeError: cart total out of range: -3"
    );
    assert_eq!(exception["latest"]["trace"], stack);
    assert!(
        out.text_content()
            .contains("\n    at checkout (http://127.0.0.1:8080/app.js:14:11)"),
        "{}",
        out.text_content()
    );
}
