//! Reviewed identity changes (issue 17 item 4): an enterprise that renames itself to a famous
//! brand and moves city through the API or the page gets a pending request, and every scan of
//! its codes keeps showing the reviewed name and city until a regulator approves; the page
//! keeps the typed input on a refusal; a rejection needs a reason.

use crate::codes::{csrf_of, get_with_cookie, issue, scan_json, setup};
use crate::helpers::{enterprise_json, TestApp};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_new_name_reaches_scans_only_after_review() {
    let app = TestApp::spawn().await;
    let s = setup(&app, 71, None).await;
    let uri = issue(&app, &s, None, 1).await.remove(0);
    let producer = |v: &serde_json::Value| {
        (
            v["producer"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            v["producer"]["city"]["zh"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };
    let before = producer(&scan_json(&app, &uri).await.json());
    assert_eq!(before.0, "佛山市粤品71电器有限公司");
    assert_eq!(before.1, "深圳市");

    // The attack: the enterprise renames itself and moves to Guangzhou through the API.
    let mut body = enterprise_json(&s.code, "华为技术有限公司");
    body["region"] = json!("440100");
    body["change_reason"] = json!("营业执照已变更");
    let r = app
        .send_json(
            "PUT",
            &format!("/api/v1/enterprises/{}", s.code),
            Some(&s.ent),
            &body,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["name"], "佛山市粤品71电器有限公司", "stored name kept");
    let change = v["identity_change"].clone();
    assert_eq!(change["status"], "pending");
    assert_eq!(change["proposed_region"], "440100");
    assert_eq!(producer(&scan_json(&app, &uri).await.json()), before);

    // The enterprise sees its request on the page, in words, with the form to change it.
    let ent_cookie = app.session("ent71").await;
    let page = get_with_cookie(&app, "/enterprises/identity-changes", &ent_cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("待审核") && html.contains("华为技术有限公司 · 广州市"));
    assert!(html.contains("营业执照已变更"));
    // A refused form comes back with what was typed (422), the reason in Chinese.
    let csrf = csrf_of(&html);
    let form = format!(
        "csrf={csrf}&name=&region=440100&reason={}",
        enc("第二次申请的理由")
    );
    let r = app
        .post_form("/enterprises/identity-changes", Some(&ent_cookie), &form)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = r.text();
    assert!(t.contains("id=\"error-summary\"") && t.contains("请填写新名称"));
    assert!(t.contains("第二次申请的理由"), "the typed reason is kept");
    // Another enterprise sees nothing of it; a bank cannot open the page.
    let other = setup(&app, 72, None).await;
    let list = app
        .get("/api/v1/identity-changes", Some(&other.ent))
        .await
        .json();
    assert_eq!(list["total"], 0);
    let id = change["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/identity-changes/{id}"), Some(&other.ent))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let bank = app.user_token("bank71", "bank", None).await;
    assert_eq!(
        app.get("/api/v1/identity-changes", Some(&bank))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The enterprise cannot approve its own request.
    assert_eq!(
        app.post(
            &format!("/api/v1/identity-changes/{id}/approve"),
            Some(&s.ent),
            &json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // The regulator's page lists it; a rejection without a reason is refused; approval applies.
    let reg_cookie = app.session("reg71").await;
    let page = get_with_cookie(&app, "/enterprises/identity-changes", &reg_cookie).await;
    let html = page.text();
    assert!(html.contains("核准") && html.contains("驳回理由"));
    assert!(
        !html.contains(">pending<") && html.contains(">待审核<"),
        "statuses in words"
    );
    let r = app
        .post(
            &format!("/api/v1/identity-changes/{id}/reject"),
            Some(&s.reg),
            &json!({"note": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["field"], "note");
    let csrf = csrf_of(&html);
    let r = app
        .post_form(
            &format!("/enterprises/identity-changes/{id}/decide"),
            Some(&reg_cookie),
            &format!("csrf={csrf}&decision=approve"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // A replica caches a code's page data for at most a second (ARCHITECTURE.md, Replicas).
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let after = producer(&scan_json(&app, &uri).await.json());
    assert_eq!(after, ("华为技术有限公司".into(), "广州市".into()));
    let decided = app
        .get(&format!("/api/v1/identity-changes/{id}"), Some(&s.ent))
        .await
        .json();
    assert_eq!(decided["status"], "approved");
    // Decided once only.
    let again = app
        .post(
            &format!("/api/v1/identity-changes/{id}/reject"),
            Some(&s.reg),
            &json!({"note": "迟了"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
}

/// Form-encodes a value (every byte outside ASCII letters and digits as %XX).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
