//! MCP over stdio with a gate in front of rmcp: every line the client sends is
//! checked before rmcp sees it, so malformed JSON, a message that is not
//! JSON-RPC, an over-long line or one nested too deep gets a JSON-RPC error
//! reply (`"id": null` when none can be read) instead of silence. When the
//! client closes stdin the server ends, even with calls in flight.
//!
//! Built for latency. When stdin is a pipe or a socket (as MCP clients start
//! servers), the runtime polls it, so a client's line wakes the very task that
//! parses it and hands it to rmcp (parsed once, by the gate); an answer is
//! written to stdout by the task that serialised it when the pipe has room and
//! nothing is queued, and otherwise by a writer thread, line by line. A call
//! thus costs one wake-up of this process besides its own work, where a reader
//! thread, tokio's stdin and stdout (which read and write on the blocking pool)
//! and a pipe into rmcp's own line reader cost several more. Any other stdin (a
//! file, a terminal) is read through tokio's stdin.

use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, ready};
use std::time::Duration;

use anyhow::Context;
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::RoleServer;
use rmcp::transport::Transport;
use serde_json::Value;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, ReadBuf};
use tokio::sync::oneshot;

use super::McpServer;
use super::jsonrpc;

/// How long answers to calls in flight may still be written after the client
/// closed stdin.
const DRAIN_AFTER_EOF: Duration = Duration::from_secs(2);

/// How long the end of the session waits for its last lines to be written.
const FLUSH_AT_END: Duration = Duration::from_secs(2);

/// Bytes read from stdin at once.
const READ_BUFFER: usize = 64 << 10;

/// Serve MCP on this process's stdin and stdout until the client closes stdin.
pub async fn serve(server: McpServer, max_message_bytes: usize) -> anyhow::Result<()> {
    let output = Output::spawn(std::io::stdout(), Some(libc::STDOUT_FILENO))
        .context("start the stdout writer")?;
    let (eof, at_eof) = oneshot::channel::<()>();
    let input: Box<dyn AsyncRead + Send + Unpin> = match PolledStdin::new() {
        Some(polled) => Box::new(polled),
        None => Box::new(tokio::io::stdin()),
    };
    let transport = Gated {
        input: Lines::new(input, max_message_bytes),
        output: output.clone(),
        eof: Some(eof),
    };
    let running = server
        .serve(transport)
        .await
        .context("MCP handshake over stdio")?;
    let token = running.cancellation_token();
    let stop_on_eof = tokio::spawn(async move {
        // The client closed stdin: give answers in flight a moment, then stop
        // whatever is still running.
        let _ = at_eof.await;
        tokio::time::sleep(DRAIN_AFTER_EOF).await;
        token.cancel();
    });
    let _ = running.waiting().await;
    stop_on_eof.abort();
    output.flushed(FLUSH_AT_END).await;
    Ok(())
}

/// rmcp's transport: the client's lines through the gate in, serialised lines out.
struct Gated<R> {
    input: Lines<R>,
    output: Output,
    /// Told when the client closes stdin.
    eof: Option<oneshot::Sender<()>>,
}

impl<R: AsyncRead + Send + Unpin + 'static> Transport<RoleServer> for Gated<R> {
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

    /// The next valid message; every other line is answered (or dropped) on the
    /// way. Cancel-safe, as rmcp's loop requires: a line read in part is kept
    /// in `Lines`, not in the future.
    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            match self.input.next().await {
                Some(Checked::Message(message)) => return Some(*message),
                Some(Checked::Reply(reply)) => {
                    if self.output.line(reply).is_err() {
                        return None;
                    }
                }
                Some(Checked::Nothing) => {}
                None => {
                    if let Some(eof) = self.eof.take() {
                        let _ = eof.send(());
                    }
                    return None;
                }
            }
        }
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        std::future::ready(Ok(()))
    }
}

/// Stdin switched to non-blocking and polled by the runtime. Only a pipe or a
/// socket of its own qualifies: a file cannot be polled, a terminal's mode is
/// shared with the shell, and a socket that is stdout too would make stdout's
/// writes non-blocking as well. The original mode is restored on drop.
struct PolledStdin {
    fd: AsyncFd<StdinFd>,
    flags: libc::c_int,
}

/// Descriptor 0, borrowed (never closed).
struct StdinFd;

impl AsRawFd for StdinFd {
    fn as_raw_fd(&self) -> RawFd {
        libc::STDIN_FILENO
    }
}

impl PolledStdin {
    fn new() -> Option<PolledStdin> {
        let stdin = file_id(libc::STDIN_FILENO)?;
        let kind = stdin.0 & libc::S_IFMT;
        if kind != libc::S_IFIFO && kind != libc::S_IFSOCK {
            return None;
        }
        if file_id(libc::STDOUT_FILENO).is_some_and(|out| out.1 == stdin.1) {
            return None;
        }
        // SAFETY: fcntl on descriptor 0 with integer arguments only.
        let flags = unsafe { libc::fcntl(libc::STDIN_FILENO, libc::F_GETFL) };
        if flags < 0
            // SAFETY: as above.
            || unsafe { libc::fcntl(libc::STDIN_FILENO, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0
        {
            return None;
        }
        match AsyncFd::new(StdinFd) {
            Ok(fd) => Some(PolledStdin { fd, flags }),
            Err(e) => {
                tracing::debug!("stdin cannot be polled ({e}); reading it on a thread");
                restore_flags(flags);
                None
            }
        }
    }
}

/// `fd`'s file type bits and (device, inode), when it is open.
fn file_id(fd: RawFd) -> Option<(libc::mode_t, (libc::dev_t, libc::ino_t))> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes one `stat` into memory we own.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstat succeeded, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    Some((stat.st_mode, (stat.st_dev, stat.st_ino)))
}

fn restore_flags(flags: libc::c_int) {
    // SAFETY: fcntl on descriptor 0 with integer arguments only.
    unsafe { libc::fcntl(libc::STDIN_FILENO, libc::F_SETFL, flags) };
}

impl Drop for PolledStdin {
    fn drop(&mut self) {
        restore_flags(self.flags);
    }
}

impl AsyncRead for PolledStdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        loop {
            let mut ready = ready!(self.fd.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            let read = ready.try_io(|fd| {
                // SAFETY: reads at most `unfilled.len()` bytes into `unfilled`.
                let n = unsafe {
                    libc::read(fd.as_raw_fd(), unfilled.as_mut_ptr().cast(), unfilled.len())
                };
                usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
            });
            match read {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                // Not readable after all: readiness was cleared, poll again.
                Err(_would_block) => {}
            }
        }
    }
}

/// The client's lines, each checked. The line being read lives here, not in a
/// future, so a read cancelled half way loses nothing.
struct Lines<R> {
    input: BufReader<R>,
    line: Vec<u8>,
    /// The current line passed `max` bytes: it is being discarded.
    over: bool,
    max: usize,
}

impl<R: AsyncRead + Unpin> Lines<R> {
    fn new(input: R, max: usize) -> Lines<R> {
        Lines {
            input: BufReader::with_capacity(READ_BUFFER, input),
            line: Vec::new(),
            over: false,
            max,
        }
    }

    /// The gate's verdict on the next line (a last line without a newline
    /// counts); `None` at end of input or on a read error.
    async fn next(&mut self) -> Option<Checked> {
        loop {
            let buf = match self.input.fill_buf().await {
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            };
            if buf.is_empty() {
                if self.line.is_empty() && !self.over {
                    return None;
                }
                return Some(self.verdict());
            }
            let (chunk, used) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            let consumed = used.unwrap_or(buf.len());
            if !self.over && self.line.len() + chunk.len() <= self.max {
                self.line.extend_from_slice(chunk);
            } else {
                self.over = true;
                self.line.clear();
            }
            self.input.consume(consumed);
            if used.is_some() {
                return Some(self.verdict());
            }
        }
    }

    /// Judge the line read, and start the next.
    fn verdict(&mut self) -> Checked {
        let verdict = if self.over {
            Checked::Reply(jsonrpc::error(
                Value::Null,
                jsonrpc::INVALID_REQUEST,
                &format!("message over {} bytes; it was discarded", self.max),
            ))
        } else {
            check(&self.line)
        };
        self.line.clear();
        self.over = false;
        verdict
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

    fn error_code(verdict: Option<Checked>) -> Value {
        match verdict {
            Some(Checked::Reply(b)) => {
                serde_json::from_slice::<Value>(&b).unwrap()["error"]["code"].clone()
            }
            _ => panic!("expected an error reply"),
        }
    }

    #[tokio::test]
    async fn over_long_lines_are_discarded_and_reading_goes_on() {
        let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        let data = format!("{}\n{ping}\n\n{ping}", "x".repeat(100));
        let mut lines = Lines::new(data.as_bytes(), ping.len());
        assert_eq!(error_code(lines.next().await), json!(-32600));
        assert!(matches!(lines.next().await, Some(Checked::Message(_))));
        assert!(matches!(lines.next().await, Some(Checked::Nothing)));
        assert!(
            matches!(lines.next().await, Some(Checked::Message(_))),
            "a last line without a newline counts"
        );
        assert!(lines.next().await.is_none(), "end of input");
    }

    /// rmcp drops a pending `receive` whenever another event wins its loop's
    /// `select!`: half a line read before that must still arrive whole.
    #[tokio::test]
    async fn a_read_cancelled_half_way_loses_nothing() {
        use tokio::io::AsyncWriteExt;
        let (mut client, server) = tokio::io::duplex(64);
        let mut lines = Lines::new(server, 1 << 20);
        let ping = br#"{"jsonrpc":"2.0","id":"half","method":"ping"}"#;
        let (first, rest) = ping.split_at(20);
        client.write_all(first).await.unwrap();
        let pending = tokio::time::timeout(Duration::from_millis(50), lines.next()).await;
        assert!(pending.is_err(), "half a line is not a message yet");
        client.write_all(rest).await.unwrap();
        client.write_all(b"\n").await.unwrap();
        match lines.next().await {
            Some(Checked::Message(message)) => {
                let echoed = serde_json::to_value(&*message).unwrap();
                assert_eq!(echoed["id"], json!("half"));
            }
            _ => panic!("the line read in two halves was lost"),
        }
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
