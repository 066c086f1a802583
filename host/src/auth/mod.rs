//! Authentication for `serve --http`, as the MCP specification (2025-11-25)
//! asks of an OAuth 2.1 resource server: bearer tokens on every `/mcp`
//! request, either static tokens named in the config ([`static_tokens`]) or
//! JWT access tokens checked locally ([`jwt`]) with their issuer's cached
//! keys ([`jwks`]), or opaque tokens asked about at the authorization
//! server ([`introspection`]); Protected Resource Metadata for clients to discover the
//! authorization servers ([`prm`]); and the middleware that refuses a
//! request (401, or 403 for a short scope) or puts its [`Principal`] into
//! the request's extensions ([`middleware`]). stdio is not authenticated:
//! the client launched the process. Tokens are never logged.

pub mod introspection;
pub mod jwks;
pub mod jwt;
pub mod middleware;
pub mod prm;
pub mod static_tokens;

use std::sync::Arc;

use crate::caller::Principal;
use crate::config::AuthConfig;
use introspection::Introspector;
use jwks::IssuerKeys;
use static_tokens::StaticTokens;

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No bearer token was sent.
    Missing,
    /// The token is not valid here; the reason is safe to show.
    Invalid(String),
    /// The token is valid but lacks scopes this server requires.
    InsufficientScope,
}

/// Checks bearer tokens against `[server.auth]`.
pub struct Authenticator {
    config: AuthConfig,
    statics: StaticTokens,
    issuers: Vec<IssuerKeys>,
    introspector: Option<Introspector>,
}

impl Authenticator {
    pub fn new(config: &AuthConfig) -> Authenticator {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("plue-mcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client configuration is static and valid");
        Authenticator {
            statics: StaticTokens::new(&config.tokens),
            issuers: config
                .authorization_servers
                .iter()
                .map(|issuer| IssuerKeys::new(issuer, http.clone()))
                .collect(),
            introspector: config
                .introspection
                .as_ref()
                .and_then(|i| Introspector::new(i, http.clone())),
            config: config.clone(),
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The principal behind an `Authorization` header value.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, Refusal> {
        let token = authorization
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Missing)?;
        // Static tokens first: they are admitted by name, whatever their scopes.
        if let Some(principal) = self.statics.check(token) {
            return Ok(principal);
        }
        // Three dot-separated parts: a JWT (a malformed one is refused as such).
        let is_jwt = token.split('.').count() == 3;
        let principal = match (&self.introspector, is_jwt && !self.issuers.is_empty()) {
            (_, true) => self.access_token(token).await,
            (Some(introspector), false) => {
                introspector
                    .check(
                        token,
                        self.config.resource.as_str(),
                        &self.config.authorization_servers,
                    )
                    .await
            }
            (None, false) if is_jwt || !self.issuers.is_empty() => self.access_token(token).await,
            (None, false) => Err("the token is not valid here".into()),
        }
        .map_err(Refusal::Invalid)?;
        if principal.has_scopes(&self.config.scopes) {
            Ok(principal)
        } else {
            Err(Refusal::InsufficientScope)
        }
    }

    /// A JWT access token, checked against the keys of the issuer it names.
    async fn access_token(&self, token: &str) -> Result<Principal, String> {
        let header = jwt::header(token).map_err(|e| e.to_string())?;
        let iss = jwt::claimed_issuer(token).map_err(|e| e.to_string())?;
        let issuer = self
            .issuers
            .iter()
            .find(|i| i.issuer() == iss)
            .ok_or_else(|| jwt::JwtError::Issuer.to_string())?;
        let key = issuer.key(header.kid.as_deref()).await.map_err(|e| {
            if let jwks::KeyError::Unavailable(why) = &e {
                // The details name internal URLs: for the operator, not the client.
                tracing::warn!(issuer = issuer.issuer(), "{why}");
                return "the issuer's keys are unavailable; try again later".to_string();
            }
            e.to_string()
        })?;
        let expected = jwt::Expected {
            issuer: issuer.issuer(),
            audience: self.config.resource.as_str(),
            leeway_s: self.config.leeway.as_secs(),
        };
        jwt::verify(token, &header, &key, &expected).map_err(|e| e.to_string())
    }
}

/// Put authentication in front of `mcp` (the `/mcp` routes) and serve the
/// Protected Resource Metadata beside it.
pub fn protect(mcp: axum::Router, config: &AuthConfig, server_name: &str) -> axum::Router {
    let authenticator = Arc::new(Authenticator::new(config));
    if authenticator.statics.is_empty()
        && authenticator.issuers.is_empty()
        && authenticator.introspector.is_none()
    {
        tracing::warn!("[server.auth] accepts no token: every /mcp request will be refused");
    }
    middleware::layer(mcp, authenticator).merge(prm::routes(config, server_name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StaticToken;
    use crate::secret::Secret;

    #[tokio::test]
    async fn bearer_headers_are_read_strictly() {
        let token = "a-static-token-of-24-characters-or-more";
        let config = AuthConfig {
            resource: url::Url::parse("https://mcp.example.com/mcp").unwrap(),
            authorization_servers: vec![],
            scopes: vec!["mcp:tools".into()],
            leeway: std::time::Duration::from_secs(30),
            tokens: vec![StaticToken {
                name: "ci".into(),
                value: Ok(Secret::new(token)),
                scopes: vec![],
            }],
            introspection: None,
        };
        let auth = Authenticator::new(&config);
        let cases = [
            (None, Err(Refusal::Missing)),
            (Some(String::new()), Err(Refusal::Missing)),
            (Some("Bearer ".into()), Err(Refusal::Missing)),
            (Some(format!("Basic {token}")), Err(Refusal::Missing)),
            (Some(token.to_string()), Err(Refusal::Missing)),
            (Some(format!("Bearer {token}")), Ok("token:ci")),
            (Some(format!("bearer  {token} ")), Ok("token:ci")),
            (
                Some(format!("Bearer {token}x")),
                Err(Refusal::Invalid("the token is not valid here".into())),
            ),
        ];
        for (header, expected) in cases {
            let got = auth.authenticate(header.as_deref()).await;
            let got = got.as_ref().map(|p| p.name.as_str()).map_err(Clone::clone);
            assert_eq!(got, expected, "{header:?}");
        }
    }
}
