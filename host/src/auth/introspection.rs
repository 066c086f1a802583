//! Opaque access tokens, checked with the authorization server's
//! introspection endpoint (RFC 7662) as a confidential client: the token must
//! be `active`, name this server's resource URI in `aud` (RFC 8707) and, when
//! it says, come from a configured issuer. Answers are cached by the token's
//! SHA-256 (never the token) until the token expires, at most
//! [`POSITIVE_TTL`]; refusals for [`NEGATIVE_TTL`], so a replayed bad token
//! does not make a request to the issuer each time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::caller::Principal;
use crate::config::IntrospectionConfig;
use crate::secret::Secret;

/// How long an active token's answer is reused (bounded by its `exp`).
pub const POSITIVE_TTL: Duration = Duration::from_secs(60);
/// How long a refusal is reused.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(10);
/// Answers kept at most; the cache is emptied when it grows past this.
const MAX_CACHED: usize = 10_000;
const TIMEOUT: Duration = Duration::from_secs(5);

type Answer = Result<Principal, String>;

pub struct Introspector {
    endpoint: url::Url,
    client_id: String,
    secret: Secret,
    http: reqwest::Client,
    cache: Mutex<HashMap<[u8; 32], (Instant, Answer)>>,
}

/// The fields of an introspection response this server reads.
#[derive(Debug, Deserialize)]
struct Response {
    active: bool,
    sub: Option<String>,
    client_id: Option<String>,
    scope: Option<String>,
    aud: Option<Audience>,
    iss: Option<String>,
    exp: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Introspector {
    /// `None` (logged) when the client secret is unavailable.
    pub fn new(config: &IntrospectionConfig, http: reqwest::Client) -> Option<Introspector> {
        let secret = match &config.client_secret {
            Ok(secret) => secret.clone(),
            Err(why) => {
                tracing::warn!("{why}");
                return None;
            }
        };
        Some(Introspector {
            endpoint: config.endpoint.clone(),
            client_id: config.client_id.clone(),
            secret,
            http,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The principal behind an opaque `token` meant for `resource`, issued by
    /// one of `issuers` (when the answer names one).
    pub async fn check(&self, token: &str, resource: &str, issuers: &[String]) -> Answer {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some((until, answer)) = self.cache.lock().expect("cache lock").get(&key)
            && *until > Instant::now()
        {
            return answer.clone();
        }
        let (answer, ttl) = match self.ask(token).await {
            Err(why) => {
                tracing::warn!(endpoint = %self.endpoint, "token introspection failed: {why}");
                // Not cached: the next request asks again.
                return Err("the token could not be checked; try again later".into());
            }
            Ok(response) => judge(response, resource, issuers),
        };
        let mut cache = self.cache.lock().expect("cache lock");
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, (Instant::now() + ttl, answer.clone()));
        answer
    }

    async fn ask(&self, token: &str) -> Result<Response, String> {
        let response = self
            .http
            .post(self.endpoint.clone())
            .basic_auth(&self.client_id, Some(self.secret.expose()))
            .header("accept", "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        response
            .json()
            .await
            .map_err(|e| format!("not an introspection response ({})", e.without_url()))
    }
}

/// The answer an introspection response gives, and how long it holds.
fn judge(r: Response, resource: &str, issuers: &[String]) -> (Answer, Duration) {
    let refuse = |why: &str| (Err(why.to_string()), NEGATIVE_TTL);
    if !r.active {
        return refuse("the token is not active (expired, revoked or unknown)");
    }
    let audiences = match r.aud {
        None => vec![],
        Some(Audience::One(a)) => vec![a],
        Some(Audience::Many(list)) => list,
    };
    if !audiences.iter().any(|a| a == resource) {
        return refuse(
            "the token was issued for another audience (it must name this server's resource URI)",
        );
    }
    if let Some(iss) = &r.iss
        && !issuers.is_empty()
        && !issuers.contains(iss)
    {
        return refuse("the token's issuer is not accepted");
    }
    let now = chrono::Utc::now().timestamp();
    let ttl = match r.exp {
        Some(exp) if exp <= now => return refuse("the token has expired"),
        Some(exp) => POSITIVE_TTL.min(Duration::from_secs((exp - now) as u64)),
        None => POSITIVE_TTL,
    };
    let mut scopes: Vec<String> = r
        .scope
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_string)
        .collect();
    scopes.sort();
    scopes.dedup();
    (Ok(Principal::from_claims(r.sub, r.client_id, scopes)), ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(response: serde_json::Value, expected: Result<&str, &str>) {
        let r: Response = serde_json::from_value(response.clone()).unwrap();
        let (got, _) = judge(
            r,
            "https://mcp.example.com/mcp",
            &["https://auth.example.com".into()],
        );
        let got = got
            .as_ref()
            .map(|p| p.name.as_str())
            .map_err(String::as_str);
        match expected {
            Ok(name) => assert_eq!(got, Ok(name), "{response}"),
            Err(why) => assert!(got.is_err_and(|e| e.contains(why)), "{response}: {got:?}"),
        }
    }

    #[test]
    fn only_active_tokens_for_this_resource_pass() {
        let exp = chrono::Utc::now().timestamp() + 600;
        let aud = "https://mcp.example.com/mcp";
        check(serde_json::json!({"active": false}), Err("not active"));
        check(
            serde_json::json!({"active": true, "client_id": "agent", "aud": aud, "exp": exp, "scope": "b a"}),
            Ok("client:agent"),
        );
        check(
            serde_json::json!({"active": true, "sub": "u1", "aud": [aud, "other"], "iss": "https://auth.example.com"}),
            Ok("sub:u1"),
        );
        check(
            serde_json::json!({"active": true, "sub": "u1"}),
            Err("another audience"),
        );
        check(
            serde_json::json!({"active": true, "sub": "u1", "aud": "https://other.example/mcp"}),
            Err("another audience"),
        );
        check(
            serde_json::json!({"active": true, "sub": "u1", "aud": aud, "iss": "https://evil.example"}),
            Err("issuer"),
        );
        check(
            serde_json::json!({"active": true, "sub": "u1", "aud": aud, "exp": exp - 1200}),
            Err("expired"),
        );
    }
}
