//! MCP over stdio with a gate in front of rmcp: every line the client sends is
//! checked before rmcp sees it, so malformed JSON, a message that is not
//! JSON-RPC, an over-long line or one nested too deep gets a JSON-RPC error
//! reply (`"id": null` when none can be read) instead of silence. When the
//! client closes stdin the server ends, even with calls in flight.
//!
//! Built for latency: one thread reads stdin and hands rmcp each message
//! already parsed (parsed once, by the gate); an answer is written to stdout by
//! the task that serialised it when the pipe has room and nothing is queued, and
//! otherwise by a writer thread, line by line. A call thus costs one thread
//! wake-up besides its own work, where tokio's stdin and stdout (which read and
//! write on the blocking pool) and a pipe into rmcp's own line reader cost
//! several more.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::RoleServer;
use rmcp::transport::Transport;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::McpServer;
use super::jsonrpc;

/// How long answers to calls in flight may still be written after the client
/// closed stdin.
const DRAIN_AFTER_EOF: Duration = Duration::from_secs(2);

/// How long the end of the session waits for its last lines to be written.
const FLUSH_AT_END: Duration = Duration::from_secs(2);

/// Serve MCP on this process's stdin and stdout until the client closes stdin.
pub async fn serve(server: McpServer, max_message_bytes: usize) -> anyhow::Result<()> {
    let output = Output::spawn(std::io::stdout(), Some(libc::STDOUT_FILENO))
        .context("start the stdout writer")?;
    let (to_rmcp, incoming) = mpsc::channel(64);
    let (eof, at_eof) = oneshot::channel::<()>();
    let replies = output.clone();
    std::thread::Builder::new()
        .name("mcp-stdin".into())
        .spawn(move || {
            gate(
                std::io::stdin().lock(),
                &to_rmcp,
                &replies,
                max_message_bytes,
            );
            let _ = eof.send(());
        })
        .context("start the stdin reader")?;
    let transport = Gated {
        incoming,
        output: output.clone(),
    };
    let running = server
        .serve(transport)
        .await
        .context("MCP handshake over stdio")?;
    let token = running.cancellation_token();
    let stop_on_eof = tokio::spawn(async move {
        // The gate ends when the client closes stdin: give answers in flight a
        // moment, then stop whatever is still running.
        let _ = at_eof.await;
        tokio::time::sleep(DRAIN_AFTER_EOF).await;
        token.cancel();
    });
    let _ = running.waiting().await;
    stop_on_eof.abort();
    output.flushed(FLUSH_AT_END).await;
    Ok(())
}

/// rmcp's transport: messages the gate parsed in, serialised lines out.
struct Gated {
    incoming: mpsc::Receiver<ClientJsonRpcMessage>,
    output: Output,
}

impl Transport<RoleServer> for Gated {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sent = serde_json::to_vec(&item)
            .map_err(std::io::Error::other)
            .and_then(|line| self.output.line(line));
        std::future::ready(sent)
    }

    fn receive(&mut self) -> impl Future<Output = Option<ClientJsonRpcMessage>> + Send {
        self.incoming.recv()
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        std::future::ready(Ok(()))
    }
}

/// The output: whole lines, each flushed, in the order they were given. A short
/// line is written by the caller when nothing is queued, the writer thread is idle
/// and the output has room for it, which spares a thread wake-up per answer;
/// anything else goes through the writer thread's queue, so no caller ever waits
/// on a client that does not read.
#[derive(Clone)]
struct Output {
    shared: Arc<Shared>,
    queue: std::sync::mpsc::Sender<Queued>,
}

/// What callers and the writer thread share (the thread holds no sender, so it
/// ends when the last `Output` is dropped).
struct Shared {
    out: Mutex<Box<dyn Write + Send>>,
    /// Lines queued and not yet written.
    queued: AtomicUsize,
    /// Polled for room before a direct write; without one, every line is queued.
    fd: Option<std::os::fd::RawFd>,
}

enum Queued {
    Line(Vec<u8>),
    /// Answered once every line queued before it was written.
    Flushed(oneshot::Sender<()>),
}

/// A write of at most this many bytes to a pipe with room is never split or blocked.
const ATOMIC_WRITE: usize = 4096;

impl Output {
    /// Start the writer thread on `out`; `fd`, when given, is `out`'s descriptor.
    fn spawn(
        out: impl Write + Send + 'static,
        fd: Option<std::os::fd::RawFd>,
    ) -> std::io::Result<Output> {
        let (queue, queued) = std::sync::mpsc::channel::<Queued>();
        let shared = Arc::new(Shared {
            out: Mutex::new(Box::new(out)),
            queued: AtomicUsize::new(0),
            fd,
        });
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("mcp-stdout".into())
            .spawn(move || {
                for item in queued {
                    match item {
                        Queued::Line(line) => {
                            let mut out = writer.out.lock().unwrap_or_else(|e| e.into_inner());
                            let written = out.write_all(&line).and_then(|()| out.flush());
                            writer.queued.fetch_sub(1, Ordering::SeqCst);
                            if written.is_err() {
                                break;
                            }
                        }
                        Queued::Flushed(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            })?;
        Ok(Output { shared, queue })
    }

    /// Write or queue one line (its newline added when missing).
    fn line(&self, mut line: Vec<u8>) -> std::io::Result<()> {
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        let shared = &self.shared;
        if line.len() <= ATOMIC_WRITE
            && shared.fd.is_some_and(has_room)
            && let Ok(mut out) = shared.out.try_lock()
            && shared.queued.load(Ordering::SeqCst) == 0
        {
            return out.write_all(&line).and_then(|()| out.flush());
        }
        shared.queued.fetch_add(1, Ordering::SeqCst);
        self.queue.send(Queued::Line(line)).map_err(|_| {
            shared.queued.fetch_sub(1, Ordering::SeqCst);
            std::io::Error::from(std::io::ErrorKind::BrokenPipe)
        })
    }

    /// Wait (at most `limit`) until every line queued so far was written.
    async fn flushed(&self, limit: Duration) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Queued::Flushed(done)).is_ok() {
            let _ = tokio::time::timeout(limit, written).await;
        }
    }
}

/// Whether `fd` can take a short write now without blocking.
fn has_room(fd: std::os::fd::RawFd) -> bool {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready == 1
        && poll.revents & libc::POLLOUT != 0
        && poll.revents & (libc::POLLERR | libc::POLLHUP) == 0
}

/// Read the client's lines; pass valid JSON-RPC messages on to rmcp, answer
/// everything else with an error. Ends at end of input.
fn gate<R: BufRead>(
    mut input: R,
    to_rmcp: &mpsc::Sender<ClientJsonRpcMessage>,
    replies: &Output,
    max_message_bytes: usize,
) {
    let mut line = Vec::new();
    loop {
        line.clear();
        let Ok((complete, over)) = read_line(&mut input, &mut line, max_message_bytes) else {
            break;
        };
        let verdict = if over {
            Checked::Reply(jsonrpc::error(
                Value::Null,
                jsonrpc::INVALID_REQUEST,
                &format!("message over {max_message_bytes} bytes; it was discarded"),
            ))
        } else {
            check(&line)
        };
        match verdict {
            Checked::Message(message) => {
                if to_rmcp.blocking_send(*message).is_err() {
                    break;
                }
            }
            Checked::Reply(reply) => {
                if replies.line(reply).is_err() {
                    break;
                }
            }
            Checked::Nothing => {}
        }
        if !complete {
            break;
        }
    }
}

/// One line into `line` (without its newline), keeping at most `max` bytes.
/// Returns (a newline ended it, it was longer than `max`); an empty
/// incomplete line means end of input.
fn read_line<R: BufRead>(
    input: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(bool, bool)> {
    let mut over = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
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

/// What the gate does with one line.
enum Checked {
    /// A valid message, parsed once, for rmcp.
    Message(Box<ClientJsonRpcMessage>),
    /// The error reply the line deserves.
    Reply(Vec<u8>),
    /// Nothing: a blank line, or a broken notification (JSON-RPC never
    /// answers those).
    Nothing,
}

fn check(line: &[u8]) -> Checked {
    let text = line.trim_ascii();
    if text.is_empty() {
        return Checked::Nothing;
    }
    // The common case costs one parse: a valid message goes straight on.
    let invalid = match serde_json::from_slice::<ClientJsonRpcMessage>(text) {
        Ok(message) => return Checked::Message(Box::new(message)),
        Err(invalid) => invalid,
    };
    let value: Value = match serde_json::from_slice(text) {
        Ok(v) => v,
        Err(e) => {
            return Checked::Reply(jsonrpc::error(
                Value::Null,
                jsonrpc::PARSE_ERROR,
                &format!("not valid JSON ({e})"),
            ));
        }
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    if value.get("method").is_some() && value.get("id").is_none() {
        tracing::warn!("dropped an invalid notification: {invalid}");
        return Checked::Nothing;
    }
    Checked::Reply(jsonrpc::error(
        id,
        jsonrpc::INVALID_REQUEST,
        &format!("not a valid MCP JSON-RPC message ({invalid})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(line: &str) -> Option<Value> {
        match check(line.as_bytes()) {
            Checked::Reply(b) => Some(serde_json::from_slice(&b).unwrap()),
            Checked::Message(_) | Checked::Nothing => None,
        }
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
        assert!(matches!(
            check(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Checked::Message(_)
        ));
        assert!(matches!(
            check(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Checked::Message(_)
        ));
        assert!(matches!(check(b"   "), Checked::Nothing));
        assert!(matches!(
            check(br#"{"jsonrpc":"2.0","method":7}"#),
            Checked::Nothing
        ));
    }

    #[test]
    fn over_long_lines_are_discarded_and_reading_goes_on() {
        let data = format!("{}\nshort\n", "x".repeat(100));
        let mut input = data.as_bytes();
        let mut line = Vec::new();
        assert_eq!(read_line(&mut input, &mut line, 10).unwrap(), (true, true));
        line.clear();
        assert_eq!(read_line(&mut input, &mut line, 10).unwrap(), (true, false));
        assert_eq!(line, b"short");
        line.clear();
        assert!(
            read_line(&mut input, &mut line, 10).is_err(),
            "end of input"
        );
    }

    #[tokio::test]
    async fn the_writer_writes_whole_lines_in_order_before_it_reports_flushed() {
        let written = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = written.clone();
        let output = Output::spawn(Shared(sink), None).unwrap();
        output.line(b"one".to_vec()).unwrap();
        output.line(b"two\n".to_vec()).unwrap();
        output.flushed(Duration::from_secs(5)).await;
        assert_eq!(&*written.lock().unwrap(), b"one\ntwo\n");
    }

    /// Short lines written directly and long ones queued, from two threads at
    /// once, reach a real pipe whole and each thread's in its order.
    #[tokio::test]
    async fn direct_and_queued_lines_keep_their_order_on_a_pipe() {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let (mut reader, writer) = std::io::pipe().unwrap();
        let fd = writer.as_raw_fd();
        let output = Output::spawn(writer, Some(fd)).unwrap();
        let lines = |who: char| -> Vec<Vec<u8>> {
            (0..200)
                .map(|i| {
                    let size = if i % 7 == 0 { 9000 } else { 20 };
                    let mut line = format!("{who}{i:04}").into_bytes();
                    line.resize(size, b'.');
                    line
                })
                .collect()
        };
        let expected: usize = lines('a')
            .iter()
            .chain(&lines('b'))
            .map(|l| l.len() + 1)
            .sum();
        let readers = std::thread::spawn(move || {
            let mut all = vec![0u8; expected];
            reader.read_exact(&mut all).unwrap();
            all
        });
        let senders: Vec<_> = ['a', 'b']
            .into_iter()
            .map(|who| {
                let output = output.clone();
                let mine = lines(who);
                std::thread::spawn(move || {
                    for line in mine {
                        output.line(line).unwrap();
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.join().unwrap();
        }
        output.flushed(Duration::from_secs(10)).await;
        let all = readers.join().unwrap();
        for who in ['a', 'b'] {
            let seen: Vec<&[u8]> = all
                .split(|b| *b == b'\n')
                .filter(|l| l.first() == Some(&(who as u8)))
                .collect();
            assert_eq!(
                seen,
                lines(who).iter().map(Vec::as_slice).collect::<Vec<_>>()
            );
        }
    }
}
