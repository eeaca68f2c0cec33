//! The regulator's alarm list, continued from `complaints::detection_warning_workflow…` (its
//! data): the paged, filtered `GET /api/v1/complaints/alarms` with its total (the unpaged
//! answer keeps its shape), the page's filter form, paging and headed tables, and the CSV and
//! XLSX downloads with the same filter (issue 18 item 4).

use crate::helpers::TestApp;
use axum::http::StatusCode;
use serde_json::Value;

/// `alarms` is the unpaged answer of `GET /api/v1/complaints/alarms` after a detection run.
pub async fn paging_filters_and_downloads(app: &TestApp, reg: &str, alarms: &Value) {
    let list = alarms["alarms"].as_array().unwrap();
    let reg = Some(reg);
    // Paged, filtered API with the total; the unpaged answer keeps its shape.
    let total = alarms["total"].as_i64().unwrap();
    assert_eq!(total, list.len() as i64);
    let p1 = app
        .get("/api/v1/complaints/alarms?page=1&page_size=2", reg)
        .await
        .json();
    assert_eq!(p1["total"], total);
    assert_eq!(p1["page_size"], 2);
    assert_eq!(
        p1["alarms"].as_array().unwrap().len(),
        2.min(total as usize)
    );
    assert_eq!(p1["alarms"][0]["id"], list[0]["id"]);
    let big = app
        .get("/api/v1/complaints/alarms?page_size=201", reg)
        .await;
    assert_eq!(big.status, StatusCode::BAD_REQUEST);
    let sz = app
        .get(
            "/api/v1/complaints/alarms?city=%E6%B7%B1%E5%9C%B3&level=category&all=1&method=pooled_scan",
            reg,
        )
        .await
        .json();
    let sz_list = sz["alarms"].as_array().unwrap();
    assert!(!sz_list.is_empty());
    assert!(sz_list
        .iter()
        .all(|a| a["city"] == "440300" && a["level"] == "category"));
    assert_eq!(
        app.get("/api/v1/complaints/alarms?method=magic", reg)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // The page: filter form, paging, headed tables; downloads with the same filter.
    let html = app
        .get("/complaints/alarms?city=440300&level=category&all=1", reg)
        .await
        .text();
    assert!(html.contains("id=\"alarm-filter\"") && html.contains("value=\"440300\""));
    assert!(html.contains(&format!("共 {} 条信号", sz["total"])));
    assert!(html.contains("<table id=\"rollup\" class=\"cards\"><tr class=\"head\"><th>"));
    let link = &html[html.find("/complaints/alarms.csv?").expect("a CSV link")..];
    let link = &link[..link.find('"').unwrap()];
    assert!(
        link.contains("city=440300") && link.contains("level=category"),
        "the download keeps the filter: {link}"
    );
    let csv = app
        .get(
            "/complaints/alarms.csv?city=440300&level=category&all=1",
            reg,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.text();
    assert!(text.starts_with("\u{feff}编号,时段开始"));
    assert_eq!(
        text.lines().count() as i64,
        sz["total"].as_i64().unwrap() + 1
    );
    assert!(text.lines().skip(1).all(|l| l.contains(",深圳市,440300,")));
    let xlsx = app.get("/complaints/alarms.xlsx?all=1", reg).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"));
}
