//! The audit log: every write appends a row; tampering is found by `audit_verify`.

use crate::helpers::{uscc, TestApp};
use serde_json::json;
use yuepin_store::audit::Verification;

#[tokio::test]
async fn every_write_is_audited_with_before_and_after() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let code = uscc(31);
    app.create_enterprise(&reg, &code, "审计测试企业").await;
    let mut body = crate::helpers::enterprise_json(&code, "审计测试企业(新)");
    body["employees"] = json!(400);
    app.send_json(
        "PUT",
        &format!("/api/v1/enterprises/{code}"),
        Some(&reg),
        &body,
    )
    .await;
    let log = app
        .get(
            &format!("/api/v1/audit?entity=enterprise&entity_id={code}"),
            Some(&reg),
        )
        .await
        .json();
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "update");
    assert_eq!(entries[0]["before"]["name"], "审计测试企业");
    assert_eq!(entries[0]["after"]["name"], "审计测试企业(新)");
    assert!(entries[0]["actor"].as_str().unwrap().starts_with("user:"));
    assert_eq!(entries[1]["action"], "create");
    let v = app.get("/api/v1/audit/verify", Some(&reg)).await.json();
    assert_eq!(v["status"], "intact");
}

#[tokio::test]
async fn verify_finds_altered_deleted_and_truncated_rows() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    for n in 0..4 {
        app.create_enterprise(&reg, &uscc(40 + n), &format!("企业{n}"))
            .await;
    }
    let pool = app.store.pool();
    assert!(matches!(
        app.store.audit_verify().await.unwrap(),
        Verification::Intact { .. }
    ));

    sqlx::query("UPDATE audit_log SET after_json = '{\"name\":\"forged\"}' WHERE seq = 3")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        app.store.audit_verify().await.unwrap(),
        Verification::Altered { seq: 3 }
    );
    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(pool)
        .await
        .unwrap();
    assert!(matches!(
        app.store.audit_verify().await.unwrap(),
        Verification::Broken { seq: 4, .. }
    ));

    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    app.create_enterprise(&reg, &uscc(50), "企业").await;
    let last: i64 = sqlx::Row::get(
        &sqlx::query("SELECT MAX(seq) FROM audit_log")
            .fetch_one(app.store.pool())
            .await
            .unwrap(),
        0,
    );
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(last)
        .execute(app.store.pool())
        .await
        .unwrap();
    assert!(matches!(
        app.store.audit_verify().await.unwrap(),
        Verification::Truncated { .. }
    ));
}

#[tokio::test]
async fn concurrent_writers_keep_one_chain() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let mut tasks = Vec::new();
    for n in 0..12 {
        let router = app.router.clone();
        let reg = reg.clone();
        tasks.push(tokio::spawn(async move {
            let body = crate::helpers::enterprise_json(&uscc(60 + n), &format!("并发企业{n}"));
            let req = axum::http::Request::post("/api/v1/enterprises")
                .header("authorization", format!("Bearer {reg}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            tower::ServiceExt::oneshot(router, req)
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), axum::http::StatusCode::CREATED);
    }
    match app.store.audit_verify().await.unwrap() {
        Verification::Intact { rows, .. } => assert!(rows >= 14, "{rows}"),
        other => panic!("{other:?}"),
    }
}
