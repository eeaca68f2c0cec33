//! Security headers on every response (pages, the API, errors, static files and the
//! fallback; ASVS 5.0 3.4): a Content-Security-Policy without inline scripts, no framing
//! (`frame-ancestors 'none'` and `X-Frame-Options: DENY`), `nosniff`, a referrer policy
//! (`no-referrer` on the pages whose address carries a signature or a report number),
//! `Cross-Origin-Opener-Policy`, and `Strict-Transport-Security` when the configuration's
//! `secure_cookies` says the platform is served over HTTPS. A handler's own value wins.
//!
//! Also a last guard for the session: an error answer (4xx/5xx) never carries a
//! `Set-Cookie` that starts a session.

use crate::auth::{HOST_SESSION_COOKIE, SESSION_COOKIE};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

/// The policy of every response. Scripts: this origin only, and the pages have none inline
/// (no `<script>` element, no `on…=` handler). Styles: `'unsafe-inline'` is allowed for
/// `style-src` only, because the templates and the server-drawn SVG charts carry `style=`
/// attributes; style *elements* must come from this origin (`style-src-elem 'self'`: the
/// one style sheet, `crate::assets`), so only attributes use the allowance.
pub const CSP: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; style-src-elem 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    object-src 'none'; frame-ancestors 'none'";

/// One year, subdomains included (sent only when `secure_cookies` is set).
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Pages whose address is a credential of sorts (a code's signature, a report number): the
/// browser sends no `Referer` at all from them.
const NO_REFERRER_PREFIXES: [&str; 4] = ["/01/", "/p/", "/labs/reports/", "/api/v1/labs/reports/"];

/// Wraps every route of `router` (and its fallback) with the headers; `hsts` adds HSTS.
pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>, hsts: bool) -> Router<S> {
    router.layer(middleware::from_fn_with_state(hsts, add))
}

async fn add(State(hsts): State<bool>, req: Request, next: Next) -> Response {
    let no_referrer = NO_REFERRER_PREFIXES
        .iter()
        .any(|p| req.uri().path().starts_with(p));
    let mut resp = next.run(req).await;
    if resp.status().is_client_error() || resp.status().is_server_error() {
        drop_session_cookies(resp.headers_mut());
    }
    let h = resp.headers_mut();
    let referrer = if no_referrer {
        "no-referrer"
    } else {
        "strict-origin-when-cross-origin"
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, referrer);
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if hsts {
        set(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    resp
}

fn set(h: &mut HeaderMap, name: HeaderName, value: &'static str) {
    h.entry(name)
        .or_insert_with(|| HeaderValue::from_static(value));
}

/// Removes every `Set-Cookie` that gives the session cookie a value (its removal stays).
fn drop_session_cookies(h: &mut HeaderMap) {
    let kept: Vec<HeaderValue> = h
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|v| {
            let s = v.to_str().unwrap_or_default();
            [SESSION_COOKIE, HOST_SESSION_COOKIE].iter().all(|name| {
                !s.starts_with(&format!("{name}=")) || s.starts_with(&format!("{name}=;"))
            })
        })
        .cloned()
        .collect();
    h.remove(header::SET_COOKIE);
    for v in kept {
        h.append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_lose_session_cookies_only() {
        let mut h = HeaderMap::new();
        for v in [
            "yp_session=abc; HttpOnly",
            "yp_lang=en",
            "yp_session=; Max-Age=0",
        ] {
            h.append(header::SET_COOKIE, HeaderValue::from_static(v));
        }
        drop_session_cookies(&mut h);
        let left: Vec<&str> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(left, ["yp_lang=en", "yp_session=; Max-Age=0"]);
    }
}
