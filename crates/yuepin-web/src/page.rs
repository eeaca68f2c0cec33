//! One page chrome for every capability: the frame's data ([`Chrome`]), rendering with the
//! language cookie, error pages (sign-in redirect for the unauthenticated) and the 404 page.

use crate::auth::{Auth, LANG_COOKIE};
use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use yuepin_store::UserRecord;

pub use yuepin_domain::percent::urlencode;

/// What every page's frame needs besides the language.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub user: Option<UserRecord>,
    pub csrf: String,
    pub demo: bool,
}

impl Chrome {
    pub fn new(auth: &Auth, state: &AppState) -> Self {
        Self {
            user: auth.user.clone(),
            csrf: auth.csrf.clone().unwrap_or_default(),
            demo: state.config.demo,
        }
    }
}

/// Renders a template; a `?lang=` switch is remembered in a cookie.
pub fn render(t: &impl Template, auth: &Auth, uri: &Uri) -> Response {
    match t.render() {
        Ok(html) => {
            let mut resp = Html(html).into_response();
            if uri.query().is_some_and(|q| q.contains("lang=")) {
                let c = Cookie::build((LANG_COOKIE, auth.tr.lang.code().to_string()))
                    .path("/")
                    .same_site(SameSite::Lax)
                    .permanent()
                    .build();
                if let Ok(v) = c.to_string().parse() {
                    resp.headers_mut().append("set-cookie", v);
                }
            }
            resp
        }
        Err(e) => WebError::Internal(format!("template: {e}")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    tr: Tr,
    c: Chrome,
    status: String,
    message: String,
}

/// Turns an error into a page: sign-in redirect when unauthenticated, else an error page.
pub fn page_error(e: WebError, auth: &Auth, state: &AppState, uri: &Uri) -> Response {
    if matches!(e, WebError::Unauthenticated) {
        let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        return Redirect::to(&format!("/login?next={}", urlencode(next))).into_response();
    }
    let status = e.status();
    let page = ErrorPage {
        tr: auth.tr,
        c: Chrome::new(auth, state),
        status: status.to_string(),
        message: e.message(),
    };
    let mut resp = render(&page, auth, uri);
    *resp.status_mut() = status;
    resp
}

/// A form post answered as a page: the CSRF token is checked first, then `action` runs (an
/// async block is lazy, so nothing of it happens before the check); its `Ok` is the address to
/// go to next (303 See Other), its error becomes an error page or the sign-in redirect.
pub async fn form_post(
    auth: &Auth,
    state: &AppState,
    uri: &Uri,
    csrf: Option<&str>,
    action: impl std::future::Future<Output = WebResult<String>>,
) -> Response {
    let result = async {
        auth.check_csrf(csrf)?;
        Ok(Redirect::to(&action.await?).into_response())
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, auth, state, uri))
}

pub async fn not_found(State(state): State<AppState>, auth: Auth, uri: Uri) -> Response {
    let e = WebError::NotFound(format!("{} 不存在 (no such page)", uri.path()));
    if uri.path().starts_with("/api/") {
        return e.into_response();
    }
    page_error(e, &auth, &state, &uri)
}
