//! The record of one tool call: its audit line and its metrics, kept exactly
//! once whatever happens to the call. A call that ends is recorded by
//! [`CallRecord::finish`] before its answer is returned; a call whose future is
//! dropped first (the client cancelled it, or went away) is recorded by the
//! guard's `Drop` as `cancelled`. While it lives it counts as in flight.

use std::time::Instant;

use crate::audit::{Effect, Served, Trail};
use crate::caller::Caller;
use crate::metrics::{InFlight, metrics};
use crate::outcome::{Outcome, OutcomeKind};
use crate::plugin::LoadedPlugin;

/// A call in progress, from the moment its tool was found.
pub struct CallRecord<'a> {
    trail: &'a Trail,
    caller: &'a Caller,
    tool: &'a str,
    plugin: &'a LoadedPlugin,
    /// The arguments as the plugin receives them (JSON text).
    arguments: String,
    started: Instant,
    finished: bool,
    _in_flight: InFlight,
}

impl<'a> CallRecord<'a> {
    pub fn start(
        trail: &'a Trail,
        caller: &'a Caller,
        tool: &'a str,
        plugin: &'a LoadedPlugin,
        arguments: String,
    ) -> CallRecord<'a> {
        CallRecord {
            trail,
            caller,
            tool,
            plugin,
            arguments,
            started: Instant::now(),
            finished: false,
            _in_flight: metrics().call_started(),
        }
    }

    /// The arguments' JSON text, serialised once for the plugin and the trail.
    pub fn arguments(&self) -> &str {
        &self.arguments
    }

    /// Record the outcome. `structured_bytes` is the length of the structured
    /// content as the plugin sent it; `limit` names the limit that stopped
    /// the call, if one did.
    pub fn finish(
        mut self,
        outcome: &Outcome,
        structured_bytes: usize,
        limit: Option<&'static str>,
    ) {
        self.finished = true;
        let bytes = crate::audit::returned_bytes(outcome, structured_bytes);
        self.write(outcome.kind, bytes, limit);
    }

    /// Record a request that is not a tool call (a prompt, a read, a completion):
    /// how it ended and the bytes it returned.
    pub fn finish_with(mut self, kind: OutcomeKind, bytes: usize, limit: Option<&'static str>) {
        self.finished = true;
        self.write(kind, bytes, limit);
    }

    fn write(&self, kind: OutcomeKind, bytes: usize, limit: Option<&'static str>) {
        let elapsed = self.started.elapsed().as_secs_f64();
        metrics().call(&self.plugin.name, self.tool, kind, elapsed, limit);
        let served = Served {
            plugin: &self.plugin.name,
            sha256: &self.plugin.digest,
        };
        let effect = Effect {
            kind,
            duration_ms: elapsed * 1000.0,
            bytes,
        };
        self.trail.record(
            self.caller,
            self.tool,
            Some(served),
            effect,
            &self.arguments,
        );
    }
}

impl Drop for CallRecord<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.write(OutcomeKind::Cancelled, 0, None);
        }
    }
}

/// Record a call naming a tool no plugin provides.
pub fn unknown_tool(trail: &Trail, caller: &Caller, tool: &str, arguments: &serde_json::Value) {
    metrics().unknown_tool();
    let effect = Effect {
        kind: OutcomeKind::UnknownTool,
        duration_ms: 0.0,
        bytes: 0,
    };
    trail.record(caller, tool, None, effect, &arguments.to_string());
}
