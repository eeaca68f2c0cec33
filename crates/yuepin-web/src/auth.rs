//! Who is calling: a page session (HttpOnly cookie, rotated at login, idle and absolute
//! timeouts, CSRF token), an API token (`Authorization: Bearer …`), or the anonymous public.
//! Passwords are Argon2id; failed logins are throttled per account and per address by the
//! registry service (`signin.rs`), the address found behind trusted proxies (`client_addr`).

use crate::error::{WebError, WebResult};
use crate::i18n::{Lang, Tr};
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::Method;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{Duration, Utc};
use yuepin_domain::Role;
use yuepin_store::UserRecord;

pub const SESSION_COOKIE: &str = "yp_session";
/// The session cookie's name when `secure_cookies` is set: the `__Host-` prefix makes the
/// browser refuse it unless it is `Secure`, from this host, without `Domain`, on `Path=/`
/// (ASVS 3.3.1), so a sibling subdomain cannot plant or overwrite it.
pub const HOST_SESSION_COOKIE: &str = "__Host-yp_session";
/// The sign-in challenge between the password step and the code step (HttpOnly,
/// `SameSite=Strict`, `Path=/login`, 5 minutes).
pub const CHALLENGE_COOKIE: &str = "yp_challenge";

/// The session cookie's name under the configuration.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        HOST_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}
/// The anonymous pre-session cookie that carries the sign-in form's CSRF token (login CSRF):
/// `POST /login` must send the same token in its form (double submit). HttpOnly,
/// `SameSite=Strict`, sent to `/login` only.
pub const PRESESSION_COOKIE: &str = "yp_presession";
pub const LANG_COOKIE: &str = "yp_lang";
pub const IDLE_TIMEOUT_MINUTES: i64 = 30;
pub const ABSOLUTE_TIMEOUT_HOURS: i64 = 12;

pub use yuepin_store::passwords::{random_token, verify_password};

pub fn hash_password(password: &str) -> Result<String, WebError> {
    yuepin_store::passwords::hash_password(password)
        .map_err(|e| WebError::Internal(format!("hashing: {e}")))
}

fn ts(dt: chrono::DateTime<Utc>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: Option<UserRecord>,
    /// The session's CSRF token when authenticated by cookie.
    pub csrf: Option<String>,
    pub via_cookie: bool,
    pub tr: Tr,
    pub client_ip: String,
    /// When the caller last proved the account's factors: the session's sign-in or
    /// re-authentication, or the bearer token's issue (RFC 3339).
    pub authenticated_at: Option<String>,
    /// The session cookie's value (to mark a re-authentication on it).
    pub session_token: Option<String>,
}

/// Paths an account that must first enrol its second factor or change its temporary
/// password may still reach.
fn allowed_while_restricted(path: &str, must_change_password: bool) -> bool {
    let common = matches!(path, "/logout" | "/login" | "/login/code" | "/api/v1/me")
        || path == "/account/password";
    common || (!must_change_password && path == "/account/totp")
}

/// Refuses everything but enrolment (or the password change) to an account that must do
/// that first: pages are sent there, API calls get `403` with a code saying so.
fn gate(state: &AppState, user: &UserRecord, path: &str) -> WebResult<()> {
    let (blocked, to, err) = if user.must_change_password {
        (true, "/account/password", WebError::PasswordChangeRequired)
    } else if state.config.require_totp
        && yuepin_enterprises_service::totp_required(user.role)
        && !user.totp_enabled
    {
        (true, "/account/totp", WebError::TotpEnrolmentRequired)
    } else {
        (false, "", WebError::Unauthenticated)
    };
    if !blocked || allowed_while_restricted(path, user.must_change_password) {
        return Ok(());
    }
    if path.starts_with("/api/") {
        Err(err)
    } else {
        Err(WebError::SeeOther(to.into()))
    }
}

impl Auth {
    pub fn require_user(&self) -> WebResult<&UserRecord> {
        self.user.as_ref().ok_or(WebError::Unauthenticated)
    }

    /// A signed-in caller's own form: the user, once the form's CSRF token checks.
    pub fn signed_form(&self, csrf: &str) -> WebResult<&UserRecord> {
        let user = self.require_user()?;
        self.check_csrf(Some(csrf))?;
        Ok(user)
    }

    pub fn require_role(&self, roles: &[Role]) -> WebResult<&UserRecord> {
        let u = self.require_user()?;
        if roles.contains(&u.role) {
            Ok(u)
        } else {
            Err(yuepin_domain::Denied::Role {
                needs: roles.to_vec(),
            }
            .into())
        }
    }

    pub fn is_regulator(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role == Role::Regulator)
    }

    /// Read access to one enterprise's data: regulators all, an enterprise user its own.
    /// Banks never pass here: they reach an enterprise's data only through the credit
    /// capability (`/api/v1/credit/consents/{id}/reports`), under a live consent of their own,
    /// which `yuepin_credit_service::CreditService::fetch_report` checks.
    pub fn can_read_enterprise(&self, enterprise_id: i64) -> bool {
        match &self.user {
            Some(u) if u.role == Role::Regulator => true,
            Some(u) if u.role == Role::Enterprise => u.enterprise_id == Some(enterprise_id),
            _ => false,
        }
    }

    pub fn require_read_enterprise(&self, enterprise_id: i64) -> WebResult<()> {
        self.require_user()?;
        if self.can_read_enterprise(enterprise_id) {
            Ok(())
        } else {
            Err(WebError::Forbidden(
                "无权访问该企业的数据 (not your enterprise)".into(),
            ))
        }
    }

    /// Write access to an enterprise's own data (products, self-declared events, basics).
    pub fn require_write_enterprise(&self, enterprise_id: i64) -> WebResult<()> {
        self.require_read_enterprise(enterprise_id)
    }

    /// The caller as services see it: they check role and tenant themselves.
    pub fn caller(&self) -> yuepin_domain::Caller {
        match &self.user {
            Some(u) => {
                yuepin_domain::Caller::user(u.id, &u.username, u.role, u.enterprise_id, None)
            }
            None => yuepin_domain::Caller::public(),
        }
    }

    /// The actor string written to the audit log.
    pub fn actor(&self) -> yuepin_store::Actor {
        match &self.user {
            Some(u) => yuepin_store::Actor(format!("user:{}:{}", u.id, u.username)),
            None => yuepin_store::Actor("anonymous".into()),
        }
    }

    /// For cookie-authenticated state changes: the submitted token must match the session's.
    pub fn check_csrf(&self, submitted: Option<&str>) -> WebResult<()> {
        if !self.via_cookie {
            return Ok(());
        }
        match (&self.csrf, submitted) {
            (Some(expected), Some(got)) if constant_eq(expected, got) => Ok(()),
            _ => Err(WebError::Forbidden(
                "CSRF令牌无效，请刷新页面后重试 (invalid CSRF token; reload the page)".into(),
            )),
        }
    }
}

/// The sign-in form's CSRF token: the pre-session cookie's when the browser has a well-formed
/// one, else a new one (returned in the jar to send).
pub fn presession(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(c) = jar.get(PRESESSION_COOKIE) {
        let v = c.value();
        let well_formed = v.len() == PRESESSION_LEN
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            let token = v.to_string();
            return (jar, token);
        }
    }
    let token = random_token(PRESESSION_BYTES);
    let cookie = Cookie::build((PRESESSION_COOKIE, token.clone()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/login")
        .build();
    (jar.add(cookie), token)
}

/// Whether a sign-in form's `csrf` field matches the browser's pre-session cookie.
pub fn presession_matches(jar: &CookieJar, submitted: &str) -> bool {
    jar.get(PRESESSION_COOKIE)
        .is_some_and(|c| !submitted.is_empty() && constant_eq(c.value(), submitted))
}

/// The jar without the pre-session cookie (sent with the session cookie after sign-in).
pub fn end_presession(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(PRESESSION_COOKIE).path("/login").build())
}

/// 24 random bytes, 32 characters of URL-safe base64.
const PRESESSION_BYTES: usize = 24;
const PRESESSION_LEN: usize = 32;

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The bearer token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn lang_of(parts: &Parts, jar: &CookieJar) -> Lang {
    let from_query = parts.uri.query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("lang="))
            .and_then(Lang::parse)
    });
    from_query
        .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Already found for this request by `signed_in::api_writes`.
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let tr = Tr {
            lang: lang_of(parts, &jar),
        };
        let peer = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let client_ip = state
            .config
            .trusted_proxies
            .client(peer, &parts.headers)
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "local".into());
        if let Some(token) = bearer(&parts.headers) {
            let (user, issued) = state
                .store
                .api_token_login(token)
                .await?
                .ok_or(WebError::Unauthenticated)?;
            gate(state, &user, parts.uri.path())?;
            return Ok(Auth {
                user: Some(user),
                csrf: None,
                via_cookie: false,
                tr,
                client_ip,
                authenticated_at: Some(issued),
                session_token: None,
            });
        }
        if let Some(cookie) = jar.get(session_cookie_name(state.config.secure_cookies)) {
            let now = Utc::now();
            let session = state
                .store
                .session(
                    cookie.value(),
                    &ts(now - Duration::minutes(IDLE_TIMEOUT_MINUTES)),
                    &ts(now - Duration::hours(ABSOLUTE_TIMEOUT_HOURS)),
                    &ts(now - Duration::minutes(1)),
                )
                .await?;
            if let Some(s) = session {
                let unsafe_method =
                    !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                gate(state, &s.user, parts.uri.path())?;
                let auth = Auth {
                    user: Some(s.user),
                    csrf: Some(s.csrf_token),
                    via_cookie: true,
                    tr,
                    client_ip,
                    authenticated_at: Some(s.reauth_at),
                    session_token: Some(cookie.value().to_string()),
                };
                // API calls authenticated by cookie must carry the CSRF header.
                if unsafe_method && parts.uri.path().starts_with("/api/") {
                    let header = parts
                        .headers
                        .get("x-csrf-token")
                        .and_then(|v| v.to_str().ok());
                    auth.check_csrf(header)?;
                }
                return Ok(auth);
            }
        }
        Ok(Auth {
            user: None,
            csrf: None,
            via_cookie: false,
            tr,
            client_ip,
            authenticated_at: None,
            session_token: None,
        })
    }
}

/// Checks credentials under the service's throttling (`yuepin_enterprises_service::signin`),
/// the client as `client_addr` found it.
pub async fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
    ip: &str,
) -> WebResult<UserRecord> {
    Ok(state
        .modules
        .enterprises
        .sign_in(username, password, ip)
        .await?)
}

/// Starts a fresh session (new token: any pre-login session cookie is discarded) and returns
/// the cookie jar to send.
pub async fn start_session(
    state: &AppState,
    jar: CookieJar,
    user: &UserRecord,
) -> WebResult<CookieJar> {
    let name = session_cookie_name(state.config.secure_cookies);
    if let Some(old) = jar.get(name) {
        state.store.delete_session(old.value()).await?;
    }
    let token = random_token(32);
    let csrf = random_token(24);
    state.store.create_session(user.id, &token, &csrf).await?;
    let cookie = Cookie::build((name, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .path("/")
        .build();
    Ok(jar.add(cookie))
}

pub async fn end_session(state: &AppState, jar: CookieJar) -> WebResult<CookieJar> {
    let name = session_cookie_name(state.config.secure_cookies);
    if let Some(c) = jar.get(name) {
        state.store.delete_session(c.value()).await?;
    }
    Ok(jar.remove(
        Cookie::build(name)
            .path("/")
            .secure(state.config.secure_cookies)
            .build(),
    ))
}

/// The sign-in challenge cookie (set after a right password on an account with a second
/// factor).
pub fn challenge_cookie(jar: CookieJar, token: String, secure: bool) -> CookieJar {
    jar.add(
        Cookie::build((CHALLENGE_COOKIE, token))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .path("/login")
            .build(),
    )
}

/// The jar without the challenge cookie.
pub fn end_challenge(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(CHALLENGE_COOKIE).path("/login").build())
}
