//! The official MCP clients against the whole server: the TypeScript SDK client and the
//! Python SDK client, each over stdio and over streamable HTTP, list the tools and call every
//! tool of the five groups ([`plan`]) against the real backends of [`Stack`]; the MCP
//! Inspector CLI checks `tools/list` in strict mode; the official conformance suite runs
//! every server scenario for a capability the server advertises against `serve --http`.
//!
//! One test starts the stack once and runs every client, so one slow start serves them all;
//! it collects every client's failures before failing, so one run shows the whole list.
//! `cargo test -p plue-mcp --test e2e clients:: -- --nocapture` prints each client's
//! per-tool summary.

mod conformance;
pub mod plan;

use std::path::Path;

use anyhow::{Context, Result, ensure};
use plue_tests::clients::{self, Run, Sdk, Target};
use plue_tests::mcp::Host;
use plue_tests::serve_http::HttpHost;
use plue_tests::stack::Stack;
use serde_json::json;

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_plue-mcp"))
}

/// What one client found: its name, what went wrong (empty when it passed), its output.
struct Outcome {
    client: String,
    problems: Vec<String>,
    output: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_clients_list_and_call_every_tool_of_the_five_groups() -> Result<()> {
    let stack = Stack::start().await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("plue-mcp.toml");
    std::fs::write(&config, stack.config())?;
    let home = dir.path().join("home");
    std::fs::create_dir(&home)?;

    let (listed, capabilities) = listed_tools(&stack.config()).await?;
    let mut plan = plan::for_listed(&listed, &stack.log_facts())?;
    plan["context"] = plan::context(&context_facts(&stack)?, &stack.log_facts());
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, serde_json::to_string_pretty(&plan)?)?;

    let http = HttpHost::start(binary(), &config, &dir.path().join("serve-http.log")).await?;
    let stdio = Target::Stdio {
        binary: binary().to_path_buf(),
        config: config.clone(),
    };
    let web = Target::Http {
        url: http.url().to_string(),
    };

    let mut outcomes = Vec::new();
    for target in [&stdio, &web] {
        for sdk in Sdk::ALL {
            let run = clients::sdk_client(sdk, &plan_path, target, &home).await?;
            outcomes.push(driver(sdk, target, run));
        }
    }
    let run = clients::inspector_tools_list(&stdio, &home).await?;
    outcomes.push(inspector(run, listed.len()));
    outcomes.push(conformance::run(http.url(), &capabilities, &home).await?);
    report(&outcomes, &http)
}

/// What the context plan expects, read from the stack's own data.
fn context_facts(stack: &Stack) -> Result<plan::ContextFacts> {
    let one = |sql: &str| -> Result<String> {
        let out = stack.pg.psql(sql)?;
        Ok(out.trim().to_string())
    };
    let newest_run = one("SELECT id FROM workflow_runs ORDER BY created_at DESC, id DESC LIMIT 1")?;
    let failed = one(
        "SELECT r.id || '|' || s.id || '|' || s.name FROM workflow_runs r JOIN workflow_steps s ON s.run_id = r.id \
         WHERE r.status = 'failed' AND s.status = 'failed' ORDER BY r.created_at DESC, r.id DESC, s.id LIMIT 1",
    )?;
    let mut parts = failed.splitn(3, '|');
    let (run, step, name) = (parts.next(), parts.next(), parts.next());
    let (Some(run), Some(step), Some(name)) = (run, step, name) else {
        anyhow::bail!("no failed run with a failed step in the fixture: {failed:?}");
    };
    let dir = stack.playwright_dir();
    let screenshot = walk_pngs(dir)?
        .into_iter()
        .next()
        .context("no PNG in the Playwright reports")?;
    let bytes = std::fs::metadata(dir.join(&screenshot))?.len();
    Ok(plan::ContextFacts {
        newest_run: newest_run.parse().context("newest run id")?,
        failed_run: run.parse().context("failed run id")?,
        failed_step_name: name.to_string(),
        failed_step_id: step.parse().context("failed step id")?,
        screenshot,
        screenshot_bytes: bytes,
    })
}

/// The PNG files under `dir`, relative to it, sorted.
fn walk_pngs(dir: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "png") {
                found.push(path.strip_prefix(dir)?.display().to_string());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The tool names `tools/list` gives and the capabilities the server advertises (through the
/// suite's own rmcp client).
async fn listed_tools(config: &str) -> Result<(Vec<String>, serde_json::Value)> {
    let host = Host::start(binary(), config).await?;
    let tools = host.list_tools().await?;
    let info = host.client().peer_info().context("no initialize result")?;
    let capabilities = serde_json::to_value(&info.capabilities)?;
    Ok((
        tools.iter().map(|t| t.name.to_string()).collect(),
        capabilities,
    ))
}

/// A driver run: every `FAIL` line it printed, or its exit status when it printed none.
fn driver(sdk: Sdk, target: &Target, run: Run) -> Outcome {
    let mut problems: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("FAIL"))
        .map(|l| l.trim().to_string())
        .collect();
    if !run.success && problems.is_empty() {
        problems.push(format!("exited with an error:\n{}", tail(&run.stderr)));
    }
    if run.success && !problems.is_empty() {
        problems.push("printed FAIL lines but exited 0".into());
    }
    Outcome {
        client: format!("{} client over {}", sdk.name(), target.label()),
        problems,
        output: format!("{}{}", run.stdout, tail(&run.stderr)),
    }
}

/// The Inspector's strict check: exit 0, every tool listed, no `Error:` block.
fn inspector(run: Run, tools: usize) -> Outcome {
    let mut problems: Vec<String> = Vec::new();
    let lines: Vec<&str> = run.stderr.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("Error:") {
            let detail: Vec<&str> = lines[i + 1..]
                .iter()
                .take_while(|l| l.starts_with("  "))
                .filter(|l| !l.trim_start().starts_with("Suggestion:"))
                .map(|l| l.trim())
                .collect();
            problems.push(format!("{line} {}", detail.join(" ")));
        }
    }
    let summary = lines
        .iter()
        .find(|l| l.contains(" warnings across "))
        .map_or("no summary line", |l| l.trim());
    match serde_json::from_str::<serde_json::Value>(&run.stdout) {
        Ok(listing) => {
            let n = listing["tools"].as_array().map_or(0, Vec::len);
            if n != tools {
                problems.push(format!("listed {n} tools, expected {tools}"));
            }
        }
        Err(e) => problems.push(format!("stdout is not the tools/list result ({e})")),
    }
    if !run.success && problems.is_empty() {
        problems.push(format!("exited with an error:\n{}", tail(&run.stderr)));
    }
    Outcome {
        client: "MCP Inspector CLI --method tools/list --strict (stdio)".into(),
        problems,
        output: format!("{summary}\n"),
    }
}

/// Prints every client's output, then fails listing every problem of every client.
fn report(outcomes: &[Outcome], http: &HttpHost) -> Result<()> {
    for o in outcomes {
        println!("=== {}\n{}", o.client, o.output);
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.problems.is_empty())
        .map(|o| format!("{}:\n  - {}", o.client, o.problems.join("\n  - ")))
        .collect();
    ensure!(
        failed.is_empty(),
        "{} of {} clients found problems:\n{}\n\nserve --http log (tail):\n{}",
        failed.len(),
        outcomes.len(),
        failed.join("\n"),
        tail(&http.log())
    );
    Ok(())
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(400) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// The last 40 lines of a text.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(40);
    lines[start..].join("\n")
}

/// The drivers' own failure paths: a broken expectation, an unexpected success and an
/// unlisted tool each make a driver exit non-zero naming the tool; a plan that holds passes.
#[tokio::test]
async fn drivers_name_the_tool_whose_answer_breaks_the_plan() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("plue-mcp.toml");
    std::fs::write(&config, example_config(dir.path()))?;
    let home = dir.path().join("home");
    std::fs::create_dir(&home)?;
    let target = Target::Stdio {
        binary: binary().to_path_buf(),
        config,
    };
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        json!({"calls": [
            {"tool": "echo", "arguments": {"text": "ping"}, "expect": "ok", "contains": ["pong"]},
            {"tool": "echo", "arguments": {"text": "ping"}, "expect": "error"},
            {"tool": "no_such_tool", "arguments": {}, "expect": "ok"},
        ]})
        .to_string(),
    )?;
    let holds = dir.path().join("holds.json");
    std::fs::write(
        &holds,
        json!({"calls": [
            {"tool": "echo", "arguments": {"text": "ping"}, "expect": "ok", "contains": ["ping"]},
            {"tool": "echo", "arguments": {"text": 7}, "expect": "error", "contains": ["text"]},
        ]})
        .to_string(),
    )?;
    let mut problems = Vec::new();
    for sdk in Sdk::ALL {
        let name = sdk.name();
        let out = clients::sdk_client(sdk, &broken, &target, &home).await?;
        if out.success {
            problems.push(format!("{name}: a broken plan passed:\n{}", out.stdout));
        }
        let fails: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| l.starts_with("FAIL"))
            .collect();
        for (tool, why) in [
            ("echo", "answer lacks \"pong\""),
            ("echo", "expected isError, got success"),
            ("no_such_tool", "planned but not listed"),
        ] {
            if !fails.iter().any(|l| l.contains(tool) && l.contains(why)) {
                problems.push(format!(
                    "{name}: no FAIL line naming {tool} with `{why}`:\n{}",
                    out.stdout
                ));
            }
        }
        let out = clients::sdk_client(sdk, &holds, &target, &home).await?;
        if !out.success {
            problems.push(format!(
                "{name}: a plan that holds failed:\n{}{}",
                out.stdout,
                tail(&out.stderr)
            ));
        }
    }
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// The example plugin granted resources that answer nothing: enough for `echo`.
fn example_config(data: &Path) -> String {
    format!(
        "[endpoints.web]\nurl = \"http://127.0.0.1:9\"\n\n[databases.main]\nurl = \"${{PLUE_CLIENTS_TEST_UNSET}}\"\n\n\
         [directories.data]\npath = {:?}\n\n[plugins.example]\nhttp = [\"web\"]\nsql = [\"main\"]\ndirectories = [\"data\"]\n",
        data.display().to_string()
    )
}
