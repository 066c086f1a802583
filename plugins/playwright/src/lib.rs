//! The playwright tool group: nine tools over Playwright's JSON reports and the
//! attachments beside them, all read from one read-only directory the operator
//! grants as `playwright` (mounted at `/playwright`). Nothing outside it can be
//! named: `..` and absolute paths are refused here, symlinks out by the host.
//!
//! Code map: [`raw`] is the report format, [`report`] finds and flattens a
//! report, [`history`] finds the other runs, [`attachment`] maps attachment
//! paths and reads their content, [`scan`] searches the directory, [`fmt`]
//! holds the text helpers, and
//! [`tools`] one module per tool.

pub mod attachment;
pub mod fmt;
pub mod history;
pub mod raw;
pub mod report;
pub mod scan;
pub mod tools;

use plue_plugin_sdk::prelude::*;

use tools::{artifacts, details, failures, files, flaky, patterns, slow, summary, view};

/// The plugin description: its directory, settings and tools.
pub fn plugin() -> Plugin {
    Plugin::new(
        "playwright",
        env!("CARGO_PKG_VERSION"),
        "Playwright test results: summary, failures and their common causes, flaky and slow tests \
         (compared across the runs kept in the directory), test details, attachments (screenshots \
         as images) and spec files, read from Playwright's JSON reports in one read-only directory.",
    )
    .directory(report::DIR)
    .setting(
        "report",
        report::USUAL_PLACES[0],
        "The latest JSON report, relative to the directory; when it is absent, \
         test-results/results.json, playwright-report/results.json and results.json are tried.",
    )
    .setting(
        "max_image_kib",
        view::DEFAULT_IMAGE_KIB,
        "Largest image view_attachment returns as image content, in KiB; larger ones are described.",
    )
    .tool(
        tool(
            "test_summary",
            "Summarise the latest Playwright run: PASSED/FAILED, counts of passed, flaky, failed, \
             timed-out and skipped tests overall and per project (browser), pass rate, wall-clock \
             and test time, and which tests failed or were flaky. Start here.",
            summary::run,
        )
        .title("Test run summary")
        .read_only(),
    )
    .tool(
        tool(
            "list_failures",
            "List the tests that failed or timed out, one entry per test with the projects it \
             failed in, the first line of the error and where it was thrown, attempts, and the \
             final attempt's and total durations.",
            failures::run,
        )
        .title("Failing tests")
        .read_only(),
    )
    .tool(
        tool(
            "test_details",
            "Everything about one test, found by part of its title or file: per project the \
             verdict, every attempt with its full error (code frame included), stdout/stderr, \
             annotations, and attachments with the path or inline: name to pass to view_attachment.",
            details::run,
        )
        .title("Test details")
        .read_only(),
    )
    .tool(
        tool(
            "view_attachment",
            "Open a test attachment or any file in the test-results directory: screenshots come back \
             as images (with their pixel size), JSON pretty-printed, text and markdown as text (capped), \
             traces and videos described. Takes a path relative to the directory or an inline: name \
             from test_details/test_artifacts; paths leaving the directory are refused.",
            view::run,
        )
        .title("View attachment")
        .read_only(),
    )
    .tool(
        tool(
            "failure_patterns",
            "Group failing tests by the shape of their error (numbers and quoted values ignored), \
             most frequent first, with the tests and projects each cause hits: find the one bug \
             behind many failures.",
            patterns::run,
        )
        .title("Failure patterns")
        .read_only(),
    )
    .tool(
        tool(
            "flaky_tests",
            "Find flaky tests: those that passed only on a retry, and, comparing every JSON report \
             kept in the directory (one per run), those that passed in some runs and failed in others, \
             with each project's outcome run by run.",
            flaky::run,
        )
        .title("Flaky tests")
        .read_only(),
    )
    .tool(
        tool(
            "slow_tests",
            "List the slowest tests above a threshold (ms, all attempts together; the final attempt \
             is named too), slowest first, with their duration in each earlier run kept in the \
             directory to show the trend.",
            slow::run,
        )
        .title("Slow tests")
        .read_only(),
    )
    .tool(
        tool(
            "test_artifacts",
            "List the screenshots, traces, videos, JSON and text attachments of each test attempt \
             (failing tests first) with kind, size and the path to pass to view_attachment, then the \
             other files in the output folder. Filter by test title.",
            artifacts::run,
        )
        .title("Test artifacts")
        .read_only(),
    )
    .tool(
        tool(
            "list_test_files",
            "List the spec files of the run (from the report, relative to the config's rootDir) with \
             per-file counts of passed, flaky, failed, timed-out and skipped tests, failing files \
             first, and the spec files present in the directory.",
            files::run,
        )
        .title("Test files")
        .read_only(),
    )
}

plue_plugin_sdk::export_plugin!(plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_declares_nine_read_only_tools_with_output_schemas() {
        let manifest = plue_plugin_sdk::__private::manifest(&plugin());
        let names: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "test_summary",
                "list_failures",
                "test_details",
                "view_attachment",
                "failure_patterns",
                "flaky_tests",
                "slow_tests",
                "test_artifacts",
                "list_test_files"
            ]
        );
        assert_eq!(manifest.capabilities.directories, ["playwright"]);
        for t in &manifest.tools {
            assert!(
                t.annotations.read_only && t.annotations.idempotent,
                "{}",
                t.name
            );
            assert!(t.output_schema.is_some(), "{}", t.name);
        }
        let details: serde_json::Value =
            serde_json::from_str(&manifest.tools[2].input_schema).unwrap();
        assert_eq!(details["required"], serde_json::json!(["testTitle"]));
        assert!(
            details["properties"]["project"]["description"]
                .as_str()
                .unwrap()
                .starts_with("Only this Playwright project")
        );
        let view: serde_json::Value =
            serde_json::from_str(&manifest.tools[3].input_schema).unwrap();
        assert_eq!(view["required"], serde_json::json!(["attachmentPath"]));
    }
}

#[cfg(test)]
mod schema_tests {
    /// What an MCP client would reject in any tool's input or output schema.
    #[test]
    fn every_schema_is_clean() {
        let problems = plue_plugin_sdk::testing::schema_problems(&super::plugin());
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
