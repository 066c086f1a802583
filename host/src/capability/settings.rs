//! The `settings` capability: a plugin's non-secret settings, as
//! [`crate::policy::grants`] resolved them (the operator's values over the
//! defaults its manifest declares).

use std::collections::BTreeMap;

/// Resolved settings of one plugin.
#[derive(Debug, Clone, Default)]
pub struct Settings(BTreeMap<String, String>);

impl From<BTreeMap<String, String>> for Settings {
    fn from(values: BTreeMap<String, String>) -> Self {
        Settings(values)
    }
}

impl Settings {
    pub fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_reads_its_resolved_value_and_nothing_else() {
        let settings = Settings::from(BTreeMap::from([(
            "metric".to_string(),
            "x_total".to_string(),
        )]));
        assert_eq!(settings.get("metric").as_deref(), Some("x_total"));
        assert_eq!(settings.get("METRIC"), None);
    }

    #[test]
    fn a_plugin_without_settings_reads_none() {
        assert_eq!(Settings::default().get("metric"), None);
        let empty_value = Settings::from(BTreeMap::from([("k".to_string(), String::new())]));
        // An empty value is a value the operator set, not a missing one.
        assert_eq!(empty_value.get("k").as_deref(), Some(""));
    }
}
