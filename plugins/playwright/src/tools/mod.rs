//! The nine tools, one module each, and what they share: the `project` and
//! `report` parameters, per-outcome counts and grouping a spec's projects.

pub mod artifacts;
pub mod details;
pub mod failures;
pub mod files;
pub mod flaky;
pub mod patterns;
pub mod slow;
pub mod summary;
pub mod view;

use plue_plugin_sdk::prelude::*;

use crate::report::{self, Case, Outcome, Report};

/// Which report and which project a tool reads.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct Scope {
    /// Default all.
    #[serde(default)]
    pub project: Option<String>,
    /// Default the latest.
    #[serde(default)]
    pub report: Option<String>,
}

impl Scope {
    /// The report, with only the cases of the requested project.
    pub fn load(&self) -> Result<Report, ToolError> {
        let mut report = report::load(self.report.as_deref())?;
        self.filter(&mut report)?;
        Ok(report)
    }

    /// Keep only the requested project's cases; an unknown project is refused
    /// with the list of projects.
    pub fn filter(&self, report: &mut Report) -> Result<(), ToolError> {
        let Some(project) = self.project() else {
            return Ok(());
        };
        if !report.projects.iter().any(|p| p == project) {
            return Err(ToolError::invalid(format!(
                "`project`: no project `{project}` in {}; its projects are {}",
                report.path,
                report
                    .projects
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        report.cases.retain(|c| c.project == project);
        Ok(())
    }

    /// Keep only the requested project's cases in other runs (where the project
    /// may not exist).
    pub fn narrow(&self, runs: &mut [Report]) {
        if let Some(project) = self.project() {
            for run in runs {
                run.cases.retain(|c| c.project == project);
            }
        }
    }

    /// The requested project, if any.
    pub fn project(&self) -> Option<&str> {
        self.project
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Counts {
    // Tests (a spec in one project).
    pub tests: usize,
    // Passed on the first attempt.
    pub passed: usize,
    // Failed, then passed on a retry.
    pub flaky: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub interrupted: usize,
    pub skipped: usize,
}

/// Column names of [`Counts::cells`], for tables.
pub const COUNT_HEADERS: [&str; 6] = ["tests", "passed", "flaky", "failed", "timed out", "skipped"];

impl Counts {
    /// The counts as table cells, in the order of [`COUNT_HEADERS`].
    pub fn cells(&self) -> [String; 6] {
        [
            self.tests,
            self.passed,
            self.flaky,
            self.failed,
            self.timed_out,
            self.skipped,
        ]
        .map(|n| n.to_string())
    }

    /// The counts of `cases`.
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a Case>) -> Counts {
        let mut counts = Counts::default();
        for case in cases {
            counts.tests += 1;
            match case.outcome {
                Outcome::Passed => counts.passed += 1,
                Outcome::Flaky => counts.flaky += 1,
                Outcome::Failed => counts.failed += 1,
                Outcome::TimedOut => counts.timed_out += 1,
                Outcome::Interrupted => counts.interrupted += 1,
                Outcome::Skipped => counts.skipped += 1,
            }
        }
        counts
    }

    /// Failed, timed out or interrupted.
    pub fn failing(&self) -> usize {
        self.failed + self.timed_out + self.interrupted
    }

    /// `14 passed, 2 flaky, 4 failed, 2 timed out, 2 skipped` (zero counts left
    /// out, except `passed`).
    pub fn sentence(&self) -> String {
        let mut parts = vec![format!("{} passed", self.passed)];
        for (n, label) in [
            (self.flaky, "flaky"),
            (self.failed, "failed"),
            (self.timed_out, "timed out"),
            (self.interrupted, "interrupted"),
            (self.skipped, "skipped"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {label}"));
            }
        }
        parts.join(", ")
    }
}

/// `cases` grouped by spec (file and title), in order of first appearance.
pub fn by_spec<'a>(cases: impl IntoIterator<Item = &'a Case>) -> Vec<Vec<&'a Case>> {
    let mut groups: Vec<Vec<&Case>> = Vec::new();
    for case in cases {
        match groups
            .iter_mut()
            .find(|g| g[0].file == case.file && g[0].title == case.title)
        {
            Some(group) => group.push(case),
            None => groups.push(vec![case]),
        }
    }
    groups
}

/// `chromium-desktop, chromium-mobile`.
pub fn projects(cases: &[&Case]) -> String {
    cases
        .iter()
        .map(|c| c.project.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A message's first line without a leading `Error: `, at most 200 characters.
pub fn headline(message: &str) -> String {
    let line = crate::fmt::first_line(message);
    let line = line.strip_prefix("Error: ").unwrap_or(line);
    plue_plugin_sdk::text::truncate_chars(line, 200).0
}

/// Milliseconds as a whole number for structured content.
pub fn whole_ms(ms: f64) -> u64 {
    ms.round().max(0.0) as u64
}

#[cfg(test)]
pub mod testing {
    //! The real Playwright fixtures, mounted as the granted directory.

    use std::path::PathBuf;

    /// `tests/fixtures/playwright` of the repository.
    pub fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/playwright")
    }

    /// Mount the fixtures as directory `playwright` on this thread.
    pub fn mount_fixtures() {
        plue_plugin_sdk::testing::mount(crate::report::DIR, fixtures());
    }

    /// A fresh, empty temporary directory for one test.
    pub fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("plue-playwright-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Call tool `name` of the plugin with the fixtures mounted.
    pub fn call(
        name: &str,
        args: serde_json::Value,
    ) -> Result<plue_plugin_sdk::Output, plue_plugin_sdk::ToolError> {
        mount_fixtures();
        plue_plugin_sdk::testing::call(&crate::plugin(), name, args)
    }
}
