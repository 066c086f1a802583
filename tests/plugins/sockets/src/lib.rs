//! A test-only plugin that opens a TCP socket itself, so its component imports
//! `wasi:sockets`: the host must refuse to load it, naming the import.

use plue_plugin_sdk::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct ConnectArgs {
    /// host:port to connect to.
    address: String,
}

fn connect(args: ConnectArgs) -> Result<Output, ToolError> {
    match std::net::TcpStream::connect(&args.address) {
        Ok(_) => Ok(Output::text("connected")),
        Err(e) => Err(ToolError::failed(e.to_string())),
    }
}

/// The plugin description.
pub fn plugin() -> Plugin {
    Plugin::new(
        "sockets",
        "0.1.0",
        "Opens raw sockets (tests only; must be refused).",
    )
    .tool(tool("connect", "Open a TCP connection.", connect))
}

plue_plugin_sdk::export_plugin!(plugin);
