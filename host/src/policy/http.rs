//! HTTP decisions: which URL a plugin's path resolves to (never another scheme,
//! host, port or a path above the endpoint's base, whatever the decoding
//! tricks), which methods it may use, and which headers it may set: only those
//! on an allow-list, so a routing, override or credential header a backend
//! might honour never comes from a plugin.

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

/// Headers the host owns: never a plugin's, and never on an endpoint's
/// `headers_allowed` (hop-by-hop, framing, routing and credentials).
const HOST_OWNED: &[&str] = &[
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

/// Headers any plugin may set on any endpoint: content negotiation and
/// conditional requests. An endpoint's `headers_allowed` adds to them.
pub const SAFE_HEADERS: &[&str] = &[
    "accept",
    "accept-language",
    "cache-control",
    "content-type",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-unmodified-since",
    "range",
];

/// A header name as backends read it: lowercase, with `_` as `-` (CGI and
/// WSGI servers fold both into one `HTTP_X_API_KEY`).
pub fn normalise_header(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// Whether `name` may appear in an endpoint's `headers_allowed`: a valid name
/// the host does not own. Returns why not.
pub fn check_allowable_header(name: &str) -> Result<(), &'static str> {
    let norm = normalise_header(name);
    if !valid_header_name(&norm) {
        Err("not a valid header name")
    } else if host_owned(&norm) {
        Err("the host owns it (credentials go in `headers`)")
    } else {
        Ok(())
    }
}

fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b))
}

fn host_owned(norm: &str) -> bool {
    HOST_OWNED.contains(&norm) || norm.starts_with("proxy-") || norm.starts_with("sec-")
}

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

/// Whether a plugin may send header `name` to an endpoint that allows
/// `allowed` (normalised, beyond [`SAFE_HEADERS`]) and whose operator injects
/// `configured`. Returns the name to send: the normalised one.
pub fn check_header(
    name: &str,
    value: &str,
    allowed: &[String],
    configured: &[&str],
) -> Result<String, Refusal> {
    let norm = normalise_header(name);
    let refuse = |why| {
        Err(Refusal::Header {
            name: name.into(),
            why,
        })
    };
    if !valid_header_name(&norm) {
        return refuse("not a valid header name");
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return refuse("the value contains a line break");
    }
    if configured.iter().any(|c| normalise_header(c) == norm) {
        return refuse("the operator configures it for this endpoint");
    }
    if host_owned(&norm) {
        return refuse("the host owns it");
    }
    if SAFE_HEADERS.contains(&norm.as_str()) || allowed.contains(&norm) {
        Ok(norm)
    } else {
        refuse(
            "it is not allowed on this endpoint (allowed: Accept, Accept-Language, Cache-Control, Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since, Range, and the endpoint's headers_allowed)",
        )
    }
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
    let lower_path = path.to_ascii_lowercase();
    if lower_path.contains("%25") {
        return refuse("it contains an encoded `%` (`%25`), which a server may decode twice");
    }
    if path.contains(';') {
        return refuse("`;` path parameters are not allowed");
    }
    let decoded_dots = lower_path.replace("%2e", ".");
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
        check(b, "/a/%252e%252e/b", Err("encoded `%`"));
        check(b, "/a/%252E%252E%252Fadmin", Err("encoded `%`"));
        check(b, "/a/..;/admin", Err("`;` path parameters"));
        check(b, "/a;jsessionid=1", Err("`;` path parameters"));
        check(
            b,
            "/api/v1/query?query=x%25y;z",
            Ok("http://127.0.0.1:9090/api/v1/query?query=x%25y;z"),
        );
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
    fn methods() {
        let allowed = vec!["GET".to_string(), "HEAD".to_string()];
        assert!(check_method("p", "GET", &allowed).is_ok());
        assert!(
            check_method("p", "POST", &allowed)
                .unwrap_err()
                .to_string()
                .contains("allowed: GET, HEAD")
        );
    }

    fn header(name: &str, allowed: &[&str], configured: &[&str], expected: Result<&str, &str>) {
        let allowed: Vec<String> = allowed.iter().map(|a| normalise_header(a)).collect();
        match (check_header(name, "v", &allowed, configured), expected) {
            (Ok(sent), Ok(want)) => assert_eq!(sent, want, "{name}"),
            (Err(e), Err(why)) => assert!(e.to_string().contains(why), "{name}: {e}"),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn headers_by_allow_list() {
        header("Accept", &[], &[], Ok("accept"));
        header("If-None-Match", &[], &[], Ok("if-none-match"));
        header("accept_language", &[], &[], Ok("accept-language"));
        header(
            "X-Scope-OrgID",
            &["X-Scope-OrgID"],
            &[],
            Ok("x-scope-orgid"),
        );
        header(
            "x_scope_orgid",
            &["X-Scope-OrgID"],
            &[],
            Ok("x-scope-orgid"),
        );
        for hostile in [
            "X_Forwarded_For",
            "Proxy_Authorization",
            "X-HTTP-Method-Override",
            "X-HTTP-Method",
            "X-Method-Override",
            "X-Original-URL",
            "X-Rewrite-URL",
            "X-Forwarded-Prefix",
            "X-Forwarded-Port",
            "X-Forwarded-Server",
            "X-Real-IP",
            "True-Client-IP",
            "X-Client-IP",
            "X-Scope-OrgID",
        ] {
            header(hostile, &[], &[], Err("cannot be set by a plugin"));
        }
        header(
            "x_api_key",
            &[],
            &["x-api-key"],
            Err("operator configures it"),
        );
        header("X-API-KEY", &["x-api-key"], &["x-api-key"], Err("operator"));
        header(
            "Authorization",
            &["authorization"],
            &[],
            Err("host owns it"),
        );
        header("Cookie", &[], &[], Err("host owns it"));
        header("Sec-Fetch-Site", &[], &[], Err("host owns it"));
        header("bad header", &[], &[], Err("not a valid header name"));
        assert!(check_header("accept", "a\r\nb", &[], &[]).is_err());
        assert!(check_allowable_header("X-Scope-OrgID").is_ok());
        assert!(check_allowable_header("proxy_authorization").is_err());
        assert!(check_allowable_header("x forwarded").is_err());
    }
}

/// Generated hostile paths and headers: whatever a plugin sends, an accepted
/// path stays on the endpoint's origin and below its base even after a server
/// decodes it again, and an accepted header is on the allow-list.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Pieces attackers combine to climb out of a base path.
    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("..".to_string()),
            Just(".".to_string()),
            Just("%2e%2e".to_string()),
            Just("%2E.".to_string()),
            Just("%252e%252e".to_string()),
            Just("%25%32%65".to_string()),
            Just("..;".to_string()),
            Just(";x=1".to_string()),
            Just("%2f".to_string()),
            Just("%5c".to_string()),
            Just("\\".to_string()),
            Just("".to_string()),
            Just("@evil".to_string()),
            Just("http:".to_string()),
            Just("%00".to_string()),
            Just("%".to_string()),
            "[a-zA-Z0-9_~-]{1,6}",
        ]
    }

    fn path() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(segment(), 1..6),
            prop::option::of("[a-z=&%0-9.;/]{0,12}"),
        )
            .prop_map(|(segments, query)| {
                let mut p = format!("/{}", segments.join("/"));
                if let Some(q) = query {
                    p.push('?');
                    p.push_str(&q);
                }
                p
            })
    }

    /// Percent-decode once (invalid escapes left as they are).
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if bytes[i] == b'%'
                && i + 2 < bytes.len()
                && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
            {
                out.push((h * 16 + l) as u8);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn accepted_paths_stay_below_the_base(p in path()) {
            let base = Url::parse("http://127.0.0.1:9090/prometheus").unwrap();
            if let Ok(url) = resolve_url(&base, &p) {
                prop_assert_eq!(url.origin(), base.origin());
                prop_assert!(url.username().is_empty() && url.password().is_none());
                // However many times a server decodes it, no segment climbs,
                // and no `;` parameter or `\` appears.
                let mut decoded = url.path().to_string();
                for _ in 0..3 {
                    decoded = decode(&decoded);
                    prop_assert!(decoded.starts_with("/prometheus/"), "{} -> {}", p, decoded);
                    for seg in decoded.split('/') {
                        prop_assert!(seg != ".." && seg != ".", "{} -> {}", p, decoded);
                    }
                    prop_assert!(!decoded.contains(';') && !decoded.contains('\\'), "{} -> {}", p, decoded);
                }
            }
        }

        #[test]
        fn accepted_headers_are_on_the_allow_list(
            name in prop_oneof![
                Just("X-Forwarded-For"), Just("Authorization"), Just("Proxy-Authorization"),
                Just("X-HTTP-Method-Override"), Just("X-Original-URL"), Just("X-Real-IP"),
                Just("Host"), Just("Cookie"), Just("X-Api-Key"), Just("Accept"),
                Just("If-None-Match"), Just("X-Scope-OrgID"), Just("Transfer-Encoding"),
            ],
            case in prop::collection::vec(any::<bool>(), 32),
            underscores in prop::collection::vec(any::<bool>(), 32),
        ) {
            // The same name in any mix of case and `_` for `-`.
            let disguised: String = name
                .chars()
                .zip(case.iter().cycle().zip(underscores.iter().cycle()))
                .map(|(c, (upper, underscore))| match c {
                    '-' if *underscore => '_',
                    c if *upper => c.to_ascii_uppercase(),
                    c => c.to_ascii_lowercase(),
                })
                .collect();
            let allowed = vec!["x-scope-orgid".to_string()];
            let configured = ["x-api-key"];
            let verdict = check_header(&disguised, "v", &allowed, &configured);
            let norm = name.to_ascii_lowercase();
            let expected = SAFE_HEADERS.contains(&norm.as_str()) || norm == "x-scope-orgid";
            prop_assert_eq!(verdict.is_ok(), expected, "{} ({})", disguised, name);
            if let Ok(sent) = verdict {
                prop_assert_eq!(sent, norm);
            }
        }
    }
}
