//! `list_test_files`: the spec files of the run, from the report itself (each
//! suite's `file`, relative to the configuration's `rootDir`), with per-file
//! counts, failing files first; and the spec files present in the directory.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::{Counts, Scope, by_spec, whole_ms};
use crate::fmt;
use crate::report::Case;

/// At most this many files are looked at when searching the directory for specs.
const MAX_FILES: usize = 20_000;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    #[serde(flatten)]
    pub scope: Scope,
}

/// What `list_test_files` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TestFiles {
    pub report: String,
    pub files: Vec<TestFile>,
    // Spec files found in the granted directory, and whether the report ran them.
    pub directory_spec_files: Vec<DirectorySpec>,
}

// One spec file of the report.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TestFile {
    // Relative to the configuration's `rootDir`.
    pub file: String,
    // `fail`, `flaky`, `pass` or `skip`.
    pub status: String,
    // `test(...)` declarations in the file.
    pub specs: usize,
    #[serde(flatten)]
    pub counts: Counts,
    /// ms, all attempts.
    pub test_time_ms: u64,
}

// A spec file present in the directory.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DirectorySpec {
    pub path: String,
    pub in_report: bool,
}

pub fn run(args: Args) -> Result<Answer<TestFiles>, ToolError> {
    let report = args.scope.load()?;
    let mut names: Vec<&str> = Vec::new();
    for case in &report.cases {
        if !names.contains(&case.file.as_str()) {
            names.push(&case.file);
        }
    }
    let mut list: Vec<TestFile> = names
        .iter()
        .map(|name| {
            let cases: Vec<&Case> = report.cases.iter().filter(|c| c.file == *name).collect();
            let counts = Counts::of(cases.iter().copied());
            let status = if counts.failing() > 0 {
                "fail"
            } else if counts.flaky > 0 {
                "flaky"
            } else if counts.skipped == counts.tests {
                "skip"
            } else {
                "pass"
            };
            TestFile {
                file: name.to_string(),
                status: status.into(),
                specs: by_spec(cases.iter().copied()).len(),
                test_time_ms: whole_ms(cases.iter().map(|c| c.total_ms()).sum()),
                counts,
            }
        })
        .collect();
    let rank = |s: &str| {
        ["fail", "flaky", "pass", "skip"]
            .iter()
            .position(|r| *r == s)
            .unwrap_or(4)
    };
    list.sort_by(|a, b| {
        (
            rank(&a.status),
            std::cmp::Reverse(a.counts.failing()),
            &a.file,
        )
            .cmp(&(
                rank(&b.status),
                std::cmp::Reverse(b.counts.failing()),
                &b.file,
            ))
    });
    let in_dir = directory_specs(&names);

    let mut out = vec![format!(
        "{} in {} (paths relative to the run's rootDir), failing first:",
        text::count(list.len(), "spec file"),
        report.path
    )];
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|f| {
            let mut row = vec![f.status.to_uppercase(), f.file.clone(), f.specs.to_string()];
            row.extend(f.counts.cells());
            row.push(fmt::ms(f.test_time_ms as f64));
            row
        })
        .collect();
    let headers = [
        &["status", "file", "specs"][..],
        &super::COUNT_HEADERS,
        &["test time"],
    ]
    .concat();
    out.push(format!("\n{}", text::table(&headers, &rows, 80)));
    if in_dir.is_empty() {
        out.push("\nNo spec files in the granted directory (the specs live outside it; paths above come from the report).".into());
    } else {
        out.push(format!(
            "\nSpec files in the granted directory ({}):",
            in_dir.len()
        ));
        out.extend(in_dir.iter().map(|s| {
            format!(
                "- {}{}",
                s.path,
                if s.in_report {
                    ""
                } else {
                    " (not in this report)"
                }
            )
        }));
    }
    Ok(Answer::new(
        out.join("\n"),
        TestFiles {
            report: report.path.clone(),
            files: list,
            directory_spec_files: in_dir,
        },
    ))
}

/// Playwright's default test match: `*.spec.*` or `*.test.*` JavaScript or TypeScript.
fn is_spec(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    matches!(
        ext,
        "ts" | "js" | "mjs" | "cjs" | "mts" | "cts" | "tsx" | "jsx"
    ) && (stem.ends_with(".spec") || stem.ends_with(".test"))
}

fn directory_specs(report_files: &[&str]) -> Vec<DirectorySpec> {
    crate::scan::find(MAX_FILES, is_spec)
        .into_iter()
        .map(|path| {
            let in_report = report_files
                .iter()
                .any(|f| path == *f || path.ends_with(&format!("/{f}")));
            DirectorySpec { path, in_report }
        })
        .collect()
}

pub fn def() -> ToolDef {
    tool(
        "list_test_files",
        "Spec files with test counts by status, failing first.",
        run,
    )
    .title("Test files")
    .read_only()
}

#[cfg(test)]
mod tests {
    use crate::tools::testing::{call, fixtures, temp_dir};
    use serde_json::json;

    #[test]
    fn files_from_the_report_failing_first() {
        let out = call("list_test_files", json!({})).unwrap();
        assert_eq!(
            out.text_content(),
            "4 spec files in test-results/results.json (paths relative to the run's rootDir), failing first:

status  file                    specs  tests  passed  flaky  failed  timed out  skipped  test time
------  ----------------------  -----  -----  ------  -----  ------  ---------  -------  ---------
FAIL    workflows/runs.spec.ts  4      8      4       0      2       2          0        12.5 s
FAIL    repo/browse.spec.ts     3      6      4       0      2       0          0        20.3 s
FLAKY   auth/login.spec.ts      4      8      4       2      0       0          2        10.6 s
PASS    workflows/logs.spec.ts  1      2      2       0      0       0          0        1204 ms

No spec files in the granted directory (the specs live outside it; paths above come from the report)."
        );
    }

    #[test]
    fn spec_files_in_the_directory_are_matched_to_the_report() {
        let dir = temp_dir("specs");
        std::fs::create_dir_all(dir.join("test-results")).unwrap();
        std::fs::copy(
            fixtures().join("test-results/results.json"),
            dir.join("test-results/results.json"),
        )
        .unwrap();
        for spec in [
            "specs/auth/login.spec.ts",
            "specs/new/extra.test.ts",
            "node_modules/x/a.spec.ts",
            "specs/helpers.ts",
        ] {
            std::fs::create_dir_all(dir.join(spec).parent().unwrap()).unwrap();
            std::fs::write(dir.join(spec), "").unwrap();
        }
        plue_plugin_sdk::testing::mount(crate::report::DIR, &dir);
        let out =
            plue_plugin_sdk::testing::call(&crate::plugin(), "list_test_files", json!({})).unwrap();
        assert!(out.text_content().ends_with(
            "Spec files in the granted directory (2):\n- specs/auth/login.spec.ts\n- specs/new/extra.test.ts (not in this report)"
        ), "{}", out.text_content());
        assert_eq!(
            out.structured().unwrap()["directory_spec_files"][1],
            json!({"path": "specs/new/extra.test.ts", "in_report": false})
        );
    }
}
