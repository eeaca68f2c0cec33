//! The codes JSON API under `/api/v1/codes`: applications and decisions, the two rules, series
//! and issuing (answered as CSV), status changes, counterfeit signals and scan counts. Each
//! handler parses the request, calls the codes service with the caller and sends its answer.

use super::{StatusRequest, WEB_ISSUE_LIMIT};
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::openapi::{E400, E401, E403, E404, E409};
use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use yuepin_codes_service::{
    ApplicationRecord, ApplicationStatus, ApplyRequest, ApprovalRule, CodeScans, SeriesDetail,
    SignalRule, Signals, StatusChanged,
};

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_applications,
    apply,
    application,
    decide,
    get_rule,
    put_rule,
    get_signal_rule,
    put_signal_rule,
    series,
    issue,
    status,
    signals,
    code_scans
))]
pub struct ApiDoc;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CodeApplyInput)]
pub(super) struct ApplyInput {
    pub product_id: i64,
    #[serde(default)]
    pub lot: Option<String>,
    pub quantity: i64,
    #[serde(default)]
    pub note: String,
}

impl From<ApplyInput> for ApplyRequest {
    fn from(i: ApplyInput) -> Self {
        ApplyRequest {
            product_id: i.product_id,
            lot: i.lot,
            quantity: i.quantity,
            note: i.note,
        }
    }
}

/// Applies for a series of codes for a product (enterprise users).
#[utoipa::path(
    post, path = "/api/v1/codes/applications", tag = "codes", operation_id = "apply_codes",
    request_body = ApplyInput,
    responses((status = 201, description = "The application", body = ApplicationRecord), E400, E401, E403, E409)
)]
pub(super) async fn apply(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<ApplyInput>,
) -> WebResult<Response> {
    let app = state
        .modules
        .codes
        .apply(&auth.caller(), input.into())
        .await?;
    Ok((StatusCode::CREATED, Json(json!(app))).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AppListQuery {
    /// pending, approved or rejected; empty for all.
    #[serde(default)]
    status: String,
}

/// The `status` filter of the application list ("" for all).
pub(super) fn status_filter(status: &str) -> WebResult<Option<ApplicationStatus>> {
    match status.trim() {
        "" => Ok(None),
        s => ApplicationStatus::parse(s).map(Some).ok_or_else(|| {
            WebError::field(
                "status",
                "须为 pending/approved/rejected (must be pending, approved or rejected)",
            )
        }),
    }
}

/// Code applications the caller may see.
#[utoipa::path(
    get, path = "/api/v1/codes/applications", tag = "codes", operation_id = "list_code_applications",
    params(AppListQuery),
    responses((status = 200, description = "Applications", body = Vec<ApplicationRecord>), E400, E401, E403)
)]
pub(super) async fn list_applications(
    Cx { state, auth }: Cx,
    Query(q): Query<AppListQuery>,
) -> WebResult<Json<Value>> {
    let status = status_filter(&q.status)?;
    let apps = state
        .modules
        .codes
        .applications(&auth.caller(), status)
        .await?;
    Ok(Json(json!(apps)))
}

/// One code application.
#[utoipa::path(
    get, path = "/api/v1/codes/applications/{id}", tag = "codes", operation_id = "get_code_application",
    params(("id" = i64, Path, description = "Application id")),
    responses((status = 200, description = "The application", body = ApplicationRecord), E401, E403, E404)
)]
pub(super) async fn application(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let app = state.modules.codes.application(&auth.caller(), id).await?;
    Ok(Json(json!(app)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CodeDecisionInput)]
pub(super) struct DecisionInput {
    approve: bool,
    #[serde(default)]
    reason: String,
}

/// Approves or rejects an application (regulators).
#[utoipa::path(
    post, path = "/api/v1/codes/applications/{id}/decision", tag = "codes", operation_id = "decide_code_application",
    params(("id" = i64, Path, description = "Application id")),
    request_body = DecisionInput,
    responses((status = 200, description = "The decided application", body = ApplicationRecord), E400, E401, E403, E404, E409)
)]
pub(super) async fn decide(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> WebResult<Json<Value>> {
    let app = state
        .modules
        .codes
        .decide(&auth.caller(), id, input.approve, &input.reason)
        .await?;
    Ok(Json(json!(app)))
}

/// The automatic approval rule.
#[utoipa::path(
    get, path = "/api/v1/codes/approval-rule", tag = "codes", operation_id = "get_approval_rule",
    responses((status = 200, description = "The rule", body = ApprovalRule), E401, E403)
)]
pub(super) async fn get_rule(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    let rule = state.modules.codes.approval_rule(&auth.caller()).await?;
    Ok(Json(json!(rule)))
}

/// Replaces the automatic approval rule (regulators).
#[utoipa::path(
    put, path = "/api/v1/codes/approval-rule", tag = "codes", operation_id = "put_approval_rule",
    request_body = ApprovalRule,
    responses((status = 200, description = "The rule", body = ApprovalRule), E400, E401, E403)
)]
pub(super) async fn put_rule(
    Cx { state, auth }: Cx,
    ApiJson(rule): ApiJson<ApprovalRule>,
) -> WebResult<Json<Value>> {
    let rule = state
        .modules
        .codes
        .set_approval_rule(&auth.caller(), rule)
        .await?;
    Ok(Json(json!(rule)))
}

/// The counterfeit signal rule.
#[utoipa::path(
    get, path = "/api/v1/codes/signal-rule", tag = "codes", operation_id = "get_signal_rule",
    responses((status = 200, description = "The rule", body = SignalRule), E401, E403)
)]
pub(super) async fn get_signal_rule(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    let rule = state.modules.codes.signal_rule(&auth.caller()).await?;
    Ok(Json(json!(rule)))
}

/// Replaces the counterfeit signal rule (regulators).
#[utoipa::path(
    put, path = "/api/v1/codes/signal-rule", tag = "codes", operation_id = "put_signal_rule",
    request_body = SignalRule,
    responses((status = 200, description = "The rule", body = SignalRule), E400, E401, E403)
)]
pub(super) async fn put_signal_rule(
    Cx { state, auth }: Cx,
    ApiJson(rule): ApiJson<SignalRule>,
) -> WebResult<Json<Value>> {
    let rule = state
        .modules
        .codes
        .set_signal_rule(&auth.caller(), rule)
        .await?;
    Ok(Json(json!(rule)))
}

/// One series with its issued counts.
#[utoipa::path(
    get, path = "/api/v1/codes/series/{id}", tag = "codes", operation_id = "get_code_series",
    params(("id" = i64, Path, description = "Series id")),
    responses((status = 200, description = "The series", body = SeriesDetail), E401, E403, E404)
)]
pub(super) async fn series(Cx { state, auth }: Cx, Path(id): Path<i64>) -> WebResult<Json<Value>> {
    let detail = state.modules.codes.series(&auth.caller(), id).await?;
    Ok(Json(json!(detail)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct IssueInput {
    count: i64,
}

/// Issues codes of an approved series (owner enterprise or regulator); answers with the CSV.
/// Issues codes of an approved series; answers with the codes as CSV.
#[utoipa::path(
    post, path = "/api/v1/codes/series/{id}/issue", tag = "codes", operation_id = "issue_codes",
    params(("id" = i64, Path, description = "Series id")),
    request_body = IssueInput,
    responses((status = 201, description = "The issued codes", content_type = "text/csv", body = String), E400, E401, E403, E404, E409)
)]
pub(super) async fn issue(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<IssueInput>,
) -> WebResult<Response> {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_entropy();
    // A negative count is out of range like zero.
    let count = usize::try_from(input.count).unwrap_or(0);
    let issued = state
        .modules
        .codes
        .issue(&auth.caller(), id, count, WEB_ISSUE_LIMIT, &mut rng)
        .await?;
    let mut csv = Vec::new();
    yuepin_code::write_csv(&issued.codes, &mut csv)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"codes-series-{id}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct StatusInput {
    /// code / lot / product / enterprise
    scope: String,
    /// revoke / suspend / reinstate / recall
    action: String,
    #[serde(default)]
    reason: String,
    /// For scope code: the code's full URI, or its id.
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    code_id: Option<i64>,
    #[serde(default)]
    product_id: Option<i64>,
    #[serde(default)]
    lot: Option<String>,
    #[serde(default)]
    uscc: Option<String>,
}

/// Revokes, suspends, reinstates or recalls a code, lot, product or enterprise.
#[utoipa::path(
    post, path = "/api/v1/codes/status", tag = "codes", operation_id = "change_code_status",
    request_body = StatusInput,
    responses((status = 200, description = "What changed", body = StatusChanged), E400, E401, E403, E404, E409)
)]
pub(super) async fn status(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<StatusInput>,
) -> WebResult<Json<Value>> {
    let (target, status) = StatusRequest {
        scope: &input.scope,
        action: &input.action,
        code_id: input.code_id,
        uri: input.uri,
        product_id: input.product_id,
        lot: input.lot,
        uscc: input.uscc,
    }
    .parse()?;
    let out = state
        .modules
        .codes
        .change_status(&auth.caller(), target, status, &input.reason)
        .await?;
    Ok(Json(json!(out)))
}

/// Counterfeit signals from scans.
#[utoipa::path(
    get, path = "/api/v1/codes/signals", tag = "codes", operation_id = "code_signals",
    responses((status = 200, description = "Signals", body = Signals), E401, E403)
)]
pub(super) async fn signals(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    let signals = state.modules.codes.signals(&auth.caller()).await?;
    Ok(Json(json!(signals)))
}

/// Scan counts of one code.
#[utoipa::path(
    get, path = "/api/v1/codes/codes/{id}/scans", tag = "codes", operation_id = "code_scans",
    params(("id" = i64, Path, description = "Code id")),
    responses((status = 200, description = "Scans", body = CodeScans), E401, E403, E404)
)]
pub(super) async fn code_scans(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let scans = state.modules.codes.code_scans(&auth.caller(), id).await?;
    Ok(Json(json!(scans)))
}
