//! `test_artifacts`: the screenshots, traces, videos and other attachments of
//! each test attempt (failing tests first), then the other files Playwright
//! left in its output folder.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::{files, text};

use super::Scope;
use super::details::AttachmentInfo;
use crate::attachment::{self, Location, Resolver};
use crate::fmt;
use crate::report::{Case, DIR, Outcome};

/// At most this many files are listed from the output folders.
const MAX_FILES: usize = 5000;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// Part of a title, file or path.
    #[serde(default, rename = "testTitle")]
    pub test_title: Option<String>,
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    #[schemars(extend("default" = 50))]
    pub limit: Option<u32>,
    #[serde(flatten)]
    pub scope: Scope,
}

/// What `test_artifacts` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Artifacts {
    pub report: String,
    // Artifacts in all (attachments and other files, before `limit`).
    pub total: usize,
    pub attempts: Vec<AttemptArtifacts>,
    // Files in the output folders that no attachment of the report names.
    pub other_files: Vec<OtherFile>,
}

// The attachments of one attempt of one test.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AttemptArtifacts {
    pub title: String,
    pub file: String,
    pub project: String,
    pub retry: u32,
    pub status: String,
    pub artifacts: Vec<AttachmentInfo>,
}

// A file not attached in the report (such as `.last-run.json`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct OtherFile {
    pub path: String,
    pub kind: String,
    pub size_bytes: u64,
}

pub fn run(args: Args) -> Result<Answer<Artifacts>, ToolError> {
    let report = args.scope.load()?;
    let needle = args
        .test_title
        .as_deref()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    let resolver = Resolver::new(&report);
    let mut cases: Vec<&Case> = report.cases.iter().collect();
    // Failing tests first, then flaky, then the rest, each in report order.
    cases.sort_by_key(|c| match c.outcome {
        o if o.is_failure() => 0,
        Outcome::Flaky => 1,
        _ => 2,
    });
    let mut attempts: Vec<AttemptArtifacts> = Vec::new();
    let mut referenced: Vec<String> = Vec::new();
    for case in cases {
        for attempt in &case.attempts {
            let infos: Vec<AttachmentInfo> = attempt
                .attachments
                .iter()
                .map(|a| {
                    if let Location::File(p, _) = resolver.locate(case, attempt, a) {
                        referenced.push(p);
                    }
                    AttachmentInfo::of(&resolver, case, attempt, a)
                })
                .filter(|info| match &needle {
                    None => true,
                    Some(n) => {
                        case.matches(n)
                            || path_matches(&format!("{} {}", case.file, case.title), n)
                            || info.path.as_deref().is_some_and(|p| path_matches(p, n))
                    }
                })
                .collect();
            if !infos.is_empty() {
                attempts.push(AttemptArtifacts {
                    title: case.title.clone(),
                    file: case.file.clone(),
                    project: case.project.clone(),
                    retry: attempt.retry,
                    status: attempt.status.clone(),
                    artifacts: infos,
                });
            }
        }
    }
    let mut other_files = other_files(&report, &referenced, needle.as_deref());
    if let Some(project) = args.scope.project() {
        // Playwright names a test's folder `<file>-<title>-<project>[-retryN]`.
        let others: Vec<&String> = report.projects.iter().filter(|p| *p != project).collect();
        other_files.retain(|f| {
            !others.iter().any(|o| {
                f.path.contains(&format!("-{o}/")) || f.path.contains(&format!("-{o}-retry"))
            })
        });
    }
    let attached: usize = attempts.iter().map(|a| a.artifacts.len()).sum();
    let total = attached + other_files.len();
    let limit = text::limit(args.limit, 50, 500);
    let filter = needle
        .as_deref()
        .map(|n| format!(" matching `{n}`"))
        .unwrap_or_default();
    if total == 0 {
        return Ok(Answer::new(
            format!("No artifacts{filter} in {}.", report.path),
            Artifacts {
                report: report.path.clone(),
                total: 0,
                attempts,
                other_files,
            },
        ));
    }
    let mut out = vec![format!(
        "{}{filter} from {} in {} (failing tests first):",
        text::count(total, "artifact"),
        text::count(attempts.len(), "test attempt"),
        report.path
    )];
    let mut budget = limit;
    let mut shown_attempts = Vec::new();
    for attempt in attempts {
        if budget == 0 {
            break;
        }
        let mut kept = attempt;
        kept.artifacts.truncate(budget);
        budget -= kept.artifacts.len();
        out.push(format!(
            "\n{} [{}] attempt {} ({})",
            kept.title,
            kept.project,
            kept.retry + 1,
            fmt::status(&kept.status)
        ));
        out.extend(
            kept.artifacts
                .iter()
                .map(|a| format!("  - [{}] {}", a.kind, a.render())),
        );
        shown_attempts.push(kept);
    }
    let mut shown_others = Vec::new();
    if budget > 0 && !other_files.is_empty() {
        out.push(format!(
            "\nOther files ({}), not attachments of this report:",
            other_files.len()
        ));
        for f in other_files.into_iter().take(budget) {
            out.push(format!(
                "  - [{}] {} ({})",
                f.kind,
                f.path,
                fmt::bytes(f.size_bytes)
            ));
            shown_others.push(f);
        }
    }
    let shown: usize = shown_attempts
        .iter()
        .map(|a| a.artifacts.len())
        .sum::<usize>()
        + shown_others.len();
    let mut tail = Vec::new();
    if shown < total {
        tail.push(text::cut_note(
            shown,
            total,
            "artifacts",
            "pass `testTitle` or `project`, or raise `limit`",
        ));
    }
    tail.push(
        "Open one with view_attachment (attachmentPath = the path or inline: name shown).".into(),
    );
    out.push(format!("\n{}", tail.join("\n")));
    let links = crate::links::attachments(
        shown_attempts.iter().flat_map(|a| {
            a.artifacts.iter().map(move |i| {
                (
                    i,
                    format!("{} [{}] attempt {}", a.title, a.project, a.retry + 1),
                )
            })
        }),
        crate::links::MAX_LINKS,
    );
    let answer = Answer::new(
        out.join("\n"),
        Artifacts {
            report: report.path.clone(),
            total,
            attempts: shown_attempts,
            other_files: shown_others,
        },
    );
    Ok(links.into_iter().fold(answer, Answer::with_link))
}

/// Whether `path` contains `needle`, as typed or as Playwright turns a title
/// into a folder name (`attaches run metadata` → `attaches-run-metadata`).
fn path_matches(path: &str, needle: &str) -> bool {
    path.to_lowercase().contains(needle) || fmt::slug(path).contains(&fmt::slug(needle))
}

/// Files under the report's output folders (by their folder name, such as
/// `test-results`) that no attachment names, except the report itself.
fn other_files(
    report: &crate::report::Report,
    referenced: &[String],
    needle: Option<&str>,
) -> Vec<OtherFile> {
    let mut folders: Vec<String> = report
        .output_dirs
        .iter()
        .filter_map(|d| {
            d.replace('\\', "/")
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .map(str::to_string)
        })
        .collect();
    if folders.is_empty() {
        folders.push("test-results".into());
    }
    folders.dedup();
    let mut out = Vec::new();
    for folder in folders {
        if files::path(DIR, &folder).is_err() || !files::exists(DIR, &folder) {
            continue;
        }
        let Ok((found, _)) = files::walk(DIR, &folder, MAX_FILES) else {
            continue;
        };
        for path in found {
            if path == report.path
                || referenced.contains(&path)
                || needle.is_some_and(|n| !path_matches(&path, n))
            {
                continue;
            }
            out.push(OtherFile {
                kind: attachment::kind("", attachment::content_type_of(&path), &path).into(),
                size_bytes: files::size(DIR, &path).unwrap_or(0),
                path,
            });
        }
    }
    out
}

pub fn def() -> ToolDef {
    tool(
        "test_artifacts",
        "Attachments per attempt, with paths for view_attachment.",
        run,
    )
    .title("Test artifacts")
    .read_only()
}

#[cfg(test)]
mod tests {
    use crate::tools::testing::call;
    use serde_json::json;

    #[test]
    fn attachments_per_attempt_failing_first_then_other_files() {
        let out = call("test_artifacts", json!({"limit": 500})).unwrap();
        let text = out.text_content();
        assert!(text.starts_with(
            "43 artifacts from 17 test attempts in test-results/results.json (failing tests first):

repository browser › counts open issues [chromium-desktop] attempt 1 (failed)
  - [screenshot] screenshot (image/png, 16.5 KiB): test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop/test-failed-1.png
  - [markdown] error-context (text/markdown, 2.3 KiB): test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop/error-context.md
"
        ), "{text}");
        assert!(text.ends_with(
            "Other files (6), not attachments of this report:
  - [json] test-results/.last-run.json (341 B)
  - [trace] test-results/workflows-logs-workflow-run-logs-shows-the-build-log-chromium-desktop/trace.zip (4.1 KiB)
  - [image] test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-desktop/runs-page.png (13.5 KiB)
  - [json] test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-desktop/runs.json (917 B)
  - [image] test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-mobile/runs-page.png (3.5 KiB)
  - [json] test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-mobile/runs.json (917 B)

Open one with view_attachment (attachmentPath = the path or inline: name shown)."
        ), "{text}");
    }

    #[test]
    fn filter_by_title_and_limit() {
        let out = call(
            "test_artifacts",
            json!({"testTitle": "attaches run metadata", "limit": 5}),
        )
        .unwrap();
        assert_eq!(
            out.text_content(),
            "12 artifacts matching `attaches run metadata` from 2 test attempts in test-results/results.json (failing tests first):

workflow runs › attaches run metadata [chromium-desktop] attempt 1 (passed)
  - [json] runs-table (application/json, 917 B): test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-desktop/attachments/runs-table-62a9d746df357d580424cbb17f5babae29fd3738.json
  - [json] console-logs (application/json, 139 B): inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-desktop/0/console-logs
  - [text] build-log (text/plain, 67 B): inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-desktop/0/build-log
  - [image] runs-page (image/png, 13.5 KiB): test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-desktop/attachments/runs-page-ace9d47b53a748ca7586156210d1512c82be3998.png

workflow runs › attaches run metadata [chromium-mobile] attempt 1 (passed)
  - [json] runs-table (application/json, 917 B): test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-mobile/attachments/runs-table-a9d98eb9b5ecbdc988024b4fd52af5e51a889f3c.json

Showing 5 of 12 artifacts (7 left out); to narrow: pass `testTitle` or `project`, or raise `limit`.
Open one with view_attachment (attachmentPath = the path or inline: name shown)."
        );
    }

    #[test]
    fn a_project_hides_the_other_projects_files() {
        let out = call(
            "test_artifacts",
            json!({"testTitle": "attaches-run-metadata", "project": "chromium-mobile"}),
        )
        .unwrap();
        let s = out.structured().unwrap();
        assert_eq!(s["total"], 6);
        assert_eq!(
            s["other_files"],
            json!([
                {"path": "test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-mobile/runs-page.png", "kind": "image", "size_bytes": 3572},
                {"path": "test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-mobile/runs.json", "kind": "json", "size_bytes": 917}
            ])
        );
    }

    #[test]
    fn links_a_few_artifacts_screenshots_first() {
        let out = call("test_artifacts", json!({})).unwrap();
        assert_eq!(out.links().len(), crate::links::MAX_LINKS);
        assert_eq!(
            out.links()[0].uri(),
            "plue://playwright/attachments/test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop/test-failed-1.png"
        );
        assert!(out.links().iter().all(|l| l.mime() == Some("image/png")));
    }
}
