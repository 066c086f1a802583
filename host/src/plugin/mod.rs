//! Plugins: where their bytes come from ([`bundled`]), how they are loaded,
//! checked against the operator's grants and compiled ([`load`]), and how one
//! tool call runs in a fresh, limited instance ([`call`]).

pub mod bundled;
pub mod call;
pub mod load;

pub use call::{CallError, CallOutcome};
pub use load::{LoadError, LoadedPlugin, Loader};
