//! The credit JSON API under `/api/v1/credit`: request parsing, one service call, the answer.
//! Who may do what is the service's decision.

use super::views::{
    BankView, BanksResponse, CheckpointView, ConsentView, ConsentsResponse, ConsistencyView,
    GradeResponse, GradeView, InclusionView, KeysView, LogEntriesResponse, LogEntryView,
    ReportView, VerificationView,
};
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::openapi::{E400, E401, E403, E404, E409, E429};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use yuepin_credit::{Categories, ConsentId, DateRange, Purpose, TermsRequest};
use yuepin_credit_service::FetchRequest;
use yuepin_domain::Role;

/// The credit capability's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    keys,
    banks,
    list_consents,
    grant_consent,
    get_consent,
    consent_action,
    fetch_report,
    fetch_report_pdf,
    grade,
    checkpoint,
    log_entries,
    inclusion_proof,
    consistency_proof,
    verify_log
))]
pub struct ApiDoc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/credit/keys", get(keys))
        .route("/api/v1/credit/banks", get(banks))
        .route(
            "/api/v1/credit/consents",
            get(list_consents)
                .post(grant_consent)
                .route_layer(from_fn(crate::reauth::guard)),
        )
        .route("/api/v1/credit/consents/{id}", get(get_consent))
        .route("/api/v1/credit/consents/{id}/reports", post(fetch_report))
        .route(
            "/api/v1/credit/consents/{id}/reports/pdf",
            post(fetch_report_pdf),
        )
        .route(
            "/api/v1/credit/consents/{id}/{action}",
            post(consent_action).layer(from_fn(crate::reauth::guard)),
        )
        .route("/api/v1/credit/enterprises/{uscc}/grade", get(grade))
        .route("/api/v1/credit/log/checkpoint", get(checkpoint))
        .route("/api/v1/credit/log/entries", get(log_entries))
        .route(
            "/api/v1/credit/log/entries/{index}/proof",
            get(inclusion_proof),
        )
        .route("/api/v1/credit/log/consistency", get(consistency_proof))
        .route("/api/v1/credit/log/verify", post(verify_log))
}

/// A consent id from the path; a malformed one is simply not found.
fn consent_id(s: &str) -> WebResult<ConsentId> {
    ConsentId::parse(s).map_err(|_| WebError::NotFound(format!("consent {s}")))
}

fn categories(v: &[String]) -> WebResult<Categories> {
    Categories::parse(v.iter().map(String::as_str))
        .map_err(|e| WebError::from(yuepin_credit_service::CreditError::Terms(e)))
}

fn range(from: NaiveDate, to: NaiveDate) -> WebResult<DateRange> {
    DateRange::new(from, to)
        .map_err(|e| WebError::from(yuepin_credit_service::CreditError::Terms(e)))
}

/// The platform's published credit key set (public): verifies consent artefacts, reports
/// and checkpoints offline.
#[utoipa::path(
    get, path = "/api/v1/credit/keys", tag = "credit", operation_id = "credit_keys",
    responses((status = 200, description = "JWK set", body = KeysView), E404)
)]
async fn keys(State(state): State<AppState>) -> WebResult<Json<KeysView>> {
    let jwks = state.modules.credit.published_keys()?;
    Ok(Json(KeysView {
        keys: jwks["keys"].clone(),
    }))
}

/// The bank organisations (for choosing whom to grant a consent).
#[utoipa::path(
    get, path = "/api/v1/credit/banks", tag = "credit", operation_id = "credit_banks",
    responses((status = 200, description = "Banks", body = BanksResponse), E401)
)]
async fn banks(Cx { state, auth }: Cx) -> WebResult<Json<BanksResponse>> {
    let banks = state.modules.credit.banks(&auth.caller()).await?;
    Ok(Json(BanksResponse {
        banks: banks.into_iter().map(BankView::from).collect(),
    }))
}

/// The caller's consents: an enterprise's own, or those given to the caller's bank.
#[utoipa::path(
    get, path = "/api/v1/credit/consents", tag = "credit", operation_id = "credit_list_consents",
    responses((status = 200, description = "Consents, newest first", body = ConsentsResponse), E401, E403)
)]
async fn list_consents(Cx { state, auth }: Cx) -> WebResult<Json<ConsentsResponse>> {
    let caller = auth.caller();
    let credit = &state.modules.credit;
    let list = if caller.role() == Some(Role::Bank) {
        credit.bank_consents(&caller).await?
    } else {
        credit.my_consents(&caller).await?
    };
    Ok(Json(ConsentsResponse {
        consents: list.into_iter().map(ConsentView::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GrantInput {
    bank_id: i64,
    /// quality_loan, credit_review or ip_pledge_loan.
    purpose: String,
    /// grade, inspections, certifications_awards, complaints_warnings, codes_counterfeit,
    /// lab_reports, financing (never tax data).
    categories: Vec<String>,
    data_from: NaiveDate,
    data_to: NaiveDate,
    max_fetches: u32,
    #[serde(default)]
    min_interval_minutes: u32,
    retention_days: u32,
    /// Days until the consent expires (the platform sets the dates).
    valid_days: u32,
}

/// Grants a bank a consent (enterprise users, for their own enterprise).
#[utoipa::path(
    post, path = "/api/v1/credit/consents", tag = "credit", operation_id = "credit_grant_consent",
    request_body = GrantInput,
    responses((status = 201, description = "The consent with its signed artefact", body = ConsentView), E400, E401, E403, E404)
)]
async fn grant_consent(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<GrantInput>,
) -> WebResult<Response> {
    let req = TermsRequest {
        purpose: Purpose::parse(input.purpose.trim())
            .map_err(|e| WebError::from(yuepin_credit_service::CreditError::Terms(e)))?,
        categories: categories(&input.categories)?,
        data_range: range(input.data_from, input.data_to)?,
        max_fetches: input.max_fetches,
        min_interval_minutes: input.min_interval_minutes,
        retention_days: input.retention_days,
        valid_days: input.valid_days,
    };
    let c = state
        .modules
        .credit
        .grant_consent(&auth.caller(), input.bank_id, &req)
        .await?;
    Ok((StatusCode::CREATED, Json(ConsentView::from(c))).into_response())
}

/// One consent (its enterprise, its bank, administrators).
#[utoipa::path(
    get, path = "/api/v1/credit/consents/{id}", tag = "credit", operation_id = "credit_get_consent",
    params(("id" = String, Path, description = "Consent id (CST-…)")),
    responses((status = 200, description = "The consent", body = ConsentView), E401, E403, E404)
)]
async fn get_consent(
    Cx { state, auth }: Cx,
    Path(id): Path<String>,
) -> WebResult<Json<ConsentView>> {
    let c = state
        .modules
        .credit
        .consent(&auth.caller(), &consent_id(&id)?)
        .await?;
    Ok(Json(c.into()))
}

/// Pauses, resumes or revokes a consent (its enterprise's users).
#[utoipa::path(
    post, path = "/api/v1/credit/consents/{id}/{action}", tag = "credit", operation_id = "credit_consent_action",
    params(
        ("id" = String, Path, description = "Consent id (CST-…)"),
        ("action" = String, Path, description = "pause, resume or revoke")
    ),
    responses((status = 200, description = "The consent after the step", body = ConsentView), E401, E403, E404, E409)
)]
async fn consent_action(
    Cx { state, auth }: Cx,
    Path((id, action)): Path<(String, String)>,
) -> WebResult<Json<ConsentView>> {
    let id = consent_id(&id)?;
    let caller = auth.caller();
    let credit = &state.modules.credit;
    let c = match action.as_str() {
        "pause" => credit.pause_consent(&caller, &id).await?,
        "resume" => credit.resume_consent(&caller, &id).await?,
        "revoke" => credit.revoke_consent(&caller, &id).await?,
        _ => {
            return Err(WebError::NotFound(format!(
                "未知操作 {action} (no such action)"
            )))
        }
    };
    Ok(Json(c.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FetchInput {
    /// Categories wanted (each must be consented).
    categories: Vec<String>,
    data_from: NaiveDate,
    data_to: NaiveDate,
}

/// The categories and data range a fetch asks for, parsed.
fn fetch_request(input: FetchInput) -> WebResult<FetchRequest> {
    Ok(FetchRequest {
        categories: categories(&input.categories)?,
        range: range(input.data_from, input.data_to)?,
    })
}

/// Fetches a credit report under the consent (the consent's bank, within its limits).
#[utoipa::path(
    post, path = "/api/v1/credit/consents/{id}/reports", tag = "credit", operation_id = "credit_fetch_report",
    params(("id" = String, Path, description = "Consent id (CST-…)")),
    request_body = FetchInput,
    responses((status = 201, description = "The signed report", body = ReportView), E400, E401, E403, E404, E429)
)]
async fn fetch_report(
    Cx { state, auth }: Cx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FetchInput>,
) -> WebResult<Response> {
    let id = consent_id(&id)?;
    let req = fetch_request(input)?;
    let r = state
        .modules
        .credit
        .fetch_report(&auth.caller(), &id, &req)
        .await?;
    Ok((StatusCode::CREATED, Json(ReportView::from(r))).into_response())
}

/// Fetches a credit report under the consent as PDF (Chinese text; one use of the consent,
/// like the JSON fetch).
#[utoipa::path(
    post, path = "/api/v1/credit/consents/{id}/reports/pdf", tag = "credit", operation_id = "credit_fetch_report_pdf",
    params(("id" = String, Path, description = "Consent id (CST-…)")),
    request_body = FetchInput,
    responses(
        (status = 201, description = "The report as PDF", content_type = "application/pdf", body = String),
        E400, E401, E403, E404, E429
    )
)]
async fn fetch_report_pdf(
    Cx { state, auth }: Cx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FetchInput>,
) -> WebResult<Response> {
    let id = consent_id(&id)?;
    let req = fetch_request(input)?;
    let r = state
        .modules
        .credit
        .fetch_report(&auth.caller(), &id, &req)
        .await?;
    let pdf = yuepin_credit_service::pdf::render(&r.report)?;
    Ok((
        StatusCode::CREATED,
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"credit-report-{}-{}.pdf\"",
                    id, r.report.fetch_no
                ),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// The enterprise's grade, recomputed from its quality file, with its history (the
/// enterprise itself and administrators; banks get grades only in reports).
#[utoipa::path(
    get, path = "/api/v1/credit/enterprises/{uscc}/grade", tag = "credit", operation_id = "credit_grade",
    params(crate::openapi::UsccPath),
    responses((status = 200, description = "Grade and history", body = GradeResponse), E401, E404)
)]
async fn grade(Cx { state, auth }: Cx, Path(uscc): Path<String>) -> WebResult<Json<GradeResponse>> {
    let caller = auth.caller();
    let credit = &state.modules.credit;
    let g = credit.grade(&caller, &uscc).await?;
    let history = credit.grade_history(&caller, &uscc).await?;
    Ok(Json(GradeResponse {
        history: history
            .into_iter()
            .filter(|h| h.id != g.id)
            .map(GradeView::from)
            .collect(),
        grade: g.into(),
    }))
}

/// The signed checkpoint of the credit log's current size (keep it as a witness).
#[utoipa::path(
    get, path = "/api/v1/credit/log/checkpoint", tag = "credit", operation_id = "credit_checkpoint",
    responses((status = 200, description = "C2SP signed note", body = CheckpointView), E401)
)]
async fn checkpoint(Cx { state, auth }: Cx) -> WebResult<Json<CheckpointView>> {
    let checkpoint = state.modules.credit.checkpoint(&auth.caller()).await?;
    Ok(Json(CheckpointView { checkpoint }))
}

/// The caller's own log entries (a bank's or an enterprise's).
#[utoipa::path(
    get, path = "/api/v1/credit/log/entries", tag = "credit", operation_id = "credit_log_entries",
    responses((status = 200, description = "Entries in log order", body = LogEntriesResponse), E401, E403)
)]
async fn log_entries(Cx { state, auth }: Cx) -> WebResult<Json<LogEntriesResponse>> {
    let entries = state.modules.credit.my_log_entries(&auth.caller()).await?;
    Ok(Json(LogEntriesResponse {
        entries: entries.into_iter().map(LogEntryView::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SizeQuery {
    /// Tree size (default: the current size).
    size: Option<u64>,
}

/// The inclusion proof of one of the caller's entries, with the signed checkpoint.
#[utoipa::path(
    get, path = "/api/v1/credit/log/entries/{index}/proof", tag = "credit", operation_id = "credit_inclusion_proof",
    params(("index" = u64, Path, description = "Entry index"), SizeQuery),
    responses((status = 200, description = "Inclusion proof", body = InclusionView), E400, E401, E404)
)]
async fn inclusion_proof(
    Cx { state, auth }: Cx,
    Path(index): Path<u64>,
    Query(q): Query<SizeQuery>,
) -> WebResult<Json<InclusionView>> {
    let p = state
        .modules
        .credit
        .inclusion_proof(&auth.caller(), index, q.size)
        .await?;
    Ok(Json(p.into()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ConsistencyQuery {
    /// The older tree size (a checkpoint the caller holds).
    first: u64,
    /// The newer size (default: the current size).
    second: Option<u64>,
}

/// The consistency proof between two sizes, with the newer size's signed checkpoint.
#[utoipa::path(
    get, path = "/api/v1/credit/log/consistency", tag = "credit", operation_id = "credit_consistency_proof",
    params(ConsistencyQuery),
    responses((status = 200, description = "Consistency proof", body = ConsistencyView), E400, E401, E404)
)]
async fn consistency_proof(
    Cx { state, auth }: Cx,
    Query(q): Query<ConsistencyQuery>,
) -> WebResult<Json<ConsistencyView>> {
    let p = state
        .modules
        .credit
        .consistency_proof(&auth.caller(), q.first, q.second)
        .await?;
    Ok(Json(p.into()))
}

/// Verifies the whole credit log (administrators).
#[utoipa::path(
    post, path = "/api/v1/credit/log/verify", tag = "credit", operation_id = "credit_verify_log",
    responses((status = 200, description = "What was checked and the first problem", body = VerificationView), E401, E403)
)]
async fn verify_log(Cx { state, auth }: Cx) -> WebResult<Json<VerificationView>> {
    let v = state.modules.credit.verify_log(&auth.caller()).await?;
    Ok(Json(v.into()))
}
