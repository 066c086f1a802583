//! Host-side bindings generated from `wit/`, the one source of truth of the
//! plugin contract. Everything else imports the types from here.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plue:plugin/plugin",
    imports: { default: async },
    exports: { default: async },
});

pub use exports::plue::plugin::tools::{PluginManifest, ToolError, ToolResult};
pub use plue::plugin::types::{Content, ToolAnnotations};
pub use plue::plugin::{http, log, settings, sql};
