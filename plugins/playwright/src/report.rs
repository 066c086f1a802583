//! Finding the JSON report in the granted directory and flattening it into one
//! [`Case`] per spec and project, with every attempt kept: the shape all tools read.

use plue_plugin_sdk::{ToolError, files, settings};
use schemars::JsonSchema;
use serde::Serialize;

use crate::{fmt, raw};

/// The granted directory, mounted read-only at `/playwright`.
pub const DIR: &str = "playwright";
/// Where Playwright's JSON reporter usually writes, tried in this order after
/// the `report` setting.
pub const USUAL_PLACES: [&str; 3] = [
    "test-results/results.json",
    "playwright-report/results.json",
    "results.json",
];

// How a test ended in one project, from Playwright's own verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    // Passed on the first attempt (or failed as `test.fail()` expected).
    Passed,
    // Failed at first, then passed on a retry.
    Flaky,
    // Failed on every attempt.
    Failed,
    // Hit its timeout on the final attempt.
    TimedOut,
    // The run was stopped while the test ran.
    Interrupted,
    // Skipped (`test.skip`, `test.fixme`) or not run.
    Skipped,
}

impl Outcome {
    /// How an agent reads it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Flaky => "flaky",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed out",
            Outcome::Interrupted => "interrupted",
            Outcome::Skipped => "skipped",
        }
    }

    /// The test did not pass (failed, timed out or interrupted).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Outcome::Failed | Outcome::TimedOut | Outcome::Interrupted
        )
    }
}

/// A report, flattened.
#[derive(Debug, Clone)]
pub struct Report {
    /// Path of the report in the granted directory.
    pub path: String,
    /// When the run started (RFC 3339), if recorded.
    pub start_time: Option<String>,
    /// ms, wall clock.
    pub wall_ms: Option<f64>,
    /// Project names, in the configuration's order.
    pub projects: Vec<String>,
    /// Absolute attachment directories of the projects (on the machine that ran the tests).
    pub output_dirs: Vec<String>,
    /// Errors outside any test (global setup, configuration), without colours.
    pub errors: Vec<String>,
    pub cases: Vec<Case>,
}

/// One spec in one project.
#[derive(Debug, Clone)]
pub struct Case {
    /// Playwright's spec id (the same for every project).
    pub spec_id: String,
    /// Spec file, relative to the configuration's `rootDir`.
    pub file: String,
    pub line: Option<u32>,
    /// `describe` titles and the test's title, joined by ` › `.
    pub title: String,
    pub project: String,
    pub outcome: Outcome,
    /// Annotations such as `skip: SSO provider is not configured`.
    pub annotations: Vec<String>,
    pub tags: Vec<String>,
    /// Every attempt, first to last.
    pub attempts: Vec<Attempt>,
}

/// One attempt of a case.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub retry: u32,
    /// Playwright's result status: `passed`, `failed`, `timedOut`, `skipped`, `interrupted`.
    pub status: String,
    pub duration_ms: f64,
    pub errors: Vec<ErrorInfo>,
    pub attachments: Vec<raw::Attachment>,
    pub stdout: String,
    pub stderr: String,
}

/// An error of an attempt, without colours.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorInfo {
    pub message: String,
    /// `file:line:column`, relative to `rootDir` when it is below it.
    pub location: Option<String>,
}

impl Case {
    /// `file:line`.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        }
    }

    /// ms.
    pub fn final_ms(&self) -> f64 {
        self.attempts.last().map_or(0.0, |a| a.duration_ms)
    }

    /// ms, all attempts.
    pub fn total_ms(&self) -> f64 {
        self.attempts.iter().map(|a| a.duration_ms).sum()
    }

    /// The first error of the last attempt that has one.
    pub fn last_error(&self) -> Option<&ErrorInfo> {
        self.attempts.iter().rev().find_map(|a| a.errors.first())
    }

    /// The errors of the last attempt that has any.
    pub fn last_errors(&self) -> &[ErrorInfo] {
        self.attempts
            .iter()
            .rev()
            .find(|a| !a.errors.is_empty())
            .map_or(&[], |a| a.errors.as_slice())
    }

    /// Whether `needle` (lowercase) is in the title, the file or `file › title`.
    pub fn matches(&self, needle: &str) -> bool {
        format!("{} › {}", self.file, self.title)
            .to_lowercase()
            .contains(needle)
    }
}

/// The report to read: `explicit` when given, else the `report` setting, else
/// the usual places. The error says everywhere it looked.
pub fn locate(explicit: Option<&str>) -> Result<String, ToolError> {
    if let Some(path) = explicit.map(str::trim).filter(|p| !p.is_empty()) {
        files::size(DIR, path).map_err(|e| match e {
            // A symlink out of the directory keeps the host's explanation.
            ToolError::Failed(m) if m.contains(" not found in directory ") => ToolError::failed(format!(
                "report `{path}` not found in directory `{DIR}`; omit `report` to use the latest one"
            )),
            other => other,
        })?;
        return Ok(path.to_string());
    }
    let setting = settings::get_or("report", USUAL_PLACES[0]);
    let mut tried: Vec<String> = vec![setting];
    for place in USUAL_PLACES {
        if !tried.iter().any(|t| t == place) {
            tried.push(place.to_string());
        }
    }
    for place in &tried {
        if files::path(DIR, place).is_ok() && files::exists(DIR, place) {
            return Ok(place.clone());
        }
    }
    Err(ToolError::failed(format!(
        "no Playwright JSON report in directory `{DIR}`: looked for {} (the first is the `report` setting). \
         Run the tests with the JSON reporter, e.g. `reporter: [['json', {{ outputFile: 'test-results/results.json' }}]]`, \
         or set `report` in [plugins.playwright.settings] to where it is written",
        tried
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Read and flatten the report (see [`locate`]).
pub fn load(explicit: Option<&str>) -> Result<Report, ToolError> {
    let path = locate(explicit)?;
    let bytes = files::read(DIR, &path)?;
    parse(&path, &bytes)
}

/// Parse and flatten the report at `path` whose content is `bytes`.
pub fn parse(path: &str, bytes: &[u8]) -> Result<Report, ToolError> {
    let raw: raw::Report = serde_json::from_slice(bytes).map_err(|e| {
        ToolError::failed(format!(
            "`{path}` in directory `{DIR}` is not a Playwright JSON report ({e}); \
             point the `report` setting at the JSON reporter's output file"
        ))
    })?;
    Ok(flatten(path, raw))
}

fn flatten(path: &str, raw: raw::Report) -> Report {
    let root = raw.config.root_dir.clone().unwrap_or_default();
    let mut cases = Vec::new();
    for suite in &raw.suites {
        walk(suite, &[], None, &root, &mut cases, true);
    }
    let mut projects: Vec<String> = raw.config.projects.iter().map(|p| p.name.clone()).collect();
    for case in &cases {
        if !projects.contains(&case.project) {
            projects.push(case.project.clone());
        }
    }
    Report {
        path: path.to_string(),
        start_time: raw.stats.start_time,
        wall_ms: raw.stats.duration,
        projects,
        output_dirs: raw
            .config
            .projects
            .iter()
            .filter_map(|p| p.output_dir.clone())
            .collect(),
        errors: raw
            .errors
            .iter()
            .map(|e| error_info(e, &root).message)
            .collect(),
        cases,
    }
}

fn walk(
    suite: &raw::Suite,
    titles: &[String],
    file: Option<&str>,
    root: &str,
    out: &mut Vec<Case>,
    top: bool,
) {
    let file = suite.file.as_deref().or(file);
    let mut titles = titles.to_vec();
    // A file's top-level suite is titled with the file name, shown separately.
    if !top && !suite.title.is_empty() {
        titles.push(suite.title.clone());
    }
    for spec in &suite.specs {
        let mut full = titles.clone();
        full.push(spec.title.clone());
        for test in &spec.tests {
            out.push(case(spec, test, full.join(" › "), file, root));
        }
    }
    for child in &suite.suites {
        walk(child, &titles, file, root, out, false);
    }
}

fn case(spec: &raw::Spec, test: &raw::Test, title: String, file: Option<&str>, root: &str) -> Case {
    let attempts: Vec<Attempt> = test
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| attempt(i, r, root))
        .collect();
    Case {
        spec_id: spec.id.clone().unwrap_or_default(),
        file: spec.file.as_deref().or(file).unwrap_or("").to_string(),
        line: spec.line,
        title,
        project: test
            .project_name
            .clone()
            .or_else(|| test.project_id.clone())
            .unwrap_or_default(),
        outcome: outcome(test.status.as_deref(), &attempts),
        annotations: test
            .annotations
            .iter()
            .map(|a| match &a.description {
                Some(d) if !d.is_empty() => format!("{}: {d}", a.kind),
                _ => a.kind.clone(),
            })
            .collect(),
        tags: spec.tags.clone(),
        attempts,
    }
}

fn attempt(index: usize, r: &raw::TestResult, root: &str) -> Attempt {
    let mut errors: Vec<ErrorInfo> = r.errors.iter().map(|e| error_info(e, root)).collect();
    if errors.is_empty() {
        errors.extend(r.error.iter().map(|e| error_info(e, root)));
    }
    errors.retain(|e| !e.message.is_empty());
    Attempt {
        retry: r.retry.unwrap_or(index as u32),
        status: r.status.clone().unwrap_or_else(|| "unknown".into()),
        duration_ms: r.duration.max(0.0),
        errors,
        attachments: r.attachments.clone(),
        stdout: output_text(&r.stdout),
        stderr: output_text(&r.stderr),
    }
}

/// Playwright's verdict (`expected`, `unexpected`, `flaky`, `skipped`) refined by
/// the final attempt; derived from the attempts when the verdict is missing.
fn outcome(status: Option<&str>, attempts: &[Attempt]) -> Outcome {
    let last = attempts.last().map_or("skipped", |a| a.status.as_str());
    let failed_before = attempts.iter().rev().skip(1).any(|a| a.status != "passed");
    match (status, last) {
        (Some("skipped"), _) | (_, "skipped") if status != Some("unexpected") => Outcome::Skipped,
        (Some("flaky"), _) => Outcome::Flaky,
        (Some("expected"), _) => Outcome::Passed,
        (_, "timedOut") => Outcome::TimedOut,
        (_, "interrupted") => Outcome::Interrupted,
        (Some("unexpected"), _) => Outcome::Failed,
        (_, "passed") if failed_before => Outcome::Flaky,
        (_, "passed") => Outcome::Passed,
        _ => Outcome::Failed,
    }
}

fn error_info(e: &raw::Error, root: &str) -> ErrorInfo {
    let message = e.message.as_deref().or(e.value.as_deref()).unwrap_or("");
    ErrorInfo {
        message: fmt::strip_ansi(message).trim_end().to_string(),
        location: e.location.as_ref().map(|l| {
            let file = relative_to(&l.file, root);
            format!("{file}:{}:{}", l.line, l.column)
        }),
    }
}

/// `path` relative to `root` when it is below it, else as given.
pub fn relative_to<'a>(path: &'a str, root: &str) -> &'a str {
    if root.is_empty() {
        return path;
    }
    path.strip_prefix(root)
        .and_then(|rest| rest.strip_prefix('/').or_else(|| rest.strip_prefix('\\')))
        .unwrap_or(path)
}

/// stdout/stderr chunks (`{text}` or base64 `{buffer}`) as one text, without colours.
fn output_text(chunks: &[serde_json::Value]) -> String {
    use base64::Engine;
    let mut out = String::new();
    for chunk in chunks {
        if let Some(text) = chunk.get("text").and_then(|t| t.as_str()) {
            out.push_str(text);
        } else if let Some(buffer) = chunk.get("buffer").and_then(|b| b.as_str())
            && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(buffer)
        {
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else if let Some(text) = chunk.as_str() {
            out.push_str(text);
        }
    }
    fmt::strip_ansi(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::testing::mount_fixtures;

    #[test]
    fn the_fixture_report_flattens_per_spec_and_project() {
        mount_fixtures();
        let report = load(None).unwrap();
        assert_eq!(report.path, "test-results/results.json");
        assert_eq!(report.projects, ["chromium-desktop", "chromium-mobile"]);
        assert_eq!(report.cases.len(), 24);
        assert_eq!(
            report.start_time.as_deref(),
            Some("2026-11-24T23:14:07.004Z")
        );
        let flaky = &report.cases[4];
        assert_eq!(flaky.title, "login › remembers the session");
        assert_eq!(flaky.file, "auth/login.spec.ts");
        assert_eq!(flaky.location(), "auth/login.spec.ts:20");
        assert_eq!(flaky.project, "chromium-desktop");
        assert_eq!(flaky.outcome, Outcome::Flaky);
        assert_eq!((flaky.final_ms(), flaky.total_ms()), (2180.0, 3300.0));
        let error = &flaky.attempts[0].errors[0];
        assert_eq!(error.location.as_deref(), Some("auth/login.spec.ts:27:44"));
        assert!(
            error
                .message
                .starts_with("Error: expect(locator).toHaveText(expected) failed\n")
        );
        let count = |o: Outcome| report.cases.iter().filter(|c| c.outcome == o).count();
        assert_eq!(
            [
                Outcome::Passed,
                Outcome::Flaky,
                Outcome::Failed,
                Outcome::TimedOut,
                Outcome::Skipped
            ]
            .map(count),
            [14, 2, 4, 2, 2]
        );
        assert_eq!(
            report.cases[6].annotations,
            ["skip: SSO provider is not configured in this environment"]
        );
    }

    #[test]
    fn the_report_setting_and_usual_places_are_tried() {
        let dir = crate::tools::testing::temp_dir("locate");
        std::fs::create_dir_all(dir.join("playwright-report")).unwrap();
        std::fs::write(
            dir.join("playwright-report/results.json"),
            r#"{"suites": []}"#,
        )
        .unwrap();
        plue_plugin_sdk::testing::mount(DIR, &dir);
        assert_eq!(locate(None).unwrap(), "playwright-report/results.json");
        plue_plugin_sdk::testing::set_setting("report", "custom/report.json");
        let err = locate(Some("nope.json")).unwrap_err().to_string();
        assert_eq!(
            err,
            "report `nope.json` not found in directory `playwright`; omit `report` to use the latest one"
        );
        std::fs::remove_file(dir.join("playwright-report/results.json")).unwrap();
        let err = load(None).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "no Playwright JSON report in directory `playwright`: looked for `custom/report.json`, \
                 `test-results/results.json`, `playwright-report/results.json`, `results.json` (the first is the `report` setting)"
            ),
            "{err}"
        );
        std::fs::create_dir_all(dir.join("custom")).unwrap();
        std::fs::write(dir.join("custom/report.json"), "{\"config\": {}}").unwrap();
        let err = load(None).unwrap_err().to_string();
        assert!(
            err.starts_with("`custom/report.json` in directory `playwright` is not a Playwright JSON report (missing field `suites`"),
            "{err}"
        );
    }
}
