//! `list_failures`: the tests that failed or timed out, one entry per spec with
//! each project's verdict, attempts and durations, and the error's first line.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::details::AttachmentInfo;
use super::{Counts, Scope, by_spec, headline, projects, whole_ms};
use crate::attachment::Resolver;
use crate::report::{Case, ErrorInfo, Outcome};
use crate::{fmt, links};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    #[schemars(extend("default" = 20))]
    pub limit: Option<u32>,
    #[serde(flatten)]
    pub scope: Scope,
}

/// What `list_failures` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Failures {
    pub report: String,
    // Failing specs in all (before `limit`).
    pub total: usize,
    // Failing results (a spec in one project).
    pub failing_results: usize,
    pub failures: Vec<Failure>,
}

// A spec that failed in at least one project.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Failure {
    pub title: String,
    pub file: String,
    pub line: Option<u32>,
    pub projects: Vec<ProjectFailure>,
}

// The spec in one project where it failed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectFailure {
    pub project: String,
    pub outcome: Outcome,
    pub attempts: usize,
    /// ms.
    pub final_attempt_ms: u64,
    /// ms, all attempts.
    pub total_ms: u64,
    // The final attempt's errors: first line and where it was thrown.
    pub errors: Vec<ErrorLine>,
}

// An error's first line and location.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ErrorLine {
    pub message: String,
    // `file:line:column`, relative to the specs' root.
    pub location: Option<String>,
}

impl ErrorLine {
    pub fn of(error: &ErrorInfo) -> ErrorLine {
        ErrorLine {
            message: headline(&error.message),
            location: error.location.clone(),
        }
    }

    /// `expected 3 items, got 5 (at repo/browse.spec.ts:14:53)`.
    pub fn render(&self) -> String {
        match &self.location {
            Some(at) => format!("{} (at {at})", self.message),
            None => self.message.clone(),
        }
    }
}

pub fn run(args: Args) -> Result<Answer<Failures>, ToolError> {
    let report = args.scope.load()?;
    let failing: Vec<&Case> = report
        .cases
        .iter()
        .filter(|c| c.outcome.is_failure())
        .collect();
    if failing.is_empty() {
        return Ok(Answer::new(
            format!(
                "No failing tests in {} ({}: {}).",
                report.path,
                text::count(report.cases.len(), "test"),
                Counts::of(&report.cases).sentence()
            ),
            Failures {
                report: report.path.clone(),
                total: 0,
                failing_results: 0,
                failures: Vec::new(),
            },
        ));
    }
    let groups = by_spec(failing.iter().copied());
    let taken = text::take(groups, text::limit(args.limit, 20, 200));
    let mut out = vec![format!(
        "{} ({} on {}) in {}:",
        text::count(taken.total, "failing test"),
        text::count(failing.len(), "result"),
        text::count(count_projects(&failing), "project"),
        report.path
    )];
    let mut failures = Vec::new();
    for (i, group) in taken.items.iter().enumerate() {
        let first = group[0];
        let mut lines = vec![format!(
            "\n{}. {} — {}",
            i + 1,
            first.title,
            first.location()
        )];
        let verdicts = by_outcome(group);
        lines.push(format!("   {verdicts}"));
        let per_project: Vec<Vec<ErrorLine>> = group.iter().map(|c| error_lines(c)).collect();
        let shared = per_project.windows(2).all(|w| w[0] == w[1]);
        if shared {
            lines.extend(render_errors(&per_project[0], "   "));
        }
        for (case, errors) in group.iter().zip(&per_project) {
            lines.push(format!(
                "   {}: {}, {}; final attempt {}, total {}",
                case.project,
                case.outcome.label(),
                text::count(case.attempts.len(), "attempt"),
                fmt::ms(case.final_ms()),
                fmt::ms(case.total_ms())
            ));
            if !shared {
                lines.extend(render_errors(errors, "     "));
            }
        }
        out.push(lines.join("\n"));
        failures.push(Failure {
            title: first.title.clone(),
            file: first.file.clone(),
            line: first.line,
            projects: group
                .iter()
                .zip(per_project)
                .map(|(c, errors)| ProjectFailure {
                    project: c.project.clone(),
                    outcome: c.outcome,
                    attempts: c.attempts.len(),
                    final_attempt_ms: whole_ms(c.final_ms()),
                    total_ms: whole_ms(c.total_ms()),
                    errors,
                })
                .collect(),
        });
    }
    let mut tail = Vec::new();
    if let Some(note) = taken.note("failing tests", "raise `limit`, or pass `project`") {
        tail.push(note);
    }
    tail.push("Full errors and attachments: test_details with testTitle; grouped causes: failure_patterns.".into());
    out.push(format!("\n{}", tail.join("\n")));
    let links = final_attachments(&report, taken.items.iter().flatten().copied());
    let answer = Answer::new(
        out.join("\n"),
        Failures {
            report: report.path.clone(),
            total: taken.total,
            failing_results: failing.len(),
            failures,
        },
    );
    Ok(links.into_iter().fold(answer, Answer::with_link))
}

/// Links to the final attempt's screenshots and error contexts of `cases`, a few.
fn final_attachments<'a>(
    report: &crate::report::Report,
    cases: impl Iterator<Item = &'a Case>,
) -> Vec<Link> {
    let resolver = Resolver::new(report);
    let infos: Vec<(AttachmentInfo, String)> = cases
        .filter_map(|case| case.attempts.last().map(|a| (case, a)))
        .flat_map(|(case, attempt)| {
            attempt.attachments.iter().map(|a| {
                (
                    AttachmentInfo::of(&resolver, case, attempt, a),
                    format!(
                        "{} [{}] attempt {}",
                        case.title,
                        case.project,
                        attempt.retry + 1
                    ),
                )
            })
        })
        .collect();
    links::attachments(infos.iter().map(|(i, a)| (i, a.clone())), links::MAX_LINKS)
}

fn count_projects(cases: &[&Case]) -> usize {
    let mut seen: Vec<&str> = Vec::new();
    for c in cases {
        if !seen.contains(&c.project.as_str()) {
            seen.push(&c.project);
        }
    }
    seen.len()
}

/// `failed on chromium-desktop, chromium-mobile` (one clause per outcome).
fn by_outcome(group: &[&Case]) -> String {
    let mut clauses: Vec<String> = Vec::new();
    let mut outcomes: Vec<Outcome> = group.iter().map(|c| c.outcome).collect();
    outcomes.dedup();
    for outcome in outcomes {
        let cases: Vec<&Case> = group
            .iter()
            .copied()
            .filter(|c| c.outcome == outcome)
            .collect();
        clauses.push(format!("{} on {}", outcome.label(), projects(&cases)));
    }
    clauses.join("; ")
}

/// The final attempt's errors, first lines (at most three).
pub fn error_lines(case: &Case) -> Vec<ErrorLine> {
    case.last_errors()
        .iter()
        .take(3)
        .map(ErrorLine::of)
        .collect()
}

fn render_errors(errors: &[ErrorLine], indent: &str) -> Vec<String> {
    errors
        .iter()
        .enumerate()
        .map(|(i, e)| {
            format!(
                "{indent}{}: {}",
                if i == 0 { "Error" } else { "Also" },
                e.render()
            )
        })
        .collect()
}

pub fn def() -> ToolDef {
    tool(
        "list_failures",
        "Failed tests with projects, first error line, location and attempts.",
        run,
    )
    .title("Failing tests")
    .read_only()
}

#[cfg(test)]
mod tests {
    use crate::tools::testing::call;
    use serde_json::json;

    #[test]
    fn lists_each_failing_spec_once_with_its_projects() {
        let out = call("list_failures", json!({})).unwrap();
        assert_eq!(
            out.text_content(),
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

3. workflow runs › waits for the deploy to finish — workflows/runs.spec.ts:14
   timed out on chromium-desktop, chromium-mobile
   Error: Test timeout of 1500ms exceeded.
   Also: locator.waitFor: Test timeout of 1500ms exceeded. (at workflows/runs.spec.ts:17:67)
   chromium-desktop: timed out, 2 attempts; final attempt 1753 ms, total 3327 ms
   chromium-mobile: timed out, 2 attempts; final attempt 1573 ms, total 3182 ms

Full errors and attachments: test_details with testTitle; grouped causes: failure_patterns."
        );
        let s = out.structured().unwrap();
        assert_eq!((&s["total"], &s["failing_results"]), (&json!(3), &json!(6)));
        assert_eq!(s["failures"][2]["projects"][0]["outcome"], "timed_out");
        assert_eq!(
            s["failures"][0]["projects"][0]["errors"][0]["location"],
            "repo/browse.spec.ts:14:53"
        );
    }

    #[test]
    fn limit_and_project_narrow() {
        let out = call(
            "list_failures",
            json!({"limit": 1, "project": "chromium-mobile"}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with(
                "3 failing tests (3 results on 1 project) in test-results/results.json:"
            ),
            "{text}"
        );
        assert!(text.contains(
            "Showing 1 of 3 failing tests (2 left out); to narrow: raise `limit`, or pass `project`."
        ));
        let out = call(
            "list_failures",
            json!({"project": "chromium-desktop", "report": "runs/run-2.json"}),
        )
        .unwrap();
        assert_eq!(out.structured().unwrap()["total"], 3);
    }

    #[test]
    fn says_so_when_nothing_failed() {
        let dir = crate::tools::testing::temp_dir("no-failures");
        std::fs::create_dir_all(dir.join("test-results")).unwrap();
        let report = std::fs::read_to_string(
            crate::tools::testing::fixtures().join("test-results/results.json"),
        )
        .unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&report).unwrap();
        v["suites"] = json!([v["suites"][0].clone()]);
        v["suites"][0]["suites"][0]["specs"] =
            json!([v["suites"][0]["suites"][0]["specs"][0].clone()]);
        std::fs::write(dir.join("test-results/results.json"), v.to_string()).unwrap();
        plue_plugin_sdk::testing::mount(crate::report::DIR, &dir);
        let out =
            plue_plugin_sdk::testing::call(&crate::plugin(), "list_failures", json!({})).unwrap();
        assert_eq!(
            out.text_content(),
            "No failing tests in test-results/results.json (2 tests: 2 passed)."
        );
    }

    #[test]
    fn links_the_final_attempts_screenshots_first() {
        let out = call("list_failures", json!({})).unwrap();
        let uris: Vec<&str> = out.links().iter().map(|l| l.uri()).collect();
        let shot = |dir: &str| {
            format!("plue://playwright/attachments/test-results/{dir}-retry1/test-failed-1.png")
        };
        assert_eq!(
            uris,
            [
                shot("repo-browse-repository-browser-counts-open-issues-chromium-desktop"),
                shot("repo-browse-repository-browser-counts-open-issues-chromium-mobile"),
                shot("workflows-runs-workflow-runs-counts-queued-runs-chromium-desktop"),
                shot("workflows-runs-workflow-runs-counts-queued-runs-chromium-mobile"),
                shot(
                    "workflows-runs-workflow-runs-waits-for-the-deploy-to-finish-chromium-desktop"
                ),
            ]
        );
        assert!(out.links().iter().all(|l| l.mime() == Some("image/png")));
        assert_eq!(
            out.links()[0].name(),
            "screenshot: repository browser › counts open issues [chromium-desktop] attempt 2"
        );
    }
}
