//! The product-hospital JSON API under `/api/v1/hospital`: request parsing, one service call,
//! the answer (the service's typed records, whose schemas the service crate derives). Who may
//! do what is the service's decision.

use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::openapi::{E400, E401, E403, E404, E409};
use crate::AppState;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yuepin_domain::Division;
use yuepin_hospital_service::{
    CaseDetail, CaseFilter, CaseRecord, Closure, HospitalRecord, KnowledgeRecord, NewCase,
    ProposalView, Stats,
};

/// The hospital capability's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    hospitals,
    list_cases,
    open_case,
    get_case,
    proposals,
    post_message,
    assign,
    step,
    knowledge,
    stats
))]
pub struct ApiDoc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/hospital/hospitals", get(hospitals))
        .route("/api/v1/hospital/cases", get(list_cases).post(open_case))
        .route("/api/v1/hospital/cases/{id}", get(get_case))
        .route("/api/v1/hospital/cases/{id}/proposals", get(proposals))
        .route("/api/v1/hospital/cases/{id}/messages", post(post_message))
        .route("/api/v1/hospital/cases/{id}/assign", post(assign))
        .route("/api/v1/hospital/cases/{id}/steps", post(step))
        .route("/api/v1/hospital/knowledge", get(knowledge))
        .route("/api/v1/hospital/stats", get(stats))
}

#[derive(Serialize, ToSchema)]
struct HospitalsResponse {
    hospitals: Vec<HospitalRecord>,
}

/// The product hospitals (any signed-in caller; an enterprise picks one to open a case).
#[utoipa::path(
    get, path = "/api/v1/hospital/hospitals", tag = "hospital", operation_id = "hospital_list_hospitals",
    responses((status = 200, description = "Hospitals with their SLA targets", body = HospitalsResponse), E401)
)]
async fn hospitals(Cx { state, auth }: Cx) -> WebResult<Json<HospitalsResponse>> {
    let hospitals = state.modules.hospital.hospitals(&auth.caller()).await?;
    Ok(Json(HospitalsResponse { hospitals }))
}

#[derive(Serialize, ToSchema)]
struct CasesResponse {
    cases: Vec<CaseRecord>,
}

/// The cases the caller may see, newest first, each with its SLA targets' states: an
/// enterprise its own, an expert those assigned to them, on their panel or in a hospital they
/// coordinate, the regulator all.
#[utoipa::path(
    get, path = "/api/v1/hospital/cases", tag = "hospital", operation_id = "hospital_list_cases",
    params(CaseFilter),
    responses((status = 200, description = "Cases", body = CasesResponse), E400, E401, E403)
)]
async fn list_cases(
    Cx { state, auth }: Cx,
    Query(f): Query<CaseFilter>,
) -> WebResult<Json<CasesResponse>> {
    let cases = state.modules.hospital.cases(&auth.caller(), &f).await?;
    Ok(Json(CasesResponse { cases }))
}

/// Opens a case (enterprise users, for their own enterprise).
#[utoipa::path(
    post, path = "/api/v1/hospital/cases", tag = "hospital", operation_id = "hospital_open_case",
    request_body = NewCase,
    responses((status = 201, description = "The new case", body = CaseRecord), E400, E401, E403)
)]
async fn open_case(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<NewCase>,
) -> WebResult<Response> {
    let c = state
        .modules
        .hospital
        .open_case(&auth.caller(), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// One case with its thread (internal notes only for the hospital side) and history.
#[utoipa::path(
    get, path = "/api/v1/hospital/cases/{id}", tag = "hospital", operation_id = "hospital_get_case",
    params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, description = "The case", body = CaseDetail), E401, E403, E404)
)]
async fn get_case(Cx { state, auth }: Cx, Path(id): Path<i64>) -> WebResult<Json<CaseDetail>> {
    Ok(Json(state.modules.hospital.case(&auth.caller(), id).await?))
}

#[derive(Serialize, ToSchema)]
struct ProposalsResponse {
    proposals: Vec<ProposalView>,
}

/// Routing proposals with reasons (the regulator or the hospital's coordinator).
#[utoipa::path(
    get, path = "/api/v1/hospital/cases/{id}/proposals", tag = "hospital", operation_id = "hospital_proposals",
    params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, description = "Experts, best first", body = ProposalsResponse), E401, E403, E404)
)]
async fn proposals(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<ProposalsResponse>> {
    let proposals = state.modules.hospital.proposals(&auth.caller(), id).await?;
    Ok(Json(ProposalsResponse { proposals }))
}

#[derive(Deserialize, ToSchema)]
struct MessageInput {
    body: String,
    /// An internal note (hospital side only; never shown to the enterprise).
    #[serde(default)]
    internal: bool,
    /// The expert asks the enterprise: the case waits for it and the SLA clock pauses.
    #[serde(default)]
    ask_enterprise: bool,
}

/// Posts to the case's thread.
#[utoipa::path(
    post, path = "/api/v1/hospital/cases/{id}/messages", tag = "hospital", operation_id = "hospital_post_message",
    params(("id" = i64, Path, description = "Case id")),
    request_body = MessageInput,
    responses((status = 200, description = "The case after the message", body = CaseRecord), E400, E401, E403, E404, E409)
)]
async fn post_message(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(m): ApiJson<MessageInput>,
) -> WebResult<Json<CaseRecord>> {
    let c = state
        .modules
        .hospital
        .post_message(&auth.caller(), id, &m.body, m.internal, m.ask_enterprise)
        .await?;
    Ok(Json(c))
}

#[derive(Deserialize, ToSchema)]
struct AssignInput {
    expert_id: i64,
}

/// Assigns or reassigns the case (the regulator or the hospital's coordinator).
#[utoipa::path(
    post, path = "/api/v1/hospital/cases/{id}/assign", tag = "hospital", operation_id = "hospital_assign",
    params(("id" = i64, Path, description = "Case id")),
    request_body = AssignInput,
    responses((status = 200, description = "The case", body = CaseRecord), E400, E401, E403, E404, E409)
)]
async fn assign(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(a): ApiJson<AssignInput>,
) -> WebResult<Json<CaseRecord>> {
    Ok(Json(
        state
            .modules
            .hospital
            .assign(&auth.caller(), id, a.expert_id)
            .await?,
    ))
}

/// One step of a case: `decline` (with `reason`), `escalate` (with `panel` and `reason`),
/// `resolve`, `close` (with `closure`), `reopen` (with `reason`), `rate` (with `score` 1–5).
#[derive(Deserialize, ToSchema)]
struct StepInput {
    step: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    panel: Vec<i64>,
    #[serde(default)]
    closure: Option<Closure>,
    #[serde(default)]
    score: Option<i64>,
    #[serde(default)]
    comment: String,
}

/// Takes one step of the case's state machine.
#[utoipa::path(
    post, path = "/api/v1/hospital/cases/{id}/steps", tag = "hospital", operation_id = "hospital_step",
    params(("id" = i64, Path, description = "Case id")),
    request_body = StepInput,
    responses((status = 200, description = "The case after the step", body = CaseRecord), E400, E401, E403, E404, E409)
)]
async fn step(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(s): ApiJson<StepInput>,
) -> WebResult<Json<CaseRecord>> {
    let h = &state.modules.hospital;
    let caller = auth.caller();
    let c = match s.step.as_str() {
        "decline" => h.decline(&caller, id, &s.reason).await?,
        "escalate" => h.escalate(&caller, id, &s.panel, &s.reason).await?,
        "resolve" => h.resolve(&caller, id).await?,
        "close" => {
            let closure = s
                .closure
                .ok_or_else(|| WebError::field("closure", "必填 (required)"))?;
            h.close(&caller, id, &closure).await?
        }
        "reopen" => h.reopen(&caller, id, &s.reason).await?,
        "rate" => {
            let score = s
                .score
                .ok_or_else(|| WebError::field("score", "必填 (required)"))?;
            h.rate(&caller, id, score, &s.comment).await?
        }
        _ => return Err(WebError::field("step", "未知操作 (unknown step)")),
    };
    Ok(Json(c))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct KnowledgeQuery {
    /// A Chinese (or any) substring of the title, problem, cause or fix.
    q: Option<String>,
    /// GB/T 4754 division (13–43).
    division: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct KnowledgeResponse {
    entries: Vec<KnowledgeRecord>,
}

/// Searches the public knowledge base of anonymised, approved solutions (no sign-in).
#[utoipa::path(
    get, path = "/api/v1/hospital/knowledge", tag = "hospital", operation_id = "hospital_knowledge",
    params(KnowledgeQuery),
    responses((status = 200, description = "Entries, newest first (at most 100)", body = KnowledgeResponse), E400)
)]
async fn knowledge(
    Cx { state, auth }: Cx,
    Query(q): Query<KnowledgeQuery>,
) -> WebResult<Json<KnowledgeResponse>> {
    let division = match q
        .division
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(d) => Some(
            Division::parse(d).map_err(|_| WebError::field("division", "无法识别 (unknown)"))?,
        ),
        None => None,
    };
    let entries = state
        .modules
        .hospital
        .search_knowledge(&auth.caller(), q.q.as_deref(), division, 100)
        .await?;
    Ok(Json(KnowledgeResponse { entries }))
}

/// Statistics per hospital and expert (administrators).
#[utoipa::path(
    get, path = "/api/v1/hospital/stats", tag = "hospital", operation_id = "hospital_stats",
    responses((status = 200, description = "Figures per hospital and expert", body = Stats), E401, E403)
)]
async fn stats(Cx { state, auth }: Cx) -> WebResult<Json<Stats>> {
    Ok(Json(state.modules.hospital.stats(&auth.caller()).await?))
}
