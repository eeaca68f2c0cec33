//! Re-authentication for money decisions and consent changes (ASVS 7.5.3): a route layer
//! ([`guard`]) on the policy capability's decisions and the credit capability's consent
//! grants and changes (and the tokens page's new tokens). The caller must have proved a
//! factor within `reauth_minutes` (server-side: the session's `reauth_at`, set at sign-in and
//! by a re-authentication; a bearer token's issue time). Otherwise:
//!
//! - **pages**: the answer is a form asking for the TOTP code (accounts with one) or the
//!   password, carrying the pending form's fields as hidden inputs and posting back to the
//!   same address; with a right `reauth_secret` the session is marked re-authenticated and
//!   the original request goes on with its fields as they were;
//! - **API, page session**: `401` with code `reauth_required`; `POST /api/v1/auth/reauth`
//!   with the code or password, then repeat the call;
//! - **API, bearer token**: `401 reauth_required`; a token issued (with the password and the
//!   code) within the last `reauth_minutes` passes, so automated decisions use a fresh,
//!   short-lived token.

use crate::auth::Auth;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use yuepin_enterprises_service::second_factor::within_minutes;

/// The form field that carries the code or password on the re-authentication form.
pub const SECRET_FIELD: &str = "reauth_secret";

#[derive(Template)]
#[template(path = "reauth.html")]
struct ReauthPage {
    tr: Tr,
    c: Chrome,
    error: String,
    action: String,
    fields: Vec<(String, String)>,
    totp: bool,
}

/// The route layer: `post(handler).layer(axum::middleware::from_fn(reauth::guard))`.
pub async fn guard(Extension(state): Extension<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let auth = match Auth::from_request_parts(&mut parts, &state).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let Some(user) = auth.user.clone() else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let fresh = auth
        .authenticated_at
        .as_deref()
        .is_some_and(|at| within_minutes(at, state.config.reauth_minutes));
    if fresh {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let uri = parts.uri.clone();
    if uri.path().starts_with("/api/") {
        return WebError::ReauthRequired.into_response();
    }
    let Ok(bytes) = axum::body::to_bytes(body, crate::BODY_LIMIT).await else {
        return page_error(WebError::PayloadTooLarge, &auth, &state, &uri);
    };
    let all: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
    let secret = all
        .iter()
        .find(|(k, _)| k == SECRET_FIELD)
        .map(|(_, v)| v.clone());
    let fields: Vec<(String, String)> =
        all.into_iter().filter(|(k, _)| k != SECRET_FIELD).collect();
    let page = |status: StatusCode, error: String| {
        let p = ReauthPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            error,
            action: uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            fields: fields.clone(),
            totp: user.totp_enabled,
        };
        let mut resp = render(&p, &auth, &uri);
        *resp.status_mut() = status;
        resp
    };
    let Some(secret) = secret else {
        return page(StatusCode::UNAUTHORIZED, String::new());
    };
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    if let Err(e) = auth.check_csrf(csrf) {
        return page_error(e, &auth, &state, &uri);
    }
    let checked = state
        .modules
        .enterprises
        .reauthenticate(&auth.caller(), &secret, &auth.client_ip)
        .await;
    match checked {
        Ok(()) => {
            if let Some(token) = auth.session_token.as_deref() {
                if let Err(e) = state.store.touch_reauth(token).await {
                    return page_error(e.into(), &auth, &state, &uri);
                }
            }
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields.iter())
                .finish();
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        Err(e) => {
            let e = WebError::from(e);
            let msg = match e {
                WebError::TooManyAttempts(_) => e.message(),
                _ => auth
                    .tr
                    .t(
                        "验证失败：验证码或密码错误、已用过或已过期。",
                        "Not confirmed: wrong, used or expired code or password.",
                    )
                    .into(),
            };
            let status = if e.status() == StatusCode::TOO_MANY_REQUESTS {
                e.status()
            } else {
                StatusCode::UNAUTHORIZED
            };
            page(status, msg)
        }
    }
}
