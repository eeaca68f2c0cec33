//! The complaints JSON API under `/api/v1/complaints` and `/api/v1/public/warnings`: lists
//! and records (masked outside a regulator's record view), aggregates, top-N and the heat map,
//! alarms and detection, the lexicon and accuracy, and the warning workflow.

use super::schema::{
    AggregatesResponse, AlarmDetail, AlarmParams, AlarmsResponse, ComplaintList, Filter,
    HeatmapResponse, LexiconResponse, TermSet, TopResponse, WarningsResponse,
};
use super::{parse_category, parse_day, parse_division, svc, FilterQuery};
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::openapi::{E400, E401, E403, E404, E409};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use yuepin_complaints::{Accuracy, ConfigError, DetectorConfig};
use yuepin_complaints_service::{
    alarm_rollup, check_term, term_target, AlarmPage, ComplaintRecord, CountDim, DetectReport,
    WarningEdit,
};
use yuepin_complaints_service::{WarningRecord, ALARM_PAGE_MAX};
use yuepin_domain::reference;

/// Complaints per API page.
const API_PAGE_ROWS: i64 = 100;

/// Complaint counts by the chosen dimensions and time grain (administrators).
#[utoipa::path(
    get, path = "/api/v1/complaints/aggregates", tag = "complaints", operation_id = "complaint_aggregates",
    params(Filter, ("by" = Option<String>, Query, description = "Comma-separated dimensions: city, division, category, problem"), ("grain" = Option<String>, Query, description = "day, week, month or year")),
    responses((status = 200, description = "Cells", body = AggregatesResponse), E400, E401, E403)
)]
pub(super) async fn aggregates(
    Cx { state, auth }: Cx,
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

/// The most complained-about cities, divisions, categories, problems or enterprises (administrators).
#[utoipa::path(
    get, path = "/api/v1/complaints/top", tag = "complaints", operation_id = "complaint_top",
    params(Filter, ("dim" = Option<String>, Query, description = "city, division, category, problem or enterprise"), ("n" = Option<i64>, Query, description = "How many (1–100, default 10)")),
    responses((status = 200, description = "Top items", body = TopResponse), E400, E401, E403)
)]
pub(super) async fn top(
    Cx { state, auth }: Cx,
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

/// Complaint counts by city and division (administrators).
#[utoipa::path(
    get, path = "/api/v1/complaints/heatmap", tag = "complaints", operation_id = "complaint_heatmap",
    params(Filter),
    responses((status = 200, description = "The heat map", body = HeatmapResponse), E400, E401, E403)
)]
pub(super) async fn heatmap(
    Cx { state, auth }: Cx,
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

/// Complaints matching the filter, 100 a page (masked outside a regulator's record view).
#[utoipa::path(
    get, path = "/api/v1/complaints", tag = "complaints", operation_id = "list_complaints",
    params(Filter, ("page" = Option<i64>, Query, description = "1-based page")),
    responses((status = 200, description = "One page of complaints", body = ComplaintList), E400, E401, E403)
)]
pub(super) async fn list(
    Cx { state, auth }: Cx,
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

/// One complaint.
#[utoipa::path(
    get, path = "/api/v1/complaints/{id}", tag = "complaints", operation_id = "get_complaint",
    params(("id" = i64, Path, description = "Complaint id")),
    responses((status = 200, description = "The complaint", body = ComplaintRecord), E401, E403, E404)
)]
pub(super) async fn complaint(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<ComplaintRecord>> {
    Ok(Json(svc(&state).complaint(&auth.caller(), id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct LabelsInput {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    division: Option<String>,
}

/// Corrects a complaint's category and division (administrators).
#[utoipa::path(
    put, path = "/api/v1/complaints/{id}/labels", tag = "complaints", operation_id = "correct_complaint_labels",
    params(("id" = i64, Path, description = "Complaint id")),
    request_body = LabelsInput,
    responses((status = 200, description = "The complaint", body = ComplaintRecord), E400, E401, E403, E404)
)]
pub(super) async fn labels(
    Cx { state, auth }: Cx,
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

/// Complaint alarms (significant ones unless all=1), filtered and paged, with the total and a
/// per-city roll-up of the page. Without `page` and `page_size` the first 5,000 (the earlier
/// behaviour); with either, one page of at most 200.
#[utoipa::path(
    get, path = "/api/v1/complaints/alarms", tag = "complaints", operation_id = "list_alarms",
    params(AlarmParams),
    responses((status = 200, description = "Alarms", body = AlarmsResponse), E400, E401, E403)
)]
pub(super) async fn alarms(
    Cx { state, auth }: Cx,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    let caller = auth.caller();
    let f = q.alarm_filter()?;
    let p = if q.page.is_none() && q.page_size.is_none() {
        let (alarms, total) = svc(&state)
            .alarms_matching(&caller, &f, UNPAGED_ALARMS)
            .await?;
        AlarmPage {
            alarms,
            total,
            page: 1,
            page_size: UNPAGED_ALARMS,
        }
    } else {
        svc(&state)
            .alarm_page(
                &caller,
                &f,
                q.page.unwrap_or(1),
                q.page_size.unwrap_or(ALARM_PAGE_MAX),
            )
            .await?
    };
    let rollup = alarm_rollup(&p.alarms);
    Ok(Json(json!({
        "alarms": p.alarms, "rollup": rollup, "total": p.total,
        "page": p.page, "page_size": p.page_size
    })))
}

/// Alarms the unpaged list returns (as before paging existed).
const UNPAGED_ALARMS: i64 = 5000;

/// One alarm with the complaints of its evidence window.
#[utoipa::path(
    get, path = "/api/v1/complaints/alarms/{id}", tag = "complaints", operation_id = "get_alarm",
    params(("id" = i64, Path, description = "Alarm id")),
    responses((status = 200, description = "The alarm", body = AlarmDetail), E401, E403, E404)
)]
pub(super) async fn alarm(
    Cx { state, auth }: Cx,
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

/// Drafts a consumer warning from an alarm (administrators).
#[utoipa::path(
    post, path = "/api/v1/complaints/alarms/{id}/warning", tag = "complaints", operation_id = "draft_warning_from_alarm",
    params(("id" = i64, Path, description = "Alarm id")),
    responses((status = 201, description = "The draft warning", body = WarningRecord), E401, E403, E404, E409)
)]
pub(super) async fn alarm_warning(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<(StatusCode, Json<serde_json::Value>)> {
    let w = svc(&state)
        .draft_warning_from_alarm(&auth.caller(), id)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(w))))
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub(super) struct DetectInput {
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    report_days: Option<i64>,
    /// The detector configuration (`DetectorConfig`: missing keys take defaults, unknown keys
    /// are refused); omitted, the configuration in force (the last run's) is used.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    config: Option<serde_json::Value>,
}

/// Runs alarm detection as of a day (administrators).
#[utoipa::path(
    post, path = "/api/v1/complaints/detect", tag = "complaints", operation_id = "detect_alarms",
    request_body = DetectInput,
    responses((status = 200, description = "What the run found", body = DetectReport), E400, E401, E403)
)]
pub(super) async fn detect(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<DetectInput>,
) -> WebResult<Json<DetectReport>> {
    let as_of = parse_day("as_of", input.as_of.as_deref().unwrap_or(""))?;
    let caller = auth.caller();
    let mut opts = svc(&state).detect_options(&caller, as_of).await?;
    if let Some(days) = input.report_days {
        opts.report_days = days;
    }
    if let Some(config) = input.config {
        opts.config = DetectorConfig::from_json(&config.to_string()).map_err(|e| {
            let m = match e {
                ConfigError::Parse(m) | ConfigError::Invalid(m) => m,
            };
            WebError::field(
                "config",
                format!("检测配置有误 (invalid detector configuration): {m}"),
            )
        })?;
    }
    Ok(Json(svc(&state).detect(&caller, &opts).await?))
}

/// The classifier's term overrides.
#[utoipa::path(
    get, path = "/api/v1/complaints/lexicon", tag = "complaints", operation_id = "list_lexicon",
    responses((status = 200, description = "Terms", body = LexiconResponse), E401, E403)
)]
pub(super) async fn lexicon(Cx { state, auth }: Cx) -> WebResult<Json<serde_json::Value>> {
    let terms = svc(&state).lexicon_terms(&auth.caller()).await?;
    Ok(Json(json!({"terms": terms})))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct TermInput {
    term: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    division: Option<String>,
    #[serde(default)]
    remove: bool,
}

/// Adds, changes or removes a classifier term (administrators).
#[utoipa::path(
    post, path = "/api/v1/complaints/lexicon", tag = "complaints", operation_id = "set_lexicon_term",
    request_body = TermInput,
    responses((status = 201, description = "The term and how it now classifies", body = TermSet), E400, E401, E403)
)]
pub(super) async fn lexicon_set(
    Cx { state, auth }: Cx,
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

/// The classifier's accuracy on the labelled complaints.
#[utoipa::path(
    get, path = "/api/v1/complaints/accuracy", tag = "complaints", operation_id = "classifier_accuracy",
    responses((status = 200, description = "Accuracy", body = Accuracy), E401, E403)
)]
pub(super) async fn accuracy(Cx { state, auth }: Cx) -> WebResult<Json<Accuracy>> {
    Ok(Json(svc(&state).classifier_accuracy(&auth.caller()).await?))
}

/// Consumer warnings in every state (signed-in users).
#[utoipa::path(
    get, path = "/api/v1/complaints/warnings", tag = "complaints", operation_id = "list_warnings",
    responses((status = 200, description = "Warnings", body = WarningsResponse), E401, E403)
)]
pub(super) async fn warnings(Cx { state, auth }: Cx) -> WebResult<Json<serde_json::Value>> {
    auth.require_user()?;
    let list = svc(&state).warnings(&auth.caller()).await?;
    Ok(Json(json!({"warnings": list})))
}

/// Published consumer warnings (public).
#[utoipa::path(
    get, path = "/api/v1/public/warnings", tag = "complaints", operation_id = "public_warnings",
    security(()),
    responses((status = 200, description = "Published warnings", body = WarningsResponse))
)]
pub(super) async fn public_warnings(
    State(state): State<AppState>,
) -> WebResult<Json<serde_json::Value>> {
    let list = svc(&state).published_warnings().await?;
    Ok(Json(json!({"warnings": list})))
}

/// One consumer warning.
#[utoipa::path(
    get, path = "/api/v1/complaints/warnings/{id}", tag = "complaints", operation_id = "get_warning",
    params(("id" = i64, Path, description = "Warning id")),
    responses((status = 200, description = "The warning", body = WarningRecord), E401, E403, E404)
)]
pub(super) async fn warning(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    let w = svc(&state).warning(&auth.caller(), id).await?;
    Ok(Json(json!(w)))
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub(super) struct EditInput {
    title: String,
    body: String,
    #[serde(default)]
    severity: String,
}

/// Edits a draft warning.
#[utoipa::path(
    put, path = "/api/v1/complaints/warnings/{id}", tag = "complaints", operation_id = "edit_warning",
    params(("id" = i64, Path, description = "Warning id")),
    request_body = EditInput,
    responses((status = 200, description = "The warning", body = WarningRecord), E400, E401, E403, E404, E409)
)]
pub(super) async fn warning_edit(
    Cx { state, auth }: Cx,
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

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub(super) struct ApproveInput {
    #[serde(default)]
    comment_days: Option<i64>,
}

/// Approves a draft and opens the comment period.
#[utoipa::path(
    post, path = "/api/v1/complaints/warnings/{id}/approve", tag = "complaints", operation_id = "approve_warning",
    params(("id" = i64, Path, description = "Warning id")),
    request_body = ApproveInput,
    responses((status = 200, description = "The warning", body = WarningRecord), E400, E401, E403, E404, E409)
)]
pub(super) async fn warning_approve(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(a): ApiJson<ApproveInput>,
) -> WebResult<Json<serde_json::Value>> {
    let w = svc(&state)
        .approve_warning(&auth.caller(), id, a.comment_days)
        .await?;
    Ok(Json(json!(w)))
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub(super) struct CommentInput {
    body: String,
}

/// Comments on a warning during its comment period (the named enterprise).
#[utoipa::path(
    post, path = "/api/v1/complaints/warnings/{id}/comments", tag = "complaints", operation_id = "comment_warning",
    params(("id" = i64, Path, description = "Warning id")),
    request_body = CommentInput,
    responses((status = 201, description = "The warning", body = WarningRecord), E400, E401, E403, E404, E409)
)]
pub(super) async fn warning_comment(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(c): ApiJson<CommentInput>,
) -> WebResult<(StatusCode, Json<serde_json::Value>)> {
    let w = svc(&state)
        .comment_warning(&auth.caller(), id, &c.body)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(w))))
}

/// Publishes an approved warning.
#[utoipa::path(
    post, path = "/api/v1/complaints/warnings/{id}/publish", tag = "complaints", operation_id = "publish_warning",
    params(("id" = i64, Path, description = "Warning id")),
    responses((status = 200, description = "The warning", body = WarningRecord), E401, E403, E404, E409)
)]
pub(super) async fn warning_publish(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    let w = svc(&state).publish_warning(&auth.caller(), id).await?;
    Ok(Json(json!(w)))
}

/// Withdraws a warning.
#[utoipa::path(
    post, path = "/api/v1/complaints/warnings/{id}/withdraw", tag = "complaints", operation_id = "withdraw_warning",
    params(("id" = i64, Path, description = "Warning id")),
    responses((status = 200, description = "The warning", body = WarningRecord), E401, E403, E404, E409)
)]
pub(super) async fn warning_withdraw(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    let w = svc(&state).withdraw_warning(&auth.caller(), id).await?;
    Ok(Json(json!(w)))
}
