//! Routes of the complaints module (filled in by its issue).

use crate::AppState;
use axum::Router;

/// Long-lived state of this module, built once at start-up (keys, caches, engines).
#[derive(Debug, Default)]
pub struct ModuleState {}

impl ModuleState {
    pub fn new(_config: &crate::WebConfig) -> Self {
        Self::default()
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
}
