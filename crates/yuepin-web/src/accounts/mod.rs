//! Identity: sign-in and sign-out pages, the password page, API tokens (issued, listed,
//! revoked), `/api/v1/me`, accounts (regulators create and disable them) and the audit log's
//! API. Sessions, rate limits and CSRF live in `crate::auth`.

mod api;
mod manage;
mod pages;
mod password;
mod schema;
mod second_factor;

pub use api::ApiDoc;

use crate::error::WebError;
use crate::AppState;
use axum::middleware::from_fn;
use axum::routing::{delete, get, post};
use axum::Router;
use yuepin_enterprises_service::EnterprisesError;

/// The registry's second-factor refusals as web errors.
pub fn second_factor_error(e: &EnterprisesError) -> WebError {
    match e {
        EnterprisesError::WrongCode => WebError::field(
            "code",
            "验证码错误、已用过或已过期 (wrong, used or expired code)",
        ),
        EnterprisesError::ChallengeExpired => {
            WebError::BadRequest("验证步骤已过期，请重新登录 (sign in again)".into())
        }
        EnterprisesError::TotpNotPending => {
            WebError::Conflict("没有进行中的绑定 (no enrolment in progress)".into())
        }
        _ => WebError::Conflict("双重验证已开启 (already enrolled)".into()),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(pages::login_form).post(pages::login_submit))
        .route("/login/code", post(second_factor::code_submit))
        .route("/logout", post(pages::logout))
        .route(
            "/account/totp",
            get(second_factor::totp_form).post(second_factor::totp_submit),
        )
        .route(
            "/account/totp/recovery-codes",
            post(second_factor::recovery_codes_submit),
        )
        .route(
            "/account/tokens",
            get(manage::tokens)
                .post(manage::create_token)
                .route_layer(from_fn(crate::reauth::guard)),
        )
        .route("/account/tokens/{id}/revoke", post(manage::revoke_token))
        .route("/account/users", get(manage::users))
        .route(
            "/account/users/{username}/{action}",
            post(manage::user_action).layer(from_fn(crate::reauth::guard)),
        )
        .route("/api/v1/auth/reauth", post(api::reauth))
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
