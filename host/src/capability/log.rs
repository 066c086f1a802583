//! The `log` capability: a plugin's messages go to the host's tracing (stderr)
//! and, when a client is connected and asked for that level, to the client as
//! MCP `notifications/message`.

// MCP logging (notifications/message) is deprecated by SEP-2577 in newer
// protocol revisions but still what current clients show; keep it until they move.
#![allow(deprecated)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::{Peer, RoleServer};

use crate::bindings::log::Level;

/// Longest message forwarded; longer ones are cut.
const MAX_MESSAGE: usize = 4096;

/// The minimum level the client asked for with `logging/setLevel`
/// (0 debug, 1 info, 2 warning, 3 error; info until the client asks).
#[derive(Debug, Clone)]
pub struct ClientLevel(Arc<AtomicU8>);

impl Default for ClientLevel {
    fn default() -> Self {
        ClientLevel(Arc::new(AtomicU8::new(1)))
    }
}

impl ClientLevel {
    pub fn set(&self, level: LoggingLevel) {
        let rank = match level {
            LoggingLevel::Debug => 0,
            LoggingLevel::Info | LoggingLevel::Notice => 1,
            LoggingLevel::Warning => 2,
            _ => 3,
        };
        self.0.store(rank, Ordering::Relaxed);
    }

    fn allows(&self, rank: u8) -> bool {
        rank >= self.0.load(Ordering::Relaxed)
    }
}

/// Where one call's log messages go.
#[derive(Clone, Default)]
pub struct LogSink {
    pub plugin: String,
    pub peer: Option<Peer<RoleServer>>,
    pub client_level: ClientLevel,
}

impl LogSink {
    pub async fn log(&self, level: Level, message: String) {
        let message: String = message.chars().take(MAX_MESSAGE).collect();
        let plugin = self.plugin.as_str();
        let (rank, mcp_level) = match level {
            Level::Trace => {
                tracing::trace!(plugin, "{message}");
                (0, LoggingLevel::Debug)
            }
            Level::Debug => {
                tracing::debug!(plugin, "{message}");
                (0, LoggingLevel::Debug)
            }
            Level::Info => {
                tracing::info!(plugin, "{message}");
                (1, LoggingLevel::Info)
            }
            Level::Warn => {
                tracing::warn!(plugin, "{message}");
                (2, LoggingLevel::Warning)
            }
            Level::Error => {
                tracing::error!(plugin, "{message}");
                (3, LoggingLevel::Error)
            }
        };
        if let Some(peer) = &self.peer
            && self.client_level.allows(rank)
        {
            let param =
                LoggingMessageNotificationParam::new(mcp_level, serde_json::Value::String(message))
                    .with_logger(format!("plugin:{plugin}"));
            let _ = peer.notify_logging_message(param).await;
        }
    }
}
