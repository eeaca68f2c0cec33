//! The complaints JSON API under `/api/v1/complaints` and `/api/v1/public/warnings`: lists
//! and records (masked outside a regulator's record view), aggregates, top-N and the heat map,
//! alarms and detection, the lexicon and accuracy, and the warning workflow.

use super::{parse_category, parse_day, parse_division, svc, FilterQuery};
use crate::auth::Auth;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use yuepin_complaints::Accuracy;
use yuepin_complaints_service::{
    alarm_rollup, check_term, term_target, ComplaintRecord, CountDim, DetectReport, WarningEdit,
};
use yuepin_domain::reference;

/// Complaints per API page.
const API_PAGE_ROWS: i64 = 100;

pub(super) async fn aggregates(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    let caller = auth.caller();
    caller.require_administrator()?;
    let f = q.filter()?;
    let rows = svc(&state)
        .aggregate(&caller, &f, &q.dims()?, q.grain()?)
        .await?;
    Ok(Json(json!({ "cells": rows })))
}

pub(super) async fn top(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    let caller = auth.caller();
    caller.require_administrator()?;
    let f = q.filter()?;
    let n = q.n.unwrap_or(10).clamp(1, 100);
    if q.dim == "enterprise" {
        let list = svc(&state).top_enterprises(&caller, &f, n).await?;
        return Ok(Json(json!({"dim": "enterprise", "items": list
            .into_iter()
            .map(|t| json!({"enterprise_id": t.enterprise_id, "uscc": t.uscc, "name": t.name, "n": t.n}))
            .collect::<Vec<_>>()})));
    }
    let (col, dim) = match q.dim.as_str() {
        "city" => ("city", CountDim::City),
        "division" => ("division", CountDim::Division),
        "category" => ("category", CountDim::Category),
        "problem" => ("problem", CountDim::Problem),
        other => {
            return Err(WebError::field(
                "dim",
                format!("未知维度 {other:?} (use city, division, category, problem or enterprise)"),
            ));
        }
    };
    let mut rows = svc(&state).counts(&caller, &f, &[dim], false).await?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.n));
    rows.truncate(n as usize);
    let items: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            let key = r
                .city
                .clone()
                .or(r.division.map(|d| d.to_string()))
                .or(r.category.clone())
                .or(r.problem.clone());
            let mut v = json!({"key": key, "n": r.n});
            if let Some(c) = &r.city {
                v["name"] = super::views::city_name(c).into();
                if let Some(idx) = reference::cities().iter().position(|x| &x.code == c) {
                    if let Some(pop) = yuepin_complaints::city_population(idx as u8) {
                        v["per_100k"] = (r.n as f64 / pop as f64 * 100_000.0).into();
                    }
                }
            }
            if let Some(d) = r.division {
                v["name"] = super::views::division_name(d).into();
            }
            if let Some(c) = &r.category {
                v["name"] = super::views::category_name(c).into();
            }
            v
        })
        .collect();
    Ok(Json(json!({"dim": col, "items": items})))
}

pub(super) async fn heatmap(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    let caller = auth.caller();
    caller.require_administrator()?;
    let mut f = q.filter()?;
    svc(&state).default_window(&caller, &mut f).await?;
    let rows = svc(&state)
        .counts(&caller, &f, &[CountDim::City, CountDim::Division], false)
        .await?;
    Ok(Json(json!({
        "from": f.from, "to": f.to,
        "cells": rows.into_iter().map(|r| json!({"city": r.city, "division": r.division, "n": r.n})).collect::<Vec<_>>()
    })))
}

pub(super) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    auth.require_user()?;
    let f = q.filter()?;
    let pg = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let (list, total) = svc(&state)
        .list(&auth.caller(), &f, API_PAGE_ROWS, (pg - 1) * API_PAGE_ROWS)
        .await?;
    Ok(Json(json!({"total": total, "page": pg, "items": list})))
}

pub(super) async fn complaint(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<ComplaintRecord>> {
    Ok(Json(svc(&state).complaint(&auth.caller(), id).await?))
}

#[derive(Debug, Deserialize)]
pub(super) struct LabelsInput {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    division: Option<String>,
}

pub(super) async fn labels(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<LabelsInput>,
) -> WebResult<Json<ComplaintRecord>> {
    let caller = auth.caller();
    caller.require_administrator()?;
    let category = parse_category(input.category.as_deref())?;
    let division = parse_division(input.division.as_deref())?;
    Ok(Json(
        svc(&state)
            .correct_labels(&caller, id, category, division)
            .await?,
    ))
}

pub(super) async fn alarms(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    let list = svc(&state)
        .alarms(&auth.caller(), q.all != "1", 5000)
        .await?;
    let rollup = alarm_rollup(&list);
    Ok(Json(json!({"alarms": list, "rollup": rollup})))
}

pub(super) async fn alarm(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    let d = svc(&state)
        .alarm_drill_down(&auth.caller(), id, API_PAGE_ROWS)
        .await?;
    Ok(Json(json!({
        "alarm": d.alarm, "complaints_total": d.complaints_total,
        "complaints": d.complaints
    })))
}

pub(super) async fn alarm_warning(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<(StatusCode, Json<serde_json::Value>)> {
    let w = svc(&state)
        .draft_warning_from_alarm(&auth.caller(), id)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(w))))
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct DetectInput {
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    report_days: Option<i64>,
}

pub(super) async fn detect(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<DetectInput>,
) -> WebResult<Json<DetectReport>> {
    let as_of = parse_day("as_of", input.as_of.as_deref().unwrap_or(""))?;
    let caller = auth.caller();
    let mut opts = svc(&state).detect_options(&caller, as_of).await?;
    if let Some(days) = input.report_days {
        opts.report_days = days;
    }
    Ok(Json(svc(&state).detect(&caller, &opts).await?))
}

pub(super) async fn lexicon(
    State(state): State<AppState>,
    auth: Auth,
) -> WebResult<Json<serde_json::Value>> {
    let terms = svc(&state).lexicon_terms(&auth.caller()).await?;
    Ok(Json(json!({"terms": terms})))
}

#[derive(Debug, Deserialize)]
pub(super) struct TermInput {
    term: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    division: Option<String>,
    #[serde(default)]
    remove: bool,
}

pub(super) async fn lexicon_set(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<TermInput>,
) -> WebResult<(StatusCode, Json<serde_json::Value>)> {
    let caller = auth.caller();
    caller.require_administrator()?;
    // The term is checked before its target, so a bad term is what gets reported.
    let term = check_term(&input.term)?;
    let target = if input.remove {
        None
    } else {
        Some(term_target(
            input.category.as_deref(),
            input.division.as_deref(),
        )?)
    };
    let probe = svc(&state).set_lexicon_term(&caller, term, target).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"term": term, "classifies_as": {
            "category": probe.category.map(|k| k.info().key.clone()),
            "division": probe.division.map(|d| d.code())}})),
    ))
}

pub(super) async fn accuracy(
    State(state): State<AppState>,
    auth: Auth,
) -> WebResult<Json<Accuracy>> {
    Ok(Json(svc(&state).classifier_accuracy(&auth.caller()).await?))
}

pub(super) async fn warnings(
    State(state): State<AppState>,
    auth: Auth,
) -> WebResult<Json<serde_json::Value>> {
    auth.require_user()?;
    let list = svc(&state).warnings(&auth.caller()).await?;
    Ok(Json(json!({"warnings": list})))
}

pub(super) async fn public_warnings(
    State(state): State<AppState>,
) -> WebResult<Json<serde_json::Value>> {
    let list = svc(&state).published_warnings().await?;
    Ok(Json(json!({"warnings": list})))
}

pub(super) async fn warning(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    let w = svc(&state).warning(&auth.caller(), id).await?;
    Ok(Json(json!(w)))
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct EditInput {
    title: String,
    body: String,
    #[serde(default)]
    severity: String,
}

pub(super) async fn warning_edit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(e): ApiJson<EditInput>,
) -> WebResult<Json<serde_json::Value>> {
    let edit = WarningEdit {
        title: e.title,
        body: e.body,
        severity: e.severity,
    };
    let w = svc(&state).edit_warning(&auth.caller(), id, &edit).await?;
    Ok(Json(json!(w)))
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct ApproveInput {
    #[serde(default)]
    comment_days: Option<i64>,
}

pub(super) async fn warning_approve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(a): ApiJson<ApproveInput>,
) -> WebResult<Json<serde_json::Value>> {
    let w = svc(&state)
        .approve_warning(&auth.caller(), id, a.comment_days)
        .await?;
    Ok(Json(json!(w)))
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct CommentInput {
    body: String,
}

pub(super) async fn warning_comment(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(c): ApiJson<CommentInput>,
) -> WebResult<(StatusCode, Json<serde_json::Value>)> {
    let w = svc(&state)
        .comment_warning(&auth.caller(), id, &c.body)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(w))))
}

pub(super) async fn warning_publish(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    let w = svc(&state).publish_warning(&auth.caller(), id).await?;
    Ok(Json(json!(w)))
}

pub(super) async fn warning_withdraw(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    let w = svc(&state).withdraw_warning(&auth.caller(), id).await?;
    Ok(Json(json!(w)))
}
