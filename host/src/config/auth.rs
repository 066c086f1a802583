//! `[server.auth]`: how `serve --http` authenticates its callers, as written
//! (serde types that reject unknown keys) and resolved once (URLs parsed,
//! static tokens read from the environment and checked). The checks that
//! need the network (issuer metadata, keys) happen in [`crate::auth`].

use std::time::Duration;

use serde::Deserialize;

use super::resolve::{Availability, Env};
use crate::secret::Secret;

/// The shortest static token accepted, in characters.
pub const MIN_STATIC_TOKEN_CHARS: usize = 24;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    /// This server's resource URI (RFC 8707): the `/mcp` URL clients use.
    pub resource: String,
    /// Issuers whose JWT access tokens are accepted.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// Scopes a token must carry to use `/mcp`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds (default 30).
    pub leeway_s: Option<u64>,
    #[serde(default)]
    pub tokens: Vec<RawStaticToken>,
    pub introspection: Option<RawIntrospection>,
}

/// `[server.auth.introspection]`: opaque tokens checked with the authorization
/// server (RFC 7662), as a confidential client.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntrospection {
    pub endpoint: String,
    pub client_id: String,
    /// The environment variable holding the client's secret.
    pub client_secret_env: String,
}

/// `[[server.auth.tokens]]`: a static bearer token, its value in the environment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStaticToken {
    pub name: String,
    /// The environment variable holding the token.
    pub env: String,
    /// Scopes the holder is given (for `[[access]]` rules).
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Authentication for `serve --http`, resolved.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// This server's resource URI: the audience tokens must name.
    pub resource: url::Url,
    /// Issuer identifiers, exactly as their tokens' `iss` says.
    pub authorization_servers: Vec<String>,
    pub scopes: Vec<String>,
    pub leeway: Duration,
    pub tokens: Vec<StaticToken>,
    pub introspection: Option<IntrospectionConfig>,
}

#[derive(Debug, Clone)]
pub struct IntrospectionConfig {
    pub endpoint: url::Url,
    pub client_id: String,
    /// The client's secret, or why it is unavailable.
    pub client_secret: Availability<Secret>,
}

#[derive(Debug, Clone)]
pub struct StaticToken {
    pub name: String,
    /// The token, or why it is unavailable (its variable is unset).
    pub value: Availability<Secret>,
    pub scopes: Vec<String>,
}

/// Resolve `[server.auth]`, pushing every problem onto `problems`.
pub fn resolve(raw: RawAuth, env: &dyn Env, problems: &mut Vec<String>) -> AuthConfig {
    let ctx = "[server.auth]";
    let resource = match url::Url::parse(&raw.resource) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.fragment().is_none() => u,
        Ok(_) => {
            problems.push(format!(
                "{ctx} resource: `{}` must be an http(s) URL without a fragment",
                raw.resource
            ));
            url::Url::parse("http://invalid.invalid/").expect("a valid URL")
        }
        Err(e) => {
            problems.push(format!(
                "{ctx} resource: `{}` is not a URL ({e}); give the URL clients use for /mcp",
                raw.resource
            ));
            url::Url::parse("http://invalid.invalid/").expect("a valid URL")
        }
    };
    for issuer in &raw.authorization_servers {
        match url::Url::parse(issuer) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.query().is_none()
                    && u.fragment().is_none() => {}
            _ => problems.push(format!(
                "{ctx} authorization_servers: `{issuer}` is not an http(s) issuer URL without query or fragment"
            )),
        }
    }
    let mut tokens: Vec<StaticToken> = Vec::new();
    for t in raw.tokens {
        let tctx = format!("[[server.auth.tokens]] `{}`", t.name);
        if !crate::config::resolve::valid_name(&t.name) {
            problems.push(format!(
                "{tctx}: token names use lowercase letters, digits, `-` and `_`"
            ));
        }
        if tokens.iter().any(|o| o.name == t.name) {
            problems.push(format!("{tctx}: the name is used twice"));
        }
        let value = match env.var(&t.env).filter(|v| !v.is_empty()) {
            None => Err(format!(
                "static token `{}` is disabled: environment variable {} is not set",
                t.name, t.env
            )),
            Some(v) if v.chars().count() < MIN_STATIC_TOKEN_CHARS => {
                problems.push(format!(
                    "{tctx}: the value of {} is under {MIN_STATIC_TOKEN_CHARS} characters; use a random one (`openssl rand -base64 32`)",
                    t.env
                ));
                Err("too short".into())
            }
            Some(v) => Ok(Secret::new(v)),
        };
        tokens.push(StaticToken {
            name: t.name,
            value,
            scopes: t.scopes,
        });
    }
    let introspection = raw.introspection.map(|i| {
        let endpoint = url::Url::parse(&i.endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .unwrap_or_else(|| {
                problems.push(format!(
                    "[server.auth.introspection] endpoint: `{}` is not an http(s) URL",
                    i.endpoint
                ));
                url::Url::parse("http://invalid.invalid/").expect("a valid URL")
            });
        let client_secret = env
            .var(&i.client_secret_env)
            .filter(|v| !v.is_empty())
            .map(Secret::new)
            .ok_or_else(|| {
                format!(
                    "token introspection is disabled: environment variable {} is not set",
                    i.client_secret_env
                )
            });
        IntrospectionConfig {
            endpoint,
            client_id: i.client_id,
            client_secret,
        }
    });
    if raw.authorization_servers.is_empty() && tokens.is_empty() && introspection.is_none() {
        problems.push(format!(
            "{ctx}: name at least one authorization server (authorization_servers), static token ([[server.auth.tokens]]) or introspection endpoint ([server.auth.introspection])"
        ));
    }
    AuthConfig {
        resource,
        authorization_servers: raw.authorization_servers,
        scopes: raw.scopes,
        leeway: Duration::from_secs(raw.leeway_s.unwrap_or(30).min(300)),
        tokens,
        introspection,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use crate::config::Config;
    use crate::config::resolve::ConfigError;

    fn resolve(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_toml(text, Path::new("/nonexistent-base"), "test.toml", &env)
    }

    const TOKENS: &str = "[server.auth]\nresource = \"https://mcp.example.com/mcp\"\nscopes = [\"mcp:tools\"]\n[[server.auth.tokens]]\nname = \"ci\"\nenv = \"CI_TOKEN\"\nscopes = [\"ci\"]\n[[server.auth.tokens]]\nname = \"ops\"\nenv = \"OPS_TOKEN\"\n";

    #[test]
    fn static_tokens_come_from_the_environment_and_never_print() {
        let value = "a-long-enough-random-token-value";
        let c = resolve(TOKENS, &[("CI_TOKEN", value)]).unwrap();
        let auth = c.server.auth.as_ref().unwrap();
        assert_eq!(auth.resource.as_str(), "https://mcp.example.com/mcp");
        assert_eq!(auth.leeway.as_secs(), 30);
        assert_eq!(auth.tokens[0].value.as_ref().unwrap().expose(), value);
        assert_eq!(auth.tokens[0].scopes, ["ci"]);
        let unset = auth.tokens[1].value.as_ref().unwrap_err();
        assert!(unset.contains("OPS_TOKEN is not set"), "{unset}");
        assert!(!format!("{c:?}").contains(value));
    }

    #[test]
    fn every_auth_problem_is_reported() {
        let err = resolve(TOKENS, &[("CI_TOKEN", "short")]).unwrap_err();
        assert!(
            err.to_string().contains("CI_TOKEN is under 24 characters"),
            "{err}"
        );
        assert!(
            !err.to_string().contains("short"),
            "the value is not shown: {err}"
        );
        let err = resolve(
            "[server.auth]\nresource = \"not a url\"\nauthorization_servers = [\"ftp://x\"]\n",
            &[],
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("resource: `not a url` is not a URL"),
            "{text}"
        );
        assert!(
            text.contains("`ftp://x` is not an http(s) issuer URL"),
            "{text}"
        );
        let err = resolve("[server.auth]\nresource = \"https://m/mcp\"\n", &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("name at least one authorization server"),
            "{err}"
        );
    }

    #[test]
    fn access_rules_are_checked_against_plugins_tokens_and_auth() {
        let rules = "[endpoints.prometheus]\nurl = \"http://h:1\"\n[plugins.prometheus]\nhttp = [\"prometheus\"]\n[[access]]\nidentities = [\"token:ci\", \"token:nobody\", \"ci\"]\nallow = [\"prometheus/*\", \"nosuch\", \"a/b/c\"]\n[[access]]\nidentities = []\n";
        let err = resolve(&format!("{TOKENS}{rules}"), &[]).unwrap_err();
        let text = err.to_string();
        for want in [
            "[[access]] #1 identities: `token:nobody`: there is no [[server.auth.tokens]] named `nobody`",
            "[[access]] #1 identities: `ci` is not an identity",
            "[[access]] #1 allow: `nosuch`: there is no [plugins.nosuch]",
            "[[access]] #1 allow: `a/b/c` is not `PLUGIN` or `PLUGIN/TOOL`",
            "[[access]] #2: identities is empty",
            "[[access]] #2: give allow, deny or both",
        ] {
            assert!(text.contains(want), "missing `{want}` in:\n{text}");
        }
        assert_eq!(err.problems.len(), 6, "{text}");
        let err = resolve("[[access]]\nidentities = [\"*\"]\nallow = [\"*\"]\n", &[]).unwrap_err();
        assert!(err.to_string().contains("add [server.auth]"), "{err}");
        let ok = resolve(
            &format!(
                "{TOKENS}[[access]]\nidentities = [\"token:ci\", \"sub:*\"]\nallow = [\"*\"]\n"
            ),
            &[],
        )
        .unwrap();
        assert_eq!(ok.access.len(), 1);
    }
}
