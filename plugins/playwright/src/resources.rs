//! The resource families: reports (`plue://playwright/reports/{report}`, a
//! report's summary and failures as markdown) and attachments
//! (`plue://playwright/attachments/{+path}`, a file of the granted directory or
//! an inline attachment, as text or blob, at most 1 MiB). Reads go through the
//! read-only `/playwright` preopen; `..` and absolute paths are refused.
//! Listed: every report (latest first), then the attachments of failing tests,
//! then of flaky ones.

use std::path::{Component, Path};

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::{Reply, TemplateDef};
use plue_plugin_sdk::{files, text};

use crate::attachment::{INLINE, Resolver};
use crate::links::{self, MAX_READ_BYTES};
use crate::report::{self, DIR, Outcome, Report};
use crate::tools::details::AttachmentInfo;
use crate::tools::{Scope, failures, summary, view};
use crate::{fmt, history};

/// At most this many attachments are listed.
const MAX_LISTED_ATTACHMENTS: usize = 50;
/// At most this many attachment URIs are named in a report's markdown.
const MAX_REPORT_ATTACHMENTS: usize = 10;

/// The report family.
pub fn reports() -> TemplateDef {
    resources(
        links::REPORTS,
        "playwright-report",
        "A Playwright test report (its path in the directory, or `latest`): verdict, counts per project, failing tests with their errors, and links to their attachments, as markdown.",
        read_report,
    )
    .title("Playwright reports")
    .mime_type("text/markdown")
    .list(list_reports)
}

/// The attachment family.
pub fn attachments() -> TemplateDef {
    resources(
        links::ATTACHMENTS,
        "playwright-attachment",
        "An attachment of a test (screenshot as image/png, trace as application/zip, error context as text/markdown, logs as text), by its path in the directory as test_details shows it, or its inline: name. At most 1 MiB.",
        read_attachment,
    )
    .title("Playwright attachments")
    .list(list_attachments)
}

/// Every report, latest first.
fn list_reports() -> Result<Vec<Link>, ToolError> {
    let Ok(latest) = report::load(None) else {
        return Ok(Vec::new());
    };
    let latest_path = latest.path.clone();
    let mut runs = history::runs(latest);
    runs.reverse();
    Ok(runs
        .iter()
        .map(|r| {
            let counts = crate::tools::Counts::of(&r.cases);
            let which = if r.path == latest_path {
                "latest run"
            } else {
                "older run"
            };
            links::report(
                &r.path,
                format!("{which}, {}: {}", history::label(r), counts.sentence()),
            )
        })
        .collect())
}

/// The attachments of the latest report's failing tests, then of its flaky ones.
fn list_attachments() -> Result<Vec<Link>, ToolError> {
    let Ok(report) = report::load(None) else {
        return Ok(Vec::new());
    };
    Ok(attachment_links(&report, MAX_LISTED_ATTACHMENTS))
}

/// Links to the attachments of `report`'s failing, then flaky, tests (every attempt).
fn attachment_links(report: &Report, max: usize) -> Vec<Link> {
    let resolver = Resolver::new(report);
    let mut out = Vec::new();
    for wanted in [true, false] {
        for case in report.cases.iter().filter(|c| {
            if wanted {
                c.outcome.is_failure()
            } else {
                c.outcome == Outcome::Flaky
            }
        }) {
            for attempt in &case.attempts {
                for a in &attempt.attachments {
                    let info = AttachmentInfo::of(&resolver, case, attempt, a);
                    let about = format!(
                        "{} [{}] attempt {} ({})",
                        case.title,
                        case.project,
                        attempt.retry + 1,
                        fmt::status(&attempt.status)
                    );
                    if let Some(link) = links::attachment(&info, &about) {
                        if out.len() == max {
                            return out;
                        }
                        out.push(link);
                    }
                }
            }
        }
    }
    out
}

fn read_report(vars: &Vars) -> Result<Vec<Contents>, ToolError> {
    let name = vars.get("report")?.trim();
    let explicit = (name != "latest").then_some(name);
    let report = report::load(explicit).map_err(|e| match e {
        ToolError::Failed(m) if m.contains("not found in directory") => {
            let known: Vec<String> = report::load(None)
                .map(|l| {
                    history::runs(l)
                        .iter()
                        .rev()
                        .map(|r| format!("`{}`", r.path))
                        .collect()
                })
                .unwrap_or_default();
            ToolError::invalid(format!(
                "no report `{name}` in directory `{DIR}`; the reports are `latest`{}{}",
                if known.is_empty() { "" } else { ", " },
                known.join(", ")
            ))
        }
        other => other,
    })?;
    let scope = || Scope {
        project: None,
        report: Some(report.path.clone()),
    };
    let summary = summary::run(summary::Args { scope: scope() })?;
    let all_passed = summary.value().failing_tests.is_empty();
    // The tool's text, as test_summary answers it.
    let mut md = format!(
        "# Playwright report `{}`\n\n{}",
        report.path,
        summary.into_output()?.text_content()
    );
    if all_passed {
        md.push_str("\n\nNo failing tests.");
    } else {
        let failures = failures::run(failures::Args {
            limit: Some(10),
            scope: scope(),
        })?;
        md.push_str("\n\n## Failing tests\n\n");
        md.push_str(&failures.into_output()?.text_content());
        let links = attachment_links(&report, usize::MAX);
        let taken = text::take(links, MAX_REPORT_ATTACHMENTS);
        if !taken.items.is_empty() {
            md.push_str("\n\n## Attachments of failing and flaky tests\n\n");
            for l in &taken.items {
                md.push_str(&format!(
                    "- {} ({}): {}\n",
                    l.uri(),
                    l.mime().unwrap_or(""),
                    l.name()
                ));
            }
            if let Some(note) = taken.note(
                "attachments",
                "test_artifacts with `testTitle` lists them all",
            ) {
                md.push_str(&format!("\n{note}\n"));
            }
        }
    }
    Ok(vec![Contents::text(vars.uri(), "text/markdown", md)])
}

fn read_attachment(vars: &Vars) -> Result<Vec<Contents>, ToolError> {
    let path = vars.get("path")?.trim();
    if path.starts_with(INLINE) {
        let (_, mime, bytes) = view::inline(path, None)?;
        let bytes = bytes.unwrap_or_default();
        cap(path, bytes.len() as u64)?;
        return Ok(vec![contents(vars.uri(), &mime, bytes)]);
    }
    if Path::new(path)
        .components()
        .any(|c| matches!(c, Component::ParentDir))
    {
        return Err(ToolError::invalid(format!(
            "`{path}` leaves the `{DIR}` directory (`..` is not allowed); give a path relative to it, as test_details or test_artifacts show it"
        )));
    }
    let full = files::path(DIR, path)?;
    if path.is_empty() || full.is_dir() {
        return Err(ToolError::invalid(format!(
            "`{path}` is a directory; test_artifacts lists the files in it"
        )));
    }
    let size = files::size(DIR, path).map_err(|e| match e {
        ToolError::Failed(m) if m.contains("not found in directory") => ToolError::failed(format!(
            "{m}; test_artifacts lists the attachments (paths relative to the directory)"
        )),
        other => other,
    })?;
    cap(path, size)?;
    let bytes = files::read(DIR, path)?;
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else {
        links::file_mime(path)
    };
    Ok(vec![contents(vars.uri(), mime, bytes)])
}

/// Refuse contents over [`MAX_READ_BYTES`], saying what to do instead.
fn cap(path: &str, size: u64) -> Result<(), ToolError> {
    if size > MAX_READ_BYTES {
        return Err(ToolError::failed(format!(
            "`{path}` is {}, over the {} cap of a resource read; view_attachment describes it, and the file is in the `{DIR}` directory",
            fmt::bytes(size),
            fmt::bytes(MAX_READ_BYTES)
        )));
    }
    Ok(())
}

/// Text for text types (invalid UTF-8 replaced), else a blob.
fn contents(uri: &str, mime: &str, bytes: Vec<u8>) -> Contents {
    if links::is_text(mime) {
        Contents::text(uri, mime, String::from_utf8_lossy(&bytes))
    } else {
        Contents::blob(uri, mime, bytes)
    }
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;

    use crate::links::attachment_uri;
    use crate::plugin;
    use crate::tools::testing::{fixtures, mount_fixtures, temp_dir};

    const SHOT: &str =
        "test-results/auth-login-login-remembers-the-session-chromium-desktop/test-failed-1.png";

    fn read(uri: &str) -> Result<Vec<plue_plugin_sdk::Contents>, plue_plugin_sdk::ToolError> {
        mount_fixtures();
        testing::read(&plugin(), uri)
    }

    #[test]
    fn reports_then_failing_then_flaky_attachments_are_listed() {
        mount_fixtures();
        let links = testing::list_resources(&plugin()).unwrap();
        let uris: Vec<&str> = links.iter().map(|l| l.uri()).collect();
        assert_eq!(
            uris[..3],
            [
                "plue://playwright/reports/test-results%2Fresults.json",
                "plue://playwright/reports/runs%2Frun-2.json",
                "plue://playwright/reports/runs%2Frun-1.json",
            ]
        );
        assert_eq!(
            uris[3],
            "plue://playwright/attachments/test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop/test-failed-1.png"
        );
        assert_eq!(links[3].mime(), Some("image/png"));
        let size = std::fs::metadata(fixtures().join(
            "test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop/test-failed-1.png",
        ))
        .unwrap()
        .len();
        assert_eq!(crate::links::tests::size_of(&links[3]), Some(size));
        // The flaky test's attachments come after every failing test's.
        let first_flaky = uris.iter().position(|u| u.contains("auth-login")).unwrap();
        let last_failing = uris
            .iter()
            .rposition(|u| u.contains("counts-open-issues"))
            .unwrap();
        assert!(last_failing < first_flaky, "{uris:#?}");
        assert_eq!(
            uris.last().unwrap(),
            &attachment_uri(
                "test-results/auth-login-login-remembers-the-session-chromium-mobile/error-context.md"
            )
        );
        assert!(links.len() <= 3 + super::MAX_LISTED_ATTACHMENTS);
        assert!(links[1].name().contains("runs/run-2.json"));
    }

    #[test]
    fn a_screenshot_reads_as_a_png_blob() {
        let read = read(&attachment_uri(SHOT)).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].mime(), Some("image/png"));
        assert_eq!(
            read[0].as_bytes().unwrap(),
            std::fs::read(fixtures().join(SHOT)).unwrap().as_slice()
        );
        assert_eq!(read[0].uri(), attachment_uri(SHOT));
    }

    #[test]
    fn error_contexts_read_as_markdown_traces_as_zip_and_inline_as_text() {
        let md =
            "test-results/auth-login-login-remembers-the-session-chromium-desktop/error-context.md";
        let read = super::tests::read(&attachment_uri(md)).unwrap();
        assert_eq!(read[0].mime(), Some("text/markdown"));
        assert_eq!(
            read[0].as_text().unwrap(),
            std::fs::read_to_string(fixtures().join(md)).unwrap()
        );
        let trace = "test-results/workflows-logs-workflow-run-logs-shows-the-build-log-chromium-desktop/trace.zip";
        let read = super::tests::read(&attachment_uri(trace)).unwrap();
        assert_eq!(read[0].mime(), Some("application/zip"));
        assert_eq!(read[0].as_bytes().unwrap().len(), 4202);
        assert!(read[0].as_bytes().unwrap().starts_with(b"PK"));
        let inline =
            "inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-desktop/0/console-logs";
        let read = super::tests::read(&attachment_uri(inline)).unwrap();
        assert_eq!(read[0].mime(), Some("application/json"));
        assert!(
            read[0]
                .as_text()
                .unwrap()
                .starts_with("[{\"type\":\"log\",\"text\":\"runs page loaded\"")
        );
    }

    #[test]
    fn paths_out_of_the_directory_are_refused() {
        for uri in [
            "plue://playwright/attachments/test-results/../../README.md",
            "plue://playwright/attachments/test-results/%2E%2E/%2E%2E/README.md",
            "plue://playwright/attachments/../etc/passwd",
        ] {
            let err = read(uri).unwrap_err();
            assert!(
                matches!(&err, plue_plugin_sdk::ToolError::InvalidArguments(m) if m.contains("(`..` is not allowed)")),
                "{uri}: {err}"
            );
        }
        let err = read("plue://playwright/attachments//etc/passwd")
            .unwrap_err()
            .to_string();
        assert!(err.contains("is absolute"), "{err}");
    }

    #[test]
    fn directories_missing_files_and_large_files_say_what_to_do() {
        let err = read("plue://playwright/attachments/test-results")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is a directory; test_artifacts lists the files"),
            "{err}"
        );
        let err = read("plue://playwright/attachments/test-results/nope.png")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "`test-results/nope.png` not found in directory `playwright`; test_artifacts lists"
            ),
            "{err}"
        );
        let dir = temp_dir("large");
        std::fs::write(dir.join("big.zip"), vec![0u8; (1 << 20) + 1]).unwrap();
        std::fs::write(dir.join("edge.zip"), vec![0u8; 1 << 20]).unwrap();
        testing::mount(crate::report::DIR, &dir);
        let err = testing::read(&plugin(), "plue://playwright/attachments/big.zip")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "`big.zip` is 1.0 MiB, over the 1.0 MiB cap of a resource read; view_attachment describes it, and the file is in the `playwright` directory"
        );
        let read = testing::read(&plugin(), "plue://playwright/attachments/edge.zip").unwrap();
        assert_eq!(read[0].as_bytes().unwrap().len(), 1 << 20);
        // Nothing to list in a directory without a report.
        assert!(testing::list_resources(&plugin()).unwrap().is_empty());
    }

    #[test]
    fn a_report_reads_as_markdown_summary_failures_and_attachments() {
        let read = read("plue://playwright/reports/latest").unwrap();
        assert_eq!(read[0].mime(), Some("text/markdown"));
        let text = read[0].as_text().unwrap();
        assert!(
            text.starts_with(
                "# Playwright report `test-results/results.json`\n\nPlaywright run of 2026-11-24T23:14:07Z: FAILED (report test-results/results.json)\n24 tests (12 specs × 2 projects): 14 passed, 2 flaky, 4 failed, 2 timed out, 2 skipped\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("## Failing tests\n\n3 failing tests (6 results on 2 projects) in test-results/results.json:\n\n1. repository browser › counts open issues"),
            "{text}"
        );
        assert!(
            text.contains("## Attachments of failing and flaky tests\n\n- plue://playwright/attachments/test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop/test-failed-1.png (image/png): screenshot: repository browser › counts open issues [chromium-desktop] attempt 1 (failed)\n"),
            "{text}"
        );
        assert!(text.contains("Showing 10 of "), "{text}");
        let old = super::tests::read("plue://playwright/reports/runs%2Frun-1.json").unwrap();
        assert!(
            old[0].as_text().unwrap().starts_with(
                "# Playwright report `runs/run-1.json`\n\nPlaywright run of 2026-11-24T23:12:38Z: FAILED"
            )
        );
    }

    #[test]
    fn an_unknown_report_lists_the_reports() {
        let err = read("plue://playwright/reports/nope.json")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid arguments: no report `nope.json` in directory `playwright`; the reports are `latest`, `test-results/results.json`, `runs/run-2.json`, `runs/run-1.json`"
        );
        let err = read("plue://playwright/reports/..%2Fx.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`..` is not allowed"), "{err}");
    }
}
