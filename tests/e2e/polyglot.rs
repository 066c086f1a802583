//! Plugins in Python and JavaScript, built from source by their own `build.sh`
//! (componentize-py from PyPI, componentize-js from npm) against `wit/plugin.wit`
//! (contract 0.2, world `plugin`), loaded from a path pinned by sha256 next to a
//! bundled Rust group, and called over MCP: the Python `slo_burn_rate`, prompt
//! `slo-report`, resources `plue://slo/{job}` and `job` completion against the
//! suite's real Prometheus; the JavaScript `flaky_trend`, prompt `flaky-brief`,
//! resources `plue://flaky/{+test}` and `test` completion on the real Playwright
//! reports; each refused what it was not granted, and stopped by the time and
//! memory limits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};
use plue_tests::mcp::{self, Host};
use plue_tests::polyglot::{self, Language};
use plue_tests::prometheus::{PromServer, expected};
use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, GetPromptRequestParams, ReadResourceRequestParams,
    Reference, ResourceContents,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn binary() -> &'static Path {
    super::example::binary()
}

fn sha256(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// For tests that call no Prometheus tool: nothing listens on the discard port.
const NO_PROMETHEUS: &str = "http://127.0.0.1:9";

fn reports_dir() -> PathBuf {
    polyglot::repo_root().join("tests/fixtures/playwright")
}

/// Both plugins, pinned by sha256 and prefixed (they both offer `echo`), next to
/// the bundled Rust `prometheus` group sharing the same endpoint.
fn config(prom_url: &str, python: &Path, js: &Path, limits: &str) -> Result<String> {
    Ok(format!(
        r#"
[endpoints.prometheus]
url = "{prom_url}"

[directories.reports]
path = "{reports}"

[plugins.prometheus]
http = ["prometheus"]

[plugins.slo]
path = "{python}"
sha256 = "{python_sha}"
http = ["prometheus"]
prefix = "py_"
{limits}

[plugins.flaky]
path = "{js}"
sha256 = "{js_sha}"
directories = ["reports"]
prefix = "js_"
{limits}
"#,
        reports = reports_dir().display(),
        python = python.display(),
        python_sha = sha256(python)?,
        js = js.display(),
        js_sha = sha256(js)?,
    ))
}

struct Built {
    python: PathBuf,
    js: PathBuf,
}

/// Build both components (off the async runtime: a cold build takes minutes).
async fn built() -> Result<Built> {
    tokio::task::spawn_blocking(|| {
        Ok(Built {
            python: polyglot::build(Language::Python)?,
            js: polyglot::build(Language::JavaScript)?,
        })
    })
    .await?
}

async fn prometheus() -> Result<PromServer> {
    tokio::task::spawn_blocking(PromServer::start).await?
}

#[test]
fn inspect_shows_each_manifest_and_what_it_asks_for() -> Result<()> {
    for (language, tools, asks, context) in [
        (
            Language::Python,
            ["slo_burn_rate", "echo", "stress"],
            "prometheus",
            ["slo-report(job*, objective)", "plue://slo/{job}"],
        ),
        (
            Language::JavaScript,
            ["flaky_trend", "echo", "stress"],
            "reports",
            ["flaky-brief(project, test)", "plue://flaky/{+test}"],
        ),
    ] {
        let wasm = polyglot::build(language)?;
        let out = Command::new(binary()).arg("inspect").arg(&wasm).output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        ensure!(
            out.status.success(),
            "inspect {}: {}",
            wasm.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        ensure!(
            text.contains(language.plugin_name()),
            "name missing:\n{text}"
        );
        ensure!(text.contains(&sha256(&wasm)?), "sha256 missing:\n{text}");
        ensure!(text.contains(asks), "capability `{asks}` missing:\n{text}");
        for tool in tools {
            ensure!(text.contains(tool), "tool `{tool}` missing:\n{text}");
        }
        for item in context {
            ensure!(text.contains(item), "`{item}` missing:\n{text}");
        }
        ensure!(
            text.contains("plue:plugin/http@0.2.0: ok")
                && !text.contains("REFUSED")
                && !text.contains("loading would refuse it")
                && !text.contains("wasi:sockets"),
            "{text}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_pin_refuses_the_component() -> Result<()> {
    let b = built().await?;
    let cfg = format!(
        "[plugins.flaky]\npath = \"{}\"\nsha256 = \"{}\"\ndirectories = [\"reports\"]\n[directories.reports]\npath = \"{}\"\n",
        b.js.display(),
        "0".repeat(64),
        reports_dir().display()
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("plue-mcp.toml");
    std::fs::write(&path, cfg)?;
    let out = Command::new(binary())
        .arg("check")
        .arg("--config")
        .arg(&path)
        .output()?;
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(!out.status.success(), "check passed a wrong pin:\n{all}");
    ensure!(
        all.contains("sha256 mismatch") && all.contains(&sha256(&b.js)?),
        "{all}"
    );
    Ok(())
}

fn windows() -> Value {
    json!([
        {"long": "1h", "short": "5m", "threshold": 14.4},
        {"long": "2h", "short": "30m", "threshold": 6}
    ])
}

fn check_burns(report: &Value, want: f64, firing: bool) -> Result<()> {
    let rows = report["windows"].as_array().context("windows")?;
    ensure!(rows.len() == 2, "{report}");
    for row in rows {
        for key in ["long_burn_rate", "short_burn_rate"] {
            let got = row[key].as_f64().context("burn rate")?;
            ensure!(
                (got - want).abs() <= 1e-3 * want,
                "{key}: got {got}, want {want}"
            );
        }
        let threshold = row["threshold"].as_f64().unwrap_or_default();
        ensure!(row["firing"] == json!(want >= threshold), "{row}");
    }
    ensure!(report["firing"] == json!(firing), "{report}");
    Ok(())
}

#[tokio::test]
async fn python_slo_burn_rate_reads_the_real_prometheus() -> Result<()> {
    let (b, prom) = tokio::try_join!(built(), prometheus())?;
    let host = Host::start(binary(), &config(&prom.url(), &b.python, &b.js, "")?).await?;
    let tools = host.list_tools().await?;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for want in [
        "py_slo_burn_rate",
        "js_flaky_trend",
        "py_echo",
        "js_echo",
        "prometheus_query",
    ] {
        ensure!(names.contains(&want), "{want} not in {names:?}");
    }
    let slo = tools.iter().find(|t| t.name == "py_slo_burn_rate").unwrap();
    ensure!(
        slo.input_schema["required"] == json!(["job", "objective"]),
        "{:?}",
        slo.input_schema
    );
    ensure!(slo.output_schema.is_some(), "no output schema");

    // plue-api: 1 of 20 requests/s fail in every window.
    let api = expected::API;
    for (objective, firing) in [(0.99, false), (0.999, true)] {
        let (text, report) = host
            .answer(
                "py_slo_burn_rate",
                json!({"job": "plue-api", "objective": objective, "windows": windows()}),
                &["NaN"],
            )
            .await?;
        let budget: f64 = 1.0 - objective;
        check_burns(&report, api.error_ratio / budget, firing).with_context(|| text.clone())?;
        ensure!(
            text.starts_with(&format!(
                "plue-api: {}",
                if firing { "FIRING" } else { "ok" }
            )),
            "{text}"
        );
    }
    // plue-web, the default windows: 1h/5m fits the data; the 6h window reaches past
    // the three hours Prometheus holds, so only its short window is checked.
    let web = expected::WEB;
    let (_, report) = host
        .answer(
            "py_slo_burn_rate",
            json!({"job": "plue-web", "objective": 0.99}),
            &[],
        )
        .await?;
    let first = &report["windows"][0];
    ensure!(first["long"] == "1h", "{report}");
    let want = web.error_ratio / 0.01;
    for key in ["long_burn_rate", "short_burn_rate"] {
        let got = first[key].as_f64().context("burn")?;
        ensure!((got - want).abs() <= 1e-3 * want, "{key} {got} vs {want}");
    }

    // Bad input: a job with no traffic, an objective out of range.
    let err = host
        .call_err(
            "py_slo_burn_rate",
            json!({"job": "no-such-job", "objective": 0.99}),
        )
        .await?;
    ensure!(
        err.contains("no requests") && err.contains("no-such-job"),
        "{err}"
    );
    let err = host
        .call_err(
            "py_slo_burn_rate",
            json!({"job": "plue-api", "objective": 1.5}),
        )
        .await?;
    ensure!(err.contains("`objective`"), "{err}");

    // An endpoint the operator did not grant this plugin: refused by the host.
    let err = host
        .call_err(
            "py_slo_burn_rate",
            json!({"job": "plue-api", "objective": 0.99, "endpoint": "loki"}),
        )
        .await?;
    ensure!(
        err.contains("access denied") && err.contains("loki"),
        "{err}"
    );
    // The Rust group beside it still answers.
    host.call_ok("prometheus_query", json!({"query": "up"}))
        .await?;
    Ok(())
}

fn prompt_params(name: &str, arguments: Value) -> GetPromptRequestParams {
    let mut params = GetPromptRequestParams::new(name);
    params.arguments = arguments.as_object().cloned();
    params
}

/// A rendered prompt's messages as JSON text (texts and resource links).
async fn prompt_text(host: &Host, name: &str, arguments: Value) -> Result<String> {
    let got = host
        .client()
        .get_prompt(prompt_params(name, arguments))
        .await
        .with_context(|| format!("prompt {name}"))?;
    Ok(serde_json::to_string(&got.messages)?)
}

async fn read(host: &Host, uri: &str) -> Result<Vec<ResourceContents>, String> {
    host.client()
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .map(|r| r.contents)
        .map_err(|e| e.to_string())
}

/// The one text content of a read, with its MIME type.
fn only_text(contents: &[ResourceContents]) -> Result<(String, Option<String>)> {
    match contents {
        [
            ResourceContents::TextResourceContents {
                text, mime_type, ..
            },
        ] => Ok((text.clone(), mime_type.clone())),
        other => anyhow::bail!("not one text content: {other:?}"),
    }
}

async fn complete(
    host: &Host,
    reference: Reference,
    argument: &str,
    value: &str,
) -> Result<Vec<String>> {
    let params = CompleteRequestParams::new(reference, ArgumentInfo::new(argument, value));
    Ok(host.client().complete(params).await?.completion.values)
}

/// The listed resources whose URI starts with `prefix`, in order.
async fn listed(host: &Host, prefix: &str) -> Result<Vec<String>> {
    Ok(host
        .client()
        .list_all_resources()
        .await?
        .into_iter()
        .map(|r| r.uri.clone())
        .filter(|u| u.starts_with(prefix))
        .collect())
}

/// The number right after `label` in `text`, up to the next `x` (a burn rate such as `50x`).
fn burn_after(text: &str, label: &str) -> Result<f64> {
    let at = text
        .find(label)
        .with_context(|| format!("`{label}` not in {text}"))?
        + label.len();
    let rest = text[at..].trim_start();
    let end = rest
        .find('x')
        .with_context(|| format!("no `x` after `{label}`"))?;
    rest[..end]
        .trim()
        .parse()
        .with_context(|| format!("burn after `{label}` in {text}"))
}

fn near(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-3 * want.abs().max(1e-9)
}

#[tokio::test]
async fn python_prompt_resources_and_completion_read_the_real_prometheus() -> Result<()> {
    let (b, prom) = tokio::try_join!(built(), prometheus())?;
    let host = Host::start(binary(), &config(&prom.url(), &b.python, &b.js, "")?).await?;
    let prompts = host.client().list_all_prompts().await?;
    let report = prompts
        .iter()
        .find(|p| p.name == "slo-report")
        .context("slo-report not listed")?;
    let args: Vec<(&str, Option<bool>)> = report
        .arguments
        .iter()
        .flatten()
        .map(|a| (a.name.as_str(), a.required))
        .collect();
    ensure!(
        args == [("job", Some(true)), ("objective", Some(false))],
        "{args:?}"
    );

    // plue-api: 1 of 20 requests/s fail; against 99% that burns 5x (under 14.4x and 6x).
    let api = expected::API;
    let text = prompt_text(
        &host,
        "slo-report",
        json!({"job": "plue-api", "objective": "0.99"}),
    )
    .await?;
    ensure!(text.contains("plue-api: ok against 99%"), "{text}");
    ensure!(
        near(burn_after(&text, "1h/5m: burn")?, api.error_ratio / 0.01),
        "{text}"
    );
    ensure!(text.contains("plue://slo/plue-api"), "no link: {text}");
    // The `objective` setting's default, 0.999: the same errors burn 50x, which pages.
    let text = prompt_text(&host, "slo-report", json!({"job": "plue-api"})).await?;
    let firing = api.error_ratio / 0.001 >= 14.4;
    ensure!(
        text.contains(if firing { "FIRING" } else { ": ok" }),
        "{text}"
    );
    let err = host
        .client()
        .get_prompt(prompt_params(
            "slo-report",
            json!({"job": "plue-api", "objective": "2"}),
        ))
        .await
        .unwrap_err()
        .to_string();
    ensure!(
        err.contains("objective `2`") && err.contains("between 0 and 1"),
        "{err}"
    );

    // One resource per job with traffic; a read is the job's table against 99.9%.
    let mut jobs = [api.job, expected::WEB.job].map(Option::unwrap_or_default);
    jobs.sort();
    let want: Vec<String> = jobs.iter().map(|j| format!("plue://slo/{j}")).collect();
    ensure!(listed(&host, "plue://slo/").await? == want, "{want:?}");
    let web = expected::WEB;
    let (page, mime) = only_text(
        &read(&host, "plue://slo/plue-web")
            .await
            .map_err(anyhow::Error::msg)?,
    )?;
    ensure!(mime.as_deref() == Some("text/markdown"), "{mime:?}");
    ensure!(page.starts_with("# SLO of plue-web"), "{page}");
    ensure!(
        near(burn_after(&page, "| 1h/5m |")?, web.error_ratio / 0.001),
        "{page}"
    );
    let err = read(&host, "plue://slo/no-such-job").await.unwrap_err();
    ensure!(
        err.contains("no requests") && err.contains("no-such-job"),
        "{err}"
    );

    // `job` completes from Prometheus, for the prompt and for the template.
    ensure!(
        complete(&host, Reference::for_prompt("slo-report"), "job", "plue-w").await?
            == ["plue-web"]
    );
    ensure!(
        complete(
            &host,
            Reference::for_resource("plue://slo/{job}"),
            "job",
            ""
        )
        .await?
            == jobs
    );
    Ok(())
}

/// `key` percent-encoded as a `{+test}` value: what the plugin's URIs hold.
fn encode_reserved(key: &str) -> String {
    key.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn js_prompt_resources_and_completion_read_the_real_reports() -> Result<()> {
    let b = built().await?;
    let host = Host::start(binary(), &config(NO_PROMETHEUS, &b.python, &b.js, "")?).await?;
    let counts = flaky_counts()?;
    let mut flaky: Vec<(&String, &(usize, usize))> =
        counts.iter().filter(|(_, (_, f))| *f > 0).collect();
    flaky.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
    ensure!(!flaky.is_empty(), "the fixture reports hold no flaky test");
    let uris: Vec<String> = flaky
        .iter()
        .map(|(k, _)| format!("plue://flaky/{}", encode_reserved(k)))
        .collect();

    let text = prompt_text(&host, "flaky-brief", json!({})).await?;
    ensure!(
        text.contains(&format!(
            "## Flaky tests: {} of {} passed only on retry in 3 report(s)",
            flaky.len(),
            counts.len()
        )),
        "{text}"
    );
    for uri in uris.iter().take(5) {
        ensure!(text.contains(uri.as_str()), "no link {uri}: {text}");
    }
    let err = host
        .client()
        .get_prompt(prompt_params("flaky-brief", json!({"test": "nope"})))
        .await
        .unwrap_err()
        .to_string();
    ensure!(err.contains("no test `nope`"), "{err}");

    // Each flaky test is a resource; a read is its history, run by run.
    ensure!(listed(&host, "plue://flaky/").await? == uris, "{uris:?}");
    let (key, (runs, flaky_runs)) = flaky[0];
    let (page, mime) = only_text(&read(&host, &uris[0]).await.map_err(anyhow::Error::msg)?)?;
    ensure!(mime.as_deref() == Some("text/markdown"), "{mime:?}");
    ensure!(
        page.starts_with(&format!(
            "# {key}\n\nFlaky in {flaky_runs} of {runs} run(s)"
        )),
        "{page}"
    );
    ensure!(page.matches("| flaky |").count() == *flaky_runs, "{page}");
    let err = read(&host, "plue://flaky/nope").await.unwrap_err();
    ensure!(err.contains("no test `nope`"), "{err}");

    // `test` completes from the reports: the flaky ones first, then the rest by name.
    let prefix = &key[..key.find(' ').unwrap_or(key.len())];
    let mut rest: Vec<&String> = counts
        .keys()
        .filter(|k| k.starts_with(prefix) && counts[*k].1 == 0)
        .collect();
    rest.sort();
    let want: Vec<&String> = flaky
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| k.starts_with(prefix))
        .chain(rest)
        .collect();
    let got = complete(&host, Reference::for_prompt("flaky-brief"), "test", prefix).await?;
    ensure!(
        got.iter().collect::<Vec<_>>() == want,
        "got {got:?}\nwant {want:?}"
    );
    let got = complete(
        &host,
        Reference::for_resource("plue://flaky/{+test}"),
        "test",
        prefix,
    )
    .await?;
    ensure!(got.len() == want.len(), "{got:?}");
    Ok(())
}

/// What the reports say, read here independently: per test, its status in each run.
fn flaky_counts() -> Result<BTreeMap<String, (usize, usize)>> {
    fn walk(suite: &Value, titles: &[String], run: &mut Vec<(String, String)>) {
        for spec in suite["specs"].as_array().into_iter().flatten() {
            for test in spec["tests"].as_array().into_iter().flatten() {
                let mut path = titles.to_vec();
                path.push(spec["title"].as_str().unwrap_or_default().into());
                let key = format!(
                    "{} › {} [{}]",
                    spec["file"].as_str().unwrap_or_default(),
                    path.iter()
                        .filter(|s| !s.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" › "),
                    test["projectName"].as_str().unwrap_or_default()
                );
                run.push((key, test["status"].as_str().unwrap_or_default().into()));
            }
        }
        for child in suite["suites"].as_array().into_iter().flatten() {
            let mut next = titles.to_vec();
            next.push(child["title"].as_str().unwrap_or_default().into());
            walk(child, &next, run);
        }
    }
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for file in [
        "runs/run-1.json",
        "runs/run-2.json",
        "test-results/results.json",
    ] {
        let report: Value = serde_json::from_slice(&std::fs::read(reports_dir().join(file))?)?;
        let mut run = Vec::new();
        for suite in report["suites"].as_array().into_iter().flatten() {
            walk(suite, &[], &mut run);
        }
        for (key, status) in run {
            let entry = counts.entry(key).or_default();
            if status != "skipped" {
                entry.0 += 1;
            }
            if status == "flaky" {
                entry.1 += 1;
            }
        }
    }
    Ok(counts)
}

#[tokio::test]
async fn js_flaky_trend_ranks_the_real_playwright_reports() -> Result<()> {
    let b = built().await?;
    let host = Host::start(binary(), &config(NO_PROMETHEUS, &b.python, &b.js, "")?).await?;
    let counts = flaky_counts()?;
    let mut want: Vec<(&String, &(usize, usize))> =
        counts.iter().filter(|(_, (_, f))| *f > 0).collect();
    want.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
    ensure!(!want.is_empty(), "the fixture reports hold no flaky test");

    let (text, out) = host.answer("js_flaky_trend", json!({}), &[]).await?;
    ensure!(out["reports"] == 3, "{out}");
    ensure!(out["tests_seen"] == json!(counts.len()), "{out}");
    ensure!(out["flaky_tests"] == json!(want.len()), "{out}");
    let got: Vec<(String, u64, u64)> = out["tests"]
        .as_array()
        .context("tests")?
        .iter()
        .map(|r| {
            (
                r["test"].as_str().unwrap_or_default().to_string(),
                r["runs"].as_u64().unwrap_or_default(),
                r["flaky_runs"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(String, u64, u64)> = want
        .iter()
        .map(|(k, (runs, flaky))| ((*k).clone(), *runs as u64, *flaky as u64))
        .collect();
    ensure!(got == expected, "got {got:?}\nwant {expected:?}\n{text}");
    ensure!(
        text.contains("passed only on retry") && text.contains("history flaky, flaky, flaky"),
        "{text}"
    );

    // Narrowed to one folder and project, and limited.
    let (_, out) = host
        .answer(
            "js_flaky_trend",
            json!({"path": "runs", "project": "chromium-mobile", "limit": 1}),
            &[],
        )
        .await?;
    ensure!(
        out["reports"] == 2 && out["tests"].as_array().map(Vec::len) == Some(1),
        "{out}"
    );

    // Out of the granted directory: the host's filesystem refuses; the host keeps serving.
    for path in ["../..", "../../../host"] {
        let err = host
            .call_err("js_flaky_trend", json!({"path": path}))
            .await?;
        ensure!(
            err.contains("not permitted") && err.contains("reports"),
            "{path}: {err}"
        );
    }
    let err = host
        .call_err(
            "js_flaky_trend",
            json!({"path": "test-results/auth-login-login-remembers-the-session-chromium-desktop"}),
        )
        .await?;
    ensure!(err.contains("no Playwright JSON report"), "{err}");
    host.call_ok("js_echo", json!({"text": "still here"}))
        .await?;
    Ok(())
}

#[tokio::test]
async fn both_languages_are_held_to_the_time_and_memory_limits() -> Result<()> {
    let b = built().await?;
    let limits = "call_timeout_ms = 1500\nmemory_mib = 64";
    let host = Host::start(binary(), &config(NO_PROMETHEUS, &b.python, &b.js, limits)?).await?;
    for (prefix, plugin) in [("py_", "slo"), ("js_", "flaky")] {
        let started = std::time::Instant::now();
        let err = host
            .call_err(&format!("{prefix}stress"), json!({"mode": "spin"}))
            .await?;
        ensure!(
            err.contains(&format!("plugin `{plugin}` exceeded its time limit"))
                && err.contains("1500 ms"),
            "{err}"
        );
        ensure!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "{plugin} stopped after {:?}",
            started.elapsed()
        );
        let err = host
            .call_err(&format!("{prefix}stress"), json!({"mode": "allocate"}))
            .await?;
        ensure!(
            err.contains(&format!(
                "plugin `{plugin}` exceeded its memory limit of 64 MiB"
            )),
            "{err}"
        );
        let r = host
            .call_ok(&format!("{prefix}echo"), json!({"text": "ok", "times": 2}))
            .await?;
        ensure!(mcp::text(&r) == "ok ok", "{}", mcp::text(&r));
        ensure!(mcp::structured(&r) == json!({"text": "ok", "times": 2}));
    }
    Ok(())
}
