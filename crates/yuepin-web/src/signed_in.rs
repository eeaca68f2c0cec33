//! API writes need a signed-in caller before anything else is looked at (ASVS 8.x): a
//! signed-out `POST`, `PUT`, `PATCH` or `DELETE` under `/api/` answers `401` before its body is
//! decoded, so a stranger learns nothing from which bodies are valid (the access matrix showed
//! `400` for such calls). Signing in and the public self-check are the exceptions. The caller
//! found here is kept in the request's extensions, so the handler's `Auth` does not look the
//! session or token up a second time.

use crate::auth::Auth;
use crate::error::WebError;
use crate::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The API writes a signed-out caller may make.
pub const ANONYMOUS_API_WRITES: &[&str] = &["/api/v1/auth/token", "/api/v1/policy/check"];

/// The middleware: see the module comment.
pub async fn api_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let read = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    if read || !path.starts_with("/api/") || ANONYMOUS_API_WRITES.contains(&path) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    match Auth::from_request_parts(&mut parts, &state).await {
        Ok(auth) if auth.user.is_some() => {
            parts.extensions.insert(auth);
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(_) => WebError::Unauthenticated.into_response(),
        Err(e) => e.into_response(),
    }
}
