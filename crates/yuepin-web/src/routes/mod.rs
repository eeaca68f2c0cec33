//! All routes. Each capability module contributes its own `router()`; this file merges them.

pub mod api;
pub mod codes;
pub mod labs;
pub mod pages;
pub mod policy;

use crate::AppState;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(pages::router())
        .merge(api::router())
        .merge(codes::router())
        .merge(policy::router())
        .merge(crate::complaints::router())
        .merge(labs::router())
        .fallback(crate::page::not_found)
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.store.ping().await {
        Ok(()) => {
            axum::Json(serde_json::json!({"status": "ok", "backend": state.store.backend_name()}))
                .into_response()
        }
        Err(e) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "unavailable", "error": e.to_string()})),
        )
            .into_response(),
    }
}
