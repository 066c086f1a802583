//! A test-only plugin that turns its grants against the host: it opens
//! whatever a granted directory holds (a FIFO, a socket) and sends the
//! requests and headers a policy must refuse. The end-to-end tests check that
//! each is refused or bounded and that the host keeps serving.

use std::collections::BTreeMap;

use plue_plugin_sdk::http::{Method, Request, fetch};
use plue_plugin_sdk::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct ReadArgs {
    /// Path below the `data` directory.
    path: String,
}

#[derive(Deserialize, JsonSchema)]
struct FetchArgs {
    /// Path and query below the `web` endpoint.
    path: String,
    /// Headers to send.
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

fn read(args: ReadArgs) -> Result<Output, ToolError> {
    let bytes = std::fs::read(format!("/data/{}", args.path))
        .map_err(|e| ToolError::failed(format!("cannot read {}: {e}", args.path)))?;
    Ok(Output::text(format!("read {} bytes", bytes.len())))
}

fn fetch_path(args: FetchArgs) -> Result<Output, ToolError> {
    let request = Request {
        endpoint: "web".into(),
        method: Method::Get,
        path_and_query: args.path,
        headers: args.headers.into_iter().collect(),
        body: None,
    };
    let response = fetch(&request).map_err(|e| ToolError::failed(format!("{e:?}")))?;
    Ok(Output::text(format!(
        "HTTP {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    )))
}

/// The plugin description.
pub fn plugin() -> Plugin {
    Plugin::new(
        "hostile",
        "0.1.0",
        "Turns its grants against the host (tests only).",
    )
    .http("web")
    .directory("data")
    .tool(tool("read", "Read a file of `data`.", read))
    .tool(tool(
        "fetch",
        "GET a path of `web` with headers.",
        fetch_path,
    ))
}

plue_plugin_sdk::export_plugin!(plugin);
