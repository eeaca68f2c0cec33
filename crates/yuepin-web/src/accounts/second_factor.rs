//! The second factor's pages: the code step of a sign-in (`/login/code`, after the password
//! step opened a challenge), and enrolment at `/account/totp` (the `otpauth://` URI as a
//! server-drawn QR code and the key in text, a first code to confirm, then the 10 recovery
//! codes shown once). Regulator and bank accounts without a second factor are sent to
//! enrolment by `auth::gate` while `require_totp` is on.

use super::pages::{destination, login_page};
use crate::auth::{self, Auth};
use crate::cx::Cx;
use crate::error::WebError;
use crate::form::PageForm;
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use crate::redirect::{local_path, see_other};
use crate::AppState;
use askama::Template;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use yuepin_enterprises_service::EnterprisesError;

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    tr: Tr,
    c: Chrome,
    error: String,
    next: String,
    csrf: String,
}

/// The code step's page (after a password step that opened a challenge).
pub(super) fn code_page(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    jar: CookieJar,
    status: StatusCode,
    error: String,
    next: &str,
) -> Response {
    let (jar, csrf) = auth::presession(jar, state.config.secure_cookies);
    let p = CodePage {
        tr: auth.tr,
        c: Chrome::new(auth, state),
        error,
        next: local_path(next).unwrap_or_else(|| "/me".into()),
        csrf,
    };
    let mut resp = render(&p, auth, uri);
    if resp.status() == StatusCode::OK {
        *resp.status_mut() = status;
    }
    (jar, resp).into_response()
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

pub(super) async fn code_submit(
    Cx { state, auth }: Cx,
    uri: Uri,
    jar: CookieJar,
    PageForm(f): PageForm<CodeForm>,
) -> Response {
    let challenge = jar
        .get(auth::CHALLENGE_COOKIE)
        .map(|c| c.value().to_string());
    let expired = auth.tr.t(
        "验证步骤已过期，请重新登录。",
        "The verification step expired; please sign in again.",
    );
    if !auth::presession_matches(&jar, &f.csrf) || challenge.is_none() {
        let jar = auth::end_challenge(jar);
        return login_page(
            &state,
            &auth,
            &uri,
            jar,
            StatusCode::FORBIDDEN,
            expired.into(),
            &f.next,
            "",
        );
    }
    let challenge = challenge.unwrap_or_default();
    let result = state
        .modules
        .enterprises
        .finish_sign_in(&challenge, &f.code, &auth.client_ip)
        .await;
    match result {
        Ok(user) => {
            let dest = destination(&state, &user, &f.next).await;
            let jar = auth::end_challenge(auth::end_presession(jar));
            match auth::start_session(&state, jar, &user).await {
                Ok(jar) => (jar, see_other(&dest)).into_response(),
                Err(e) => page_error(e, &auth, &state, &uri),
            }
        }
        Err(EnterprisesError::ChallengeExpired) => login_page(
            &state,
            &auth,
            &uri,
            auth::end_challenge(jar),
            StatusCode::UNAUTHORIZED,
            expired.into(),
            &f.next,
            "",
        ),
        Err(e) => {
            let e = WebError::from(e);
            let status = if e.status() == StatusCode::TOO_MANY_REQUESTS {
                e.status()
            } else {
                StatusCode::UNAUTHORIZED
            };
            code_page(
                &state,
                &auth,
                &uri,
                jar,
                status,
                code_message(auth.tr, &e),
                &f.next,
            )
        }
    }
}

fn code_message(tr: Tr, e: &WebError) -> String {
    match e {
        WebError::TooManyAttempts(_) => e.message(),
        _ => tr
            .t(
                "验证码错误、已用过或已过期，请输入应用当前显示的验证码。",
                "Wrong, used or expired code; enter the code the app shows now.",
            )
            .into(),
    }
}

#[derive(Template)]
#[template(path = "account_totp.html")]
struct TotpPage {
    tr: Tr,
    c: Chrome,
    error: String,
    required: bool,
    enrolled: bool,
    left: usize,
    secret: String,
    qr: String,
    codes: Vec<String>,
    /// The codes shown are a new set in place of the old (not the enrolment's first).
    regenerated: bool,
}

async fn totp_page(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    status: StatusCode,
    error: String,
    codes: Vec<String>,
) -> Response {
    let user = match auth.require_user() {
        Ok(u) => u.clone(),
        Err(e) => return page_error(e, auth, state, uri),
    };
    let service = &state.modules.enterprises;
    let caller = auth.caller();
    let mut p = TotpPage {
        tr: auth.tr,
        c: Chrome::new(auth, state),
        error,
        required: state.config.require_totp
            && yuepin_enterprises_service::totp_required(user.role)
            && !user.totp_enabled
            && codes.is_empty(),
        enrolled: user.totp_enabled || !codes.is_empty(),
        regenerated: user.totp_enabled && !codes.is_empty(),
        left: 0,
        secret: String::new(),
        qr: String::new(),
        codes,
    };
    if p.enrolled {
        p.left = service.recovery_codes_left(&caller).await.unwrap_or(0);
    } else {
        match service.begin_totp_enrolment(&caller).await {
            Ok(en) => {
                p.qr = yuepin_code::qr::qr_svg(&en.uri, 4).unwrap_or_default();
                p.secret = en.secret;
            }
            Err(e) => return page_error(e.into(), auth, state, uri),
        }
    }
    let mut resp = render(&p, auth, uri);
    if resp.status() == StatusCode::OK {
        *resp.status_mut() = status;
    }
    resp
}

pub(super) async fn totp_form(Cx { state, auth }: Cx, uri: Uri) -> Response {
    totp_page(&state, &auth, &uri, StatusCode::OK, String::new(), vec![]).await
}

#[derive(Deserialize)]
pub(super) struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

pub(super) async fn totp_submit(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<ConfirmForm>,
) -> Response {
    let caller = auth.caller();
    let made = state.modules.enterprises.confirm_totp(&caller, &f.code);
    codes_answer(&state, &auth, &uri, &f.csrf, made).await
}

/// A signed-in user's form that trades a code for recovery codes: the CSRF token is checked
/// first, then `made` runs (a future is lazy, so the service is not called before the check);
/// the answer is the codes (shown once, never cached), the page again with the wrong-code
/// message, or the error page.
async fn codes_answer(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    csrf: &str,
    made: impl std::future::Future<Output = Result<Vec<String>, EnterprisesError>>,
) -> Response {
    if let Err(e) = auth.signed_form(csrf) {
        return page_error(e, auth, state, uri);
    }
    match made.await {
        Ok(codes) => {
            let mut resp = totp_page(state, auth, uri, StatusCode::OK, String::new(), codes).await;
            resp.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            resp
        }
        Err(EnterprisesError::WrongCode) => {
            let msg = code_message(auth.tr, &WebError::BadRequest(String::new()));
            totp_page(state, auth, uri, StatusCode::BAD_REQUEST, msg, vec![]).await
        }
        Err(e) => page_error(e.into(), auth, state, uri),
    }
}

/// New recovery codes in place of the old, after a current code (the page's second form).
pub(super) async fn recovery_codes_submit(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<ConfirmForm>,
) -> Response {
    let caller = auth.caller();
    let made =
        state
            .modules
            .enterprises
            .regenerate_recovery_codes(&caller, &f.code, &auth.client_ip);
    codes_answer(&state, &auth, &uri, &f.csrf, made).await
}
