//! The Playwright JSON reporter's format, as written: only the fields the tools
//! read, every one optional or defaulted so that reports of other Playwright
//! versions still load.

use serde::Deserialize;
use serde_json::Value;

/// The whole report (`reporter: [['json', { outputFile }]]`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    #[serde(default)]
    pub config: Config,
    /// Required: a JSON file without it is not a Playwright report.
    pub suites: Vec<Suite>,
    #[serde(default)]
    pub errors: Vec<Error>,
    #[serde(default)]
    pub stats: Stats,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Config {
    /// Absolute path, on the machine that ran the tests, that spec `file`s are relative to.
    pub root_dir: Option<String>,
    pub projects: Vec<Project>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Project {
    pub name: String,
    /// Absolute path where the project's attachments were written.
    pub output_dir: Option<String>,
    pub retries: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Stats {
    pub start_time: Option<String>,
    /// ms, wall clock.
    pub duration: Option<f64>,
}

/// A file suite (title = file name) or a `describe` block.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Suite {
    pub title: String,
    pub file: Option<String>,
    pub specs: Vec<Spec>,
    pub suites: Vec<Suite>,
}

/// One `test(...)` declaration; its `tests` are its runs, one per project.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Spec {
    pub title: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub id: Option<String>,
    pub tags: Vec<String>,
    pub tests: Vec<Test>,
}

/// A spec in one project, with one result per attempt.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Test {
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    /// `expected`, `unexpected`, `flaky` or `skipped`.
    pub status: Option<String>,
    pub annotations: Vec<Annotation>,
    pub results: Vec<TestResult>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Annotation {
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
}

// One attempt.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TestResult {
    pub retry: Option<u32>,
    // `passed`, `failed`, `timedOut`, `skipped` or `interrupted`.
    pub status: Option<String>,
    /// In ms.
    pub duration: f64,
    pub start_time: Option<String>,
    pub error: Option<Error>,
    pub errors: Vec<Error>,
    pub stdout: Vec<Value>,
    pub stderr: Vec<Value>,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Error {
    pub message: Option<String>,
    pub value: Option<String>,
    pub location: Option<Location>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    /// Absolute path on the machine that ran the tests.
    pub path: Option<String>,
    /// Base64 content of an attachment made with `testInfo.attach(name, { body })`.
    pub body: Option<String>,
}
