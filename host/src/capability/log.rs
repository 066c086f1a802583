//! The `log` capability: a plugin's messages go to the host's tracing (stderr)
//! and, when a client is connected and asked for that level, to the client as
//! MCP `notifications/message`. A plugin cannot flood either: each call and
//! each plugin has a message budget, and its text is escaped so a line break
//! or a terminal sequence in it cannot pass for a host log line.

// MCP logging (notifications/message) is deprecated by SEP-2577 in newer
// protocol revisions but still what current clients show; keep it until they move.
#![allow(deprecated)]

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::{Peer, RoleServer};

use crate::bindings::log::Level;

/// Longest message forwarded, in characters; longer ones are cut.
pub const MAX_MESSAGE: usize = 4096;
/// Messages one call may log; later ones are dropped and counted.
pub const MAX_CALL_MESSAGES: u32 = 100;
/// Bytes of messages one call may log; later ones are dropped and counted.
pub const MAX_CALL_BYTES: usize = 64 << 10;
/// Messages one plugin may log per second, across all its calls.
pub const MAX_PLUGIN_RATE: u32 = 100;

/// What one call has logged so far, and what it lost to the limits.
#[derive(Debug, Default)]
pub struct CallBudget {
    messages: u32,
    bytes: usize,
    dropped: u64,
}

impl CallBudget {
    /// Whether a message of `len` bytes may go out, counting it either way.
    pub fn admit(&mut self, len: usize, rate: &PluginRate) -> bool {
        let within_call =
            self.messages < MAX_CALL_MESSAGES && self.bytes.saturating_add(len) <= MAX_CALL_BYTES;
        if within_call && rate.admit(Instant::now()) {
            self.messages += 1;
            self.bytes += len;
            true
        } else {
            self.dropped += 1;
            false
        }
    }

    /// The one note that replaces the dropped messages, if any were.
    pub fn dropped_note(&self) -> Option<String> {
        (self.dropped > 0).then(|| {
            format!(
                "{} log messages dropped (limits: {MAX_CALL_MESSAGES} messages and {} KiB per call, {MAX_PLUGIN_RATE} messages per second per plugin)",
                self.dropped,
                MAX_CALL_BYTES >> 10
            )
        })
    }
}

/// One plugin's message rate, shared by all its calls: at most
/// [`MAX_PLUGIN_RATE`] messages in any one-second window.
#[derive(Debug, Clone, Default)]
pub struct PluginRate(Arc<Mutex<Option<(Instant, u32)>>>);

impl PluginRate {
    fn admit(&self, now: Instant) -> bool {
        let mut window = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *window {
            Some((start, count)) if now.duration_since(*start) < Duration::from_secs(1) => {
                *count += 1;
                *count <= MAX_PLUGIN_RATE
            }
            _ => {
                *window = Some((now, 1));
                true
            }
        }
    }
}

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
        let (message, _) = crate::text::truncate(&message, MAX_MESSAGE);
        let message = crate::text::escape_controls(&message);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_logs_a_bounded_number_of_messages_then_one_note() {
        let rate = PluginRate::default();
        let mut budget = CallBudget::default();
        assert_eq!(budget.dropped_note(), None);
        let sent = (0..1000).filter(|_| budget.admit(10, &rate)).count();
        assert_eq!(sent, MAX_CALL_MESSAGES as usize);
        let note = budget.dropped_note().unwrap();
        assert!(note.starts_with("900 log messages dropped"), "{note}");
    }

    #[test]
    fn a_call_logs_a_bounded_number_of_bytes() {
        let rate = PluginRate::default();
        let mut budget = CallBudget::default();
        let sent = (0..100).filter(|_| budget.admit(4096, &rate)).count();
        assert_eq!(sent, MAX_CALL_BYTES / 4096);
    }

    #[test]
    fn a_plugin_logs_a_bounded_number_of_messages_per_second() {
        let rate = PluginRate::default();
        let start = Instant::now();
        let sent = (0..MAX_PLUGIN_RATE * 3)
            .filter(|_| rate.admit(start))
            .count();
        assert_eq!(sent, MAX_PLUGIN_RATE as usize);
        assert!(rate.admit(start + Duration::from_millis(1001)));
    }
}
