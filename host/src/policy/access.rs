//! Which tools an authenticated identity may use: the operator's `[[access]]`
//! rules, decided here and nowhere else. A rule names identities
//! (`token:NAME`, `sub:SUBJECT`, `client:ID`, `scope:SCOPE`, or `*` for any
//! authenticated caller) and what they may (`allow`) and may not (`deny`)
//! use, as globs over `PLUGIN` or `PLUGIN/TOOL` (the tool's name inside its
//! plugin). With no rules, every authenticated caller may use every tool;
//! with rules, a tool is usable when a rule matching the caller allows it
//! and none denies it. Rules only narrow what the registry exposes: they
//! cannot reach a tool the operator's `[plugins.*]` config hid.

/// One `[[access]]` rule, as configured (patterns checked by [`check_identity`]
/// and [`check_target`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRule {
    pub identities: Vec<String>,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

/// Why a caller may not use a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// No rule that matches the caller allows the tool.
    NotAllowed,
    /// Rule number `rule` (from 1, in file order) denies it by `pattern`.
    Denied { rule: usize, pattern: String },
}

impl Denial {
    /// The reason, for a message that already names the caller and the tool.
    pub fn reason(&self) -> String {
        match self {
            Denial::NotAllowed => "no [[access]] rule for this identity allows it".into(),
            Denial::Denied { rule, pattern } => {
                format!("[[access]] rule #{rule} denies it (`{pattern}`)")
            }
        }
    }
}

/// May the caller known by `identities` (every name it matches, see
/// `Principal::identities`) use `tool` of `plugin` under `rules`?
pub fn decide(
    rules: &[AccessRule],
    identities: &[String],
    plugin: &str,
    tool: &str,
) -> Result<(), Denial> {
    if rules.is_empty() {
        return Ok(());
    }
    let mut allowed = false;
    for (n, rule) in rules.iter().enumerate() {
        let applies = rule
            .identities
            .iter()
            .any(|pattern| pattern == "*" || identities.iter().any(|id| glob(pattern, id)));
        if !applies {
            continue;
        }
        if let Some(pattern) = rule.deny.iter().find(|p| targets(p, plugin, tool)) {
            return Err(Denial::Denied {
                rule: n + 1,
                pattern: pattern.clone(),
            });
        }
        allowed |= rule.allow.iter().any(|p| targets(p, plugin, tool));
    }
    if allowed {
        Ok(())
    } else {
        Err(Denial::NotAllowed)
    }
}

/// Whether `pattern` (`PLUGIN` or `PLUGIN/TOOL`, globs) covers the tool.
fn targets(pattern: &str, plugin: &str, tool: &str) -> bool {
    match pattern.split_once('/') {
        None => glob(pattern, plugin),
        Some((p, t)) => glob(p, plugin) && glob(t, tool),
    }
}

/// `*` matches any run of characters (none included); everything else
/// matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The kinds of identity a rule can name.
pub const IDENTITY_KINDS: [&str; 4] = ["token:", "sub:", "client:", "scope:"];

/// Is `pattern` an identity a rule can name?
pub fn check_identity(pattern: &str) -> Result<(), String> {
    if pattern == "*" {
        return Ok(());
    }
    match IDENTITY_KINDS.iter().find(|k| pattern.starts_with(*k)) {
        Some(kind) if pattern.len() > kind.len() => Ok(()),
        Some(kind) => Err(format!(
            "`{pattern}`: name the {} after `{kind}`",
            &kind[..kind.len() - 1]
        )),
        None => Err(format!(
            "`{pattern}` is not an identity: use `*` or start it with {}",
            IDENTITY_KINDS.map(|k| format!("`{k}`")).join(", ")
        )),
    }
}

/// Is `pattern` a `PLUGIN` or `PLUGIN/TOOL` glob? Returns the plugin part.
pub fn check_target(pattern: &str) -> Result<&str, String> {
    let (plugin, tool) = match pattern.split_once('/') {
        None => (pattern, None),
        Some((p, t)) => (p, Some(t)),
    };
    let part_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*'))
    };
    if part_ok(plugin) && tool.is_none_or(part_ok) {
        Ok(plugin)
    } else {
        Err(format!(
            "`{pattern}` is not `PLUGIN` or `PLUGIN/TOOL` (letters, digits, `_`, `-`, `.`, and `*` as a wildcard)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(identities: &[&str], allow: &[&str], deny: &[&str]) -> AccessRule {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        AccessRule {
            identities: owned(identities),
            allow: owned(allow),
            deny: owned(deny),
        }
    }

    /// `check(rules, identities, plugin/tool, expected)`.
    fn check(
        rules: &[AccessRule],
        identities: &[&str],
        target: &str,
        expected: Result<(), Denial>,
    ) {
        let ids: Vec<String> = identities.iter().map(|s| s.to_string()).collect();
        let (plugin, tool) = target.split_once('/').unwrap();
        assert_eq!(
            decide(rules, &ids, plugin, tool),
            expected,
            "{identities:?} → {target}"
        );
    }

    fn denied(rule: usize, pattern: &str) -> Result<(), Denial> {
        Err(Denial::Denied {
            rule,
            pattern: pattern.into(),
        })
    }

    #[test]
    fn no_rules_allow_everything() {
        check(&[], &["token:ci"], "database/query", Ok(()));
        check(&[], &[], "database/query", Ok(()));
    }

    #[test]
    fn rules_allow_deny_and_default_to_nothing() {
        let rules = [
            rule(&["token:ci"], &["prometheus", "database/query"], &[]),
            rule(&["scope:logs.read"], &["logs/*"], &["logs/tail_*"]),
            rule(&["*"], &["workflows/list_runs"], &[]),
            rule(&["sub:ops-*"], &["*"], &["database"]),
        ];
        let cases: &[(&[&str], &str, Result<(), Denial>)] = &[
            (&["token:ci"], "prometheus/query", Ok(())),
            (&["token:ci"], "database/query", Ok(())),
            (
                &["token:ci"],
                "database/describe_table",
                Err(Denial::NotAllowed),
            ),
            (&["token:ci"], "logs/query_logs", Err(Denial::NotAllowed)),
            (&["token:ci"], "workflows/list_runs", Ok(())),
            (&["client:a", "scope:logs.read"], "logs/query_logs", Ok(())),
            (
                &["client:a", "scope:logs.read"],
                "logs/tail_logs",
                denied(2, "logs/tail_*"),
            ),
            (&["client:a"], "logs/query_logs", Err(Denial::NotAllowed)),
            (&["sub:ops-anna"], "playwright/list_runs", Ok(())),
            (&["sub:ops-anna"], "database/query", denied(4, "database")),
            (
                &["sub:dev-bo"],
                "playwright/list_runs",
                Err(Denial::NotAllowed),
            ),
            (&[], "workflows/list_runs", Ok(())),
        ];
        for (ids, target, expected) in cases {
            check(&rules, ids, target, expected.clone());
        }
    }

    #[test]
    fn a_deny_wins_over_an_allow_in_any_rule() {
        let rules = [
            rule(&["*"], &["*"], &[]),
            rule(&["token:intern"], &[], &["database/*"]),
        ];
        check(
            &rules,
            &["token:intern"],
            "database/query",
            denied(2, "database/*"),
        );
        check(&rules, &["token:intern"], "logs/query_logs", Ok(()));
        check(&rules, &["token:ci"], "database/query", Ok(()));
    }

    #[test]
    fn globs_match_whole_names() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("data*", "database", true),
            ("data*", "metadata", false),
            ("*base", "database", true),
            ("d*b*e", "database", true),
            ("d*x*e", "database", false),
            ("ab*ba", "aba", false),
            ("query", "query", true),
            ("query", "query_logs", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(glob(pattern, text), expected, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn patterns_are_checked() {
        assert!(check_identity("*").is_ok());
        assert!(check_identity("sub:abc-*").is_ok());
        assert!(
            check_identity("token:")
                .unwrap_err()
                .contains("name the token")
        );
        assert!(check_identity("ci").unwrap_err().contains("`token:`"));
        assert_eq!(check_target("logs/*"), Ok("logs"));
        assert_eq!(check_target("prometheus"), Ok("prometheus"));
        assert!(check_target("logs/").is_err());
        assert!(check_target("a/b/c").is_err());
        assert!(check_target("").is_err());
    }
}
