//! The prompts: the skill prompt `test-debugging-guide` (a decision tree over
//! this plugin's tools and the failure patterns they meet, headed by the latest
//! run's numbers, optionally focused on one test) and this plugin's part of the
//! shared `observability` prompt, which it adds to only with `full`: the latest
//! test run's verdict (an empty briefing otherwise, for the host to skip).

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::{PromptDef, text};

use crate::report::{self, Report};
use crate::tools::{Counts, Scope, by_spec, details, headline, patterns, summary};
use crate::{fmt, links};

/// The heading every part opens with.
pub const HEADING: &str = "## Playwright";

/// The prompts, in manifest order.
pub fn defs() -> Vec<PromptDef> {
    vec![
        prompt(
            "test-debugging-guide",
            "How to debug Playwright test failures with these tools: a decision tree, known failure patterns, and the latest run's numbers.",
            guide,
        )
        .title("Test debugging guide (Playwright)")
        .argument(
            "test",
            "Part of a test's title to focus on (its verdict per project, first error and attachments); default none.",
        ),
        prompt(
            "observability",
            "Current state of the system: what is down, alerting, failing or slow, and what to look at next.",
            observability,
        )
        .title("Observability briefing")
        .argument(
            "full",
            "`true` for the detailed briefing (adds the latest Playwright run); default a short one.",
        ),
    ]
}

const TREE: &str = "Which tool for which question:
- Did the run pass? test_summary (verdict, counts per project, failing and flaky titles, other runs kept).
- What failed? list_failures (one entry per spec, each project's verdict and first error line).
- Same cause behind several failures? failure_patterns (errors grouped with numbers and quoted values masked).
- One test in depth? test_details {\"testTitle\": \"…\"} (every attempt's full error, stdout and attachments), then view_attachment or read the linked plue://playwright/attachments/… resource (screenshot, error-context page snapshot).
- Passes on retry, or fails in some runs only? flaky_tests (compares every report kept in the directory).
- Getting slower or timing out? slow_tests (durations across runs).
- Trace, video and other files? test_artifacts; a trace.zip opens with `npx playwright show-trace`.
- Where is the spec? list_test_files (files with pass/fail counts).";

const PATTERNS: &str = "Known failure patterns:
1. `Test timeout of Nms exceeded` with `locator.waitFor` or `page.goto`: the element or page never came. Read the error-context (the page as it was) and screenshot; if the page is an error or blank, the backend is down or slow: check the services (service_health, find_errors) before the test.
2. `expected N items, got M` or `expect(locator).toHaveText`: an assertion on data. Different numbers across runs or projects mean shared or leftover state (test isolation, seed data), not a selector bug; flaky_tests shows whether it varies.
3. `strict mode violation: locator resolved to N elements`: the selector matches several elements; make it specific (role, test id).
4. `net::ERR_CONNECTION_REFUSED` on page.goto: the web server (Plue's web on port 5173, API on 4000) was not running when the test started.
5. Passed on retry (flaky): timing; look for waits on fixed timeouts and races with network requests in the failed attempt's error and trace.
6. Reading the reports: attachment paths in a report are absolute paths of the machine that ran the tests; the tools map them into the directory (`test-results/…`), so use the paths they show. An older report's attachment may be `replaced` by a later run's file of the same name. Inline attachments are named `inline:…`. A report written elsewhere (such as e2e/test-results/results.json) needs the `report` setting.";

/// The latest run's numbers in one line, and the report (or why there is none).
fn headline_of(report: &Report) -> String {
    let counts = Counts::of(&report.cases);
    let specs = by_spec(&report.cases);
    let failing = specs
        .iter()
        .filter(|g| g.iter().any(|c| c.outcome.is_failure()))
        .count();
    let flaky = specs
        .iter()
        .filter(|g| g.iter().any(|c| c.outcome == report::Outcome::Flaky))
        .count();
    let when = report
        .start_time
        .as_deref()
        .map(|t| format!(" of {}", fmt::time(t)))
        .unwrap_or_default();
    format!(
        "Latest run{when} ({}): {}: {}; {} failing, {} flaky.",
        report.path,
        text::count(counts.tests, "test"),
        counts.sentence(),
        text::count(failing, "spec"),
        text::count(flaky, "spec")
    )
}

fn guide(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let mut parts = vec![format!("{HEADING} guide")];
    let mut links: Vec<Link> = Vec::new();
    match report::load(None) {
        Err(e) => parts.push(format!("No report to read yet: {e}")),
        Ok(report) => {
            parts.push(headline_of(&report));
            let top = patterns::run(patterns::Args {
                include_flaky: false,
                limit: Some(1),
                scope: Scope::default(),
            })?;
            if let Some(p) = top.value().patterns.first() {
                parts.push(format!(
                    "Most common cause: `{}` ({} of {} failing results).",
                    p.pattern,
                    p.results,
                    top.value().failing_results
                ));
            }
            links.push(links::report(&report.path, "the latest run".into()));
            if let Some(test) = args.get("test") {
                let (text, more) = focus(&report, test)?;
                parts.push(text);
                links.extend(more);
            }
        }
    }
    parts.push(String::new());
    parts.push(TREE.into());
    parts.push(String::new());
    parts.push(PATTERNS.into());
    parts.push(String::new());
    parts.push(
        "Next: test_summary, then list_failures and failure_patterns; test_details for the first failing test."
            .into(),
    );
    let briefing = Briefing::text(parts.join("\n")).described("Debugging Playwright tests");
    Ok(links.into_iter().fold(briefing, Briefing::with_link))
}

/// The test matching `test`: each project's verdict and first error, and links
/// to its attachments.
fn focus(report: &Report, test: &str) -> Result<(String, Vec<Link>), ToolError> {
    let needle = test.trim().to_lowercase();
    if !report.cases.iter().any(|c| c.matches(&needle)) {
        return Err(ToolError::invalid(format!(
            "`test`: no test in {} has `{test}` in its title or file; complete `test` for the titles",
            report.path
        )));
    }
    let found = details::run(details::Args {
        test_title: test.to_string(),
        scope: Scope::default(),
    })?;
    let d = found.value();
    let location = d.line.map_or(d.file.clone(), |l| format!("{}:{l}", d.file));
    let mut lines = vec![format!("\nTest `{}` ({location}):", d.title)];
    for p in &d.projects {
        let error = p
            .attempts
            .iter()
            .rev()
            .find_map(|a| a.errors.first())
            .map(|e| {
                let at = e
                    .location
                    .as_deref()
                    .map(|l| format!(" (at {l})"))
                    .unwrap_or_default();
                format!(": {}{at}", headline(&e.message))
            })
            .unwrap_or_default();
        lines.push(format!(
            "- {}: {} after {}{error}",
            p.project,
            p.outcome.label(),
            text::count(p.attempts.len(), "attempt")
        ));
    }
    lines.push(format!(
        "Next for it: test_details {{\"testTitle\": \"{}\"}}; its attachments are linked below.",
        d.title
    ));
    Ok((lines.join("\n"), details::attachment_links(d, 4)))
}

fn observability(args: &PromptArgs) -> Result<Briefing, ToolError> {
    if !args.flag("full") {
        return Ok(Briefing::default());
    }
    let text = match summary::run(summary::Args {
        scope: Scope::default(),
    }) {
        Err(e) => format!("{HEADING}\nNo test report: {e}"),
        Ok(answer) => {
            let s = answer.value();
            let when = s
                .start_time
                .as_deref()
                .map(|t| format!(" of {}", fmt::time(t)))
                .unwrap_or_default();
            let mut lines = vec![
                HEADING.to_string(),
                format!(
                    "Latest test run{when}: {} ({}: {}; report {}).",
                    s.status.to_uppercase(),
                    text::count(s.counts.tests, "test"),
                    s.counts.sentence(),
                    s.report
                ),
            ];
            for (label, titles) in [("Failing", &s.failing_tests), ("Flaky", &s.flaky_tests)] {
                if !titles.is_empty() {
                    let taken = text::take(titles.iter().cloned(), 3);
                    let more = if taken.left_out() > 0 {
                        format!("; and {} more", taken.left_out())
                    } else {
                        String::new()
                    };
                    lines.push(format!(
                        "{label} ({}): {}{more}.",
                        titles.len(),
                        taken.items.join("; ")
                    ));
                }
            }
            lines.push(if s.status == "passed" {
                "Next: nothing failing; slow_tests if the run got slower.".into()
            } else {
                "Next: list_failures, failure_patterns, flaky_tests.".into()
            });
            lines.join("\n")
        }
    };
    Ok(Briefing::text(text).described("Playwright: the latest test run"))
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::tools::testing::{mount_fixtures, temp_dir};

    fn render(name: &str, args: &[(&str, &str)]) -> plue_plugin_sdk::Briefing {
        mount_fixtures();
        testing::prompt(&plugin(), name, args).unwrap()
    }

    #[test]
    fn the_guide_starts_from_the_latest_run() {
        let b = render("test-debugging-guide", &[]);
        let text = b.texts().join("\n");
        assert!(
            text.starts_with(
                "## Playwright guide
Latest run of 2026-11-24T23:14:07Z (test-results/results.json): 24 tests: 14 passed, 2 flaky, 4 failed, 2 timed out, 2 skipped; 3 specs failing, 1 spec flaky.
Most common cause: `expected N items, got N` (4 of 6 failing results).

Which tool for which question:
- Did the run pass? test_summary"
            ),
            "{text}"
        );
        assert!(
            text.contains("\nKnown failure patterns:\n1. `Test timeout of Nms exceeded`"),
            "{text}"
        );
        assert!(
            text.ends_with("test_details for the first failing test."),
            "{text}"
        );
        assert_eq!(
            b.resource_uris(),
            ["plue://playwright/reports/test-results%2Fresults.json"]
        );
        assert_eq!(b.description(), Some("Debugging Playwright tests"));
    }

    #[test]
    fn the_guide_focuses_on_one_test_with_its_attachments() {
        let b = render("test-debugging-guide", &[("test", "counts queued")]);
        let text = b.texts().join("\n");
        assert!(text.contains(
            "Test `workflow runs › counts queued runs` (workflows/runs.spec.ts:7):
- chromium-desktop: failed after 2 attempts: expected 7 items, got 9 (at workflows/runs.spec.ts:10:55)
- chromium-mobile: failed after 2 attempts: expected 7 items, got 9 (at workflows/runs.spec.ts:10:55)
Next for it: test_details {\"testTitle\": \"workflow runs › counts queued runs\"}"
        ), "{text}");
        let uris = b.resource_uris();
        assert_eq!(uris.len(), 5);
        assert_eq!(
            uris[1],
            "plue://playwright/attachments/test-results/workflows-runs-workflow-runs-counts-queued-runs-chromium-desktop/test-failed-1.png"
        );
        mount_fixtures();
        let err = testing::prompt(
            &plugin(),
            "test-debugging-guide",
            &[("test", "no such test")],
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "invalid arguments: `test`: no test in test-results/results.json has `no such test` in its title or file; complete `test` for the titles"
        );
    }

    #[test]
    fn without_a_report_the_guide_says_so_and_still_guides() {
        let dir = temp_dir("guide-empty");
        testing::mount(crate::report::DIR, &dir);
        let b = testing::prompt(&plugin(), "test-debugging-guide", &[]).unwrap();
        let text = b.texts().join("\n");
        assert!(
            text.starts_with("## Playwright guide\nNo report to read yet: no Playwright JSON report in directory `playwright`"),
            "{text}"
        );
        assert!(text.contains("Which tool for which question:"), "{text}");
        assert!(b.resource_uris().is_empty());
        let b = testing::prompt(&plugin(), "observability", &[("full", "yes")]).unwrap();
        assert!(
            b.texts()[0].starts_with("## Playwright\nNo test report: no Playwright JSON report"),
            "{:?}",
            b.texts()
        );
    }

    #[test]
    fn observability_adds_the_latest_run_only_when_full() {
        let b = render("observability", &[]);
        assert!(b.texts().is_empty() && b.resource_uris().is_empty());
        let b = render("observability", &[("full", "false")]);
        assert!(b.texts().is_empty());
        let b = render("observability", &[("full", "true")]);
        assert_eq!(
            b.texts(),
            ["## Playwright
Latest test run of 2026-11-24T23:14:07Z: FAILED (24 tests: 14 passed, 2 flaky, 4 failed, 2 timed out, 2 skipped; report test-results/results.json).
Failing (3): repository browser › counts open issues; workflow runs › counts queued runs; workflow runs › waits for the deploy to finish.
Flaky (1): login › remembers the session.
Next: list_failures, failure_patterns, flaky_tests."]
        );
        let manifest = plue_plugin_sdk::__private::manifest(&plugin());
        let obs = manifest
            .prompts
            .iter()
            .find(|p| p.name == "observability")
            .unwrap();
        assert_eq!(obs.arguments.len(), 1);
        assert_eq!(
            (obs.arguments[0].name.as_str(), obs.arguments[0].required),
            ("full", false)
        );
    }
}
