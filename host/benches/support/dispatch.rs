//! The per-call cost of a plugin without any backend: a fresh instance and a dispatch to a
//! tool that does not exist, timed call by call. Shared by the benches that report it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use plue_mcp::app::App;
use plue_mcp::capability::log::LogSink;
use plue_mcp::plugin::LoadedPlugin;

/// `warmup + samples` calls of `plugin`; the times of the last `samples`.
pub async fn instantiate_and_dispatch(
    app: &App,
    plugin: &Arc<LoadedPlugin>,
    warmup: usize,
    samples: usize,
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let t = Instant::now();
        let r = plue_mcp::plugin::call::call(
            &app.runtime,
            plugin,
            "no_such_tool",
            "{}".into(),
            LogSink::default(),
        )
        .await;
        assert!(
            matches!(r, Err(plue_mcp::plugin::CallError::UnknownTool { .. })),
            "{r:?}"
        );
        if i >= warmup {
            times.push(t.elapsed());
        }
    }
    times
}
