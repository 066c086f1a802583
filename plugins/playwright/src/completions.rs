//! Completions: `test` (spec titles of the report in the context, else the
//! latest; failing first, then flaky, then the rest; a prefix of the whole
//! title or of its last part), `report` (`latest` and every report's path,
//! newest first), `path` (files of the directory, for the attachment
//! resources) and the prompt flag `full` (`true`, `false`).

use plue_plugin_sdk::prelude::*;

use crate::report::{self, Outcome};
use crate::tools::by_spec;

/// Test titles that continue what was typed.
pub fn test(typed: &Completing) -> Result<Vec<String>, ToolError> {
    let chosen = typed
        .context
        .get("report")
        .map(|r| r.trim())
        .filter(|r| !r.is_empty() && *r != "latest");
    let report = report::load(chosen)?;
    let mut specs = by_spec(&report.cases);
    specs.sort_by_key(|g| {
        if g.iter().any(|c| c.outcome.is_failure()) {
            0
        } else if g.iter().any(|c| c.outcome == Outcome::Flaky) {
            1
        } else {
            2
        }
    });
    Ok(specs
        .iter()
        .map(|g| g[0].title.clone())
        .filter(|t| typed.matches(t) || typed.matches(t.rsplit(" › ").next().unwrap_or(t)))
        .collect())
}

/// Report names: `latest`, then the reports' paths, newest first.
pub fn report(typed: &Completing) -> Result<Vec<String>, ToolError> {
    let mut names = vec!["latest".to_string()];
    if let Ok(latest) = report::load(None) {
        names.extend(
            crate::history::runs(latest)
                .into_iter()
                .rev()
                .map(|r| r.path),
        );
    }
    Ok(typed.filter(names))
}

/// At most this many files are looked at for `path`.
const MAX_FILES: usize = 5000;

/// Files of the directory whose path continues what was typed, sorted.
pub fn path(typed: &Completing) -> Result<Vec<String>, ToolError> {
    let (found, _) =
        plue_plugin_sdk::files::walk_except(report::DIR, "", MAX_FILES, &["node_modules", ".git"])?;
    Ok(typed.filter(found))
}

/// A prompt flag's values.
pub fn flag(typed: &Completing) -> Result<Vec<String>, ToolError> {
    Ok(typed.filter(["true", "false"].map(String::from)))
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::tools::testing::mount_fixtures;

    fn complete(argument: &str, value: &str, context: &[(&str, &str)]) -> Vec<String> {
        mount_fixtures();
        testing::complete(&plugin(), argument, value, context).unwrap()
    }

    #[test]
    fn test_titles_failing_first_by_prefix_of_the_title_or_its_last_part() {
        let all = complete("test", "", &[]);
        assert_eq!(all.len(), 12);
        assert_eq!(
            all[..4],
            [
                "repository browser › counts open issues",
                "workflow runs › counts queued runs",
                "workflow runs › waits for the deploy to finish",
                "login › remembers the session",
            ]
        );
        assert_eq!(
            complete("test", "COUNTS", &[]),
            [
                "repository browser › counts open issues",
                "workflow runs › counts queued runs"
            ]
        );
        assert_eq!(
            complete("test", "workflow runs › w", &[]),
            ["workflow runs › waits for the deploy to finish"]
        );
        // Another report: run 1, where `cancels a queued run` failed.
        assert_eq!(
            complete("test", "cancels", &[("report", "runs/run-1.json")]),
            ["workflow runs › cancels a queued run"]
        );
        assert_eq!(
            complete("test", "cancels", &[("report", "latest")]),
            ["workflow runs › cancels a queued run"]
        );
        assert!(complete("test", "zzz", &[]).is_empty());
    }

    #[test]
    fn attachment_paths_by_prefix() {
        assert_eq!(
            complete(
                "path",
                "test-results/auth-login-login-remembers-the-session-chromium-m",
                &[]
            ),
            [
                "test-results/auth-login-login-remembers-the-session-chromium-mobile/error-context.md",
                "test-results/auth-login-login-remembers-the-session-chromium-mobile/test-failed-1.png",
            ]
        );
        assert_eq!(
            complete("path", "runs/", &[]),
            ["runs/run-1.json", "runs/run-2.json"]
        );
    }

    #[test]
    fn report_names_newest_first() {
        assert_eq!(
            complete("report", "", &[]),
            [
                "latest",
                "test-results/results.json",
                "runs/run-2.json",
                "runs/run-1.json"
            ]
        );
        assert_eq!(
            complete("report", "runs/", &[]),
            ["runs/run-2.json", "runs/run-1.json"]
        );
        mount_fixtures();
        let err = testing::complete(&plugin(), "test", "", &[("report", "nope.json")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("report `nope.json` not found"), "{err}");
    }
}
