//! The policy API under `/api/v1/policy/…`: request bodies and queries parsed, the service
//! called with the caller, the result as JSON (the shapes the black-box tests pin down).

use super::schema::{
    ApplicationsResponse, CheckResponse, GrantTotalsResponse, GrantsResponse, MarkedRead,
    MeasureListingResponse, MeasuresResponse, NotificationsResponse, OffersResponse, RunResponse,
    RunsResponse, StandardsResponse,
};
use super::service;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::openapi::{UsccPath, E400, E401, E403, E404, E409};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};
use yuepin_domain::Yuan;
use yuepin_policy::SubjectKind;
use yuepin_policy_service::{
    AnswerInput, Answered, Application, ApplyInput, CheckRequest, DecisionInput, EnterpriseMatches,
    MatchInput, MatchReport, WhatIfInput, WhatIfReport,
};

#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AsOfQuery {
    #[serde(default)]
    pub(super) as_of: Option<String>,
}

#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListingQuery {
    #[serde(default)]
    pub(super) run: Option<i64>,
    #[serde(default)]
    pub(super) outcome: Option<String>,
    #[serde(default)]
    pub(super) page: Option<i64>,
}

#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EnterpriseQuery {
    #[serde(default)]
    pub(super) enterprise: Option<String>,
    #[serde(default)]
    pub(super) status: Option<String>,
}

/// The pack as data: measures with their rules' subjects and benefits, parameters with their
/// values on the as-of date. Public.
/// The policy pack as data: measures, rules' subjects, benefits and parameters as of a day (public).
#[utoipa::path(
    get, path = "/api/v1/policy/measures", tag = "policy", operation_id = "policy_measures",
    security(()),
    params(AsOfQuery),
    responses((status = 200, description = "The pack", body = MeasuresResponse), E400)
)]
pub(super) async fn measures(
    State(state): State<AppState>,
    Query(q): Query<AsOfQuery>,
) -> WebResult<Json<Value>> {
    let m = service(&state);
    let as_of = m.as_of(q.as_of.as_deref())?;
    let snap = m.engine().snapshot(as_of);
    let list: Vec<Value> = m
        .set()
        .measures()
        .iter()
        .map(|x| {
            json!({
                "key": x.key, "id": x.id, "number": x.number, "group": x.group, "title": x.title,
                "programme": x.programme, "responsible": x.responsible,
                "in_force": x.in_force, "in_force_on_as_of": x.in_force.contains(as_of),
                "subjects": x.rules.iter().map(|r| r.subject).collect::<Vec<_>>(),
                "money": x.money,
                "clause_text": x.clause_text,
                "benefits": x.benefits.iter().map(|b| json!({"kind": b.kind, "label": b.label, "clause": b.clause})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let params: Vec<Value> = m
        .set()
        .parameters()
        .iter()
        .map(|p| {
            json!({"name": p.name, "label": p.label, "measure": p.measure, "clause": p.clause,
                   "value": snap.parameter_value(&p.name).map(|v| v.display()), "values": p.values})
        })
        .collect();
    Ok(Json(
        json!({"as_of": as_of, "packs": m.set().packs(), "measures": list, "parameters": params}),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct CheckInput {
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    facts: Option<Value>,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    measure: Option<String>,
    /// Enterprise code: its facts from the platform (request facts are merged over them).
    #[serde(default)]
    enterprise: Option<String>,
}

/// Evaluates the measures against given facts, or an enterprise's facts from the platform.
#[utoipa::path(
    post, path = "/api/v1/policy/check", tag = "policy", operation_id = "policy_check",
    request_body = CheckInput,
    responses((status = 200, description = "The evaluations", body = CheckResponse), E400, E401, E403, E404)
)]
pub(super) async fn check(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<CheckInput>,
) -> WebResult<Json<Value>> {
    let as_of = service(&state).as_of(input.as_of.as_deref())?;
    let subject = match input.subject.as_deref().map(str::trim) {
        None | Some("") => SubjectKind::Enterprise,
        Some(s) => SubjectKind::parse(s).ok_or_else(|| {
            WebError::field(
                "subject",
                "应为 enterprise、merger、person、standard 或 instrument_purchase",
            )
        })?,
    };
    let facts = match input.facts {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(WebError::field(
                "facts",
                "facts 应为JSON对象 (facts must be an object)",
            ));
        }
    };
    let checked = service(&state)
        .check(
            &auth.caller(),
            CheckRequest {
                subject,
                facts,
                as_of,
                measure: input.measure,
                enterprise: input.enterprise,
            },
        )
        .await?;
    Ok(Json(match checked.enterprise {
        Some((uscc, _)) => json!({"as_of": checked.as_of, "subject": checked.subject,
            "enterprise": uscc, "facts": checked.facts.values, "evaluations": checked.evaluations}),
        None => json!({"as_of": checked.as_of, "subject": checked.subject,
            "evaluations": checked.evaluations}),
    }))
}

/// What an enterprise qualifies for as of a day.
#[utoipa::path(
    get, path = "/api/v1/policy/enterprises/{uscc}", tag = "policy", operation_id = "policy_enterprise",
    params(UsccPath, AsOfQuery),
    responses((status = 200, description = "The matches", body = EnterpriseMatches), E400, E401, E403, E404)
)]
pub(super) async fn enterprise(
    Cx { state, auth }: Cx,
    Path(uscc): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> WebResult<Json<Value>> {
    let r = service(&state)
        .enterprise_matches(&auth.caller(), &uscc, q.as_of.as_deref())
        .await?;
    Ok(Json(json!(r)))
}

/// Runs matching over the registry (regulators).
#[utoipa::path(
    post, path = "/api/v1/policy/match", tag = "policy", operation_id = "policy_match",
    request_body = MatchInput,
    responses((status = 201, description = "The run's report", body = MatchReport), E400, E401, E403, E409)
)]
pub(super) async fn run_match(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<MatchInput>,
) -> WebResult<Response> {
    let report = service(&state).match_request(&auth.caller(), input).await?;
    Ok((StatusCode::CREATED, Json(json!(report))).into_response())
}

/// The latest 100 matching runs.
#[utoipa::path(
    get, path = "/api/v1/policy/runs", tag = "policy", operation_id = "policy_runs",
    responses((status = 200, description = "Runs", body = RunsResponse), E401, E403)
)]
pub(super) async fn runs(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    Ok(Json(
        json!({"runs": service(&state).runs(&auth.caller(), 100).await?}),
    ))
}

/// One matching run with its counts by measure and outcome.
#[utoipa::path(
    get, path = "/api/v1/policy/runs/{id}", tag = "policy", operation_id = "policy_run",
    params(("id" = i64, Path, description = "Id")),
    responses((status = 200, description = "The run", body = RunResponse), E401, E403, E404)
)]
pub(super) async fn run(Cx { state, auth }: Cx, Path(id): Path<i64>) -> WebResult<Json<Value>> {
    let (run, counts) = service(&state).run(&auth.caller(), id).await?;
    Ok(Json(json!({"run": run, "counts": counts})))
}

/// The enterprises of one measure in a run, by outcome, 500 a page.
#[utoipa::path(
    get, path = "/api/v1/policy/measures/{id}/enterprises", tag = "policy", operation_id = "policy_measure_listing",
    params(("id" = String, Path, description = "Measure key or id"), ListingQuery),
    responses((status = 200, description = "The listing", body = MeasureListingResponse), E400, E401, E403, E404)
)]
pub(super) async fn measure_listing(
    Cx { state, auth }: Cx,
    Path(id): Path<String>,
    Query(q): Query<ListingQuery>,
) -> WebResult<Json<Value>> {
    let svc = service(&state);
    let l = svc
        .measure_listing(
            &auth.caller(),
            &id,
            q.run,
            q.outcome.as_deref(),
            q.page,
            500,
        )
        .await?;
    let m = &svc.set().measures()[l.measure];
    Ok(Json(
        json!({"run": l.run, "measure": m.key, "title": m.title, "outcome": l.outcome, "enterprises": l.items}),
    ))
}

/// What changing parameters would do to the matches (regulators).
#[utoipa::path(
    post, path = "/api/v1/policy/what-if", tag = "policy", operation_id = "policy_what_if",
    request_body = WhatIfInput,
    responses((status = 200, description = "The comparison", body = WhatIfReport), E400, E401, E403)
)]
pub(super) async fn what_if(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<WhatIfInput>,
) -> WebResult<Json<Value>> {
    let report = service(&state).what_if(&auth.caller(), input).await?;
    Ok(Json(json!(report)))
}

/// Offers made to enterprises (an enterprise user sees its own).
#[utoipa::path(
    get, path = "/api/v1/policy/offers", tag = "policy", operation_id = "policy_offers",
    params(EnterpriseQuery),
    responses((status = 200, description = "Offers", body = OffersResponse), E400, E401, E403, E404)
)]
pub(super) async fn offers(
    Cx { state, auth }: Cx,
    Query(q): Query<EnterpriseQuery>,
) -> WebResult<Json<Value>> {
    let list = service(&state)
        .offers(&auth.caller(), q.enterprise.as_deref())
        .await?;
    Ok(Json(json!({ "offers": list })))
}

/// Accepts or declines an offer (the enterprise).
#[utoipa::path(
    post, path = "/api/v1/policy/offers/{id}/answer", tag = "policy", operation_id = "answer_policy_offer",
    params(("id" = i64, Path, description = "Id")),
    request_body = AnswerInput,
    responses((status = 200, description = "The answered offer", body = Answered), E400, E401, E403, E404, E409)
)]
pub(super) async fn answer_offer(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<AnswerInput>,
) -> WebResult<Json<Value>> {
    let answered = service(&state)
        .answer_offer(&auth.caller(), id, input)
        .await?;
    Ok(Json(json!(answered)))
}

/// The caller's notifications with the unread count.
#[utoipa::path(
    get, path = "/api/v1/policy/notifications", tag = "policy", operation_id = "policy_notifications",
    responses((status = 200, description = "Notifications", body = NotificationsResponse), E401, E403)
)]
pub(super) async fn notifications(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    let list = service(&state).notifications(&auth.caller()).await?;
    let unread = list.iter().filter(|n| n.read_at.is_none()).count();
    Ok(Json(json!({"notifications": list, "unread": unread})))
}

/// Marks the caller's notifications read.
#[utoipa::path(
    post, path = "/api/v1/policy/notifications/read", tag = "policy", operation_id = "read_policy_notifications",
    responses((status = 200, description = "How many were marked", body = MarkedRead), E401, E403)
)]
pub(super) async fn read_notifications(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    let n = service(&state)
        .mark_notifications_read(&auth.caller())
        .await?;
    Ok(Json(json!({ "marked_read": n })))
}

/// Applications for measures, optionally by status.
#[utoipa::path(
    get, path = "/api/v1/policy/applications", tag = "policy", operation_id = "policy_applications",
    params(EnterpriseQuery),
    responses((status = 200, description = "Applications", body = ApplicationsResponse), E400, E401, E403)
)]
pub(super) async fn applications(
    Cx { state, auth }: Cx,
    Query(q): Query<EnterpriseQuery>,
) -> WebResult<Json<Value>> {
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    let list = service(&state).applications(&auth.caller(), status).await?;
    Ok(Json(json!({ "applications": list })))
}

/// Applies for a measure (enterprise users).
#[utoipa::path(
    post, path = "/api/v1/policy/applications", tag = "policy", operation_id = "apply_for_measure",
    request_body = ApplyInput,
    responses((status = 201, description = "The application", body = Application), E400, E401, E403, E404, E409)
)]
pub(super) async fn apply(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<ApplyInput>,
) -> WebResult<Response> {
    let app = service(&state).apply(&auth.caller(), input).await?;
    Ok((StatusCode::CREATED, Json(json!(app))).into_response())
}

/// One application.
#[utoipa::path(
    get, path = "/api/v1/policy/applications/{id}", tag = "policy", operation_id = "policy_application",
    params(("id" = i64, Path, description = "Id")),
    responses((status = 200, description = "The application", body = Application), E401, E403, E404)
)]
pub(super) async fn application(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let app = service(&state).application(&auth.caller(), id).await?;
    Ok(Json(json!(app)))
}

/// Grants or refuses an application (regulators).
#[utoipa::path(
    post, path = "/api/v1/policy/applications/{id}/decision", tag = "policy", operation_id = "decide_policy_application",
    params(("id" = i64, Path, description = "Id")),
    request_body = DecisionInput,
    responses((status = 200, description = "The decided application", body = Application), E400, E401, E403, E404, E409)
)]
pub(super) async fn decide(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> WebResult<Json<Value>> {
    let app = service(&state).decide(&auth.caller(), id, input).await?;
    Ok(Json(json!(app)))
}

/// Grants made.
#[utoipa::path(
    get, path = "/api/v1/policy/grants", tag = "policy", operation_id = "policy_grants",
    responses((status = 200, description = "Grants", body = GrantsResponse), E401, E403)
)]
pub(super) async fn grants(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    Ok(Json(
        json!({"grants": service(&state).grants(&auth.caller()).await?}),
    ))
}

/// Grant totals by measure, city and year.
#[utoipa::path(
    get, path = "/api/v1/policy/grants/totals", tag = "policy", operation_id = "policy_grant_totals",
    responses((status = 200, description = "Totals", body = GrantTotalsResponse), E401, E403)
)]
pub(super) async fn totals(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    let t = service(&state).grant_totals(&auth.caller()).await?;
    let pair = |(n, fen): &(i64, i64)| json!({"grants": n, "amount_fen": fen, "amount": Yuan::from_fen(*fen).to_string()});
    Ok(Json(json!({
        "rows": t.rows,
        "by_measure": t.by_measure.iter().map(|(k, v)| (k.clone(), pair(v))).collect::<Map<_, _>>(),
        "by_city": t.by_city.iter().map(|(k, v)| (k.clone(), pair(v))).collect::<Map<_, _>>(),
        "by_year": t.by_year.iter().map(|(k, v)| (k.to_string(), pair(v))).collect::<Map<_, _>>(),
        "total": pair(&(t.grants, t.amount_fen)),
    })))
}

/// An enterprise's standards with their provenance (declared ones are 待核实).
#[utoipa::path(
    get, path = "/api/v1/policy/enterprises/{uscc}/standards", tag = "policy", operation_id = "policy_enterprise_standards",
    params(UsccPath),
    responses((status = 200, description = "Its standards with their provenance", body = StandardsResponse), E401, E403, E404)
)]
pub(super) async fn standards(
    Cx { state, auth }: Cx,
    Path(uscc): Path<String>,
) -> WebResult<Json<Value>> {
    let list = service(&state).standards_of(&auth.caller(), &uscc).await?;
    Ok(Json(json!({"standards": list})))
}

/// A regulator confirms a standard an enterprise declared.
#[utoipa::path(
    post, path = "/api/v1/policy/standards/{id}/confirm", tag = "policy", operation_id = "policy_confirm_standard",
    params(("id" = i64, Path, description = "The standard's quality-event id")),
    responses((status = 200, description = "The confirmed standard", body = yuepin_policy_service::StandardRecord), E401, E403, E404)
)]
pub(super) async fn confirm_standard(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let r = service(&state).confirm_standard(&auth.caller(), id).await?;
    Ok(Json(json!(r)))
}
