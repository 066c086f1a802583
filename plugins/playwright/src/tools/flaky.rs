//! `flaky_tests`: tests that passed only on a retry, and, when the directory
//! holds several reports, tests that passed in some runs and failed in others.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::{Scope, by_spec};
use crate::history;
use crate::report::{Case, Outcome, Report};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    #[schemars(extend("default" = 20))]
    pub limit: Option<u32>,
    #[serde(flatten)]
    pub scope: Scope,
}

/// What `flaky_tests` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Flaky {
    // The runs compared, oldest first: report path and start time.
    pub runs: Vec<String>,
    // Flaky specs in all (before `limit`).
    pub total: usize,
    pub tests: Vec<FlakyTest>,
}

// A spec that is flaky in at least one project.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlakyTest {
    pub title: String,
    pub file: String,
    pub line: Option<u32>,
    // Passed only on a retry in the latest run, in some project.
    pub flaky_in_latest: bool,
    pub projects: Vec<ProjectHistory>,
}

// One project's outcomes run by run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectHistory {
    pub project: String,
    // Outcome in each compared run, oldest first; null when the test was not in that run.
    pub history: Vec<Option<Outcome>>,
    // Runs where it passed only on a retry.
    pub runs_flaky: usize,
    // Runs where it failed in the end.
    pub runs_failed: usize,
    // Runs where it passed on the first attempt.
    pub runs_passed: usize,
}

impl ProjectHistory {
    fn is_flaky(&self) -> bool {
        self.runs_flaky > 0 || (self.runs_failed > 0 && self.runs_passed > 0)
    }

    /// How unstable: retry-flaky runs, plus the minority side of pass/fail.
    fn score(&self) -> usize {
        self.runs_flaky + self.runs_failed.min(self.runs_passed + self.runs_flaky)
    }
}

pub fn run(args: Args) -> Result<Answer<Flaky>, ToolError> {
    let latest = args.scope.load()?;
    let mut runs = history::runs(latest.clone());
    args.scope.narrow(&mut runs);
    let labels: Vec<String> = runs.iter().map(history::label).collect();
    let latest_index = runs
        .iter()
        .position(|r| r.path == latest.path)
        .unwrap_or(runs.len() - 1);

    // Every test of any run, latest run's order first.
    let mut all: Vec<&Case> = latest.cases.iter().collect();
    for run in &runs {
        for case in &run.cases {
            if history::same(&latest, case).is_none() && !all.iter().any(|c| same_test(c, case)) {
                all.push(case);
            }
        }
    }
    let mut found: Vec<(usize, FlakyTest)> = Vec::new();
    for spec in by_spec(all.iter().copied()) {
        let projects: Vec<ProjectHistory> =
            spec.iter().map(|case| history_of(&runs, case)).collect();
        if !projects.iter().any(ProjectHistory::is_flaky) {
            continue;
        }
        let flaky_in_latest = projects
            .iter()
            .any(|p| p.history.get(latest_index).copied().flatten() == Some(Outcome::Flaky));
        let score = projects
            .iter()
            .map(ProjectHistory::score)
            .max()
            .unwrap_or(0);
        found.push((
            score,
            FlakyTest {
                title: spec[0].title.clone(),
                file: spec[0].file.clone(),
                line: spec[0].line,
                flaky_in_latest,
                projects,
            },
        ));
    }
    found.sort_by_key(|(score, t)| std::cmp::Reverse((t.flaky_in_latest, *score)));
    let taken = text::take(
        found.into_iter().map(|(_, t)| t),
        text::limit(args.limit, 20, 200),
    );
    let compared = if runs.len() == 1 {
        format!(
            "in {} (the only report in the directory: keep older JSON reports beside it to compare runs)",
            latest.path
        )
    } else {
        format!(
            "across {} runs, oldest first: {}",
            runs.len(),
            labels.join(", ")
        )
    };
    if taken.total == 0 {
        return Ok(Answer::new(
            format!("No flaky tests {compared}."),
            Flaky {
                runs: labels,
                total: 0,
                tests: Vec::new(),
            },
        ));
    }
    let mut out = vec![format!(
        "{} {compared}",
        text::count(taken.total, "flaky test")
    )];
    for (i, test) in taken.items.iter().enumerate() {
        let location = test
            .line
            .map(|l| format!("{}:{l}", test.file))
            .unwrap_or_else(|| test.file.clone());
        out.push(format!("\n{}. {} — {location}", i + 1, test.title));
        // Projects with the same history share one line.
        let mut lines: Vec<(Vec<&str>, String)> = Vec::new();
        for p in &test.projects {
            let line = describe(p, runs.len());
            match lines.iter_mut().find(|(_, l)| *l == line) {
                Some((names, _)) => names.push(&p.project),
                None => lines.push((vec![&p.project], line)),
            }
        }
        for (names, line) in lines {
            out.push(format!("   {}: {line}", names.join(", ")));
        }
        if let Some(error) = latest_flaky_error(&latest, test) {
            out.push(format!("   Failed attempt's error: {error}"));
        }
    }
    if let Some(note) = taken.note("flaky tests", "raise `limit`, or pass `project`") {
        out.push(format!("\n{note}"));
    }
    Ok(Answer::new(
        out.join("\n"),
        Flaky {
            runs: labels,
            total: taken.total,
            tests: taken.items,
        },
    ))
}

fn same_test(a: &Case, b: &Case) -> bool {
    a.file == b.file && a.title == b.title && a.project == b.project
}

fn history_of(runs: &[Report], case: &Case) -> ProjectHistory {
    let history: Vec<Option<Outcome>> = runs
        .iter()
        .map(|run| history::same(run, case).map(|c| c.outcome))
        .collect();
    let count = |f: fn(Outcome) -> bool| history.iter().flatten().filter(|o| f(**o)).count();
    ProjectHistory {
        project: case.project.clone(),
        runs_flaky: count(|o| o == Outcome::Flaky),
        runs_failed: count(Outcome::is_failure),
        runs_passed: count(|o| o == Outcome::Passed),
        history,
    }
}

/// `flaky, flaky, flaky (passed only on retry in 3 of 3 runs)`.
fn describe(p: &ProjectHistory, runs: usize) -> String {
    let outcomes: Vec<&str> = p
        .history
        .iter()
        .map(|o| o.map_or("absent", Outcome::label))
        .collect();
    let mut why = Vec::new();
    if p.runs_flaky > 0 {
        why.push(format!(
            "passed only on retry in {} of {runs} runs",
            p.runs_flaky
        ));
    }
    if p.runs_failed > 0 && p.runs_passed + p.runs_flaky > 0 {
        why.push(format!("failed in {} of {runs} runs", p.runs_failed));
    }
    if why.is_empty() {
        why.push("stable".into());
    }
    if runs == 1 {
        return why.join("; ").replace(" in 1 of 1 runs", "");
    }
    format!("{} ({})", outcomes.join(", "), why.join("; "))
}

/// The first line of the error a flaky test's failed attempt hit in the latest run.
fn latest_flaky_error(latest: &Report, test: &FlakyTest) -> Option<String> {
    let case = latest
        .cases
        .iter()
        .find(|c| c.file == test.file && c.title == test.title && c.outcome == Outcome::Flaky)?;
    let error = case.last_error()?;
    let line = super::failures::ErrorLine::of(error);
    Some(line.render())
}

pub fn def() -> ToolDef {
    tool(
        "flaky_tests",
        "Tests that passed only on retry or flip between kept runs.",
        run,
    )
    .title("Flaky tests")
    .read_only()
}

#[cfg(test)]
mod tests {
    use crate::tools::testing::call;
    use serde_json::json;

    #[test]
    fn retries_and_runs_that_disagree() {
        let out = call("flaky_tests", json!({})).unwrap();
        assert_eq!(
            out.text_content(),
            "2 flaky tests across 3 runs, oldest first: runs/run-1.json (2026-11-24T23:12:38Z), runs/run-2.json (2026-11-24T23:13:26Z), test-results/results.json (2026-11-24T23:14:07Z)

1. login › remembers the session — auth/login.spec.ts:20
   chromium-desktop, chromium-mobile: flaky, flaky, flaky (passed only on retry in 3 of 3 runs)
   Failed attempt's error: expect(locator).toHaveText(expected) failed (at auth/login.spec.ts:27:44)

2. workflow runs › cancels a queued run — workflows/runs.spec.ts:21
   chromium-desktop, chromium-mobile: failed, passed, passed (failed in 1 of 3 runs)"
        );
        let s = out.structured().unwrap();
        assert_eq!(s["tests"][1]["flaky_in_latest"], false);
        assert_eq!(
            s["tests"][1]["projects"][0]["history"],
            json!(["failed", "passed", "passed"])
        );
    }

    #[test]
    fn one_project_and_limit() {
        let out = call(
            "flaky_tests",
            json!({"project": "chromium-mobile", "limit": 1}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(
            text.contains(
                "\n   chromium-mobile: flaky, flaky, flaky (passed only on retry in 3 of 3 runs)\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("Showing 1 of 2 flaky tests (1 left out); to narrow: raise `limit`, or pass `project`."), "{text}");
    }
}
