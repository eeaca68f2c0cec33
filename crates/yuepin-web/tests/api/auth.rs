//! Sign-in, sessions, CSRF, rate limiting and API tokens.

use crate::helpers::{session_cookie, TestApp};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn login_sets_secure_session_cookie_and_rotates_it() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    let form = "username=regulator&password=regulator-password-1&next=%2Fenterprises";
    let first = app.sign_in(form, None).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text());
    let cookie = session_cookie(&first).expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();

    // The cookie opens the directory.
    let req = axum::http::Request::get("/enterprises")
        .header("cookie", &pair)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.request(req).await.status, StatusCode::OK);

    // Signing in again with the old cookie issues a new token and kills the old one.
    let second = app.sign_in(form, Some(&pair)).await;
    let pair2 = session_cookie(&second)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(pair, pair2);
    let req = axum::http::Request::get("/api/v1/me")
        .header("cookie", &pair)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.request(req).await.status, StatusCode::UNAUTHORIZED);

    // Cookie-authenticated API writes need the CSRF header.
    let req = axum::http::Request::get("/api/v1/me")
        .header("cookie", &pair2)
        .body(axum::body::Body::empty())
        .unwrap();
    let me = app.request(req).await.json();
    let csrf = me["csrf_token"].as_str().unwrap().to_string();
    let body = crate::helpers::enterprise_json(&crate::helpers::uscc(5), "企业五").to_string();
    let without = axum::http::Request::post("/api/v1/enterprises")
        .header("cookie", &pair2)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.clone()))
        .unwrap();
    assert_eq!(app.request(without).await.status, StatusCode::FORBIDDEN);
    let with = axum::http::Request::post("/api/v1/enterprises")
        .header("cookie", &pair2)
        .header("x-csrf-token", &csrf)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(app.request(with).await.status, StatusCode::CREATED);

    // Logout needs the form's CSRF token and ends the session.
    assert_eq!(
        app.post_form("/logout", Some(&pair2), "csrf=wrong")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let out = app
        .post_form("/logout", Some(&pair2), &format!("csrf={csrf}"))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let req = axum::http::Request::get("/api/v1/me")
        .header("cookie", &pair2)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.request(req).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_logins_are_rate_limited() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    for _ in 0..5 {
        let r = app.sign_in("username=regulator&password=wrong", None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.text().contains("用户名或密码错误"));
    }
    // Even the right password is refused now.
    let r = app
        .sign_in("username=regulator&password=regulator-password-1", None)
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let api = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "regulator", "password": "regulator-password-1"}),
        )
        .await;
    assert_eq!(api.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(api.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn passwords_are_argon2id_and_tokens_are_hashed() {
    let app = TestApp::spawn().await;
    let token = app.regulator().await;
    let user = app
        .store
        .user_by_username("regulator")
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash.starts_with("$argon2id$"),
        "{}",
        user.password_hash
    );
    assert!(!user.password_hash.contains("regulator-password-1"));
    assert!(app.store.user_by_api_token(&token).await.unwrap().is_some());
    assert!(app.get("/api/v1/me", Some("yp_forged")).await.status == StatusCode::UNAUTHORIZED);
    // Weak passwords and enterprise users without an enterprise are refused.
    let weak = app
        .post(
            "/api/v1/users",
            Some(&token),
            &json!({"username": "bob", "password": "short", "role": "bank"}),
        )
        .await;
    assert_eq!(weak.json()["error"]["field"], "password");
    let orphan = app
        .post(
            "/api/v1/users",
            Some(&token),
            &json!({"username": "bob", "password": "long-enough-pw", "role": "enterprise"}),
        )
        .await;
    assert_eq!(orphan.json()["error"]["field"], "enterprise_uscc");
}

async fn login(app: &TestApp) -> String {
    app.session("regulator").await
}

#[tokio::test]
async fn sessions_expire_when_idle_and_after_the_absolute_lifetime() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    let me = |cookie: String| {
        axum::http::Request::get("/api/v1/me")
            .header("cookie", cookie)
            .body(axum::body::Body::empty())
            .unwrap()
    };

    let idle = login(&app).await;
    assert_eq!(app.request(me(idle.clone())).await.status, StatusCode::OK);
    // 31 minutes without a request.
    sqlx::query("UPDATE sessions SET last_seen_at = '2000-01-01T00:00:00.000Z'")
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(app.request(me(idle)).await.status, StatusCode::UNAUTHORIZED);

    let old = login(&app).await;
    // Active all along, but created 13 hours ago.
    sqlx::query("UPDATE sessions SET created_at = '2000-01-01T00:00:00.000Z'")
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(app.request(me(old)).await.status, StatusCode::UNAUTHORIZED);
}
