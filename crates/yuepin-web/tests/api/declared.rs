//! The responsible unit's page of declared facts (issue 11 item 6): a standard an enterprise
//! declares itself is listed as 待核实 in words, confirmed with one button (CSRF form), and then
//! gone from the list and confirmed in the API; only regulators open the page.

use crate::codes::{csrf_of, get_with_cookie};
use crate::helpers::{uscc, TestApp};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_regulator_confirms_a_declared_standard_on_its_page() {
    let app = TestApp::spawn().await;
    let reg = app.user_token("reg81", "regulator", None).await;
    let code = uscc(81);
    app.create_enterprise(&reg, &code, "深圳市申报标准有限公司")
        .await;
    let ent = app.user_token("ent81", "enterprise", Some(&code)).await;
    let filed = app
        .post(
            &format!("/api/v1/enterprises/{code}/events"),
            Some(&ent),
            &json!({"date": "2024-11-01", "kind": "standard", "code": "ISO 12345", "level": "international", "role": "lead"}),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text());
    let id = filed.json()["id"].as_i64().unwrap();

    let cookie = app.session("reg81").await;
    let page = get_with_cookie(&app, "/policy/declared", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("深圳市申报标准有限公司") && html.contains("ISO 12345"));
    assert!(html.contains("国际标准 · 主导制定"), "in words");
    assert!(html.contains("共 1 条待核实"));
    // The enterprise cannot open the work list or confirm its own declaration.
    let ent_cookie = app.session("ent81").await;
    assert_eq!(
        get_with_cookie(&app, "/policy/declared", &ent_cookie)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .post_form(
            &format!("/policy/declared/{id}/confirm"),
            Some(&cookie),
            &format!("csrf={}", csrf_of(&html)),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = get_with_cookie(&app, "/policy/declared", &cookie)
        .await
        .text();
    assert!(after.contains("共 0 条待核实") && after.contains("没有待核实的申报"));
    let standards = app
        .get(
            &format!("/api/v1/policy/enterprises/{code}/standards"),
            Some(&ent),
        )
        .await
        .json();
    assert_eq!(standards["standards"][0]["provenance"], "confirmed");
    // Without the form's token nothing happens.
    let r = app
        .post_form(
            &format!("/policy/declared/{id}/confirm"),
            Some(&cookie),
            "csrf=x",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
