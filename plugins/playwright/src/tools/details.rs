//! `test_details`: everything about one test: each project's verdict, every
//! attempt with its full error (without colours) and attachments named so that
//! `view_attachment` opens them.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::{Scope, by_spec, whole_ms};
use crate::attachment::{self, Location, Resolver};
use crate::fmt;
use crate::report::{Case, Outcome};

/// Longest error message shown whole, in characters.
const MAX_ERROR_CHARS: usize = 4000;
/// Longest stdout or stderr shown, in characters.
const MAX_OUTPUT_CHARS: usize = 1000;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// Part of a title or file; exact wins.
    #[serde(rename = "testTitle")]
    pub test_title: String,
    #[serde(flatten)]
    pub scope: Scope,
}

/// What `test_details` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Details {
    pub report: String,
    pub title: String,
    pub file: String,
    pub line: Option<u32>,
    pub tags: Vec<String>,
    pub projects: Vec<ProjectDetails>,
    // Titles of other tests that also matched `testTitle`.
    pub other_matches: Vec<String>,
}

// The test in one project.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectDetails {
    pub project: String,
    pub outcome: Outcome,
    pub annotations: Vec<String>,
    /// ms.
    pub final_attempt_ms: u64,
    /// ms, all attempts.
    pub total_ms: u64,
    pub attempts: Vec<AttemptDetails>,
}

// One attempt.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AttemptDetails {
    pub retry: u32,
    // `passed`, `failed`, `timedOut`, `skipped` or `interrupted`.
    pub status: String,
    pub duration_ms: u64,
    pub errors: Vec<FullError>,
    pub attachments: Vec<AttachmentInfo>,
    pub stdout: String,
    pub stderr: String,
}

// A whole error message, without colours.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FullError {
    pub message: String,
    pub location: Option<String>,
}

// An attachment and where to view it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AttachmentInfo {
    pub name: String,
    pub content_type: String,
    // `screenshot`, `image`, `video`, `trace`, `json`, `markdown`, `text` or `file`.
    pub kind: String,
    // What to pass to `view_attachment` as `attachmentPath`; absent when the file is missing.
    pub path: Option<String>,
    pub size_bytes: Option<u64>,
    // Why the file cannot be viewed (missing from the directory, or replaced by a later run's).
    pub missing: Option<String>,
}

impl AttachmentInfo {
    /// Describe attachment `a` of `case`'s `attempt`.
    pub fn of(
        resolver: &Resolver,
        case: &Case,
        attempt: &crate::report::Attempt,
        a: &crate::raw::Attachment,
    ) -> Self {
        let location = resolver.locate(case, attempt, a);
        let path_hint = match &location {
            Location::File(p, _) | Location::Missing(p, _) => p.as_str(),
            _ => a.path.as_deref().unwrap_or(""),
        };
        AttachmentInfo {
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            kind: attachment::kind(&a.name, &a.content_type, path_hint).into(),
            path: location.viewable().map(str::to_string),
            size_bytes: location.size(),
            missing: match &location {
                Location::Missing(_, why) => Some(why.clone()),
                _ => None,
            },
        }
    }

    /// `screenshot (image/png, 7.0 KiB): test-results/…/test-failed-1.png`.
    pub fn render(&self) -> String {
        let size = self
            .size_bytes
            .map(|s| format!(", {}", fmt::bytes(s)))
            .unwrap_or_default();
        let place = match (&self.path, &self.missing) {
            (Some(p), _) => p.clone(),
            (None, Some(why)) => why.clone(),
            (None, None) => "no content".into(),
        };
        format!("{} ({}{size}): {place}", self.name, self.content_type)
    }
}

pub fn run(args: Args) -> Result<Answer<Details>, ToolError> {
    let needle = args.test_title.trim().to_lowercase();
    if needle.is_empty() {
        return Err(ToolError::invalid(
            "`testTitle` is empty: give part of a test's title",
        ));
    }
    let report = args.scope.load()?;
    let groups = by_spec(report.cases.iter().filter(|c| c.matches(&needle)));
    let Some(best) = groups
        .iter()
        .position(|g| {
            g[0].title.to_lowercase() == needle || last_title(g[0]).to_lowercase() == needle
        })
        .or((!groups.is_empty()).then_some(0))
    else {
        let examples: Vec<String> = by_spec(&report.cases)
            .iter()
            .take(5)
            .map(|g| format!("`{}`", g[0].title))
            .collect();
        return Err(ToolError::failed(format!(
            "no test in {} has `{}` in its title or file; titles look like {} (list_failures and list_test_files show more)",
            report.path,
            args.test_title.trim(),
            examples.join(", ")
        )));
    };
    let group = &groups[best];
    let first = group[0];
    let mut out = vec![format!("{} — {}", first.title, first.location())];
    if !first.tags.is_empty() {
        out.push(format!("Tags: {}", first.tags.join(" ")));
    }
    let mut shown_errors: Vec<String> = Vec::new();
    let mut projects = Vec::new();
    let resolver = Resolver::new(&report);
    for case in group {
        let (lines, details) = project(&resolver, case, &mut shown_errors);
        out.push(String::new());
        out.extend(lines);
        projects.push(details);
    }
    let others: Vec<String> = groups
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .map(|(_, g)| g[0].title.clone())
        .collect();
    if !others.is_empty() {
        let taken = text::take(others.iter().cloned(), 10);
        out.push(format!(
            "\nAlso matching `{}` ({}):",
            args.test_title.trim(),
            others.len()
        ));
        out.extend(taken.items.iter().map(|t| format!("- {t}")));
        if let Some(note) = taken.note("matches", "give more of the title") {
            out.push(note);
        }
    }
    let details = Details {
        report: report.path.clone(),
        title: first.title.clone(),
        file: first.file.clone(),
        line: first.line,
        tags: first.tags.clone(),
        projects,
        other_matches: others,
    };
    let links = attachment_links(&details, crate::links::MAX_LINKS);
    Ok(links
        .into_iter()
        .fold(Answer::new(out.join("\n"), details), Answer::with_link))
}

/// Links to a few of the test's attachments: failing attempts first, then
/// screenshots, error contexts and traces before other kinds.
pub fn attachment_links(details: &Details, max: usize) -> Vec<Link> {
    let mut attempts: Vec<(&ProjectDetails, &AttemptDetails)> = details
        .projects
        .iter()
        .flat_map(|p| p.attempts.iter().map(move |a| (p, a)))
        .collect();
    attempts.sort_by_key(|(_, a)| a.status == "passed");
    let infos = attempts.into_iter().flat_map(|(p, a)| {
        a.attachments.iter().map(move |i| {
            (
                i,
                format!("{} [{}] attempt {}", details.title, p.project, a.retry + 1),
            )
        })
    });
    crate::links::attachments(infos, max)
}

fn last_title(case: &Case) -> &str {
    case.title.rsplit(" › ").next().unwrap_or(&case.title)
}

/// The lines and structured details of `case` (one project).
fn project(
    resolver: &Resolver,
    case: &Case,
    shown: &mut Vec<String>,
) -> (Vec<String>, ProjectDetails) {
    let n = case.attempts.len();
    let verdict = match case.outcome {
        Outcome::Flaky => format!("flaky: passed on attempt {n} of {n}"),
        other if n > 1 => format!("{}: {} attempts", other.label(), n),
        other => other.label().to_string(),
    };
    let mut lines = vec![format!(
        "[{}] {verdict}; final attempt {}, total {}",
        case.project,
        fmt::ms(case.final_ms()),
        fmt::ms(case.total_ms())
    )];
    if !case.annotations.is_empty() {
        lines.push(format!("  Annotations: {}", case.annotations.join("; ")));
    }
    let mut attempts = Vec::new();
    for attempt in &case.attempts {
        lines.push(format!(
            "  Attempt {} (retry {}): {} in {}",
            attempt.retry + 1,
            attempt.retry,
            fmt::status(&attempt.status),
            fmt::ms(attempt.duration_ms)
        ));
        for error in &attempt.errors {
            let at = error
                .location
                .as_deref()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            if shown.contains(&error.message) {
                lines.push(format!(
                    "    Error{at}: {} (same message as above)",
                    super::headline(&error.message)
                ));
                continue;
            }
            shown.push(error.message.clone());
            let (message, cut) = text::truncate_chars(&error.message, MAX_ERROR_CHARS);
            lines.push(format!("    Error{at}:"));
            lines.extend(
                message
                    .lines()
                    .map(|l| format!("      {l}").trim_end().to_string()),
            );
            if cut > 0 {
                lines.push(format!(
                    "      ({cut} more characters; the error-context attachment has the page state)"
                ));
            }
        }
        for (label, stream) in [("stdout", &attempt.stdout), ("stderr", &attempt.stderr)] {
            if !stream.trim().is_empty() {
                let (shown, cut) = text::truncate_chars(stream.trim_end(), MAX_OUTPUT_CHARS);
                let more = if cut > 0 {
                    format!(" ({cut} more characters)")
                } else {
                    String::new()
                };
                lines.push(format!("    {label}{more}:"));
                lines.extend(shown.lines().map(|l| format!("      {l}")));
            }
        }
        let infos: Vec<AttachmentInfo> = attempt
            .attachments
            .iter()
            .map(|a| AttachmentInfo::of(resolver, case, attempt, a))
            .collect();
        if !infos.is_empty() {
            lines.push("    Attachments:".into());
            lines.extend(infos.iter().map(|i| format!("      - {}", i.render())));
        }
        attempts.push(AttemptDetails {
            retry: attempt.retry,
            status: attempt.status.clone(),
            duration_ms: whole_ms(attempt.duration_ms),
            errors: attempt
                .errors
                .iter()
                .map(|e| FullError {
                    message: e.message.clone(),
                    location: e.location.clone(),
                })
                .collect(),
            attachments: infos,
            stdout: attempt.stdout.clone(),
            stderr: attempt.stderr.clone(),
        });
    }
    let details = ProjectDetails {
        project: case.project.clone(),
        outcome: case.outcome,
        annotations: case.annotations.clone(),
        final_attempt_ms: whole_ms(case.final_ms()),
        total_ms: whole_ms(case.total_ms()),
        attempts,
    };
    (lines, details)
}

pub fn def() -> ToolDef {
    tool(
        "test_details",
        "One test in full: each attempt's error, output and attachments.",
        run,
    )
    .title("Test details")
    .read_only()
}

#[cfg(test)]
mod tests {
    use crate::tools::testing::call;
    use serde_json::json;

    #[test]
    fn a_failing_test_with_every_attempt_error_and_attachment() {
        let out = call(
            "test_details",
            json!({"testTitle": "counts open issues", "project": "chromium-desktop"}),
        )
        .unwrap();
        assert_eq!(
            out.text_content(),
            "repository browser › counts open issues — repo/browse.spec.ts:11

[chromium-desktop] failed: 2 attempts; final attempt 1161 ms, total 2181 ms
  Attempt 1 (retry 0): failed in 1020 ms
    Error at repo/browse.spec.ts:14:53:
      Error: expected 3 items, got 5

      expect(received).toBe(expected) // Object.is equality

      Expected: 3
      Received: 5

        12 |     await page.goto('/repo.html');
        13 |     const count = await page.locator('#issues li').count();
      > 14 |     expect(count, `expected 3 items, got ${count}`).toBe(3);
           |                                                     ^
        15 |   });
        16 |
        17 |   // Slow on purpose; its wait grows from run to run (3 s, 4.5 s, 6 s).
          at /work/main/tests/playwright-project/specs/repo/browse.spec.ts:14:53
    Attachments:
      - screenshot (image/png, 16.5 KiB): test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop/test-failed-1.png
      - error-context (text/markdown, 2.3 KiB): test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop/error-context.md
  Attempt 2 (retry 1): failed in 1161 ms
    Error at repo/browse.spec.ts:14:53: expected 3 items, got 5 (same message as above)
    Attachments:
      - screenshot (image/png, 16.5 KiB): test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop-retry1/test-failed-1.png
      - error-context (text/markdown, 2.3 KiB): test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop-retry1/error-context.md"
        );
        let s = out.structured().unwrap();
        assert_eq!(
            s["projects"][0]["attempts"][1]["attachments"][0]["kind"],
            "screenshot"
        );
        assert!(
            s["projects"][0]["attempts"][0]["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Error: expected 3 items, got 5\n")
        );
    }

    #[test]
    fn inline_attachments_skips_and_other_matches() {
        let out = call(
            "test_details",
            json!({"testTitle": "ATTACHES run metadata", "project": "chromium-mobile"}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(text.contains(
            "      - console-logs (application/json, 139 B): inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-mobile/0/console-logs\n"
        ), "{text}");
        assert!(text.contains(
            "      - build-log (text/plain, 67 B): inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-mobile/0/build-log"
        ), "{text}");
        let out = call("test_details", json!({"testTitle": "single sign-on"})).unwrap();
        assert!(out.text_content().contains(
            "[chromium-desktop] skipped; final attempt 181 ms, total 181 ms\n  Annotations: skip: SSO provider is not configured in this environment\n"
        ), "{}", out.text_content());
        let out = call("test_details", json!({"testTitle": "workflow runs"})).unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with("workflow runs › counts queued runs — workflows/runs.spec.ts:7\n"),
            "{text}"
        );
        assert!(text.ends_with(
            "Also matching `workflow runs` (3):\n- workflow runs › waits for the deploy to finish\n- workflow runs › cancels a queued run\n- workflow runs › attaches run metadata"
        ), "{text}");
    }

    #[test]
    fn timeouts_show_both_errors_once() {
        let out = call("test_details", json!({"testTitle": "waits for the deploy"})).unwrap();
        let text = out.text_content();
        assert!(text.contains(
            "  Attempt 1 (retry 0): timed out in 1574 ms\n    Error:\n      Test timeout of 1500ms exceeded.\n    Error at workflows/runs.spec.ts:17:67:\n      Error: locator.waitFor: Test timeout of 1500ms exceeded.\n"
        ), "{text}");
        assert!(text.contains(
            "[chromium-mobile] timed out: 2 attempts; final attempt 1573 ms, total 3182 ms\n  Attempt 1 (retry 0): timed out in 1609 ms\n    Error: Test timeout of 1500ms exceeded. (same message as above)\n    Error at workflows/runs.spec.ts:17:67: locator.waitFor: Test timeout of 1500ms exceeded. (same message as above)\n"
        ), "{text}");
    }

    #[test]
    fn old_runs_name_missing_files_and_unknown_titles_fail() {
        let out = call("test_details", json!({"testTitle": "remembers the session", "report": "runs/run-1.json", "project": "chromium-mobile"})).unwrap();
        assert!(out.text_content().contains(
            "      - screenshot (image/png): replaced: test-results/auth-login-login-remembers-the-session-chromium-mobile/test-failed-1.png now holds the file of the later run test-results/results.json"
        ), "{}", out.text_content());
        let err = call("test_details", json!({"testTitle": "no such test"}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "no test in test-results/results.json has `no such test` in its title or file; titles look like \
             `login › shows the sign-in form`, `login › rejects a wrong password`, `login › remembers the session`, \
             `login › signs in with single sign-on`, `repository browser › lists the top-level files` \
             (list_failures and list_test_files show more)"
        );
    }

    #[test]
    fn links_every_attempts_screenshot_and_error_context() {
        let out = call(
            "test_details",
            json!({"testTitle": "counts open issues", "project": "chromium-desktop"}),
        )
        .unwrap();
        let dir = "plue://playwright/attachments/test-results/repo-browse-repository-browser-counts-open-issues-chromium-desktop";
        let links: Vec<(&str, Option<&str>)> =
            out.links().iter().map(|l| (l.uri(), l.mime())).collect();
        assert_eq!(
            links,
            [
                (
                    format!("{dir}/test-failed-1.png").as_str(),
                    Some("image/png")
                ),
                (
                    format!("{dir}-retry1/test-failed-1.png").as_str(),
                    Some("image/png")
                ),
                (
                    format!("{dir}/error-context.md").as_str(),
                    Some("text/markdown")
                ),
                (
                    format!("{dir}-retry1/error-context.md").as_str(),
                    Some("text/markdown")
                ),
            ]
        );
        // Inline attachments link by their `inline:` name, with the report's type.
        let out = call(
            "test_details",
            json!({"testTitle": "attaches run metadata", "project": "chromium-mobile"}),
        )
        .unwrap();
        assert!(
            out.links().iter().any(|l| l.uri()
                == "plue://playwright/attachments/inline%3Af3eea7468f7e80799e41-dc4d808d15b896431321/chromium-mobile/0/console-logs"
                && l.mime() == Some("application/json")),
            "{:?}",
            out.links()
        );
    }
}
