//! End-to-end tests of the playwright tool group: the nine tools over MCP on the
//! reports of a real Playwright run (`tests/fixtures/playwright`), granted as
//! the read-only directory `playwright`, and every way out of that directory
//! refused.

use std::path::{Path, PathBuf};

use anyhow::Result;
use plue_tests::declared;
use plue_tests::mcp::{self, Host};
use serde_json::json;

/// The fixture reports: the latest run in `test-results/`, older runs in `runs/`.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/playwright")
        .canonicalize()
        .expect("tests/fixtures/playwright exists")
}

/// A configuration granting `dir` as `playwright`, with extra plugin settings.
fn config(dir: &Path, settings: &str) -> String {
    format!(
        "[directories.playwright]\npath = {:?}\n\n[plugins.playwright]\ndirectories = [\"playwright\"]\n{settings}",
        dir.display().to_string()
    )
}

async fn start(dir: &Path) -> Result<Host> {
    Host::start(Path::new(env!("CARGO_BIN_EXE_plue-mcp")), &config(dir, "")).await
}

const SHOT: &str =
    "test-results/auth-login-login-remembers-the-session-chromium-desktop/test-failed-1.png";

#[tokio::test]
async fn lists_the_declared_tools_read_only_with_output_schemas() -> Result<()> {
    let host = start(&fixtures()).await?;
    let tools = host.list_tools().await?;
    let declared = declared::bundled(super::example::binary(), "playwright")?;
    declared::listed_as_declared(&tools, &declared)?;
    declared::with_output_schemas(&tools)?;
    declared::every_tool_is(&declared, "read_only")?;
    let details = tools.iter().find(|t| t.name == "test_details").unwrap();
    assert_eq!(details.input_schema["required"], json!(["testTitle"]));
    Ok(())
}

#[tokio::test]
async fn summary_failures_and_patterns_of_the_latest_run() -> Result<()> {
    let host = start(&fixtures()).await?;

    let summary = host.call_ok("test_summary", json!({})).await?;
    assert_eq!(
        mcp::text(&summary),
        "Playwright run of 2026-11-24T23:14:07Z: FAILED (report test-results/results.json)
24 tests (12 specs × 2 projects): 14 passed, 2 flaky, 4 failed, 2 timed out, 2 skipped
Pass rate: 72.7% of the 22 tests that ran (flaky counted as passed)
Duration: 40.4 s wall clock; 44.6 s of test time over 32 attempts (8 retries)

project           tests  passed  flaky  failed  timed out  skipped  test time
----------------  -----  ------  -----  ------  ---------  -------  ---------
chromium-desktop  12     7       1      2       1          1        22.7 s
chromium-mobile   12     7       1      2       1          1        22.0 s

Failing (3): repository browser › counts open issues; workflow runs › counts queued runs; workflow runs › waits for the deploy to finish (details: list_failures, failure_patterns)
Flaky (1): login › remembers the session (details: flaky_tests)
Other runs in the directory: 2 (runs/run-1.json; runs/run-2.json); flaky_tests and slow_tests compare them"
    );
    let s = mcp::structured(&summary);
    assert_eq!(
        (&s["status"], &s["tests"], &s["failed"], &s["timed_out"]),
        (&json!("failed"), &json!(24), &json!(4), &json!(2))
    );
    assert_eq!(s["projects"][0]["project"], "chromium-desktop");

    let failures = host.call_ok("list_failures", json!({"limit": 2})).await?;
    assert_eq!(
        mcp::text(&failures),
        "3 failing tests (6 results on 2 projects) in test-results/results.json:

1. repository browser › counts open issues — repo/browse.spec.ts:11
   failed on chromium-desktop, chromium-mobile
   Error: expected 3 items, got 5 (at repo/browse.spec.ts:14:53)
   chromium-desktop: failed, 2 attempts; final attempt 1161 ms, total 2181 ms
   chromium-mobile: failed, 2 attempts; final attempt 697 ms, total 1188 ms

2. workflow runs › counts queued runs — workflows/runs.spec.ts:7
   failed on chromium-desktop, chromium-mobile
   Error: expected 7 items, got 9 (at workflows/runs.spec.ts:10:55)
   chromium-desktop: failed, 2 attempts; final attempt 691 ms, total 1062 ms
   chromium-mobile: failed, 2 attempts; final attempt 711 ms, total 1810 ms

Showing 2 of 3 failing tests (1 left out); to narrow: raise `limit`, or pass `project`.
Full errors and attachments: test_details with testTitle; grouped causes: failure_patterns."
    );
    assert_eq!(mcp::structured(&failures)["total"], 3);

    let patterns = host.call_ok("failure_patterns", json!({})).await?;
    assert_eq!(
        mcp::text(&patterns),
        "2 failure patterns among 6 failing results in test-results/results.json, most frequent first:

1. expected N items, got N — 4 results, 2 tests
   Seen as: expected 3 items, got 5 | expected 7 items, got 9
   - repository browser › counts open issues [chromium-desktop, chromium-mobile], thrown at repo/browse.spec.ts:14:53
   - workflow runs › counts queued runs [chromium-desktop, chromium-mobile], thrown at workflows/runs.spec.ts:10:55

2. Test timeout of Nms exceeded. — 2 results, 1 test
   Seen as: Test timeout of 1500ms exceeded.
   - workflow runs › waits for the deploy to finish [chromium-desktop, chromium-mobile], thrown at workflows/runs.spec.ts:17:67"
    );
    assert_eq!(mcp::structured(&patterns)["patterns"][0]["results"], 4);

    let err = host
        .call_err("list_failures", json!({"project": "firefox"}))
        .await?;
    assert!(
        err.contains("`project`: no project `firefox` in test-results/results.json; its projects are `chromium-desktop`, `chromium-mobile`"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn flaky_and_slow_tests_compare_the_runs_in_the_directory() -> Result<()> {
    let host = start(&fixtures()).await?;

    let flaky = host.call_ok("flaky_tests", json!({})).await?;
    assert_eq!(
        mcp::text(&flaky),
        "2 flaky tests across 3 runs, oldest first: runs/run-1.json (2026-11-24T23:12:38Z), runs/run-2.json (2026-11-24T23:13:26Z), test-results/results.json (2026-11-24T23:14:07Z)

1. login › remembers the session — auth/login.spec.ts:20
   chromium-desktop, chromium-mobile: flaky, flaky, flaky (passed only on retry in 3 of 3 runs)
   Failed attempt's error: expect(locator).toHaveText(expected) failed (at auth/login.spec.ts:27:44)

2. workflow runs › cancels a queued run — workflows/runs.spec.ts:21
   chromium-desktop, chromium-mobile: failed, passed, passed (failed in 1 of 3 runs)"
    );
    assert_eq!(
        mcp::structured(&flaky)["tests"][1]["projects"][1]["history"],
        json!(["failed", "passed", "passed"])
    );

    let slow = host.call_ok("slow_tests", json!({})).await?;
    assert_eq!(
        mcp::text(&slow),
        "2 tests took more than 5000 ms (all attempts together) in test-results/results.json, slowest first:

1. repository browser › loads the full commit history [chromium-desktop] — repo/browse.spec.ts:18
   7063 ms in 1 attempt, passed
   Across 3 runs, oldest first: 4028 ms → 5155 ms → 7063 ms (+75% since the oldest run)

2. repository browser › loads the full commit history [chromium-mobile] — repo/browse.spec.ts:18
   7027 ms in 1 attempt, passed
   Across 3 runs, oldest first: 4298 ms → 5487 ms → 7027 ms (+63% since the oldest run)"
    );
    assert_eq!(
        mcp::structured(&slow)["tests"][1]["history_ms"],
        json!([4298, 5487, 7027])
    );

    let retried = host
        .call_ok(
            "slow_tests",
            json!({"threshold": 3300, "project": "chromium-mobile"}),
        )
        .await?;
    assert_eq!(
        mcp::text(&retried),
        "2 tests took more than 3300 ms (all attempts together) in test-results/results.json, slowest first:

1. repository browser › loads the full commit history [chromium-mobile] — repo/browse.spec.ts:18
   7027 ms in 1 attempt, passed
   Across 3 runs, oldest first: 4298 ms → 5487 ms → 7027 ms (+63% since the oldest run)

2. login › remembers the session [chromium-mobile] — auth/login.spec.ts:20
   3363 ms over 2 attempts (final attempt 2474 ms), flaky
   Across 3 runs, oldest first: 2843 ms → 3080 ms → 3363 ms (+18% since the oldest run)"
    );
    Ok(())
}

#[tokio::test]
async fn details_artifacts_and_files() -> Result<()> {
    let host = start(&fixtures()).await?;

    let details = host
        .call_ok(
            "test_details",
            json!({"testTitle": "Remembers The Session", "project": "chromium-mobile"}),
        )
        .await?;
    assert_eq!(
        mcp::text(&details),
        "login › remembers the session — auth/login.spec.ts:20

[chromium-mobile] flaky: passed on attempt 2 of 2; final attempt 2474 ms, total 3363 ms
  Attempt 1 (retry 0): failed in 889 ms
    Error at auth/login.spec.ts:27:44:
      Error: expect(locator).toHaveText(expected) failed

      Locator:  locator('#message')
      Expected: \"Welcome back, alice\"
      Received: \"\"
      Timeout:  150ms

      Call log:
        - Expect \"toHaveText\" locator('#message') with timeout 150ms
        - waiting for locator('#message')
          5 × locator resolved to <p id=\"message\" role=\"status\"></p>
            - unexpected value \"\"


        25 |     await page.click('button[type=submit]');
        26 |     const timeout = testInfo.retry === 0 ? 150 : 3_000;
      > 27 |     await expect(page.locator('#message')).toHaveText('Welcome back, alice', { timeout });
           |                                            ^
        28 |   });
        29 |
        30 |   test('signs in with single sign-on', async ({ page }) => {
          at /work/main/tests/playwright-project/specs/auth/login.spec.ts:27:44
    Attachments:
      - screenshot (image/png, 2.0 KiB): test-results/auth-login-login-remembers-the-session-chromium-mobile/test-failed-1.png
      - error-context (text/markdown, 2.6 KiB): test-results/auth-login-login-remembers-the-session-chromium-mobile/error-context.md
  Attempt 2 (retry 1): passed in 2474 ms"
    );
    assert_eq!(mcp::structured(&details)["projects"][0]["outcome"], "flaky");

    let artifacts = host
        .call_ok(
            "test_artifacts",
            json!({"testTitle": "attaches run metadata", "project": "chromium-desktop"}),
        )
        .await?;
    assert_eq!(
        mcp::text(&artifacts),
        "6 artifacts matching `attaches run metadata` from 1 test attempt in test-results/results.json (failing tests first):

workflow runs › attaches run metadata [chromium-desktop] attempt 1 (passed)
  - [json] runs-table (application/json, 917 B): test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-desktop/attachments/runs-table-62a9d746df357d580424cbb17f5babae29fd3738.json
  - [json] console-logs (application/json, 139 B): inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-desktop/0/console-logs
  - [text] build-log (text/plain, 67 B): inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-desktop/0/build-log
  - [image] runs-page (image/png, 13.5 KiB): test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-desktop/attachments/runs-page-ace9d47b53a748ca7586156210d1512c82be3998.png

Other files (2), not attachments of this report:
  - [image] test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-desktop/runs-page.png (13.5 KiB)
  - [json] test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-desktop/runs.json (917 B)

Open one with view_attachment (attachmentPath = the path or inline: name shown)."
    );

    let files = host.call_ok("list_test_files", json!({})).await?;
    assert_eq!(
        mcp::text(&files),
        "4 spec files in test-results/results.json (paths relative to the run's rootDir), failing first:

status  file                    specs  tests  passed  flaky  failed  timed out  skipped  test time
------  ----------------------  -----  -----  ------  -----  ------  ---------  -------  ---------
FAIL    workflows/runs.spec.ts  4      8      4       0      2       2          0        12.5 s
FAIL    repo/browse.spec.ts     3      6      4       0      2       0          0        20.3 s
FLAKY   auth/login.spec.ts      4      8      4       2      0       0          2        10.6 s
PASS    workflows/logs.spec.ts  1      2      2       0      0       0          0        1204 ms

No spec files in the granted directory (the specs live outside it; paths above come from the report)."
    );
    assert_eq!(
        mcp::structured(&files)["files"][0]["file"],
        "workflows/runs.spec.ts"
    );
    Ok(())
}

#[tokio::test]
async fn attachments_screenshots_as_images_json_pretty_printed() -> Result<()> {
    let host = start(&fixtures()).await?;

    let shot = host
        .call_ok("view_attachment", json!({"attachmentPath": SHOT}))
        .await?;
    assert_eq!(
        mcp::text(&shot),
        format!("Screenshot `{SHOT}`: PNG image, 480×320 px, 7.0 KiB (the image follows).")
    );
    let images: Vec<_> = shot.content.iter().filter_map(|c| c.as_image()).collect();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].mime_type, "image/png");
    // 7208 bytes of PNG, base64-encoded: starts with the PNG signature.
    assert_eq!(images[0].data.len(), 9612);
    assert!(images[0].data.starts_with("iVBORw0KGgo"));
    assert_eq!(mcp::structured(&shot)["width"], 480);

    let logs = "inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-mobile/0/console-logs";
    let json = host
        .call_ok("view_attachment", json!({"attachmentPath": logs}))
        .await?;
    assert_eq!(
        mcp::text(&json),
        format!(
            "JSON `console-logs` ({logs}): application/json, 139 B\n\n[\n  {{\n    \"text\": \"runs page loaded\",\n    \"timestamp\": 1700000000000,\n    \"type\": \"log\"\n  }},\n  {{\n    \"text\": \"11 runs rendered\",\n    \"timestamp\": 1700000000150,\n    \"type\": \"warning\"\n  }}\n]"
        )
    );

    let trace = "test-results/workflows-logs-workflow-run-logs-shows-the-build-log-chromium-desktop/attachments/trace-d0d24a35cc79951ff241c4abfc84a58cb6aa5a82.zip";
    let described = host
        .call_ok("view_attachment", json!({"attachmentPath": trace}))
        .await?;
    assert_eq!(
        mcp::text(&described),
        format!(
            "Trace `{trace}`: application/zip, 4.1 KiB — a Playwright trace: open it with `npx playwright show-trace {trace}`."
        )
    );
    Ok(())
}

#[tokio::test]
async fn no_path_leads_out_of_the_granted_directory() -> Result<()> {
    // A copy of the latest report, with symlinks that lead out of the directory.
    let outside = tempfile::tempdir()?;
    std::fs::write(outside.path().join("secret.txt"), "top secret")?;
    let dir = tempfile::tempdir()?;
    let results = dir.path().join("test-results");
    std::fs::create_dir_all(&results)?;
    std::fs::copy(
        fixtures().join("test-results/results.json"),
        results.join("results.json"),
    )?;
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), results.join("leak.txt"))?;
    std::os::unix::fs::symlink(outside.path(), results.join("outside"))?;
    std::os::unix::fs::symlink("/etc/passwd", results.join("passwd.json"))?;
    let host = start(dir.path()).await?;

    let err = host
        .call_err(
            "view_attachment",
            json!({"attachmentPath": "../../etc/passwd"}),
        )
        .await?;
    assert!(
        err.contains("path `../../etc/passwd` leaves the `playwright` directory (`..` is not allowed); give a path relative to it"),
        "{err}"
    );
    let err = host
        .call_err("view_attachment", json!({"attachmentPath": "/etc/passwd"}))
        .await?;
    assert!(
        err.contains(
            "path `/etc/passwd` is absolute; give a path relative to the `playwright` directory"
        ),
        "{err}"
    );
    let refused = |link: &str| {
        format!(
            "`{link}` is outside directory `playwright` or not readable \
             (symlinks out of a granted directory are refused)"
        )
    };
    for link in [
        "test-results/leak.txt",
        "test-results/outside/secret.txt",
        "test-results/passwd.json",
    ] {
        let err = host
            .call_err("view_attachment", json!({"attachmentPath": link}))
            .await?;
        assert!(err.ends_with(&refused(link)), "{err}");
        assert!(
            !err.contains("top secret") && !err.contains("root:"),
            "{err}"
        );
    }
    let err = host
        .call_err(
            "test_summary",
            json!({"report": "test-results/passwd.json"}),
        )
        .await?;
    assert!(err.ends_with(&refused("test-results/passwd.json")), "{err}");

    // The listing shows none of the links either.
    let artifacts = host
        .call_ok("test_artifacts", json!({"testTitle": "leak"}))
        .await?;
    assert_eq!(
        mcp::text(&artifacts),
        "No artifacts matching `leak` in test-results/results.json."
    );
    Ok(())
}

#[tokio::test]
async fn the_report_setting_and_a_missing_report() -> Result<()> {
    let settings = "\n[plugins.playwright.settings]\nreport = \"runs/run-1.json\"\n";
    let binary = Path::new(env!("CARGO_BIN_EXE_plue-mcp"));
    let host = Host::start(binary, &config(&fixtures(), settings)).await?;
    let summary = host
        .call_ok("test_summary", json!({"project": "chromium-desktop"}))
        .await?;
    assert!(
        mcp::text(&summary).starts_with(
            "Playwright run of 2026-11-24T23:12:38Z: FAILED (report runs/run-1.json)
12 tests (12 specs × 1 project): 6 passed, 1 flaky, 3 failed, 1 timed out, 1 skipped"
        ),
        "{}",
        mcp::text(&summary)
    );

    let empty = tempfile::tempdir()?;
    let host = start(empty.path()).await?;
    let err = host.call_err("list_failures", json!({})).await?;
    assert!(
        err.contains(
            "no Playwright JSON report in directory `playwright`: looked for `test-results/results.json`, \
             `playwright-report/results.json`, `results.json` (the first is the `report` setting)"
        ),
        "{err}"
    );
    std::fs::write(empty.path().join("results.json"), "{\"config\": {}")?;
    let err = host.call_err("test_summary", json!({})).await?;
    assert!(
        err.contains("`results.json` in directory `playwright` is not a Playwright JSON report ("),
        "{err}"
    );
    Ok(())
}
