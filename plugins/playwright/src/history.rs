//! Several runs: every Playwright JSON report found in the granted directory,
//! oldest first, so `flaky_tests` and `slow_tests` can compare runs.

use plue_plugin_sdk::files;

use crate::report::{self, Case, DIR, Report};

/// At most this many files are looked at when searching for reports.
const MAX_FILES: usize = 20_000;
/// Larger JSON files are not read as reports.
const MAX_REPORT_BYTES: u64 = 64 << 20;
/// At most this many runs are compared (the newest ones).
pub const MAX_RUNS: usize = 20;

/// The runs to compare: `latest` and every other report in the directory,
/// ordered by start time (oldest first, `latest` always last when it is the
/// newest), at most [`MAX_RUNS`].
pub fn runs(latest: Report) -> Vec<Report> {
    let mut runs: Vec<Report> = Vec::new();
    for path in crate::scan::find(MAX_FILES, looks_like_report) {
        if path == latest.path {
            continue;
        }
        if !files::size(DIR, &path).is_ok_and(|s| s <= MAX_REPORT_BYTES) {
            continue;
        }
        let Ok(bytes) = files::read(DIR, &path) else {
            continue;
        };
        if !head_is_report(&bytes) {
            continue;
        }
        if let Ok(report) = report::parse(&path, &bytes)
            && !report.cases.is_empty()
        {
            runs.push(report);
        }
    }
    runs.push(latest);
    // Stable: runs without a start time keep their path order, before the others.
    runs.sort_by(|a, b| a.start_time.cmp(&b.start_time));
    if runs.len() > MAX_RUNS {
        runs.drain(..runs.len() - MAX_RUNS);
    }
    runs
}

/// JSON files, except Playwright's `.last-run.json`.
fn looks_like_report(path: &str) -> bool {
    path.ends_with(".json") && !path.ends_with(".last-run.json")
}

/// The JSON reporter starts with `{ "config": …` (older versions with `"suites"`).
fn head_is_report(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    let head = head.trim_start();
    head.starts_with('{') && (head.contains("\"config\"") || head.contains("\"suites\""))
}

/// The same test (file, title, project) in another run.
pub fn same<'a>(run: &'a Report, case: &Case) -> Option<&'a Case> {
    run.cases
        .iter()
        .find(|c| c.file == case.file && c.title == case.title && c.project == case.project)
}

/// How a run is named to the agent: its path and start time.
pub fn label(run: &Report) -> String {
    match &run.start_time {
        Some(t) => format!("{} ({})", run.path, crate::fmt::time(t)),
        None => run.path.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::testing::mount_fixtures;

    #[test]
    fn all_three_fixture_runs_are_found_oldest_first() {
        mount_fixtures();
        let runs = runs(report::load(None).unwrap());
        let labels: Vec<String> = runs.iter().map(label).collect();
        assert_eq!(
            labels,
            [
                "runs/run-1.json (2026-11-24T23:12:38Z)",
                "runs/run-2.json (2026-11-24T23:13:26Z)",
                "test-results/results.json (2026-11-24T23:14:07Z)"
            ]
        );
        let slow = runs[2]
            .cases
            .iter()
            .find(|c| c.title.ends_with("full commit history"))
            .unwrap();
        let durations: Vec<f64> = runs
            .iter()
            .map(|r| same(r, slow).unwrap().total_ms())
            .collect();
        assert_eq!(durations, [4028.0, 5155.0, 7063.0]);
    }
}
