//! Enterprises, products and quality events through the API: validation, exact amounts,
//! tenant isolation, search and filters.

use crate::helpers::{enterprise_json, uscc, TestApp};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn regulator_creates_and_reads_enterprise_with_exact_amounts() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let code = uscc(1);
    let created = app
        .create_enterprise(&reg, &code, "深圳市澜汐电子科技有限公司")
        .await;
    assert_eq!(created["uscc"], code);
    assert_eq!(created["region"], "440300");
    assert_eq!(created["registered_capital"], "50000000");
    assert_eq!(created["financials"][0]["revenue_china"], "2000000000");
    assert_eq!(created["financials"][0]["revenue_world"], "2550000000");
    assert_eq!(created["designations"].as_array().unwrap().len(), 2);

    let got = app
        .get(&format!("/api/v1/enterprises/{code}"), Some(&reg))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json()["name"], "深圳市澜汐电子科技有限公司");

    // Duplicate create is a conflict, not a second row.
    let dup = app
        .post(
            "/api/v1/enterprises",
            Some(&reg),
            &enterprise_json(&code, "x"),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn invalid_fields_are_400_with_every_field_named() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let mut body = enterprise_json("91440300708461136A", "测试");
    body["region"] = json!("北京");
    body["registered_capital"] = json!("1.234");
    body["founded_on"] = json!("2023-02-30");
    body["division"] = json!("99");
    let resp = app.post("/api/v1/enterprises", Some(&reg), &body).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    let err = &resp.json()["error"];
    assert_eq!(err["code"], "invalid_input");
    assert_eq!(err["field"], "uscc");
    let fields: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in [
        "uscc",
        "region",
        "registered_capital",
        "founded_on",
        "division",
    ] {
        assert!(fields.contains(&f), "{f} missing in {fields:?}");
    }
    assert!(err["message"].as_str().unwrap().contains("expected T"));

    let bad_gtin = app
        .post(
            &format!("/api/v1/enterprises/{}/products", uscc(9)),
            Some(&reg),
            &json!({"name": "x", "model": "m", "category": "c", "gtin": "6901234567891"}),
        )
        .await;
    assert_eq!(
        bad_gtin.status,
        StatusCode::NOT_FOUND,
        "unknown enterprise first"
    );
    app.create_enterprise(&reg, &uscc(9), "企业九").await;
    let bad_gtin = app
        .post(
            &format!("/api/v1/enterprises/{}/products", uscc(9)),
            Some(&reg),
            &json!({"name": "x", "model": "m", "category": "c", "gtin": "6901234567891"}),
        )
        .await;
    assert_eq!(bad_gtin.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_gtin.json()["error"]["field"], "gtin");
}

#[tokio::test]
async fn malformed_and_oversized_bodies_never_panic() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let req = axum::http::Request::post("/api/v1/enterprises")
        .header("authorization", format!("Bearer {reg}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{\"uscc\": [1,2"))
        .unwrap();
    let resp = app.request(req).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(resp.json()["error"]["code"], "bad_request");

    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let req = axum::http::Request::post("/api/v1/enterprises")
        .header("authorization", format!("Bearer {reg}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(big))
        .unwrap();
    let resp = app.request(req).await;
    assert!(
        resp.status == StatusCode::PAYLOAD_TOO_LARGE || resp.status == StatusCode::BAD_REQUEST,
        "{}",
        resp.status
    );

    let weird = app.get("/api/v1/enterprises/%FF%FE", Some(&reg)).await;
    assert!(weird.status.is_client_error());
    let weird = app.get("/api/v1/products/notanumber", Some(&reg)).await;
    assert_eq!(weird.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn enterprise_user_sees_and_changes_only_its_own_enterprise() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let (a, b) = (uscc(11), uscc(12));
    app.create_enterprise(&reg, &a, "企业甲").await;
    app.create_enterprise(&reg, &b, "企业乙").await;
    let ua = app.user_token("alice", "enterprise", Some(&a)).await;

    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{a}"), Some(&ua))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{b}"), Some(&ua))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{b}/quality-file"), Some(&ua))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A code that does not exist looks the same as another tenant's: no probing (404).
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{}", uscc(99)), Some(&ua))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The directory shows only its own enterprise.
    let list = app.get("/api/v1/enterprises", Some(&ua)).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["uscc"], a);

    // Products: own yes, other's no.
    let p = json!({"name": "变频空调", "brand": "澜汐", "model": "KFR-35GW", "gtin": "6901234567892", "category": "空调", "standard": "GB 4706.1-2005"});
    let created = app
        .post(&format!("/api/v1/enterprises/{a}/products"), Some(&ua), &p)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(
        app.post(&format!("/api/v1/enterprises/{b}/products"), Some(&ua), &p)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let pid = created.json()["id"].as_i64().unwrap();
    let other = app
        .post(&format!("/api/v1/enterprises/{b}/products"), Some(&reg), &p)
        .await
        .json();
    let other_id = other["id"].as_i64().unwrap();
    // Another enterprise's product answers as a missing one does (issue 17 item 6).
    for id in [other_id, other_id + 1000] {
        assert_eq!(
            app.get(&format!("/api/v1/products/{id}"), Some(&ua))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        app.send_json(
            "DELETE",
            &format!("/api/v1/products/{other_id}"),
            Some(&ua),
            &json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/products/{pid}"), Some(&ua))
            .await
            .status,
        StatusCode::OK
    );

    // Events: an enterprise may file a certification but not an inspection result.
    let cert = json!({"date": "2025-03-01", "kind": "certification", "scheme": "ISO 9001", "number": "CN-25-001",
        "issuer": "某认证中心", "valid_from": "2025-03-01", "valid_until": "2028-02-28"});
    assert_eq!(
        app.post(&format!("/api/v1/enterprises/{a}/events"), Some(&ua), &cert)
            .await
            .status,
        StatusCode::CREATED
    );
    let insp = json!({"date": "2025-06-01", "kind": "inspection", "agency": "广东省产品质量监督检验研究院",
        "report_no": "GDQ-2025-0001", "result": "fail", "failed_items": ["能效等级"], "product_id": pid});
    assert_eq!(
        app.post(&format!("/api/v1/enterprises/{a}/events"), Some(&ua), &insp)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/enterprises/{a}/events"),
            Some(&reg),
            &insp
        )
        .await
        .status,
        StatusCode::CREATED
    );
    // The same report again updates instead of duplicating.
    assert_eq!(
        app.post(
            &format!("/api/v1/enterprises/{a}/events"),
            Some(&reg),
            &insp
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let file = app
        .get(&format!("/api/v1/enterprises/{a}/quality-file"), Some(&ua))
        .await
        .json();
    assert_eq!(file["summary"]["inspections"], 1);
    assert_eq!(file["summary"]["inspections_failed"], 1);
    assert_eq!(file["summary"]["certifications_valid"], 1);
    assert_eq!(file["complaints_last_12_months"], 0);
    assert!(file["warnings"].as_array().unwrap().is_empty());

    // An enterprise cannot grant itself a designation.
    let mut body = enterprise_json(&a, "企业甲(更名)");
    body["designations"] =
        json!([{"kind": "national_single_champion", "awarded_on": "2024-01-01"}]);
    let upd = app
        .send_json("PUT", &format!("/api/v1/enterprises/{a}"), Some(&ua), &body)
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.text());
    let upd = upd.json();
    // A new name waits for review (issue 17 item 4): stored name kept, request returned.
    assert_ne!(upd["name"], "企业甲(更名)");
    assert_eq!(upd["identity_change"]["status"], "pending");
    assert_eq!(upd["identity_change"]["proposed_name"], "企业甲(更名)");
    assert!(!upd["designations"]
        .to_string()
        .contains("national_single_champion"));

    // Other roles have no directory access; the public none at all.
    let bank = app.user_token("bank1", "bank", None).await;
    assert_eq!(
        app.get("/api/v1/enterprises", Some(&bank)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{a}"), Some(&bank))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/enterprises", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/users", Some(&ua)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn search_by_name_code_and_filters() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let rows = [
        (
            21,
            "深圳市澜汐电子科技有限公司",
            "深圳",
            "39",
            "little_giant",
        ),
        (
            22,
            "东莞市青禾模具制造有限公司",
            "东莞市",
            "35",
            "high_tech",
        ),
        (23, "佛山市澜汐家具有限公司", "440600", "21", "above_scale"),
    ];
    for (n, name, region, div, des) in rows {
        let mut body = enterprise_json(&uscc(n), name);
        body["region"] = json!(region);
        body["division"] = json!(div);
        body["designations"] = json!([{"kind": des, "awarded_on": "2024-01-01"}]);
        assert_eq!(
            app.post("/api/v1/enterprises", Some(&reg), &body)
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let names = |v: serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    let q = |s: &str| format!("/api/v1/enterprises?{s}");
    assert_eq!(
        names(app.get(&q("q=%E6%BE%9C%E6%B1%90"), Some(&reg)).await.json()).len(),
        2,
        "澜汐"
    );
    assert_eq!(
        names(
            app.get(&q("q=%E6%A8%A1%E5%85%B7%E5%88%B6"), Some(&reg))
                .await
                .json()
        ),
        vec!["东莞市青禾模具制造有限公司"]
    );
    assert_eq!(
        names(app.get(&q("q=%E6%A8%A1"), Some(&reg)).await.json()).len(),
        1,
        "one character"
    );
    assert_eq!(
        names(
            app.get(&q("city=%E4%B8%9C%E8%8E%9E"), Some(&reg))
                .await
                .json()
        )
        .len(),
        1,
        "city by name"
    );
    assert_eq!(
        names(
            app.get(&q("city=440300&division=39"), Some(&reg))
                .await
                .json()
        )
        .len(),
        1
    );
    assert_eq!(
        names(app.get(&q("division=21"), Some(&reg)).await.json()),
        vec!["佛山市澜汐家具有限公司"]
    );
    assert_eq!(
        names(
            app.get(&q("designation=high_tech"), Some(&reg))
                .await
                .json()
        )
        .len(),
        1
    );
    let code = uscc(22);
    assert_eq!(
        names(
            app.get(&q(&format!("q={}", &code[..16])), Some(&reg))
                .await
                .json()
        )
        .len(),
        1,
        "code prefix"
    );
    assert_eq!(
        names(app.get(&q("q=%25"), Some(&reg)).await.json()).len(),
        0,
        "LIKE wildcards are literal"
    );
    let bad = app.get(&q("city=Beijing"), Some(&reg)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["field"], "city");
    let page = app.get(&q("per_page=2"), Some(&reg)).await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["total"], 3);
}

/// Designation filters, alone and with a city: each enterprise once however many awards of the
/// kind it holds, expired awards ignored, totals exact, and the city follows an enterprise that
/// moves.
#[tokio::test]
async fn designation_search_lists_each_holder_once_and_follows_moves() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let awards = |list: &[(&str, Option<&str>)]| -> serde_json::Value {
        json!(list
            .iter()
            .map(|(on, until)| json!({"kind": "high_tech", "awarded_on": on, "expires_on": until}))
            .collect::<Vec<_>>())
    };
    let rows = [
        (
            31,
            "深圳市甲高新科技有限公司",
            "440300",
            awards(&[("2019-01-01", Some("2022-12-31")), ("2024-01-01", None)]),
        ),
        (
            32,
            "深圳市乙高新科技有限公司",
            "440300",
            awards(&[("2022-01-01", None), ("2024-01-01", None)]),
        ),
        (
            33,
            "东莞市丙高新科技有限公司",
            "441900",
            awards(&[("2024-01-01", None)]),
        ),
        (
            34,
            "深圳市丁过期科技有限公司",
            "440300",
            awards(&[("2020-01-01", Some("2024-12-31"))]),
        ),
    ];
    for (n, name, region, designations) in &rows {
        let mut body = enterprise_json(&uscc(*n), name);
        body["region"] = json!(region);
        body["designations"] = designations.clone();
        let resp = app.post("/api/v1/enterprises", Some(&reg), &body).await;
        assert!(resp.status.is_success(), "{}", resp.text());
    }
    let search = |query: &'static str| {
        let app = &app;
        let reg = &reg;
        async move {
            let v = app
                .get(&format!("/api/v1/enterprises?{query}"), Some(reg))
                .await
                .json();
            let names: Vec<String> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_string())
                .collect();
            (names, v["total"].as_i64().unwrap())
        }
    };
    assert_eq!(
        search("city=440300&designation=high_tech").await,
        (
            vec![
                "深圳市甲高新科技有限公司".to_string(),
                "深圳市乙高新科技有限公司".to_string()
            ],
            2
        )
    );
    assert_eq!(search("designation=high_tech").await.1, 3);
    assert_eq!(
        search("designation=high_tech&per_page=1&page=2").await,
        (vec!["深圳市乙高新科技有限公司".to_string()], 3)
    );
    // 乙 moves to Dongguan: the city filter follows it.
    let mut moved = enterprise_json(&uscc(32), "深圳市乙高新科技有限公司");
    moved["region"] = json!("441900");
    moved["designations"] = rows[1].3.clone();
    let resp = app
        .send_json(
            "PUT",
            &format!("/api/v1/enterprises/{}", uscc(32)),
            Some(&reg),
            &moved,
        )
        .await;
    assert!(resp.status.is_success(), "{}", resp.text());
    assert_eq!(
        search("city=440300&designation=high_tech").await,
        (vec!["深圳市甲高新科技有限公司".to_string()], 1)
    );
    assert_eq!(search("city=441900&designation=high_tech").await.1, 2);
}
