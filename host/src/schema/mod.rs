//! The schema contract between plugin, host and client, enforced by the host.
//!
//! At load, [`manifest::check`] bounds a plugin's manifest and turns every
//! tool's schemas into what every MCP client accepts ([`normalize`]), compiled
//! once into a [`contract::ToolContract`]. On every call the contract refuses
//! undeclared or ill-typed arguments before the plugin runs
//! ([`arguments`]) and structured content off its output schema after
//! ([`contract::ToolContract::check_output`]). Pure: no I/O, no protocol types.

pub mod arguments;
pub mod contract;
pub mod manifest;
pub mod normalize;

/// Where a schema breaks the contract: a JSON Pointer into the schema and
/// the rule broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    pub path: String,
    pub rule: String,
}

impl std::fmt::Display for SchemaProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at `{}`: {}", self.path, self.rule)
    }
}
