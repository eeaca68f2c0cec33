//! Product hospital, black-box through the router on SQLite and PostgreSQL: an enterprise opens
//! a case over the API, another enterprise gets 404, the expert's internal note never reaches
//! the enterprise (API and page), the pages render for each side, the knowledge base is public
//! and the statistics page (with its SVG chart) is the regulator's.

use crate::helpers::{uscc, TestApp};
use axum::http::StatusCode;
use serde_json::json;
use yuepin_hospital_service::{HospitalService, NewExpert, NewHospital};

#[tokio::test]
async fn cases_over_the_api_and_the_pages() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    app.create_enterprise(&reg, &uscc(1), "甲精密制造有限公司")
        .await;
    app.create_enterprise(&reg, &uscc(2), "乙电子科技有限公司")
        .await;
    let a = app.user_token("enta", "enterprise", Some(&uscc(1))).await;
    let b = app.user_token("entb", "enterprise", Some(&uscc(2))).await;
    let x = app.user_token("hx1", "expert", None).await;
    let (hospital_id, xid) = hospital_with_expert(&app, "hx1").await;

    let r = app
        .post(
            "/api/v1/hospital/cases",
            Some(&a),
            &json!({"hospital_id": hospital_id, "title": "插座温升超标", "product": "转换插座",
                    "problem_type": "不合格整改", "description": "抽查不合格", "priority": "high"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    assert_eq!(r.json()["state"], "opened");
    assert_eq!(
        app.get(&format!("/api/v1/hospital/cases/{id}"), Some(&b))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .get(&format!("/api/v1/hospital/cases/{id}/proposals"), Some(&x))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["proposals"][0]["expert_id"], xid);
    let r = app
        .post(
            &format!("/api/v1/hospital/cases/{id}/assign"),
            Some(&x),
            &json!({"expert_id": xid}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    for (body, internal) in [("请提供样品照片", false), ("内部备注:疑似设计问题", true)]
    {
        let r = app
            .post(
                &format!("/api/v1/hospital/cases/{id}/messages"),
                Some(&x),
                &json!({"body": body, "internal": internal}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let mine = app
        .get(&format!("/api/v1/hospital/cases/{id}"), Some(&a))
        .await
        .json();
    assert_eq!(mine["messages"].as_array().unwrap().len(), 1);
    assert_eq!(mine["case"]["state"], "in_consultation");
    let r = app
        .post(
            &format!("/api/v1/hospital/cases/{id}/steps"),
            Some(&a),
            &json!({"step": "resolve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Pages: the enterprise's list and case (no internal note), the expert's case.
    let page = app.get("/hospital", Some(&a)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("插座温升超标") && page.text().contains("诊断中"));
    let page = app
        .get(&format!("/hospital/cases/{id}"), Some(&a))
        .await
        .text();
    assert!(page.contains("请提供样品照片") && !page.contains("疑似设计问题"));
    let page = app
        .get(&format!("/hospital/cases/{id}"), Some(&x))
        .await
        .text();
    assert!(page.contains("疑似设计问题") && page.contains("首次响应"));
    let page = app
        .get(&format!("/hospital/cases/{id}?lang=en"), Some(&x))
        .await
        .text();
    assert!(page.contains("First response"));

    // The knowledge base is public; statistics are the regulator's.
    assert_eq!(
        app.get("/hospital/knowledge?q=温升", None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/hospital/knowledge?q=温升", None)
            .await
            .status,
        StatusCode::OK
    );
    let stats = app.get("/hospital/stats", Some(&reg)).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert!(stats.text().contains("<svg") && stats.text().contains("广东电子电器产品医院"));
    assert_eq!(
        app.get("/api/v1/hospital/stats", Some(&a)).await.status,
        StatusCode::FORBIDDEN
    );
}

/// The hospital GD-EE (electrical products, Guangzhou) and the expert `username` (an `expert`
/// account made already) as its member: (hospital id, expert id).
pub(crate) async fn hospital_with_expert(app: &TestApp, username: &str) -> (i64, i64) {
    let svc = HospitalService::new(app.store.clone());
    let op = yuepin_domain::Caller::cli("test");
    let h = svc
        .create_hospital(
            &op,
            &NewHospital {
                code: "GD-EE".into(),
                name: "广东电子电器产品医院".into(),
                institution: "广东省产品质量监督检验研究院".into(),
                city: "广州".into(),
                divisions: "38;39".into(),
                capacity: 10,
                business_hours: "08:30-12:00,13:30-17:30".into(),
            },
        )
        .await
        .unwrap();
    let expert = svc
        .create_expert(
            &op,
            &NewExpert {
                username: username.into(),
                name: "陈工".into(),
                divisions: "39".into(),
                qualifications: "高级工程师".into(),
                city: "深圳".into(),
                max_load: 5,
                hospitals: "GD-EE*".into(),
            },
        )
        .await
        .unwrap();
    (h.id, expert.id)
}
