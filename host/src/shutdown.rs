//! Graceful shutdown for `serve`: on SIGTERM or ctrl-c, new calls are refused
//! (`/readyz` says so), calls in flight get `[server] shutdown_grace_ms` to
//! finish and send their answers, then the server stops.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::app::App;
use crate::metrics::metrics;

/// How long the last answers get to be written once calls are done, and
/// `serving` to end once what stayed open is closed.
const FLUSH: Duration = Duration::from_millis(500);

/// Resolves on SIGTERM or ctrl-c (SIGINT).
pub async fn signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// Run `serving` until it ends, or until a signal: then refuse new calls and
/// call `stopping` (stop accepting connections), wait for calls in flight
/// (at most the grace period), give their answers a moment to go out, call
/// `drained` (close what stays open), and give `serving` a moment to end.
pub async fn serve_until_signal<F>(
    app: &App,
    serving: F,
    stopping: impl FnOnce(),
    drained: impl FnOnce(),
) -> anyhow::Result<()>
where
    F: Future<Output = anyhow::Result<()>>,
{
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => return result,
        () = signal() => {}
    }
    let grace = app.config.server.shutdown_grace;
    tracing::info!(
        in_flight = metrics().calls_in_flight(),
        "stopping: new calls are refused; calls in flight have {} ms to finish",
        grace.as_millis()
    );
    app.stop_accepting();
    stopping();
    let deadline = Instant::now() + grace;
    tokio::select! {
        result = &mut serving => return result,
        finished = calls_done(deadline) => {
            if !finished {
                tracing::warn!(
                    in_flight = metrics().calls_in_flight(),
                    "calls still running at the end of the grace period are abandoned"
                );
            }
        }
    }
    // A finished call's answer may still be on its way (over HTTP, from the
    // call through its session to the response stream): closing the sessions
    // now could cut it off. Connections that close on their own end this wait
    // early.
    tokio::select! {
        result = &mut serving => return result,
        () = tokio::time::sleep(FLUSH) => {}
    }
    drained();
    tokio::select! {
        result = &mut serving => result,
        () = tokio::time::sleep(FLUSH) => Ok(()),
    }
}

/// Whether every call in flight finished before `deadline`.
async fn calls_done(deadline: Instant) -> bool {
    while metrics().calls_in_flight() > 0 {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}
