//! The `log` capability: a plugin's messages go to the host's tracing (stderr)
//! and, through a protocol-free [`ClientLog`] the front end provides, to a
//! connected client that wants them. A plugin cannot flood either: each call
//! and each plugin has a message budget, and its text is escaped so a line
//! break or a terminal sequence in it cannot pass for a host log line.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bindings::log::Level;

/// Longest message forwarded, in characters; longer ones are cut.
pub const MAX_MESSAGE: usize = 4096;
/// Messages one call may log; later ones are dropped and counted.
pub const MAX_CALL_MESSAGES: u32 = 100;
/// Bytes of messages one call may log; later ones are dropped and counted.
pub const MAX_CALL_BYTES: usize = 64 << 10;
/// Messages one plugin may log per second, across all its calls.
pub const MAX_PLUGIN_RATE: u32 = 100;

/// Rank of a level: 0 trace and debug, 1 info, 2 warning, 3 error.
pub fn severity(level: Level) -> u8 {
    match level {
        Level::Trace | Level::Debug => 0,
        Level::Info => 1,
        Level::Warn => 2,
        Level::Error => 3,
    }
}

/// What one call has logged so far, and what it lost to the limits.
#[derive(Debug, Default)]
pub struct CallBudget {
    messages: u32,
    bytes: usize,
    dropped: u64,
    /// The most severe level among the dropped messages.
    dropped_level: Option<Level>,
}

impl CallBudget {
    /// Whether a message of `len` bytes at `level` may go out, counting it
    /// either way.
    pub fn admit(&mut self, len: usize, level: Level, rate: &PluginRate) -> bool {
        let within_call =
            self.messages < MAX_CALL_MESSAGES && self.bytes.saturating_add(len) <= MAX_CALL_BYTES;
        if within_call && rate.admit(Instant::now()) {
            self.messages += 1;
            self.bytes += len;
            true
        } else {
            self.dropped += 1;
            if self
                .dropped_level
                .is_none_or(|worst| severity(level) > severity(worst))
            {
                self.dropped_level = Some(level);
            }
            false
        }
    }

    /// The one note that replaces the dropped messages, if any were, at the
    /// level of the most severe of them: it goes where they would have gone,
    /// so a client that would not have received them (one that never set a
    /// level, when a busy plugin's info messages pass its rate) is not sent
    /// news of their loss on every call either.
    pub fn dropped_note(&self) -> Option<(Level, String)> {
        let level = self.dropped_level?;
        Some((
            level,
            format!(
                "{} log messages dropped (limits: {MAX_CALL_MESSAGES} messages and {} KiB per call, {MAX_PLUGIN_RATE} messages per second per plugin)",
                self.dropped,
                MAX_CALL_BYTES >> 10
            ),
        ))
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

/// A client that may receive plugin log messages: the front end decides
/// which levels it wants and how they travel.
pub trait ClientLog: Send + Sync {
    /// Whether a message at `level` should be sent at all.
    fn wants(&self, level: Level) -> bool;
    /// Send one (already escaped, bounded) message from `plugin`.
    fn send<'a>(
        &'a self,
        plugin: &'a str,
        level: Level,
        message: String,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// Where one call's log messages go.
#[derive(Clone, Default)]
pub struct LogSink {
    pub plugin: String,
    pub client: Option<Arc<dyn ClientLog>>,
}

impl LogSink {
    pub async fn log(&self, level: Level, message: String) {
        let (message, _) = crate::text::truncate(&message, MAX_MESSAGE);
        let message = crate::text::escape_controls(&message);
        let plugin = self.plugin.as_str();
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
        if let Some(client) = &self.client
            && client.wants(level)
        {
            client.send(plugin, level, message).await;
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
        assert!(budget.dropped_note().is_none());
        let sent = (0..1000)
            .filter(|_| budget.admit(10, Level::Warn, &rate))
            .count();
        assert_eq!(sent, MAX_CALL_MESSAGES as usize);
        let (level, note) = budget.dropped_note().unwrap();
        assert!(note.starts_with("900 log messages dropped"), "{note}");
        assert_eq!(severity(level), severity(Level::Warn));
    }

    #[test]
    fn the_note_has_the_level_of_the_most_severe_message_dropped() {
        let rate = PluginRate::default();
        let mut budget = CallBudget::default();
        for level in [Level::Debug, Level::Info] {
            (0..MAX_CALL_MESSAGES * 2).for_each(|_| {
                budget.admit(10, level, &rate);
            });
        }
        let (level, _) = budget.dropped_note().unwrap();
        assert_eq!(
            severity(level),
            severity(Level::Info),
            "infos dropped: an info note"
        );
        budget.admit(10, Level::Error, &rate);
        budget.admit(10, Level::Debug, &rate);
        let (level, note) = budget.dropped_note().unwrap();
        assert_eq!(severity(level), severity(Level::Error), "{note}");
    }

    #[test]
    fn a_call_logs_a_bounded_number_of_bytes() {
        let rate = PluginRate::default();
        let mut budget = CallBudget::default();
        let sent = (0..100)
            .filter(|_| budget.admit(4096, Level::Info, &rate))
            .count();
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
