//! Authentication for `serve --http`, as the MCP specification (2025-11-25)
//! asks of an OAuth 2.1 resource server: bearer tokens on every `/mcp`
//! request, either static tokens named in the config ([`static_tokens`]) or
//! JWT access tokens checked locally ([`jwt`]) with their issuer's cached
//! keys ([`jwks`]); Protected Resource Metadata for clients to discover the
//! authorization servers ([`prm`]); and the middleware that refuses a
//! request (401, or 403 for a short scope) or puts its [`Principal`] into
//! the request's extensions ([`middleware`]). stdio is not authenticated:
//! the client launched the process. Tokens are never logged.

pub mod jwks;
pub mod jwt;
pub mod middleware;
pub mod prm;
pub mod static_tokens;

use std::sync::Arc;

use crate::caller::Principal;
use crate::config::AuthConfig;
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
        if self.issuers.is_empty() {
            return Err(Refusal::Invalid("the token is not valid here".into()));
        }
        let principal = self.access_token(token).await.map_err(Refusal::Invalid)?;
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
    if authenticator.statics.is_empty() && authenticator.issuers.is_empty() {
        tracing::warn!("[server.auth] accepts no token: every /mcp request will be refused");
    }
    middleware::layer(mcp, authenticator).merge(prm::routes(config, server_name))
}
