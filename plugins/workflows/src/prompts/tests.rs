//! The prompts rendered from fake database rows: each expected value is read
//! off the rows served.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::testing;

use crate::tools::testing::serve;

const NOW: &str = "2026-01-02T10:25:00";

fn run6() -> Json {
    json!({"id": 6, "definition_id": 1, "workflow": "ci", "file_path": ".plue/workflows/ci.py", "repository": "alice/plue",
           "trigger_type": "push", "trigger_payload": {"ref": "refs/heads/main"},
           "status": "failed", "created_at": "2026-01-02T10:00:00", "started_at": "2026-01-02T10:00:03",
           "completed_at": "2026-01-02T10:01:28", "duration_s": 85.0, "now_utc": NOW})
}

const STDERR: &str = " FAIL  src/diff/parse.test.ts > parseHunk\nTypeError: Cannot read properties of undefined (reading 'oldPath')\n    at parseHunk (src/diff/parse.ts:44:17)";

fn steps() -> Vec<Json> {
    vec![
        json!({"id": 16, "run_id": 6, "plan_id": "step_1", "name": "install", "step_type": "shell", "status": "completed",
               "started_at": "2026-01-02T10:00:03", "duration_s": 20.0, "exit_code": 0, "log_rows": 2}),
        json!({"id": 18, "run_id": 6, "plan_id": "step_3", "name": "test", "step_type": "shell", "status": "failed",
               "started_at": "2026-01-02T10:00:23", "duration_s": 27.0, "exit_code": 1, "error_message": STDERR, "log_rows": 5}),
    ]
}

fn serve_run6() {
    serve(vec![
        ("WHERE r.id = $1::bigint", vec![run6()]),
        ("FROM workflow_steps s\n  LEFT JOIN LATERAL", steps()),
        (
            "row_number() OVER (PARTITION BY l.step_id, l.log_type",
            vec![
                json!({"step_id": 18, "log_type": "stdout", "content": "> vitest run", "sequence": 0, "row_index": 0}),
                json!({"step_id": 18, "log_type": "stderr", "content": STDERR, "sequence": 1, "row_index": 1}),
            ],
        ),
        ("interval '7 days'", vec![]),
        (
            "r.status = 'completed' AND r.id <>",
            vec![json!({"id": 5, "created_at": "2026-01-02T09:45:00"})],
        ),
    ]);
}

#[test]
fn debug_one_run_names_step_error_lines_and_next_tools() {
    serve_run6();
    let b = testing::prompt(&crate::plugin(), "debug-workflows", &[("run_id", "6")]).unwrap();
    let text = b.texts().join("\n");
    assert!(
        text.starts_with(
            "## Workflows (database)\nRun #6 ci (alice/plue): FAILED · push · took 1m 25s"
        ),
        "{text}"
    );
    assert!(
        text.contains("Cause: step 'test' (#18, shell, exit 1) failed: TypeError: Cannot read properties of undefined (reading 'oldPath')"),
        "{text}"
    );
    assert!(
        text.contains("Steps: 2 (1 with an error): #16 install completed, #18 test failed"),
        "{text}"
    );
    assert!(
        text.contains("Failed step: 'test' (#18, shell, exit 1), 5 log rows"),
        "{text}"
    );
    assert!(
        text.contains("  [stderr]     at parseHunk (src/diff/parse.ts:44:17)"),
        "{text}"
    );
    assert!(text.contains("Last success before it: run #5"), "{text}");
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("Next tools: get_step_logs(step_id=18, log_type=\"stderr\"); compare_runs(run_id_a=5, run_id_b=6)"), "{last}");
    assert!(text.lines().count() <= 30, "{text}");
    assert_eq!(b.resource_uris(), ["plue://runs/6", "plue://steps/18/logs"]);
}

#[test]
fn debug_a_running_run_shows_its_running_step() {
    let mut run = run6();
    run["status"] = json!("running");
    run["completed_at"] = json!(null);
    run["duration_s"] = json!(1500.0);
    serve(vec![
        ("WHERE r.id = $1::bigint", vec![run]),
        (
            "FROM workflow_steps s\n  LEFT JOIN LATERAL",
            vec![
                json!({"id": 19, "run_id": 6, "plan_id": "step_4", "name": "e2e", "step_type": "shell", "status": "running",
                        "started_at": "2026-01-02T10:00:30", "duration_s": 1470.0, "log_rows": 1}),
            ],
        ),
        (
            "row_number() OVER (PARTITION BY l.step_id, l.log_type",
            vec![
                json!({"step_id": 19, "log_type": "stdout", "content": "waiting for browser", "sequence": 0, "row_index": 0,
                        "created_at": "2026-01-02T10:24:00"}),
            ],
        ),
    ]);
    let b = testing::prompt(&crate::plugin(), "debug-workflows", &[("run_id", "6")]).unwrap();
    let text = b.texts().join("\n");
    assert!(text.contains("Run #6 ci (alice/plue): RUNNING"), "{text}");
    assert!(
        text.contains("Running step: 'e2e' (#19, shell), 1 log rows"),
        "{text}"
    );
    assert!(text.contains("  [stdout] waiting for browser"), "{text}");
    assert!(!text.contains("Failed step"), "{text}");
}

#[test]
fn debug_refuses_bad_and_unknown_runs() {
    let e = testing::prompt(&crate::plugin(), "debug-workflows", &[("run_id", "six")]).unwrap_err();
    assert!(
        e.to_string()
            .contains("`run_id` must be a positive whole number such as 13, got `six`"),
        "{e}"
    );
    serve(vec![("WHERE r.id = $1::bigint", vec![])]);
    let e = testing::prompt(&crate::plugin(), "debug-workflows", &[("run_id", "99")]).unwrap_err();
    assert!(
        e.to_string()
            .contains("no workflow run #99 exists; list_workflow_runs"),
        "{e}"
    );
    for bad in ["0", "21", "many"] {
        let e =
            testing::prompt(&crate::plugin(), "debug-workflows", &[("recent", bad)]).unwrap_err();
        assert!(
            e.to_string()
                .contains("`recent` must be a count of failed runs from 1 to 20 (or `true`)"),
            "{e}"
        );
    }
}

fn failed(id: i64, step_id: i64, step: &str, error: &str, at: &str) -> Json {
    json!({"id": id, "definition_id": 1, "workflow": "ci", "created_at": at, "completed_at": at,
           "failed_step_id": step_id, "failed_step": step, "step_type": "shell", "step_error": error,
           "exit_code": 1, "now_utc": NOW})
}

#[test]
fn debug_recent_ranks_newest_failures_and_marks_repeats() {
    let log = testing::sql_routes(
        crate::queries::DB,
        vec![(
            "LIMIT $4::bigint",
            Ok(testing::json_rows(&[
                failed(
                    9,
                    30,
                    "test",
                    "TypeError: boom after 31 ms",
                    "2026-01-02T10:20:00",
                ),
                failed(8, 27, "lint", "eslint: 3 problems", "2026-01-02T09:25:00"),
                failed(
                    7,
                    24,
                    "test",
                    "TypeError: boom after 47 ms",
                    "2026-01-02T08:25:00",
                ),
            ])),
        )],
    );
    let b = testing::prompt(&crate::plugin(), "debug-workflows", &[("recent", "3")]).unwrap();
    let text = b.texts().join("\n");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[1],
        "The 3 newest failed runs, newest first (times UTC):"
    );
    assert_eq!(
        lines[2],
        "1. #9 ci, 5m ago [step #30]: step 'test' (exit 1): TypeError: boom after 31 ms"
    );
    assert_eq!(
        lines[3],
        "2. #8 ci, 1h ago [step #27]: step 'lint' (exit 1): eslint: 3 problems"
    );
    assert_eq!(
        lines[4],
        "3. #7 ci, 2h ago [step #24]: step 'test' (exit 1): TypeError: boom after 47 ms (same failure as #9)"
    );
    assert_eq!(lines[5], "2 distinct failure(s) among 3 runs.");
    assert!(
        lines[6].starts_with(
            "Next tools: quick_debug(run_id=9) for the newest; get_step_logs(step_id=30"
        ),
        "{text}"
    );
    assert_eq!(
        b.resource_uris(),
        ["plue://runs/9", "plue://runs/8", "plue://runs/7"]
    );
    // The count asked for is the LIMIT sent.
    assert_eq!(log.borrow()[0].1[3].as_i64(), Some(3));
}

#[test]
fn debug_without_a_count_asks_for_five() {
    for args in [&[][..], &[("recent", "true")][..]] {
        let log = testing::sql_routes(
            crate::queries::DB,
            vec![("LIMIT $4::bigint", Ok(testing::json_rows(&[])))],
        );
        let b = testing::prompt(&crate::plugin(), "debug-workflows", args).unwrap();
        assert!(b.texts()[0].contains("No failed workflow runs in the last year."));
        assert_eq!(log.borrow()[0].1[3].as_i64(), Some(5), "{args:?}");
    }
}

#[test]
fn health_is_unhealthy_when_work_waits_without_runners() {
    // 3 completed of 3 finished (100%), but run #11 has waited 20 min and no runner is available.
    serve(vec![
        (
            "AS llm_calls",
            vec![
                json!({"total": 4, "completed": 3, "failed": 0, "running": 0, "pending": 1, "cancelled": 0,
            "definitions": 1, "llm_calls": 0, "llm_tokens_in": 0, "llm_tokens_out": 0, "now_utc": NOW}),
            ],
        ),
        ("LIMIT $4::bigint", vec![]),
        (
            "r.status IN ('pending', 'running')",
            vec![
                json!({"id": 11, "definition_id": 1, "workflow": "ci", "status": "pending",
            "trigger_type": "push", "created_at": "2026-01-02T10:05:00", "age_s": 1200.0, "queued_s": 1200.0, "total": 1, "now_utc": NOW}),
            ],
        ),
        (
            "ORDER BY CASE p.status",
            vec![
                json!({"id": 2, "pod_name": "runner-b", "status": "claimed", "heartbeat_age_s": 3.0, "now_utc": NOW}),
            ],
        ),
        ("to_regclass", vec![json!({"present": false})]),
    ]);
    let b = testing::prompt(&crate::plugin(), "health-check", &[]).unwrap();
    let line = b.texts()[0].lines().nth(1).unwrap().to_string();
    assert_eq!(
        line,
        "Workflows: UNHEALTHY (1 waiting and no runner available; work waiting 20m) — success 100% over 24 h (0 failed of 3 finished); 1 waiting; runners 0 available, 0 stale"
    );
}

/// A day with 7 completed and 3 failed runs, one run running for 2 h, and
/// two runners of which one has a stale heartbeat.
fn serve_day() {
    serve(vec![
        (
            "AS llm_calls",
            vec![
                json!({"total": 11, "completed": 7, "failed": 3, "running": 1, "pending": 0, "cancelled": 0,
            "avg_duration_s": 60.0, "definitions": 4, "llm_calls": 12, "llm_tokens_in": 34000, "llm_tokens_out": 1200,
            "llm_avg_latency_ms": 1500.0, "now_utc": NOW}),
            ],
        ),
        (
            "LIMIT $4::bigint",
            vec![
                failed(9, 30, "test", "TypeError: boom", "2026-01-02T10:20:00"),
                failed(8, 27, "lint", "eslint: 3 problems", "2026-01-02T09:25:00"),
                failed(7, 24, "test", "TypeError: boom", "2026-01-02T08:25:00"),
            ],
        ),
        (
            "r.status IN ('pending', 'running')",
            vec![
                json!({"id": 10, "definition_id": 2, "workflow": "deploy", "status": "running",
            "trigger_type": "push", "created_at": "2026-01-02T08:25:00", "started_at": "2026-01-02T08:25:00", "age_s": 7200.0,
            "queued_s": 0.0, "total": 1, "now_utc": NOW}),
            ],
        ),
        (
            "ORDER BY CASE p.status",
            vec![
                json!({"id": 1, "pod_name": "runner-a", "status": "available", "heartbeat_age_s": 5.0, "now_utc": NOW}),
                json!({"id": 2, "pod_name": "runner-b", "status": "claimed", "heartbeat_age_s": 120.0, "now_utc": NOW}),
            ],
        ),
        ("to_regclass", vec![json!({"present": false})]),
        (
            "WITH runs AS",
            vec![
                json!({"definition_id": 2, "workflow": "deploy", "total": 3, "completed": 3, "failed": 0, "running": 0, "pending": 0, "cancelled": 0,
                   "p95_s": 30.0, "now_utc": NOW}),
                json!({"definition_id": 1, "workflow": "ci", "total": 8, "completed": 4, "failed": 3, "running": 1, "pending": 0, "cancelled": 0,
                   "p95_s": 95.0, "now_utc": NOW}),
            ],
        ),
    ]);
}

#[test]
fn health_check_quick_is_one_verdict_line() {
    serve_day();
    let b = testing::prompt(&crate::plugin(), "health-check", &[("quick", "true")]).unwrap();
    let text = b.texts().join("\n");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "## Workflows (database)");
    // 7 of 10 finished completed: 70% is below 90% (degraded) but not 50%.
    assert_eq!(
        lines[1],
        "Workflows: DEGRADED (success rate 70% over 24 h; 1 runner(s) with a stale heartbeat; 1 run(s) running over 1 h) — success 70% over 24 h (3 failed of 10 finished); 0 waiting; runners 1 available, 1 stale"
    );
    assert_eq!(
        lines[2],
        "Next tools: quick_debug(run_id=9); analyze_failures(hours=24); get_pending_tasks(); get_runner_pool(); system_overview(hours=24)"
    );
    assert_eq!(b.description(), Some("Workflows: DEGRADED"));
}

#[test]
fn health_check_full_shows_the_evidence() {
    serve_day();
    let b = testing::prompt(&crate::plugin(), "health-check", &[("full", "yes")]).unwrap();
    let text = b.texts().join("\n");
    assert!(text.contains("Last 24 h: 11 runs — 7 completed, 3 failed, 1 running, 0 pending, 0 cancelled; success rate 70% (7 of 10 finished runs completed)"), "{text}");
    assert!(
        text.contains("  - run #10 deploy: running for 2h"),
        "{text}"
    );
    assert!(
        text.contains("  - #9 ci: step 'test' (exit 1): TypeError: boom"),
        "{text}"
    );
    assert!(
        text.contains(
            "Runners: 1 available, 1 claimed, 0 terminated; 1 with a stale heartbeat (> 30 s)"
        ),
        "{text}"
    );
    assert!(
        text.contains("Waiting work (workflow_runs): 1 in all — 0 waiting, 1 running"),
        "{text}"
    );
}

#[test]
fn observability_grows_with_full() {
    serve_day();
    let quick = testing::prompt(&crate::plugin(), "observability", &[]).unwrap();
    let q = quick.texts().join("\n");
    assert!(
        q.starts_with("## Workflows (database)\nLast 24 h: 11 runs"),
        "{q}"
    );
    assert!(q.contains("Newest failures (3 shown of 3):"), "{q}");
    assert!(!q.contains("Per workflow"), "{q}");
    assert_eq!(quick.resource_uris(), ["plue://runs/9"]);
    serve_day();
    let full = testing::prompt(&crate::plugin(), "observability", &[("full", "true")]).unwrap();
    let f = full.texts().join("\n");
    assert!(
        f.contains("LLM/agent calls: 12, 34,000 in / 1,200 out tokens, mean latency 1.5 s"),
        "{f}"
    );
    // ci has the failures, so it ranks first.
    assert!(f.contains("Per workflow (most failures first, 2 of 2):\n  - ci: 8 runs, 3 failed, success 57.1%, p95 1m 35s\n  - deploy: 3 runs, 0 failed, success 100%"), "{f}");
    assert!(f.lines().count() <= 25, "{f}");
}

#[test]
fn guide_has_live_numbers_and_the_tree() {
    serve_day();
    let b = testing::prompt(&crate::plugin(), "workflow-debugging-guide", &[]).unwrap();
    let text = b.texts().join("\n");
    assert!(text.contains("Now (last 24 h): 11 runs, 3 failed, success rate 70%; 1 need attention; newest failure run #9; runners 1 available, 1 stale."), "{text}");
    assert!(text.contains("quick_debug(latest=true)"), "{text}");
    // Every tool the guide names is one of the plugin's.
    let p = crate::plugin();
    let names: Vec<&str> = p.tools().iter().map(|t| t.name()).collect();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.contains('_') && text.contains(&format!("{word}(")) {
            assert!(names.contains(&word), "the guide names unknown tool {word}");
        }
    }
}

#[test]
fn guide_renders_without_the_database() {
    testing::sql_routes(
        crate::queries::DB,
        vec![(
            "AS llm_calls",
            Err(plue_plugin_sdk::sql::SqlError::Unavailable(
                "no database".into(),
            )),
        )],
    );
    let b = testing::prompt(&crate::plugin(), "workflow-debugging-guide", &[]).unwrap();
    assert!(
        b.texts()[0].contains("Now: live numbers unavailable (reading run counts"),
        "{}",
        b.texts()[0]
    );
}
