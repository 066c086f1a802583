//! HTTP decisions: which URL a plugin's path resolves to (never another scheme,
//! host, port or a path above the endpoint's base), which methods and headers
//! it may use.

use url::Url;

/// Why a request was refused before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("method {method} is not allowed on endpoint `{endpoint}` (allowed: {allowed})")]
    Method {
        method: String,
        endpoint: String,
        allowed: String,
    },
    #[error("path `{path}` refused: {why}")]
    Path { path: String, why: &'static str },
    #[error("header `{name}` cannot be set by a plugin: {why}")]
    Header { name: String, why: &'static str },
}

/// Headers a plugin may never set: hop-by-hop and routing headers, and anything
/// that carries credentials (the operator configures those per endpoint).
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "authorization",
    "proxy-authorization",
    "cookie",
    "connection",
    "content-length",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
];

/// Whether `method` is in the endpoint's allow-list.
pub fn check_method(endpoint: &str, method: &str, allowed: &[String]) -> Result<(), Refusal> {
    if allowed.iter().any(|m| m == method) {
        Ok(())
    } else {
        Err(Refusal::Method {
            method: method.into(),
            endpoint: endpoint.into(),
            allowed: allowed.join(", "),
        })
    }
}

/// Whether a plugin may send header `name` to an endpoint whose operator
/// configured `configured` headers.
pub fn check_header(name: &str, value: &str, configured: &[&str]) -> Result<(), Refusal> {
    let lower = name.to_ascii_lowercase();
    let refuse = |why| {
        Err(Refusal::Header {
            name: name.into(),
            why,
        })
    };
    if lower.is_empty()
        || !lower
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b))
    {
        return refuse("not a valid header name");
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return refuse("the value contains a line break");
    }
    if FORBIDDEN_HEADERS.contains(&lower.as_str())
        || lower.starts_with("proxy-")
        || lower.starts_with("sec-")
    {
        return refuse("the host owns it");
    }
    if configured.iter().any(|c| c.eq_ignore_ascii_case(&lower)) {
        return refuse("the operator configures it for this endpoint");
    }
    Ok(())
}

/// The URL for `path_and_query` below `base`: same scheme, host and port, and a
/// path inside the base path.
pub fn resolve_url(base: &Url, path_and_query: &str) -> Result<Url, Refusal> {
    let refuse = |why| {
        Err(Refusal::Path {
            path: path_and_query.into(),
            why,
        })
    };
    if !path_and_query.starts_with('/') {
        return refuse("it must start with `/`");
    }
    if path_and_query.starts_with("//") {
        return refuse("`//` would name another host");
    }
    if path_and_query
        .bytes()
        .any(|b| b.is_ascii_control() || b == b' ')
    {
        return refuse("it contains spaces or control characters (percent-encode them)");
    }
    if path_and_query.contains('\\') {
        return refuse("it contains `\\`");
    }
    if path_and_query.contains('#') {
        return refuse("fragments are not sent to servers");
    }
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let decoded_dots = path.to_ascii_lowercase().replace("%2e", ".");
    if decoded_dots.contains("%2f") || decoded_dots.contains("%5c") {
        return refuse("encoded `/` or `\\` in the path");
    }
    if decoded_dots.split('/').any(|seg| seg == ".." || seg == ".") {
        return refuse("`.` and `..` segments are not allowed");
    }
    if path.contains('@') || path.contains("://") {
        return refuse("it looks like a URL, not a path");
    }
    let base_path = base.path().trim_end_matches('/');
    let mut url = base.clone();
    url.set_path(&format!("{base_path}{path}"));
    url.set_query(query);
    // Defence in depth: whatever the parser made of it, it must still be the
    // endpoint's origin and below its path.
    if url.scheme() != base.scheme()
        || url.host_str() != base.host_str()
        || url.port_or_known_default() != base.port_or_known_default()
        || !url.path().starts_with(base_path)
        || !url.username().is_empty()
    {
        return refuse("it leaves the endpoint");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(base: &str, path: &str, expected: Result<&str, &str>) {
        let base = Url::parse(base).unwrap();
        match (resolve_url(&base, path), expected) {
            (Ok(url), Ok(want)) => assert_eq!(url.as_str(), want, "{path}"),
            (Err(e), Err(why)) => assert!(e.to_string().contains(why), "{path}: {e}"),
            (got, want) => panic!("{path}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn paths_stay_below_the_base() {
        let b = "http://127.0.0.1:9090";
        check(
            b,
            "/api/v1/query?query=up",
            Ok("http://127.0.0.1:9090/api/v1/query?query=up"),
        );
        check(
            "https://h.example/prometheus/",
            "/api/v1/labels",
            Ok("https://h.example/prometheus/api/v1/labels"),
        );
        check(
            "https://h.example/prometheus",
            "/api/v1/labels?match%5B%5D=up",
            Ok("https://h.example/prometheus/api/v1/labels?match%5B%5D=up"),
        );
        check(b, "api/v1/query", Err("must start with `/`"));
        check(b, "//evil.example/x", Err("another host"));
        check(b, "/../admin", Err("`..` segments"));
        check(b, "/a/%2e%2e/b", Err("`..` segments"));
        check(b, "/a/%2E%2e/b", Err("`..` segments"));
        check(b, "/a%2f..%2fb", Err("encoded `/`"));
        check(b, "/a\\b", Err("`\\`"));
        check(b, "/a#frag", Err("fragments"));
        check(b, "/a b", Err("spaces"));
        check(b, "/x\r\nHost: evil", Err("control"));
        check(b, "/@evil.example", Err("looks like a URL"));
        check(b, "/http://evil.example/", Err("looks like a URL"));
        check(
            b,
            "/ok?next=http://evil.example/",
            Ok("http://127.0.0.1:9090/ok?next=http://evil.example/"),
        );
    }

    #[test]
    fn methods_and_headers() {
        let allowed = vec!["GET".to_string(), "HEAD".to_string()];
        assert!(check_method("p", "GET", &allowed).is_ok());
        assert!(
            check_method("p", "POST", &allowed)
                .unwrap_err()
                .to_string()
                .contains("allowed: GET, HEAD")
        );
        assert!(check_header("accept", "application/json", &[]).is_ok());
        for bad in [
            "Authorization",
            "host",
            "Cookie",
            "Proxy-Foo",
            "Content-Length",
            "bad header",
        ] {
            assert!(check_header(bad, "x", &[]).is_err(), "{bad}");
        }
        assert!(
            check_header("x-api-key", "x", &["x-api-key"])
                .unwrap_err()
                .to_string()
                .contains("operator")
        );
        assert!(check_header("x-ok", "a\r\nb", &[]).is_err());
    }
}
