//! A small HTTP proxy in front of a real server that answers 404 for chosen API paths,
//! to stand for Prometheus-compatible backends (Thanos Querier, Mimir, VictoriaMetrics)
//! that lack `/api/v1/targets`, `/api/v1/rules` or `/api/v1/metadata`.

use anyhow::Result;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Starts the proxy on a free loopback port in front of `127.0.0.1:<upstream>`; a GET
/// whose path starts with one of `missing` gets `404 page not found`, any other is
/// forwarded. Returns the port. It runs on the current tokio runtime.
pub async fn start(upstream: u16, missing: &'static [&'static str]) -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(forward(client, upstream, missing));
        }
    });
    Ok(port)
}

async fn forward(mut client: TcpStream, upstream: u16, missing: &[&str]) -> Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
        if client.read(&mut byte).await? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let target = head.split(' ').nth(1).unwrap_or_default().to_string();
    let path = target.split('?').next().unwrap_or_default();
    if missing.iter().any(|m| path.starts_with(m)) {
        let body = "404 page not found\n";
        let answer = format!(
            "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        client.write_all(answer.as_bytes()).await?;
    } else {
        let mut server = TcpStream::connect(("127.0.0.1", upstream)).await?;
        let request =
            format!("GET {target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
        server.write_all(request.as_bytes()).await?;
        tokio::io::copy(&mut server, &mut client).await?;
    }
    client.shutdown().await?;
    Ok(())
}
