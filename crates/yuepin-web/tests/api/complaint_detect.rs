//! `POST /api/v1/complaints/detect` with a detector configuration in the body (validated,
//! naming the key), the configuration in force kept by later runs without one, and shown on the
//! regulator's dashboard (issue 18 item 3).

use crate::complaints::{import, outbreak_csv};
use crate::helpers::{uscc, TestApp};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn detect_api_takes_a_configuration_and_keeps_the_one_in_force() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let a = uscc(53);
    app.create_enterprise(&reg, &a, "深圳市调参科技有限公司")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (p, end) = outbreak_csv(dir.path(), &a);
    assert!(import(&app, &p).await.committed);
    let as_of = end.to_string();

    // A configuration in the body is validated, naming the key.
    for (bad, says) in [
        (json!({"pooled": {"alfa": 0.01}}), "alfa"),
        (json!({"pooled": {"alpha": 3}}), "pooled.alpha"),
    ] {
        let r = app
            .post(
                "/api/v1/complaints/detect",
                Some(&reg),
                &json!({"as_of": as_of, "config": bad}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let body = r.json();
        assert_eq!(body["error"]["field"], "config");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    let tuned = json!({"pooled": {"alpha": 0.002, "min_count": 4}});
    let r = app
        .post(
            "/api/v1/complaints/detect",
            Some(&reg),
            &json!({"as_of": as_of, "report_days": 14, "config": tuned}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let dash = app.get("/complaints", Some(&reg)).await.text();
    assert!(
        dash.contains("α = 0.002 / 序列·日"),
        "the tuned point shown"
    );
    // Run again without a configuration: the one in force (the last run's) is kept.
    let r = app
        .post(
            "/api/v1/complaints/detect",
            Some(&reg),
            &json!({"as_of": as_of, "report_days": 14}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let dash = app.get("/complaints", Some(&reg)).await.text();
    assert!(dash.contains("α = 0.002 / 序列·日") && dash.contains("至少 4 件投诉"));
    // Enterprises cannot run detection.
    let ent = app.user_token("tuner", "enterprise", Some(&a)).await;
    let r = app
        .post("/api/v1/complaints/detect", Some(&ent), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
