//! One call (a tool, or a prompt, resource or completion request): a fresh store
//! and instance from the plugin's `InstancePre`,
//! under a wall-clock deadline (epoch yields plus a host-side timeout that also
//! covers time in host calls), a memory cap and an output cap. Whatever
//! happens, the caller gets an outcome it can show; the host keeps serving.

use std::sync::Arc;

use wasmtime::{Store, UpdateDeadline};

use super::LoadedPlugin;
use super::exports::{Reply, Request};
use crate::bindings::{ToolError, ToolResult};
use crate::capability::log::LogSink;
use crate::capability::state::CallState;
use crate::engine::Runtime;
use crate::outcome::OutcomeKind;

/// A tool call that ran to an answer (which may itself be an error result).
pub type CallOutcome = Result<ToolResult, CallError>;

/// Why a call produced no answer. Every message names the plugin and, for
/// limits, the limit and how to change it.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("plugin `{plugin}`: invalid arguments: {message}")]
    InvalidArguments { plugin: String, message: String },
    #[error("plugin `{plugin}` failed: {message}")]
    Failed { plugin: String, message: String },
    #[error("plugin `{plugin}` has no tool `{tool}`")]
    UnknownTool { plugin: String, tool: String },
    #[error(
        "plugin `{plugin}` exceeded its time limit: no answer within {limit_ms} ms (call_timeout_ms); the call was stopped. Narrow the request, or raise call_timeout_ms in [plugins.{plugin}]"
    )]
    Timeout { plugin: String, limit_ms: u128 },
    #[error(
        "plugin `{plugin}` exceeded its memory limit of {limit_mib} MiB (memory_mib); the call was stopped. Narrow the request, or raise memory_mib in [plugins.{plugin}]"
    )]
    Memory { plugin: String, limit_mib: u64 },
    #[error(
        "plugin `{plugin}` returned {size} bytes, over its output limit of {limit} bytes (max_output_bytes); narrow the request (a limit, a shorter range, a filter)"
    )]
    Output {
        plugin: String,
        size: u64,
        limit: u64,
    },
    #[error(
        "plugin `{plugin}` crashed (trap): {message}; the host is unaffected, and other calls continue"
    )]
    Trap { plugin: String, message: String },
    #[error("plugin `{plugin}` could not start: {message}")]
    Instantiate { plugin: String, message: String },
}

impl CallError {
    /// How the call ended: the plugin's own errors are its answer; the rest
    /// produced none.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            CallError::InvalidArguments { .. } => OutcomeKind::InvalidArguments,
            CallError::Failed { .. } | CallError::UnknownTool { .. } => OutcomeKind::ToolError,
            CallError::Timeout { .. }
            | CallError::Memory { .. }
            | CallError::Output { .. }
            | CallError::Trap { .. }
            | CallError::Instantiate { .. } => OutcomeKind::Failed,
        }
    }

    /// The limit that stopped the call, as metrics name it.
    pub fn limit(&self) -> Option<&'static str> {
        match self {
            CallError::Timeout { .. } => Some("timeout"),
            CallError::Memory { .. } => Some("memory"),
            CallError::Output { .. } => Some("output"),
            _ => None,
        }
    }
}

/// A store for one call, with the limiter and epoch behaviour every call uses.
pub fn new_store(runtime: &Runtime, state: CallState) -> Store<CallState> {
    let mut store = Store::new(&runtime.engine, state);
    store.limiter(|s| &mut s.limits);
    // Yield to the async executor at every epoch tick: the host-side timeout
    // then ends a guest that never returns by dropping its future.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
    store
}

/// Run tool `tool` of `plugin` with `arguments` (a JSON object as text).
pub async fn call(
    runtime: &Runtime,
    plugin: &Arc<LoadedPlugin>,
    tool: &str,
    arguments: String,
    log: LogSink,
) -> CallOutcome {
    let request = Request::Tool {
        name: tool.into(),
        arguments,
    };
    match ask(runtime, plugin, &request, log).await? {
        Reply::Tool(answer) => Ok(answer),
        other => Err(CallError::Failed {
            plugin: plugin.name.clone(),
            message: format!("answered a tool call with {other:?}"),
        }),
    }
}

/// Ask `request` of `plugin` in a fresh instance, under the plugin's limits.
pub async fn ask(
    runtime: &Runtime,
    plugin: &Arc<LoadedPlugin>,
    request: &Request,
    log: LogSink,
) -> Result<Reply, CallError> {
    let name = plugin.name.clone();
    let limits = plugin.limits;
    let state = CallState::new(plugin.grants.clone(), log, limits.memory_bytes).map_err(|e| {
        CallError::Instantiate {
            plugin: name.clone(),
            message: format!("{e:#}"),
        }
    })?;
    let mut store = new_store(runtime, state);
    let run = async {
        let instance = plugin
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| (true, e))?;
        plugin
            .exports
            .invoke(&mut store, &instance, request)
            .await
            .map_err(|e| (false, e))
    };
    let outcome = tokio::time::timeout(limits.call_timeout, run).await;
    if let Some((level, note)) = store.data().log_budget.dropped_note() {
        let sink = store.data().log.clone();
        sink.log(level, note).await;
    }
    let result = match outcome {
        Err(_) => {
            return Err(CallError::Timeout {
                plugin: name,
                limit_ms: limits.call_timeout.as_millis(),
            });
        }
        Ok(Err((true, e))) => {
            return Err(CallError::Instantiate {
                plugin: name,
                message: format!("{e:#}"),
            });
        }
        Ok(Err((false, e))) => {
            return Err(classify_trap(
                &name,
                &e,
                store.data().limits.memory_denied(),
                &store.data().stderr_text(),
                limits.memory_bytes,
            ));
        }
        Ok(Ok(r)) => r,
    };
    match result {
        Ok(answer) => {
            let size = answer.size();
            if size > limits.max_output_bytes {
                return Err(CallError::Output {
                    plugin: name,
                    size,
                    limit: limits.max_output_bytes,
                });
            }
            Ok(answer)
        }
        Err(e) => Err(tool_error(name, e, limits.max_output_bytes)),
    }
}

/// A plugin's own error, its text held to the output cap like any answer.
fn tool_error(plugin: String, e: ToolError, limit: u64) -> CallError {
    match e {
        ToolError::InvalidArguments(message) => CallError::InvalidArguments {
            plugin,
            message: cap_message(message, limit),
        },
        ToolError::UnknownTool(tool) => CallError::UnknownTool {
            plugin,
            tool: cap_message(tool, limit),
        },
        ToolError::Failed(message) => CallError::Failed {
            plugin,
            message: cap_message(message, limit),
        },
    }
}

/// `message` cut to at most `limit` bytes (note included) when it is longer,
/// with a note that says so and names the limit.
pub fn cap_message(message: String, limit: u64) -> String {
    let size = message.len() as u64;
    if size <= limit {
        return message;
    }
    let note = format!(
        "… [error text cut: {size} bytes, over the output limit of {limit} bytes (max_output_bytes)]"
    );
    let keep = usize::try_from(limit.saturating_sub(note.len() as u64)).unwrap_or(usize::MAX);
    let mut end = keep.min(message.len());
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{note}", &message[..end])
}

/// What a trap means: the memory cap when the limiter refused a growth
/// during the call, else a crash with the plugin's own last words.
fn classify_trap(
    plugin: &str,
    e: &wasmtime::Error,
    memory_denied: bool,
    stderr: &str,
    memory_bytes: u64,
) -> CallError {
    let text = format!("{e:#}");
    if memory_denied {
        return CallError::Memory {
            plugin: plugin.into(),
            limit_mib: memory_bytes >> 20,
        };
    }
    // A Rust plugin's panic message is on stderr; the trap itself says little.
    let first_line = text.lines().next().unwrap_or("unknown trap").to_string();
    let message = if stderr.is_empty() {
        first_line
    } else {
        let (panic, _) = crate::text::truncate(stderr, 1000);
        format!("{first_line}; the plugin said: {panic}")
    };
    CallError::Trap {
        plugin: plugin.into(),
        message,
    }
}

/// Bytes of everything the client will receive.
pub fn output_size(result: &ToolResult) -> u64 {
    Reply::Tool(result.clone()).size()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::plugin::load::tests::{load, test_plugin};

    /// Call `tool` of the `misbehave` test plugin, loaded with `limits` (TOML keys).
    async fn misbehave(limits: &str, tool: &str, arguments: &str) -> CallOutcome {
        let section = format!(
            "[plugins.misbehave]\npath = \"{}\"\n{limits}\n",
            test_plugin("misbehave").display()
        );
        let (runtime, loaded) = load(&section).await;
        let plugin = loaded.unwrap().remove(0);
        call(
            &runtime,
            &plugin,
            tool,
            arguments.into(),
            LogSink::default(),
        )
        .await
    }

    #[tokio::test]
    async fn an_answer_comes_back_as_the_plugin_gave_it() {
        let answer = misbehave("", "ok", "{}").await.unwrap();
        assert!(!answer.is_error);
        assert!(
            matches!(&answer.content[..], [crate::bindings::Content::Text(t)] if t == "still fine")
        );
        assert_eq!(output_size(&answer), "still fine".len() as u64);
    }

    #[tokio::test]
    async fn an_answer_over_the_output_cap_is_refused_with_its_size() {
        let outcome = misbehave("max_output_bytes = 2000", "flood", r#"{"bytes": 2001}"#).await;
        match outcome {
            Err(CallError::Output { size, limit, .. }) => assert_eq!((size, limit), (2001, 2000)),
            other => panic!("{other:?}"),
        }
        // At the cap exactly, the answer passes.
        let answer = misbehave("max_output_bytes = 2000", "flood", r#"{"bytes": 2000}"#).await;
        assert_eq!(output_size(&answer.unwrap()), 2000);
    }

    #[tokio::test]
    async fn the_plugins_own_error_text_is_held_to_the_output_cap() {
        let outcome = misbehave("max_output_bytes = 2000", "fail_big", r#"{"bytes": 5000}"#).await;
        match outcome {
            Err(CallError::Failed { plugin, message }) => {
                assert_eq!(plugin, "misbehave");
                assert!(
                    message.len() <= 2000 && message.starts_with("eee"),
                    "{message}"
                );
                assert!(message.contains("5000 bytes"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_panic_is_a_trap_with_the_plugins_last_words() {
        match misbehave("", "crash", "{}").await {
            Err(CallError::Trap { message, .. }) => {
                assert!(
                    message.contains("deliberate panic for the tests"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn unbounded_allocation_is_the_memory_limit_not_a_crash() {
        match misbehave("memory_mib = 16", "hog", "{}").await {
            Err(CallError::Memory { limit_mib, .. }) => assert_eq!(limit_mib, 16),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_loop_ends_at_the_deadline() {
        let started = Instant::now();
        match misbehave("call_timeout_ms = 300", "spin", "{}").await {
            Err(CallError::Timeout { limit_ms, .. }) => assert_eq!(limit_ms, 300),
            other => panic!("{other:?}"),
        }
        // Loading takes part of this; the call itself stops at 300 ms.
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[tokio::test]
    async fn arguments_the_plugin_cannot_read_are_its_invalid_arguments() {
        match misbehave("", "flood", r#"{"bytes": "many"}"#).await {
            Err(CallError::InvalidArguments { message, .. }) => {
                assert!(
                    message.contains(r#"invalid type: string "many""#),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn output_size_counts_text_structured_and_base64_images() {
        let result = ToolResult {
            content: vec![
                crate::bindings::Content::Text("abc".into()),
                crate::bindings::Content::Image(crate::bindings::Image {
                    data: vec![0; 300],
                    mime_type: "image/png".into(),
                }),
            ],
            structured: Some("{}".into()),
            is_error: false,
        };
        assert_eq!(output_size(&result), 3 + 400 + 9 + 2);
    }

    #[test]
    fn each_limit_message_names_its_setting_and_section() {
        let cases = [
            CallError::Timeout {
                plugin: "p".into(),
                limit_ms: 5,
            },
            CallError::Memory {
                plugin: "p".into(),
                limit_mib: 5,
            },
        ];
        for (error, setting) in cases.iter().zip(["call_timeout_ms", "memory_mib"]) {
            let text = error.to_string();
            assert!(
                text.contains(setting) && text.contains("[plugins.p]"),
                "{text}"
            );
        }
        let output = CallError::Output {
            plugin: "p".into(),
            size: 9,
            limit: 5,
        };
        assert!(output.to_string().contains("max_output_bytes"));
    }

    #[test]
    fn error_text_is_held_to_the_output_cap() {
        assert_eq!(cap_message("short".into(), 100), "short");
        let long = "é".repeat(5000); // 10 000 bytes, two per char
        let cut = cap_message(long.clone(), 1000);
        assert!(cut.len() <= 1000, "{} bytes", cut.len());
        assert!(cut.starts_with("éé"));
        assert!(
            cut.ends_with("[error text cut: 10000 bytes, over the output limit of 1000 bytes (max_output_bytes)]"),
            "{cut}"
        );
        // A cap smaller than the note still says why.
        assert!(cap_message(long, 10).contains("max_output_bytes"));
    }
}
