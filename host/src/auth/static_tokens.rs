//! Static bearer tokens, for small teams without an authorization server:
//! named in `[[server.auth.tokens]]`, their values read from the environment
//! once. A presented token is compared with every configured one in
//! constant time (over their SHA-256 digests, so neither the length nor the
//! position of a first difference shows in the timing).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::caller::Principal;
use crate::config::StaticToken;

/// The usable static tokens, as digests.
pub struct StaticTokens {
    tokens: Vec<Entry>,
}

struct Entry {
    name: String,
    digest: [u8; 32],
    scopes: Vec<String>,
}

impl StaticTokens {
    /// The tokens whose value is available; disabled ones are logged by name.
    pub fn new(configured: &[StaticToken]) -> StaticTokens {
        let mut tokens = Vec::new();
        for t in configured {
            match &t.value {
                Ok(secret) => tokens.push(Entry {
                    name: t.name.clone(),
                    digest: Sha256::digest(secret.expose().as_bytes()).into(),
                    scopes: t.scopes.clone(),
                }),
                Err(why) => tracing::warn!("{why}"),
            }
        }
        StaticTokens { tokens }
    }

    /// The holder of `presented`, if it is one of the tokens. Every token is
    /// compared, whichever matches.
    pub fn check(&self, presented: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for entry in &self.tokens {
            if bool::from(entry.digest.ct_eq(&digest)) {
                found = Some(entry);
            }
        }
        found.map(|e| Principal::static_token(&e.name, e.scopes.clone()))
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn token(name: &str, value: Result<&str, &str>) -> StaticToken {
        StaticToken {
            name: name.into(),
            value: value.map(Secret::new).map_err(String::from),
            scopes: vec!["read".into()],
        }
    }

    #[test]
    fn only_an_exact_configured_value_matches() {
        let tokens = StaticTokens::new(&[
            token("ci", Ok("ci-token-0123456789abcdefghij")),
            token("ops", Ok("ops-token-0123456789abcdefghij")),
            token("off", Err("unset")),
        ]);
        let cases = [
            ("ci-token-0123456789abcdefghij", Some("token:ci")),
            ("ops-token-0123456789abcdefghij", Some("token:ops")),
            ("ci-token-0123456789abcdefghi", None),
            ("ci-token-0123456789abcdefghijk", None),
            ("", None),
            ("unset", None),
        ];
        for (presented, expected) in cases {
            let got = tokens.check(presented).map(|p| p.name);
            assert_eq!(got.as_deref(), expected, "{presented}");
        }
        assert_eq!(
            tokens
                .check("ops-token-0123456789abcdefghij")
                .unwrap()
                .scopes,
            ["read"]
        );
    }
}
