//! The workflows tool group (in progress).

use plue_plugin_sdk::prelude::*;

/// The plugin description: its capabilities, settings and tools.
pub fn plugin() -> Plugin {
    Plugin::new(
        "workflows",
        env!("CARGO_PKG_VERSION"),
        "The workflows tool group.",
    )
    .sql("plue")
}

plue_plugin_sdk::export_plugin!(plugin);
