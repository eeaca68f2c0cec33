//! Issue 17 item 10 (part): every API error in the documented `ErrorBody` shape and without
//! Rust type names (bad JSON, bodies over the limit, long or unparsable addresses, unknown
//! routes and methods), and the banners of the labs and codes pages taken from a fixed set of
//! message keys, never from the address.

use crate::helpers::{Resp, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;

/// The documented shape, with no Rust type in the message; returns the error object.
fn error_of(r: &Resp, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{status}: {}",
        r.text()
    );
    let e = r.json()["error"].clone();
    assert_eq!(e["code"], code, "{e}");
    assert!(e["fields"].is_array(), "{e}");
    let text = e.to_string();
    for rust in ["struct ", "TokenRequest", "i64", "u32", "Input", "enum "] {
        assert!(!text.contains(rust), "{rust} in {text}");
    }
    e
}

fn raw(method: &str, path: &str, content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

#[tokio::test]
async fn bad_json_bodies_name_the_field_not_the_type() {
    let app = TestApp::spawn().await;
    let token = "/api/v1/auth/token";
    let json = Some("application/json");

    let r = app.request(raw("POST", token, json, "\"x\"")).await;
    let e = error_of(&r, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(e["field"], "body");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("expected an object"),
        "{e}"
    );

    let r = app
        .request(raw(
            "POST",
            token,
            json,
            r#"{"username": 1, "password": "p"}"#,
        ))
        .await;
    let e = error_of(&r, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(e["field"], "username");
    assert!(
        e["message"].as_str().unwrap().contains("line 1 column"),
        "{e}"
    );

    let r = app
        .request(raw("POST", token, json, r#"{"username": "a"}"#))
        .await;
    assert_eq!(
        error_of(&r, StatusCode::BAD_REQUEST, "invalid_input")["field"],
        "password"
    );

    let r = app
        .request(raw(
            "POST",
            token,
            json,
            "{\"username\": \"a\",\n \"password\": ",
        ))
        .await;
    let e = error_of(&r, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        e["message"].as_str().unwrap().contains("line 2 column"),
        "{e}"
    );

    let r = app
        .request(raw("POST", token, Some("text/plain"), "{}"))
        .await;
    error_of(&r, StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn oversized_bodies_answer_413_in_json() {
    let app = TestApp::spawn().await;
    let big = vec![b' '; yuepin_web::BODY_LIMIT + 1];
    // Announced by Content-Length: refused before reading.
    let announced = Request::post("/api/v1/auth/token")
        .header("content-type", "application/json")
        .header("content-length", big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    error_of(
        &app.request(announced).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    // Without Content-Length the limit applies while the body is read.
    let streamed = Request::post("/api/v1/auth/token")
        .header("content-type", "application/json")
        .body(Body::from(big))
        .unwrap();
    error_of(
        &app.request(streamed).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
}

#[tokio::test]
async fn address_errors_answer_json_under_api() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let long = format!("/api/v1/reference/cities?q={}", "x".repeat(9000));
    error_of(
        &app.get(&long, None).await,
        StatusCode::URI_TOO_LONG,
        "uri_too_long",
    );
    let e = error_of(
        &app.get("/api/v1/labs/instruments/not-a-number", Some(&reg))
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert!(
        !e["message"].as_str().unwrap().contains("Cannot parse"),
        "{e}"
    );
    error_of(
        &app.get("/api/v1/complaints?page=minus-one", Some(&reg))
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    error_of(
        &app.get("/api/v1/no/such/route", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // A signed-out write is refused before routing looks at it (`signed_in.rs`): 401.
    let r = app
        .request(raw("DELETE", "/api/v1/reference/cities", None, ""))
        .await;
    error_of(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    let mut req = raw("DELETE", "/api/v1/reference/cities", None, "");
    req.headers_mut()
        .insert("authorization", format!("Bearer {reg}").parse().unwrap());
    let r = app.request(req).await;
    error_of(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(r.headers.get("allow").is_some());
    // Page addresses: no Rust type in axum's rejection either.
    let page = app.get("/labs/instruments/not-a-number", None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!page.text().contains("i64"), "{}", page.text());
    // Pages keep their own answers.
    let page = app
        .get(&format!("/labs?q={}", "x".repeat(9000)), None)
        .await;
    assert_eq!(page.status, StatusCode::URI_TOO_LONG);
}

#[tokio::test]
async fn page_banners_come_from_message_keys_only() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    let planted = "请拨打400热线领取补贴 call-this-number";
    let url = format!("/labs?msg={}", yuepin_web::page::urlencode(planted));
    let page = app.get(&url, None).await.text();
    assert!(!page.contains("call-this-number"), "{page}");
    assert!(!page.contains("id=\"msg\""), "no banner for an unknown key");

    let page = app.get("/labs?msg=booked&ref=12,13", None).await.text();
    assert!(page.contains("预约成功 #12, #13"), "{page}");
    let page = app
        .get("/labs?msg=booked&ref=12,evil&lang=en", None)
        .await
        .text();
    assert!(page.contains("Booked #12<"), "{page}");
    assert!(!page.contains("evil"));

    let cookie = app.session("regulator").await;
    let codes = app
        .request(
            Request::get(format!(
                "/codes?msg={}",
                yuepin_web::page::urlencode(planted)
            ))
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(codes.status, StatusCode::OK);
    assert!(!codes.text().contains("call-this-number"));

    // A refused labs form answers the error page with its reason, not a redirect with text.
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
    let r = app
        .post_form(
            "/labs/bookings/999/cancel",
            Some(&cookie),
            &format!("csrf={csrf}&back=/labs/lab"),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert!(r.headers.get("location").is_none());
}

/// A refused page speaks the page's language: the status line and the reason in Chinese (the
/// role by its Chinese name), with no English error prefix or Rust enum; in English on request.
#[tokio::test]
async fn refused_pages_name_the_reason_in_the_page_language() {
    let app = TestApp::spawn().await;
    app.user_token("expert-x", "expert", None).await;
    let cookie = app.session("expert-x").await;
    let zh = app.page("/hospital/stats", &cookie).await;
    assert_eq!(zh.status, StatusCode::FORBIDDEN);
    let page = zh.text();
    assert!(page.contains("403 无权访问"), "{page}");
    assert!(page.contains("该操作仅限监管部门账号使用"), "{page}");
    for raw in ["Forbidden", "forbidden:", "Regulator", "requires role"] {
        assert!(!page.contains(raw), "{raw} on a zh page: {page}");
    }
    let en = app.page("/hospital/stats?lang=en", &cookie).await;
    assert_eq!(en.status, StatusCode::FORBIDDEN);
    let page = en.text();
    assert!(
        page.contains("403 Forbidden") && page.contains("requires role regulator"),
        "{page}"
    );
}
