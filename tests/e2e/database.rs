//! End-to-end tests of the database tool group: `plue-mcp serve` over MCP against a real
//! PostgreSQL loaded with Plue's schema and data (`plue_tests::postgres`; the facts asserted
//! here are listed at the top of `tests/fixtures/plue/data.sql`), as the least-privilege role
//! `plue_reader`. Each of the ten tools answers from the real schema; every statement of the
//! attack list is refused through `query` and `explain_query` with the database unchanged;
//! valid reads that a keyword filter would have rejected all run.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use plue_tests::check::{Cases, find, has, int};
use plue_tests::declared;
use plue_tests::mcp::Host;
use plue_tests::postgres::PgServer;
use serde_json::{Value, json};

/// The full session keys of data.sql: none may ever appear in an answer.
const SESSION_KEYS: &[&str] = &[
    "f62b922a949efc8902850efa89d06d3712b8875b28baa808cf711459ec8e63b5",
    "29fa3b51d5defc882e409fa33b9feca5dd13f10fc9130709a46586bfa5435137",
    "67e1dccce8cea738bee1d3d225740440ee19561d79d4a5155c0760b9ba25e96a",
    "5ae83a8fffcae25b40ec5d30d41d271a0a5476f3be3537bb700576625a9bd721",
    "40f3eace4781b3a300074cb448445bdc0625b5f104ba0438261d571721c4e298",
    "11644232e86db0598f235a82161fc621795e3cd7c027ca85ad95cbf2e07d3b65",
    "dec3048086c36adae7cebece7dd19c122dd7f4c53c258b17cbe410c31df23817",
];

fn config(url: &str) -> String {
    format!(
        "[databases.plue]\nurl = \"{url}\"\nstatement_timeout_ms = 1000\nmax_rows = 500\n\n\
         [plugins.database]\nsql = [\"plue\"]\n"
    )
}

async fn start() -> Result<(PgServer, Host)> {
    plue_tests::postgres::with_host(Path::new(env!("CARGO_BIN_EXE_plue-mcp")), config).await
}

/// `tools/call` that must succeed with structured content and no sign of a leaked
/// session key: (text, structured).
async fn ok(host: &Host, tool: &str, args: Value) -> Result<(String, Value)> {
    host.answer(tool, args, SESSION_KEYS).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_tools_answer_from_plues_schema() -> Result<()> {
    let (pg, host) = start().await?;
    let declared = declared::bundled(super::example::binary(), "database")?;
    let tools = host.list_tools().await?;
    declared::listed_as_declared(&tools, &declared)?;
    declared::with_output_schemas(&tools)?;
    declared::every_tool_is(&declared, "read_only")?;

    let mut cases = Cases::new();

    cases
        .check(
            "list_tables: the schema's 12 tables; estimates and exact counts",
            async {
                let (text, s) = ok(&host, "list_tables", json!({})).await?;
                ensure!(int(&s, "/total")? == 12, "list_tables total: {s}");
                has(
                    "list_tables",
                    &text,
                    &[
                        "12 tables (schema public)",
                        "auth_sessions",
                        "Cookie sessions; session_key is a secret",
                    ],
                )?;
                ensure!(
                    find(&s, "/tables", "name", &json!("users"))?["estimated_rows"] == 11,
                    "users estimate: {s}"
                );
                let (_, s) = ok(
                    &host,
                    "list_tables",
                    json!({"pattern": "workflow_", "exact_counts": true}),
                )
                .await?;
                ensure!(int(&s, "/total")? == 4, "workflow_ tables: {s}");
                ensure!(
                    find(&s, "/tables", "name", &json!("workflow_logs"))?["exact_rows"] == 982,
                    "{s}"
                );
                ensure!(
                    find(&s, "/tables", "name", &json!("workflow_steps"))?["exact_rows"] == 38,
                    "{s}"
                );
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "describe_table: the real columns (user_id and is_public, no owner_id or is_private)",
            async {
                let (text, s) =
                    ok(&host, "describe_table", json!({"table": "repositories"})).await?;
                has(
                    "describe repositories",
                    &text,
                    &[
                        "Table repositories",
                        "user_id",
                        "is_public",
                        "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE RESTRICT",
                        "workflow_definitions (workflow_definitions_repository_id_fkey)",
                        "UNIQUE (user_id, name)",
                    ],
                )?;
                ensure!(
                    !text.contains("owner_id") && !text.contains("is_private"),
                    "{text}"
                );
                ensure!(
                    find(&s, "/columns", "name", &json!("topics"))?["type"] == "text[]",
                    "{s}"
                );
                let (text, s) =
                    ok(&host, "describe_table", json!({"table": "public.Users"})).await?;
                ensure!(
                    s["name"] == "users" && s["columns"].as_array().map(Vec::len) == Some(15),
                    "{text}"
                );
                ensure!(
                    find(&s, "/columns", "name", &json!("email_verified")).is_err(),
                    "users has no email_verified column"
                );
                ensure!(
                    find(&s, "/columns", "name", &json!("username"))?["not_null"] == true,
                    "{s}"
                );
                let err = host
                    .call_err("describe_table", json!({"table": "user"}))
                    .await?;
                has(
                    "describe user",
                    &err,
                    &["no table or view named `user`", "similar names: users"],
                )?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "find_user: exact match first; `_` is literal; repositories through user_id/is_public",
            async {
                let (text, s) = ok(&host, "find_user", json!({"username": "bob_smith"})).await?;
                ensure!(
                    int(&s, "/user/id")? == 10 && int(&s, "/match_count")? == 1,
                    "bob_smith: {s}"
                );
                ensure!(!text.contains("bobxsmith"), "{text}");
                let (text, s) = ok(&host, "find_user", json!({"username": "BOB"})).await?;
                ensure!(int(&s, "/user/id")? == 2, "bob: {s}");
                ensure!(
                    int(&s, "/repository_count")? == 2 && int(&s, "/session_count")? == 2,
                    "{s}"
                );
                ensure!(int(&s, "/active_session_count")? == 1, "{s}");
                ensure!(
                    find(&s, "/repositories", "name", &json!("private-notes"))?["is_public"]
                        == false,
                    "{s}"
                );
                has(
                    "find_user bob",
                    &text,
                    &[
                        "User bob (id 2)",
                        "bob/private-notes (id 4) private",
                        "67e1dccc…",
                        "5ae83a8f…",
                        "laptop-cli (…0b7d22aa)",
                    ],
                )?;
                ensure!(
                    !text.contains(
                        "ed07b82cf58403e03e9ac06058239762b84f9c735680b9d5ca42dbb4d43ab99e"
                    ),
                    "a token hash was printed"
                );
                let (_, s) = ok(&host, "find_user", json!({"id": 11})).await?;
                ensure!(
                    s["user"]["username"] == "bobxsmith" && s["user"]["email"].is_null(),
                    "{s}"
                );
                let (_, s) = ok(&host, "find_user", json!({"username": "null"})).await?;
                ensure!(int(&s, "/user/id")? == 8, "the user named 'null': {s}");
                let (text, s) = ok(&host, "find_user", json!({"email": "plue.local"})).await?;
                ensure!(int(&s, "/match_count")? == 4, "@plue.local users: {s}");
                has(
                    "find_user email",
                    &text,
                    &["4 users match", "evilrabbit", "ghost", "e2etest"],
                )?;
                let err = host.call_err("find_user", json!({})).await?;
                has(
                    "find_user without arguments",
                    &err,
                    &["give one of `id`, `username` or `email`"],
                )?;
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "find_repository: owner through user_id, runs through the definitions",
            async {
                let (text, s) = ok(
                    &host,
                    "find_repository",
                    json!({"owner": "alice", "name": "plue"}),
                )
                .await?;
                ensure!(
                    s["repository"]["is_public"] == true
                        && s["workflows"].as_array().map(Vec::len) == Some(2),
                    "{s}"
                );
                let runs: i64 = s["runs_by_status"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["count"].as_i64())
                    .sum();
                ensure!(runs == 11, "alice/plue has 11 runs: {s}");
                ensure!(int(&s, "/recent_runs/0/id")? == 14, "newest run first: {s}");
                has(
                    "find_repository alice/plue",
                    &text,
                    &[
                        "Repository alice/plue (id 1), public",
                        "ci (id 1, .plue/workflows/ci.py)",
                        "Runs: 11",
                    ],
                )?;
                let (text, s) = ok(
                    &host,
                    "find_repository",
                    json!({"name": "alice/secret-infra"}),
                )
                .await?;
                ensure!(s["repository"]["is_public"] == false, "{s}");
                has("secret-infra", &text, &["private", "ContainerStartFailed"])?;
                let (text, _) = ok(
                    &host,
                    "find_repository",
                    json!({"owner": "e2etest", "name": "testrepo"}),
                )
                .await?;
                has("testrepo", &text, &["Workflows: none.", "Runs: none."])?;
                let (_, s) = ok(&host, "find_repository", json!({"id": 3})).await?;
                ensure!(s["repository"]["default_branch"] == "master", "{s}");
                let (_, s) = ok(&host, "find_repository", json!({"owner": "bob"})).await?;
                ensure!(int(&s, "/match_count")? == 2, "bob's repositories: {s}");
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "recent_activity: the database-level facts of the last 24 h and the last hour",
            async {
                let (text, s) = ok(&host, "recent_activity", json!({})).await?;
                ensure!(
                    (
                        int(&s, "/new_users")?,
                        int(&s, "/new_repositories")?,
                        int(&s, "/new_sessions")?,
                        int(&s, "/workflow_runs")?
                    ) == (1, 2, 4, 14),
                    "last 24 h: {s}"
                );
                ensure!(
                    find(&s, "/runs_by_status", "status", &json!("completed"))?["count"] == 4,
                    "{s}"
                );
                ensure!(
                    find(&s, "/runs_by_status", "status", &json!("failed"))?["count"] == 5,
                    "{s}"
                );
                has(
                    "recent_activity",
                    &text,
                    &["Activity in the last 24 h (since ", " UTC)", "carol/hello"],
                )?;
                let (_, s) = ok(&host, "recent_activity", json!({"hours": 1})).await?;
                ensure!(
                    int(&s, "/workflow_runs")? == 6 && int(&s, "/new_users")? == 0,
                    "last hour: {s}"
                );
                ensure!(
                    find(&s, "/runs_by_status", "status", &json!("pending"))?["count"] == 2,
                    "{s}"
                );
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check("db_stats and check_connections", async {
            let (text, s) = ok(&host, "db_stats", json!({})).await?;
            ensure!(
                s["database"]["database"] == "plue" && int(&s, "/table_count")? == 12,
                "{s}"
            );
            ensure!(int(&s, "/database/connections")? >= 1, "{s}");
            has(
                "db_stats",
                &text,
                &[
                    "Database plue:",
                    "Largest tables (10 of 12",
                    "workflow_logs",
                ],
            )?;
            let (text, s) = ok(&host, "check_connections", json!({})).await?;
            let me = find(&s, "/connections", "is_self", &json!(true))?;
            ensure!(
                me["username"] == "plue_reader" && me["application"] == "plue-mcp",
                "{s}"
            );
            has("check_connections", &text, &["active (this tool)"])?;
            anyhow::Ok(())
        })
        .await;

    cases
        .check(
            "find_sessions: live ones by default, prefixes only",
            async {
                let (text, s) = ok(&host, "find_sessions", json!({})).await?;
                ensure!(int(&s, "/total")? == 4, "live sessions: {s}");
                for prefix in ["f62b922a", "67e1dccc", "40f3eace", "dec30480"] {
                    find(&s, "/sessions", "key_prefix", &json!(prefix))?;
                }
                has(
                    "find_sessions",
                    &text,
                    &["4 active sessions", "first 8 characters"],
                )?;
                let (_, s) = ok(&host, "find_sessions", json!({"active_only": false})).await?;
                ensure!(int(&s, "/total")? == 7, "all sessions: {s}");
                let (_, s) = ok(
                    &host,
                    "find_sessions",
                    json!({"user_id": 1, "active_only": false}),
                )
                .await?;
                ensure!(int(&s, "/total")? == 2, "alice's sessions: {s}");
                anyhow::Ok(())
            },
        )
        .await;

    cases
        .check(
            "explain_query: the plan only, then with actual rows (614 token rows)",
            async {
                let sql = "SELECT count(*) FROM workflow_logs WHERE log_type = 'token'";
                let (text, s) = ok(&host, "explain_query", json!({ "sql": sql })).await?;
                ensure!(s["analyzed"] == false && s["plan"].is_array(), "{s}");
                has(
                    "explain",
                    &text,
                    &["Estimated plan", "Seq Scan on workflow_logs", "Plan tree:"],
                )?;
                let (text, s) = ok(
                    &host,
                    "explain_query",
                    json!({ "sql": sql, "analyze": true }),
                )
                .await?;
                let scan = find(&s, "/costliest", "node_type", &json!("Seq Scan"))?;
                ensure!(scan["actual_rows"] == 614.0 && s["analyzed"] == true, "{s}");
                has(
                    "explain analyze",
                    &text,
                    &["Executed with EXPLAIN ANALYZE", "actual rows", "log_type"],
                )?;
                let err = host
                    .call_err("explain_query", json!({"sql": "SELECT * FROM userz"}))
                    .await?;
                has(
                    "explain error",
                    &err,
                    &[
                        "42P01",
                        "(at character 15)",
                        "  SELECT * FROM userz\n                ^",
                    ],
                )?;

                drop(host);
                drop(pg);
                anyhow::Ok(())
            },
        )
        .await;

    cases.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_runs_valid_reads_with_typed_rows_and_caps() -> Result<()> {
    let (_pg, host) = start().await?;

    let mut cases = Cases::new();

    cases
        .check("Reads a keyword filter would have rejected or broken, each with its answer", async {
            let reads: &[(&str, Value)] = &[
                (
                    "SELECT status, count(*) AS n, rank() OVER (ORDER BY count(*) DESC, status) AS r \
                     FROM workflow_runs GROUP BY status ORDER BY r",
                    json!([
                        ["completed", 7, 1],
                        ["failed", 6, 2],
                        ["pending", 2, 3],
                        ["running", 2, 4],
                        ["cancelled", 1, 5]
                    ]),
                ),
                (
                    "WITH failed AS (SELECT * FROM workflow_runs WHERE status = 'failed') \
                     SELECT count(*) FILTER (WHERE error_message IS NULL) AS step_failures, count(*) AS total FROM failed",
                    json!([[3, 6]]),
                ),
                (
                    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at)) AS median \
                     FROM workflow_runs WHERE completed_at IS NOT NULL",
                    json!([[82.5]]),
                ),
                (
                    "SELECT trigger_payload->>'event' AS event, inputs->'target' AS target, trigger_payload ? 'ref' AS has_ref \
                     FROM workflow_runs WHERE id IN (10, 12) ORDER BY id",
                    json!([["schedule", null, false], ["manual", "production", false]]),
                ),
                (
                    "SELECT 'do' AS \"lock\", 'update' AS rate_limit;",
                    json!([["do", "update"]]),
                ),
                ("-- a comment first\n(SELECT 1 AS one)", json!([[1]])),
                ("VALUES (1, 'a'), (2, 'b')", json!([[1, "a"], [2, "b"]])),
                ("SHOW timezone", json!([["UTC"]])),
            ];
            for (sql, rows) in reads {
                let (_, s) = ok(&host, "query", json!({ "sql": sql })).await?;
                ensure!(
                    &s["rows"] == rows,
                    "{sql}: rows {} instead of {rows}",
                    s["rows"]
                );
            }
            anyhow::Ok(())
        })
        .await;

    cases
        .check("Typed values and types in structured content; times in UTC", async {
            let (text, s) = ok(
                &host,
                "query",
                json!({"sql": "SELECT 12.50::numeric AS price, interval '90 minutes' AS wait, \
                               timestamptz '2026-01-02 03:04:05+02' AS at, '\\x00ff'::bytea AS raw, \
                               ARRAY['a', 'b'] AS tags, '{\"k\": [1, 2]}'::jsonb AS doc, NULL::int AS nothing, \
                               created_at FROM users WHERE id = 1"}),
            )
            .await?;
            let types: Vec<&str> = s["columns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["type"].as_str())
                .collect();
            ensure!(
                types[0] == "numeric" && types[2] == "timestamptz" && types[7] == "timestamp",
                "types: {types:?}"
            );
            let row = &s["rows"][0];
            ensure!(
                row[1] == 5400.0 && row[2] == "2026-01-02T01:04:05Z" && row[3] == "00ff",
                "{row}"
            );
            ensure!(
                row[4] == json!(["a", "b"]) && row[5] == json!({"k": [1, 2]}) && row[6].is_null(),
                "{row}"
            );
            ensure!(
                row[0].as_str().is_some_and(|p| p.starts_with("12.5")),
                "numeric stays an exact string: {row}"
            );
            has(
                "typed row",
                &text,
                &[
                    "2026-01-02T01:04:05Z",
                    "5400 s (1h 30m)",
                    "\\x00ff",
                    "NULL",
                    "`timestamp` without time zone",
                ],
            )?;
            anyhow::Ok(())
        })
        .await;

    cases
        .check("Caps: rows shown (`limit`), the database's row cap (max_rows = 500), cell width", async {
            let (text, s) = ok(
                &host,
                "query",
                json!({"sql": "SELECT id, content FROM workflow_logs ORDER BY id"}),
            )
            .await?;
            ensure!(
                s["truncated"] == true && int(&s, "/row_count")? == 500 && int(&s, "/rows_shown")? == 100,
                "{}",
                s["row_count"]
            );
            has(
                "capped query",
                &text,
                &[
                    "row cap stopped the result at 500 rows",
                    "Showing 100 of more than 500 rows (400 left out); to narrow: add a WHERE clause or a LIMIT",
                ],
            )?;
            let (text, s) = ok(
                &host,
                "query",
                json!({"sql": "SELECT repeat('x', 300) AS wide", "max_width": 20}),
            )
            .await?;
            has(
                "wide cell",
                &text,
                &["xxxxxxxxxxxxxxxxxxx…", "longer than 20 characters"],
            )?;
            ensure!(
                s["rows"][0][0].as_str().map(str::len) == Some(300),
                "structured keeps the whole value"
            );
            anyhow::Ok(())
        })
        .await;

    cases
        .check(
            "PostgreSQL errors come back as isError with the position marked",
            async {
                let err = host
                    .call_err("query", json!({"sql": "SELECT nme FROM users"}))
                    .await?;
                has(
                    "column error",
                    &err,
                    &[
                        "42703",
                        "column \"nme\" does not exist",
                        "(at character 8)",
                        "  SELECT nme FROM users\n         ^",
                    ],
                )?;
                anyhow::Ok(())
            },
        )
        .await;

    cases.finish()
}

/// The attack list of issues 2 and 4: each must be an error and change nothing.
const ATTACKS: &[&str] = &[
    "INSERT INTO users (username, lower_username) VALUES ('mallory', 'mallory')",
    "UPDATE users SET is_admin = true WHERE username = 'bob'",
    "DELETE FROM auth_sessions",
    "CREATE TABLE stolen (x int)",
    "SELECT * INTO stolen FROM auth_sessions",
    "WITH gone AS (DELETE FROM auth_sessions RETURNING *) SELECT count(*) FROM gone",
    "SELECT 1; DELETE FROM auth_sessions",
    "COMMIT; DELETE FROM auth_sessions",
    "SET transaction_read_only = off",
    "SELECT set_config('transaction_read_only', 'off', false)",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "SELECT * FROM users FOR UPDATE",
    "SELECT nextval('users_id_seq')",
    "SELECT pg_sleep(3)",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT * FROM pg_ls_dir('.')",
    "SELECT lo_import('/etc/passwd')",
    "COPY (SELECT 1) TO PROGRAM 'touch /tmp/plue-pwned'",
    "SET ROLE plue_admin",
    "DO $$ BEGIN DELETE FROM auth_sessions; END $$",
    "EXPLAIN ANALYZE DELETE FROM auth_sessions",
    "SELECT pg_advisory_lock(42)",
    "SELECT pg_terminate_backend(pg_backend_pid())",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attacks_are_refused_and_nothing_changes() -> Result<()> {
    let (pg, host) = start().await?;
    let before = pg.checksum();
    let snapshot = pg.snapshot();

    for attack in ATTACKS {
        let mut calls = vec![
            ("query", json!({ "sql": attack })),
            ("explain_query", json!({ "sql": attack, "analyze": true })),
        ];
        // A plain EXPLAIN only plans: pg_sleep is not called, so that one is no attack there.
        if !attack.contains("pg_sleep") {
            calls.push(("explain_query", json!({ "sql": attack })));
        }
        for (tool, args) in calls {
            let err = host
                .call_err(tool, args.clone())
                .await
                .with_context(|| format!("{tool} {args}"))?;
            ensure!(
                err.contains("refused") || err.contains("timed out"),
                "{tool} {args}: an error, but not the host's refusal: {err}"
            );
        }
    }
    // The host still serves reads after all that.
    let (_, s) = ok(
        &host,
        "query",
        json!({"sql": "SELECT count(*) AS n FROM auth_sessions"}),
    )
    .await?;
    ensure!(s["rows"] == json!([[7]]), "{s}");

    ensure!(
        pg.checksum() == before,
        "the database changed:\nbefore:\n{snapshot}\nafter:\n{}",
        pg.snapshot()
    );
    ensure!(
        !Path::new("/tmp/plue-pwned").exists(),
        "COPY TO PROGRAM ran"
    );

    // A superuser role is refused outright: a read-only transaction cannot contain one.
    let admin = Host::start(
        Path::new(env!("CARGO_BIN_EXE_plue-mcp")),
        &config(&pg.superuser_url()),
    )
    .await?;
    let err = admin.call_err("query", json!({"sql": "SELECT 1"})).await?;
    has("superuser", &err, &["superuser"])?;
    ensure!(pg.checksum() == before, "the database changed");
    Ok(())
}
