//! The two things nearly every handler takes, as one extractor: the application and its
//! caller. `Cx { state, auth }: Cx` in a handler's parameters stands for `State(state):
//! State<AppState>` and `auth: Auth`, so that a handler's signature says only what is its own
//! (the path, the query, the body).

use crate::auth::Auth;
use crate::error::WebError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The application state and the request's caller.
pub struct Cx {
    pub state: AppState,
    pub auth: Auth,
}

impl FromRequestParts<AppState> for Cx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        Ok(Cx {
            state: state.clone(),
            auth,
        })
    }
}
