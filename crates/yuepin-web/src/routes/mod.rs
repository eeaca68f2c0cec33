//! All routes. Each capability contributes its own `router()`; this file merges them.

use crate::AppState;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::portal::router())
        .merge(crate::accounts::router())
        .merge(crate::enterprises::router())
        .merge(crate::codes::router())
        .merge(crate::policy::router())
        .merge(crate::complaints::router())
        .merge(crate::labs::router())
        .merge(crate::credit::router())
        .merge(crate::hospital::router())
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
