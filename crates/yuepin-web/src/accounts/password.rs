//! The password page, `/account/password`: the signed-in user enters the current password and
//! a new one (8 to 128 characters, not a common one; the registry service decides). The
//! caller's other sessions end; this one stays.

use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::WebError;
use crate::form::PageForm;
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use askama::Template;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    tr: Tr,
    c: Chrome,
    error: String,
    changed: bool,
    min: usize,
    max: usize,
}

fn page(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    status: StatusCode,
    error: String,
    changed: bool,
) -> Response {
    let p = PasswordPage {
        tr: auth.tr,
        c: Chrome::new(auth, state),
        error,
        changed,
        min: yuepin_store::passwords::MIN_PASSWORD_CHARS,
        max: yuepin_store::passwords::MAX_PASSWORD_CHARS,
    };
    let mut resp = render(&p, auth, uri);
    if resp.status() == StatusCode::OK {
        *resp.status_mut() = status;
    }
    resp
}

pub(super) async fn form(Cx { state, auth }: Cx, uri: Uri) -> Response {
    if let Err(e) = auth.require_user() {
        return page_error(e, &auth, &state, &uri);
    }
    page(&state, &auth, &uri, StatusCode::OK, String::new(), false)
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn submit(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<PasswordForm>,
) -> Response {
    if let Err(e) = auth.signed_form(&f.csrf) {
        return page_error(e, &auth, &state, &uri);
    }
    let keep = auth.session_token.clone();
    let result = state
        .modules
        .enterprises
        .change_password(
            &auth.caller(),
            &f.current_password,
            &f.password,
            &auth.client_ip,
            keep.as_deref(),
        )
        .await;
    match result.map_err(WebError::from) {
        Ok(()) => page(&state, &auth, &uri, StatusCode::OK, String::new(), true),
        Err(e @ (WebError::Invalid(_) | WebError::TooManyAttempts(_))) => {
            page(&state, &auth, &uri, e.status(), e.message(), false)
        }
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}
