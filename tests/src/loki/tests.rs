//! Semantics of the test server: LogQL evaluation, the HTTP API, and the fixture's facts.

use super::fixture::{Lvl, annotated};
use super::*;

const NOW: i64 = 1_700_000_000_000_000_000;
const S: i64 = 1_000_000_000;

fn small() -> Vec<Stream> {
    vec![
        Stream::new(
            [("app", "api"), ("env", "prod")],
            vec![
                (NOW - 50 * S, r#"{"level":"info","msg":"ok","duration_ms":100}"#.into()),
                (NOW - 40 * S, r#"{"level":"error","msg":"boom","duration_ms":700}"#.into()),
                (NOW - 30 * S, "error: not json duration_ms=900".into()),
                (NOW - 20 * S, r#"{"level":"warn","msg":"slow","duration_ms":"n/a"}"#.into()),
                (
                    NOW - 10 * S,
                    r#"{"level":"error","msg":"db","duration_ms":501,"ctx":{"user":{"id":7}},"tags":["a"],"http-status":500}"#
                        .into(),
                ),
            ],
        ),
        Stream::new(
            [("app", "apiserver"), ("env", "prod")],
            vec![
                (NOW - 45 * S, r#"level=error msg="x y" duration_ms=1200"#.into()),
                (NOW - 15 * S, "level=info msg=ok".into()),
            ],
        ),
        Stream::new([("app", "web"), ("env", "dev"), ("level", "info")], vec![(NOW - 25 * S, r#"{"level":"debug","msg":"hello world"}"#.into())]),
    ]
}

fn call(streams: &[Stream], ep: Endpoint, params: &[(&str, &str)]) -> Answer {
    let p = Params(
        params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    answer(streams, &ep, &p, NOW)
}

fn range(streams: &[Stream], query: &str, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![("query", query)];
    params.extend_from_slice(extra);
    call(streams, Endpoint::QueryRange, &params).unwrap_or_else(|e| panic!("{query}: {e:?}"))
}

/// (ns, line, labels) of every entry, in response order.
fn entries(v: &Value) -> Vec<(i64, String, Value)> {
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["resultType"], "streams");
    let mut out = Vec::new();
    for s in v["data"]["result"].as_array().unwrap() {
        for e in s["values"].as_array().unwrap() {
            out.push((
                e[0].as_str().unwrap().parse().unwrap(),
                e[1].as_str().unwrap().to_string(),
                s["stream"].clone(),
            ));
        }
    }
    out
}

fn ages(v: &Value) -> Vec<i64> {
    let mut a: Vec<i64> = entries(v).iter().map(|e| (NOW - e.0) / S).collect();
    a.sort();
    a
}

#[test]
fn selector_regex_is_fully_anchored() {
    let st = small();
    assert_eq!(
        ages(&range(&st, r#"{app=~"api"}"#, &[])),
        vec![10, 20, 30, 40, 50]
    );
    assert_eq!(ages(&range(&st, r#"{app=~"api.*"}"#, &[])).len(), 7);
    assert_eq!(ages(&range(&st, r#"{app=~"pi"}"#, &[])).len(), 0);
    assert_eq!(
        ages(&range(&st, r#"{env="prod", app!~"api.+"}"#, &[])).len(),
        5
    );
    assert_eq!(
        ages(&range(&st, r#"{env!="prod", app=~".+"}"#, &[])),
        vec![25]
    );
}

#[test]
fn line_filters_chain() {
    let st = small();
    assert_eq!(
        ages(&range(&st, r#"{env="prod"} |= "error" != "boom""#, &[])),
        vec![10, 30, 45]
    );
    assert_eq!(
        ages(&range(&st, r#"{env="prod"} |~ "bo+m""#, &[])),
        vec![40]
    );
    // line regexes are not anchored, and are case-sensitive unless (?i)
    assert_eq!(
        ages(&range(&st, r#"{env="prod"} |~ "ERROR""#, &[])).len(),
        0
    );
    assert_eq!(
        ages(&range(&st, r#"{env="prod"} |~ "(?i)ERROR" !~ `^\{`"#, &[])),
        vec![30, 45]
    );
    assert_eq!(
        ages(&range(&st, r#"{env="prod"} |= "level" |= "ok""#, &[])),
        vec![15, 50]
    );
}

#[test]
fn json_extracts_flattens_and_marks_errors() {
    let st = small();
    let v = range(&st, r#"{app="api"} | json"#, &[]);
    let e = entries(&v);
    assert_eq!(e.len(), 5);
    let by_age = |age: i64| e.iter().find(|x| x.0 == NOW - age * S).unwrap().2.clone();
    let l10 = by_age(10);
    assert_eq!(l10["ctx_user_id"], "7");
    assert_eq!(l10["duration_ms"], "501");
    assert_eq!(l10["http_status"], "500");
    assert!(l10.get("tags").is_none(), "arrays are skipped");
    assert!(l10.get("__error__").is_none());
    let l30 = by_age(30);
    assert_eq!(l30["__error__"], "JSONParserErr");
    assert!(l30.get("__error_details__").is_some());
    // each distinct label set is its own stream, sorted by label string
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 5);
    // a parsed key clashing with a stream label gets `_extracted`
    let w = entries(&range(&st, r#"{app="web"} | json"#, &[]));
    assert_eq!(w[0].2["level"], "info");
    assert_eq!(w[0].2["level_extracted"], "debug");
}

#[test]
fn label_filters_after_parsers() {
    let st = small();
    // string filters compare values (absent = ""), errored lines included
    assert_eq!(
        ages(&range(&st, r#"{app="api"} | json | level="error""#, &[])),
        vec![10, 40]
    );
    assert_eq!(
        ages(&range(&st, r#"{app="api"} | json | level!="error""#, &[])),
        vec![20, 30, 50]
    );
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | level="error" | __error__="""#,
            &[]
        )),
        vec![10, 40]
    );
    assert_eq!(
        ages(&range(&st, r#"{app="api"} | json | __error__!="""#, &[])),
        vec![30]
    );
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | level=~"err.*|warn""#,
            &[]
        )),
        vec![10, 20, 40]
    );
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | level!~"err.*|warn""#,
            &[]
        )),
        vec![30, 50]
    );
    // anchored: "err" does not match "error"
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | level!~"err|warn""#,
            &[]
        )),
        vec![10, 30, 40, 50]
    );
}

#[test]
fn numeric_label_filter_excludes_unparsable_lines_only_with_error_filter() {
    let st = small();
    // JSONParserErr (30 s) and "n/a" (20 s, LabelFilterErr) pass a bare numeric filter ...
    let v = range(&st, r#"{app="api"} | json | duration_ms > 500"#, &[]);
    assert_eq!(ages(&v), vec![10, 20, 30, 40]);
    let errs: Vec<String> = entries(&v)
        .iter()
        .filter_map(|e| {
            e.2.get("__error__")
                .map(|x| x.as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(errs.len(), 2);
    assert!(
        errs.contains(&"JSONParserErr".to_string()) && errs.contains(&"LabelFilterErr".to_string())
    );
    // ... and are dropped by `| __error__=""`
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | duration_ms > 500 | __error__="""#,
            &[]
        )),
        vec![10, 40]
    );
    // `| __error__=""` must come after the numeric filter: before it, "n/a" still gets through
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | __error__="" | duration_ms > 500"#,
            &[]
        )),
        vec![10, 20, 40]
    );
    // exact threshold semantics
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | duration_ms >= 501 | __error__="""#,
            &[]
        )),
        vec![10, 40]
    );
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | duration_ms > 501 | __error__="""#,
            &[]
        )),
        vec![40]
    );
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | duration_ms == 100 | __error__="""#,
            &[]
        )),
        vec![50]
    );
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | duration_ms <= 501, level="error" | __error__="""#,
            &[]
        )),
        vec![10]
    );
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"} | json | duration_ms < 200 or level="error" | __error__="""#,
            &[]
        )),
        vec![10, 40, 50]
    );
    // a missing label drops the line
    assert_eq!(
        ages(&range(&st, r#"{app="web"} | json | duration_ms > 0"#, &[])).len(),
        0
    );
}

#[test]
fn logfmt_parser() {
    let st = small();
    let v = range(
        &st,
        r#"{app="apiserver"} | logfmt | duration_ms >= 1200"#,
        &[],
    );
    let e = entries(&v);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].2["msg"], "x y");
    assert_eq!(e[0].2["level"], "error");
    let (pairs, err) = eval::logfmt_decode(r#"a=1 b="two words" c d= e="x\"y""#, true);
    assert!(err.is_none());
    assert_eq!(
        pairs,
        vec![
            ("a".into(), Some("1".into())),
            ("b".into(), Some("two words".into())),
            ("c".into(), None),
            ("d".into(), Some(String::new())),
            ("e".into(), Some("x\"y".into())),
        ]
    );
    assert!(eval::logfmt_decode(r#"a="open"#, true).1.is_some());
    assert_eq!(
        eval::logfmt_decode(r#"a=1 b="open"#, false),
        (vec![("a".into(), Some("1".into()))], None)
    );
    assert!(eval::logfmt_decode(r#"a=1 =b c=2"#, true).1.is_some());
    let (pairs, err) = eval::logfmt_decode(r#"a=1 =b c=2"#, false);
    assert!(err.is_none());
    assert_eq!(pairs.len(), 2);
    let bad = vec![Stream::new(
        [("a", "b")],
        vec![(NOW - S, r#"level=info msg="unterminated"#.into())],
    )];
    let e = entries(&range(&bad, r#"{a="b"} | logfmt --strict"#, &[]));
    assert_eq!(e[0].2["__error__"], "LogfmtParserErr");
    assert_eq!(e[0].2["level"], "info");
    // Loki 3.x: only --strict reports errors
    let e = entries(&range(&bad, r#"{a="b"} | logfmt"#, &[]));
    assert!(e[0].2.get("__error__").is_none());
    assert_eq!(e[0].2["level"], "info");
}

#[test]
fn limit_and_direction() {
    let st = small();
    let v = range(&st, r#"{env="prod"}"#, &[("limit", "3")]);
    assert_eq!(ages(&v), vec![10, 15, 20]);
    // grouped per stream, newest first inside each stream
    let res = v["data"]["result"].as_array().unwrap();
    assert_eq!(res.len(), 2);
    assert_eq!(res[0]["stream"]["app"], "api");
    let api: Vec<&str> = res[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[0].as_str().unwrap())
        .collect();
    assert_eq!(
        api,
        vec![(NOW - 10 * S).to_string(), (NOW - 20 * S).to_string()]
    );
    let v = range(
        &st,
        r#"{env="prod"}"#,
        &[("limit", "2"), ("direction", "FORWARD")],
    );
    assert_eq!(ages(&v), vec![45, 50]);
    let e = entries(&v);
    assert!(e.iter().all(|x| x.0 <= NOW - 45 * S));
    // start inclusive, end exclusive
    let start = (NOW - 40 * S).to_string();
    let end = (NOW - 10 * S).to_string();
    assert_eq!(
        ages(&range(
            &st,
            r#"{app="api"}"#,
            &[("start", &start), ("end", &end)]
        )),
        vec![20, 30, 40]
    );
    // limits
    for (limit, ok) in [
        ("0", false),
        ("-1", false),
        ("5000", true),
        ("5001", false),
        ("x", false),
    ] {
        let r = call(
            &st,
            Endpoint::QueryRange,
            &[("query", r#"{app="api"}"#), ("limit", limit)],
        );
        assert_eq!(r.is_ok(), ok, "limit {limit}");
    }
    let r = call(
        &st,
        Endpoint::QueryRange,
        &[("query", r#"{app="api"}"#), ("direction", "sideways")],
    );
    assert_eq!(r.unwrap_err().0, StatusCode::BAD_REQUEST);
}

#[test]
fn default_window_is_the_last_hour() {
    let st = vec![Stream::new(
        [("a", "b")],
        vec![
            (NOW - 3601 * S, "old".into()),
            (NOW - 3599 * S, "new".into()),
            (NOW, "at end (exclusive)".into()),
        ],
    )];
    let e = entries(&range(&st, r#"{a="b"}"#, &[]));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].1, "new");
    let e = entries(&range(&st, r#"{a="b"}"#, &[("since", "2h")]));
    assert_eq!(e.len(), 2);
}

#[test]
fn times_in_every_format_loki_accepts() {
    assert_eq!(parse_time("1700000000").unwrap(), NOW);
    assert_eq!(parse_time("1700000000000000000").unwrap(), NOW);
    assert_eq!(parse_time("1700000000.5").unwrap(), NOW + S / 2);
    assert_eq!(parse_time("1700000000.0001").unwrap(), NOW);
    assert_eq!(parse_time("2023-11-14T22:13:20Z").unwrap(), NOW);
    assert_eq!(
        parse_time("2023-11-14T23:13:20.25+01:00").unwrap(),
        NOW + S / 4
    );
    assert!(parse_time("NaN").is_err());
    assert!(parse_time("now").is_err());
    let r = call(
        &small(),
        Endpoint::QueryRange,
        &[("query", r#"{app="api"}"#), ("end", "NaN")],
    );
    let (code, msg) = r.unwrap_err();
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(msg.contains("NaN"), "{msg}");
    let r = call(
        &small(),
        Endpoint::QueryRange,
        &[
            ("query", r#"{app="api"}"#),
            ("start", "1700000001"),
            ("end", "1700000000"),
        ],
    );
    assert_eq!(r.unwrap_err().0, StatusCode::BAD_REQUEST);
}

#[test]
fn bad_logql_is_a_400_and_unsupported_a_501() {
    let st = small();
    let (code, msg) = call(
        &st,
        Endpoint::QueryRange,
        &[("query", r#"{app="api"} |= "a\.b""#)],
    )
    .unwrap_err();
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(msg.starts_with("parse error at line 1, col "), "{msg}");
    let (code, _) = call(
        &st,
        Endpoint::QueryRange,
        &[("query", r#"{app="api"} | line_format "{{.msg}}""#)],
    )
    .unwrap_err();
    assert_eq!(code, StatusCode::NOT_IMPLEMENTED);
    let (code, _) = call(&st, Endpoint::QueryRange, &[]).unwrap_err();
    assert_eq!(code, StatusCode::BAD_REQUEST);
}

fn instant(streams: &[Stream], query: &str, time: i64) -> Vec<(Value, f64)> {
    let t = time.to_string();
    let v = call(streams, Endpoint::Query, &[("query", query), ("time", &t)])
        .unwrap_or_else(|e| panic!("{query}: {e:?}"));
    assert_eq!(v["data"]["resultType"], "vector");
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["value"][0], secs_json(time));
            (
                r["metric"].clone(),
                r["value"][1].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn count_over_time_rate_and_aggregations() {
    let st = small();
    let r = instant(&st, r#"count_over_time({env="prod"}[1m])"#, NOW);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].0, json!({"app": "api", "env": "prod"}));
    assert_eq!(r[0].1, 5.0);
    assert_eq!(r[1].1, 2.0);
    // window is (t - range, t]
    let r = instant(&st, r#"count_over_time({app="api"}[30s])"#, NOW - 10 * S);
    assert_eq!(r[0].1, 3.0);
    let r = instant(&st, r#"sum(count_over_time({env="prod"}[1m]))"#, NOW);
    assert_eq!(r, vec![(json!({}), 7.0)]);
    let r = instant(
        &st,
        r#"sum by (env) (count_over_time({app=~".+"} |= "level" [1m]))"#,
        NOW,
    );
    assert_eq!(
        r,
        vec![(json!({"env": "dev"}), 1.0), (json!({"env": "prod"}), 6.0)]
    );
    let r = instant(&st, r#"sum(rate({env="prod"}[1m])) by (env)"#, NOW);
    assert!((r[0].1 - 7.0 / 60.0).abs() < 1e-12);
    let r = instant(
        &st,
        r#"topk(1, sum by (app) (count_over_time({app=~".+"}[1m])))"#,
        NOW,
    );
    assert_eq!(r, vec![(json!({"app": "api"}), 5.0)]);
    let r = instant(&st, r#"bottomk(1, count_over_time({app=~".+"}[1m]))"#, NOW);
    assert_eq!(r[0].0["app"], "web");
    // extracted labels can be grouped on, once errors are filtered out
    let r = instant(
        &st,
        r#"sum by (level) (count_over_time({app="api"} | json | __error__="" [1m]))"#,
        NOW,
    );
    assert_eq!(
        r,
        vec![
            (json!({"level": "error"}), 2.0),
            (json!({"level": "info"}), 1.0),
            (json!({"level": "warn"}), 1.0)
        ]
    );
    // ... and a series still carrying __error__ fails the query, as in Loki
    let (code, msg) = call(
        &st,
        Endpoint::Query,
        &[
            (
                "query",
                r#"sum by (level) (count_over_time({app="api"} | json [1m]))"#,
            ),
            ("time", &NOW.to_string()),
        ],
    )
    .unwrap_err();
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(msg.starts_with("pipeline error: 'JSONParserErr'"), "{msg}");
}

#[test]
fn metric_range_queries_return_a_matrix() {
    let st = small();
    let start = (NOW - 60 * S).to_string();
    let end = NOW.to_string();
    let v = range(
        &st,
        r#"sum(count_over_time({env="prod"}[20s]))"#,
        &[("start", &start), ("end", &end), ("step", "20s")],
    );
    assert_eq!(v["data"]["resultType"], "matrix");
    let res = v["data"]["result"].as_array().unwrap();
    assert_eq!(res.len(), 1);
    assert_eq!(res[0]["metric"], json!({}));
    // steps at -60 (nothing), -40 {-50,-45,-40}, -20 {-30,-20}, 0 {-15,-10}
    let t = |age: i64| secs_json(NOW - age * S);
    assert_eq!(
        res[0]["values"],
        json!([[t(40), "3"], [t(20), "2"], [t(0), "2"]])
    );
    assert_eq!(t(0), json!(1_700_000_000));
    // step as float seconds, and the default step
    let v = range(
        &st,
        r#"count_over_time({app="web"}[1m])"#,
        &[("start", &start), ("end", &end), ("step", "30")],
    );
    assert_eq!(v["data"]["result"][0]["values"], json!([[t(0), "1"]]));
    range(&st, r#"count_over_time({app="web"}[1m])"#, &[]);
    assert!(
        call(
            &st,
            Endpoint::QueryRange,
            &[
                ("query", r#"count_over_time({app="web"}[1m])"#),
                ("step", "0")
            ]
        )
        .is_err()
    );
}

#[test]
fn instant_log_queries_are_refused() {
    let (code, msg) = call(&small(), Endpoint::Query, &[("query", r#"{app="api"}"#)]).unwrap_err();
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(msg.starts_with("log queries are not supported as an instant query type"));
}

#[test]
fn labels_values_and_series() {
    let st = small();
    assert_eq!(
        call(&st, Endpoint::Labels, &[]).unwrap()["data"],
        json!(["app", "env", "level"])
    );
    assert_eq!(
        call(&st, Endpoint::LabelValues("app".into()), &[]).unwrap()["data"],
        json!(["api", "apiserver", "web"])
    );
    assert_eq!(
        call(
            &st,
            Endpoint::LabelValues("app".into()),
            &[("query", r#"{env="prod"}"#)]
        )
        .unwrap()["data"],
        json!(["api", "apiserver"])
    );
    let v = call(
        &st,
        Endpoint::Series,
        &[("match[]", r#"{app="web"}"#), ("match[]", r#"{app="api"}"#)],
    )
    .unwrap();
    assert_eq!(
        v["data"],
        json!([{"app": "api", "env": "prod"}, {"app": "web", "env": "dev", "level": "info"}])
    );
    assert!(call(&st, Endpoint::Series, &[]).is_err());
    // nothing in the window: empty lists
    let old = (NOW - 100 * HOUR_NS).to_string();
    let older = (NOW - 101 * HOUR_NS).to_string();
    assert_eq!(
        call(&st, Endpoint::Labels, &[("start", &older), ("end", &old)]).unwrap()["data"],
        json!([])
    );
}

// ---------------------------------------------------------------------------------------------
// Fixture

#[test]
fn fixture_constants_match_the_data() {
    let now = NOW;
    let lines = annotated(now);
    let svc_lines = |svc: &'static str| {
        lines
            .iter()
            .filter(move |l| l.2.service == Some(svc))
            .map(|l| &l.2)
    };
    let actual: Vec<ServiceCounts> = SERVICES
        .iter()
        .map(|svc| {
            let last_hour: Vec<_> = svc_lines(svc).filter(|a| a.seconds_ago < 3600.0).collect();
            ServiceCounts {
                service: svc,
                lines_last_hour: last_hour.len(),
                errors_last_hour: last_hour.iter().filter(|a| a.level == Lvl::Error).count(),
                warnings_last_hour: last_hour.iter().filter(|a| a.level == Lvl::Warn).count(),
                lines_total: svc_lines(svc).count(),
            }
        })
        .collect();
    assert_eq!(actual, SERVICE_COUNTS, "{actual:#?}");
    assert_eq!(
        lines.iter().filter(|l| l.2.seconds_ago < 300.0).count(),
        LINES_LAST_5_MIN
    );
    assert_eq!(
        lines.iter().filter(|l| l.2.service.is_none()).count(),
        POSTGRES_LINES
    );
    assert_eq!(
        lines.iter().filter(|l| l.2.seconds_ago > 7200.0).count(),
        LINES_OLDER_THAN_2H
    );
    for l in &lines {
        assert!(
            !QUIET_BOUNDARIES_S
                .iter()
                .any(|b| (l.2.seconds_ago - b).abs() < 30.0),
            "{:?}",
            l.2
        );
        if l.2.line.contains("req-7f3a9") {
            assert!(
                l.2.line.contains(REQUEST_ID) || l.2.line.contains(DECOY_REQUEST_ID),
                "background id collides: {}",
                l.2.line
            );
        }
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.2.line.contains(REQUEST_ID))
            .count(),
        REQUEST_ID_LINES
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.2.line.contains(SESSION_ID))
            .count(),
        SESSION_ID_LINES
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.2.line.contains(OTHER_SESSION_ID))
            .count(),
        OTHER_SESSION_ID_LINES
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.2.line.contains("run_id=42 ")
                || l.2.line.contains("\"workflow_run_id\":42,")
                || l.2.line.contains("\"workflow_run_id\":42}"))
            .count(),
        RUN_ID_LINES
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.2.line.contains("run_id=420"))
            .count(),
        2
    );
    for t in TRACES {
        let found: Vec<_> = lines
            .iter()
            .filter(|l| {
                l.2.seconds_ago == t.seconds_ago
                    && l.2.service == Some(t.service)
                    && l.1 == "stderr"
            })
            .collect();
        assert_eq!(found.len(), 1, "{t:?}");
        let line = &found[0].2.line;
        assert!(line.starts_with(t.first_line), "{t:?}");
        assert_eq!(line.lines().count(), t.lines, "{t:?}");
        assert_eq!(found[0].2.level, Lvl::Error);
    }
    let patterns = [
        r"failed to load repository \d+: not found",
        r"database query timed out after \d+ms \(conn 0x[0-9a-f]+\)",
        r"error\(db\): connection refused \(attempt \d+\)",
        r"SSR fetch failed for session [0-9a-f-]{36}: status 502",
        r"task \d+ failed: exit code 137",
        r#"tool call \\"[^"\\]+\\" failed: file \\"[^"\\]+\\" not found"#,
    ];
    for ((svc, _, last_hour, total), pat) in ERROR_GROUPS.into_iter().zip(patterns) {
        let re = regex::Regex::new(pat).unwrap();
        let hits: Vec<_> = svc_lines(svc).filter(|a| re.is_match(&a.line)).collect();
        assert_eq!(hits.len(), total, "{pat}");
        assert_eq!(
            hits.iter().filter(|a| a.seconds_ago < 3600.0).count(),
            last_hour,
            "{pat}"
        );
        assert!(hits.iter().all(|a| a.level == Lvl::Error));
    }
    let total: usize = plue_fixture(now).iter().map(|s| s.entries.len()).sum();
    assert_eq!(
        total,
        SERVICE_COUNTS.iter().map(|c| c.lines_total).sum::<usize>() + POSTGRES_LINES
    );
}

fn fixture_range(query: &str, extra: &[(&str, &str)]) -> Value {
    range(&plue_fixture(NOW), query, extra)
}

#[test]
fn fixture_request_id_trace() {
    let v = fixture_range(
        &format!(r#"{{job="containerlogs"}} |= "{REQUEST_ID}""#),
        &[("direction", "forward")],
    );
    let mut e = entries(&v);
    assert_eq!(e.len(), REQUEST_ID_LINES);
    e.sort_by_key(|x| x.0);
    let mut services: Vec<String> = Vec::new();
    for x in &e {
        let s = x.2["service"].as_str().unwrap().to_string();
        if !services.contains(&s) {
            services.push(s);
        }
    }
    assert_eq!(services, REQUEST_ID_SERVICES);
}

#[test]
fn fixture_slow_requests() {
    let v = fixture_range(
        r#"{job="containerlogs"} | json | duration_ms >= 499 | __error__="""#,
        &[],
    );
    let mut got: Vec<(String, i64)> = entries(&v)
        .iter()
        .map(|e| {
            (
                e.2["service"].as_str().unwrap().to_string(),
                e.2["duration_ms"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    got.sort_by_key(|g| g.1);
    let want: Vec<(String, i64)> = SLOW_JSON_LAST_HOUR
        .iter()
        .map(|(s, d)| (s.to_string(), *d))
        .collect();
    assert_eq!(got, want);
    // without __error__="" the unparsable lines come through
    let v = fixture_range(
        r#"{job="containerlogs"} | json | duration_ms > 500"#,
        &[("limit", "5000")],
    );
    let e = entries(&v);
    assert!(e.iter().any(|x| x.2["__error__"] == "LabelFilterErr"));
    assert!(e.iter().any(|x| x.2["__error__"] == "JSONParserErr"));
    // routine durations stay below the max
    let v = fixture_range(
        &format!(
            r#"{{job="containerlogs"}} | json | duration_ms > {MAX_ROUTINE_DURATION_MS} | duration_ms < 499 | __error__="""#
        ),
        &[],
    );
    assert_eq!(entries(&v).len(), 0);
    let v = fixture_range(
        r#"{service="runner"} | logfmt | duration_ms > 310 | __error__="""#,
        &[],
    );
    let mut got: Vec<i64> = entries(&v)
        .iter()
        .map(|e| e.2["duration_ms"].as_str().unwrap().parse().unwrap())
        .collect();
    got.sort();
    assert_eq!(
        got,
        SLOW_LOGFMT_LAST_HOUR
            .iter()
            .map(|x| x.1)
            .collect::<Vec<_>>()
    );
    let v = fixture_range(
        r#"{service="api"} | json | duration_ms > 5000 | __error__="""#,
        &[("since", "2h")],
    );
    assert_eq!(entries(&v).len(), 1);
    assert_eq!(entries(&v)[0].2["duration_ms"], OLD_SLOW_JSON.1.to_string());
}

#[test]
fn fixture_counts_through_logql() {
    let st = plue_fixture(NOW);
    let r = instant(
        &st,
        r#"sum by (service) (count_over_time({job="containerlogs"}[1h]))"#,
        NOW,
    );
    let mut want: Vec<(Value, f64)> = SERVICE_COUNTS
        .iter()
        .map(|c| (json!({"service": c.service}), c.lines_last_hour as f64))
        .collect();
    want.push((json!({}), POSTGRES_LINES as f64));
    want.sort_by_key(|w| w.0.to_string());
    let mut r = r;
    r.sort_by_key(|w| w.0.to_string());
    assert_eq!(r, want);
    // a strict logfmt parse marks the malformed runner line
    let v = range(
        &st,
        r#"{service="runner", stream="stdout"} | logfmt --strict | __error__!="""#,
        &[],
    );
    assert_eq!(entries(&v).len(), 1);
    let v = range(
        &st,
        r#"{service="runner", stream="stdout"} | logfmt | __error__!="""#,
        &[],
    );
    assert_eq!(entries(&v).len(), 0);
    // the session and run lines
    let v = range(
        &st,
        &format!(r#"{{service="agent"}} | json | session_id="{SESSION_ID}""#),
        &[],
    );
    assert_eq!(entries(&v).len(), SESSION_ID_LINES);
    let v = range(&st, r#"{service="runner"} | logfmt | run_id="42""#, &[]);
    assert_eq!(entries(&v).len(), 4);
    let v = range(&st, r#"{service="runner"} |= "run_id=42""#, &[]);
    assert_eq!(entries(&v).len(), 6, "substring also matches run 420");
    let v = range(&st, r#"{service="api"} | json | workflow_run_id=42"#, &[]);
    assert_eq!(
        entries(&v)
            .iter()
            .filter(|e| e.2.get("__error__").is_none())
            .count(),
        1
    );
    // tail
    let v = range(&st, r#"{job="containerlogs"}"#, &[("since", "5m")]);
    assert_eq!(entries(&v).len(), LINES_LAST_5_MIN);
    // whole traces are single entries
    let v = range(
        &st,
        r#"{job="containerlogs"} |= "Traceback (most recent call last):""#,
        &[("since", "6h")],
    );
    assert_eq!(entries(&v).len(), 3);
    assert!(entries(&v).iter().all(|e| e.1.lines().count() >= 5));
}

// ---------------------------------------------------------------------------------------------
// HTTP

#[tokio::test]
async fn http_api_end_to_end() {
    let now = now_ns();
    let server = LokiServer::start(plue_fixture(now)).await.unwrap();
    let url = server.url();
    let http = reqwest::Client::new();

    let r = http.get(format!("{url}/ready")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let r = http
        .get(format!("{url}/loki/api/v1/query_range"))
        .query(&[
            (
                "query",
                format!(r#"{{job="containerlogs"}} |= "{REQUEST_ID}""#),
            ),
            ("limit", "50".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["resultType"], "streams");
    let n: usize = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["values"].as_array().unwrap().len())
        .sum();
    assert_eq!(n, REQUEST_ID_LINES);

    // POST form, metric query
    let r = http
        .post(format!("{url}/loki/api/v1/query"))
        .form(&[(
            "query",
            r#"sum by (service) (count_over_time({job="containerlogs"} |~ "(?i)error" [1h]))"#,
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["resultType"], "vector");
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 5);

    // the original server's queries: `\.` in a double-quoted string, end=NaN
    let r = http
        .get(format!("{url}/loki/api/v1/query_range"))
        .query(&[
            ("query", r#"{service=~".+"} |~ "(panic|error\.)""#),
            ("end", "NaN"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .get(format!("{url}/loki/api/v1/query_range"))
        .query(&[("query", r#"{service=~".+"} |~ "(panic|error\.)""#)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        r.text()
            .await
            .unwrap()
            .starts_with("parse error at line 1, col 33: invalid char escape")
    );

    let v: Value = http
        .get(format!("{url}/loki/api/v1/label/service/values"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"], json!(["agent", "api", "runner", "web"]));
    let v: Value = http
        .get(format!("{url}/loki/api/v1/labels"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"], json!(["container", "job", "service", "stream"]));
    let v: Value = http
        .get(format!("{url}/loki/api/v1/series"))
        .query(&[("match[]", r#"{service="api"}"#)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);

    // push new lines while running
    server.push(Stream::new(
        [
            ("job", "containerlogs"),
            ("service", "api"),
            ("container", "plue-api-1"),
            ("stream", "stdout"),
        ],
        vec![(now_ns(), "fresh line".into())],
    ));
    let r = http
        .get(format!("{url}/loki/api/v1/query_range"))
        .query(&[
            ("query", r#"{service="api"} |= "fresh""#),
            ("end", &(now_ns() + S).to_string()),
        ])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["result"][0]["values"][0][1], "fresh line");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 8, "/ready is not recorded");
    assert_eq!(reqs[0].path, "/loki/api/v1/query_range");
    assert_eq!(reqs[0].param("limit"), Some("50"));
    assert_eq!(reqs[1].method, "POST");
    assert!(reqs[1].query().unwrap().starts_with("sum by (service)"));
    assert_eq!(reqs[3].status, 400);
    assert!(
        reqs[3]
            .error
            .as_deref()
            .unwrap()
            .contains("invalid char escape")
    );
    assert_eq!(server.queries().len(), 5);

    let r = http
        .get(format!("{url}/loki/api/v1/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    drop(server);
    let fresh = reqwest::Client::new();
    assert!(
        fresh.get(format!("{url}/ready")).send().await.is_err(),
        "server still answering after drop"
    );
}
