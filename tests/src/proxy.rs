//! A small HTTP proxy in front of a real server, deciding per request whether to
//! forward it (to which path) or answer itself: it stands for
//! Prometheus-compatible backends that lack `/api/v1/targets`, `/api/v1/rules` or
//! `/api/v1/metadata` (Thanos Querier, Mimir, VictoriaMetrics), and for a
//! Prometheus served under a path prefix behind a bearer token.

use std::sync::Arc;

use anyhow::Result;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one request.
pub enum Route {
    /// GET this path and query upstream and relay the answer.
    Forward(String),
    /// Answer with this status line (`404 Not Found`) and body.
    Answer(&'static str, &'static str),
}

/// Starts the proxy on a free loopback port in front of `127.0.0.1:<upstream>`; a GET
/// whose path starts with one of `missing` gets `404 page not found`, any other is
/// forwarded. Returns the port. It runs on the current tokio runtime.
pub async fn start(upstream: u16, missing: &'static [&'static str]) -> Result<u16> {
    start_routed(upstream, move |_head, target| {
        let path = target.split('?').next().unwrap_or_default();
        if missing.iter().any(|m| path.starts_with(m)) {
            Route::Answer("404 Not Found", "404 page not found\n")
        } else {
            Route::Forward(target.to_string())
        }
    })
    .await
}

/// Starts the proxy with `route` deciding from each request's head (request
/// line and headers) and target (path and query). Returns the port.
pub async fn start_routed<F>(upstream: u16, route: F) -> Result<u16>
where
    F: Fn(&str, &str) -> Route + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let route = Arc::new(route);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(forward(client, upstream, route.clone()));
        }
    });
    Ok(port)
}

async fn forward<F>(mut client: TcpStream, upstream: u16, route: Arc<F>) -> Result<()>
where
    F: Fn(&str, &str) -> Route,
{
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
        if client.read(&mut byte).await? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let target = head.split(' ').nth(1).unwrap_or_default();
    match route(&head, target) {
        Route::Answer(status, body) => {
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            client.write_all(answer.as_bytes()).await?;
        }
        Route::Forward(target) => {
            let mut server = TcpStream::connect(("127.0.0.1", upstream)).await?;
            let request =
                format!("GET {target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
            server.write_all(request.as_bytes()).await?;
            tokio::io::copy(&mut server, &mut client).await?;
        }
    }
    client.shutdown().await?;
    Ok(())
}
