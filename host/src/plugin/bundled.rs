//! The tool groups carried inside the `plue-mcp` binary, built for
//! wasm32-wasip2 by the host's build script.

/// The component bytes of the bundled plugin `name`.
pub fn bytes(name: &str) -> Option<&'static [u8]> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Names of the bundled plugins.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|(n, _)| *n)
}

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
