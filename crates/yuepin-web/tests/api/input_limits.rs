//! Bad values refused at the door (issue 17 item 9): negative prices and capital by field,
//! NUL and other control characters and over-long text anywhere in a JSON body by its path and
//! in a page form by its field, and an export whose text would run as a spreadsheet formula.

use crate::helpers::{enterprise_json, uscc, TestApp};
use crate::labs::{instrument_json, setup};
use axum::http::StatusCode;
use serde_json::json;

fn field_of(r: &crate::helpers::Resp) -> String {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    r.json()["error"]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn negative_prices_and_capital_are_refused_by_field() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let services = format!("/api/v1/labs/{}/services", fx.lab_id);
    let service = json!({"area": "testing", "mode": "testing_on_behalf", "item": "盐雾试验",
        "standards": ["GB/T 10125-2021"], "price_per_sample": "-800", "turnaround_days": 7});
    let r = app.post(&services, Some(&fx.lab1), &service).await;
    assert_eq!(field_of(&r), "price_per_sample");
    let instruments = format!("/api/v1/labs/{}/instruments", fx.lab_id);
    for (key, value, field) in [
        ("peak_hourly", json!("-400"), "peak_hourly"),
        ("purchase_price", json!("-180万"), "purchase_price"),
        (
            "accessories",
            json!([{"name": "样品架", "hourly": "-20"}]),
            "accessories",
        ),
    ] {
        let mut body = instrument_json("盐雾试验箱2", "盐雾试验");
        body[key] = value;
        let r = app.post(&instruments, Some(&fx.lab1), &body).await;
        assert_eq!(field_of(&r), field, "{key}");
    }
    let catalogue = app.get("/api/v1/labs/catalogue", None).await.text();
    assert!(!catalogue.contains("\"-"), "{catalogue}");

    let mut e = enterprise_json(&uscc(7), "负资本有限公司");
    e["registered_capital"] = json!("-5000万");
    let r = app.post("/api/v1/enterprises", Some(&fx.reg), &e).await;
    assert_eq!(field_of(&r), "registered_capital");
    let mut own = enterprise_json(&fx.uscc1, "甲精密制造有限公司");
    own["registered_capital"] = json!("-1");
    let path = format!("/api/v1/enterprises/{}", fx.uscc1);
    let r = app.send_json("PUT", &path, Some(&fx.ent1), &own).await;
    assert_eq!(field_of(&r), "registered_capital");
    own["registered_capital"] = json!("0");
    let r = app.send_json("PUT", &path, Some(&fx.ent1), &own).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn control_characters_in_json_bodies_are_refused_by_path() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let products = format!("/api/v1/enterprises/{}/products", fx.uscc1);
    let p = |model: &str| json!({"name": "电饭煲", "brand": "粤品", "model": model, "category": "家用电器"});
    let r = app.post(&products, Some(&fx.ent1), &p("a\u{0}b")).await;
    assert_eq!(field_of(&r), "model");
    assert!(r.text().contains("U+0000"), "{}", r.text());
    let instruments = format!("/api/v1/labs/{}/instruments", fx.lab_id);
    let mut body = instrument_json("盐雾试验箱3", "盐雾试验");
    body["accessories"][0]["name"] = json!("样品\u{1b}[2J架");
    let r = app.post(&instruments, Some(&fx.lab1), &body).await;
    assert_eq!(field_of(&r), "accessories[0].name");
    // Line breaks and tabs are text.
    let r = app.post(&products, Some(&fx.ent1), &p("YP-1\t2026")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let list = app.get(&products, Some(&fx.ent1)).await.text();
    assert!(!list.contains("\\u0000"), "{list}");
}

#[tokio::test]
async fn policy_exports_escape_formula_text() {
    let app = TestApp::spawn_as_of("2025-03-01").await;
    let reg = app.regulator().await;
    let r = app
        .post(
            "/api/v1/enterprises",
            Some(&reg),
            &crate::policy::awarded_enterprise(
                &uscc(3),
                "=HYPERLINK(\"http://evil.example\",\"点击\")",
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    app.post("/api/v1/policy/match", Some(&reg), &json!({}))
        .await;
    let x = app
        .get("/api/v1/policy/measures/M18/export.xlsx", Some(&reg))
        .await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.text());
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(x.body)).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut wb, 0)
        .unwrap()
        .unwrap();
    let names: Vec<String> = range
        .rows()
        .filter_map(|row| row.get(1).map(|c| c.to_string()))
        .filter(|n| n.contains("HYPERLINK"))
        .collect();
    assert!(
        !names.is_empty(),
        "{:?}",
        range.rows().take(4).collect::<Vec<_>>()
    );
    assert!(names.iter().all(|n| n.starts_with("'=")), "{names:?}");
}

#[tokio::test]
async fn page_forms_and_json_refuse_control_characters_and_overlong_text_by_field() {
    let app = TestApp::spawn().await;
    // A page form: an error page in the page's language naming the field, before any sign-in.
    let (cookies, csrf) = app.login_page(None).await;
    let r = app
        .post_form(
            "/login",
            Some(&cookies),
            &format!("username=a%00b&password=x&csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let page = r.text();
    assert!(page.contains("400 输入有误"), "{page}");
    assert!(page.contains("username: 含有控制字符 U+0000"), "{page}");
    assert!(!page.contains("is not allowed"), "{page}");
    assert!(session_cookie_absent(&r));
    let long = "质".repeat(40_000);
    let r = app
        .post_form(
            "/login",
            Some(&format!("{cookies}; yp_lang=en")),
            &format!("username=x&password={long}&csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .contains("password: 40000 characters: at most 32767"),
        "{}",
        r.text()
    );

    // A JSON body: the same bound, by path.
    let reg = app.regulator().await;
    let mut e = enterprise_json(&uscc(9), "长文本有限公司");
    e["name"] = json!(long);
    let r = app.post("/api/v1/enterprises", Some(&reg), &e).await;
    assert_eq!(field_of(&r), "name");
    assert!(r.text().contains("32767"), "{}", r.text());
}

fn session_cookie_absent(r: &crate::helpers::Resp) -> bool {
    crate::helpers::session_cookie(r).is_none()
}

#[tokio::test]
async fn event_text_through_the_api_has_the_importers_bounds() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let code = uscc(11);
    app.create_enterprise(&reg, &code, "处罚测试有限公司").await;
    let penalty = |reason: String| {
        json!({"date": "2025-05-10", "kind": "penalty", "authority": "深圳市市场监督管理局",
               "decision_no": "深市监罚〔2025〕1号", "amount": "1000", "serious": false,
               "reason": reason})
    };
    let events = format!("/api/v1/enterprises/{code}/events");
    // The probe's 100,000-character text: over the body's bound for any string.
    let r = app
        .post(&events, Some(&reg), &penalty("罚".repeat(100_000)))
        .await;
    assert_eq!(field_of(&r), "reason");
    // Within that bound but over the reason's own 500, as the importer's column.
    let r = app
        .post(&events, Some(&reg), &penalty("罚".repeat(501)))
        .await;
    assert_eq!(field_of(&r), "reason");
    assert!(r.text().contains("500"), "{}", r.text());
    let r = app
        .post(&events, Some(&reg), &penalty("无证生产".into()))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}
