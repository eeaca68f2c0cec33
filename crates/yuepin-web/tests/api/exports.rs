//! Downloads of the pages (issue #16 item 9), black-box through the router: the directory,
//! applications and grants, lab bookings as CSV and XLSX with Chinese headers and values by
//! default and English with `lang=en`, another enterprise's rows absent, formula-like text
//! escaped; a booking's and an order's invoice as a page and a PDF whose Chinese `pdftotext`
//! recovers, and the missing page for another enterprise.

use crate::helpers::{uscc, Resp, TestApp};
use axum::http::StatusCode;
use calamine::{Data, Reader, Xlsx};
use serde_json::json;
use std::process::Command;

fn sheet(r: &Resp) -> (String, Vec<Vec<String>>) {
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml"),
        "{:?}",
        r.headers
    );
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(r.body.clone())).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    let rows = range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Float(f) => format!("{f}"),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    (name, rows)
}

fn csv_of(r: &Resp) -> String {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    let t = r.text();
    assert!(t.starts_with('\u{feff}'), "a BOM for Excel: {t}");
    t
}

#[tokio::test]
async fn the_directory_downloads_in_words_in_either_language_and_only_what_the_caller_may_see() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let (a, b) = (uscc(61), uscc(62));
    app.create_enterprise(&reg, &a, "深圳市甲精密制造有限公司")
        .await;
    app.create_enterprise(&reg, &b, "=HYPERLINK(\"http://x\")有限公司")
        .await;
    let csv = csv_of(&app.get("/enterprises.csv", Some(&reg)).await);
    assert!(
        csv.starts_with("\u{feff}统一社会信用代码,企业名称,地市,行业代码,行业,从业人数\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{a},深圳市甲精密制造有限公司,深圳市,39,计算机、通信和其他电子设备制造业,320\r\n"
        )),
        "{csv}"
    );
    assert!(!csv.contains(",440300,"), "regions by name: {csv}");
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://x\"\")有限公司\""),
        "formula escaped: {csv}"
    );
    let en = csv_of(&app.get("/enterprises.csv?lang=en", Some(&reg)).await);
    assert!(
        en.contains("Credit code,Name,City,Industry code,Industry,Employees"),
        "{en}"
    );
    assert!(en.contains("Shenzhen"), "{en}");
    // The page's filters apply: nobody in Guangzhou.
    let none = csv_of(&app.get("/enterprises.csv?city=广州", Some(&reg)).await);
    assert_eq!(none.lines().count(), 1, "{none}");
    // XLSX: the same rows, numbers as numbers, the formula as text.
    let x = app.get("/enterprises.xlsx?q=深圳市甲", Some(&reg)).await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.text());
    let (name, rows) = sheet(&x);
    assert_eq!(name, "企业名录");
    assert_eq!(rows[0][0], "统一社会信用代码");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][2], "深圳市");
    assert_eq!(rows[1][5], "320");
    // An enterprise gets its own row only; a bank is refused.
    let ua = app.user_token("ent-a", "enterprise", Some(&a)).await;
    let own = csv_of(&app.get("/enterprises.csv", Some(&ua)).await);
    assert!(own.contains(&a) && !own.contains(&b), "{own}");
    let bank = app.user_token("bank-a", "bank", None).await;
    assert_eq!(
        app.get("/enterprises.csv", Some(&bank)).await.status,
        StatusCode::FORBIDDEN
    );
    // The page links the downloads with its filters.
    let page = app.get("/enterprises?city=深圳", Some(&reg)).await.text();
    assert!(
        page.contains("/enterprises.xlsx?q=&#38;city=440300"),
        "{page}"
    );
}

#[tokio::test]
async fn applications_and_grants_download_with_statuses_in_words_and_money_in_yuan() {
    let app = TestApp::spawn_as_of("2025-03-01").await;
    let (reg, a, b, ua, ub) = crate::policy::setup(&app).await;
    let mut ids = vec![];
    for token in [&ua, &ub] {
        let r = app
            .post(
                "/api/v1/policy/applications",
                Some(token),
                &json!({"measure": "M10"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json()["id"].as_i64().unwrap());
    }
    let ok = app
        .post(
            &format!("/api/v1/policy/applications/{}/decision", ids[0]),
            Some(&reg),
            &json!({"decision": "approve", "amount": "30万元", "year": 2025, "reason": "=1+1"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let all = csv_of(&app.get("/policy/applications.csv", Some(&reg)).await);
    assert!(
        all.starts_with("\u{feff}申请编号,统一社会信用代码,企业名称,地市,措施,"),
        "{all}"
    );
    assert!(all.contains("已批准") && all.contains("待审核"), "{all}");
    assert!(all.contains(&a) && all.contains(&b), "{all}");
    assert!(
        all.contains(",300000.00,2025"),
        "money in 元 with two decimals: {all}"
    );
    assert!(all.contains(",'=1+1,"), "formula escaped: {all}");
    assert!(
        !all.contains("guangdong_quality_award"),
        "designations by name: {all}"
    );
    assert!(
        !all.contains(",approved,") && !all.contains(",440300,"),
        "{all}"
    );
    let submitted = csv_of(
        &app.get("/policy/applications.csv?status=submitted", Some(&reg))
            .await,
    );
    assert!(
        !submitted.contains("已批准") && submitted.contains(&b),
        "{submitted}"
    );
    // An enterprise downloads its own applications and grants only.
    let mine = csv_of(&app.get("/policy/applications.csv", Some(&ub)).await);
    assert!(mine.contains(&b) && !mine.contains(&a), "{mine}");
    let grants = app.get("/policy/grants.xlsx", Some(&ua)).await;
    assert_eq!(grants.status, StatusCode::OK, "{}", grants.text());
    let (name, rows) = sheet(&grants);
    assert_eq!(name, "资金发放");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][2], a);
    assert_eq!(rows[1][8], "300000");
    let none = csv_of(&app.get("/policy/grants.csv", Some(&ub)).await);
    assert_eq!(none.lines().count(), 1, "{none}");
    let en = csv_of(&app.get("/policy/grants.csv?lang=en", Some(&reg)).await);
    assert!(
        en.contains("Grant,Application,Credit code,Enterprise,City,Measure"),
        "{en}"
    );
    assert!(en.contains("Shenzhen"), "{en}");
    let bank = app.user_token("bank-p", "bank", None).await;
    assert_eq!(
        app.get("/policy/grants.csv", Some(&bank)).await.status,
        StatusCode::FORBIDDEN
    );
    // The pages link them.
    let page = app.get("/policy/applications", Some(&reg)).await.text();
    assert!(page.contains("/policy/applications.xlsx") && page.contains("/policy/grants.csv"));
}

fn pdftotext(bytes: &[u8]) -> Option<String> {
    if Command::new("pdftotext").arg("-v").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "pdftotext is required under CI"
        );
        eprintln!("SKIP: pdftotext not installed (apt-get install poppler-utils)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invoice.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    Some(String::from_utf8(out.stdout).unwrap())
}

#[tokio::test]
async fn a_booking_invoice_is_a_page_and_a_pdf_and_bookings_download() {
    let app = TestApp::spawn().await;
    let fx = crate::labs::setup(&app).await;
    let day = (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let r = app
        .post(
            "/api/v1/labs/bookings",
            Some(&fx.ent1),
            &json!({"parts": [{"instrument_id": fx.inst, "start": format!("{day} 02:00"), "minutes": 120, "accessories": ["样品架"]}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["bookings"][0]["id"].as_i64().unwrap();
    let inv = app
        .get(
            &format!("/api/v1/labs/bookings/{id}/invoice"),
            Some(&fx.ent1),
        )
        .await
        .json();
    let total =
        yuepin_domain::Yuan::try_from(inv["invoice"]["total"].as_str().unwrap().to_string())
            .unwrap()
            .grouped();
    // The page: lab, booker, instrument, accessory, total, number and date.
    let page = app
        .get(&format!("/labs/bookings/{id}/invoice"), Some(&fx.ent1))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    for needle in [
        "GDQTC 检测中心",
        "甲精密制造有限公司",
        "盐雾试验箱",
        "附件：样品架",
        &format!("{total}元"),
        &format!("YP-LB-{}-{id:06}", day.replace('-', "")),
        "invoice.pdf",
    ] {
        assert!(
            html.contains(needle),
            "{needle} not on the invoice page: {html}"
        );
    }
    // The lab sees it too; another enterprise gets the missing page, for the PDF as well.
    for path in [
        format!("/labs/bookings/{id}/invoice"),
        format!("/labs/bookings/{id}/invoice.pdf"),
    ] {
        assert_eq!(
            app.get(&path, Some(&fx.lab1)).await.status,
            StatusCode::OK,
            "{path}"
        );
        assert_eq!(
            app.get(&path, Some(&fx.ent2)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let pdf = app
        .get(&format!("/labs/bookings/{id}/invoice.pdf"), Some(&fx.ent1))
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    if let Some(text) = pdftotext(&pdf.body) {
        for needle in [
            "GDQTC 检测中心",
            "甲精密制造有限公司",
            "合计",
            &format!("{total} 元"),
        ] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
    }
    // A testing order's invoice: a page and a PDF too, 404 for another enterprise.
    let o = app
        .post(
            "/api/v1/labs/orders",
            Some(&fx.ent1),
            &json!({"service_id": fx.service, "samples": 2}),
        )
        .await;
    assert_eq!(o.status, StatusCode::CREATED, "{}", o.text());
    let order = o.json()["order"]["id"]
        .as_i64()
        .or_else(|| o.json()["id"].as_i64())
        .unwrap();
    let page = app
        .get(&format!("/labs/orders/{order}/invoice"), Some(&fx.ent1))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(
        page.text().contains("1,600.00元") && page.text().contains("盐雾试验"),
        "{}",
        page.text()
    );
    let pdf = app
        .get(&format!("/labs/orders/{order}/invoice.pdf"), Some(&fx.lab1))
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    if let Some(text) = pdftotext(&pdf.body) {
        assert!(
            text.contains("GDQTC 检测中心") && text.contains("1,600.00 元"),
            "{text}"
        );
    }
    for path in [
        format!("/labs/orders/{order}/invoice"),
        format!("/labs/orders/{order}/invoice.pdf"),
    ] {
        assert_eq!(
            app.get(&path, Some(&fx.ent2)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // The booking number on the enterprise's page opens the invoice page, not JSON.
    let my = app.get("/labs/my", Some(&fx.ent1)).await.text();
    assert!(
        my.contains(&format!("/labs/bookings/{id}/invoice\"")),
        "{my}"
    );
    assert!(!my.contains("/api/v1/labs/bookings/"), "{my}");
    assert!(
        my.contains(&format!("/labs/orders/{order}/invoice\"")),
        "{my}"
    );
    assert!(!my.contains("/api/v1/labs/orders/"), "{my}");
    assert!(my.contains("/labs/my/bookings.xlsx"));
    // Bookings as CSV and XLSX: the enterprise's own, the lab's own.
    let csv = csv_of(&app.get("/labs/my/bookings.csv", Some(&fx.ent1)).await);
    assert!(
        csv.starts_with("\u{feff}预约号,结算单号,实验室,仪器,预约企业"),
        "{csv}"
    );
    assert!(
        csv.contains("GDQTC 检测中心,盐雾试验箱,甲精密制造有限公司") && csv.contains("样品架"),
        "{csv}"
    );
    assert!(
        !csv.contains("confirmed") && !csv.contains("requested"),
        "state in words: {csv}"
    );
    let en = csv_of(
        &app.get("/labs/my/bookings.csv?lang=en", Some(&fx.ent1))
            .await,
    );
    assert!(
        en.contains("Booking,Invoice number,Lab,Instrument,Booked by"),
        "{en}"
    );
    let other = csv_of(&app.get("/labs/my/bookings.csv", Some(&fx.ent2)).await);
    assert_eq!(
        other.lines().count(),
        1,
        "another enterprise's bookings: {other}"
    );
    let lab = app
        .get(
            &format!("/labs/lab/bookings.xlsx?from={day}&days=1"),
            Some(&fx.lab1),
        )
        .await;
    assert_eq!(lab.status, StatusCode::OK, "{}", lab.text());
    let (_, rows) = sheet(&lab);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], id.to_string());
    assert_eq!(
        app.get("/labs/lab/bookings.csv?days=500", Some(&fx.lab1))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/labs/lab/bookings.csv", Some(&fx.ent1))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// The invoice pages are not in any navigation: axe-core checks them in Chromium here, at a
/// phone's width, for a booking and an order.
#[tokio::test]
async fn invoice_pages_pass_axe_core_in_chromium() {
    use crate::browser::{axe_source, axe_violations, start_browser_sized};
    use fantoccini::Locator;
    let app = TestApp::spawn().await;
    let fx = crate::labs::setup(&app).await;
    let day = (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let r = app
        .post(
            "/api/v1/labs/bookings",
            Some(&fx.ent1),
            &json!({"parts": [{"instrument_id": fx.inst, "start": format!("{day} 10:00"), "minutes": 60, "accessories": ["样品架"]}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["bookings"][0]["id"].as_i64().unwrap();
    let o = app
        .post(
            "/api/v1/labs/orders",
            Some(&fx.ent1),
            &json!({"service_id": fx.service, "samples": 1}),
        )
        .await;
    let order = o.json()["order"]["id"]
        .as_i64()
        .or_else(|| o.json()["id"].as_i64())
        .unwrap();
    let Some(axe) = axe_source() else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(yuepin_web::serve_router(listener, app.router.clone()));
    let Some((_driver, client)) = start_browser_sized(Some((360, 740))).await else {
        return;
    };
    client.goto(&format!("{base}/login")).await.unwrap();
    for (field, value) in [("username", "ent1"), ("password", "ent1-password-1")] {
        client
            .find(Locator::Id(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    client
        .find(Locator::Id("login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("logout"))
        .await
        .unwrap();
    let mut found = Vec::new();
    for path in [
        format!("/labs/bookings/{id}/invoice"),
        format!("/labs/orders/{order}/invoice"),
        format!("/labs/bookings/{id}/invoice?lang=en"),
    ] {
        client.goto(&format!("{base}{path}")).await.unwrap();
        client
            .wait()
            .for_element(Locator::Id("invoice-total"))
            .await
            .unwrap();
        let wide = client
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(wide, json!(true), "{path} fits a phone");
        found.extend(axe_violations(&client, &axe, &path).await);
    }
    assert!(found.is_empty(), "axe-core:\n{}", found.join("\n"));
    client.close().await.unwrap();
    server.abort();
}
