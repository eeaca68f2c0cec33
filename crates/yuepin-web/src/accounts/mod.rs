//! Identity: sign-in and sign-out pages, the password page, API tokens (issued, listed,
//! revoked), `/api/v1/me`, accounts (regulators create and disable them) and the audit log's
//! API. Sessions, rate limits and CSRF live in `crate::auth`.

mod api;
mod pages;
mod password;
mod schema;

pub use api::ApiDoc;

use crate::AppState;
use axum::routing::{delete, get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(pages::login_form).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route("/api/v1/me", get(api::me))
        .route(
            "/account/password",
            get(password::form).post(password::submit),
        )
        .route("/api/v1/auth/token", post(api::create_token))
        .route("/api/v1/auth/tokens", get(api::list_tokens))
        .route("/api/v1/auth/tokens/{id}", delete(api::revoke_token))
        .route("/api/v1/users", get(api::list_users).post(api::create_user))
        .route("/api/v1/users/{username}/disable", post(api::disable_user))
        .route("/api/v1/audit", get(api::audit_list))
        .route("/api/v1/audit/verify", get(api::audit_verify))
}
