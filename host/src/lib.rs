//! # plue-mcp
//!
//! An MCP server whose tool groups are WebAssembly components (WASI 0.2) that
//! implement the `plue:plugin` WIT world. See ARCHITECTURE.md for the map.
//!
//! Start-up: [`config`] (parse, resolve) → [`app::App::load`] (engine, plugins,
//! registry) → a front end: [`mcp`] over stdio, or [`cli`]'s one-shot commands.

pub mod app;
pub mod audit;
pub mod auth;
pub mod bindings;
pub mod budget;
pub mod cache;
pub mod caller;
pub mod capability;
pub mod catalog;
pub mod cli;
mod cli_check;
mod cli_inspect;
pub mod codegen;
pub mod config;
pub mod context;
pub mod engine;
pub mod health;
pub mod mcp;
pub mod metrics;
pub mod outcome;
pub mod plugin;
pub mod policy;
pub mod record;
pub mod registry;
pub mod schema;
pub mod secret;
pub mod shutdown;
pub mod text;
