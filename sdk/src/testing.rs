//! Native stand-ins for the host, so plugin logic is unit-tested with plain
//! `cargo test`. On `wasm32` the real host serves every capability and nothing
//! here is used.
//!
//! ```
//! use plue_plugin_sdk::{http, testing};
//! testing::fake_http(|req| {
//!     assert_eq!(req.endpoint, "api");
//!     Ok(testing::response(200, r#"{"ok":true}"#))
//! });
//! let body: serde_json::Value = http::Endpoint::new("api").get_json("/status", &[]).unwrap();
//! assert_eq!(body["ok"], true);
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::http::{HttpError, Request, Response};
use crate::log::Level;
use crate::plugin::{Dispatch, Plugin, dispatch};
use crate::sql::{Rows, SqlError, Value};
use crate::{Output, ToolError};

type FakeHttp = Box<dyn Fn(&Request) -> Result<Response, HttpError>>;
type FakeSql = Box<dyn Fn(&str, &str, &[Value]) -> Result<Rows, SqlError>>;

#[derive(Default)]
pub(crate) struct FakeHost {
    pub(crate) http: Option<FakeHttp>,
    pub(crate) sql: Option<FakeSql>,
    pub(crate) settings: BTreeMap<String, String>,
    pub(crate) defaults: BTreeMap<String, String>,
    pub(crate) mounts: BTreeMap<String, PathBuf>,
    pub(crate) logs: Vec<(Level, String)>,
}

thread_local! {
    pub(crate) static HOST: RefCell<FakeHost> = RefCell::new(FakeHost::default());
}

/// Serve `http::fetch` on this thread with `f`.
pub fn fake_http(f: impl Fn(&Request) -> Result<Response, HttpError> + 'static) {
    HOST.with(|h| h.borrow_mut().http = Some(Box::new(f)));
}

/// Serve `sql::query` on this thread with `f(database, statement, params)`.
pub fn fake_sql(f: impl Fn(&str, &str, &[Value]) -> Result<Rows, SqlError> + 'static) {
    HOST.with(|h| h.borrow_mut().sql = Some(Box::new(f)));
}

/// Set an operator setting on this thread.
pub fn set_setting(key: &str, value: &str) {
    HOST.with(|h| h.borrow_mut().settings.insert(key.into(), value.into()));
}

/// Make the granted directory `name` read from `path` on this thread.
pub fn mount(name: &str, path: impl Into<PathBuf>) {
    HOST.with(|h| h.borrow_mut().mounts.insert(name.into(), path.into()));
}

/// The messages logged on this thread so far.
pub fn logs() -> Vec<(Level, String)> {
    HOST.with(|h| h.borrow().logs.clone())
}

/// A response with `status` and a text body.
pub fn response(status: u16, body: &str) -> Response {
    Response {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

/// Call tool `name` of `plugin` with `arguments`, as the host would (without the
/// host's schema validation).
pub fn call(
    plugin: &Plugin,
    name: &str,
    arguments: serde_json::Value,
) -> Result<Output, ToolError> {
    crate::settings::set_defaults(plugin);
    dispatch(plugin, name, &arguments.to_string()).map_err(|e| match e {
        Dispatch::Unknown => ToolError::invalid(format!("unknown tool `{name}`")),
        Dispatch::Tool(e) => e,
    })
}
