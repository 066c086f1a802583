//! Host capabilities, one module each, all of the same shape: a grant type
//! resolved from the configuration when a plugin loads, and the operation the
//! plugin's import calls, which asks [`crate::policy`] and enforces the answer.
//! [`state::CallState`] wires them into a wasmtime store, one per call.

pub mod files;
pub mod http;
pub mod log;
pub mod settings;
pub mod sql;
mod sql_pool;
mod sql_values;
pub mod state;
