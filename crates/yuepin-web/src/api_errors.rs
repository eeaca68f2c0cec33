//! JSON errors for everything under `/api/`, including the answers that axum and tower give
//! before a handler runs: a body over the limit (413), a request address over
//! [`MAX_URI_LEN`] (414), a path or query parameter that does not parse (400), a method the
//! route does not have (405). Those come as plain text or empty (and axum's text names Rust
//! types, "Cannot parse `x` to a `i64`"); this layer gives them the documented `ErrorBody`
//! shape with a fixed message. Pages keep their own error pages; axum's plain-text 400s on
//! page addresses get a fixed sentence too.
//!
//! Addresses longer than 64 KiB never reach the router: hyper answers those with an empty 414.

use crate::error::WebError;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// The longest request address (path and query) accepted, in bytes.
pub const MAX_URI_LEN: usize = 8 * 1024;

/// Wraps every route of `router` (and its fallback).
pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(middleware::from_fn(json_errors))
}

async fn json_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let too_long = req
        .uri()
        .path_and_query()
        .is_some_and(|p| p.as_str().len() > MAX_URI_LEN);
    if too_long {
        return if api {
            WebError::UriTooLong.into_response()
        } else {
            (StatusCode::URI_TOO_LONG, WebError::UriTooLong.message()).into_response()
        };
    }
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    if !api {
        return plain_page_error(resp);
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => WebError::PayloadTooLarge,
        StatusCode::URI_TOO_LONG => WebError::UriTooLong,
        StatusCode::METHOD_NOT_ALLOWED => WebError::MethodNotAllowed,
        StatusCode::NOT_FOUND => WebError::NotFound("没有这个地址 (no such address)".into()),
        s if s.is_server_error() => WebError::Internal(format!("{s} without a JSON body")),
        _ => WebError::BadRequest(
            "请求地址中的参数无效 (a path or query parameter is not valid)".into(),
        ),
    };
    let mut out = error.into_response();
    // The status stays what it was (415, 422 …); only the body becomes the documented shape.
    *out.status_mut() = status;
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// A page address's rejection by axum (plain text such as "Invalid URL: Cannot parse `x` to a
/// `i64`") answered with a fixed bilingual sentence instead; pages' own error pages (HTML)
/// pass unchanged.
fn plain_page_error(resp: Response) -> Response {
    let is_text = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !is_text || resp.status() != StatusCode::BAD_REQUEST {
        return resp;
    }
    let message = "请求地址中的参数无效 (a path or query parameter is not valid)";
    (resp.status(), message).into_response()
}
