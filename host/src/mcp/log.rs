//! Plugin log messages as MCP `notifications/message`, sent to a session only
//! at the levels it asked for with `logging/setLevel`. Until it asks, only
//! warnings and errors go out: a client that never wanted logs does not pay
//! for them on every call (everything still reaches stderr).

// MCP logging (notifications/message) is deprecated by SEP-2577 in newer
// protocol revisions but still what current clients show; keep it until they move.
#![allow(deprecated)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::{Peer, RoleServer};

use crate::bindings::log::Level;
use crate::capability::log::{ClientLog, severity as rank};

/// The lowest rank a session wants; warnings until it sets a level.
#[derive(Debug, Clone)]
pub struct ClientLevel(Arc<AtomicU8>);

impl Default for ClientLevel {
    fn default() -> Self {
        ClientLevel(Arc::new(AtomicU8::new(2)))
    }
}

impl ClientLevel {
    /// Record the level of a `logging/setLevel`.
    pub fn set(&self, level: LoggingLevel) {
        let rank = match level {
            LoggingLevel::Debug => 0,
            LoggingLevel::Info | LoggingLevel::Notice => 1,
            LoggingLevel::Warning => 2,
            _ => 3,
        };
        self.0.store(rank, Ordering::Relaxed);
    }
}

/// One session's log destination.
pub struct SessionLog {
    pub peer: Peer<RoleServer>,
    pub level: ClientLevel,
}

impl ClientLog for SessionLog {
    fn wants(&self, level: Level) -> bool {
        rank(level) >= self.level.0.load(Ordering::Relaxed)
    }

    fn send<'a>(
        &'a self,
        plugin: &'a str,
        level: Level,
        message: String,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        let level = match level {
            Level::Trace | Level::Debug => LoggingLevel::Debug,
            Level::Info => LoggingLevel::Info,
            Level::Warn => LoggingLevel::Warning,
            Level::Error => LoggingLevel::Error,
        };
        let param = LoggingMessageNotificationParam::new(level, serde_json::Value::String(message))
            .with_logger(format!("plugin:{plugin}"));
        Box::pin(async move {
            let _ = self.peer.notify_logging_message(param).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_warnings_and_errors_until_the_client_sets_a_level() {
        let level = ClientLevel::default();
        let wants = |l: &ClientLevel, lv: Level| rank(lv) >= l.0.load(Ordering::Relaxed);
        assert!(!wants(&level, Level::Info) && !wants(&level, Level::Debug));
        assert!(wants(&level, Level::Warn) && wants(&level, Level::Error));
        level.set(LoggingLevel::Debug);
        assert!(wants(&level, Level::Debug) && wants(&level, Level::Info));
        level.set(LoggingLevel::Error);
        assert!(!wants(&level, Level::Warn) && wants(&level, Level::Error));
    }
}
