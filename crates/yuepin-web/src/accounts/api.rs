//! Tokens, the caller's identity, accounts and the audit log as JSON.

use super::schema::{Created, MeResponse, TokenResponse};
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::openapi::{E400, E401, E403, E404, E409, E429};
use axum::extract::Path;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use yuepin_domain::Role;
use yuepin_enterprises_service::{FirstStep, NewAccount};
use yuepin_store::audit::{AuditEntry, Verification};
use yuepin_store::TokenRecord;
use yuepin_store::UserRecord;

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    me,
    create_token,
    reauth,
    list_tokens,
    revoke_token,
    list_users,
    create_user,
    disable_user,
    audit_list,
    audit_verify
))]
pub struct ApiDoc;

/// The caller's account and, for a page session, its CSRF token.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", operation_id = "me",
    responses((status = 200, description = "The signed-in user", body = MeResponse), E401))]
pub(super) async fn me(auth: Auth) -> WebResult<Json<Value>> {
    let u = auth.require_user()?;
    Ok(Json(json!({"user": u, "csrf_token": auth.csrf})))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct TokenRequest {
    username: String,
    password: String,
    #[serde(default)]
    name: String,
    /// Days until the token expires: 1 to 365, 90 when absent.
    #[serde(default)]
    days: Option<i64>,
    /// The TOTP code (or a recovery code) of an account with a second factor.
    #[serde(default)]
    code: Option<String>,
}

/// Exchanges a username and password for a bearer API token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "accounts", operation_id = "create_token",
    security(()), request_body = TokenRequest,
    responses((status = 201, description = "The new token", body = TokenResponse), E400, E401, E403, E429))]
pub(super) async fn create_token(
    Cx { state, auth }: Cx,
    ApiJson(req): ApiJson<TokenRequest>,
) -> WebResult<Response> {
    let service = &state.modules.enterprises;
    let user = match service
        .begin_sign_in(&req.username, &req.password, &auth.client_ip)
        .await?
    {
        FirstStep::Signed(user) => user,
        FirstStep::NeedsCode { challenge } => {
            service
                .finish_sign_in(
                    &challenge,
                    req.code.as_deref().unwrap_or_default(),
                    &auth.client_ip,
                )
                .await?
        }
    };
    if state.config.require_totp
        && yuepin_enterprises_service::totp_required(user.role)
        && !user.totp_enabled
    {
        return Err(WebError::TotpEnrolmentRequired);
    }
    let owner =
        yuepin_domain::Caller::user(user.id, &user.username, user.role, user.enterprise_id, None);
    let issued = state
        .modules
        .enterprises
        .issue_token(&owner, user.id, &req.name, req.days)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": issued.token, "expires_at": issued.record.expires_at, "id": issued.record.id, "user": user})),
    )
        .into_response())
}

/// The caller's own API tokens, newest first (never their values).
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "accounts", operation_id = "list_tokens",
    responses((status = 200, description = "The caller's tokens", body = Vec<TokenRecord>), E401))]
pub(super) async fn list_tokens(Cx { state, auth }: Cx) -> WebResult<Json<Vec<TokenRecord>>> {
    auth.require_user()?;
    Ok(Json(
        state.modules.enterprises.my_tokens(&auth.caller()).await?,
    ))
}

/// Revokes one of the caller's tokens (administrators: anyone's); another's token is 404.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "accounts", operation_id = "revoke_token",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 200, description = "The revoked token", body = TokenRecord), E401, E404))]
pub(super) async fn revoke_token(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<TokenRecord>> {
    auth.require_user()?;
    Ok(Json(
        state
            .modules
            .enterprises
            .revoke_token(&auth.caller(), id)
            .await?,
    ))
}

/// Disables an account (administrators): its sessions end and its tokens are revoked.
#[utoipa::path(post, path = "/api/v1/users/{username}/disable", tag = "accounts", operation_id = "disable_user",
    params(("username" = String, Path, description = "The account's username")),
    responses((status = 200, description = "The disabled account", body = UserRecord), E401, E403, E404))]
pub(super) async fn disable_user(
    Cx { state, auth }: Cx,
    Path(username): Path<String>,
) -> WebResult<Json<UserRecord>> {
    Ok(Json(
        state
            .modules
            .enterprises
            .disable_user(&auth.caller(), &username)
            .await?,
    ))
}

/// Every account (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", operation_id = "list_users",
    responses((status = 200, description = "Accounts", body = Vec<UserRecord>), E401, E403))]
pub(super) async fn list_users(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    Ok(Json(json!(
        state.modules.enterprises.accounts(&auth.caller()).await?
    )))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct UserInput {
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
    role: String,
    #[serde(default)]
    enterprise_uscc: Option<String>,
}

/// Creates an account (administrators).
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", operation_id = "create_user",
    request_body = UserInput,
    responses((status = 201, description = "The new account's id", body = Created), E400, E401, E403, E409))]
pub(super) async fn create_user(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<UserInput>,
) -> WebResult<Response> {
    let id = state
        .modules
        .enterprises
        .create_account(
            &auth.caller(),
            NewAccount {
                username: input.username,
                display_name: input.display_name,
                password: input.password,
                role: input.role,
                enterprise_uscc: input.enterprise_uscc,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditQuery {
    #[serde(default)]
    entity: Option<String>,
    #[serde(default)]
    entity_id: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

/// The audit log, newest first (regulators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts", operation_id = "audit_list",
    params(AuditQuery),
    responses((status = 200, description = "Audit entries", body = Vec<AuditEntry>), E401, E403))]
pub(super) async fn audit_list(
    Cx { state, auth }: Cx,
    Query(q): Query<AuditQuery>,
) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    let entries = state
        .store
        .audit_list(
            q.entity.as_deref(),
            q.entity_id.as_deref(),
            q.limit.unwrap_or(100).clamp(1, 1000),
        )
        .await?;
    Ok(Json(json!(entries)))
}

/// Verifies the audit log's hash chain (regulators).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "accounts", operation_id = "audit_verify",
    responses((status = 200, description = "The verification result", body = Verification), E401, E403))]
pub(super) async fn audit_verify(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    Ok(Json(json!(state.store.audit_verify().await?)))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct ReauthRequest {
    /// A current TOTP code (accounts with a second factor), else the password.
    secret: String,
}

/// Re-authenticates a page session (ASVS 7.5.3): money decisions and consent changes need
/// one within the last minutes. Bearer tokens are not re-authenticated: such a call needs a
/// token issued within the same minutes (with the password and the code).
#[utoipa::path(post, path = "/api/v1/auth/reauth", tag = "accounts", operation_id = "reauth",
    request_body = ReauthRequest,
    responses((status = 204, description = "Re-authenticated"), E400, E401, E429))]
pub(super) async fn reauth(
    Cx { state, auth }: Cx,
    ApiJson(req): ApiJson<ReauthRequest>,
) -> WebResult<Response> {
    auth.require_user()?;
    let Some(session) = auth.session_token.as_deref() else {
        return Err(WebError::ReauthRequired);
    };
    state
        .modules
        .enterprises
        .reauthenticate(&auth.caller(), &req.secret, &auth.client_ip)
        .await?;
    state.store.touch_reauth(session).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
