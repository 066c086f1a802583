//! The axum middleware in front of `/mcp`: reads `Authorization: Bearer`,
//! asks the [`Authenticator`], and either refuses the request the way the
//! MCP specification describes (401 with `WWW-Authenticate: Bearer
//! resource_metadata="…"`, or 403 with `error="insufficient_scope"`) or
//! passes it on with its [`Principal`] in the request's extensions, where
//! the MCP front end reads it.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{Authenticator, Refusal};

/// `router` with every request authenticated first.
pub fn layer(router: axum::Router, authenticator: Arc<Authenticator>) -> axum::Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let authenticator = authenticator.clone();
            async move { authenticate(&authenticator, request, next).await }
        },
    ))
}

async fn authenticate(auth: &Authenticator, mut request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match auth.authenticate(presented).await {
        Ok(principal) => {
            request.extensions_mut().insert(Arc::new(principal));
            next.run(request).await
        }
        Err(refusal) => {
            tracing::debug!(?refusal, "refused an unauthenticated /mcp request");
            refuse(auth, &refusal)
        }
    }
}

/// The 401 or 403 for `refusal`.
fn refuse(auth: &Authenticator, refusal: &Refusal) -> Response {
    let config = auth.config();
    let mut params = vec![format!("resource_metadata=\"{}\"", super::prm::url(config))];
    if !config.scopes.is_empty() {
        params.push(format!("scope=\"{}\"", config.scopes.join(" ")));
    }
    let (status, body) = match refusal {
        Refusal::Missing => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized: send `Authorization: Bearer TOKEN` (see the resource metadata for where to get one)".to_string(),
        ),
        Refusal::Invalid(why) => {
            params.insert(0, "error=\"invalid_token\"".into());
            params.push(format!("error_description=\"{}\"", quoted(why)));
            (StatusCode::UNAUTHORIZED, format!("Unauthorized: {why}"))
        }
        Refusal::InsufficientScope => {
            params.insert(0, "error=\"insufficient_scope\"".into());
            (
                StatusCode::FORBIDDEN,
                format!(
                    "Forbidden: the token lacks a required scope ({})",
                    config.scopes.join(" ")
                ),
            )
        }
    };
    let challenge = format!("Bearer {}", params.join(", "));
    let mut response = (status, body).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Text safe inside a header's quoted-string (printable ASCII, no quotes).
fn quoted(text: &str) -> String {
    text.chars()
        .filter(|c| (c.is_ascii_graphic() || *c == ' ') && *c != '"' && *c != '\\')
        .collect()
}
