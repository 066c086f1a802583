//! One authorization server's signing keys: its metadata discovered (RFC 8414
//! `oauth-authorization-server`, then OpenID Connect discovery), its JWKS
//! fetched from the `jwks_uri` there, and cached. An unknown `kid` refreshes
//! the set (a key rotation), at most once per [`MIN_REFRESH`] so tokens with
//! made-up key ids cannot make the server hammer the issuer; the set is also
//! refetched once it is [`MAX_AGE`] old, so a withdrawn key stops working.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// The least time between two fetches of the key set.
pub const MIN_REFRESH: Duration = Duration::from_secs(10);
/// How long a fetched key set is used before it is fetched again.
pub const MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// How long one metadata or key set request may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest metadata document or key set read.
const MAX_DOCUMENT_BYTES: usize = 256 << 10;

/// A verification key and the algorithms it may verify.
pub struct Key {
    pub decoding: DecodingKey,
    pub algorithms: Vec<Algorithm>,
}

/// Why no key could be found for a token.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the token's key `{0}` is not in the issuer's key set")]
    Unknown(String),
    #[error("the token names no key (`kid`) and the issuer has several")]
    Ambiguous,
    #[error("the issuer's keys are unavailable: {0}")]
    Unavailable(String),
}

/// The cached keys of one issuer.
pub struct IssuerKeys {
    issuer: String,
    http: reqwest::Client,
    cached: RwLock<Cached>,
    /// Held while fetching, so concurrent misses fetch once.
    fetching: tokio::sync::Mutex<Option<url::Url>>,
}

#[derive(Default)]
struct Cached {
    keys: Arc<HashMap<String, Arc<Key>>>,
    /// The one key without a `kid`, or the only key, for tokens that name none.
    only: Option<Arc<Key>>,
    fetched: Option<Instant>,
}

impl IssuerKeys {
    pub fn new(issuer: &str, http: reqwest::Client) -> IssuerKeys {
        IssuerKeys {
            issuer: issuer.to_string(),
            http,
            cached: RwLock::new(Cached::default()),
            fetching: tokio::sync::Mutex::new(None),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key a token names (`kid`), fetching or refreshing the set when needed.
    pub async fn key(&self, kid: Option<&str>) -> Result<Arc<Key>, KeyError> {
        if let Some(key) = self.cached_key(kid, MAX_AGE) {
            return Ok(key);
        }
        let mut jwks_uri = self.fetching.lock().await;
        // Another request may have fetched while this one waited.
        let fetched = self.cached.read().expect("key cache lock").fetched;
        if let Some(key) = self.cached_key(kid, MAX_AGE) {
            return Ok(key);
        }
        if fetched.is_none_or(|at| at.elapsed() >= MIN_REFRESH)
            && let Err(e) = self.refresh(&mut jwks_uri).await
        {
            // An issuer that is briefly down does not stop keys already known.
            return self.cached_key(kid, Duration::MAX).ok_or(e);
        }
        self.cached_key(kid, Duration::MAX)
            .ok_or_else(|| match kid {
                Some(kid) => KeyError::Unknown(kid.to_string()),
                None => KeyError::Ambiguous,
            })
    }

    /// The cached key, if the set is younger than `max_age`.
    fn cached_key(&self, kid: Option<&str>, max_age: Duration) -> Option<Arc<Key>> {
        let cached = self.cached.read().expect("key cache lock");
        if cached.fetched.is_none_or(|at| at.elapsed() >= max_age) {
            return None;
        }
        match kid {
            Some(kid) => cached.keys.get(kid).cloned(),
            None => cached.only.clone(),
        }
    }

    async fn refresh(&self, jwks_uri: &mut Option<url::Url>) -> Result<(), KeyError> {
        let uri = match jwks_uri.clone() {
            Some(uri) => uri,
            None => {
                let uri = self.discover().await?;
                *jwks_uri = Some(uri.clone());
                uri
            }
        };
        let set = self.fetch_json(&uri).await;
        // A failed fetch still counts, so a down issuer is not asked on every request.
        let mut cached = self.cached.write().expect("key cache lock");
        cached.fetched = Some(Instant::now());
        let set = set.map_err(KeyError::Unavailable)?;
        let (keys, only) = parse_key_set(&set);
        tracing::info!(issuer = %self.issuer, keys = keys.len(), "fetched the issuer's signing keys");
        cached.keys = Arc::new(keys);
        cached.only = only;
        Ok(())
    }

    /// The `jwks_uri` from the issuer's metadata: RFC 8414 first, then
    /// OpenID Connect discovery (path inserted, then appended).
    async fn discover(&self) -> Result<url::Url, KeyError> {
        let mut tried = Vec::new();
        for url in metadata_urls(&self.issuer).map_err(KeyError::Unavailable)? {
            match self.fetch_json(&url).await {
                Ok(doc) => {
                    let issuer = doc.get("issuer").and_then(|v| v.as_str());
                    if issuer != Some(self.issuer.as_str()) {
                        tried.push(format!(
                            "{url} names issuer {issuer:?}, not `{}`",
                            self.issuer
                        ));
                        continue;
                    }
                    let uri = doc
                        .get("jwks_uri")
                        .and_then(|v| v.as_str())
                        .ok_or_else(|| KeyError::Unavailable(format!("{url} has no jwks_uri")))?;
                    return url::Url::parse(uri).map_err(|e| {
                        KeyError::Unavailable(format!("{url}: jwks_uri `{uri}` is not a URL ({e})"))
                    });
                }
                Err(why) => tried.push(why),
            }
        }
        Err(KeyError::Unavailable(format!(
            "no authorization server metadata for `{}`: {}",
            self.issuer,
            tried.join("; ")
        )))
    }

    async fn fetch_json(&self, url: &url::Url) -> Result<serde_json::Value, String> {
        let response = self
            .http
            .get(url.clone())
            .header("accept", "application/json")
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url}: HTTP {}", response.status().as_u16()));
        }
        let bytes = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{url}: over {MAX_DOCUMENT_BYTES} bytes"));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("{url}: not JSON ({e})"))
    }
}

/// Where an issuer's metadata may be, in the order the MCP specification
/// has clients try them.
pub fn metadata_urls(issuer: &str) -> Result<Vec<url::Url>, String> {
    let base = url::Url::parse(issuer).map_err(|e| format!("`{issuer}` is not a URL ({e})"))?;
    let path = base.path().trim_end_matches('/').to_string();
    let at = |p: String| {
        let mut u = base.clone();
        u.set_path(&p);
        u
    };
    let mut urls = vec![at(format!("/.well-known/oauth-authorization-server{path}"))];
    if path.is_empty() {
        urls.push(at("/.well-known/openid-configuration".into()));
    } else {
        urls.push(at(format!("/.well-known/openid-configuration{path}")));
        urls.push(at(format!("{path}/.well-known/openid-configuration")));
    }
    Ok(urls)
}

/// The signing keys of a JWKS by `kid`, and the key to use for tokens that
/// name none (the only signing key, or the only one without a `kid`).
/// Encryption keys, symmetric keys and keys this server cannot use are left out.
fn parse_key_set(set: &serde_json::Value) -> (HashMap<String, Arc<Key>>, Option<Arc<Key>>) {
    let mut keys = HashMap::new();
    let mut unnamed = Vec::new();
    let mut all = Vec::new();
    let listed = set
        .get("keys")
        .and_then(|k| k.as_array())
        .cloned()
        .unwrap_or_default();
    for value in listed {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        let Some(key) = usable_key(&jwk) else {
            continue;
        };
        let key = Arc::new(key);
        all.push(key.clone());
        match &jwk.common.key_id {
            Some(kid) => {
                keys.insert(kid.clone(), key);
            }
            None => unnamed.push(key),
        }
    }
    let only = match (unnamed.len(), all.len()) {
        (1, _) => unnamed.pop(),
        (0, 1) => all.pop(),
        _ => None,
    };
    (keys, only)
}

/// A JWK as a verification key with the algorithms its type allows
/// (narrowed to its `alg` when it has one); `None` for keys that are not
/// for signatures or are symmetric (never HS*: a public key is no secret).
fn usable_key(jwk: &Jwk) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    use Algorithm::*;
    let algorithms = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![RS256, RS384, RS512, PS256, PS384, PS512],
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![ES256],
            EllipticCurve::P384 => vec![ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => vec![EdDSA],
        _ => return None,
    };
    let algorithms = match jwk.common.key_algorithm {
        None => algorithms,
        Some(declared) => {
            let declared: Algorithm = format!("{declared:?}").parse().ok()?;
            algorithms.into_iter().filter(|a| *a == declared).collect()
        }
    };
    if algorithms.is_empty() {
        return None;
    }
    let decoding = DecodingKey::from_jwk(jwk).ok()?;
    Some(Key {
        decoding,
        algorithms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_looked_for_where_the_specification_says() {
        let shown = |issuer: &str| -> Vec<String> {
            metadata_urls(issuer)
                .unwrap()
                .iter()
                .map(|u| u.to_string())
                .collect()
        };
        assert_eq!(
            shown("https://auth.example.com"),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            shown("https://auth.example.com/realms/team/"),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/realms/team",
                "https://auth.example.com/.well-known/openid-configuration/realms/team",
                "https://auth.example.com/realms/team/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn only_signature_keys_of_known_types_are_kept() {
        let set = serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-256", "kid": "ec", "alg": "ES256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "crv": "P-256", "kid": "wrong-alg", "alg": "RS256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "nonsense"}
        ]});
        let (keys, only) = parse_key_set(&set);
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["ec"]);
        assert_eq!(keys["ec"].algorithms, [Algorithm::ES256]);
        assert!(
            only.is_some(),
            "the only signing key serves tokens without kid"
        );
    }
}
