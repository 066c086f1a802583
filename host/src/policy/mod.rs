//! Every access decision, in one pure place: no I/O, no wasmtime. Capability
//! modules ask these functions and enforce the answer; they never re-parse
//! paths, statements or import names themselves.

pub mod http;
pub mod imports;
pub mod sql;
