//! Host-side bindings generated from `wit/`, the one source of truth of the
//! plugin contract: `plue:plugin@0.2.0` (`wit/plugin.wit`), which everything
//! else imports from here, and the frozen `plue:plugin@0.1.0`
//! (`wit/0.1/plugin.wit`), used only by `plugin::compat` to keep loading
//! plugins built against it.

mod current {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "plue:plugin/plugin",
        imports: { default: async },
        exports: { default: async },
    });
}

/// The 0.1 contract: its exports are read through `plugin::compat`.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/0.1",
        world: "plue:plugin/plugin",
        imports: { default: async },
        exports: { default: async },
    });
}

pub use current::*;
pub use exports::plue::plugin::{completions, prompts, resources, tools};
pub use plue::plugin::types::{
    Completion, CompletionRef, Content, Image, PluginManifest, Prompt, PromptArgument,
    PromptMessage, PromptResult, ResourceBody, ResourceContents, ResourceInfo, ResourceTemplate,
    Role, ToolAnnotations, ToolError, ToolResult,
};
pub use plue::plugin::{http, log, settings, sql};
