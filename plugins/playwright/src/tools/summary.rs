//! `test_summary`: the verdict of the run, counts per outcome and per project,
//! durations, and which tests to look at next.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::{Counts, Scope, by_spec, whole_ms};
use crate::{fmt, history};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    #[serde(flatten)]
    pub scope: Scope,
}

/// What `test_summary` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Summary {
    // The report read, relative to the directory.
    pub report: String,
    pub start_time: Option<String>,
    // `passed` (flaky tests allowed), `failed`, or `empty` when no test ran.
    pub status: String,
    #[serde(flatten)]
    pub counts: Counts,
    // Share of the tests that ran (not skipped) that passed, flaky included, in percent.
    pub pass_rate_percent: Option<f64>,
    /// ms, wall clock.
    pub wall_duration_ms: Option<u64>,
    /// ms, all attempts.
    pub test_time_ms: u64,
    pub attempts: usize,
    // Attempts beyond the first.
    pub retries: usize,
    pub projects: Vec<ProjectSummary>,
    // Titles of the specs that failed in at least one project.
    pub failing_tests: Vec<String>,
    // Titles of the specs that passed only on a retry in at least one project.
    pub flaky_tests: Vec<String>,
    // Errors outside any test (global setup, configuration).
    pub report_errors: Vec<String>,
    // Other JSON reports in the directory (older runs), oldest first.
    pub other_runs: Vec<String>,
}

// One project's counts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectSummary {
    pub project: String,
    #[serde(flatten)]
    pub counts: Counts,
    /// ms, all attempts.
    pub test_time_ms: u64,
}

pub fn run(args: Args) -> Result<Answer<Summary>, ToolError> {
    let report = args.scope.load()?;
    let counts = Counts::of(&report.cases);
    let ran = counts.tests - counts.skipped;
    let pass_rate = (ran > 0).then(|| {
        let rate = (counts.passed + counts.flaky) as f64 * 100.0 / ran as f64;
        (rate * 10.0).round() / 10.0
    });
    let status = if counts.failing() > 0 || !report.errors.is_empty() {
        "failed"
    } else if counts.tests == 0 {
        "empty"
    } else {
        "passed"
    };
    let test_time: f64 = report.cases.iter().map(|c| c.total_ms()).sum();
    let attempts: usize = report.cases.iter().map(|c| c.attempts.len()).sum();
    let started = report.cases.iter().filter(|c| !c.attempts.is_empty());
    let retries = attempts.saturating_sub(started.count());
    let projects: Vec<ProjectSummary> = report
        .projects
        .iter()
        .filter_map(|p| {
            let cases: Vec<_> = report.cases.iter().filter(|c| &c.project == p).collect();
            (!cases.is_empty()).then(|| ProjectSummary {
                project: p.clone(),
                counts: Counts::of(cases.iter().copied()),
                test_time_ms: whole_ms(cases.iter().map(|c| c.total_ms()).sum()),
            })
        })
        .collect();
    let specs = by_spec(&report.cases);
    let titles = |pred: fn(&crate::report::Case) -> bool| -> Vec<String> {
        specs
            .iter()
            .filter(|g| g.iter().any(|c| pred(c)))
            .map(|g| g[0].title.clone())
            .collect()
    };
    let failing = titles(|c| c.outcome.is_failure());
    let flaky = titles(|c| c.outcome == crate::report::Outcome::Flaky);
    let other_runs: Vec<String> = history::runs(report.clone())
        .iter()
        .filter(|r| r.path != report.path)
        .map(|r| r.path.clone())
        .collect();

    let mut out = Vec::new();
    let when = report
        .start_time
        .as_deref()
        .map(fmt::time)
        .map(|t| format!(" of {t}"))
        .unwrap_or_default();
    out.push(format!(
        "Playwright run{when}: {} (report {})",
        status.to_uppercase(),
        report.path
    ));
    let sep = if specs.len() * projects.len() == counts.tests {
        " × "
    } else {
        ", "
    };
    let shape = format!(
        "{}{sep}{}",
        text::count(specs.len(), "spec"),
        text::count(projects.len(), "project")
    );
    out.push(format!(
        "{} ({shape}): {}",
        text::count(counts.tests, "test"),
        counts.sentence()
    ));
    if let Some(rate) = pass_rate {
        out.push(format!(
            "Pass rate: {rate}% of the {} that ran (flaky counted as passed)",
            text::count(ran, "test")
        ));
    }
    let wall = report
        .wall_ms
        .map(|w| format!("{} wall clock; ", fmt::ms(w)))
        .unwrap_or_default();
    out.push(format!(
        "Duration: {wall}{} of test time over {} ({} {})",
        fmt::ms(test_time),
        text::count(attempts, "attempt"),
        retries,
        if retries == 1 { "retry" } else { "retries" }
    ));
    if !projects.is_empty() {
        out.push(format!("\n{}", project_table(&projects)));
    }
    let mut next = Vec::new();
    if !report.errors.is_empty() {
        next.push(format!(
            "Report errors ({}): {}",
            report.errors.len(),
            report
                .errors
                .iter()
                .map(|e| super::headline(e))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if !failing.is_empty() {
        next.push(format!(
            "Failing ({}): {} (details: list_failures, failure_patterns)",
            failing.len(),
            listed(&failing)
        ));
    }
    if !flaky.is_empty() {
        next.push(format!(
            "Flaky ({}): {} (details: flaky_tests)",
            flaky.len(),
            listed(&flaky)
        ));
    }
    if !other_runs.is_empty() {
        next.push(format!(
            "Other runs in the directory: {} ({}); flaky_tests and slow_tests compare them",
            other_runs.len(),
            listed(&other_runs)
        ));
    }
    if !next.is_empty() {
        out.push(format!("\n{}", next.join("\n")));
    }
    let summary = Summary {
        report: report.path.clone(),
        start_time: report.start_time.clone(),
        status: status.into(),
        counts,
        pass_rate_percent: pass_rate,
        wall_duration_ms: report.wall_ms.map(whole_ms),
        test_time_ms: whole_ms(test_time),
        attempts,
        retries,
        projects,
        failing_tests: failing,
        flaky_tests: flaky,
        report_errors: report.errors.clone(),
        other_runs,
    };
    Ok(Answer::new(out.join("\n"), summary))
}

/// Per project: tests by outcome and test time, as an aligned table.
fn project_table(projects: &[ProjectSummary]) -> String {
    let rows: Vec<Vec<String>> = projects
        .iter()
        .map(|p| {
            let mut row = vec![p.project.clone()];
            row.extend(p.counts.cells());
            row.push(fmt::ms(p.test_time_ms as f64));
            row
        })
        .collect();
    let headers = [&["project"][..], &super::COUNT_HEADERS, &["test time"]].concat();
    text::table(&headers, &rows, 60)
}

/// At most five items joined by `; `, then how many more.
fn listed(items: &[String]) -> String {
    let shown = items.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
    if items.len() > 5 {
        format!("{shown}; and {} more", items.len() - 5)
    } else {
        shown
    }
}

pub fn def() -> ToolDef {
    tool(
        "test_summary",
        "Start here for Playwright: latest run's verdict, failed and flaky tests.",
        run,
    )
    .title("Test run summary")
    .read_only()
}

#[cfg(test)]
mod tests {
    use crate::tools::testing::call;
    use serde_json::json;

    #[test]
    fn summarises_the_latest_run_per_project() {
        let out = call("test_summary", json!({})).unwrap();
        assert_eq!(
            out.text_content(),
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
        let s = out.structured().unwrap();
        assert_eq!(s["status"], "failed");
        assert_eq!(
            (
                &s["tests"],
                &s["passed"],
                &s["flaky"],
                &s["failed"],
                &s["timed_out"],
                &s["skipped"]
            ),
            (
                &json!(24),
                &json!(14),
                &json!(2),
                &json!(4),
                &json!(2),
                &json!(2)
            )
        );
        assert_eq!(s["pass_rate_percent"], 72.7);
        assert_eq!(s["wall_duration_ms"], 40389);
        assert_eq!(s["projects"][1]["project"], "chromium-mobile");
        assert_eq!(s["projects"][1]["failed"], 2);
    }

    #[test]
    fn one_project_of_an_older_run() {
        let out = call(
            "test_summary",
            json!({"project": "chromium-mobile", "report": "runs/run-1.json"}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with(
                "Playwright run of 2026-11-24T23:12:38Z: FAILED (report runs/run-1.json)
12 tests (12 specs × 1 project): 6 passed, 1 flaky, 3 failed, 1 timed out, 1 skipped"
            ),
            "{text}"
        );
        let err = call("test_summary", json!({"project": "firefox"}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid arguments: `project`: no project `firefox` in test-results/results.json; its projects are `chromium-desktop`, `chromium-mobile`"
        );
    }
}
