//! The second factor, re-authentication, the account pages and the `__Host-` cookie (issue
//! 17 item 3): TOTP enrolment required of regulators and banks, sign-in in two steps with
//! replayed and reused codes refused, the account back-off passed with the password and a
//! code, re-authentication before money decisions and consent changes, the tokens page, the
//! administrators' account page.

use crate::helpers::{form_csrf, session_pair, set_cookie, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use yuepin_domain::Caller;
use yuepin_enterprises_service::{second_factor, EnterprisesService, NewAccount};

async fn strict() -> TestApp {
    TestApp::spawn_configured(|c| c.require_totp = true).await
}

async fn account(app: &TestApp, name: &str, role: &str) {
    EnterprisesService::new(app.store.clone())
        .create_account(
            &Caller::system(),
            NewAccount {
                username: name.into(),
                display_name: String::new(),
                password: format!("{name}-password-1"),
                role: role.into(),
                enterprise_uscc: None,
            },
        )
        .await
        .unwrap();
}

fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap()
}

fn code(secret: &str, user: &str, at: u64) -> String {
    second_factor::totp(secret, user).unwrap().generate(at)
}

fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

/// A request from the client at `addr` with `cookie` and a url-encoded `form`.
async fn post_from(
    app: &TestApp,
    path: &str,
    addr: &str,
    cookie: &str,
    form: &str,
) -> crate::helpers::Resp {
    let mut req = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(Body::from(form.to_string()))
        .unwrap();
    let peer: std::net::SocketAddr = format!("{addr}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    app.request(req).await
}

/// The password step from `addr`: the answer and the cookies to carry to the code step.
async fn password_step(
    app: &TestApp,
    user: &str,
    password: &str,
    addr: &str,
) -> (crate::helpers::Resp, String) {
    let (cookies, csrf) = app.login_page(None).await;
    let r = post_from(
        app,
        "/login",
        addr,
        &cookies,
        &format!("username={user}&password={password}&csrf={csrf}"),
    )
    .await;
    let mut jar = cookies;
    if let Some(c) = set_cookie(&r, "yp_challenge") {
        jar = format!("{jar}; {}", pair(&c));
    }
    (r, jar)
}

async fn code_step(
    app: &TestApp,
    jar: &str,
    page: &str,
    code: &str,
    addr: &str,
) -> crate::helpers::Resp {
    let csrf = form_csrf(page);
    post_from(
        app,
        "/login/code",
        addr,
        jar,
        &format!("code={code}&csrf={csrf}"),
    )
    .await
}

/// Enrols `user` through the pages: the secret and the recovery codes.
async fn enrol(app: &TestApp, user: &str) -> (String, Vec<String>) {
    let cookie = app.session(user).await;
    let page = app
        .request(
            Request::get("/account/totp")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains("<svg"), "a server-drawn QR code");
    let marker = "id=\"totp-secret\" style=\"word-break:break-all\">";
    let at = html.find(marker).expect("the key in text") + marker.len();
    let secret = html[at..].split('<').next().unwrap().to_string();
    let csrf = form_csrf(&html);
    let wrong = app
        .post_form(
            "/account/totp",
            Some(&cookie),
            &format!("code=000000&csrf={csrf}"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text());
    let ok = app
        .post_form(
            "/account/totp",
            Some(&cookie),
            &format!("code={}&csrf={csrf}", code(&secret, user, now())),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let codes: Vec<String> = ok
        .text()
        .split("<li>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .filter(|s| s.len() == 11)
        .collect();
    assert_eq!(codes.len(), 10, "{}", ok.text());
    let again = app
        .request(
            Request::get("/account/totp")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(
        !again.text().contains(&secret),
        "the key is never shown again"
    );
    assert!(again.text().contains("id=\"codes-left\">10<"));
    (secret, codes)
}

#[tokio::test]
async fn regulators_and_banks_enrol_before_anything_else() {
    let app = strict().await;
    account(&app, "reg1", "regulator").await;
    account(&app, "bank1", "bank").await;
    // A token is refused until the account has a second factor.
    let r = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "bank1", "password": "bank1-password-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "totp_enrolment_required");
    // A page session is sent to enrolment from every page.
    let cookie = app.session("reg1").await;
    for path in ["/policy", "/me", "/account/tokens"] {
        let r = app
            .request(
                Request::get(path)
                    .header("cookie", &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers["location"], "/account/totp", "{path}");
    }
    let api = app
        .request(
            Request::get("/api/v1/policy/grants")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(api.json()["error"]["code"], "totp_enrolment_required");
    let (secret, _) = enrol(&app, "reg1").await;
    let r = app
        .request(
            Request::get("/policy")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "enrolled: the pages open");
    // With a second factor, a token needs the code too.
    let no_code = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "reg1", "password": "reg1-password-1"}),
        )
        .await;
    assert_eq!(
        no_code.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_code.text()
    );
    let with = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "reg1", "password": "reg1-password-1", "code": code(&secret, "reg1", now() + 30)}),
        )
        .await;
    assert_eq!(with.status, StatusCode::CREATED, "{}", with.text());
}

#[tokio::test]
async fn sign_in_takes_a_code_once_and_each_recovery_code_once() {
    let app = strict().await;
    account(&app, "reg2", "regulator").await;
    let (secret, recovery) = enrol(&app, "reg2").await;
    // The password step signs no one in: it asks for the code.
    let (r, jar) = password_step(&app, "reg2", "reg2-password-1", "192.0.2.10").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(session_pair(&r).is_none(), "no session before the code");
    assert!(r.text().contains("name=\"code\""));
    // The code the enrolment used is in a step already taken: a replay.
    let used = code(&secret, "reg2", now());
    let replay = code_step(&app, &jar, &r.text(), &used, "192.0.2.10").await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.text());
    assert!(session_pair(&replay).is_none());
    let wrong = code_step(&app, &jar, &r.text(), "123456", "192.0.2.10").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let next = code(&secret, "reg2", now() + 30);
    let ok = code_step(&app, &jar, &r.text(), &next, "192.0.2.10").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    assert!(session_pair(&ok).is_some());
    // The same code again, in a new sign-in: refused.
    let (r, jar) = password_step(&app, "reg2", "reg2-password-1", "192.0.2.10").await;
    let again = code_step(&app, &jar, &r.text(), &next, "192.0.2.10").await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // A recovery code works once (in any case, with or without its dash).
    let (r, jar) = password_step(&app, "reg2", "reg2-password-1", "192.0.2.10").await;
    let rec = code_step(
        &app,
        &jar,
        &r.text(),
        &recovery[3].to_uppercase(),
        "192.0.2.10",
    )
    .await;
    assert_eq!(rec.status, StatusCode::SEE_OTHER, "{}", rec.text());
    let (r, jar) = password_step(&app, "reg2", "reg2-password-1", "192.0.2.10").await;
    let reused = code_step(&app, &jar, &r.text(), &recovery[3], "192.0.2.10").await;
    assert_eq!(
        reused.status,
        StatusCode::UNAUTHORIZED,
        "a used recovery code"
    );
    // A code step without the challenge cookie is back at the password step.
    let (r, _) = password_step(&app, "reg2", "reg2-password-1", "192.0.2.10").await;
    let (cookies, _) = app.login_page(None).await;
    let lost = code_step(&app, &cookies, &r.text(), &recovery[4], "192.0.2.10").await;
    assert_eq!(lost.status, StatusCode::FORBIDDEN);
    // The administrator's reset: the account enrols again.
    EnterprisesService::new(app.store.clone())
        .reset_totp(&Caller::system(), "reg2")
        .await
        .unwrap();
    let cookie = app.session("reg2").await;
    let r = app
        .request(
            Request::get("/me")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.headers["location"], "/account/totp");
}

#[tokio::test]
async fn the_password_and_a_code_pass_the_account_back_off() {
    let app = strict().await;
    account(&app, "bank3", "bank").await;
    let (secret, _) = enrol(&app, "bank3").await;
    // Wrong passwords from the owner's own address lock the account for that address.
    for _ in 0..6 {
        let (r, _) = password_step(&app, "bank3", "wrong-password", "198.51.100.7").await;
        assert!(
            r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::OK,
            "{}",
            r.status
        );
    }
    // While throttled, the password step asks for a code whatever the password was; a wrong
    // password with a valid code is refused, the right one with a valid code signs in.
    let (r, jar) = password_step(&app, "bank3", "still-wrong", "198.51.100.7").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let refused = code_step(
        &app,
        &jar,
        &r.text(),
        &code(&secret, "bank3", now() + 30),
        "198.51.100.7",
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let (r, jar) = password_step(&app, "bank3", "bank3-password-1", "198.51.100.7").await;
    assert_eq!(r.status, StatusCode::OK);
    let ok = code_step(
        &app,
        &jar,
        &r.text(),
        &code(&secret, "bank3", now() + 30),
        "198.51.100.7",
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
}

async fn age_session(app: &TestApp) {
    sqlx::query("UPDATE sessions SET reauth_at = '2000-01-01T00:00:00.000Z'")
        .execute(app.store.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn money_decisions_and_consent_changes_need_a_recent_reauthentication() {
    let app = TestApp::spawn().await;
    let token = app.regulator().await;
    let cookie = app.session("regulator").await;
    // Signing in counts: a fresh session passes the check (the handler then answers).
    let fresh = app
        .request(
            Request::post("/api/v1/policy/applications/999/decision")
                .header("cookie", &cookie)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_ne!(fresh.status, StatusCode::UNAUTHORIZED, "{}", fresh.text());
    age_session(&app).await;
    let me = app
        .request(
            Request::get("/api/v1/me")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let csrf = me.json()["csrf_token"].as_str().unwrap().to_string();
    for path in [
        "/api/v1/policy/applications/999/decision",
        "/api/v1/credit/consents",
        "/api/v1/credit/consents/c1/revoke",
    ] {
        let r = app
            .request(
                Request::post(path)
                    .header("cookie", &cookie)
                    .header("x-csrf-token", &csrf)
                    .header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "reauth_required", "{path}");
    }
    // The API re-authentication with the password, then the call passes.
    let re = |secret: &str| {
        Request::post("/api/v1/auth/reauth")
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .header("content-type", "application/json")
            .body(Body::from(json!({ "secret": secret }).to_string()))
            .unwrap()
    };
    assert_eq!(
        app.request(re("wrong-password")).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.request(re("regulator-password-1")).await.status,
        StatusCode::NO_CONTENT
    );
    let after = app
        .request(
            Request::post("/api/v1/policy/applications/999/decision")
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_ne!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text());

    // Pages: the re-authentication form keeps the pending input and posts it back.
    age_session(&app).await;
    let form = format!("csrf={csrf}&decision=approve&amount=12345.67&note=%E5%90%8C%E6%84%8F");
    let ask = app
        .post_form("/policy/applications/999/decision", Some(&cookie), &form)
        .await;
    assert_eq!(ask.status, StatusCode::UNAUTHORIZED, "{}", ask.text());
    let html = ask.text();
    assert!(html.contains("name=\"reauth_secret\""));
    assert!(
        html.contains("name=\"amount\" value=\"12345.67\""),
        "{html}"
    );
    assert!(html.contains("value=\"同意\""));
    assert!(html.contains("action=\"/policy/applications/999/decision\""));
    let wrong = app
        .post_form(
            "/policy/applications/999/decision",
            Some(&cookie),
            &format!("{form}&reauth_secret=nope"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text().contains("id=\"reauth-error\""));
    let passed = app
        .post_form(
            "/policy/applications/999/decision",
            Some(&cookie),
            &format!("{form}&reauth_secret=regulator-password-1"),
        )
        .await;
    assert!(
        !passed.text().contains("name=\"reauth_secret\""),
        "the decision went on: {}",
        passed.text()
    );

    // Bearer tokens: one issued minutes ago passes; an older one is told to re-authenticate.
    sqlx::query("UPDATE api_tokens SET created_at = '2000-01-01T00:00:00.000Z'")
        .execute(app.store.pool())
        .await
        .unwrap();
    let old = app
        .post(
            "/api/v1/policy/applications/999/decision",
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(old.json()["error"]["code"], "reauth_required");
    let fresh = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "regulator", "password": "regulator-password-1"}),
        )
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            "/api/v1/policy/applications/999/decision",
            Some(&fresh),
            &json!({}),
        )
        .await;
    assert_ne!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
}

#[tokio::test]
async fn the_tokens_page_shows_a_new_token_once_and_revokes() {
    let app = TestApp::spawn().await;
    app.user_token("ent5", "expert", None).await;
    let cookie = app.session("ent5").await;
    let page = app
        .request(
            Request::get("/account/tokens?lang=en")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let csrf = form_csrf(&page.text());
    let made = app
        .post_form(
            "/account/tokens",
            Some(&cookie),
            &format!("csrf={csrf}&name=ci&days=7"),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let html = made.text();
    let at = html.find("id=\"new-token\"").unwrap();
    let token = html[at..]
        .split('>')
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(token.starts_with("yp_"));
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.status,
        StatusCode::OK
    );
    let list = app
        .request(
            Request::get("/account/tokens")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(!list.text().contains(&token), "never shown again");
    let bad = app
        .post_form(
            "/account/tokens",
            Some(&cookie),
            &format!("csrf={csrf}&days=400"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let id = app.get("/api/v1/auth/tokens", Some(&token)).await.json()[0]["id"]
        .as_i64()
        .unwrap();
    let gone = app
        .post_form(
            &format!("/account/tokens/{id}/revoke"),
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.text());
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn administrators_disable_enable_and_reset_passwords_on_a_page() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    let victim = app.user_token("lab6", "lab", None).await;
    let cookie = app.session("regulator").await;
    let page = app
        .request(
            Request::get("/account/users")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("lab6"));
    let csrf = form_csrf(&page.text());
    let lab = app.session("lab6").await;
    let off = app
        .post_form(
            "/account/users/lab6/disable",
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text());
    assert_eq!(
        app.get("/api/v1/me", Some(&victim)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .request(
            Request::get("/api/v1/me")
                .header("cookie", &lab)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the session ended");
    let on = app
        .post_form(
            "/account/users/lab6/enable",
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK);
    let reset = app
        .post_form(
            "/account/users/lab6/reset-password",
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    let html = reset.text();
    let at = html.find("id=\"temp-password\">").unwrap() + "id=\"temp-password\">".len();
    let temp = html[at..].split('<').next().unwrap().to_string();
    assert_eq!(temp.len(), 16);
    let r = app
        .sign_in("username=lab6&password=lab6-password-1", None)
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let r = app
        .sign_in(&format!("username=lab6&password={temp}"), None)
        .await;
    let s = session_pair(&r).unwrap();
    let me = app
        .request(
            Request::get("/labs")
                .header("cookie", &s)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(me.status, StatusCode::SEE_OTHER);
    assert_eq!(
        me.headers["location"], "/account/password",
        "the temporary password is changed first"
    );
    // Others may not.
    let lab_cookie = s;
    let r = app
        .request(
            Request::get("/account/password")
                .header("cookie", &lab_cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let expert = app.user_token("exp6", "expert", None).await;
    let _ = expert;
    let e = app.session("exp6").await;
    let r = app
        .request(
            Request::get("/account/users")
                .header("cookie", &e)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn secure_cookies_use_the_host_prefix() {
    let app = TestApp::spawn_configured(|c| {
        c.secure_cookies = true;
        c.require_totp = false;
    })
    .await;
    app.regulator().await;
    let r = app
        .sign_in("username=regulator&password=regulator-password-1", None)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let c = set_cookie(&r, "__Host-yp_session").expect("a __Host- session cookie");
    assert!(
        c.contains("Secure") && c.contains("Path=/") && !c.contains("Domain"),
        "{c}"
    );
    assert!(set_cookie(&r, "yp_session").is_none());
    let me = app
        .request(
            Request::get("/api/v1/me")
                .header("cookie", pair(&c))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
}

/// Issue 17 item 3: a user makes new recovery codes with a current code; the old set stops
/// working at once.
#[tokio::test]
async fn a_user_regenerates_recovery_codes_with_a_current_code() {
    let app = strict().await;
    account(&app, "reg5", "regulator").await;
    let (secret, old) = enrol(&app, "reg5").await;
    // Signed in with a recovery code, so that the next time step is still unused.
    let (r, jar) = password_step(&app, "reg5", "reg5-password-1", "192.0.2.50").await;
    let signed = code_step(&app, &jar, &r.text(), &old[9], "192.0.2.50").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text());
    let cookie = session_pair(&signed).unwrap();
    let page = app.page("/account/totp", &cookie).await;
    let html = page.text();
    assert!(
        html.contains("action=\"/account/totp/recovery-codes\""),
        "{html}"
    );
    let csrf = form_csrf(&html);
    let wrong = post_from(
        &app,
        "/account/totp/recovery-codes",
        "192.0.2.50",
        &cookie,
        &format!("code=000000&csrf={csrf}"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text());
    assert!(wrong.text().contains("id=\"totp-error\""));
    let made = post_from(
        &app,
        "/account/totp/recovery-codes",
        "192.0.2.50",
        &cookie,
        &format!("code={}&csrf={csrf}", code(&secret, "reg5", now() + 30)),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text());
    assert_eq!(made.headers["cache-control"], "no-store");
    let text = made.text();
    assert!(text.contains("id=\"codes-regenerated\""), "{text}");
    let new: Vec<String> = text
        .split("<li>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .filter(|s| s.len() == 11)
        .collect();
    assert_eq!(new.len(), 10, "{text}");
    assert!(new.iter().all(|c| !old.contains(c)));
    // The old set no longer signs in; the new one does.
    let (r, jar) = password_step(&app, "reg5", "reg5-password-1", "192.0.2.51").await;
    let refused = code_step(&app, &jar, &r.text(), &old[0], "192.0.2.51").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let (r, jar) = password_step(&app, "reg5", "reg5-password-1", "192.0.2.51").await;
    let ok = code_step(&app, &jar, &r.text(), &new[0], "192.0.2.51").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
}
