//! `slow_tests`: the tests that took longest (all attempts together, with the
//! final attempt named), and how their duration moved across the runs in the
//! directory.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::{Scope, whole_ms};
use crate::report::{Case, Outcome};
use crate::{fmt, history};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    #[schemars(extend("default" = 10))]
    pub limit: Option<u32>,
    /// ms, all attempts; default 5000.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub threshold: Option<f64>,
    #[serde(flatten)]
    pub scope: Scope,
}

/// What `slow_tests` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Slow {
    pub report: String,
    pub threshold_ms: f64,
    // Tests over the threshold in all (before `limit`).
    pub total: usize,
    // The runs compared for `history_ms`, oldest first.
    pub runs: Vec<String>,
    pub tests: Vec<SlowTest>,
}

// A test (a spec in one project) over the threshold.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SlowTest {
    pub title: String,
    pub file: String,
    pub line: Option<u32>,
    pub project: String,
    pub outcome: Outcome,
    pub attempts: usize,
    /// ms, all attempts.
    pub total_ms: u64,
    /// ms.
    pub final_attempt_ms: u64,
    // Total duration in each compared run, oldest first; null when absent from a run.
    pub history_ms: Vec<Option<u64>>,
}

pub fn run(args: Args) -> Result<Answer<Slow>, ToolError> {
    let threshold = args.threshold.unwrap_or(5000.0).max(0.0);
    let report = args.scope.load()?;
    let mut runs = history::runs(report.clone());
    args.scope.narrow(&mut runs);
    let labels: Vec<String> = runs.iter().map(history::label).collect();
    let mut slow: Vec<&Case> = report
        .cases
        .iter()
        .filter(|c| c.total_ms() > threshold)
        .collect();
    slow.sort_by(|a, b| b.total_ms().total_cmp(&a.total_ms()));
    let taken = text::take(slow, text::limit(args.limit, 10, 200));
    let mut structured = Slow {
        report: report.path.clone(),
        threshold_ms: threshold,
        total: taken.total,
        runs: labels.clone(),
        tests: Vec::new(),
    };
    if taken.total == 0 {
        let slowest = report
            .cases
            .iter()
            .max_by(|a, b| a.total_ms().total_cmp(&b.total_ms()));
        let text = match slowest {
            Some(c) => format!(
                "No test took more than {} in {}; the slowest was {} [{}] at {}. Lower `threshold` to see more.",
                fmt::ms(threshold),
                report.path,
                c.title,
                c.project,
                fmt::ms(c.total_ms())
            ),
            None => format!("No tests in {}.", report.path),
        };
        return Ok(Answer::new(text, structured));
    }
    let mut out = vec![format!(
        "{} took more than {} (all attempts together) in {}, slowest first:",
        text::count(taken.total, "test"),
        fmt::ms(threshold),
        report.path
    )];
    for (i, case) in taken.items.iter().enumerate() {
        out.push(format!(
            "\n{}. {} [{}] — {}",
            i + 1,
            case.title,
            case.project,
            case.location()
        ));
        let n = case.attempts.len();
        let timing = if n > 1 {
            format!(
                "   {} over {n} attempts (final attempt {}), {}",
                fmt::ms(case.total_ms()),
                fmt::ms(case.final_ms()),
                case.outcome.label()
            )
        } else {
            format!(
                "   {} in 1 attempt, {}",
                fmt::ms(case.total_ms()),
                case.outcome.label()
            )
        };
        out.push(timing);
        let history: Vec<Option<f64>> = runs
            .iter()
            .map(|r| history::same(r, case).map(Case::total_ms))
            .collect();
        let known: Vec<f64> = history.iter().flatten().copied().collect();
        if known.len() > 1 {
            let trend: Vec<String> = history
                .iter()
                .map(|d| d.map_or("absent".into(), fmt::ms))
                .collect();
            let (first, last) = (known[0], known[known.len() - 1]);
            let change = if first > 0.0 {
                format!(
                    " ({:+.0}% since the oldest run)",
                    (last - first) * 100.0 / first
                )
            } else {
                String::new()
            };
            out.push(format!(
                "   Across {} runs, oldest first: {}{change}",
                runs.len(),
                trend.join(" → ")
            ));
        }
        structured.tests.push(SlowTest {
            title: case.title.clone(),
            file: case.file.clone(),
            line: case.line,
            project: case.project.clone(),
            outcome: case.outcome,
            attempts: n,
            total_ms: whole_ms(case.total_ms()),
            final_attempt_ms: whole_ms(case.final_ms()),
            history_ms: history.iter().map(|d| d.map(whole_ms)).collect(),
        });
    }
    if let Some(note) = taken.note(
        "slow tests",
        "raise `threshold` or `limit`, or pass `project`",
    ) {
        out.push(format!("\n{note}"));
    }
    Ok(Answer::new(out.join("\n"), structured))
}

pub fn def() -> ToolDef {
    tool(
        "slow_tests",
        "Slowest tests above a threshold, with their trend over earlier runs.",
        run,
    )
    .title("Slow tests")
    .read_only()
}

#[cfg(test)]
mod tests {
    use crate::tools::testing::call;
    use serde_json::json;

    #[test]
    fn slowest_first_with_the_trend_across_runs() {
        let out = call("slow_tests", json!({})).unwrap();
        assert_eq!(
            out.text_content(),
            "2 tests took more than 5000 ms (all attempts together) in test-results/results.json, slowest first:

1. repository browser › loads the full commit history [chromium-desktop] — repo/browse.spec.ts:18
   7063 ms in 1 attempt, passed
   Across 3 runs, oldest first: 4028 ms → 5155 ms → 7063 ms (+75% since the oldest run)

2. repository browser › loads the full commit history [chromium-mobile] — repo/browse.spec.ts:18
   7027 ms in 1 attempt, passed
   Across 3 runs, oldest first: 4298 ms → 5487 ms → 7027 ms (+63% since the oldest run)"
        );
        let s = out.structured().unwrap();
        assert_eq!(s["tests"][0]["history_ms"], json!([4028, 5155, 7063]));
    }

    #[test]
    fn threshold_limit_and_retries() {
        let out = call(
            "slow_tests",
            json!({"threshold": 3000, "limit": 2, "project": "chromium-desktop"}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(text.starts_with("3 tests took more than 3000 ms (all attempts together) in test-results/results.json, slowest first:"), "{text}");
        assert!(text.contains(
            "\n2. workflow runs › waits for the deploy to finish [chromium-desktop] — workflows/runs.spec.ts:14\n   3327 ms over 2 attempts (final attempt 1753 ms), timed out\n   Across 3 runs, oldest first: 3725 ms → 3270 ms → 3327 ms (-11% since the oldest run)"
        ), "{text}");
        assert!(text.ends_with("Showing 2 of 3 slow tests (1 left out); to narrow: raise `threshold` or `limit`, or pass `project`."), "{text}");
        let out = call("slow_tests", json!({"threshold": 60000})).unwrap();
        assert_eq!(
            out.text_content(),
            "No test took more than 60.0 s in test-results/results.json; the slowest was repository browser › loads the full commit history [chromium-desktop] at 7063 ms. Lower `threshold` to see more."
        );
    }
}
