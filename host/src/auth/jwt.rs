//! A JWT access token checked locally: its signature with the issuer's key
//! (asymmetric algorithms only, the one the key allows: never `none`, never
//! HMAC with a public key), `iss`, `exp` and `nbf` with a small leeway, and
//! an audience that names this server's resource URI (RFC 8707), so a token
//! minted for another service is refused. What it says about its holder
//! becomes a [`Principal`].

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::Deserialize;

use super::jwks::Key;
use crate::caller::Principal;

/// Why a token is refused (shown to the client as `error_description`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued for another audience (it must name this server's resource URI)")]
    Audience,
    #[error("the token's issuer is not accepted")]
    Issuer,
    #[error("the token lacks the `{0}` claim")]
    Missing(String),
}

/// What a token must say to be accepted here.
pub struct Expected<'a> {
    pub issuer: &'a str,
    /// This server's resource URI.
    pub audience: &'a str,
    pub leeway_s: u64,
}

/// The claims this server reads.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    client_id: Option<String>,
    azp: Option<String>,
    /// Space-separated (RFC 9068 / RFC 8693).
    scope: Option<String>,
    /// A list, as some issuers send.
    scp: Option<Scopes>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Text(String),
}

/// The header of a token, or why it is not a JWT this server accepts
/// (`alg: none` fails here: no such algorithm is known).
pub fn header(token: &str) -> Result<Header, JwtError> {
    jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)
}

/// The `iss` a token claims, unverified: only to choose whose keys to check it with.
pub fn claimed_issuer(token: &str) -> Result<String, JwtError> {
    #[derive(Deserialize)]
    struct Iss {
        iss: Option<String>,
    }
    let data =
        jsonwebtoken::dangerous::insecure_decode::<Iss>(token).map_err(|_| JwtError::Malformed)?;
    data.claims
        .iss
        .ok_or_else(|| JwtError::Missing("iss".into()))
}

/// Verify `token` (whose header is `header`) with `key` against `expected`.
pub fn verify(
    token: &str,
    header: &Header,
    key: &Key,
    expected: &Expected<'_>,
) -> Result<Principal, JwtError> {
    let alg: Algorithm = header.alg;
    if !key.algorithms.contains(&alg) {
        return Err(JwtError::Algorithm);
    }
    let mut validation = Validation::new(alg);
    validation.algorithms = vec![alg];
    validation.leeway = expected.leeway_s;
    validation.validate_nbf = true;
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
        .map_err(|e| refusal(e.into_kind()))?;
    let c = data.claims;
    let mut scopes: Vec<String> = c
        .scope
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_string)
        .collect();
    match c.scp {
        Some(Scopes::List(list)) => scopes.extend(list),
        Some(Scopes::Text(text)) => scopes.extend(text.split_whitespace().map(str::to_string)),
        None => {}
    }
    scopes.sort();
    scopes.dedup();
    Ok(Principal::from_claims(c.sub, c.client_id.or(c.azp), scopes))
}

fn refusal(kind: jsonwebtoken::errors::ErrorKind) -> JwtError {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => JwtError::Expired,
        K::ImmatureSignature => JwtError::NotYetValid,
        K::InvalidAudience => JwtError::Audience,
        K::InvalidIssuer => JwtError::Issuer,
        K::MissingRequiredClaim(c) => JwtError::Missing(c),
        K::InvalidAlgorithm | K::MissingAlgorithm | K::InvalidAlgorithmName => JwtError::Algorithm,
        K::InvalidSignature | K::InvalidEcdsaKey | K::InvalidRsaKey(_) | K::InvalidEddsaKey => {
            JwtError::Signature
        }
        _ => JwtError::Malformed,
    }
}
