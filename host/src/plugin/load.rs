//! Loading: bytes → digest check → compile (through the cache) → import check
//! → `InstancePre` → manifest → grants checked against what the manifest asks
//! for. Every problem of every plugin is collected into one [`LoadError`].

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use wasmtime::component::{Component, InstancePre, Linker};

use super::exports::Exports;
use crate::bindings::PluginManifest;
use crate::capability::files::DirectoryGrants;
use crate::capability::http::HttpGrants;
use crate::capability::log::LogSink;
use crate::capability::settings::Settings;
use crate::capability::sql::{Database, SqlGrants};
use crate::capability::state::{CallState, Grants};
use crate::config::{Config, Limits, PluginConfig, PluginSource};
use crate::engine::{CompileSource, Compiler, Runtime, sha256_hex};
use crate::policy;
use crate::policy::grants::GrantPlan;
use crate::schema::contract::ToolContract;

/// A plugin ready to serve calls.
pub struct LoadedPlugin {
    /// The name the operator gave it (`[plugins.<name>]`).
    pub name: String,
    pub config: PluginConfig,
    /// The manifest, its schemas normalised (see [`crate::schema`]).
    pub manifest: PluginManifest,
    /// Each tool's compiled schema contract, by tool name.
    pub contracts: BTreeMap<String, Arc<ToolContract>>,
    pub digest: String,
    pub compiled: CompileSource,
    pub pre: InstancePre<CallState>,
    /// Its exports: the contract version and the optional interfaces.
    pub exports: Exports,
    pub grants: Arc<Grants>,
    pub limits: Limits,
    /// Granted resources that cannot be used (unset variable, missing
    /// directory), with what to configure. Shown with the plugin's errors.
    pub unavailable: Vec<String>,
}

/// A compiled component with its sha256 and where it came from.
type Compiled = (String, Component, CompileSource);

/// Every problem found while loading plugins.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) loading plugins:\n  - {}", problems.len(), problems.join("\n  - "))]
pub struct LoadError {
    pub problems: Vec<String>,
}

/// Loads the plugins of a configuration into one runtime.
pub struct Loader<'a> {
    pub runtime: &'a Runtime,
    pub config: &'a Config,
    linker: Linker<CallState>,
    databases: BTreeMap<String, Arc<Database>>,
    client: reqwest::Client,
}

impl<'a> Loader<'a> {
    pub fn new(runtime: &'a Runtime, config: &'a Config) -> anyhow::Result<Loader<'a>> {
        Ok(Loader {
            runtime,
            config,
            linker: linker(&runtime.engine)?,
            databases: config
                .databases
                .iter()
                .map(|(name, cfg)| (name.clone(), Arc::new(Database::new(cfg.clone()))))
                .collect(),
            client: crate::capability::http::client(),
        })
    }

    /// Load every configured plugin; all problems are reported together.
    pub async fn load_all(&self) -> Result<Vec<Arc<LoadedPlugin>>, LoadError> {
        // Compilation is CPU-bound: do it on threads, one per plugin.
        let compiled: Vec<anyhow::Result<Compiled>> = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .config
                .plugins
                .iter()
                .map(|p| s.spawn(move || self.compile(p)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("compiler thread panicked")))
                })
                .collect()
        });
        let mut problems = Vec::new();
        let mut loaded = Vec::new();
        for (config, compiled) in self.config.plugins.iter().zip(compiled) {
            let result = match compiled {
                Ok((digest, component, source)) => {
                    self.finish(config, digest, component, source).await
                }
                Err(e) => Err(vec![format!("plugin `{}`: {e:#}", config.name)]),
            };
            match result {
                Ok(plugin) => loaded.push(Arc::new(plugin)),
                Err(mut p) => problems.append(&mut p),
            }
        }
        if problems.is_empty() {
            Ok(loaded)
        } else {
            Err(LoadError { problems })
        }
    }

    fn compile(&self, config: &PluginConfig) -> anyhow::Result<(String, Component, CompileSource)> {
        let (bytes, digest, bundled) = match &config.source {
            PluginSource::Bundled => {
                let bundled = crate::plugin::bundled::get(&config.name)
                    .with_context(|| format!("no bundled plugin `{}`", config.name))?;
                (
                    std::borrow::Cow::Borrowed(bundled.component),
                    bundled.sha256.to_string(),
                    Some(bundled),
                )
            }
            PluginSource::Path(path) => {
                let bytes =
                    std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
                let digest = sha256_hex(&bytes);
                (std::borrow::Cow::Owned(bytes), digest, None)
            }
        };
        match (&config.sha256, &config.source) {
            (Some(want), _) if *want != digest => {
                anyhow::bail!(
                    "sha256 mismatch: the file has {digest}, the configuration pins {want}; refusing to load it"
                )
            }
            (None, PluginSource::Path(_)) if self.config.server.require_digests => {
                anyhow::bail!(
                    "require_digests is on and [plugins.{}] has no sha256 (the file's is {digest})",
                    config.name
                )
            }
            _ => {}
        }
        let compiler = Compiler {
            engine: &self.runtime.engine,
            cache_dir: &self.config.server.cache_dir,
        };
        if let Some(bundled) = bundled
            && let Some(component) = compiler.embedded(bundled)
        {
            return Ok((digest, component, CompileSource::Embedded));
        }
        let (component, source) = compiler.compile(&bytes, &digest)?;
        Ok((digest, component, source))
    }

    async fn finish(
        &self,
        config: &PluginConfig,
        digest: String,
        component: Component,
        compiled: CompileSource,
    ) -> Result<LoadedPlugin, Vec<String>> {
        let name = &config.name;
        let ty = component.component_type();
        let refused: Vec<String> = ty
            .imports(&self.runtime.engine)
            .filter_map(|(import, _)| policy::imports::check_import(import).err())
            .map(|why| format!("plugin `{name}` {why}"))
            .collect();
        if !refused.is_empty() {
            return Err(refused);
        }
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| vec![format!("plugin `{name}` cannot be linked: {e:#}")])?;
        let exports = Exports::find(&pre).map_err(|e| vec![format!("plugin `{name}` {e:#}")])?;
        let mut manifest = read_manifest(self.runtime, &pre, &exports, config.limits)
            .await
            .map_err(|e| {
                vec![format!(
                    "plugin `{name}`: reading its manifest failed: {e:#}"
                )]
            })?;
        let contracts = crate::schema::manifest::check(&mut manifest).map_err(|problems| {
            problems
                .into_iter()
                .map(|p| format!("plugin `{name}`: {p}"))
                .collect::<Vec<_>>()
        })?;
        let contracts = manifest
            .tools
            .iter()
            .map(|t| t.name.clone())
            .zip(contracts.into_iter().map(Arc::new))
            .collect();
        let grants = self.connect(name, policy::grants::plan(config, &manifest)?);
        let unavailable = unavailable_resources(self.config, config);
        for why in &unavailable {
            tracing::warn!(plugin = %name, "{why}");
        }
        Ok(LoadedPlugin {
            unavailable,
            name: name.clone(),
            config: config.clone(),
            manifest,
            contracts,
            digest,
            compiled,
            pre,
            exports,
            grants: Arc::new(grants),
            limits: config.limits,
        })
    }

    /// Connect a grant plan to the shared pools, client and directories.
    fn connect(&self, name: &str, plan: GrantPlan) -> Grants {
        Grants {
            http: HttpGrants {
                plugin: name.to_string(),
                endpoints: plan
                    .http
                    .into_iter()
                    .filter_map(|(n, r)| self.config.endpoints.get(&r).map(|e| (n, e.clone())))
                    .collect(),
                client: Some(self.client.clone()),
            },
            sql: SqlGrants {
                plugin: name.to_string(),
                databases: plan
                    .sql
                    .into_iter()
                    .filter_map(|(n, r)| self.databases.get(&r).map(|d| (n, d.clone())))
                    .collect(),
            },
            directories: DirectoryGrants {
                dirs: plan
                    .directories
                    .into_iter()
                    .filter_map(|(n, r)| {
                        self.config.directories.get(&r).map(|d| (n, d.path.clone()))
                    })
                    .collect(),
            },
            settings: Settings::from(plan.settings),
            log_rate: Default::default(),
        }
    }
}

/// Why each granted resource that cannot be used is unavailable.
fn unavailable_resources(config: &Config, plugin: &PluginConfig) -> Vec<String> {
    let endpoints = plugin
        .http
        .iter()
        .filter_map(|(_, r)| config.endpoints.get(r)?.base.as_ref().err().cloned());
    let databases = plugin
        .sql
        .iter()
        .filter_map(|(_, r)| config.databases.get(r)?.url.as_ref().err().cloned());
    let dirs = plugin
        .directories
        .iter()
        .filter_map(|(_, r)| config.directories.get(r)?.path.as_ref().err().cloned());
    endpoints.chain(databases).chain(dirs).collect()
}

/// The linker every plugin is instantiated with: the WASI 0.2 interfaces std
/// needs (their reach is empty: see [`CallState::new`]) and the host capabilities.
pub fn linker(engine: &wasmtime::Engine) -> anyhow::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    crate::capability::files::guard_open(&mut linker)?;
    crate::bindings::Plugin::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(
        &mut linker,
        |s| s,
    )?;
    super::compat::add_imports(&mut linker)?;
    Ok(linker)
}

/// Instantiate `pre` with no grants and call its `manifest()` export, within
/// `limits`. The manifest is not checked yet: see [`crate::schema::manifest::check`].
pub async fn read_manifest(
    runtime: &Runtime,
    pre: &InstancePre<CallState>,
    exports: &Exports,
    limits: Limits,
) -> anyhow::Result<PluginManifest> {
    let state = CallState::new(
        Arc::new(Grants::default()),
        LogSink::default(),
        limits.memory_bytes,
    )?;
    let mut store = crate::plugin::call::new_store(runtime, state);
    let run = async {
        let instance = pre.instantiate_async(&mut store).await?;
        anyhow::Ok(exports.manifest(&mut store, &instance).await?)
    };
    let manifest = tokio::time::timeout(limits.call_timeout, run)
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "manifest() did not return within {} ms",
                limits.call_timeout.as_millis()
            )
        })??;
    Ok(manifest)
}

#[cfg(test)]
pub(crate) mod tests {
    //! Loading real components (the test plugins `host/build.rs` builds) from a
    //! configuration text: what is refused, and what a loaded plugin is given.

    use std::path::{Path, PathBuf};

    use super::*;

    /// A test plugin's component (`misbehave`, `sockets`, `escape`, …).
    pub(crate) fn test_plugin(name: &str) -> PathBuf {
        Path::new(env!("PLUE_TEST_PLUGINS_DIR")).join(format!("plue_test_{name}.wasm"))
    }

    /// `text` resolved with an environment that only names a fresh compile cache.
    fn config(text: &str, cache: &Path) -> Config {
        let env = BTreeMap::from([(
            "PLUE_MCP_CACHE_DIR".to_string(),
            cache.display().to_string(),
        )]);
        Config::from_toml(text, Path::new("."), "test.toml", &env).expect("config resolves")
    }

    /// Load every plugin of `text` into a fresh runtime.
    pub(crate) async fn load(text: &str) -> (Runtime, Result<Vec<Arc<LoadedPlugin>>, LoadError>) {
        let cache = tempfile::tempdir().unwrap();
        let config = config(text, cache.path());
        let runtime = Runtime::new(4, 64 << 20).unwrap();
        let loaded = Loader::new(&runtime, &config).unwrap().load_all().await;
        (runtime, loaded)
    }

    fn problems(loaded: Result<Vec<Arc<LoadedPlugin>>, LoadError>) -> Vec<String> {
        match loaded {
            Ok(_) => panic!("loaded, but should have been refused"),
            Err(e) => e.problems,
        }
    }

    fn plugin_section(name: &str, extra: &str) -> String {
        format!(
            "[plugins.{name}]\npath = \"{}\"\n{extra}\n",
            test_plugin(name).display()
        )
    }

    #[tokio::test]
    async fn a_loaded_plugin_has_its_manifest_digest_contracts_and_limits() {
        let (_rt, loaded) = load(&plugin_section("misbehave", "memory_mib = 32")).await;
        let plugins = loaded.unwrap();
        let [p] = plugins.as_slice() else {
            panic!("{} plugins", plugins.len())
        };
        let bytes = std::fs::read(test_plugin("misbehave")).unwrap();
        assert_eq!(p.digest, sha256_hex(&bytes));
        assert_eq!(p.manifest.name, "misbehave");
        let tools: Vec<&str> = p.manifest.tools.iter().map(|t| t.name.as_str()).collect();
        let contracts: Vec<&str> = p.contracts.keys().map(String::as_str).collect();
        let mut sorted = tools.clone();
        sorted.sort();
        assert_eq!(contracts, sorted, "one contract per tool");
        assert_eq!(p.limits.memory_bytes, 32 << 20);
        assert!(p.unavailable.is_empty(), "{:?}", p.unavailable);
    }

    #[tokio::test]
    async fn a_pinned_digest_that_differs_is_refused_naming_both() {
        let wrong = "0".repeat(64);
        let section = plugin_section("misbehave", &format!("sha256 = \"{wrong}\""));
        let (_rt, loaded) = load(&section).await;
        let real = sha256_hex(&std::fs::read(test_plugin("misbehave")).unwrap());
        let problems = problems(loaded);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("sha256 mismatch")
                && problems[0].contains(&real)
                && problems[0].contains(&wrong),
            "{problems:?}"
        );
    }

    #[tokio::test]
    async fn require_digests_refuses_an_unpinned_file_and_accepts_a_pinned_one() {
        let real = sha256_hex(&std::fs::read(test_plugin("misbehave")).unwrap());
        let server = "[server]\nrequire_digests = true\n";
        let (_rt, loaded) = load(&format!("{server}{}", plugin_section("misbehave", ""))).await;
        let problems = problems(loaded);
        assert!(
            problems[0].contains("require_digests") && problems[0].contains(&real),
            "{problems:?}"
        );
        let pinned = plugin_section("misbehave", &format!("sha256 = \"{real}\""));
        let (_rt, loaded) = load(&format!("{server}{pinned}")).await;
        assert!(loaded.is_ok());
    }

    #[tokio::test]
    async fn every_plugins_problems_are_reported_together() {
        let wrong = "0".repeat(64);
        let text = format!(
            "{}{}",
            plugin_section("sockets", ""),
            plugin_section("misbehave", &format!("sha256 = \"{wrong}\""))
        );
        let (_rt, loaded) = load(&text).await;
        let problems = problems(loaded);
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("plugin `sockets` imports `wasi:sockets/")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("plugin `misbehave`: sha256 mismatch")),
            "{problems:?}"
        );
    }

    #[tokio::test]
    async fn a_granted_directory_is_connected_and_a_missing_one_is_named_unavailable() {
        let data = tempfile::tempdir().unwrap();
        let present = format!(
            "[directories.data]\npath = \"{}\"\n{}",
            data.path().display(),
            plugin_section("escape", "directories = [\"data\"]")
        );
        let (_rt, loaded) = load(&present).await;
        let plugins = loaded.unwrap();
        let dirs = &plugins[0].grants.directories.dirs;
        assert_eq!(dirs.len(), 1);
        assert_eq!(dirs[0].0, "data");
        let mounted = dirs[0].1.as_ref().unwrap();
        assert_eq!(mounted, &data.path().canonicalize().unwrap());
        assert!(plugins[0].unavailable.is_empty());

        let gone = data.path().join("gone");
        let missing = format!(
            "[directories.data]\npath = \"{}\"\n{}",
            gone.display(),
            plugin_section("escape", "directories = [\"data\"]")
        );
        let (_rt, loaded) = load(&missing).await;
        let plugins = loaded.unwrap();
        assert!(plugins[0].grants.directories.dirs[0].1.is_err());
        let [why] = plugins[0].unavailable.as_slice() else {
            panic!("{:?}", plugins[0].unavailable)
        };
        assert!(why.contains("directory `data`"), "{why}");
    }

    #[tokio::test]
    async fn a_plugin_without_its_grant_is_refused() {
        let (_rt, loaded) = load(&plugin_section("escape", "")).await;
        let problems = problems(loaded);
        let [why] = problems.as_slice() else {
            panic!("{problems:?}")
        };
        assert!(
            why.starts_with("plugin `escape` needs directories `data`, which is not granted")
                && why.contains("add directories = [\"data\"] to [plugins.escape]"),
            "{why}"
        );
    }
}
