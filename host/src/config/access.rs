//! `[[access]]`: which identities may use which tools, as written and
//! resolved into [`crate::policy::access`] rules, every pattern checked and
//! every plugin named checked against `[plugins.*]`.

use serde::Deserialize;

use crate::policy::access::{AccessRule, check_identity, check_target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccess {
    pub identities: Vec<String>,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
}

/// Resolve the rules in file order. `plugins` are the configured plugin
/// names, `tokens` the static token names; problems go onto `problems`.
pub fn resolve(
    raw: Vec<RawAccess>,
    plugins: &[&str],
    tokens: &[&str],
    problems: &mut Vec<String>,
) -> Vec<AccessRule> {
    let mut rules = Vec::new();
    for (n, r) in raw.into_iter().enumerate() {
        let ctx = format!("[[access]] #{}", n + 1);
        if r.identities.is_empty() {
            problems.push(format!(
                "{ctx}: identities is empty; name who the rule is for (`*` for everyone)"
            ));
        }
        if r.allow.is_empty() && r.deny.is_empty() {
            problems.push(format!("{ctx}: give allow, deny or both"));
        }
        for id in &r.identities {
            if let Err(why) = check_identity(id) {
                problems.push(format!("{ctx} identities: {why}"));
            } else if let Some(name) = id.strip_prefix("token:")
                && !name.contains('*')
                && !tokens.contains(&name)
            {
                problems.push(format!(
                    "{ctx} identities: `{id}`: there is no [[server.auth.tokens]] named `{name}`"
                ));
            }
        }
        for (key, list) in [("allow", &r.allow), ("deny", &r.deny)] {
            for pattern in list {
                match check_target(pattern) {
                    Err(why) => problems.push(format!("{ctx} {key}: {why}")),
                    Ok(plugin) if !plugin.contains('*') && !plugins.contains(&plugin) => problems
                        .push(format!(
                            "{ctx} {key}: `{pattern}`: there is no [plugins.{plugin}]"
                        )),
                    Ok(_) => {}
                }
            }
        }
        rules.push(AccessRule {
            identities: r.identities,
            allow: r.allow,
            deny: r.deny,
        });
    }
    rules
}
