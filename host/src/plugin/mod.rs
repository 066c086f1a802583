//! Plugins: where their bytes come from ([`bundled`]), how they are loaded,
//! checked against the operator's grants and compiled ([`load`]), and how one
//! call (a tool, prompt, resource or completion, [`exports`]) runs in a fresh,
//! limited instance ([`call`]); plugins built against the 0.1 contract load through
//! [`compat`].

pub mod bundled;
pub mod call;
pub mod compat;
pub mod exports;
pub mod load;

pub use call::{CallError, CallOutcome};
pub use load::{LoadError, LoadedPlugin, Loader};
