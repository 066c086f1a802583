//! MCP over stdio with a gate in front of rmcp: every line the client sends is
//! checked before rmcp sees it, so malformed JSON, a message that is not
//! JSON-RPC, an over-long line or one nested too deep gets a JSON-RPC error
//! reply (`"id": null` when none can be read) instead of silence. When the
//! client closes stdin the server ends, even with calls in flight.

use std::time::Duration;

use anyhow::Context;
use rmcp::ServiceExt;
use rmcp::model::ClientJsonRpcMessage;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::McpServer;
use super::jsonrpc;

/// How long answers to calls in flight may still be written after the client
/// closed stdin.
const DRAIN_AFTER_EOF: Duration = Duration::from_secs(2);

/// Serve MCP on this process's stdin and stdout until the client closes stdin.
pub async fn serve(server: McpServer, max_message_bytes: usize) -> anyhow::Result<()> {
    serve_on(
        server,
        tokio::io::stdin(),
        tokio::io::stdout(),
        max_message_bytes,
    )
    .await
}

/// Serve MCP on any byte streams (stdin/stdout in production, pipes in tests).
pub async fn serve_on<R, W>(
    server: McpServer,
    input: R,
    output: W,
    max_message_bytes: usize,
) -> anyhow::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    // gate → rmcp, and rmcp → writer.
    let (to_rmcp, rmcp_input) = tokio::io::duplex(1 << 16);
    let (rmcp_output, from_rmcp) = tokio::io::duplex(1 << 16);
    let (lines, queued) = mpsc::channel::<Vec<u8>>(64);

    let writer = tokio::spawn(write_lines(queued, output));
    let relay = tokio::spawn(relay_lines(from_rmcp, lines.clone()));
    let gate = tokio::spawn(gate(input, to_rmcp, lines, max_message_bytes));

    let running = server
        .serve((rmcp_input, rmcp_output))
        .await
        .context("MCP handshake over stdio")?;
    let token = running.cancellation_token();
    let stop_on_eof = tokio::spawn(async move {
        // The gate ends when the client closes stdin: give answers in flight a
        // moment, then stop whatever is still running.
        let _ = gate.await;
        tokio::time::sleep(DRAIN_AFTER_EOF).await;
        token.cancel();
    });
    let _ = running.waiting().await;
    stop_on_eof.abort();
    let _ = relay.await;
    let _ = writer.await;
    Ok(())
}

/// Read the client's lines; pass valid JSON-RPC messages on to rmcp, answer
/// everything else with an error. Ends at end of input.
async fn gate<R: AsyncRead + Unpin>(
    input: R,
    mut to_rmcp: tokio::io::DuplexStream,
    replies: mpsc::Sender<Vec<u8>>,
    max_message_bytes: usize,
) {
    let mut input = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        line.clear();
        let (complete, over) = match read_line(&mut input, &mut line, max_message_bytes).await {
            Ok(read) => read,
            Err(_) => break,
        };
        if over {
            let error = jsonrpc::error(
                Value::Null,
                jsonrpc::INVALID_REQUEST,
                &format!("message over {max_message_bytes} bytes; it was discarded"),
            );
            let _ = replies.send(error).await;
        } else if let Some(reply) = check(&line) {
            let _ = replies.send(reply).await;
        } else {
            line.push(b'\n');
            if to_rmcp.write_all(&line).await.is_err() {
                break;
            }
        }
        if !complete {
            break;
        }
    }
    let _ = to_rmcp.shutdown().await;
}

/// One line into `line` (without its newline), keeping at most `max` bytes.
/// Returns (a newline ended it, it was longer than `max`); an empty
/// incomplete line means end of input.
async fn read_line<R: AsyncBufReadExt + Unpin>(
    input: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(bool, bool)> {
    let mut over = false;
    loop {
        let buf = input.fill_buf().await?;
        if buf.is_empty() {
            return if line.is_empty() && !over {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            } else {
                Ok((false, over))
            };
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !over && line.len() + chunk.len() <= max {
            line.extend_from_slice(chunk);
        } else {
            over = true;
            line.clear();
        }
        let used = done.unwrap_or(buf.len());
        input.consume(used);
        if done.is_some() {
            return Ok((true, over));
        }
    }
}

/// The error reply a line deserves, or `None` when rmcp should have it.
fn check(line: &[u8]) -> Option<Vec<u8>> {
    let text = line.trim_ascii();
    if text.is_empty() {
        return None;
    }
    // The common case costs one parse: a valid message goes straight on.
    let Err(invalid) = serde_json::from_slice::<ClientJsonRpcMessage>(text) else {
        return None;
    };
    let value: Value = match serde_json::from_slice(text) {
        Ok(v) => v,
        Err(e) => {
            return Some(jsonrpc::error(
                Value::Null,
                jsonrpc::PARSE_ERROR,
                &format!("not valid JSON ({e})"),
            ));
        }
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    // A broken notification gets no answer: JSON-RPC never answers those.
    if value.get("method").is_some() && value.get("id").is_none() {
        tracing::warn!("dropped an invalid notification: {invalid}");
        return None;
    }
    Some(jsonrpc::error(
        id,
        jsonrpc::INVALID_REQUEST,
        &format!("not a valid MCP JSON-RPC message ({invalid})"),
    ))
}

/// rmcp's output, line by line, onto the writer's queue.
async fn relay_lines(from_rmcp: tokio::io::DuplexStream, lines: mpsc::Sender<Vec<u8>>) {
    let mut from_rmcp = BufReader::new(from_rmcp);
    loop {
        let mut line = Vec::new();
        match from_rmcp.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if lines.send(line).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// The only writer of the output: whole lines, flushed one at a time.
async fn write_lines<W: AsyncWrite + Unpin>(mut queued: mpsc::Receiver<Vec<u8>>, mut output: W) {
    while let Some(mut line) = queued.recv().await {
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        if output.write_all(&line).await.is_err() || output.flush().await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(line: &str) -> Option<Value> {
        check(line.as_bytes()).map(|b| serde_json::from_slice(&b).unwrap())
    }

    #[test]
    fn malformed_lines_get_errors_and_valid_ones_pass() {
        let r = reply("{\"jsonrpc\":\"2.0\",\"id\":1,").unwrap();
        assert_eq!(r["error"]["code"], json!(-32700));
        assert_eq!(r["id"], Value::Null);
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(reply(&deep).unwrap()["error"]["code"], json!(-32700));
        let r = reply(r#"{"jsonrpc":"2.0","id":7,"result":5,"method":3}"#).unwrap();
        assert_eq!(r["error"]["code"], json!(-32600));
        assert_eq!(r["id"], json!(7));
        assert!(reply(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).is_none());
        assert!(reply(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).is_none());
        assert!(reply("   ").is_none());
    }

    #[tokio::test]
    async fn over_long_lines_are_discarded_and_reading_goes_on() {
        let data = format!("{}\nshort\n", "x".repeat(100));
        let mut input = BufReader::new(data.as_bytes());
        let mut line = Vec::new();
        assert_eq!(
            read_line(&mut input, &mut line, 10).await.unwrap(),
            (true, true)
        );
        line.clear();
        assert_eq!(
            read_line(&mut input, &mut line, 10).await.unwrap(),
            (true, false)
        );
        assert_eq!(line, b"short");
        line.clear();
        assert!(
            read_line(&mut input, &mut line, 10).await.is_err(),
            "end of input"
        );
    }
}
