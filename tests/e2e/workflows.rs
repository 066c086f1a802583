//! End-to-end tests of the workflows tool group: `plue-mcp serve` over MCP against a real
//! PostgreSQL loaded with Plue's schema and data (`plue_tests::postgres`; the facts asserted
//! here are listed at the top of `tests/fixtures/plue/data.sql`), as the least-privilege role
//! `plue_reader`. Every one of the thirteen tools answers from the real schema, including
//! empty windows and unknown ids; quick_debug names the cause of a failed run on one screen.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use plue_tests::check::{Cases, find, has, int, num};
use plue_tests::declared;
use plue_tests::mcp::Host;
use plue_tests::postgres::PgServer;
use serde_json::{Value, json};

const TYPE_ERROR: &str = "TypeError: Cannot read properties of undefined (reading 'oldPath')";

fn config(url: &str) -> String {
    format!("[databases.plue]\nurl = \"{url}\"\n\n[plugins.workflows]\nsql = [\"plue\"]\n")
}

async fn start() -> Result<(PgServer, Host)> {
    plue_tests::postgres::with_host(Path::new(env!("CARGO_BIN_EXE_plue-mcp")), config).await
}

/// `tools/call` that must succeed with structured content and no broken number
/// (`NaN`, a negative duration): (text, structured).
async fn ok(host: &Host, tool: &str, args: Value) -> Result<(String, Value)> {
    host.answer(
        tool,
        args,
        &["NaN", "undefined ms", "inf s", "running for -"],
    )
    .await
}

/// `tools/call` that must fail with `isError`, with a message containing `needle`.
async fn err(host: &Host, tool: &str, args: Value, needle: &str) -> Result<()> {
    let text = host.call_err(tool, args.clone()).await?;
    ensure!(
        text.contains(needle),
        "{tool} {args}: error without `{needle}`:\n{text}"
    );
    Ok(())
}

/// Run 10 started 2 s after it was created 7 h before the data was loaded.
fn seven_hours(what: &str, text: &str, prefix: &str) -> Result<()> {
    ensure!(
        text.contains(&format!("{prefix}6h 59m")) || text.contains(&format!("{prefix}7h")),
        "{what}: `{prefix}6h 59m` or `{prefix}7h` missing from:\n{text}"
    );
    Ok(())
}

fn ids(v: &Value, pointer: &str, key: &str) -> Result<Vec<i64>> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|i| i[key].as_i64()).collect())
        .with_context(|| format!("{pointer} is not an array in {v}"))
}

fn close(what: &str, got: f64, want: f64) -> Result<()> {
    ensure!((got - want).abs() < 0.01, "{what}: got {got}, want {want}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_debugging_tools_name_the_cause() -> Result<()> {
    let (_pg, host) = start().await?;
    let declared = declared::bundled(super::example::binary(), "workflows")?;
    let tools = host.list_tools().await?;
    declared::listed_as_declared(&tools, &declared)?;
    declared::with_output_schemas(&tools)?;
    declared::every_tool_is(&declared, "read_only")?;

    let mut cases = Cases::new();

    cases
        .check("quick_debug without arguments: the newest failed run, 6 (ci), one screen, the cause named", async {
            let (text, s) = ok(&host, "quick_debug", json!({})).await?;
            ensure!(int(&s, "/run/id")? == 6, "quick_debug target: {s}");
            ensure!(s["selected_by"] == "latest failed run", "{s}");
            let cause = s["cause"].as_str().unwrap_or_default();
            ensure!(
                cause.contains("step 'test' (#18, shell, exit 1)") && cause.contains(TYPE_ERROR),
                "cause: {cause}"
            );
            has(
                "quick_debug",
                &text,
                &[
                    "run #6 ci (alice/plue) is FAILED",
                    "[stderr] TypeError: Cannot read properties",
                    "[stderr]     at parseHunk (src/diff/parse.ts:44:17)",
                    "Tests  1 failed | 1003 passed",
                    "UTC",
                    "compare_runs(run_id_a=5, run_id_b=6)",
                    "get_step_logs(step_id=18, log_type=\"stderr\")",
                ],
            )?;
            ensure!(
                !text.contains("module_001"),
                "quick_debug shows passing tests:\n{text}"
            );
            ensure!(
                text.lines().count() <= 50,
                "quick_debug is {} lines:\n{text}",
                text.lines().count()
            );
            let four = find(&s, "/similar_failures", "run_id", &json!(4))?;
            ensure!(
                four["same_step"] == true && four["same_error"] == true,
                "run 4: {four}"
            );
            let two = find(&s, "/similar_failures", "run_id", &json!(2))?;
            ensure!(
                two["same_step"] == true && two["same_error"] == false,
                "run 2: {two}"
            );
            ensure!(int(&s, "/last_success/run_id")? == 5, "last success: {s}");
            ensure!(
                ids(&s, "/similar_failures", "run_id")?[0] == 4,
                "most similar first: {s}"
            );
            anyhow::Ok(())
        })
        .await;

    cases
        .check(
            "An explicit run_id wins over latest: the agent that ran out of turns",
            async {
                let (text, s) =
                    ok(&host, "quick_debug", json!({"run_id": 8, "latest": true})).await?;
                ensure!(int(&s, "/run/id")? == 8, "explicit run_id must win: {s}");
                let cause = s["cause"].as_str().unwrap_or_default();
                has(
                    "quick_debug 8 cause",
                    cause,
                    &[
                        "AgentMaxTurnsExceeded",
                        "max turns (10) exceeded",
                        "pnpm: command not found",
                    ],
                )?;
                has(
                    "quick_debug 8",
                    &text,
                    &[
                        "×10",
                        "comment",
                        "dependency failed",
                        "latest=true was not used",
                    ],
                )?;
                ensure!(
                    text.lines().count() <= 50,
                    "quick_debug 8 is too long:\n{text}"
                );
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "A run that failed before any step: the run's error, all of it that matters",
            async {
                let (text, s) = ok(&host, "quick_debug", json!({"run_id": 18})).await?;
                has(
                    "quick_debug 18",
                    s["cause"].as_str().unwrap_or_default(),
                    &["ContainerStartFailed", "before any step ran"],
                )?;
                has(
                    "quick_debug 18",
                    &text,
                    &[
                        "429 Too Many Requests",
                        "terraform-plan (alice/secret-infra)",
                    ],
                )?;
                // A run whose definition was deleted.
                let (text, s) = ok(&host, "quick_debug", json!({"run_id": 16})).await?;
                ensure!(s["run"]["workflow"].is_null(), "{s}");
                has(
                    "quick_debug 16",
                    &text,
                    &["(definition deleted)", "WorkflowDefinitionNotFound"],
                )?;
                // A run stuck running for hours, on a runner whose heartbeat is stale.
                let (text, s) = ok(&host, "quick_debug", json!({"run_id": 10})).await?;
                has(
                    "quick_debug 10",
                    s["cause"].as_str().unwrap_or_default(),
                    &[
                        "step 'backup' (#28)",
                        "plue-runner-6d2e1-e5",
                        "stale",
                        "looks stuck",
                    ],
                )?;
                seven_hours(
                    "quick_debug 10",
                    s["cause"].as_str().unwrap_or_default(),
                    "still running, for ",
                )?;
                has(
                    "quick_debug 10",
                    &text,
                    &["Connection timed out", "get_runner_pool()"],
                )?;
                // A pending run and a successful one.
                let (_, s) = ok(&host, "quick_debug", json!({"run_id": 13})).await?;
                has(
                    "quick_debug 13",
                    s["cause"].as_str().unwrap_or_default(),
                    &["not started: waiting for a runner for 1"],
                )?;
                let (_, s) = ok(&host, "quick_debug", json!({"run_id": 5})).await?;
                has(
                    "quick_debug 5",
                    s["cause"].as_str().unwrap_or_default(),
                    &["completed successfully"],
                )?;
                err(
                    &host,
                    "quick_debug",
                    json!({"run_id": 999}),
                    "no workflow run #999",
                )
                .await?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "compare_runs: the last success against the failure, step by step",
            async {
                let (text, s) =
                    ok(&host, "compare_runs", json!({"run_id_a": 5, "run_id_b": 6})).await?;
                ensure!(s["newly_failing"] == json!(["test"]), "{s}");
                ensure!(s["same_workflow"] == true, "{s}");
                let test = find(&s, "/steps", "name", &json!("test"))?;
                ensure!(
                    int(test, "/a/exit_code")? == 0 && int(test, "/b/exit_code")? == 1,
                    "{test}"
                );
                close("test A duration", num(test, "/a/duration_seconds")?, 44.0)?;
                close("test B duration", num(test, "/b/duration_seconds")?, 29.0)?;
                ensure!(test["b"]["first_error"] == TYPE_ERROR, "{test}");
                ensure!(s["steps"].as_array().map(Vec::len) == Some(3), "{s}");
                has(
                    "compare 5/6",
                    &text,
                    &[
                        "B fails where A passed: 'test' newly fails",
                        "status: completed → failed",
                        TYPE_ERROR,
                    ],
                )?;
                let (_, s) =
                    ok(&host, "compare_runs", json!({"run_id_a": 6, "run_id_b": 5})).await?;
                ensure!(
                    s["fixed"] == json!(["test"]) && s["newly_failing"] == json!([]),
                    "{s}"
                );
                let (_, s) =
                    ok(&host, "compare_runs", json!({"run_id_a": 7, "run_id_b": 8})).await?;
                ensure!(s["newly_failing"] == json!(["review", "comment"]), "{s}");
                let (_, s) = ok(
                    &host,
                    "compare_runs",
                    json!({"run_id_a": 5, "run_id_b": 18}),
                )
                .await?;
                ensure!(s["same_workflow"] == false, "{s}");
                err(
                    &host,
                    "compare_runs",
                    json!({"run_id_a": 5, "run_id_b": 999}),
                    "run B #999 missing",
                )
                .await?;
                err(
                    &host,
                    "compare_runs",
                    json!({"run_id_a": 5, "run_id_b": 5}),
                    "two different runs",
                )
                .await?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "get_run_details: steps with exit codes, runners, deleted definitions",
            async {
                let (text, s) = ok(&host, "get_run_details", json!({"run_id": 6})).await?;
                ensure!(ids(&s, "/steps", "id")? == [16, 17, 18], "{s}");
                ensure!(
                    find(&s, "/steps", "id", &json!(18))?["error"] == TYPE_ERROR,
                    "{s}"
                );
                has(
                    "details 6",
                    &text,
                    &[
                        "Run #6 ci (alice/plue): FAILED",
                        "refs/heads/main",
                        "UTC",
                        "exit 1",
                        "quick_debug(run_id=6)",
                    ],
                )?;
                let (text, s) = ok(&host, "get_run_details", json!({"run_id": 10})).await?;
                ensure!(
                    find(&s, "/steps", "id", &json!(28))?["runner"] == "plue-runner-6d2e1-e5",
                    "{s}"
                );
                seven_hours("details 10", &text, "running for ")?;
                let (text, s) = ok(&host, "get_run_details", json!({"run_id": 7})).await?;
                ensure!(
                    int(find(&s, "/steps", "id", &json!(20))?, "/tokens_in")? == 18234,
                    "{s}"
                );
                has(
                    "details 7",
                    &text,
                    &[
                        "4 turns, 18,234 in / 1,450 out tokens",
                        "\"verdict\":\"approve\"",
                    ],
                )?;
                let (text, s) = ok(&host, "get_run_details", json!({"run_id": 16})).await?;
                ensure!(
                    s["run"]["workflow"].is_null() && s["steps"] == json!([]),
                    "{s}"
                );
                has(
                    "details 16",
                    &text,
                    &["(definition deleted)", "WorkflowDefinitionNotFound"],
                )?;
                err(
                    &host,
                    "get_run_details",
                    json!({"run_id": 999}),
                    "no workflow run #999",
                )
                .await?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "get_step_logs: bounded, paged, typed; tokens joined; tool JSON compact",
            async {
                let (text, s) = ok(&host, "get_step_logs", json!({"step_id": 18})).await?;
                ensure!(
                    int(&s, "/total_rows")? == 258 && int(&s, "/matching_rows")? == 258,
                    "{s}"
                );
                ensure!(text.len() < 16_000, "get_step_logs is {} bytes", text.len());
                let next = int(&s, "/next_offset")?;
                ensure!(next > 0 && next < 258, "next offset: {s}");
                has(
                    "step logs 18",
                    &text,
                    &[
                        &format!("get_step_logs(step_id=18, offset={next})"),
                        "stdout 255, stderr 3",
                    ],
                )?;
                let (text, s) = ok(
                    &host,
                    "get_step_logs",
                    json!({"step_id": 18, "offset": next}),
                )
                .await?;
                ensure!(
                    s["next_offset"].is_null(),
                    "second page should end the log: {s}"
                );
                has(
                    "step logs 18 page 2",
                    &text,
                    &[TYPE_ERROR, "npm error code 1"],
                )?;
                let (text, s) = ok(
                    &host,
                    "get_step_logs",
                    json!({"step_id": 18, "log_type": "stderr"}),
                )
                .await?;
                ensure!(int(&s, "/matching_rows")? == 3, "{s}");
                has(
                    "stderr of 18",
                    &text,
                    &[
                        "at renameFromHeader (src/diff/parse.ts:112:9)",
                        "rows 1–3 of 3 stderr",
                    ],
                )?;
                let (text, s) = ok(
                    &host,
                    "get_step_logs",
                    json!({"step_id": 23, "log_type": "token", "limit": 1000}),
                )
                .await?;
                ensure!(
                    int(&s, "/matching_rows")? == 530
                        && s["lines"].as_array().map(Vec::len) == Some(1),
                    "tokens joined: {s}"
                );
                has(
                    "tokens of 23",
                    &text,
                    &["Turn 1: the failing test", "Turn 10: the failing test"],
                )?;
                let (text, _) = ok(&host, "get_step_logs", json!({"step_id": 20})).await?;
                has(
                    "agent step 20",
                    &text,
                    &[
                        "Verdict: approve with a nit.",
                        "[tool_call] read_file {\"path\":\"src/diff/parse.ts\"}",
                        "[tool_result] grep → ",
                    ],
                )?;
                let (text, _) = ok(&host, "get_step_logs", json!({"step_id": 27})).await?;
                has("pending step 27", &text, &["no log rows"])?;
                let (text, _) = ok(
                    &host,
                    "get_step_logs",
                    json!({"step_id": 18, "offset": 300}),
                )
                .await?;
                has("offset past the end", &text, &["past the end"])?;
                err(
                    &host,
                    "get_step_logs",
                    json!({"step_id": 999}),
                    "no workflow step #999",
                )
                .await?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "get_run_logs: grouped by step, never interleaved, long steps cut with the way back",
            async {
                let (text, s) = ok(&host, "get_run_logs", json!({"run_id": 6})).await?;
                ensure!(
                    text.matches("── #18 test").count() == 1,
                    "step header repeated:\n{text}"
                );
                has(
                    "run logs 6",
                    &text,
                    &[
                        "get_step_logs(step_id=18, offset=",
                        TYPE_ERROR,
                        "── #16 install",
                    ],
                )?;
                ensure!(text.lines().count() < 200, "run logs too long:\n{text}");
                ensure!(ids(&s, "/steps", "step_id")? == [16, 17, 18], "{s}");
                let (text, _) = ok(&host, "get_run_logs", json!({"run_id": 8})).await?;
                has(
                    "run logs 8",
                    &text,
                    &[
                        "[tool_result] run_command → error: bash: pnpm: command not found",
                        "[agent] Turn 1:",
                    ],
                )?;
                let (text, _) = ok(&host, "get_run_logs", json!({"run_id": 13})).await?;
                has("run logs 13", &text, &["no steps"])?;
                err(
                    &host,
                    "get_run_logs",
                    json!({"run_id": 999}),
                    "no workflow run #999",
                )
                .await?;
                anyhow::Ok(())
            },
        )
        .await;

    cases.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_overview_tools_count_right() -> Result<()> {
    let (pg, host) = start().await?;

    let mut cases = Cases::new();

    cases
        .check(
            "system_overview, last hour: 6 runs; success over the 3 finished ones",
            async {
                let (text, s) = ok(&host, "system_overview", json!({})).await?;
                for (key, want) in [
                    ("total", 6),
                    ("completed", 1),
                    ("failed", 2),
                    ("running", 1),
                    ("pending", 2),
                    ("cancelled", 0),
                ] {
                    ensure!(
                        int(&s, &format!("/runs/{key}"))? == want,
                        "overview {key}: {s}"
                    );
                }
                close(
                    "overview success rate",
                    num(&s, "/runs/success_rate_percent")?,
                    33.3,
                )?;
                ensure!(ids(&s, "/recent_failures", "run_id")? == [6, 8], "{s}");
                ensure!(
                    ids(&s, "/attention", "run_id")? == [10, 13],
                    "stuck and waiting runs: {s}"
                );
                ensure!(
                    int(&s, "/llm/calls")? == 2
                        && int(&s, "/llm/tokens_in")? == 95862
                        && int(&s, "/llm/tokens_out")? == 6240,
                    "{s}"
                );
                close("llm latency", num(&s, "/llm/avg_latency_ms")?, 90500.0)?;
                ensure!(
                    int(&s, "/runners/available")? == 2
                        && int(&s, "/runners/claimed")? == 2
                        && int(&s, "/runners/terminated")? == 1,
                    "{s}"
                );
                ensure!(int(&s, "/definitions")? == 5, "{s}");
                has(
                    "overview",
                    &text,
                    &[
                        "33.3% (1 of 3 finished runs completed",
                        "UTC",
                        "(looks stuck)",
                        "quick_debug(run_id=6)",
                    ],
                )?;
                seven_hours("overview", &text, "running for ")?;
                // Fractional hours, and an empty window.
                let (_, s) = ok(&host, "system_overview", json!({"hours": 0.5})).await?;
                ensure!(int(&s, "/runs/total")? == 4, "last 30 min: {s}");
                let (text, s) = ok(&host, "system_overview", json!({"hours": 0.01})).await?;
                ensure!(
                    int(&s, "/runs/total")? == 0 && s["runs"]["success_rate_percent"].is_null(),
                    "{s}"
                );
                has("empty overview", &text, &["n/a", "Failures: none"])?;
                err(&host, "system_overview", json!({"hours": 0}), "more than 0").await?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "list_workflow_runs: filters, repository through the definition, escaped wildcards",
            async {
                let (text, s) = ok(&host, "list_workflow_runs", json!({})).await?;
                ensure!(
                    int(&s, "/total")? == 18
                        && ids(&s, "/runs", "id")?.len() == 18
                        && ids(&s, "/runs", "id")?[0] == 14,
                    "{s}"
                );
                has("runs", &text, &["created (UTC)", "failed step: test"])?;
                seven_hours("runs", &text, "running for ")?;
                let (_, s) = ok(&host, "list_workflow_runs", json!({"status": "failed"})).await?;
                ensure!(ids(&s, "/runs", "id")? == [6, 8, 4, 18, 16, 2], "{s}");
                let (_, s) = ok(
                    &host,
                    "list_workflow_runs",
                    json!({"repository": "alice/plue"}),
                )
                .await?;
                ensure!(int(&s, "/total")? == 11, "alice/plue runs: {s}");
                let (_, s) = ok(
                    &host,
                    "list_workflow_runs",
                    json!({"repository": "secret-infra"}),
                )
                .await?;
                ensure!(ids(&s, "/runs", "id")? == [18], "{s}");
                let (text, s) = ok(
                    &host,
                    "list_workflow_runs",
                    json!({"repository": "e2etest/testrepo"}),
                )
                .await?;
                ensure!(int(&s, "/total")? == 0, "{s}");
                has("no runs", &text, &["No workflow runs match"])?;
                let (_, s) = ok(
                    &host,
                    "list_workflow_runs",
                    json!({"workflow_name": "ci", "limit": 3}),
                )
                .await?;
                ensure!(
                    int(&s, "/total")? == 8 && ids(&s, "/runs", "id")? == [14, 6, 5],
                    "{s}"
                );
                let (_, s) = ok(&host, "list_workflow_runs", json!({"workflow_name": "_"})).await?;
                ensure!(int(&s, "/total")? == 0, "`_` must be literal: {s}");
                let (_, s) = ok(&host, "list_workflow_runs", json!({"hours": 1})).await?;
                ensure!(int(&s, "/total")? == 6, "{s}");
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "analyze_failures: patterns and a success rate over finished runs only",
            async {
                let (text, s) = ok(&host, "analyze_failures", json!({})).await?;
                ensure!(
                    int(&s, "/runs/failed")? == 5
                        && int(&s, "/runs/completed")? == 4
                        && int(&s, "/runs/finished")? == 9,
                    "{s}"
                );
                close(
                    "failure success rate",
                    num(&s, "/runs/success_rate_percent")?,
                    44.4,
                )?;
                ensure!(int(&s, "/total_patterns")? == 4, "{s}");
                let top = &s["patterns"][0];
                ensure!(
                    top["workflow"] == "ci"
                        && top["run_ids"] == json!([6, 4])
                        && top["failed_step"] == "test",
                    "{top}"
                );
                has(
                    "analyze_failures",
                    &text,
                    &[
                        "[2×] ci · step 'test' (exit 1): TypeError",
                        "44.4%",
                        "ci 2/4",
                    ],
                )?;
                let (_, s) = ok(&host, "analyze_failures", json!({"hours": 1})).await?;
                ensure!(
                    int(&s, "/runs/failed")? == 2 && int(&s, "/total_patterns")? == 2,
                    "{s}"
                );
                let (text, s) = ok(&host, "analyze_failures", json!({"hours": 0.01})).await?;
                ensure!(int(&s, "/total_patterns")? == 0, "{s}");
                has("no failures", &text, &["No failures"])?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "workflow_stats: per workflow, durations over finished runs",
            async {
                let (text, s) = ok(&host, "workflow_stats", json!({})).await?;
                let ci = find(&s, "/workflows", "workflow", &json!("ci"))?;
                ensure!(
                    int(ci, "/runs/total")? == 6
                        && int(ci, "/runs/completed")? == 2
                        && int(ci, "/runs/failed")? == 2,
                    "{ci}"
                );
                close("ci avg", num(ci, "/avg_seconds")?, 96.25)?;
                close("ci min", num(ci, "/min_seconds")?, 80.0)?;
                close("ci max", num(ci, "/max_seconds")?, 120.0)?;
                close("ci success", num(ci, "/runs/success_rate_percent")?, 50.0)?;
                let deleted = find(&s, "/workflows", "definition_id", &Value::Null)?;
                ensure!(int(deleted, "/runs/failed")? == 1, "{deleted}");
                has(
                    "stats",
                    &text,
                    &[
                        "(definition deleted)",
                        "success = completed ÷ (completed + failed)",
                    ],
                )?;
                let (text, _) =
                    ok(&host, "workflow_stats", json!({"workflow_name": "zzz"})).await?;
                has("no stats", &text, &["No workflow runs were created"])?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "get_workflow_definition: the JSONB plan read once; by name or id",
            async {
                let (text, s) = ok(
                    &host,
                    "get_workflow_definition",
                    json!({"workflow_name": "ci"}),
                )
                .await?;
                ensure!(
                    int(&s, "/id")? == 1 && s["steps"].as_array().map(Vec::len) == Some(3),
                    "{s}"
                );
                ensure!(
                    s["steps"][2]["config"]["cmd"] == "npm test"
                        && s["steps"][2]["depends_on"] == json!(["step_1"]),
                    "{s}"
                );
                has(
                    "definition ci",
                    &text,
                    &[
                        "step_3 test [shell] ← step_1: npm test",
                        "push (branches: [\"main\"])",
                        "node:22-slim",
                    ],
                )?;
                let (text, s) =
                    ok(&host, "get_workflow_definition", json!({"workflow_id": 4})).await?;
                ensure!(s["repository"].is_null(), "{s}");
                has(
                    "definition 4",
                    &text,
                    &[
                        "no repository",
                        ".plue/Dockerfile.health",
                        "prompt .plue/prompts/Summarize.prompt.md",
                    ],
                )?;
                let (_, s) = ok(
                    &host,
                    "get_workflow_definition",
                    json!({"workflow_name": "review"}),
                )
                .await?;
                ensure!(s["name"] == "code-review", "{s}");
                err(
                    &host,
                    "get_workflow_definition",
                    json!({"workflow_id": 5}),
                    "no workflow definition",
                )
                .await?;
                err(&host, "get_workflow_definition", json!({}), "workflow_id").await?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "recent_agent_activity: totals over the whole window, not the rows shown",
            async {
                let (text, s) = ok(&host, "recent_agent_activity", json!({})).await?;
                ensure!(
                    int(&s, "/calls")? == 2
                        && int(&s, "/tokens_in")? == 95862
                        && int(&s, "/tokens_out")? == 6240,
                    "{s}"
                );
                close("agent latency", num(&s, "/avg_latency_ms")?, 90500.0)?;
                let run_command = find(&s, "/tool_use", "tool", &json!("run_command"))?;
                ensure!(
                    int(run_command, "/calls")? == 10 && int(run_command, "/errors")? == 10,
                    "{run_command}"
                );
                ensure!(ids(&s, "/running_now", "step_id")? == [26], "{s}");
                has(
                    "agents",
                    &text,
                    &[
                        "95,862 in / 6,240 out",
                        "run_command 10 call(s), 10 failed",
                        "run #8 code-review → review",
                    ],
                )?;
                let (_, s) = ok(
                    &host,
                    "recent_agent_activity",
                    json!({"hours": 24, "limit": 1}),
                )
                .await?;
                ensure!(
                    int(&s, "/calls")? == 4
                        && int(&s, "/tokens_in")? == 116196
                        && int(&s, "/tokens_out")? == 8000,
                    "{s}"
                );
                close("agent latency 24 h", num(&s, "/avg_latency_ms")?, 56750.0)?;
                ensure!(
                    s["recent_calls"].as_array().map(Vec::len) == Some(1),
                    "limit 1: {s}"
                );
                let (text, s) = ok(&host, "recent_agent_activity", json!({"hours": 0.01})).await?;
                ensure!(int(&s, "/calls")? == 0, "{s}");
                has("no agents", &text, &["No LLM calls"])?;
                anyhow::Ok(())
            },
        )
        .await;

    // get_runner_pool: the real column (claimed_by_step_id), health and problems. Runners 1 and 2
    // get fresh heartbeats first (data.sql's are only fresh right after loading).
    cases
        .check("get_runner_pool: the real column (claimed_by_step_id), health and problems. Runners 1 and 2", async {
            pg.refresh_heartbeats()?;
            let (text, s) = ok(&host, "get_runner_pool", json!({})).await?;
            ensure!(
                int(&s, "/available")? == 2 && int(&s, "/available_healthy")? == 1,
                "{s}"
            );
            ensure!(
                int(&s, "/claimed")? == 2 && int(&s, "/terminated")? == 1,
                "{s}"
            );
            let b2 = find(&s, "/runners", "pod_name", &json!("plue-runner-7f9c4-b2"))?;
            ensure!(
                b2["health"] == "healthy"
                    && int(b2, "/claimed_by_step_id")? == 26
                    && int(b2, "/run_id")? == 9,
                "{b2}"
            );
            let problems = s["problems"].to_string();
            has(
                "runner problems",
                &problems,
                &[
                    "plue-runner-6d2e1-e5 holds step #28",
                    "plue-runner-7f9c4-c3 is available",
                ],
            )?;
            has(
                "runners",
                &text,
                &["stale = heartbeat older than 30 s", "CLAIMED"],
            )?;
            anyhow::Ok(())
        })
        .await;

    cases
        .check("get_pending_tasks: without a workflow_tasks table, the runs waiting or running, oldest first", async {
            let (text, s) = ok(&host, "get_pending_tasks", json!({})).await?;
            ensure!(
                s["source"] == "workflow_runs" && ids(&s, "/items", "id")? == [10, 13, 9, 14],
                "{s}"
            );
            has(
                "pending runs",
                &text,
                &[
                    "no workflow_tasks table",
                    "waiting for 1",
                    "install waiting",
                ],
            )?;
            seven_hours("pending runs", &text, "running for ")?;
            let waited = num(find(&s, "/items", "id", &json!(13))?, "/waiting_seconds")?;
            ensure!(
                (880.0..1800.0).contains(&waited),
                "run 13 waits since 15 min: {waited}"
            );
            // With the table, it is used: priority first, then age.
            let pg = tokio::task::spawn_blocking(move || -> Result<PgServer> {
                pg.load_fixture("workflow_tasks.sql")?;
                Ok(pg)
            })
            .await??;
            let (text, s) = ok(&host, "get_pending_tasks", json!({})).await?;
            ensure!(
                s["source"] == "workflow_tasks" && ids(&s, "/items", "id")? == [3, 2, 1],
                "{s}"
            );
            has(
                "pending tasks",
                &text,
                &["priority 3 (critical)", "session ses_7d1c0e", "run #13"],
            )?;
            drop(pg);
            anyhow::Ok(())
        })
        .await;

    cases.finish()
}
