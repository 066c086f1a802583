//! `failure_patterns`: failing results grouped by the shape of their error, so
//! that failures differing only in numbers or quoted values count as one cause.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::{Scope, by_spec, headline, projects};
use crate::fmt;
use crate::report::{Case, Outcome};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// Also group failed attempts of flaky tests.
    #[serde(default)]
    pub include_flaky: bool,
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    #[schemars(extend("default" = 10))]
    pub limit: Option<u32>,
    #[serde(flatten)]
    pub scope: Scope,
}

/// What `failure_patterns` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Patterns {
    pub report: String,
    // Failing results (a spec in one project) grouped.
    pub failing_results: usize,
    // Patterns in all (before `limit`).
    pub total: usize,
    pub patterns: Vec<Pattern>,
}

// One error shape and the tests that hit it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Pattern {
    // The error's first line with numbers as `N` and quoted values as `"…"`.
    pub pattern: String,
    // Failing results with this pattern.
    pub results: usize,
    // The distinct first lines behind the pattern (at most 5).
    pub examples: Vec<String>,
    pub tests: Vec<AffectedTest>,
}

// A spec hit by a pattern, and in which projects.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AffectedTest {
    pub title: String,
    pub file: String,
    pub line: Option<u32>,
    pub projects: Vec<String>,
    // Where the error was thrown, `file:line:column`.
    pub location: Option<String>,
}

struct Group<'a> {
    pattern: String,
    examples: Vec<String>,
    cases: Vec<&'a Case>,
    location: Vec<Option<String>>,
}

pub fn run(args: Args) -> Result<Answer<Patterns>, ToolError> {
    let report = args.scope.load()?;
    let mut groups: Vec<Group> = Vec::new();
    let mut results = 0;
    for case in &report.cases {
        let error = match case.outcome {
            o if o.is_failure() => case.last_error(),
            Outcome::Flaky if args.include_flaky => case.last_error(),
            _ => continue,
        };
        results += 1;
        let line = error
            .map(|e| headline(&e.message))
            .unwrap_or_else(|| "(no error message)".into());
        let pattern = fmt::error_pattern(&line);
        let group = match groups.iter_mut().position(|g| g.pattern == pattern) {
            Some(i) => &mut groups[i],
            None => {
                groups.push(Group {
                    pattern,
                    examples: Vec::new(),
                    cases: Vec::new(),
                    location: Vec::new(),
                });
                groups.last_mut().expect("just pushed")
            }
        };
        if !group.examples.contains(&line) && group.examples.len() < 5 {
            group.examples.push(line);
        }
        group.cases.push(case);
        group
            .location
            .push(case.last_errors().iter().find_map(|e| e.location.clone()));
    }
    // Most results first; ties keep report order (the sort is stable).
    groups.sort_by_key(|g| std::cmp::Reverse(g.cases.len()));
    let what = if args.include_flaky {
        "failing or flaky results"
    } else {
        "failing results"
    };
    if groups.is_empty() {
        return Ok(Answer::new(
            format!("No {what} in {}.", report.path),
            Patterns {
                report: report.path.clone(),
                failing_results: 0,
                total: 0,
                patterns: Vec::new(),
            },
        ));
    }
    let taken = text::take(groups, text::limit(args.limit, 10, 100));
    let mut out = vec![format!(
        "{} among {} {what} in {}, most frequent first:",
        text::count(taken.total, "failure pattern"),
        results,
        report.path
    )];
    let mut patterns = Vec::new();
    for (i, group) in taken.items.iter().enumerate() {
        let specs = by_spec(group.cases.iter().copied());
        out.push(format!(
            "\n{}. {} — {}, {}",
            i + 1,
            group.pattern,
            text::count(group.cases.len(), "result"),
            text::count(specs.len(), "test")
        ));
        out.push(format!("   Seen as: {}", group.examples.join(" | ")));
        let mut tests = Vec::new();
        for spec in &specs {
            let index = group
                .cases
                .iter()
                .position(|c| std::ptr::eq(*c, spec[0]))
                .unwrap_or(0);
            let location = group.location[index].clone();
            let at = location
                .as_deref()
                .map(|l| format!(", thrown at {l}"))
                .unwrap_or_default();
            tests.push(AffectedTest {
                title: spec[0].title.clone(),
                file: spec[0].file.clone(),
                line: spec[0].line,
                projects: spec.iter().map(|c| c.project.clone()).collect(),
                location,
            });
            if tests.len() <= 5 {
                out.push(format!("   - {} [{}]{at}", spec[0].title, projects(spec)));
            }
        }
        if specs.len() > 5 {
            out.push(format!("   … and {} more tests", specs.len() - 5));
        }
        patterns.push(Pattern {
            pattern: group.pattern.clone(),
            results: group.cases.len(),
            examples: group.examples.clone(),
            tests,
        });
    }
    if let Some(note) = taken.note("patterns", "raise `limit`, or pass `project`") {
        out.push(format!("\n{note}"));
    }
    Ok(Answer::new(
        out.join("\n"),
        Patterns {
            report: report.path.clone(),
            failing_results: results,
            total: taken.total,
            patterns,
        },
    ))
}

pub fn def() -> ToolDef {
    tool(
        "failure_patterns",
        "Failing tests grouped by error: the one bug behind many failures.",
        run,
    )
    .title("Failure patterns")
    .read_only()
}

#[cfg(test)]
mod tests {
    use crate::tools::testing::call;
    use serde_json::json;

    #[test]
    fn failures_differing_only_in_numbers_group_together() {
        let out = call("failure_patterns", json!({})).unwrap();
        assert_eq!(
            out.text_content(),
            "2 failure patterns among 6 failing results in test-results/results.json, most frequent first:

1. expected N items, got N — 4 results, 2 tests
   Seen as: expected 3 items, got 5 | expected 7 items, got 9
   - repository browser › counts open issues [chromium-desktop, chromium-mobile], thrown at repo/browse.spec.ts:14:53
   - workflow runs › counts queued runs [chromium-desktop, chromium-mobile], thrown at workflows/runs.spec.ts:10:55

2. Test timeout of Nms exceeded. — 2 results, 1 test
   Seen as: Test timeout of 1500ms exceeded.
   - workflow runs › waits for the deploy to finish [chromium-desktop, chromium-mobile], thrown at workflows/runs.spec.ts:17:67"
        );
        let s = out.structured().unwrap();
        assert_eq!(s["patterns"][0]["results"], 4);
        assert_eq!(
            s["patterns"][0]["tests"][1]["projects"],
            json!(["chromium-desktop", "chromium-mobile"])
        );
    }

    #[test]
    fn flaky_errors_on_request_and_limit() {
        let out = call(
            "failure_patterns",
            json!({"include_flaky": true, "limit": 1}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(text.starts_with(
            "3 failure patterns among 8 failing or flaky results in test-results/results.json, most frequent first:"
        ), "{text}");
        assert!(
            text.ends_with(
                "Showing 1 of 3 patterns (2 left out); to narrow: raise `limit`, or pass `project`."
            ),
            "{text}"
        );
        let out = call(
            "failure_patterns",
            json!({"include_flaky": true, "project": "chromium-mobile"}),
        )
        .unwrap();
        let s = out.structured().unwrap();
        assert_eq!(
            s["patterns"][1]["pattern"],
            "expect(locator).toHaveText(expected) failed"
        );
        assert_eq!(
            s["patterns"][1]["tests"][0]["title"],
            "login › remembers the session"
        );
    }
}
