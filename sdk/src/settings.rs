//! The plugin's non-secret settings from `[plugins.<name>.settings]`.
//!
//! ```
//! use plue_plugin_sdk::settings;
//! plue_plugin_sdk::testing::set_setting("label", "app");
//! assert_eq!(settings::get_or("label", "service"), "app");
//! assert_eq!(settings::get_or("missing", "fallback"), "fallback");
//! ```

use crate::plugin::Plugin;

/// The value of `key`: the operator's, else the default the manifest declared.
pub fn get(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::plue::plugin::settings::get(key)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::HOST.with(|h| {
            let h = h.borrow();
            h.settings.get(key).or_else(|| h.defaults.get(key)).cloned()
        })
    }
}

/// The value of `key`, or `default` when neither operator nor manifest set one.
pub fn get_or(key: &str, default: &str) -> String {
    get(key)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// Natively, remember the manifest's defaults (the host does this on wasm32).
pub(crate) fn set_defaults(plugin: &Plugin) {
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::HOST.with(|h| {
        let mut h = h.borrow_mut();
        h.defaults.clear();
        for key in plugin_setting_keys(plugin) {
            if let Some(v) = plugin.setting_default(&key) {
                h.defaults.insert(key.clone(), v.to_string());
            }
        }
    });
    #[cfg(target_arch = "wasm32")]
    let _ = plugin;
}

#[cfg(not(target_arch = "wasm32"))]
fn plugin_setting_keys(plugin: &Plugin) -> Vec<String> {
    crate::plugin::manifest(plugin)
        .settings
        .into_iter()
        .map(|s| s.key)
        .collect()
}
