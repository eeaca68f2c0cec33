//! Shapes of the accounts API's JSON answers that handlers build with `json!`, for the OpenAPI
//! document only (never constructed, hence `dead_code` allowed).
#![allow(dead_code)]

use utoipa::ToSchema;
use yuepin_store::UserRecord;

#[derive(ToSchema)]
pub(super) struct MeResponse {
    user: UserRecord,
    /// The session's CSRF token (send it as X-CSRF-Token); null for bearer tokens.
    csrf_token: Option<String>,
}

#[derive(ToSchema)]
pub(super) struct TokenResponse {
    /// The bearer token (`yp_…`); shown once.
    token: String,
    /// The token's id (to revoke it).
    id: i64,
    /// When it stops working (RFC 3339, UTC).
    expires_at: String,
    user: UserRecord,
}

/// The id of a created record.
#[derive(ToSchema)]
pub(crate) struct Created {
    id: i64,
}
