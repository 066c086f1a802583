//! The `http` capability: requests to endpoints granted by name. One shared
//! client; the endpoint's base URL, credentials, method and header allow-lists,
//! timeout and response cap come from the operator; redirects are never
//! followed.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::bindings::http::{HttpError, Method, Request, Response};
use crate::config::EndpointConfig;
use crate::metrics::{BackendResult, metrics};
use crate::policy;

/// Largest request body a plugin may send.
const MAX_REQUEST_BODY: usize = 1 << 20;

/// The endpoints one plugin may use, by the names its manifest declares.
#[derive(Clone, Default)]
pub struct HttpGrants {
    pub plugin: String,
    pub endpoints: BTreeMap<String, Arc<EndpointConfig>>,
    pub client: Option<reqwest::Client>,
}

/// The one HTTP client of the process.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("plue-mcp/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client configuration is static and valid")
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    }
}

impl HttpGrants {
    /// Send `request` as the operator's configuration allows, counted in the
    /// host's metrics when the endpoint is granted.
    pub async fn fetch(&self, request: Request) -> Result<Response, HttpError> {
        // Counted under the operator's name; never under a name the plugin made up.
        let Some(endpoint) = self
            .endpoints
            .get(&request.endpoint)
            .map(|e| e.name.clone())
        else {
            return self.send(request).await;
        };
        let started = std::time::Instant::now();
        let result = self.send(request).await;
        let counted = match &result {
            Ok(_) => BackendResult::Ok,
            Err(HttpError::AccessDenied(_) | HttpError::InvalidRequest(_)) => {
                BackendResult::Refused
            }
            Err(HttpError::Timeout(_)) => BackendResult::Timeout,
            Err(HttpError::Unreachable(_)) => BackendResult::Unreachable,
            Err(HttpError::ResponseTooLarge(_)) => BackendResult::TooLarge,
        };
        metrics().backend(
            &self.plugin,
            "http",
            &endpoint,
            counted,
            started.elapsed().as_secs_f64(),
        );
        result
    }

    async fn send(&self, request: Request) -> Result<Response, HttpError> {
        let Some(endpoint) = self.endpoints.get(&request.endpoint) else {
            return Err(HttpError::AccessDenied(format!(
                "endpoint `{}` is not granted to plugin `{}` (the operator grants it with http = [\"{}\"] in [plugins.{}])",
                request.endpoint, self.plugin, request.endpoint, self.plugin
            )));
        };
        let base = endpoint
            .base
            .as_ref()
            .map_err(|why| HttpError::Unreachable(why.clone()))?;
        let method = method_name(request.method);
        policy::http::check_method(&request.endpoint, method, &endpoint.methods)
            .map_err(|r| HttpError::AccessDenied(r.to_string()))?;
        let url = policy::http::resolve_url(base, &request.path_and_query)
            .map_err(|r| HttpError::InvalidRequest(r.to_string()))?;
        let configured: Vec<&str> = endpoint.headers.iter().map(|(k, _)| k.as_str()).collect();
        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            let name =
                policy::http::check_header(name, value, &endpoint.headers_allowed, &configured)
                    .map_err(|r| HttpError::InvalidRequest(r.to_string()))?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                HttpError::InvalidRequest(format!(
                    "header `{name}` has a value that is not visible ASCII"
                ))
            })?;
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                HttpError::InvalidRequest(format!("`{name}` is not a valid header name"))
            })?;
            headers.append(name, value);
        }
        if request
            .body
            .as_ref()
            .is_some_and(|b| b.len() > MAX_REQUEST_BODY)
        {
            return Err(HttpError::InvalidRequest(format!(
                "request body over {MAX_REQUEST_BODY} bytes"
            )));
        }
        let client = self.client.clone().unwrap_or_else(client);
        let mut builder = client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("static method name"),
                url,
            )
            .timeout(endpoint.timeout);
        // The operator's headers always win: each replaces any of that name.
        for (name, secret) in &endpoint.headers {
            let invalid = || {
                HttpError::InvalidRequest(format!(
                    "configured header `{name}` of endpoint `{}` is invalid",
                    endpoint.name
                ))
            };
            let mut value = HeaderValue::from_str(secret.expose()).map_err(|_| invalid())?;
            value.set_sensitive(true);
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            headers.insert(name, value);
        }
        builder = builder.headers(headers);
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let origin = origin(base);
        // A kept-alive connection the backend closed (it restarted, or dropped idle
        // connections) fails a request as "closed before message completed", not as
        // refused: a GET or HEAD is asked once more, on a connection of its own.
        let again = matches!(method, "GET" | "HEAD")
            .then(|| builder.try_clone())
            .flatten();
        let response = match (builder.send().await, again) {
            (Err(e), Some(again)) if !e.is_timeout() && !e.is_connect() => again.send().await,
            (sent, _) => sent,
        }
        .map_err(|e| transport_error(&endpoint.name, &origin, endpoint, &e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(k, _)| *k != reqwest::header::SET_COOKIE)
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let cap = endpoint.max_response_bytes;
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(too_large(&endpoint.name, cap));
        }
        let mut body = Vec::new();
        // Held until the body has been handed over: concurrency cannot
        // multiply the host's memory past the operator's budget.
        let mut held = endpoint.response_memory.reserve();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| transport_error(&endpoint.name, &origin, endpoint, &e))?;
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(too_large(&endpoint.name, cap));
            }
            if !held.grow(chunk.len() as u64) {
                return Err(over_budget(
                    &endpoint.name,
                    endpoint.response_memory.total(),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn too_large(endpoint: &str, cap: u64) -> HttpError {
    HttpError::ResponseTooLarge(format!(
        "the response of endpoint `{endpoint}` exceeded its cap of {} KiB; narrow the request (fewer series, a shorter range, a limit)",
        cap / 1024
    ))
}

fn over_budget(endpoint: &str, total: u64) -> HttpError {
    HttpError::ResponseTooLarge(format!(
        "the response of endpoint `{endpoint}` did not fit in the host's memory for response bodies ({} MiB across all calls, max_response_memory_mib in [server]); retry when fewer calls run, or narrow the request",
        total >> 20
    ))
}

/// `scheme://host:port` of the base URL: never credentials or paths.
fn origin(base: &url::Url) -> String {
    format!(
        "{}://{}{}",
        base.scheme(),
        base.host_str().unwrap_or("?"),
        base.port().map(|p| format!(":{p}")).unwrap_or_default()
    )
}

/// A transport failure, described without the URL (which might carry secrets).
fn transport_error(
    name: &str,
    origin: &str,
    endpoint: &EndpointConfig,
    e: &reqwest::Error,
) -> HttpError {
    let cause = crate::text::root_cause(e);
    if e.is_timeout() {
        HttpError::Timeout(format!(
            "endpoint `{name}` ({origin}) did not answer within {} ms",
            endpoint.timeout.as_millis()
        ))
    } else if e.is_connect() {
        HttpError::Unreachable(format!(
            "cannot connect to endpoint `{name}` ({origin}): {cause}; check that the service runs and the url in [endpoints.{name}]"
        ))
    } else {
        HttpError::Unreachable(format!(
            "request to endpoint `{name}` ({origin}) failed: {cause}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn grants(base: Result<&str, &str>) -> HttpGrants {
        let endpoint = EndpointConfig {
            name: "prometheus".into(),
            base: base
                .map(|b| url::Url::parse(b).unwrap())
                .map_err(String::from),
            headers: vec![("authorization".into(), Secret::new("Bearer t"))],
            headers_allowed: Vec::new(),
            methods: vec!["GET".into()],
            timeout: std::time::Duration::from_secs(1),
            max_response_bytes: 1024,
            response_memory: crate::budget::MemoryBudget::new(1 << 20),
        };
        HttpGrants {
            plugin: "p".into(),
            endpoints: [("prometheus".to_string(), Arc::new(endpoint))].into(),
            client: None,
        }
    }

    fn request(endpoint: &str, method: Method, path: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            endpoint: endpoint.into(),
            method,
            path_and_query: path.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: None,
        }
    }

    /// Every refusal happens before a connection is attempted (the base URL
    /// points at a port nothing listens on, so reaching the network would
    /// give `Unreachable` instead).
    #[tokio::test]
    async fn refusals_happen_before_anything_is_sent() {
        let g = grants(Ok("http://127.0.0.1:9"));
        let cases = [
            (
                request("loki", Method::Get, "/x", &[]),
                "access-denied: endpoint `loki` is not granted to plugin `p`",
            ),
            (
                request("prometheus", Method::Post, "/x", &[]),
                "access-denied: method POST is not allowed",
            ),
            (
                request("prometheus", Method::Get, "/../x", &[]),
                "invalid-request: path `/../x` refused",
            ),
            (
                request(
                    "prometheus",
                    Method::Get,
                    "/x",
                    &[("Authorization", "Bearer mine")],
                ),
                "invalid-request: header `Authorization`",
            ),
        ];
        for (req, want) in cases {
            let got = match g.fetch(req).await {
                Err(HttpError::AccessDenied(m)) => format!("access-denied: {m}"),
                Err(HttpError::InvalidRequest(m)) => format!("invalid-request: {m}"),
                other => format!("{other:?}"),
            };
            assert!(got.starts_with(want), "{got}");
        }
    }

    /// A backend that closes a kept-alive connection on the next request (as one
    /// that restarted does) costs that request nothing: it is asked again on a new
    /// connection.
    #[tokio::test]
    async fn a_get_on_a_connection_the_backend_closed_is_asked_again() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let first = counter.fetch_add(1, Ordering::SeqCst) == 0;
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 8192];
                    for served in 0.. {
                        if matches!(socket.read(&mut buffer).await, Ok(0) | Err(_))
                            || (first && served == 1)
                        {
                            return;
                        }
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        socket.write_all(ok).await.unwrap();
                    }
                });
            }
        });
        let mut g = grants(Ok(&base));
        g.client = Some(client());
        for _ in 0..2 {
            let answer = g.fetch(request("prometheus", Method::Get, "/x", &[])).await;
            assert_eq!(answer.map(|r| r.body).unwrap(), b"ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_unavailable_endpoint_says_why() {
        let g = grants(Err(
            "endpoint `prometheus` is unavailable: environment variable PROM is not set",
        ));
        match g.fetch(request("prometheus", Method::Get, "/x", &[])).await {
            Err(HttpError::Unreachable(m)) => assert!(m.contains("PROM is not set"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
