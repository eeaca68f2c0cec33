//! The JSON API under `/api/v1`: identity and tokens, reference tables, enterprises with their
//! quality files, products, quality events, accounts and the audit log. Errors are
//! `{"error": {"code", "message", "field", "fields"}}` with the matching HTTP status.

use super::pages::ListQuery;
use crate::auth::{self, Auth};
use crate::error::{WebError, WebResult};
use crate::input::{ApiJson, EnterpriseInput, ProductInput};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use yuepin_domain::{parse_date, reference, DesignationKind, QualityEvent, QualityEventKind, Role};
use yuepin_store::EnterpriseRecord;

pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/me", get(me))
        .route("/api/v1/auth/token", post(create_token))
        .route(
            "/api/v1/reference/cities",
            get(|| async { Json(json!(reference::cities())) }),
        )
        .route(
            "/api/v1/reference/divisions",
            get(|| async { Json(json!(reference::divisions())) }),
        )
        .route("/api/v1/reference/measures", get(measures))
        .route("/api/v1/reference/designations", get(designations))
        .route("/api/v1/enterprises", get(search).post(create_enterprise))
        .route(
            "/api/v1/enterprises/{uscc}",
            get(get_enterprise).put(update_enterprise),
        )
        .route("/api/v1/enterprises/{uscc}/quality-file", get(quality_file))
        .route(
            "/api/v1/enterprises/{uscc}/products",
            get(list_products).post(create_product),
        )
        .route(
            "/api/v1/enterprises/{uscc}/events",
            get(list_events).post(create_event),
        )
        .route(
            "/api/v1/products/{id}",
            get(get_product).put(update_product).delete(delete_product),
        )
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/audit", get(audit_list))
        .route("/api/v1/audit/verify", get(audit_verify))
}

async fn openapi() -> Response {
    ([("content-type", "application/json")], OPENAPI).into_response()
}

async fn me(auth: Auth) -> WebResult<Json<Value>> {
    let u = auth.require_user()?;
    Ok(Json(json!({"user": u, "csrf_token": auth.csrf})))
}

#[derive(Deserialize)]
struct TokenRequest {
    username: String,
    password: String,
    #[serde(default)]
    name: String,
}

async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<TokenRequest>,
) -> WebResult<Response> {
    let user = auth::authenticate(&state, &req.username, &req.password, &auth.client_ip).await?;
    let token = format!("yp_{}", auth::random_token(32));
    let mut w = state
        .store
        .begin_write(yuepin_store::Actor(format!(
            "user:{}:{}",
            user.id, user.username
        )))
        .await?;
    let name = if req.name.trim().is_empty() {
        "api".to_string()
    } else {
        req.name.trim().chars().take(60).collect()
    };
    state
        .store
        .create_api_token(&mut w, user.id, &token, &name)
        .await?;
    state.store.commit(w).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "user": user})),
    )
        .into_response())
}

async fn measures() -> Json<Value> {
    let list: Vec<Value> = reference::measures()
        .iter()
        .map(|m| {
            json!({
                "number": m.number, "title_zh": m.title_zh, "group": m.group, "group_zh": m.group_zh,
                "responsible_units": m.responsible_units, "shared": m.shared,
                "clause": reference::measure_clause(m.number),
            })
        })
        .collect();
    Json(json!({
        "policy": {
            "number": reference::POLICY_NUMBER, "title_zh": reference::POLICY_TITLE_ZH, "title_en": reference::POLICY_TITLE_EN,
            "effective_from": reference::policy_effective_from(), "effective_until": reference::policy_effective_until(),
        },
        "measures": list,
    }))
}

async fn designations() -> Json<Value> {
    Json(json!(DesignationKind::ALL
        .iter()
        .map(|d| json!({"code": d.code(), "name_zh": d.name_zh(), "name_en": d.name_en()}))
        .collect::<Vec<_>>()))
}

async fn search(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<Value>> {
    let sq = q.to_search(&auth).await?;
    Ok(Json(json!(state.store.search_enterprises(&sq).await?)))
}

/// Loads an enterprise and checks the caller may read it; 404 before 403 only for regulators,
/// so others cannot probe which codes exist.
async fn readable(state: &AppState, auth: &Auth, uscc: &str) -> WebResult<EnterpriseRecord> {
    auth.require_user()?;
    match state.store.enterprise_by_uscc(uscc.trim()).await {
        Ok(rec) => {
            auth.require_read_enterprise(rec.id)?;
            Ok(rec)
        }
        Err(yuepin_store::StoreError::NotFound(what)) if auth.is_regulator() => {
            Err(WebError::NotFound(what))
        }
        Err(yuepin_store::StoreError::NotFound(_)) => Err(WebError::Forbidden(
            "无权访问该企业的数据 (not your enterprise)".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

async fn get_enterprise(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
) -> WebResult<Json<EnterpriseRecord>> {
    Ok(Json(readable(&state, &auth, &uscc).await?))
}

async fn quality_file(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
) -> WebResult<Json<Value>> {
    let rec = readable(&state, &auth, &uscc).await?;
    let today = crate::today();
    let mut file = json!(state.store.quality_file(rec.id, today).await?);
    let complaints = &state.modules.complaints;
    file["complaints_last_12_months"] =
        json!(complaints.complaint_count_12m_as_of(rec.id, today).await?);
    file["warnings"] = json!(complaints.complaint_warnings_for_enterprise(rec.id).await?);
    Ok(Json(file))
}

async fn create_enterprise(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<EnterpriseInput>,
) -> WebResult<Response> {
    auth.require_role(&[Role::Regulator])?;
    let e = input.parse()?;
    if state
        .store
        .enterprise_by_uscc(e.uscc.as_str())
        .await
        .is_ok()
    {
        return Err(WebError::Conflict(format!(
            "企业 {} 已存在 (already exists)",
            e.uscc
        )));
    }
    let mut w = state.store.begin_write(auth.actor()).await?;
    state.store.save_enterprise(&mut w, &e).await?;
    state.store.commit(w).await?;
    let rec = state.store.enterprise_by_uscc(e.uscc.as_str()).await?;
    Ok((StatusCode::CREATED, Json(rec)).into_response())
}

async fn update_enterprise(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
    ApiJson(input): ApiJson<EnterpriseInput>,
) -> WebResult<Json<EnterpriseRecord>> {
    let existing = readable(&state, &auth, &uscc).await?;
    auth.require_write_enterprise(existing.id)?;
    let mut e = input.parse()?;
    if e.uscc != existing.enterprise.uscc {
        return Err(WebError::field(
            "uscc",
            "统一社会信用代码不可修改 (the credit code cannot change)",
        ));
    }
    if !auth.is_regulator() {
        // Designations are awarded by government; an enterprise cannot grant itself one.
        e.designations = existing.enterprise.designations.clone();
    }
    let mut w = state.store.begin_write(auth.actor()).await?;
    state.store.save_enterprise(&mut w, &e).await?;
    state.store.commit(w).await?;
    Ok(Json(state.store.enterprise_by_id(existing.id).await?))
}

async fn list_products(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
) -> WebResult<Json<Value>> {
    let rec = readable(&state, &auth, &uscc).await?;
    Ok(Json(json!(state.store.products_of(rec.id).await?)))
}

async fn create_product(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
    ApiJson(input): ApiJson<ProductInput>,
) -> WebResult<Response> {
    let rec = readable(&state, &auth, &uscc).await?;
    auth.require_write_enterprise(rec.id)?;
    let p = input.parse(rec.enterprise.uscc.clone())?;
    if state
        .store
        .product_by_model(rec.id, &p.model)
        .await?
        .is_some()
    {
        return Err(WebError::Conflict(format!(
            "型号 {} 已存在 (model exists)",
            p.model
        )));
    }
    let mut w = state.store.begin_write(auth.actor()).await?;
    let id = state.store.save_product(&mut w, rec.id, &p).await?;
    state.store.commit(w).await?;
    Ok((StatusCode::CREATED, Json(state.store.product(id).await?)).into_response())
}

async fn product_for(
    state: &AppState,
    auth: &Auth,
    id: i64,
) -> WebResult<yuepin_store::ProductRecord> {
    auth.require_user()?;
    let p = match state.store.product(id).await {
        Ok(p) => p,
        Err(yuepin_store::StoreError::NotFound(_)) if !auth.is_regulator() => {
            return Err(WebError::Forbidden(
                "无权访问该产品 (not your product)".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    auth.require_read_enterprise(p.enterprise_id)?;
    Ok(p)
}

async fn get_product(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<yuepin_store::ProductRecord>> {
    Ok(Json(product_for(&state, &auth, id).await?))
}

async fn update_product(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ProductInput>,
) -> WebResult<Json<yuepin_store::ProductRecord>> {
    let existing = product_for(&state, &auth, id).await?;
    auth.require_write_enterprise(existing.enterprise_id)?;
    let p = input.parse(existing.product.enterprise.clone())?;
    if p.model != existing.product.model {
        return Err(WebError::field(
            "model",
            "型号不可修改,请新建产品 (model cannot change; create a new product)",
        ));
    }
    let mut w = state.store.begin_write(auth.actor()).await?;
    state
        .store
        .save_product(&mut w, existing.enterprise_id, &p)
        .await?;
    state.store.commit(w).await?;
    Ok(Json(state.store.product(id).await?))
}

async fn delete_product(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<StatusCode> {
    let existing = product_for(&state, &auth, id).await?;
    auth.require_write_enterprise(existing.enterprise_id)?;
    let mut w = state.store.begin_write(auth.actor()).await?;
    state.store.delete_product(&mut w, id).await?;
    state.store.commit(w).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_events(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
) -> WebResult<Json<Value>> {
    let rec = readable(&state, &auth, &uscc).await?;
    Ok(Json(json!(state.store.events_of(rec.id).await?)))
}

#[derive(Deserialize)]
struct EventInput {
    date: String,
    #[serde(default)]
    product_id: Option<i64>,
    #[serde(flatten)]
    kind: QualityEventKind,
}

async fn create_event(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
    ApiJson(input): ApiJson<EventInput>,
) -> WebResult<Response> {
    let rec = readable(&state, &auth, &uscc).await?;
    // Inspections and penalties are the regulator's findings; enterprises may file the rest.
    let official = matches!(
        input.kind,
        QualityEventKind::Inspection { .. } | QualityEventKind::Penalty { .. }
    );
    if official {
        auth.require_role(&[Role::Regulator])?;
    } else {
        auth.require_write_enterprise(rec.id)?;
    }
    let date = parse_date("date", &input.date)?;
    if let Some(pid) = input.product_id {
        let p = state
            .store
            .product(pid)
            .await
            .map_err(|_| WebError::field("product_id", "产品不存在 (no such product)"))?;
        if p.enterprise_id != rec.id {
            return Err(WebError::field(
                "product_id",
                "产品不属于该企业 (product of another enterprise)",
            ));
        }
    }
    let event = QualityEvent {
        enterprise: rec.enterprise.uscc.clone(),
        product_id: input.product_id,
        date,
        kind: input.kind,
    };
    let mut w = state.store.begin_write(auth.actor()).await?;
    let id = state
        .store
        .save_event(
            &mut w,
            rec.id,
            event.product_id,
            date,
            &event.natural_key(),
            &event.kind,
        )
        .await?;
    state.store.commit(w).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "natural_key": event.natural_key()})),
    )
        .into_response())
}

async fn list_users(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    Ok(Json(json!(state.store.users().await?)))
}

#[derive(Deserialize)]
struct UserInput {
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
    role: String,
    #[serde(default)]
    enterprise_uscc: Option<String>,
}

async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<UserInput>,
) -> WebResult<Response> {
    auth.require_role(&[Role::Regulator])?;
    let id = create_account(
        &state,
        &auth.actor(),
        input.username,
        input.display_name,
        input.password,
        &input.role,
        input.enterprise_uscc,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

/// Shared by the API and the CLI: validates and creates an account.
pub async fn create_account(
    state: &AppState,
    actor: &yuepin_store::Actor,
    username: String,
    display_name: String,
    password: String,
    role: &str,
    enterprise_uscc: Option<String>,
) -> WebResult<i64> {
    let username = username.trim().to_string();
    if username.len() < 3
        || username.len() > 40
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(WebError::field(
            "username",
            "用户名为3-40位字母、数字或._- (3-40 letters, digits or ._-)",
        ));
    }
    auth::check_password_strength(&password)?;
    let role: Role = role.parse()?;
    let enterprise_id = match (
        role,
        enterprise_uscc
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty()),
    ) {
        (Role::Enterprise, Some(u)) => Some(
            state
                .store
                .enterprise_by_uscc(yuepin_domain::Uscc::parse(u)?.as_str())
                .await
                .map_err(|_| WebError::field("enterprise_uscc", "企业不存在 (no such enterprise)"))?
                .id,
        ),
        (Role::Enterprise, None) => {
            return Err(WebError::field(
                "enterprise_uscc",
                "企业用户必须绑定企业 (enterprise users belong to an enterprise)",
            ))
        }
        (_, Some(_)) => {
            return Err(WebError::field(
                "enterprise_uscc",
                "仅企业用户绑定企业 (only enterprise users)",
            ))
        }
        (_, None) => None,
    };
    let hash = auth::hash_password(&password)?;
    let display = if display_name.trim().is_empty() {
        username.clone()
    } else {
        display_name.trim().to_string()
    };
    let mut w = state.store.begin_write(actor.clone()).await?;
    let id = state
        .store
        .create_user(&mut w, &username, &display, &hash, role, enterprise_id)
        .await?;
    state.store.commit(w).await?;
    Ok(id)
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    entity: Option<String>,
    #[serde(default)]
    entity_id: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

async fn audit_list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AuditQuery>,
) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    let entries = state
        .store
        .audit_list(
            q.entity.as_deref(),
            q.entity_id.as_deref(),
            q.limit.unwrap_or(100).clamp(1, 1000),
        )
        .await?;
    Ok(Json(json!(entries)))
}

async fn audit_verify(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    Ok(Json(json!(state.store.audit_verify().await?)))
}
