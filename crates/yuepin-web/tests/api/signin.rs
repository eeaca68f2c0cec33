//! Issue 17 item 1: sign-in follows only local paths (no open redirect, no header a user can
//! break into a 500), the session cookie only on success, and login CSRF (the sign-in form
//! carries a token bound to a pre-session cookie).

use crate::helpers::{session_cookie, set_cookie, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use yuepin_web::page::urlencode;

const CREDENTIALS: &str = "username=regulator&password=regulator-password-1";

fn location(resp: &crate::helpers::Resp) -> String {
    resp.headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn sign_in_follows_only_local_paths() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    let refused = [
        "/\t/127.0.0.1:19999/pwned",
        "/\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "evil.example",
        "/\r\nSet-Cookie: x=1",
        "/labs\r\n",
    ];
    for next in refused {
        let r = app
            .sign_in(&format!("{CREDENTIALS}&next={}", urlencode(next)), None)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}: {}", r.text());
        assert_eq!(location(&r), "/me", "{next:?}: the workbench instead");
        assert!(session_cookie(&r).is_some(), "{next:?}");
    }
    for (next, to) in [
        ("/labs?item=x", "/labs?item=x"),
        ("/enterprises?q=华为", "/enterprises?q=%E5%8D%8E%E4%B8%BA"),
    ] {
        let r = app
            .sign_in(&format!("{CREDENTIALS}&next={}", urlencode(next)), None)
            .await;
        assert_eq!(location(&r), to, "{next:?}");
    }
    // The form shows the cleaned target too.
    let page = app.get("/login?next=%2F%0D%0A%2Fevil", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("name=\"next\" value=\"/me\""));
}

#[tokio::test]
async fn a_bad_back_address_is_never_a_500() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    let cookie = app.session("regulator").await;
    let me = app
        .request(
            Request::get("/api/v1/me")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .json();
    let csrf = me["csrf_token"].as_str().unwrap();
    for back in [
        "/labs\r\nX-Evil: 1",
        "/labs/\t/evil.example",
        "//evil.example",
    ] {
        let form = format!("csrf={csrf}&back={}", urlencode(back));
        let r = app
            .post_form("/labs/bookings/999/cancel", Some(&cookie), &form)
            .await;
        assert_ne!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{back:?}");
        let to = location(&r);
        assert!(
            to.is_empty() || (to.starts_with("/labs") && !to.contains("evil")),
            "{back:?} → {to}"
        );
    }
}

#[tokio::test]
async fn the_sign_in_form_carries_a_csrf_token() {
    let app = TestApp::spawn().await;
    app.regulator().await;

    // The page sets a pre-session cookie for /login only and puts its token in the form.
    let page = app.get("/login", None).await;
    let pre = set_cookie(&page, "yp_presession").expect("pre-session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/login"] {
        assert!(pre.contains(attribute), "{pre}");
    }
    let (cookies, csrf) = app.login_page(None).await;

    // No token, a wrong token, or a token without its cookie: refused, the username kept,
    // no session.
    for (cookie, form) in [
        (Some(cookies.as_str()), CREDENTIALS.to_string()),
        (
            Some(cookies.as_str()),
            format!("{CREDENTIALS}&csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ),
        (None, format!("{CREDENTIALS}&csrf={csrf}")),
    ] {
        let r = app.post_form("/login", cookie, &form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{form}");
        let html = r.text();
        assert!(html.contains("登录表单已过期"), "{html}");
        assert!(
            html.contains("value=\"regulator\""),
            "username kept: {html}"
        );
        assert!(session_cookie(&r).is_none(), "no session on an error");
        // A fresh form comes with it, so the next try works.
        assert!(html.contains("name=\"csrf\" value=\""));
    }
    let en = app
        .post_form("/login?lang=en", Some(&cookies), CREDENTIALS)
        .await;
    assert!(
        en.text().contains("The sign-in form expired"),
        "{}",
        en.text()
    );

    // With the token the same browser got: signed in, the pre-session cookie cleared.
    let ok = app
        .post_form(
            "/login",
            Some(&cookies),
            &format!("{CREDENTIALS}&csrf={csrf}"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    assert!(session_cookie(&ok).is_some());
    assert!(ok
        .headers
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("yp_presession=;")));
}

#[tokio::test]
async fn a_wrong_password_keeps_the_username_and_issues_no_session() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    let r = app
        .sign_in("username=regulator&password=wrong-password", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("value=\"regulator\""));
    assert!(session_cookie(&r).is_none());
}
