//! The sign-in page (sends each role to its own start page) and sign-out.

use crate::auth::{self, Auth};
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use yuepin_domain::Role;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    c: Chrome,
    error: String,
    next: String,
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only same-site relative paths are followed after sign-in.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/me".into()
    }
}

pub(super) async fn login_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<NextQuery>,
) -> Response {
    let page = LoginPage {
        tr: auth.tr,
        c: Chrome::new(&auth, &state),
        error: String::new(),
        next: safe_next(&q.next),
    };
    render(&page, &auth, &uri)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub(super) async fn login_submit(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    match auth::authenticate(&state, &form.username, &form.password, &auth.client_ip).await {
        Ok(user) => match auth::start_session(&state, jar, &user).await {
            Ok(jar) => {
                let dest = match (user.role, form.next.as_str()) {
                    // The form's default (no `next`) is the role's own landing page.
                    (_, n) if !n.is_empty() && n != "/me" => safe_next(n),
                    (Role::Enterprise, _) => match state
                        .modules
                        .enterprises
                        .enterprise_by_id(user.enterprise_id.unwrap_or(-1))
                        .await
                    {
                        Ok(e) => format!("/enterprises/{}", e.enterprise.uscc),
                        Err(_) => "/".into(),
                    },
                    _ => "/me".into(),
                };
                (jar, Redirect::to(&dest)).into_response()
            }
            Err(e) => page_error(e, &auth, &state, &uri),
        },
        Err(e) => {
            let status = e.status();
            let page = LoginPage {
                tr: auth.tr,
                c: Chrome::new(&auth, &state),
                error: e.message(),
                next: safe_next(&form.next),
            };
            let mut resp = render(&page, &auth, &uri);
            *resp.status_mut() = if status == StatusCode::TOO_MANY_REQUESTS {
                status
            } else {
                StatusCode::UNAUTHORIZED
            };
            resp
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn logout(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(Some(&f.csrf)) {
        return page_error(e, &auth, &state, &uri);
    }
    match auth::end_session(&state, jar).await {
        Ok(jar) => (jar, Redirect::to("/")).into_response(),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}
