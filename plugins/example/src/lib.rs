//! The example plugin: one tool per host capability, and one prompt, resource
//! family and completion (`context`), for plugin authors to copy
//! and for the end-to-end tests to prove each capability works (and is denied
//! when not granted).

use plue_plugin_sdk::prelude::*;

mod context;
pub mod tools;

pub fn plugin() -> Plugin {
    let plugin = Plugin::new(
        "example",
        env!("CARGO_PKG_VERSION"),
        "Example plugin: one tool per host capability (echo, HTTP, SQL, files).",
    )
    .http("web")
    .sql("main")
    .directory("data")
    .setting(
        "greeting",
        "hello",
        "Prefix `echo` does not use; shown by `plue-mcp inspect`.",
    )
    .tool(tools::echo::def())
    .tool(tools::http_get::def())
    .tool(tools::sql_query::def())
    .tool(tools::read_file::def());
    context::add(plugin)
}

plue_plugin_sdk::export_plugin!(plugin);

plue_plugin_sdk::schema_test!(plugin);
