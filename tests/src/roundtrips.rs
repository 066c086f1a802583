//! A TCP relay on a free loopback port that counts round trips: how many times
//! the client starts talking again after the server answered. Put in front of
//! PostgreSQL, it shows how many times a read waits on the database, whatever
//! the protocol messages were. A round trip made of a lone `Sync` message
//! (PostgreSQL's simplest exchange, what a pool sends to check a connection)
//! is counted apart, as a health check.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running relay; it stops with the test's runtime.
pub struct RoundTrips {
    port: u16,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    all: AtomicU64,
    syncs: AtomicU64,
}

/// The whole of a PostgreSQL `Sync` message.
const SYNC: &[u8] = b"S\0\0\0\x04";

impl RoundTrips {
    /// Relay every connection on a free loopback port to `127.0.0.1:target`.
    pub async fn start(target: u16) -> Result<RoundTrips> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the round-trip relay")?;
        let port = listener.local_addr()?.port();
        let counts = Arc::new(Counts::default());
        let counter = counts.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await else {
                    continue;
                };
                tokio::spawn(relay(client, server, counter.clone()));
            }
        });
        Ok(RoundTrips { port, counts })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Round trips so far, over every connection, health checks excluded.
    pub fn count(&self) -> u64 {
        self.counts.all.load(Ordering::SeqCst) - self.health_checks()
    }

    /// Round trips that were a lone `Sync`: a pool checking a connection.
    pub fn health_checks(&self) -> u64 {
        self.counts.syncs.load(Ordering::SeqCst)
    }
}

async fn relay(client: TcpStream, server: TcpStream, counts: Arc<Counts>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    // Whether the server spoke last on this connection: the next bytes from
    // the client then start a new round trip.
    let server_spoke = Arc::new(AtomicBool::new(true));
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let spoke = server_spoke.clone();
    let upstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if spoke.swap(false, Ordering::SeqCst) {
                counts.all.fetch_add(1, Ordering::SeqCst);
                if &buf[..n] == SYNC {
                    counts.syncs.fetch_add(1, Ordering::SeqCst);
                }
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let downstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            server_spoke.store(true, Ordering::SeqCst);
            if client_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}
