//! Reference tables (cities, divisions, measures, designations) and the OpenAPI document.

use crate::AppState;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use yuepin_domain::{reference, DesignationKind};

pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
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
}

async fn openapi() -> Response {
    ([("content-type", "application/json")], OPENAPI).into_response()
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
