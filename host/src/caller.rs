//! Who a call comes from, as the front end that received it knows: the
//! authenticated identity (if the transport authenticates), the client's
//! self-declared name, the MCP session and the transport. The core reads it
//! for the audit trail and access decisions; it never learns protocol types.

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
#[derive(Debug, Clone, Default, Serialize)]
pub struct Caller {
    /// The authenticated identity (token subject, client id or static token
    /// name); `None` where the transport does not authenticate.
    pub identity: Option<String>,
    /// The name the client gave in `initialize` (`clientInfo.name`).
    pub client: Option<String>,
    /// The MCP session id, where the transport has sessions.
    pub session: Option<String>,
    pub transport: Transport,
}
