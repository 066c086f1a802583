//! The host's own metrics, in the Prometheus text format, every name prefixed
//! `plue_mcp_`: calls by plugin, tool and outcome, their durations, the limits
//! that stopped them, backend requests by capability and resource, whether
//! each backend answered last time, calls in flight, sessions, and what is
//! loaded (plugins with version and sha256, the build). One process-wide set,
//! fed from the few places that know each fact (the call path, the capabilities,
//! the front ends); `deploy/prometheus/rules/plue-mcp-*.yml` reads these names.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::caller::Transport;
use crate::outcome::OutcomeKind;

/// The `Content-Type` of what [`Metrics::encode`] returns.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds (seconds) of the call duration buckets: a cached lookup to a
/// call stopped at a generous deadline.
const CALL_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Upper bounds (seconds) of the backend request buckets.
const BACKEND_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    plugin: String,
    tool: String,
    outcome: &'static str,
    /// The HTTP-style status of the outcome, so tools built for request
    /// metrics (`error_analysis`) read the host's calls: 5xx are the calls
    /// that gave no answer through no fault of their arguments.
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    plugin: String,
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    plugin: String,
    tool: String,
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendRequestLabels {
    plugin: String,
    capability: &'static str,
    resource: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceLabels {
    capability: &'static str,
    resource: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpLabels {
    plugin: String,
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportLabels {
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
    version: String,
    sha256: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// How one backend request ended, as `plue_mcp_backend_requests_total` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendResult {
    /// An answer (any HTTP status, rows).
    Ok,
    /// Refused by the host's policy before anything was sent.
    Refused,
    /// The backend could not be reached (or is not configured).
    Unreachable,
    Timeout,
    /// The answer was over the response cap or the host's memory budget.
    TooLarge,
    /// The backend answered with an error (an SQL error).
    Error,
    /// The database stopped the statement at its statement timeout.
    StatementTimeout,
}

impl BackendResult {
    fn as_str(self) -> &'static str {
        match self {
            BackendResult::Ok => "ok",
            BackendResult::Refused => "refused",
            BackendResult::Unreachable => "unreachable",
            BackendResult::Timeout => "timeout",
            BackendResult::TooLarge => "too_large",
            BackendResult::Error => "error",
            BackendResult::StatementTimeout => "statement_timeout",
        }
    }

    /// Whether the backend answered: `None` when nothing was sent.
    fn reached(self) -> Option<bool> {
        match self {
            BackendResult::Refused => None,
            BackendResult::Unreachable | BackendResult::Timeout => Some(false),
            BackendResult::Ok
            | BackendResult::TooLarge
            | BackendResult::Error
            | BackendResult::StatementTimeout => Some(true),
        }
    }
}

/// The process's metrics; [`metrics`] returns the one instance.
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    call_duration: HistogramFamily<ToolLabels>,
    limit_hits: Family<LimitLabels, Counter>,
    unknown_tool_calls: Counter,
    backend_requests: Family<BackendRequestLabels, Counter>,
    backend_duration: HistogramFamily<ResourceLabels>,
    backend_up: Family<UpLabels, Gauge>,
    /// Whether each (plugin, endpoint) answered last time, for `/readyz`.
    backend_state: Mutex<BTreeMap<(String, String), bool>>,
    in_flight: Gauge,
    sessions: Family<TransportLabels, Gauge>,
    plugins: Family<PluginLabels, Gauge>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

/// The HTTP-style status of an outcome (by its audit name, so a kind added
/// later falls into 5xx until it is named here).
pub fn status(kind: OutcomeKind) -> &'static str {
    match kind.as_str() {
        "ok" => "200",
        "invalid_arguments" => "400",
        "denied" => "403",
        "unknown_tool" => "404",
        "cancelled" => "499",
        "tool_error" => "502",
        "refused" => "503",
        _ => "500",
    }
}

fn transport_name(transport: Transport) -> &'static str {
    match transport {
        Transport::Stdio => "stdio",
        Transport::Http => "http",
        Transport::Cli => "cli",
    }
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("plue_mcp");
        let calls = Family::default();
        registry.register(
            "calls",
            "Tool calls by plugin, tool and outcome (status: the outcome as an HTTP-style code)",
            calls.clone(),
        );
        let call_duration: HistogramFamily<ToolLabels> =
            Family::new_with_constructor(|| Histogram::new(CALL_BUCKETS));
        registry.register(
            "call_duration_seconds",
            "Wall time of a tool call, from its arrival at the host to its answer",
            call_duration.clone(),
        );
        let limit_hits = Family::default();
        registry.register(
            "limit_hits",
            "Calls stopped by a limit (timeout, memory, output)",
            limit_hits.clone(),
        );
        let unknown_tool_calls = Counter::default();
        registry.register(
            "unknown_tool_calls",
            "Calls naming a tool that no plugin provides",
            unknown_tool_calls.clone(),
        );
        let backend_requests = Family::default();
        registry.register(
            "backend_requests",
            "Requests plugins made through a capability (http, sql) to a named resource",
            backend_requests.clone(),
        );
        let backend_duration: HistogramFamily<ResourceLabels> =
            Family::new_with_constructor(|| Histogram::new(BACKEND_BUCKETS));
        registry.register(
            "backend_request_duration_seconds",
            "Duration of a backend request, by capability and resource",
            backend_duration.clone(),
        );
        let backend_up = Family::default();
        registry.register(
            "backend_up",
            "1 when the plugin's last request reached the endpoint, 0 when it could not (or it is not configured)",
            backend_up.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "calls_in_flight",
            "Tool calls running now",
            in_flight.clone(),
        );
        let sessions = Family::default();
        registry.register("sessions", "Open MCP sessions", sessions.clone());
        let plugins = Family::default();
        registry.register(
            "plugin_info",
            "Loaded plugins: name, version and the sha256 of the component",
            plugins.clone(),
        );
        registry.register(
            "build",
            "The plue-mcp build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics {
            registry,
            calls,
            call_duration,
            limit_hits,
            unknown_tool_calls,
            backend_requests,
            backend_duration,
            backend_up,
            backend_state: Mutex::new(BTreeMap::new()),
            in_flight,
            sessions,
            plugins,
        }
    }

    /// The text `/metrics` serves.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }

    /// A finished call; `limit` names the limit that stopped it, if one did.
    pub fn call(
        &self,
        plugin: &str,
        tool: &str,
        kind: OutcomeKind,
        seconds: f64,
        limit: Option<&'static str>,
    ) {
        self.calls
            .get_or_create(&CallLabels {
                plugin: plugin.into(),
                tool: tool.into(),
                outcome: kind.as_str(),
                status: status(kind),
            })
            .inc();
        self.call_duration
            .get_or_create(&ToolLabels {
                plugin: plugin.into(),
                tool: tool.into(),
            })
            .observe(seconds);
        if let Some(limit) = limit {
            self.limit_hits
                .get_or_create(&LimitLabels {
                    plugin: plugin.into(),
                    tool: tool.into(),
                    limit,
                })
                .inc();
        }
    }

    /// A call naming a tool nobody provides (not labelled by the name: a
    /// client chooses it).
    pub fn unknown_tool(&self) {
        self.unknown_tool_calls.inc();
    }

    /// One request of `plugin` through `capability` to `resource`.
    pub fn backend(
        &self,
        plugin: &str,
        capability: &'static str,
        resource: &str,
        result: BackendResult,
        seconds: f64,
    ) {
        self.backend_requests
            .get_or_create(&BackendRequestLabels {
                plugin: plugin.into(),
                capability,
                resource: resource.into(),
                result: result.as_str(),
            })
            .inc();
        if let Some(reached) = result.reached() {
            self.backend_duration
                .get_or_create(&ResourceLabels {
                    capability,
                    resource: resource.into(),
                })
                .observe(seconds);
            self.set_backend_up(plugin, resource, reached);
        }
    }

    /// Record whether `plugin` reached `endpoint` (a probe, or a request).
    pub fn set_backend_up(&self, plugin: &str, endpoint: &str, up: bool) {
        self.backend_up
            .get_or_create(&UpLabels {
                plugin: plugin.into(),
                endpoint: endpoint.into(),
            })
            .set(i64::from(up));
        if let Ok(mut state) = self.backend_state.lock() {
            state.insert((plugin.into(), endpoint.into()), up);
        }
    }

    /// (plugin, endpoint) pairs whose last request did not reach the backend.
    pub fn backends_down(&self) -> Vec<(String, String)> {
        self.backend_state
            .lock()
            .map(|state| {
                state
                    .iter()
                    .filter(|(_, up)| !**up)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A loaded plugin.
    pub fn plugin_loaded(&self, name: &str, version: &str, sha256: &str) {
        self.plugins
            .get_or_create(&PluginLabels {
                plugin: name.into(),
                version: version.into(),
                sha256: sha256.into(),
            })
            .set(1);
    }

    /// Counts a call as running until the guard is dropped.
    pub fn call_started(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Calls running now.
    pub fn calls_in_flight(&self) -> i64 {
        self.in_flight.get()
    }

    /// Counts a session open until the guard is dropped.
    pub fn session_opened(&self, transport: Transport) -> Session {
        let gauge = self.sessions.get_or_create_owned(&TransportLabels {
            transport: transport_name(transport),
        });
        gauge.inc();
        Session(gauge)
    }
}

/// A running call, for `plue_mcp_calls_in_flight`.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// An open session, for `plue_mcp_sessions`.
pub struct Session(Gauge);

impl Drop for Session {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_labels_and_types_are_what_the_shipped_rules_read() {
        let m = Metrics::new();
        m.call("prometheus", "query", OutcomeKind::Ok, 0.02, None);
        m.call(
            "misbehave",
            "spin",
            OutcomeKind::Failed,
            1.2,
            Some("timeout"),
        );
        m.backend(
            "prometheus",
            "http",
            "prom",
            BackendResult::Unreachable,
            0.1,
        );
        m.plugin_loaded("prometheus", "0.1.0", "ab12");
        let guard = m.call_started();
        let text = m.encode();
        for line in [
            "# TYPE plue_mcp_calls_total counter",
            r#"plue_mcp_calls_total{plugin="prometheus",tool="query",outcome="ok",status="200"} 1"#,
            r#"plue_mcp_calls_total{plugin="misbehave",tool="spin",outcome="failed",status="500"} 1"#,
            "# TYPE plue_mcp_call_duration_seconds histogram",
            r#"plue_mcp_call_duration_seconds_bucket{plugin="prometheus",tool="query",le="0.025"} 1"#,
            r#"plue_mcp_call_duration_seconds_count{plugin="misbehave",tool="spin"} 1"#,
            r#"plue_mcp_limit_hits_total{plugin="misbehave",tool="spin",limit="timeout"} 1"#,
            r#"plue_mcp_backend_requests_total{plugin="prometheus",capability="http",resource="prom",result="unreachable"} 1"#,
            r#"plue_mcp_backend_request_duration_seconds_count{capability="http",resource="prom"} 1"#,
            r#"plue_mcp_backend_up{plugin="prometheus",endpoint="prom"} 0"#,
            "plue_mcp_calls_in_flight 1",
            r#"plue_mcp_plugin_info{plugin="prometheus",version="0.1.0",sha256="ab12"} 1"#,
            concat!(
                r#"plue_mcp_build_info{version=""#,
                env!("CARGO_PKG_VERSION"),
                r#""} 1"#
            ),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in:\n{text}"
            );
        }
        drop(guard);
        assert_eq!(m.calls_in_flight(), 0);
        assert_eq!(
            m.backends_down(),
            [("prometheus".to_string(), "prom".to_string())]
        );
        m.backend("prometheus", "http", "prom", BackendResult::Ok, 0.1);
        assert!(m.backends_down().is_empty());
    }

    #[test]
    fn statuses_follow_outcomes() {
        let cases = [
            (OutcomeKind::Ok, "200"),
            (OutcomeKind::InvalidArguments, "400"),
            (OutcomeKind::ToolError, "502"),
            (OutcomeKind::Failed, "500"),
            (OutcomeKind::PluginDefect, "500"),
            (OutcomeKind::Refused, "503"),
            (OutcomeKind::Cancelled, "499"),
            (OutcomeKind::UnknownTool, "404"),
            (OutcomeKind::Denied, "403"),
        ];
        for (kind, expected) in cases {
            assert_eq!(status(kind), expected, "{kind:?}");
        }
    }
}
