//! Progress of long calls: when a `tools/call` carries a `progressToken`, the host
//! sends `notifications/progress` every [`INTERVAL`] while the call runs, the seconds
//! elapsed as its progress and no total (a plugin does not report how far it is), so a
//! client can show the call is alive rather than time it out. Nothing is sent for a
//! call that ends within the first interval.

use std::time::Duration;

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use tokio::time::Instant;

/// Time between two progress notifications.
pub const INTERVAL: Duration = Duration::from_secs(2);

/// Report progress on `token` until dropped (it never ends by itself).
pub async fn report(peer: Peer<RoleServer>, token: ProgressToken) {
    let started = Instant::now();
    let mut ticks = tokio::time::interval_at(started + INTERVAL, INTERVAL);
    loop {
        ticks.tick().await;
        let seconds = started.elapsed().as_secs_f64().round();
        let param = ProgressNotificationParam::new(token.clone(), seconds)
            .with_message(format!("running for {seconds:.0} s"));
        if peer.notify_progress(param).await.is_err() {
            // The client is gone: the call's own cancellation ends it.
            std::future::pending::<()>().await;
        }
    }
}
