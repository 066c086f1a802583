//! The tool groups carried inside the `plue-mcp` binary, built for
//! wasm32-wasip2 by the host's build script.

/// The component bytes of the bundled plugin `name`.
pub fn bytes(name: &str) -> Option<&'static [u8]> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Names of the bundled plugins.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|(n, _)| *n)
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
}
