//! HTTP to endpoints the operator granted by name. The plugin gives a path and
//! query; the host owns the base URL, credentials, timeout and size cap.
//!
//! ```
//! use plue_plugin_sdk::http::{Endpoint, query_string};
//! assert_eq!(query_string(&[("query", "rate(x[5m])"), ("time", "now")]),
//!            "query=rate%28x%5B5m%5D%29&time=now");
//! plue_plugin_sdk::testing::fake_http(|req| {
//!     assert_eq!(req.path_and_query, "/api/v1/labels?match%5B%5D=up");
//!     Ok(plue_plugin_sdk::testing::response(200, r#"{"data":["job"]}"#))
//! });
//! let v: serde_json::Value = Endpoint::new("prometheus")
//!     .get_json("/api/v1/labels", &[("match[]", "up")]).unwrap();
//! assert_eq!(v["data"][0], "job");
//! ```

use serde::de::DeserializeOwned;

use crate::ToolError;
pub use crate::bindings::plue::plugin::http::{HttpError, Method, Request, Response};

/// Send `request` through the host.
pub fn fetch(request: &Request) -> Result<Response, HttpError> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::plue::plugin::http::fetch(request)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::HOST.with(|h| match &h.borrow().http {
            Some(f) => f(request),
            None => Err(HttpError::Unreachable(format!(
                "no fake HTTP host on this thread for endpoint `{}` (use testing::fake_http)",
                request.endpoint
            ))),
        })
    }
}

/// A granted endpoint, named as in the manifest.
#[derive(Debug, Clone)]
pub struct Endpoint {
    name: String,
}

impl Endpoint {
    /// The endpoint `name`.
    pub fn new(name: &str) -> Self {
        Endpoint { name: name.into() }
    }

    /// The endpoint's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `GET path?query`.
    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Response, HttpError> {
        fetch(&Request {
            endpoint: self.name.clone(),
            method: Method::Get,
            path_and_query: with_query(path, query),
            headers: vec![("accept".into(), "application/json".into())],
            body: None,
        })
    }

    /// `POST path` with a form-encoded body.
    pub fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Result<Response, HttpError> {
        fetch(&Request {
            endpoint: self.name.clone(),
            method: Method::Post,
            path_and_query: path.into(),
            headers: vec![
                ("accept".into(), "application/json".into()),
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
            ],
            body: Some(query_string(form).into_bytes()),
        })
    }

    /// `GET path?query` and parse a JSON body. A non-2xx status becomes a
    /// [`ToolError`] naming the endpoint, the status and the start of the body.
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ToolError> {
        let response = self.get(path, query).map_err(|e| self.error(e))?;
        if !(200..300).contains(&response.status) {
            return Err(ToolError::failed(format!(
                "endpoint `{}` answered HTTP {} for {}: {}",
                self.name,
                response.status,
                path,
                crate::text::truncate_chars(response.text().trim(), 500).0
            )));
        }
        response.json().map_err(|e| {
            ToolError::failed(format!(
                "endpoint `{}` returned invalid JSON for {path}: {e}",
                self.name
            ))
        })
    }

    /// Turn a transport error into a tool error naming this endpoint.
    pub fn error(&self, error: HttpError) -> ToolError {
        ToolError::failed(format!("endpoint `{}`: {}", self.name, error.describe()))
    }
}

impl Response {
    /// The body as UTF-8 text (invalid bytes replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl HttpError {
    /// A message for the agent: the kind of failure and the host's explanation.
    pub fn describe(&self) -> String {
        match self {
            HttpError::AccessDenied(m) => format!("access denied: {m}"),
            HttpError::InvalidRequest(m) => format!("invalid request: {m}"),
            HttpError::Timeout(m) => format!("timed out: {m}"),
            HttpError::Unreachable(m) => format!("unreachable: {m}"),
            HttpError::ResponseTooLarge(m) => format!("response too large: {m}"),
        }
    }
}

impl From<HttpError> for ToolError {
    fn from(e: HttpError) -> Self {
        ToolError::failed(e.describe())
    }
}

/// `path` followed by `?` and the encoded `query`, if any.
pub fn with_query(path: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query_string(query))
    }
}

/// `application/x-www-form-urlencoded` encoding of `pairs` (spaces as `%20`).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encode everything but RFC 3986 unreserved characters.
///
/// ```
/// assert_eq!(plue_plugin_sdk::http::encode("a b/{c}"), "a%20b%2F%7Bc%7D");
/// ```
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
