//! The static files the pages load, compiled into the binary: the one style sheet
//! (`static/yuepin.css`, from the pages' former inline `<style>` blocks, so the
//! Content-Security-Policy allows style elements from this origin only).

use crate::AppState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// The style sheet every page links.
pub const STYLESHEET: &str = "/static/yuepin.css";

pub fn router() -> Router<AppState> {
    Router::new().route(STYLESHEET, get(stylesheet))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/yuepin.css"),
    )
}
