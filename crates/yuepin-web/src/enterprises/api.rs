//! The registry's JSON API: search, enterprises with their quality files, products and
//! quality events. Access is decided by the service from `auth.caller()`.

use super::pages::ListQuery;
use super::schema::{EventCreated, QualityFileResponse};
use crate::cx::Cx;
use crate::error::WebResult;
use crate::input::{ApiJson, EnterpriseInput, ProductInput};
use crate::openapi::{UsccPath, E400, E401, E403, E404, E409};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use yuepin_domain::{parse_date, QualityEventKind};
use yuepin_enterprises_service::{
    EnterpriseRecord, EnterpriseUpdate, EventRecord, NewEvent, ProductRecord, SearchPage,
};

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    search,
    create_enterprise,
    get_enterprise,
    update_enterprise,
    quality_file,
    list_products,
    create_product,
    get_product,
    update_product,
    delete_product,
    list_events,
    create_event
))]
pub struct ApiDoc;

/// Searches the enterprises the caller may see.
#[utoipa::path(
    get, path = "/api/v1/enterprises", tag = "enterprises", operation_id = "search_enterprises",
    params(ListQuery),
    responses((status = 200, description = "One page of enterprises", body = SearchPage), E400, E401)
)]
pub(super) async fn search(
    Cx { state, auth }: Cx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<Value>> {
    let sq = q.to_search()?;
    let page = state.modules.enterprises.search(&auth.caller(), sq).await?;
    Ok(Json(json!(page)))
}

/// One enterprise.
#[utoipa::path(
    get, path = "/api/v1/enterprises/{uscc}", tag = "enterprises", operation_id = "get_enterprise",
    params(UsccPath),
    responses((status = 200, description = "The enterprise", body = EnterpriseRecord), E401, E403, E404)
)]
pub(super) async fn get_enterprise(
    Cx { state, auth }: Cx,
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
/// The quality credit file (质量信用档案) with the complaint figures.
#[utoipa::path(
    get, path = "/api/v1/enterprises/{uscc}/quality-file", tag = "enterprises", operation_id = "get_quality_file",
    params(UsccPath),
    responses((status = 200, description = "The quality file", body = QualityFileResponse), E401, E403, E404)
)]
pub(super) async fn quality_file(
    Cx { state, auth }: Cx,
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

/// Registers an enterprise (administrators).
#[utoipa::path(
    post, path = "/api/v1/enterprises", tag = "enterprises", operation_id = "create_enterprise",
    request_body = EnterpriseInput,
    responses((status = 201, description = "The new enterprise", body = EnterpriseRecord), E400, E401, E403, E409)
)]
pub(super) async fn create_enterprise(
    Cx { state, auth }: Cx,
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

/// Replaces an enterprise's data (the credit code cannot change; an enterprise user's new name
/// or region goes to review).
#[utoipa::path(
    put, path = "/api/v1/enterprises/{uscc}", tag = "enterprises", operation_id = "update_enterprise",
    params(UsccPath),
    request_body = EnterpriseInput,
    responses((status = 200, description = "The enterprise as stored; for an enterprise user who asked for another name or region, the pending review request in `identity_change` (the stored name and region are kept until a regulator approves)", body = EnterpriseUpdate), E400, E401, E403, E404, E409)
)]
pub(super) async fn update_enterprise(
    Cx { state, auth }: Cx,
    Path(uscc): Path<String>,
    ApiJson(input): ApiJson<EnterpriseInput>,
) -> WebResult<Json<EnterpriseUpdate>> {
    let caller = auth.caller();
    state.modules.enterprises.enterprise(&caller, &uscc).await?;
    let reason = input.change_reason.clone().unwrap_or_default();
    let e = input.parse()?;
    Ok(Json(
        state
            .modules
            .enterprises
            .update_enterprise_with_reason(&caller, &uscc, e, &reason)
            .await?,
    ))
}

/// The enterprise's products.
#[utoipa::path(
    get, path = "/api/v1/enterprises/{uscc}/products", tag = "enterprises", operation_id = "list_products",
    params(UsccPath),
    responses((status = 200, description = "Products", body = Vec<ProductRecord>), E401, E403, E404)
)]
pub(super) async fn list_products(
    Cx { state, auth }: Cx,
    Path(uscc): Path<String>,
) -> WebResult<Json<Value>> {
    let list = state
        .modules
        .enterprises
        .products(&auth.caller(), &uscc)
        .await?;
    Ok(Json(json!(list)))
}

/// Adds a product.
#[utoipa::path(
    post, path = "/api/v1/enterprises/{uscc}/products", tag = "enterprises", operation_id = "create_product",
    params(UsccPath),
    request_body = ProductInput,
    responses((status = 201, description = "The new product", body = ProductRecord), E400, E401, E403, E404, E409)
)]
pub(super) async fn create_product(
    Cx { state, auth }: Cx,
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

/// One product.
#[utoipa::path(
    get, path = "/api/v1/products/{id}", tag = "enterprises", operation_id = "get_product",
    params(("id" = i64, Path, description = "Product id")),
    responses((status = 200, description = "The product", body = ProductRecord), E401, E403, E404)
)]
pub(super) async fn get_product(
    Cx { state, auth }: Cx,
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

/// Replaces a product's data (the model cannot change).
#[utoipa::path(
    put, path = "/api/v1/products/{id}", tag = "enterprises", operation_id = "update_product",
    params(("id" = i64, Path, description = "Product id")),
    request_body = ProductInput,
    responses((status = 200, description = "The product", body = ProductRecord), E400, E401, E403, E404, E409)
)]
pub(super) async fn update_product(
    Cx { state, auth }: Cx,
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

/// Removes a product.
#[utoipa::path(
    delete, path = "/api/v1/products/{id}", tag = "enterprises", operation_id = "delete_product",
    params(("id" = i64, Path, description = "Product id")),
    responses((status = 204, description = "Removed"), E401, E403, E404, E409)
)]
pub(super) async fn delete_product(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<StatusCode> {
    state
        .modules
        .enterprises
        .remove_product(&auth.caller(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The enterprise's quality events.
#[utoipa::path(
    get, path = "/api/v1/enterprises/{uscc}/events", tag = "enterprises", operation_id = "list_events",
    params(UsccPath),
    responses((status = 200, description = "Quality events", body = Vec<EventRecord>), E401, E403, E404)
)]
pub(super) async fn list_events(
    Cx { state, auth }: Cx,
    Path(uscc): Path<String>,
) -> WebResult<Json<Value>> {
    let list = state
        .modules
        .enterprises
        .events(&auth.caller(), &uscc)
        .await?;
    Ok(Json(json!(list)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct EventInput {
    date: String,
    #[serde(default)]
    product_id: Option<i64>,
    #[serde(flatten)]
    kind: QualityEventKind,
}

/// Files a quality event (inspection, certification, award, standard, penalty).
#[utoipa::path(
    post, path = "/api/v1/enterprises/{uscc}/events", tag = "enterprises", operation_id = "create_event",
    params(UsccPath),
    request_body = EventInput,
    responses((status = 201, description = "The new event", body = EventCreated), E400, E401, E403, E404, E409)
)]
pub(super) async fn create_event(
    Cx { state, auth }: Cx,
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
