//! The connections kept open to one PostgreSQL database between reads. sqlx's
//! own pool pings every connection handed back to it: one more round trip
//! after every read, which wakes the host and PostgreSQL once more and, on a
//! small machine, takes the CPU the next call needs. Here a connection goes
//! back to the idle list only when its read ran to completion; a read that was
//! cancelled or lost its connection closes it, and a connection that died
//! while idle is found by the next read, which `Database::query` retries once
//! on a fresh one. Connections are opened lazily, so a database that is down
//! never stops the host. The caller bounds how many are leased at once
//! (`Database`'s slots), and a new one is opened only when none is idle, so
//! there are never more than that. A connection idle past its timeout is
//! closed by the next lease or by a reaper task, whichever comes first, so a
//! host nobody calls does not hold the database's connections for ever.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions as _, Connection as _};

/// A database's connections: the options to open one, the idle ones.
pub struct Connections {
    options: PgConnectOptions,
    /// Idle connections and when each was handed back, the most recent last.
    idle: std::sync::Mutex<Vec<(PgConnection, Instant)>>,
    /// Idle longer than this, a connection is closed instead of reused.
    idle_timeout: Duration,
    /// How long opening a connection (TCP, TLS, authentication) may take.
    connect_timeout: Duration,
}

/// One connection lent to a read. Dropped, it is closed; [`Lease::give_back`]
/// keeps it for the next read.
pub struct Lease<'a> {
    conn: Option<PgConnection>,
    home: &'a Connections,
}

impl Connections {
    /// The connections to the database `options` name, none open yet; with a
    /// runtime at hand, a reaper closes those idle past `idle_timeout` until
    /// the connections are dropped.
    pub fn new(
        options: PgConnectOptions,
        idle_timeout: Duration,
        connect_timeout: Duration,
    ) -> Arc<Connections> {
        let connections = Arc::new(Connections {
            options,
            idle: std::sync::Mutex::new(Vec::new()),
            idle_timeout,
            connect_timeout,
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(reap(Arc::downgrade(&connections), idle_timeout));
        }
        connections
    }

    /// The most recently used idle connection, or a new one. A timeout while
    /// connecting is reported as `PoolTimedOut`.
    pub async fn lease(&self) -> Result<Lease<'_>, sqlx::Error> {
        let conn = match self.take_idle() {
            Some(conn) => conn,
            None => tokio::time::timeout(self.connect_timeout, self.options.connect())
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)??,
        };
        Ok(Lease {
            conn: Some(conn),
            home: self,
        })
    }

    /// The most recent idle connection, after closing those idle past the
    /// timeout.
    fn take_idle(&self) -> Option<PgConnection> {
        self.close_stale();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.pop().map(|(conn, _)| conn)
    }

    /// Close the connections idle past the timeout: the oldest, at the front
    /// of the list, since hand-back times only grow.
    fn close_stale(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let stale =
            idle.partition_point(|(_, since)| now.duration_since(*since) >= self.idle_timeout);
        let closing: Vec<_> = idle.drain(..stale).collect();
        drop(idle);
        for (conn, _) in closing {
            close(conn);
        }
    }

    /// Close every idle connection: one was found dead, so the server went
    /// away and the others are dead too.
    pub fn forget_idle(&self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        drop(idle);
    }

    /// How many connections are idle (for tests).
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }
}

impl Lease<'_> {
    /// Keep the connection for the next read: its read ran to completion (rows
    /// left unread by a cut are drained by sqlx before the next statement).
    pub fn give_back(mut self) {
        if let Some(conn) = self.conn.take() {
            let mut idle = self.home.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push((conn, Instant::now()));
        }
    }
}

impl std::ops::Deref for Lease<'_> {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.conn
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl std::ops::DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }
}

/// Close idle connections past `idle_timeout`, looking a few times per timeout
/// (at most once a minute, at least every 50 ms), until the connections are
/// gone.
async fn reap(connections: Weak<Connections>, idle_timeout: Duration) {
    let period = (idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(60));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        match connections.upgrade() {
            Some(connections) => connections.close_stale(),
            None => return,
        }
    }
}

/// Say goodbye to the server in the background (a dropped connection would
/// just close its socket, which PostgreSQL logs as an unexpected EOF).
fn close(conn: PgConnection) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let _ = conn.close().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a port nothing listens on: no connection is ever made, and the
    /// failure is reported, not hung on.
    #[tokio::test]
    async fn a_database_that_is_down_is_an_error_and_leaves_nothing_idle() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let options: PgConnectOptions = format!("postgres://nobody@127.0.0.1:{port}/db")
            .parse()
            .unwrap();
        let connections =
            Connections::new(options, Duration::from_secs(300), Duration::from_secs(5));
        assert!(connections.lease().await.is_err());
        assert_eq!(connections.idle_count(), 0);
    }
}
