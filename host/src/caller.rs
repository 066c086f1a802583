//! Who a call comes from, as the front end that received it knows: the
//! authenticated principal (if the transport authenticates), the client's
//! self-declared name, the MCP session and the transport. The core reads it
//! for the audit trail and access decisions; it never learns protocol types.

use std::sync::Arc;

use serde::Serialize;

/// The transport a call arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Stdio,
    Http,
    /// The CLI's one-shot `call`.
    #[default]
    Cli,
}

/// The caller of one tool call.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// Who presented a valid token; `None` where the transport does not
    /// authenticate (stdio, the CLI, HTTP without `[server.auth]`).
    pub principal: Option<Arc<Principal>>,
    /// The name the client gave in `initialize` (`clientInfo.name`).
    pub client: Option<String>,
    /// The MCP session id, where the transport has sessions.
    pub session: Option<String>,
    pub transport: Transport,
}

impl Caller {
    /// The principal's display name (`token:ci`, `sub:…`, `client:…`).
    pub fn identity(&self) -> Option<&str> {
        self.principal.as_deref().map(|p| p.name.as_str())
    }
}

/// An authenticated identity: what a static token or a validated access
/// token says about its holder. Never holds the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// How the audit trail and messages name it: `token:NAME` for a static
    /// token, else `sub:SUBJECT`, else `client:CLIENT_ID`.
    pub name: String,
    /// The token's `sub`.
    pub subject: Option<String>,
    /// The OAuth client the token was issued to (`client_id`, or `azp`).
    pub client_id: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The static token's configured name.
    pub token_name: Option<String>,
}

impl Principal {
    /// The holder of the static token named `name`.
    pub fn static_token(name: &str, scopes: Vec<String>) -> Principal {
        Principal {
            name: format!("token:{name}"),
            subject: None,
            client_id: None,
            scopes,
            token_name: Some(name.to_string()),
        }
    }

    /// The holder of an access token with these claims.
    pub fn from_claims(
        subject: Option<String>,
        client_id: Option<String>,
        scopes: Vec<String>,
    ) -> Principal {
        let name = match (&subject, &client_id) {
            (Some(sub), _) => format!("sub:{sub}"),
            (None, Some(client)) => format!("client:{client}"),
            (None, None) => "anonymous-token".to_string(),
        };
        Principal {
            name,
            subject,
            client_id,
            scopes,
            token_name: None,
        }
    }

    /// Every name `[[access]]` rules can match this principal by:
    /// `token:…`, `sub:…`, `client:…` and one `scope:…` per scope.
    pub fn identities(&self) -> Vec<String> {
        let mut names = Vec::new();
        if let Some(t) = &self.token_name {
            names.push(format!("token:{t}"));
        }
        if let Some(s) = &self.subject {
            names.push(format!("sub:{s}"));
        }
        if let Some(c) = &self.client_id {
            names.push(format!("client:{c}"));
        }
        names.extend(self.scopes.iter().map(|s| format!("scope:{s}")));
        names
    }

    /// Whether every scope of `required` was granted.
    pub fn has_scopes(&self, required: &[String]) -> bool {
        required.iter().all(|r| self.scopes.contains(r))
    }
}
