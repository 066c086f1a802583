//! Every access decision, in one pure place: no I/O, no wasmtime. Which
//! resources a plugin gets (`grants`), which requests it may make (`http`,
//! `sql`) and which imports it may link (`imports`), and which tools an
//! authenticated caller may use (`access`). Capability modules and
//! the loader ask these functions and enforce the answer; they never re-parse
//! paths, statements or import names, nor match manifests to grants.

pub mod access;
pub mod grants;
pub mod http;
pub mod imports;
pub mod sql;
