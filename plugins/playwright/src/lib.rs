//! The playwright tool group: nine tools over Playwright's JSON reports and the
//! attachments beside them, all read from one read-only directory the operator
//! grants as `playwright` (mounted at `/playwright`). Nothing outside it can be
//! named: `..` and absolute paths are refused here, symlinks out by the host.
//!
//! Code map: [`raw`] is the report format, [`report`] finds and flattens a
//! report, [`history`] finds the other runs, [`attachment`] maps attachment
//! paths and reads their content, [`scan`] searches the directory, [`fmt`]
//! holds the text helpers, and
//! [`tools`] one module per tool. Beyond tools: [`prompts`], [`resources`]
//! (reports and attachments, addressed as [`links`] says) and [`completions`].

pub mod attachment;
pub mod completions;
pub mod fmt;
pub mod history;
pub mod links;
pub mod prompts;
pub mod raw;
pub mod report;
pub mod resources;
pub mod scan;
pub mod tools;

use plue_plugin_sdk::prelude::*;

/// The plugin description: its directory, settings, tools, prompts, resources
/// and completions.
pub fn plugin() -> Plugin {
    let plugin = Plugin::new(
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
        tools::view::DEFAULT_IMAGE_KIB,
        "Largest image view_attachment returns as image content, in KiB; larger ones are described.",
    )
    .tool(tools::summary::def())
    .tool(tools::failures::def())
    .tool(tools::details::def())
    .tool(tools::view::def())
    .tool(tools::patterns::def())
    .tool(tools::flaky::def())
    .tool(tools::slow::def())
    .tool(tools::artifacts::def())
    .tool(tools::files::def())
    .resources(resources::reports())
    .resources(resources::attachments())
    .completion("test", completions::test)
    .completion("report", completions::report)
    .completion("path", completions::path)
    .completion("full", completions::flag);
    prompts::defs().into_iter().fold(plugin, Plugin::prompt)
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
