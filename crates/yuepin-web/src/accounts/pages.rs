//! The sign-in page (sends each role to its own start page) and sign-out (of a page session or
//! a bearer token).

use crate::auth::{self, Auth};
use crate::cx::Cx;
use crate::error::WebError;
use crate::form::PageForm;
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use crate::redirect::{local_path, see_other};
use crate::AppState;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use yuepin_domain::Role;
use yuepin_enterprises_service::FirstStep;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    c: Chrome,
    error: String,
    next: String,
    username: String,
    /// The pre-session's CSRF token (login CSRF; see `auth::presession`).
    csrf: String,
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Where to go after sign-in when no acceptable `next` was given: the role's workbench (an
/// enterprise user goes to its own quality file instead, below).
const DEFAULT_NEXT: &str = "/me";

/// Only local paths are followed after sign-in (`crate::redirect::local_path`).
fn safe_next(next: &str) -> String {
    local_path(next).unwrap_or_else(|| DEFAULT_NEXT.into())
}

/// The sign-in page with `error` (empty for none) and the username kept, its pre-session
/// cookie set or kept; `status` is the answer's status code.
#[allow(clippy::too_many_arguments)]
pub(super) fn login_page(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    jar: CookieJar,
    status: StatusCode,
    error: String,
    next: &str,
    username: &str,
) -> Response {
    let (jar, csrf) = auth::presession(jar, state.config.secure_cookies);
    let page = LoginPage {
        tr: auth.tr,
        c: Chrome::new(auth, state),
        error,
        next: safe_next(next),
        username: username.chars().take(200).collect(),
        csrf,
    };
    let mut resp = render(&page, auth, uri);
    if resp.status() == StatusCode::OK {
        *resp.status_mut() = status;
    }
    (jar, resp).into_response()
}

pub(super) async fn login_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    login_page(
        &state,
        &auth,
        &uri,
        jar,
        StatusCode::OK,
        String::new(),
        &q.next,
        "",
    )
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn login_submit(
    Cx { state, auth }: Cx,
    uri: Uri,
    jar: CookieJar,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    // Login CSRF: the form must come from our sign-in page in this browser.
    if !auth::presession_matches(&jar, &form.csrf) {
        let error = auth.tr.t(
            "登录表单已过期或并非来自本站，请重新登录。",
            "The sign-in form expired or did not come from this site; please sign in again.",
        );
        let jar = auth::end_presession(jar);
        return login_page(
            &state,
            &auth,
            &uri,
            jar,
            StatusCode::FORBIDDEN,
            error.into(),
            &form.next,
            &form.username,
        );
    }
    let step = state
        .modules
        .enterprises
        .begin_sign_in(&form.username, &form.password, &auth.client_ip)
        .await;
    let user = match step {
        Ok(FirstStep::Signed(user)) => user,
        Ok(FirstStep::NeedsCode { challenge }) => {
            let jar = auth::challenge_cookie(jar, challenge, state.config.secure_cookies);
            return super::second_factor::code_page(
                &state,
                &auth,
                &uri,
                jar,
                StatusCode::OK,
                String::new(),
                &form.next,
            );
        }
        Err(e) => {
            let e = WebError::from(e);
            let status = if e.status() == StatusCode::TOO_MANY_REQUESTS {
                e.status()
            } else {
                StatusCode::UNAUTHORIZED
            };
            let error = e.message();
            return login_page(
                &state,
                &auth,
                &uri,
                jar,
                status,
                error,
                &form.next,
                &form.username,
            );
        }
    };
    let dest = destination(&state, &user, &form.next).await;
    match auth::start_session(&state, auth::end_presession(jar), &user).await {
        Ok(jar) => (jar, see_other(&dest)).into_response(),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

/// Where a signed-in user goes: an acceptable `next`, else the role's start page. The
/// destination is settled before the session exists, and is always a valid header.
pub(super) async fn destination(
    state: &AppState,
    user: &yuepin_store::UserRecord,
    next: &str,
) -> String {
    match (user.role, local_path(next)) {
        (_, Some(n)) if n != DEFAULT_NEXT => n,
        (Role::Enterprise, _) => match state
            .modules
            .enterprises
            .enterprise_by_id(user.enterprise_id.unwrap_or(-1))
            .await
        {
            Ok(e) => format!("/enterprises/{}", e.enterprise.uscc),
            Err(_) => "/".into(),
        },
        _ => DEFAULT_NEXT.into(),
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Signs out: a page session ends (its form must carry the CSRF token); a bearer token is
/// revoked (`204`), so it no longer works anywhere.
pub(super) async fn logout(
    Cx { state, auth }: Cx,
    uri: Uri,
    headers: HeaderMap,
    jar: CookieJar,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let (Some(token), false) = (auth::bearer(&headers), auth.via_cookie) {
        return match state
            .modules
            .enterprises
            .revoke_presented_token(&auth.caller(), token)
            .await
        {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => WebError::from(e).into_response(),
        };
    }
    let csrf = form.ok().map(|Form(f)| f.csrf);
    if let Err(e) = auth.check_csrf(csrf.as_deref()) {
        return page_error(e, &auth, &state, &uri);
    }
    match auth::end_session(&state, jar).await {
        Ok(jar) => (jar, Redirect::to("/")).into_response(),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}
