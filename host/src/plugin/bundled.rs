//! The tool groups carried inside the `plue-mcp` binary, built for
//! wasm32-wasip2 by the host's build script.

/// A bundled plugin: its component, and the same component compiled by the
/// build script for this host's engine settings (see `crate::codegen`).
#[derive(Debug, Clone, Copy)]
pub struct Bundled {
    pub component: &'static [u8],
    pub artifact: &'static [u8],
}

/// The bundled plugin `name`.
pub fn get(name: &str) -> Option<Bundled> {
    BUNDLED
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|&(_, component, artifact)| Bundled {
            component,
            artifact,
        })
}

/// Names of the bundled plugins.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|(n, ..)| *n)
}

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_configuration_names_only_bundled_plugins() {
        let config = crate::config::Config::from_toml(
            crate::config::BUILT_IN_DEFAULT,
            std::path::Path::new("."),
            "default",
            &crate::config::resolve::ProcessEnv,
        )
        .unwrap();
        let bundled: Vec<&str> = super::names().collect();
        assert!(bundled.len() >= 6, "{bundled:?}");
        for plugin in &config.plugins {
            assert!(
                bundled.contains(&plugin.name.as_str()),
                "{} is not bundled",
                plugin.name
            );
        }
    }

    /// The build script's artifacts fit the host's engine, so a first start
    /// compiles nothing: if `crate::codegen` and the engine drift apart, the
    /// host would silently fall back to compiling, and this test says so.
    #[test]
    fn every_bundled_artifact_loads_in_the_hosts_engine_without_compiling() {
        let runtime = crate::engine::Runtime::new(2, 64 << 20).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let compiler = crate::engine::Compiler {
            engine: &runtime.engine,
            cache_dir: cache.path(),
        };
        for name in super::names() {
            let bundled = super::get(name).unwrap();
            assert!(
                compiler.embedded(bundled.artifact).is_some(),
                "the embedded artifact of `{name}` does not fit the host's engine"
            );
        }
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
    }
}
