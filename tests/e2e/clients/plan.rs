//! The call plan the official clients run: every tool of the five groups with arguments that
//! find real data in the stack's fixtures, and the words its answer must hold, each taken
//! from the fixture's documented facts (`tests/fixtures/plue/data.sql`, the Prometheus
//! `expected` module, the log fixture's [`LogFacts`], `tests/fixtures/playwright/README.md`).
//! A few calls that must fail make the clients read `isError` answers too.
//!
//! The plan is checked against `tools/list`: a listed tool without a successful call in the
//! plan, or a planned tool nobody lists, fails the test by name.

use std::collections::BTreeSet;

use anyhow::{Result, ensure};
use plue_tests::prometheus::expected;
use plue_tests::stack::LogFacts;
use serde::Serialize;
use serde_json::{Value, json};

/// One `tools/call` and what its answer must be.
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub tool: &'static str,
    pub arguments: Value,
    /// `ok` or `error` (`isError`).
    pub expect: &'static str,
    /// Text the answer's text content must contain.
    pub contains: Vec<String>,
}

fn ok(tool: &'static str, arguments: Value, contains: &[&str]) -> Call {
    Call {
        tool,
        arguments,
        expect: "ok",
        contains: contains.iter().map(|s| s.to_string()).collect(),
    }
}

fn error(tool: &'static str, arguments: Value, contains: &[&str]) -> Call {
    Call {
        expect: "error",
        ..ok(tool, arguments, contains)
    }
}

/// The whole plan, as JSON for the drivers (`{"calls": [...]}`), after checking it covers
/// exactly the `listed` tools.
pub fn for_listed(listed: &[String], logs: &LogFacts) -> Result<Value> {
    let calls: Vec<Call> = [
        prometheus(),
        workflows(),
        logs_group(logs),
        database(),
        playwright(),
    ]
    .concat();
    let listed: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    let succeeding: BTreeSet<&str> = calls
        .iter()
        .filter(|c| c.expect == "ok")
        .map(|c| c.tool)
        .collect();
    let planned: BTreeSet<&str> = calls.iter().map(|c| c.tool).collect();
    let unplanned: Vec<_> = listed.difference(&succeeding).collect();
    let unlisted: Vec<_> = planned.difference(&listed).collect();
    ensure!(
        unplanned.is_empty(),
        "listed tools without a successful call in tests/e2e/clients/plan.rs: {unplanned:?}"
    );
    ensure!(
        unlisted.is_empty(),
        "planned tools that tools/list does not list: {unlisted:?}"
    );
    Ok(json!({ "calls": calls }))
}

fn prometheus() -> Vec<Call> {
    let (api, web, runner) = (expected::JOB_API, expected::JOB_WEB, expected::JOB_RUNNER);
    vec![
        ok(
            "prometheus_query",
            json!({"query": "sum by (job) (rate(plue_http_requests_total[5m]))"}),
            &[api, web],
        ),
        ok(
            "prometheus_query_range",
            json!({"query": "up", "start": "30m", "step": "1m"}),
            &[api, runner],
        ),
        ok(
            "prometheus_series",
            json!({"match": [format!("plue_http_requests_total{{job=\"{web}\"}}")]}),
            &[web],
        ),
        ok(
            "prometheus_labels",
            json!({"label": "job"}),
            &[api, web, runner],
        ),
        ok(
            "prometheus_targets",
            json!({"state": "any"}),
            &[runner, expected::DOWN_ERROR],
        ),
        ok(
            "prometheus_alerts",
            json!({}),
            &[expected::FIRING_ALERTS[0].0, expected::PENDING_ALERT],
        ),
        ok("service_health", json!({}), &[runner]),
        ok(
            "error_analysis",
            json!({"duration": "15m", "job": api}),
            &[api],
        ),
        ok("latency_analysis", json!({"duration": "15m"}), &[api, web]),
        ok(
            "prometheus_rules",
            json!({}),
            &[expected::BROKEN_RULE, expected::INACTIVE_ALERT],
        ),
        ok(
            "prometheus_metadata",
            json!({"metric": expected::METADATA[1].0}),
            &[expected::METADATA[1].1],
        ),
        error("prometheus_query", json!({"query": "sum(("}), &[]),
    ]
}

fn workflows() -> Vec<Call> {
    vec![
        ok("system_overview", json!({"hours": 24}), &["ci"]),
        ok(
            "quick_debug",
            json!({"run_id": 6}),
            &["Cannot read properties of undefined"],
        ),
        ok(
            "compare_runs",
            json!({"run_id_a": 5, "run_id_b": 6}),
            &["test"],
        ),
        ok(
            "list_workflow_runs",
            json!({"status": "failed", "hours": 24}),
            &["terraform-plan", "AgentMaxTurnsExceeded"],
        ),
        ok("get_run_details", json!({"run_id": 6}), &["ci", "test"]),
        ok(
            "get_step_logs",
            json!({"step_id": 23, "log_type": "tool_result", "limit": 5}),
            &["pnpm: command not found"],
        ),
        ok("get_run_logs", json!({"run_id": 10}), &["ssh"]),
        ok(
            "analyze_failures",
            json!({"hours": 24}),
            &["ContainerStartFailed", "WorkflowDefinitionNotFound"],
        ),
        ok("get_runner_pool", json!({}), &["c3", "e5"]),
        ok("get_pending_tasks", json!({}), &["health-check"]),
        ok("workflow_stats", json!({"hours": 24}), &["code-review"]),
        ok(
            "get_workflow_definition",
            json!({"workflow_name": "health-check"}),
            &[".plue/Dockerfile.health"],
        ),
        // data.sql: last 24 h, 4 LLM calls with 116196 tokens in.
        ok("recent_agent_activity", json!({"hours": 24}), &["116,196"]),
        error("get_run_details", json!({"run_id": 999_999}), &["999999"]),
    ]
}

fn logs_group(facts: &LogFacts) -> Vec<Call> {
    let services: Vec<&str> = facts.services.iter().map(String::as_str).collect();
    let mut trace: Vec<&str> = facts.request_services.iter().map(String::as_str).collect();
    trace.push(&facts.request_id);
    vec![
        ok(
            "search_logs",
            json!({"service": "api", "level": "error", "start": "1h"}),
            &["failed to load repository"],
        ),
        ok("tail_logs", json!({"lines": 20}), &[]),
        ok("find_errors", json!({"start": "1h"}), &["exit code 137"]),
        ok(
            "trace_request",
            json!({"request_id": facts.request_id, "start": "2h"}),
            &trace,
        ),
        // At least 1000 ms in the last hour: api 2500, web 1500 (JSON), runner 3200 (logfmt).
        ok(
            "find_slow_requests",
            json!({"threshold_ms": 1000, "start": "1h"}),
            &["api", "web", "runner"],
        ),
        ok("log_stats", json!({"start": "1h"}), &services),
        ok(
            "search_exceptions",
            json!({"language": "python", "start": "3h"}),
            &["python"],
        ),
        ok(
            "workflow_logs",
            json!({"run_id": facts.run_id, "start": "3h"}),
            &[&facts.run_id.to_string()],
        ),
        ok(
            "agent_logs",
            json!({"session_id": facts.session_id, "start": "3h"}),
            &[&facts.session_id],
        ),
        error("search_logs", json!({"level": "loud"}), &["level"]),
    ]
}

fn database() -> Vec<Call> {
    vec![
        ok(
            "query",
            json!({"sql": "SELECT status, count(*) FROM workflow_runs GROUP BY 1 ORDER BY 1"}),
            &["cancelled", "completed", "failed", "pending", "running"],
        ),
        ok(
            "describe_table",
            json!({"table": "workflow_runs"}),
            &["error_message"],
        ),
        ok(
            "list_tables",
            json!({"pattern": "workflow"}),
            &["workflow_runs", "workflow_steps", "workflow_logs"],
        ),
        ok("find_user", json!({"username": "alice"}), &["alice/plue"]),
        ok(
            "find_repository",
            json!({"name": "bob/dotfiles"}),
            &["master"],
        ),
        ok("recent_activity", json!({"hours": 24}), &["carol"]),
        ok("db_stats", json!({}), &["workflow_logs"]),
        ok("find_sessions", json!({"username": "alice"}), &["f62b922a"]),
        ok("check_connections", json!({}), &["plue_reader"]),
        ok(
            "explain_query",
            json!({"sql": "SELECT * FROM workflow_runs WHERE status = 'failed'", "analyze": true}),
            &["workflow_runs"],
        ),
        error("query", json!({"sql": "DELETE FROM users"}), &[]),
        error(
            "describe_table",
            json!({"table": "no_such_table"}),
            &["no_such_table"],
        ),
    ]
}

fn playwright() -> Vec<Call> {
    const SHOT: &str =
        "test-results/auth-login-login-remembers-the-session-chromium-desktop/test-failed-1.png";
    vec![
        ok(
            "test_summary",
            json!({}),
            &["chromium-desktop", "chromium-mobile"],
        ),
        // results.json: failed on both projects, twice each.
        ok(
            "list_failures",
            json!({"project": "chromium-desktop"}),
            &[
                "counts open issues",
                "counts queued runs",
                "waits for the deploy to finish",
            ],
        ),
        ok(
            "test_details",
            json!({"testTitle": "counts open issues"}),
            &["counts open issues"],
        ),
        ok("view_attachment", json!({"attachmentPath": SHOT}), &[SHOT]),
        ok("failure_patterns", json!({}), &["counts open issues"]),
        // results.json: failed, then passed on retry.
        ok("flaky_tests", json!({}), &["remembers the session"]),
        ok(
            "slow_tests",
            json!({"threshold": 3000}),
            &["loads the full commit history"],
        ),
        ok(
            "test_artifacts",
            json!({"testTitle": "attaches run metadata"}),
            &["attaches run metadata"],
        ),
        ok(
            "list_test_files",
            json!({}),
            &["auth/login.spec.ts", "workflows/runs.spec.ts"],
        ),
        error(
            "view_attachment",
            json!({"attachmentPath": "../../etc/passwd"}),
            &[],
        ),
    ]
}

/// Values the context plan derives from the stack's data.
pub struct ContextFacts {
    /// The newest workflow run (by creation time).
    pub newest_run: i64,
    /// The newest failed run, its failed step's name and id.
    pub failed_run: i64,
    pub failed_step_name: String,
    pub failed_step_id: i64,
    /// A screenshot of the Playwright reports, relative to their directory, and its size.
    pub screenshot: String,
    pub screenshot_bytes: u64,
}

/// Prompts, resources and completions for the official clients (issue 16): the seed's four
/// commands and three skills as prompts rendered from live data, the resource families,
/// reads (a screenshot as a PNG blob, a run summary, a step log, a saved query), refusals,
/// and completions from the live backends. Expected values come from `facts` and `logs`.
pub fn context(facts: &ContextFacts, logs: &LogFacts) -> Value {
    let request = &logs.request_id;
    let prefix = &request[..request.len().min(4)];
    let run = facts.failed_run.to_string();
    let step_logs = format!("plue://steps/{}/logs", facts.failed_step_id);
    let service = &logs.services[0];
    let service_page = format!("plue://logs/services/{service}");
    let service_prefix = &service[..service.len().min(2)];
    json!({
        "prompt_names": [
            "observability", "debug-workflows", "health-check", "trace-request",
            "observability-guide", "workflow-debugging-guide", "test-debugging-guide"
        ],
        "prompts": [
            {"name": "debug-workflows", "arguments": {"run_id": run},
             "contains": ["## Workflows (database)", facts.failed_step_name, "Next tools:"]},
            {"name": "debug-workflows", "arguments": {"recent": "3"},
             "contains": [format!("{}", facts.failed_run)]},
            {"name": "trace-request", "arguments": {"request_id": request},
             "contains": [request.as_str(), logs.request_services[0].as_str()]},
            {"name": "trace-request", "arguments": {}, "expect": "error", "contains": ["request_id"]},
            {"name": "observability", "arguments": {"full": "true"},
             "contains": ["## Prometheus", "## Workflows (database)", "## Logs (Loki)", "## Database (PostgreSQL)"]},
            {"name": "observability", "arguments": {},
             "contains": ["## Prometheus", "## Workflows (database)", "## Logs (Loki)"]},
            {"name": "health-check", "arguments": {"quick": "true"},
             "contains": ["## Prometheus", "## Workflows (database)", "## Database (PostgreSQL)"]},
            {"name": "health-check", "arguments": {"full": "true"}, "contains": ["## Logs (Loki)"]},
            {"name": "observability-guide", "arguments": {}, "contains": ["## Prometheus"]},
            {"name": "workflow-debugging-guide", "arguments": {}, "contains": ["quick_debug"]},
            {"name": "test-debugging-guide", "arguments": {}, "contains": ["plue://playwright/"]},
            {"name": "no-such-prompt", "arguments": {}, "expect": "error", "contains": ["prompts/list"]},
        ],
        "templates": [
            "plue://runs/{run_id}", "plue://steps/{step_id}/logs",
            "plue://prometheus/queries/{name}",
            "plue://playwright/reports/{report}", "plue://playwright/attachments/{+path}",
            "plue://logs/services/{service}",
        ],
        "listed": [
            format!("plue://runs/{}", facts.newest_run),
            "plue://prometheus/queries/error-ratio",
            format!("plue://playwright/attachments/{}", facts.screenshot),
            service_page,
        ],
        "reads": [
            {"uri": format!("plue://playwright/attachments/{}", facts.screenshot),
             "mime": "image/png", "png": true, "bytes": facts.screenshot_bytes},
            {"uri": format!("plue://runs/{run}"), "mime": "text/markdown",
             "contains": [facts.failed_step_name.as_str()]},
            {"uri": step_logs, "mime": "text/plain"},
            {"uri": "plue://prometheus/queries/error-ratio", "mime": "text/markdown",
             "contains": ["error-ratio"]},
            {"uri": service_page, "mime": "text/markdown",
             "contains": [format!("# {service}: logs of the last 1h"), "## Newest lines".to_string()]},
            {"uri": "plue://playwright/attachments/../../etc/passwd", "expect": "error", "contains": [".."]},
            {"uri": "plue://runs/999999", "expect": "error", "contains": ["999999"]},
            {"uri": "plue://nowhere/1", "expect": "error", "contains": ["resources/templates/list"]},
        ],
        "completions": [
            {"prompt": "debug-workflows", "argument": "run_id", "value": "",
             "first": facts.newest_run.to_string()},
            {"template": "plue://runs/{run_id}", "argument": "run_id", "value": "",
             "includes": [run]},
            {"template": "plue://steps/{step_id}/logs", "argument": "step_id", "value": "",
             "context": {"run_id": facts.failed_run.to_string()},
             "includes": [facts.failed_step_id.to_string()]},
            {"prompt": "trace-request", "argument": "request_id", "value": prefix,
             "includes": [request.as_str()]},
            {"template": "plue://prometheus/queries/{name}", "argument": "name", "value": "error",
             "includes": ["error-ratio", "error-rate"]},
            {"template": "plue://logs/services/{service}", "argument": "service",
             "value": service_prefix, "includes": [service]},
        ],
    })
}
