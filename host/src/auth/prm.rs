//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document that tells
//! an MCP client which authorization servers issue tokens for this server
//! and which scopes to ask for, served at `/.well-known/oauth-protected-resource`
//! and at its form with the resource's path appended (`…/mcp`), which the
//! 401's `WWW-Authenticate: Bearer resource_metadata="…"` points to.

use axum::http::header;
use axum::routing::get;

use crate::config::AuthConfig;

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The metadata document.
pub fn document(config: &AuthConfig, name: &str) -> serde_json::Value {
    serde_json::json!({
        "resource": config.resource.as_str(),
        "authorization_servers": config.authorization_servers,
        "scopes_supported": config.scopes,
        "bearer_methods_supported": ["header"],
        "resource_name": name,
    })
}

/// Where clients fetch it: the resource's origin, the well-known prefix,
/// then the resource's path (RFC 9728 §3.1).
pub fn url(config: &AuthConfig) -> String {
    let mut url = config.resource.clone();
    let path = config.resource.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{WELL_KNOWN}{path}"));
    url.set_query(None);
    url.to_string()
}

/// The routes serving the document: the bare well-known path, its `/mcp`
/// form, and the form for the configured resource's path (behind a proxy
/// that maps another path onto `/mcp`).
pub fn routes(config: &AuthConfig, name: &str) -> axum::Router {
    let doc = document(config, name).to_string();
    let mut paths = vec![WELL_KNOWN.to_string(), format!("{WELL_KNOWN}/mcp")];
    let own = format!(
        "{WELL_KNOWN}{}",
        config.resource.path().trim_end_matches('/')
    );
    if !paths.contains(&own) {
        paths.push(own);
    }
    let mut router = axum::Router::new();
    for path in paths {
        let doc = doc.clone();
        router = router.route(
            &path,
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc) }),
        );
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_found_under_the_resource_path() {
        let config = |resource: &str| AuthConfig {
            resource: url::Url::parse(resource).unwrap(),
            authorization_servers: vec!["https://auth.example.com".into()],
            scopes: vec!["mcp:tools".into()],
            leeway: std::time::Duration::from_secs(30),
            tokens: vec![],
            introspection: None,
        };
        assert_eq!(
            url(&config("https://mcp.example.com/mcp")),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            url(&config("https://mcp.example.com/")),
            "https://mcp.example.com/.well-known/oauth-protected-resource"
        );
        let doc = document(&config("https://mcp.example.com/mcp"), "plue");
        assert_eq!(doc["resource"], "https://mcp.example.com/mcp");
        assert_eq!(doc["authorization_servers"][0], "https://auth.example.com");
        assert_eq!(doc["scopes_supported"][0], "mcp:tools");
    }
}
