//! The configuration file as written: serde types that reject unknown keys by
//! name and do no I/O. [`super::resolve`] turns them into validated values.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub endpoints: BTreeMap<String, RawEndpoint>,
    #[serde(default)]
    pub databases: BTreeMap<String, RawDatabase>,
    #[serde(default)]
    pub directories: BTreeMap<String, RawDirectory>,
    #[serde(default)]
    pub plugins: BTreeMap<String, RawPlugin>,
    #[serde(default)]
    pub audit: RawAudit,
    /// `[[access]]` rules, in file order.
    #[serde(default)]
    pub access: Vec<super::access::RawAccess>,
}

/// `[audit]`: where the trail of tool calls goes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    /// A file to append records to (relative to the configuration file).
    pub file: Option<String>,
    /// Also write records to stderr (default: only when no file is set).
    pub stderr: Option<bool>,
    /// Record the arguments themselves, not only their sha256.
    #[serde(default)]
    pub include_arguments: bool,
    /// Size at which the file is moved aside (default 100; fractions allowed).
    pub max_file_mib: Option<f64>,
    /// How many moved-aside files to keep (default 5).
    pub keep: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub name: Option<String>,
    /// Refuse any plugin loaded from a path without a matching `sha256`.
    #[serde(default)]
    pub require_digests: bool,
    /// Where compiled plugins are cached (default: the user cache directory).
    pub cache_dir: Option<String>,
    /// How many tool calls may run at once (default 64).
    pub max_concurrent_calls: Option<u32>,
    /// MiB of HTTP response bodies the host holds at once, across all calls (default 256).
    pub max_response_memory_mib: Option<u64>,
    /// `Host` header values accepted by `serve --http` (default: loopback names;
    /// `"*"` accepts any).
    pub allowed_hosts: Option<Vec<String>>,
    /// `Origin` header values accepted by `serve --http` (default: loopback
    /// origins on any port); requests without an `Origin` always pass.
    pub allowed_origins: Option<Vec<String>>,
    /// The largest MCP message accepted, in bytes (default 4 MiB).
    pub max_message_bytes: Option<usize>,
    /// On SIGTERM or ctrl-c, how long calls in flight may take to finish
    /// (default 10 000).
    pub shutdown_grace_ms: Option<u64>,
    /// `[server.auth]`: authenticate `serve --http` callers.
    pub auth: Option<super::auth::RawAuth>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub call_timeout_ms: Option<u64>,
    pub memory_mib: Option<u64>,
    pub max_output_bytes: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Headers a plugin may set beyond the safe default (`Accept`, …).
    #[serde(default)]
    pub headers_allowed: Vec<String>,
    pub methods: Option<Vec<String>>,
    pub timeout_ms: Option<u64>,
    pub max_response_bytes: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub url: String,
    pub statement_timeout_ms: Option<u64>,
    pub max_rows: Option<u64>,
    pub max_connections: Option<u32>,
    pub idle_timeout_ms: Option<u64>,
    /// Serve this database even when its role is a superuser (not recommended).
    #[serde(default)]
    pub allow_superuser: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDirectory {
    pub path: String,
}

/// A grant list: `["prometheus"]` (same names) or `{ prometheus = "prom-prod" }`
/// (the plugin's name = the operator's resource).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawGrants {
    Same(Vec<String>),
    Mapped(BTreeMap<String, String>),
}

impl Default for RawGrants {
    fn default() -> Self {
        RawGrants::Same(Vec::new())
    }
}

impl RawGrants {
    /// (name the plugin uses, resource the operator configured) pairs.
    pub fn pairs(&self) -> Vec<(String, String)> {
        match self {
            RawGrants::Same(names) => names.iter().map(|n| (n.clone(), n.clone())).collect(),
            RawGrants::Mapped(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlugin {
    /// A `.wasm` component; without it, the bundled plugin of the same name.
    pub path: Option<PathBuf>,
    pub sha256: Option<String>,
    #[serde(default)]
    pub http: RawGrants,
    #[serde(default)]
    pub sql: RawGrants,
    #[serde(default)]
    pub directories: RawGrants,
    #[serde(default)]
    pub settings: BTreeMap<String, toml::Value>,
    pub prefix: Option<String>,
    pub tools: Option<RawToolFilter>,
    /// Per-plugin overrides of `[limits]`.
    pub call_timeout_ms: Option<u64>,
    pub memory_mib: Option<u64>,
    pub max_output_bytes: Option<u64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToolFilter {
    pub allow: Option<Vec<String>>,
    #[serde(default)]
    pub deny: Vec<String>,
}
