//! # plue-plugin-sdk
//!
//! Write a [`plue-mcp`](https://github.com/plue/plue-mcp) tool group as plain Rust
//! functions. A plugin is a WASI 0.2 component built with
//! `cargo build --target wasm32-wasip2`; this crate turns typed argument structs and
//! handler functions into the `plue:plugin` WIT exports, and wraps the host
//! capabilities (HTTP to named endpoints, read-only SQL, granted directories,
//! settings, log) in small, typed helpers.
//!
//! ```
//! use plue_plugin_sdk::prelude::*;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct GreetArgs {
//!     /// Who to greet.
//!     name: String,
//! }
//!
//! #[derive(Serialize, JsonSchema)]
//! struct Greeting {
//!     greeting: String,
//! }
//!
//! fn greet(args: GreetArgs) -> Result<Answer<Greeting>, ToolError> {
//!     let greeting = format!("hello, {}", args.name);
//!     Ok(Answer::new(greeting.clone(), Greeting { greeting }))
//! }
//!
//! pub fn plugin() -> Plugin {
//!     Plugin::new("hello", "0.1.0", "Greets people.")
//!         .tool(tool("greet", "Greet someone by name.", greet).read_only())
//! }
//!
//! plue_plugin_sdk::export_plugin!(plugin);
//! # fn main() {
//! # let out = plue_plugin_sdk::testing::call(&plugin(), "greet", serde_json::json!({"name": "Ada"})).unwrap();
//! # assert_eq!(out.text_content(), "hello, Ada");
//! # assert_eq!(out.structured().unwrap()["greeting"], "hello, Ada");
//! # }
//! ```
//!
//! Plugin logic also compiles natively, so `cargo test` runs its unit tests; host
//! capabilities are then served by the fakes in [`testing`].

#![warn(missing_docs)]

#[cfg(feature = "chart")]
pub mod chart;
pub mod complete;
pub mod files;
pub mod http;
pub mod log;
mod output;
mod plugin;
pub mod prompt;
pub mod quote;
pub mod resource;
pub mod schema;
pub mod settings;
pub mod sql;
pub mod testing;
pub mod text;
pub mod time;
pub mod uri_template;

pub use complete::Completing;
pub use output::{Answer, Output, Reply, ToolError};
pub use plugin::{Plugin, ToolDef, tool};
pub use prompt::{Briefing, PromptArgs, PromptDef, prompt};
pub use resource::{Contents, Link, TemplateDef, Vars, resources};

/// Bindings generated from the `wit/` directory: the one source of truth of the contract.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "plue:plugin/plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_bindings",
        default_bindings_module: "plue_plugin_sdk::bindings",
        additional_derives: [PartialEq],
    });
}

/// The README's plugin-author example compiles as a doc test, so it cannot go
/// stale.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

/// What a plugin usually needs, in one `use`.
pub mod prelude {
    pub use crate::{
        Answer, Briefing, Completing, Contents, Link, Output, Plugin, PromptArgs, ToolDef,
        ToolError, Vars, prompt, resources, tool,
    };
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::{Value as Json, json};
}

#[doc(hidden)]
pub mod __private {
    pub use crate::plugin::{
        call_tool, complete, get_prompt, list_resources, manifest, read_resource,
    };
    pub use serde_json;
}

/// Export a plugin: `export_plugin!(plugin)` where `plugin` is a `fn() -> Plugin`.
///
/// The function is called once when the host reads the manifest and once per tool
/// call (each call runs in a fresh instance), so it should only build the
/// description: keep expensive work in the handlers.
///
/// The WIT export is emitted only on `wasm32`, so the same crate also builds and
/// tests natively.
///
/// ```
/// use plue_plugin_sdk::prelude::*;
/// fn plugin() -> Plugin { Plugin::new("empty", "0.1.0", "Offers nothing yet.") }
/// plue_plugin_sdk::export_plugin!(plugin);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($build:path) => {
        #[doc(hidden)]
        pub struct __PluePluginExport;

        impl $crate::bindings::exports::plue::plugin::tools::Guest for __PluePluginExport {
            fn manifest() -> $crate::bindings::plue::plugin::types::PluginManifest {
                $crate::__private::manifest(&$build())
            }

            fn call_tool(
                name: ::std::string::String,
                arguments: ::std::string::String,
            ) -> ::std::result::Result<
                $crate::bindings::plue::plugin::types::ToolResult,
                $crate::bindings::plue::plugin::types::ToolError,
            > {
                $crate::__private::call_tool(&$build(), &name, &arguments)
            }
        }

        impl $crate::bindings::exports::plue::plugin::prompts::Guest for __PluePluginExport {
            fn get_prompt(
                name: ::std::string::String,
                arguments: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
            ) -> ::std::result::Result<
                $crate::bindings::plue::plugin::types::PromptResult,
                $crate::bindings::plue::plugin::types::ToolError,
            > {
                $crate::__private::get_prompt(&$build(), &name, arguments)
            }
        }

        impl $crate::bindings::exports::plue::plugin::resources::Guest for __PluePluginExport {
            fn list_resources() -> ::std::result::Result<
                ::std::vec::Vec<$crate::bindings::plue::plugin::types::ResourceInfo>,
                $crate::bindings::plue::plugin::types::ToolError,
            > {
                $crate::__private::list_resources(&$build())
            }

            fn read_resource(
                uri: ::std::string::String,
                uri_template: ::std::string::String,
                variables: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
            ) -> ::std::result::Result<
                ::std::vec::Vec<$crate::bindings::plue::plugin::types::ResourceContents>,
                $crate::bindings::plue::plugin::types::ToolError,
            > {
                $crate::__private::read_resource(&$build(), &uri, &uri_template, variables)
            }
        }

        impl $crate::bindings::exports::plue::plugin::completions::Guest for __PluePluginExport {
            fn complete(
                _target: $crate::bindings::plue::plugin::types::CompletionRef,
                argument: ::std::string::String,
                value: ::std::string::String,
                context: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
            ) -> ::std::result::Result<
                $crate::bindings::plue::plugin::types::Completion,
                $crate::bindings::plue::plugin::types::ToolError,
            > {
                $crate::__private::complete(&$build(), &argument, value, context)
            }
        }

        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_plugin_bindings!(__PluePluginExport);
    };
}
