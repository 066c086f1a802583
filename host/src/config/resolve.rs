//! Resolution: the raw configuration, the environment and the file system, read
//! once, into the values the rest of the host uses. Every problem is collected
//! and reported together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::raw::{RawAudit, RawConfig, RawLimits, RawPlugin, RawServer};
use crate::budget::MemoryBudget;
use crate::secret::Secret;

/// Where a resource stands after resolution: usable, or unavailable with the
/// reason and what to configure. Unavailable resources never stop the host;
/// calls that use them fail with the reason.
pub type Availability<T> = Result<T, String>;

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub endpoints: BTreeMap<String, Arc<EndpointConfig>>,
    pub databases: BTreeMap<String, Arc<DatabaseConfig>>,
    pub directories: BTreeMap<String, DirectoryConfig>,
    pub plugins: Vec<PluginConfig>,
    pub audit: AuditConfig,
    /// `[[access]]` rules (none: every authenticated caller may use every tool).
    pub access: Vec<crate::policy::access::AccessRule>,
    /// Where the configuration came from, for messages.
    pub origin: String,
}

/// Where the audit trail goes (see [`crate::audit`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditConfig {
    pub file: Option<PathBuf>,
    pub stderr: bool,
    pub include_arguments: bool,
    pub max_file_bytes: u64,
    pub keep: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            file: None,
            stderr: true,
            include_arguments: false,
            max_file_bytes: 100 << 20,
            keep: 5,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub name: String,
    pub require_digests: bool,
    pub cache_dir: PathBuf,
    pub max_concurrent_calls: u32,
    /// Bytes of HTTP response bodies the host holds at once, across all calls.
    pub max_response_memory: u64,
    /// `Host` header values `serve --http` accepts (a DNS-rebinding guard);
    /// empty accepts none, `"*"` any.
    pub allowed_hosts: Vec<String>,
    /// Browser `Origin`s `serve --http` accepts (`http://localhost:*` form).
    pub allowed_origins: Vec<String>,
    /// The largest MCP message accepted, over stdio or HTTP.
    pub max_message_bytes: usize,
    /// How long calls in flight may take to finish once shutdown begins.
    pub shutdown_grace: Duration,
    /// How `serve --http` authenticates callers; `None`: it does not.
    pub auth: Option<super::AuthConfig>,
}

/// Per-call limits of a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub call_timeout: Duration,
    pub memory_bytes: u64,
    pub max_output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call_timeout: Duration::from_secs(30),
            memory_bytes: 128 << 20,
            max_output_bytes: 256 << 10,
        }
    }
}

#[derive(Debug, Clone)]
pub struct EndpointConfig {
    pub name: String,
    /// The base URL, or why it is unavailable.
    pub base: Availability<url::Url>,
    /// Headers the host adds to every request (credentials). Values are secret.
    pub headers: Vec<(String, Secret)>,
    /// Headers a plugin may set beyond the safe default, normalised
    /// (lowercase, `_` as `-`).
    pub headers_allowed: Vec<String>,
    /// Allowed methods, uppercase.
    pub methods: Vec<String>,
    pub timeout: Duration,
    pub max_response_bytes: u64,
    /// The host's memory for response bodies, shared by every endpoint and call.
    pub response_memory: MemoryBudget,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub name: String,
    /// The connection URL (secret), or why it is unavailable.
    pub url: Availability<Secret>,
    pub statement_timeout: Duration,
    pub max_rows: u64,
    pub max_connections: u32,
    /// Idle this long, a kept connection is closed (by the next read or the
    /// reaper, whichever comes first).
    pub idle_timeout: Duration,
    pub allow_superuser: bool,
}

#[derive(Debug, Clone)]
pub struct DirectoryConfig {
    pub name: String,
    /// The canonical host path, or why it is unavailable.
    pub path: Availability<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// Carried inside the `plue-mcp` binary.
    Bundled,
    /// A component file.
    Path(PathBuf),
}

#[derive(Debug, Clone)]
pub struct PluginConfig {
    pub name: String,
    pub source: PluginSource,
    pub sha256: Option<String>,
    /// (name the plugin uses, endpoint configured by the operator).
    pub http: Vec<(String, String)>,
    pub sql: Vec<(String, String)>,
    pub directories: Vec<(String, String)>,
    pub settings: BTreeMap<String, String>,
    pub prefix: Option<String>,
    pub allow_tools: Option<Vec<String>>,
    pub deny_tools: Vec<String>,
    pub limits: Limits,
}

/// Every problem found in a configuration, reported at once.
#[derive(Debug, thiserror::Error)]
#[error("configuration {origin} has {} problem(s):\n  - {}", problems.len(), problems.join("\n  - "))]
pub struct ConfigError {
    pub origin: String,
    pub problems: Vec<String>,
}

/// Something that answers environment lookups (the process environment, or a
/// map in tests).
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Config {
    /// Parse and resolve `text`. `base_dir` anchors relative paths; `origin`
    /// names the file in messages.
    pub fn from_toml(
        text: &str,
        base_dir: &Path,
        origin: &str,
        env: &dyn Env,
    ) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            origin: origin.into(),
            problems: vec![e.to_string().trim().replace('\n', "\n    ")],
        })?;
        Resolver {
            env,
            base_dir,
            problems: Vec::new(),
        }
        .resolve(raw, origin)
    }

    /// Load `path`, or `plue-mcp.toml` in the working directory, or the built-in default.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let local = Path::new("plue-mcp.toml");
        let chosen = path
            .map(Path::to_path_buf)
            .or_else(|| local.exists().then(|| local.to_path_buf()));
        match chosen {
            Some(p) => {
                let origin = p.display().to_string();
                let text = std::fs::read_to_string(&p).map_err(|e| ConfigError {
                    origin: origin.clone(),
                    problems: vec![format!("cannot read the file: {e}")],
                })?;
                let base = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                Config::from_toml(&text, base, &origin, &ProcessEnv)
            }
            None => Config::from_toml(
                super::BUILT_IN_DEFAULT,
                Path::new("."),
                "(built-in default)",
                &ProcessEnv,
            ),
        }
    }
}

struct Resolver<'a> {
    env: &'a dyn Env,
    base_dir: &'a Path,
    problems: Vec<String>,
}

impl Resolver<'_> {
    /// The `[server]` section, defaults filled in and values held to their bounds.
    fn server(&self, server: RawServer) -> ServerConfig {
        ServerConfig {
            name: server.name.unwrap_or_else(|| "plue-observability".into()),
            require_digests: server.require_digests,
            cache_dir: self.cache_dir(server.cache_dir.as_deref()),
            max_concurrent_calls: server.max_concurrent_calls.unwrap_or(64).clamp(1, 1000),
            max_response_memory: server.max_response_memory_mib.unwrap_or(256).max(1) << 20,
            allowed_hosts: server
                .allowed_hosts
                .unwrap_or_else(|| vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]),
            allowed_origins: server.allowed_origins.unwrap_or_else(|| {
                ["http", "https"]
                    .iter()
                    .flat_map(|scheme| {
                        ["localhost", "127.0.0.1", "[::1]"]
                            .map(|host| format!("{scheme}://{host}:*"))
                    })
                    .collect()
            }),
            max_message_bytes: server
                .max_message_bytes
                .unwrap_or(4 << 20)
                .clamp(64 << 10, 64 << 20),
            shutdown_grace: Duration::from_millis(
                server.shutdown_grace_ms.unwrap_or(10_000).min(600_000),
            ),
            auth: None,
        }
    }

    fn resolve(mut self, mut raw: RawConfig, origin: &str) -> Result<Config, ConfigError> {
        let defaults = self.limits(&RawLimits::default(), &raw.limits, "[limits]");
        let raw_auth = raw.server.auth.take();
        let mut server = self.server(raw.server);
        server.auth = raw_auth.map(|a| super::auth::resolve(a, self.env, &mut self.problems));
        let audit = self.audit(raw.audit);
        let access = self.access(raw.access, &raw.plugins, server.auth.as_ref());

        let response_memory = MemoryBudget::new(server.max_response_memory);
        let endpoints = raw
            .endpoints
            .into_iter()
            .map(|(name, e)| {
                let ctx = format!("[endpoints.{name}]");
                let base = self
                    .expand(&e.url)
                    .and_then(|u| parse_base_url(&u))
                    .map_err(|why| format!("endpoint `{name}` is unavailable: {why}"));
                if let Err(why) = &base
                    && !why.contains("is not set")
                {
                    self.problems.push(format!("{ctx} url: {why}"));
                }
                let mut headers = Vec::new();
                for (k, v) in e.headers {
                    match self.expand(&v) {
                        Ok(v) => headers.push((k.to_ascii_lowercase(), Secret::new(v))),
                        Err(why) => self.problems.push(format!("{ctx} header `{k}`: {why}")),
                    }
                }
                let mut headers_allowed = Vec::new();
                for h in e.headers_allowed {
                    match crate::policy::http::check_allowable_header(&h) {
                        Ok(()) => headers_allowed.push(crate::policy::http::normalise_header(&h)),
                        Err(why) => self
                            .problems
                            .push(format!("{ctx} headers_allowed: `{h}`: {why}")),
                    }
                }
                let methods: Vec<String> = e
                    .methods
                    .unwrap_or_else(|| vec!["GET".into(), "HEAD".into()])
                    .into_iter()
                    .map(|m| m.to_ascii_uppercase())
                    .collect();
                for m in &methods {
                    if !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
                        self.problems
                            .push(format!("{ctx} methods: unknown method `{m}`"));
                    }
                }
                let cfg = EndpointConfig {
                    name: name.clone(),
                    base,
                    headers,
                    headers_allowed,
                    methods,
                    timeout: Duration::from_millis(e.timeout_ms.unwrap_or(15_000)),
                    max_response_bytes: e.max_response_bytes.unwrap_or(16 << 20),
                    response_memory: response_memory.clone(),
                };
                (name, Arc::new(cfg))
            })
            .collect();

        let databases = raw
            .databases
            .into_iter()
            .map(|(name, d)| {
                let url = self.expand(&d.url).and_then(|u| {
                    if u.starts_with("postgres://") || u.starts_with("postgresql://") {
                        Ok(Secret::new(u))
                    } else if u.is_empty() {
                        Err("its url is empty".to_string())
                    } else {
                        Err("its url must start with postgres:// or postgresql://".to_string())
                    }
                });
                let url = url.map_err(|why| format!("database `{name}` is unavailable: {why}"));
                let cfg = DatabaseConfig {
                    name: name.clone(),
                    url,
                    statement_timeout: Duration::from_millis(
                        d.statement_timeout_ms.unwrap_or(5_000),
                    ),
                    max_rows: d.max_rows.unwrap_or(1_000).max(1),
                    max_connections: d.max_connections.unwrap_or(4).max(1),
                    idle_timeout: Duration::from_millis(d.idle_timeout_ms.unwrap_or(300_000)),
                    allow_superuser: d.allow_superuser,
                };
                (name, Arc::new(cfg))
            })
            .collect();

        let directories = raw
            .directories
            .into_iter()
            .map(|(name, d)| {
                let path = self.expand(&d.path).and_then(|p| {
                    let joined = self.base_dir.join(&p);
                    std::fs::canonicalize(&joined)
                        .map_err(|e| format!("`{}` cannot be opened ({e})", joined.display()))
                        .and_then(|c| {
                            if c.is_dir() {
                                Ok(c)
                            } else {
                                Err(format!("`{}` is not a directory", c.display()))
                            }
                        })
                });
                let path = path.map_err(|why| format!("directory `{name}` is unavailable: {why}"));
                (name.clone(), DirectoryConfig { name, path })
            })
            .collect();

        let mut plugins = Vec::new();
        for (name, p) in raw.plugins {
            if let Some(plugin) = self.plugin(&name, p, &defaults) {
                plugins.push(plugin);
            }
        }

        let config = Config {
            server,
            endpoints,
            databases,
            directories,
            plugins,
            audit,
            access,
            origin: origin.into(),
        };
        self.check_grants(&config);
        if self.problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError {
                origin: origin.into(),
                problems: self.problems,
            })
        }
    }

    /// `[[access]]`, which only means something where callers authenticate.
    fn access(
        &mut self,
        raw: Vec<super::access::RawAccess>,
        plugins: &BTreeMap<String, RawPlugin>,
        auth: Option<&super::AuthConfig>,
    ) -> Vec<crate::policy::access::AccessRule> {
        if !raw.is_empty() && auth.is_none() {
            self.problems.push(
                "[[access]] rules apply to authenticated callers only: add [server.auth]".into(),
            );
        }
        let plugins: Vec<&str> = plugins.keys().map(String::as_str).collect();
        let tokens: Vec<&str> = auth
            .map(|a| a.tokens.iter().map(|t| t.name.as_str()).collect())
            .unwrap_or_default();
        super::access::resolve(raw, &plugins, &tokens, &mut self.problems)
    }

    fn audit(&mut self, raw: RawAudit) -> AuditConfig {
        let defaults = AuditConfig::default();
        let file = raw.file.and_then(|f| match self.expand(&f) {
            Ok(f) if !f.is_empty() => Some(self.base_dir.join(f)),
            Ok(_) => {
                self.problems.push("[audit] file: empty path".into());
                None
            }
            Err(why) => {
                self.problems.push(format!("[audit] file: {why}"));
                None
            }
        });
        let max_file_bytes = match raw.max_file_mib {
            None => defaults.max_file_bytes,
            Some(mib) if mib > 0.0 && mib <= 1024.0 * 1024.0 => (mib * (1 << 20) as f64) as u64,
            Some(mib) => {
                self.problems.push(format!(
                    "[audit] max_file_mib: {mib} is not a size in MiB above 0"
                ));
                defaults.max_file_bytes
            }
        };
        let keep = raw.keep.unwrap_or(defaults.keep);
        if keep > 1000 {
            self.problems
                .push(format!("[audit] keep: {keep} files is over 1000"));
        }
        AuditConfig {
            stderr: raw.stderr.unwrap_or(file.is_none()),
            file,
            include_arguments: raw.include_arguments,
            max_file_bytes: max_file_bytes.max(1),
            keep: keep.min(1000),
        }
    }

    fn plugin(&mut self, name: &str, p: RawPlugin, defaults: &Limits) -> Option<PluginConfig> {
        let ctx = format!("[plugins.{name}]");
        if !valid_name(name) {
            self.problems.push(format!(
                "{ctx}: plugin names use lowercase letters, digits, `-` and `_`"
            ));
        }
        let source = match &p.path {
            Some(path) => PluginSource::Path(self.base_dir.join(path)),
            None if crate::plugin::bundled::get(name).is_some() => PluginSource::Bundled,
            None => {
                self.problems.push(format!(
                    "{ctx}: no `path` and no bundled plugin of that name (bundled: {})",
                    crate::plugin::bundled::names()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                return None;
            }
        };
        let sha256 = p.sha256.map(|s| s.trim().to_ascii_lowercase());
        if let Some(d) = &sha256
            && (d.len() != 64 || !d.chars().all(|c| c.is_ascii_hexdigit()))
        {
            self.problems
                .push(format!("{ctx} sha256: expected 64 hex digits"));
        }
        let mut settings = BTreeMap::new();
        for (k, v) in p.settings {
            let text = match v {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            settings.insert(k, text);
        }
        if let Some(prefix) = &p.prefix
            && !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.problems
                .push(format!("{ctx} prefix: use letters, digits, `_` and `-`"));
        }
        let overrides = RawLimits {
            call_timeout_ms: p.call_timeout_ms,
            memory_mib: p.memory_mib,
            max_output_bytes: p.max_output_bytes,
        };
        let limits = self.limits_over(defaults, &overrides, &ctx);
        let filter = p.tools.unwrap_or_default();
        Some(PluginConfig {
            name: name.into(),
            source,
            sha256,
            http: p.http.pairs(),
            sql: p.sql.pairs(),
            directories: p.directories.pairs(),
            settings,
            prefix: p.prefix,
            allow_tools: filter.allow,
            deny_tools: filter.deny,
            limits,
        })
    }

    /// Every grant must name a configured resource.
    fn check_grants(&mut self, config: &Config) {
        for plugin in &config.plugins {
            let missing =
                |section: &str, grants: &[(String, String)], known: &dyn Fn(&str) -> bool| {
                    grants
                        .iter()
                        .filter(|(_, resource)| !known(resource))
                        .map(|(_, resource)| {
                            format!("grants `{resource}`, but there is no [{section}.{resource}]")
                        })
                        .collect::<Vec<_>>()
                };
            let problems = [
                (
                    "http",
                    missing("endpoints", &plugin.http, &|r| {
                        config.endpoints.contains_key(r)
                    }),
                ),
                (
                    "sql",
                    missing("databases", &plugin.sql, &|r| {
                        config.databases.contains_key(r)
                    }),
                ),
                (
                    "directories",
                    missing("directories", &plugin.directories, &|r| {
                        config.directories.contains_key(r)
                    }),
                ),
            ];
            for (kind, list) in problems {
                for why in list {
                    self.problems
                        .push(format!("[plugins.{}] {kind}: {why}", plugin.name));
                }
            }
        }
    }

    fn limits(&mut self, base: &RawLimits, raw: &RawLimits, ctx: &str) -> Limits {
        let merged = RawLimits {
            call_timeout_ms: raw.call_timeout_ms.or(base.call_timeout_ms),
            memory_mib: raw.memory_mib.or(base.memory_mib),
            max_output_bytes: raw.max_output_bytes.or(base.max_output_bytes),
        };
        self.limits_over(&Limits::default(), &merged, ctx)
    }

    fn limits_over(&mut self, defaults: &Limits, raw: &RawLimits, ctx: &str) -> Limits {
        let mut limits = *defaults;
        if let Some(ms) = raw.call_timeout_ms {
            if ms == 0 {
                self.problems
                    .push(format!("{ctx} call_timeout_ms must be above 0"));
            }
            limits.call_timeout = Duration::from_millis(ms);
        }
        if let Some(mib) = raw.memory_mib {
            if !(1..=4096).contains(&mib) {
                self.problems
                    .push(format!("{ctx} memory_mib must be between 1 and 4096"));
            }
            limits.memory_bytes = mib << 20;
        }
        if let Some(bytes) = raw.max_output_bytes {
            if bytes < 1024 {
                self.problems
                    .push(format!("{ctx} max_output_bytes must be at least 1024"));
            }
            limits.max_output_bytes = bytes;
        }
        limits
    }

    fn cache_dir(&self, configured: Option<&str>) -> PathBuf {
        if let Some(dir) = self.env.var("PLUE_MCP_CACHE_DIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        if let Some(dir) = configured {
            return self.base_dir.join(dir);
        }
        if let Some(xdg) = self.env.var("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
            return PathBuf::from(xdg).join("plue-mcp");
        }
        if let Some(home) = self.env.var("HOME").filter(|d| !d.is_empty()) {
            return PathBuf::from(home).join(".cache").join("plue-mcp");
        }
        std::env::temp_dir().join("plue-mcp-cache")
    }

    /// Expand `${VAR}` and `${VAR:-default}`; `$$` is a literal `$`.
    fn expand(&self, text: &str) -> Result<String, String> {
        expand_vars(text, self.env)
    }
}

/// Expand `${VAR}` and `${VAR:-default}` from `env`; `$$` is a literal `$`.
/// A variable that is unset (and has no default) is an error naming it.
pub fn expand_vars(text: &str, env: &dyn Env) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(inner) = after.strip_prefix('{') {
            let end = inner
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in `{text}`"))?;
            let expr = &inner[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("`${{{expr}}}` is not a variable name"));
            }
            match (env.var(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(format!("environment variable {name} is not set")),
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn parse_base_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text)
        .map_err(|e| format!("`{}` is not a URL ({e})", redact_userinfo(text)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme `{}` is not http or https", url.scheme()));
    }
    if url.host().is_none() {
        return Err("the URL has no host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a base URL cannot have a query or fragment".into());
    }
    Ok(url)
}

fn redact_userinfo(text: &str) -> String {
    match (text.find("://"), text.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &text[..s], &text[at + 1..]),
        _ => text.to_string(),
    }
}

/// Plugin, resource and tool names: lowercase letters, digits, `-` and `_`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn resolve(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_toml(
            text,
            Path::new("/nonexistent-base"),
            "test.toml",
            &env(vars),
        )
    }

    /// `check(config, env, expected problems)`: each expected text must appear in one problem.
    fn check_problems(text: &str, expected: &[&str]) {
        let err = resolve(text, &[]).expect_err("should fail");
        assert_eq!(err.problems.len(), expected.len(), "{err}");
        for want in expected {
            assert!(
                err.problems.iter().any(|p| p.contains(want)),
                "missing `{want}` in:\n{err}"
            );
        }
    }

    #[test]
    fn variables_expand_with_defaults_and_errors() {
        let vars = env(&[("A", "x"), ("EMPTY", "")]);
        assert_eq!(
            expand_vars("${A}/${B:-dflt}/$$/$x", &vars).unwrap(),
            "x/dflt/$/$x"
        );
        assert_eq!(
            expand_vars("${EMPTY:-fallback}", &vars).unwrap(),
            "fallback"
        );
        assert_eq!(
            expand_vars("${MISSING}", &vars).unwrap_err(),
            "environment variable MISSING is not set"
        );
        assert!(expand_vars("${A", &vars).unwrap_err().contains("unclosed"));
        assert!(
            expand_vars("${A B}", &vars)
                .unwrap_err()
                .contains("not a variable name")
        );
    }

    #[test]
    fn built_in_default_loads_without_any_environment() {
        let c = Config::from_toml(
            crate::config::BUILT_IN_DEFAULT,
            Path::new("."),
            "default",
            &env(&[]),
        )
        .unwrap();
        let names: Vec<&str> = c.plugins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["database", "logs", "playwright", "prometheus", "workflows"]
        );
        assert_eq!(
            c.endpoints["prometheus"].base.as_ref().unwrap().as_str(),
            "http://127.0.0.1:9090/"
        );
        let db = c.databases["plue"].url.as_ref().unwrap_err();
        assert!(db.contains("DATABASE_URL is not set"), "{db}");
    }

    #[test]
    fn secrets_expand_but_never_print() {
        let c = resolve(
            "[endpoints.p]\nurl = \"http://h:1\"\nheaders = { Authorization = \"Bearer ${TOKEN}\" }\n[databases.d]\nurl = \"${DB}\"\n",
            &[("TOKEN", "tok-123"), ("DB", "postgres://u:pw-456@h/d")],
        )
        .unwrap();
        assert_eq!(c.endpoints["p"].headers[0].1.expose(), "Bearer tok-123");
        let printed = format!("{c:?}");
        assert!(
            !printed.contains("tok-123") && !printed.contains("pw-456"),
            "{printed}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        check_problems(
            r#"
[limits]
memory_mib = 0
[endpoints.bad]
url = "ftp://h"
methods = ["GET", "FETCH"]
[plugins.prometheus]
http = ["prom"]
sql = { plue = "missing-db" }
[plugins.acme]
http = []
"#,
            &[
                "memory_mib must be between 1 and 4096",
                "scheme `ftp` is not http or https",
                "unknown method `FETCH`",
                "grants `prom`, but there is no [endpoints.prom]",
                "grants `missing-db`, but there is no [databases.missing-db]",
                "[plugins.acme]: no `path` and no bundled plugin",
            ],
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = resolve("[server]\nnmae = \"x\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("unknown field `nmae`"), "{err}");
        let err = resolve("[plugins.prometheus]\nhttp = [\"p\"]\ntimeout = 3\n", &[]).unwrap_err();
        assert!(err.to_string().contains("unknown field `timeout`"), "{err}");
    }

    #[test]
    fn grants_map_names_and_limits_override() {
        let c = resolve(
            "[limits]\ncall_timeout_ms = 2000\n[endpoints.prom-prod]\nurl = \"https://m.example/prometheus\"\n[plugins.prometheus]\nhttp = { prometheus = \"prom-prod\" }\nmemory_mib = 64\n[plugins.prometheus.settings]\nrequests_metric = \"http_requests_total\"\n",
            &[],
        )
        .unwrap();
        let p = &c.plugins[0];
        assert_eq!(
            p.http,
            vec![("prometheus".to_string(), "prom-prod".to_string())]
        );
        assert_eq!(p.limits.call_timeout, Duration::from_millis(2000));
        assert_eq!(p.limits.memory_bytes, 64 << 20);
        assert_eq!(
            p.limits.max_output_bytes,
            Limits::default().max_output_bytes
        );
        assert_eq!(p.settings["requests_metric"], "http_requests_total");
        assert_eq!(p.source, PluginSource::Bundled);
    }

    #[test]
    fn missing_variables_make_resources_unavailable_not_fatal() {
        let c = resolve("[endpoints.loki]\nurl = \"${LOKI_URL}\"\n[directories.d]\npath = \"/definitely/not/here\"\n", &[]).unwrap();
        assert!(
            c.endpoints["loki"]
                .base
                .as_ref()
                .unwrap_err()
                .contains("LOKI_URL is not set")
        );
        assert!(
            c.directories["d"]
                .path
                .as_ref()
                .unwrap_err()
                .contains("cannot be opened")
        );
    }
}
