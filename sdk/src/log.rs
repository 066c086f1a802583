//! Messages for the operator's log and the MCP client's log view. Never log secrets.
//!
//! ```
//! plue_plugin_sdk::log::info("querying 3 targets");
//! assert_eq!(plue_plugin_sdk::testing::logs().len(), 1);
//! ```

pub use crate::bindings::plue::plugin::log::Level;

/// Log `message` at `level`.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::plue::plugin::log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::HOST.with(|h| h.borrow_mut().logs.push((level, message.to_string())));
}

/// Log at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message)
}

/// Log at info level.
pub fn info(message: &str) {
    log(Level::Info, message)
}

/// Log at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message)
}

/// Log at error level.
pub fn error(message: &str) {
    log(Level::Error, message)
}
