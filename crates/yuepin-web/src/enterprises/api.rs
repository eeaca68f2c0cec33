//! The registry's JSON API: search, enterprises with their quality files, products and
//! quality events. Access is decided by the service from `auth.caller()`.

use super::pages::ListQuery;
use crate::auth::Auth;
use crate::error::WebResult;
use crate::input::{ApiJson, EnterpriseInput, ProductInput};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use yuepin_domain::{parse_date, QualityEventKind};
use yuepin_enterprises_service::{EnterpriseRecord, NewEvent, ProductRecord};

pub(super) async fn search(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<Value>> {
    let sq = q.to_search()?;
    let page = state.modules.enterprises.search(&auth.caller(), sq).await?;
    Ok(Json(json!(page)))
}

pub(super) async fn get_enterprise(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
) -> WebResult<Json<EnterpriseRecord>> {
    Ok(Json(
        state
            .modules
            .enterprises
            .enterprise(&auth.caller(), &uscc)
            .await?,
    ))
}

/// The quality credit file with the complaint figures of the complaints capability.
pub(super) async fn quality_file(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
) -> WebResult<Json<Value>> {
    let today = crate::today();
    let qf = state
        .modules
        .enterprises
        .quality_file_of(&auth.caller(), &uscc, today)
        .await?;
    let id = qf.enterprise.id;
    let mut file = json!(qf);
    let complaints = &state.modules.complaints;
    file["complaints_last_12_months"] =
        json!(complaints.complaint_count_12m_as_of(id, today).await?);
    file["warnings"] = json!(complaints.complaint_warnings_for_enterprise(id).await?);
    Ok(Json(file))
}

pub(super) async fn create_enterprise(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<EnterpriseInput>,
) -> WebResult<Response> {
    auth.caller().require_administrator()?;
    let e = input.parse()?;
    let rec = state
        .modules
        .enterprises
        .create_enterprise(&auth.caller(), &e)
        .await?;
    Ok((StatusCode::CREATED, Json(rec)).into_response())
}

pub(super) async fn update_enterprise(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
    ApiJson(input): ApiJson<EnterpriseInput>,
) -> WebResult<Json<EnterpriseRecord>> {
    let caller = auth.caller();
    state.modules.enterprises.enterprise(&caller, &uscc).await?;
    let e = input.parse()?;
    Ok(Json(
        state
            .modules
            .enterprises
            .update_enterprise(&caller, &uscc, e)
            .await?,
    ))
}

pub(super) async fn list_products(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
) -> WebResult<Json<Value>> {
    let list = state
        .modules
        .enterprises
        .products(&auth.caller(), &uscc)
        .await?;
    Ok(Json(json!(list)))
}

pub(super) async fn create_product(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
    ApiJson(input): ApiJson<ProductInput>,
) -> WebResult<Response> {
    let caller = auth.caller();
    let rec = state.modules.enterprises.enterprise(&caller, &uscc).await?;
    let p = input.parse(rec.enterprise.uscc.clone())?;
    let created = state
        .modules
        .enterprises
        .create_product(&caller, &uscc, p)
        .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub(super) async fn get_product(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<ProductRecord>> {
    Ok(Json(
        state
            .modules
            .enterprises
            .product_for(&auth.caller(), id)
            .await?,
    ))
}

pub(super) async fn update_product(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ProductInput>,
) -> WebResult<Json<ProductRecord>> {
    let caller = auth.caller();
    let existing = state.modules.enterprises.product_for(&caller, id).await?;
    let p = input.parse(existing.product.enterprise.clone())?;
    Ok(Json(
        state
            .modules
            .enterprises
            .update_product(&caller, id, p)
            .await?,
    ))
}

pub(super) async fn delete_product(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<StatusCode> {
    state
        .modules
        .enterprises
        .remove_product(&auth.caller(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn list_events(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
) -> WebResult<Json<Value>> {
    let list = state
        .modules
        .enterprises
        .events(&auth.caller(), &uscc)
        .await?;
    Ok(Json(json!(list)))
}

#[derive(Deserialize)]
pub(super) struct EventInput {
    date: String,
    #[serde(default)]
    product_id: Option<i64>,
    #[serde(flatten)]
    kind: QualityEventKind,
}

pub(super) async fn create_event(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
    ApiJson(input): ApiJson<EventInput>,
) -> WebResult<Response> {
    let caller = auth.caller();
    // Access first: a stranger learns nothing from the validity of the body.
    state.modules.enterprises.enterprise(&caller, &uscc).await?;
    let date = parse_date("date", &input.date)?;
    let (id, natural_key) = state
        .modules
        .enterprises
        .file_event(
            &caller,
            &uscc,
            NewEvent {
                date,
                product_id: input.product_id,
                kind: input.kind,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "natural_key": natural_key})),
    )
        .into_response())
}
