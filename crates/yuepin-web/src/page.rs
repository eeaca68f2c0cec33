//! One page chrome for every capability: the frame's data ([`Chrome`]), rendering with the
//! language cookie, error pages (sign-in redirect for the unauthenticated) and the 404 page.

use crate::auth::{Auth, LANG_COOKIE};
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
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
    /// The day the platform runs as of, when the server was started with one (training and
    /// demos): every page names it.
    pub as_of: Option<Notice>,
    /// Loaded policy documents that are lapsing (< 90 days) or lapsed on the server's date.
    pub policy_notices: Vec<Notice>,
    /// The site navigation for the caller's role (only pages it may open).
    pub nav: Vec<crate::nav::NavLink>,
    /// A consumer's page (the scan result): brand, language and 12315 only, so the verdict is
    /// the first thing on a phone screen.
    pub minimal: bool,
}

/// A line of page chrome in both languages.
#[derive(Debug, Clone)]
pub struct Notice {
    pub zh: String,
    pub en: String,
}

impl Chrome {
    pub fn new(auth: &Auth, state: &AppState) -> Self {
        let policy = &state.modules.policy;
        let today = policy.today();
        let set = policy.set();
        let policy_notices = set
            .packs()
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.example)
            .filter_map(|(i, p)| {
                let s = yuepin_policy::status::pack_status(set, i, today)?;
                let show = matches!(
                    s,
                    yuepin_policy::status::MeasureStatus::Lapsed { .. }
                        | yuepin_policy::status::MeasureStatus::LapsingSoon { .. }
                );
                show.then(|| {
                    let l = s.label();
                    Notice {
                        zh: format!("《{}》（{}）{}", p.title.zh, p.number, l.zh),
                        en: format!("“{}” ({}): {}", p.title.en, p.number, l.en),
                    }
                })
            })
            .collect();
        Self {
            user: auth.user.clone(),
            csrf: auth.csrf.clone().unwrap_or_default(),
            demo: state.config.demo,
            as_of: policy.fixed_today().map(|d| {
                use chrono::Datelike;
                Notice {
                    zh: format!("{}年{}月{}日", d.year(), d.month(), d.day()),
                    en: d.format("%-d %B %Y").to_string(),
                }
            }),
            policy_notices,
            nav: crate::nav::links(auth.user.as_ref().map(|u| u.role)),
            minimal: false,
        }
    }

    /// The chrome of a consumer's page (see [`Chrome::minimal`]).
    pub fn minimal(auth: &Auth, state: &AppState) -> Self {
        Self {
            minimal: true,
            ..Self::new(auth, state)
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

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage<'a> {
    tr: Tr,
    c: Chrome,
    title: (&'a str, &'a str),
    body: (&'a str, &'a str),
}

/// A page that tells a signed-in user why there is nothing here for them yet (an account not
/// yet bound to its lab, say), with the way forward: a 200 page, not an error.
pub fn notice(
    auth: &Auth,
    state: &AppState,
    uri: &Uri,
    title: (&str, &str),
    body: (&str, &str),
) -> Response {
    let page = NoticePage {
        tr: auth.tr,
        c: Chrome::new(auth, state),
        title,
        body,
    };
    render(&page, auth, uri)
}

/// Turns an error into a page: sign-in redirect when unauthenticated, else an error page.
/// A page handler's answer: the page, or the error page for what went wrong.
pub fn page_or_error(r: WebResult<Response>, auth: &Auth, state: &AppState, uri: &Uri) -> Response {
    r.unwrap_or_else(|e| page_error(e, auth, state, uri))
}

pub fn page_error(e: WebError, auth: &Auth, state: &AppState, uri: &Uri) -> Response {
    if matches!(e, WebError::Unauthenticated) {
        let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        return Redirect::to(&format!("/login?next={}", urlencode(next))).into_response();
    }
    if let WebError::SeeOther(to) = &e {
        return crate::redirect::see_other(to);
    }
    let status = e.status();
    let page = ErrorPage {
        tr: auth.tr,
        c: Chrome::new(auth, state),
        status: e.title_in(auth.tr),
        message: e.message_in(auth.tr),
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

pub async fn not_found(Cx { state, auth }: Cx, uri: Uri) -> Response {
    let e = WebError::NotFound(format!("{} 不存在 (no such page)", uri.path()));
    if uri.path().starts_with("/api/") {
        return e.into_response();
    }
    page_error(e, &auth, &state, &uri)
}

/// A stored UTC timestamp (RFC 3339) as people in China read it: 2026-12-02 01:37; anything
/// else as it is.
pub fn china_time(stamp: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(stamp)
        .map(|t| {
            yuepin_domain::to_china(t.with_timezone(&chrono::Utc))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| stamp.to_string())
}

/// `?page=N` of a paged list (1-based; anything else is page 1).
#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "lenient_page")]
    pub page: Option<usize>,
}

fn lenient_page<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(s.and_then(|s| s.trim().parse().ok()))
}

/// Where a paged list stands: the page count and the previous/next links (empty at the ends).
pub struct Pager {
    pub pages: i64,
    pub prev: String,
    pub next: String,
}

impl Pager {
    /// `total` rows at `per_page` a page, on `page` (1-based); `link(n)` is page n's address.
    pub fn new(page: i64, total: i64, per_page: i64, link: impl Fn(i64) -> String) -> Pager {
        let pages = ((total + per_page - 1) / per_page.max(1)).max(1);
        Pager {
            pages,
            prev: if page > 1 {
                link(page - 1)
            } else {
                String::new()
            },
            next: if page < pages {
                link(page + 1)
            } else {
                String::new()
            },
        }
    }
}
