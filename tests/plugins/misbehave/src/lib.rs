//! A test-only plugin that breaks every limit on purpose: it loops forever,
//! allocates without bound, floods its output (answers, error text, log
//! messages), forges host log lines, hides terminal escapes in its manifest and
//! panics. The end-to-end tests check that each ends bounded or in an
//! `isError` naming the limit, and that the next call still works.

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
        "ok",
        "Answer normally.\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[8m hidden",
        ok,
    ))
}

plue_plugin_sdk::export_plugin!(plugin);
