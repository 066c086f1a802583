//! Configuration: parsed from TOML into raw values ([`raw`]), then resolved once
//! ([`resolve`]) into validated objects. Nothing reads the file or the
//! environment after resolution.

pub mod access;
pub mod auth;
pub mod raw;
pub mod resolve;

pub use auth::{AuthConfig, IntrospectionConfig, StaticToken};
pub use resolve::{
    AuditConfig, Config, DatabaseConfig, DirectoryConfig, EndpointConfig, Limits, PluginConfig,
    PluginSource, ServerConfig,
};

/// The configuration used when no file is given and `plue-mcp.toml` does not exist:
/// the five bundled plugins against services on localhost.
pub const BUILT_IN_DEFAULT: &str = include_str!("default.toml");
