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
            "Start here for Playwright: latest run's verdict, failed and flaky tests.",
            summary::run,
        )
        .title("Test run summary")
        .read_only(),
    )
    .tool(
        tool(
            "list_failures",
            "Failed tests with projects, first error line, location and attempts.",
            failures::run,
        )
        .title("Failing tests")
        .read_only(),
    )
    .tool(
        tool(
            "test_details",
            "One test in full: each attempt's error, output and attachments.",
            details::run,
        )
        .title("Test details")
        .read_only(),
    )
    .tool(
        tool(
            "view_attachment",
            "Open a test attachment: screenshots as images, JSON and text as text.",
            view::run,
        )
        .title("View attachment")
        .read_only(),
    )
    .tool(
        tool(
            "failure_patterns",
            "Failing tests grouped by error: the one bug behind many failures.",
            patterns::run,
        )
        .title("Failure patterns")
        .read_only(),
    )
    .tool(
        tool(
            "flaky_tests",
            "Tests that passed only on retry or flip between kept runs.",
            flaky::run,
        )
        .title("Flaky tests")
        .read_only(),
    )
    .tool(
        tool(
            "slow_tests",
            "Slowest tests above a threshold, with their trend over earlier runs.",
            slow::run,
        )
        .title("Slow tests")
        .read_only(),
    )
    .tool(
        tool(
            "test_artifacts",
            "Attachments per attempt, with paths for view_attachment.",
            artifacts::run,
        )
        .title("Test artifacts")
        .read_only(),
    )
    .tool(
        tool(
            "list_test_files",
            "Spec files with test counts by status, failing first.",
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
                .contains("Default all")
        );
        let view: serde_json::Value =
            serde_json::from_str(&manifest.tools[3].input_schema).unwrap();
        assert_eq!(view["required"], serde_json::json!(["attachmentPath"]));
    }
}

plue_plugin_sdk::schema_test!(plugin);
