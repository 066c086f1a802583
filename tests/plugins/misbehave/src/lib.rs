//! A test-only plugin that breaks every limit on purpose: it loops forever,
//! allocates without bound, floods its output (answers, error text, log
//! messages), forges host log lines, hides terminal escapes in its manifest,
//! panics and tries to remember earlier calls. The end-to-end tests check that
//! each ends bounded or in an `isError` naming the limit, that the next call
//! still works, and that it remembers nothing.

use plue_plugin_sdk::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

#[derive(Deserialize, JsonSchema)]
struct FloodArgs {
    /// Bytes of text to return.
    bytes: usize,
}

#[derive(Deserialize, JsonSchema)]
struct ChatterArgs {
    /// Messages to log.
    count: u64,
    /// The text of each message.
    message: String,
}

fn spin(_: NoArgs) -> Result<Output, ToolError> {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

fn hog(_: NoArgs) -> Result<Output, ToolError> {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![1u8; 1 << 20]);
        std::hint::black_box(&hoard);
    }
}

fn flood(args: FloodArgs) -> Result<Output, ToolError> {
    Ok(Output::text("x".repeat(args.bytes)))
}

fn fail_big(args: FloodArgs) -> Result<Output, ToolError> {
    Err(ToolError::failed("e".repeat(args.bytes)))
}

fn chatter(args: ChatterArgs) -> Result<Output, ToolError> {
    for _ in 0..args.count {
        plue_plugin_sdk::log::warn(&args.message);
    }
    Ok(Output::text(format!("logged {} messages", args.count)))
}

fn crash(_: NoArgs) -> Result<Output, ToolError> {
    panic!("deliberate panic for the tests")
}

/// Calls this instance has seen, kept in a data segment of the image.
static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// What a previous call left behind: 1 MiB of memory grown past the image,
/// read before it is marked.
#[cfg(target_arch = "wasm32")]
fn marks_left_behind() -> usize {
    const MARK: u8 = 0xA5;
    const PAGES: usize = 16;
    let before = core::arch::wasm32::memory_grow(0, PAGES);
    assert!(before != usize::MAX, "memory.grow refused");
    let start = before * 65536;
    let mut found = 0;
    for i in 0..PAGES * 65536 {
        let byte = (start + i) as *mut u8;
        // SAFETY: the pages were just grown by this function and nothing else
        // owns them (the allocator grows memory only through its own calls).
        unsafe {
            if byte.read_volatile() == MARK {
                found += 1;
            }
            byte.write_volatile(MARK);
        }
    }
    found
}

#[cfg(not(target_arch = "wasm32"))]
fn marks_left_behind() -> usize {
    0
}

fn remember(_: NoArgs) -> Result<Output, ToolError> {
    let calls = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    let marks = marks_left_behind();
    Ok(Output::text(format!("calls {calls}, marks {marks}")))
}

fn ok(_: NoArgs) -> Result<Output, ToolError> {
    Ok(Output::text("still fine"))
}

/// The plugin description.
pub fn plugin() -> Plugin {
    Plugin::new(
        "misbehave",
        "0.1.0",
        "Breaks limits on purpose (tests only).",
    )
    .tool(tool("spin", "Loop forever.", spin))
    .tool(tool("hog", "Allocate memory without bound.", hog))
    .tool(tool("flood", "Return `bytes` bytes of text.", flood))
    .tool(tool(
        "fail_big",
        "Fail with `bytes` bytes of error text.",
        fail_big,
    ))
    .tool(tool("chatter", "Log `message` `count` times.", chatter))
    .tool(tool("crash", "Panic.", crash))
    .tool(tool(
        "remember",
        "Count calls in a static and mark grown memory.",
        remember,
    ))
    .tool(tool(
        "ok",
        "Answer normally.\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[8m hidden",
        ok,
    ))
}

plue_plugin_sdk::export_plugin!(plugin);
