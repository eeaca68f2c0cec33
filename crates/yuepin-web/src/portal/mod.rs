//! The public policy portal: the home page with the policy and its 29 measures, one page per
//! measure with its clause, the signed-in user's workbench (`/me`), the reference tables as JSON, and the OpenAPI document.

mod api;
mod pages;
mod schema;
mod workbench;

use crate::AppState;
use axum::routing::get;
use axum::Router;

pub use api::ApiDoc;
pub use pages::ISSUING_UNITS;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/measures/{n}", get(pages::measure))
        .route("/me", get(workbench::workbench))
        .merge(api::router())
}
