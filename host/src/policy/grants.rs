//! Which resources a plugin gets: the operator's grants (`[plugins.<name>]`)
//! against what the plugin's manifest asks for, and its settings over the
//! defaults it declares. A plugin must be granted every resource it asks for
//! and nothing else. Pure: the loader turns the plan into pools, clients and
//! preopens; every problem is returned at once, with what to change.

use std::collections::BTreeMap;

use crate::bindings::PluginManifest;
use crate::config::PluginConfig;

/// The resources of one kind a plugin was granted: (the name the plugin
/// uses, the resource the operator configured).
pub type Granted = Vec<(String, String)>;

/// What a plugin may use, decided once at load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantPlan {
    pub http: Granted,
    pub sql: Granted,
    pub directories: Granted,
    /// Every declared setting with a value: the operator's, else the default.
    pub settings: BTreeMap<String, String>,
}

/// One kind of capability, as the manifest and the configuration name it.
struct Kind<'a> {
    /// The key in `[plugins.<name>]` (`http`, `sql`, `directories`).
    key: &'static str,
    /// The section that defines such resources (`endpoints`, …).
    section: &'static str,
    asked: &'a [String],
    granted: &'a Granted,
}

/// Decide what `config`'s plugin gets given its `manifest`.
pub fn plan(config: &PluginConfig, manifest: &PluginManifest) -> Result<GrantPlan, Vec<String>> {
    let name = &config.name;
    let caps = &manifest.capabilities;
    let kinds = [
        Kind {
            key: "http",
            section: "endpoints",
            asked: &caps.http,
            granted: &config.http,
        },
        Kind {
            key: "sql",
            section: "databases",
            asked: &caps.sql,
            granted: &config.sql,
        },
        Kind {
            key: "directories",
            section: "directories",
            asked: &caps.directories,
            granted: &config.directories,
        },
    ];
    let mut problems = Vec::new();
    for kind in &kinds {
        check_kind(name, kind, &mut problems);
    }
    let settings = settings(name, manifest, &config.settings, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(GrantPlan {
        http: config.http.clone(),
        sql: config.sql.clone(),
        directories: config.directories.clone(),
        settings,
    })
}

fn check_kind(plugin: &str, kind: &Kind, problems: &mut Vec<String>) {
    let Kind {
        key,
        section,
        asked,
        granted,
    } = kind;
    for want in asked.iter() {
        if !granted.iter().any(|(n, _)| n == want) {
            problems.push(format!(
                "plugin `{plugin}` needs {key} `{want}`, which is not granted: add {key} = [\"{want}\"] to [plugins.{plugin}] and define [{section}.{want}]"
            ));
        }
    }
    for (n, _) in granted.iter() {
        if !asked.contains(n) {
            problems.push(format!(
                "[plugins.{plugin}] {key} grants `{n}`, which the plugin does not ask for (it asks for: {})",
                if asked.is_empty() {
                    "nothing".to_string()
                } else {
                    asked.join(", ")
                }
            ));
        }
    }
}

/// Manifest defaults overlaid with the operator's values; keys the manifest
/// does not declare are problems.
fn settings(
    plugin: &str,
    manifest: &PluginManifest,
    operator: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, String> = manifest
        .settings
        .iter()
        .filter_map(|s| s.default_value.clone().map(|d| (s.key.clone(), d)))
        .collect();
    for (k, v) in operator {
        if manifest.settings.iter().any(|s| &s.key == k) {
            values.insert(k.clone(), v.clone());
        } else {
            let known: Vec<&str> = manifest.settings.iter().map(|s| s.key.as_str()).collect();
            problems.push(format!(
                "[plugins.{plugin}.settings] `{k}` is not a setting of this plugin (it has: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    values
}

/// Whether a database whose role is (or is not) a superuser may serve reads:
/// a read-only transaction does not contain a superuser (`COPY … TO PROGRAM`,
/// server files), so such roles are refused unless the operator allowed them.
pub fn superuser(database: &str, is_superuser: bool, allowed: bool) -> Result<(), String> {
    if is_superuser && !allowed {
        Err(format!(
            "database `{database}` connects as a superuser, which a read-only transaction cannot contain (COPY … TO PROGRAM, server files); connect as a role with only pg_read_all_data (see README), or set allow_superuser = true in [databases.{database}]"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::plue::plugin::types::{Capabilities, Setting};
    use crate::config::{Limits, PluginSource};

    fn manifest(http: &[&str], sql: &[&str], settings: &[(&str, &str)]) -> PluginManifest {
        PluginManifest {
            name: "p".into(),
            version: "0".into(),
            description: String::new(),
            tools: vec![],
            capabilities: Capabilities {
                http: http.iter().map(|s| s.to_string()).collect(),
                sql: sql.iter().map(|s| s.to_string()).collect(),
                directories: vec![],
            },
            settings: settings
                .iter()
                .map(|(k, d)| Setting {
                    key: k.to_string(),
                    description: String::new(),
                    default_value: Some(d.to_string()),
                })
                .collect(),
            prompts: vec![],
            resource_templates: vec![],
        }
    }

    fn config(http: &[(&str, &str)], settings: &[(&str, &str)]) -> PluginConfig {
        PluginConfig {
            name: "p".into(),
            source: PluginSource::Bundled,
            sha256: None,
            http: http
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            sql: vec![],
            directories: vec![],
            settings: settings
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            prefix: None,
            allow_tools: None,
            deny_tools: vec![],
            limits: Limits::default(),
        }
    }

    #[test]
    fn the_plan_grants_exactly_what_is_asked_and_granted() {
        let plan = plan(
            &config(&[("prometheus", "prom-prod")], &[("metric", "x_total")]),
            &manifest(
                &["prometheus"],
                &[],
                &[("metric", "y_total"), ("other", "d")],
            ),
        )
        .unwrap();
        assert_eq!(
            plan.http,
            vec![("prometheus".to_string(), "prom-prod".to_string())]
        );
        assert_eq!(
            plan.settings["metric"], "x_total",
            "the operator's value wins"
        );
        assert_eq!(plan.settings["other"], "d", "defaults fill the rest");
    }

    #[test]
    fn every_mismatch_is_reported_at_once_with_what_to_change() {
        // (granted http, asked http, asked sql, operator settings, expected problem fragments)
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            &'a [&'a str],
            &'a [&'a str],
            &'a [(&'a str, &'a str)],
            &'a [&'a str],
        );
        let cases: [Case; 4] = [
            (
                &[],
                &["web"],
                &[],
                &[],
                &[
                    "needs http `web`, which is not granted: add http = [\"web\"] to [plugins.p] and define [endpoints.web]",
                ],
            ),
            (
                &[("web", "web"), ("extra", "x")],
                &["web"],
                &[],
                &[],
                &["grants `extra`, which the plugin does not ask for (it asks for: web)"],
            ),
            (
                &[],
                &[],
                &["main"],
                &[("nope", "1")],
                &[
                    "needs sql `main`",
                    "`nope` is not a setting of this plugin (it has: metric)",
                ],
            ),
            (
                &[("web", "web")],
                &[],
                &[],
                &[],
                &["grants `web`, which the plugin does not ask for (it asks for: nothing)"],
            ),
        ];
        for (granted, asked_http, asked_sql, settings, expected) in cases {
            let problems = plan(
                &config(granted, settings),
                &manifest(asked_http, asked_sql, &[("metric", "m")]),
            )
            .unwrap_err();
            assert_eq!(problems.len(), expected.len(), "{problems:?}");
            for (problem, fragment) in problems.iter().zip(expected) {
                assert!(problem.contains(fragment), "{problem} lacks {fragment}");
            }
        }
    }

    #[test]
    fn superusers_are_refused_unless_allowed() {
        assert!(superuser("plue", false, false).is_ok());
        assert!(superuser("plue", true, true).is_ok());
        let e = superuser("plue", true, false).unwrap_err();
        assert!(
            e.contains("allow_superuser = true in [databases.plue]"),
            "{e}"
        );
    }
}
