//! API tokens that expire and can be listed and revoked, sign-out with a bearer token,
//! disabled accounts, and changing one's password (issue 17 item 3, part).

use crate::helpers::{form_csrf, session_pair, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

async fn new_token(app: &TestApp, user: &str, body: Value) -> crate::helpers::Resp {
    let mut body = body;
    body["username"] = user.into();
    body["password"] = format!("{user}-password-1").into();
    app.post("/api/v1/auth/token", None, &body).await
}

fn days_from_now(ts: &str) -> i64 {
    let t = chrono::DateTime::parse_from_rfc3339(ts).unwrap();
    (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours() / 24
}

#[tokio::test]
async fn tokens_expire_and_their_owner_lists_and_revokes_them() {
    let app = TestApp::spawn().await;
    let first = app.regulator().await;
    let r = new_token(&app, "regulator", json!({"name": "ci"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let body = r.json();
    assert_eq!(days_from_now(body["expires_at"].as_str().unwrap()), 89);
    let second = body["token"].as_str().unwrap().to_string();
    let short = new_token(&app, "regulator", json!({"days": 7}))
        .await
        .json();
    assert_eq!(days_from_now(short["expires_at"].as_str().unwrap()), 6);
    for days in [0, 366, -1] {
        let bad = new_token(&app, "regulator", json!({ "days": days })).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad.json()["error"]["field"], "days");
    }

    let list = app.get("/api/v1/auth/tokens", Some(&second)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert!(!list.text().contains(&second) && !list.text().contains(&first));
    let tokens = list.json();
    assert_eq!(tokens.as_array().unwrap().len(), 3);
    assert_eq!(tokens[1]["name"], "ci");
    assert_eq!(tokens[1]["revoked"], false);

    // Another account's token looks like a missing one; its owner revokes it.
    let bank = app.user_token("bank1", "bank", None).await;
    let id = body["id"].as_i64().unwrap();
    let path = format!("/api/v1/auth/tokens/{id}");
    let theirs = app
        .send_json("DELETE", &path, Some(&bank), &json!({}))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let gone = app
        .send_json(
            "DELETE",
            "/api/v1/auth/tokens/99999",
            Some(&bank),
            &json!({}),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.json()["error"]["code"], gone.json()["error"]["code"]);
    let revoked = app
        .send_json("DELETE", &path, Some(&first), &json!({}))
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text());
    assert_eq!(revoked.json()["revoked"], true);
    assert_eq!(
        app.get("/api/v1/me", Some(&second)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/me", Some(&first)).await.status,
        StatusCode::OK
    );

    // An expired token no longer opens anything (time moved on: its expiry is rewritten).
    sqlx::query("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00.000Z'")
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/v1/me", Some(&first)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn signing_out_with_a_bearer_token_revokes_it() {
    let app = TestApp::spawn().await;
    let token = app.regulator().await;
    let req = Request::post("/logout")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.request(req).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn me_with_cookie(app: &TestApp, cookie: &str) -> StatusCode {
    let req = Request::get("/api/v1/me")
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap();
    app.request(req).await.status
}

#[tokio::test]
async fn a_disabled_account_loses_its_sessions_and_tokens() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let bank = app.user_token("bank1", "bank", None).await;
    let session = app.session("bank1").await;
    assert_eq!(me_with_cookie(&app, &session).await, StatusCode::OK);
    let refused = app
        .post("/api/v1/users/regulator/disable", Some(&bank), &json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let unknown = app
        .post("/api/v1/users/nobody/disable", Some(&reg), &json!({}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let r = app
        .post("/api/v1/users/bank1/disable", Some(&reg), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["disabled"], true);
    assert_eq!(
        app.get("/api/v1/me", Some(&bank)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_with_cookie(&app, &session).await,
        StatusCode::UNAUTHORIZED
    );
    let again = app
        .sign_in("username=bank1&password=bank1-password-1", None)
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    let tokens = app.store.api_tokens_of(2).await.unwrap();
    assert!(!tokens.is_empty() && tokens.iter().all(|t| t.revoked));
}

async fn password_form(
    app: &TestApp,
    cookie: &str,
    current: &str,
    new: &str,
) -> crate::helpers::Resp {
    let page = app
        .request(
            Request::get("/account/password")
                .header("cookie", cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let csrf = form_csrf(&page.text());
    let form = format!(
        "csrf={csrf}&current_password={}&password={}",
        yuepin_web::page::urlencode(current),
        yuepin_web::page::urlencode(new)
    );
    app.post_form("/account/password", Some(cookie), &form)
        .await
}

#[tokio::test]
async fn a_user_changes_their_password_under_the_length_and_common_list_rules() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    let here = app.session("regulator").await;
    let elsewhere = app.session("regulator").await;
    let anonymous = app.get("/account/password", None).await;
    assert_ne!(anonymous.status, StatusCode::OK);
    let no_csrf = app
        .post_form(
            "/account/password",
            Some(&here),
            "current_password=regulator-password-1&password=a-new-long-one",
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);

    let wrong = password_form(&app, &here, "not-it-at-all", "a-new-long-one").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.text().contains("当前密码错误"), "{}", wrong.text());
    for (new, says) in [
        ("seven77", "至少8个字符"),
        ("iloveyou", "过于常见"),
        ("Sunshine", "过于常见"),
        (&"长".repeat(129), "最多128个字符"),
    ] {
        let r = password_form(&app, &here, "regulator-password-1", new).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{new}");
        assert!(r.text().contains(says), "{new}: {}", r.text());
    }
    // No composition rules: eight lower-case letters or Chinese characters are enough.
    let ok = password_form(&app, &here, "regulator-password-1", "质量强省粤品通码").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert!(ok.text().contains("password-changed"));
    assert_eq!(me_with_cookie(&app, &here).await, StatusCode::OK);
    assert_eq!(
        me_with_cookie(&app, &elsewhere).await,
        StatusCode::UNAUTHORIZED
    );
    let old = app
        .sign_in("username=regulator&password=regulator-password-1", None)
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app
        .sign_in(
            &format!(
                "username=regulator&password={}",
                yuepin_web::page::urlencode("质量强省粤品通码")
            ),
            None,
        )
        .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
    assert!(session_pair(&new).is_some());
}

/// The accounts list pages (50 a page) and, on a phone, shows each account as a card whose
/// cells carry their column names; an account without tokens sees no empty table.
#[tokio::test]
async fn the_accounts_list_pages_and_an_empty_token_list_shows_no_table() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    let svc = yuepin_enterprises_service::EnterprisesService::new(app.store.clone());
    for i in 0..55 {
        svc.create_account(
            &yuepin_domain::Caller::system(),
            yuepin_enterprises_service::NewAccount {
                username: format!("lab-{i:02}"),
                display_name: String::new(),
                password: format!("lab-{i:02}-password-1"),
                role: "lab".into(),
                enterprise_uscc: None,
            },
        )
        .await
        .unwrap();
    }
    let cookie = app.session("regulator").await;
    let first = app.page("/account/users", &cookie).await.text();
    assert!(
        first.contains("共 56 个账号") && first.contains("第 1 / 2 页"),
        "{first}"
    );
    assert!(first.contains("href=\"/account/users?page=2\""), "{first}");
    assert!(first.contains("data-label=\"角色\""), "{first}");
    assert_eq!(first.matches("/disable\"").count(), 50, "{first}");
    let second = app.page("/account/users?page=2", &cookie).await.text();
    assert_eq!(second.matches("/disable\"").count(), 6, "{second}");
    assert!(second.contains("rel=\"prev\"") && !second.contains("rel=\"next\""));
    let beyond = app.page("/account/users?page=99", &cookie).await.text();
    assert!(beyond.contains("第 2 / 2 页"), "{beyond}");

    let lab = app.session("lab-00").await;
    let tokens = app.page("/account/tokens", &lab).await.text();
    assert!(
        tokens.contains("还没有令牌") && !tokens.contains("id=\"tokens\""),
        "{tokens}"
    );
}
