//! JSON-RPC error replies the front ends send themselves, before rmcp sees a
//! message: for input that is not JSON, not a request, or too large.

use serde_json::{Value, json};

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON sent is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;

/// One JSON-RPC error response, serialised, without a trailing newline.
pub fn error(id: Value, code: i64, message: &str) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        .to_string()
        .into_bytes()
}
