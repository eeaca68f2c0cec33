//! The policy API under `/api/v1/policy/…`: request bodies and queries parsed, the service
//! called with the caller, the result as JSON (the shapes the black-box tests pin down).

use super::service;
use crate::auth::Auth;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use yuepin_domain::Yuan;
use yuepin_policy::SubjectKind;
use yuepin_policy_service::{
    AnswerInput, ApplyInput, CheckRequest, DecisionInput, MatchInput, WhatIfInput,
};

#[derive(Debug, Deserialize, Default)]
pub(super) struct AsOfQuery {
    #[serde(default)]
    pub(super) as_of: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct ListingQuery {
    #[serde(default)]
    pub(super) run: Option<i64>,
    #[serde(default)]
    pub(super) outcome: Option<String>,
    #[serde(default)]
    pub(super) page: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct EnterpriseQuery {
    #[serde(default)]
    pub(super) enterprise: Option<String>,
    #[serde(default)]
    pub(super) status: Option<String>,
}

/// The pack as data: measures with their rules' subjects and benefits, parameters with their
/// values on the as-of date. Public.
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

#[derive(Debug, Deserialize)]
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

pub(super) async fn check(
    State(state): State<AppState>,
    auth: Auth,
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

pub(super) async fn enterprise(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> WebResult<Json<Value>> {
    let r = service(&state)
        .enterprise_matches(&auth.caller(), &uscc, q.as_of.as_deref())
        .await?;
    Ok(Json(json!(r)))
}

pub(super) async fn run_match(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<MatchInput>,
) -> WebResult<Response> {
    let report = service(&state).match_request(&auth.caller(), input).await?;
    Ok((StatusCode::CREATED, Json(json!(report))).into_response())
}

pub(super) async fn runs(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    Ok(Json(
        json!({"runs": service(&state).runs(&auth.caller(), 100).await?}),
    ))
}

pub(super) async fn run(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let (run, counts) = service(&state).run(&auth.caller(), id).await?;
    Ok(Json(json!({"run": run, "counts": counts})))
}

pub(super) async fn measure_listing(
    State(state): State<AppState>,
    auth: Auth,
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

pub(super) async fn what_if(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<WhatIfInput>,
) -> WebResult<Json<Value>> {
    let report = service(&state).what_if(&auth.caller(), input).await?;
    Ok(Json(json!(report)))
}

pub(super) async fn offers(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<EnterpriseQuery>,
) -> WebResult<Json<Value>> {
    let list = service(&state)
        .offers(&auth.caller(), q.enterprise.as_deref())
        .await?;
    Ok(Json(json!({ "offers": list })))
}

pub(super) async fn answer_offer(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<AnswerInput>,
) -> WebResult<Json<Value>> {
    let answered = service(&state)
        .answer_offer(&auth.caller(), id, input)
        .await?;
    Ok(Json(json!(answered)))
}

pub(super) async fn notifications(
    State(state): State<AppState>,
    auth: Auth,
) -> WebResult<Json<Value>> {
    let list = service(&state).notifications(&auth.caller()).await?;
    let unread = list.iter().filter(|n| n.read_at.is_none()).count();
    Ok(Json(json!({"notifications": list, "unread": unread})))
}

pub(super) async fn read_notifications(
    State(state): State<AppState>,
    auth: Auth,
) -> WebResult<Json<Value>> {
    let n = service(&state)
        .mark_notifications_read(&auth.caller())
        .await?;
    Ok(Json(json!({ "marked_read": n })))
}

pub(super) async fn applications(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<EnterpriseQuery>,
) -> WebResult<Json<Value>> {
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    let list = service(&state).applications(&auth.caller(), status).await?;
    Ok(Json(json!({ "applications": list })))
}

pub(super) async fn apply(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<ApplyInput>,
) -> WebResult<Response> {
    let app = service(&state).apply(&auth.caller(), input).await?;
    Ok((StatusCode::CREATED, Json(json!(app))).into_response())
}

pub(super) async fn application(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let app = service(&state).application(&auth.caller(), id).await?;
    Ok(Json(json!(app)))
}

pub(super) async fn decide(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> WebResult<Json<Value>> {
    let app = service(&state).decide(&auth.caller(), id, input).await?;
    Ok(Json(json!(app)))
}

pub(super) async fn grants(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    Ok(Json(
        json!({"grants": service(&state).grants(&auth.caller()).await?}),
    ))
}

pub(super) async fn totals(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
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
pub(super) async fn standards(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
) -> WebResult<Json<Value>> {
    let list = service(&state).standards_of(&auth.caller(), &uscc).await?;
    Ok(Json(json!({"standards": list})))
}

/// A regulator confirms a standard an enterprise declared.
pub(super) async fn confirm_standard(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let r = service(&state).confirm_standard(&auth.caller(), id).await?;
    Ok(Json(json!(r)))
}
