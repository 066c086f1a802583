//! The `settings` capability: a plugin's non-secret settings, the operator's
//! values over the defaults its manifest declares.

use std::collections::BTreeMap;

use crate::bindings::PluginManifest;

/// Resolved settings of one plugin.
#[derive(Debug, Clone, Default)]
pub struct Settings(BTreeMap<String, String>);

impl Settings {
    /// Manifest defaults overlaid with the operator's values. Keys the manifest
    /// does not declare are returned as problems.
    pub fn resolve(
        manifest: &PluginManifest,
        operator: &BTreeMap<String, String>,
    ) -> (Settings, Vec<String>) {
        let mut values: BTreeMap<String, String> = manifest
            .settings
            .iter()
            .filter_map(|s| s.default_value.clone().map(|d| (s.key.clone(), d)))
            .collect();
        let mut problems = Vec::new();
        for (k, v) in operator {
            if !manifest.settings.iter().any(|s| &s.key == k) {
                let known: Vec<&str> = manifest.settings.iter().map(|s| s.key.as_str()).collect();
                problems.push(format!(
                    "[plugins.{}.settings] `{k}` is not a setting of this plugin (it has: {})",
                    manifest.name,
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ));
            }
            values.insert(k.clone(), v.clone());
        }
        (Settings(values), problems)
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}
