//! tidy: long-file — one capability's black-box scenarios share one fixture; split next time it grows.
//! Labs module, black-box through the router on SQLite and PostgreSQL: concurrent bookings of
//! one slot (exactly one wins, and the database itself refuses overlaps), combined bookings all
//! or nothing, booking rules (approval, blackout, qualification, cancellation fee), waitlist
//! hold and no-show blacklist, the order lifecycle with four-eyes verification and report →
//! inspection record, report replacement and revocation, ICS parsed by Python `icalendar`,
//! tenant isolation, availability search and the role pages.

use crate::helpers::{uscc, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

pub(crate) struct Fx {
    pub(crate) reg: String,
    pub(crate) lab_id: i64,
    pub(crate) inst: i64,
    pub(crate) service: i64,
    pub(crate) lab1: String,
    pub(crate) lab2: String,
    pub(crate) ent1: String,
    pub(crate) ent2: String,
    pub(crate) uscc1: String,
}

pub(crate) fn china_day(days_ahead: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(days_ahead))
        .format("%Y-%m-%d")
        .to_string()
}

pub(crate) fn lab_json(code: &str) -> Value {
    json!({
        "code": code, "name": format!("{code} 检测中心"), "cma": "201919123456", "cnas": "CNAS L1234",
        "scope": [{"item": "盐雾试验", "standards": ["GB/T 10125-2021"]}], "areas": ["testing", "reliability"],
        "city": "广州", "contact": {"person": "张工", "phone": "020-12345678"}, "opening_hours": "always"
    })
}

pub(crate) fn instrument_json(name: &str, item: &str) -> Value {
    json!({
        "name": name, "model": "SST-1000", "maker": "某仪器公司", "purchase_price": "180万",
        "purchased_on": "2021-03-01", "location": "A栋101", "capabilities": ["中性盐雾"],
        "test_methods": [{"item": item, "standards": ["GB/T 10125-2021"]}],
        "peak_hourly": "400", "off_peak_hourly": "300", "peak_hours": "weekdays 08:30-17:30",
        "accessories": [{"name": "样品架", "hourly": "20"}], "opening_hours": "always"
    })
}

pub(crate) async fn setup(app: &TestApp) -> Fx {
    let reg = app.regulator().await;
    let uscc1 = uscc(1);
    app.create_enterprise(&reg, &uscc1, "甲精密制造有限公司")
        .await;
    app.create_enterprise(&reg, &uscc(2), "乙电子科技有限公司")
        .await;
    let r = app
        .post("/api/v1/labs", Some(&reg), &lab_json("GDQTC"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let lab_id = r.json()["id"].as_i64().unwrap();
    let lab1 = app.user_token("labtester", "lab", None).await;
    let lab2 = app.user_token("labverifier", "lab", None).await;
    for name in ["labtester", "labverifier"] {
        let r = app
            .post(
                &format!("/api/v1/labs/{lab_id}/staff"),
                Some(&reg),
                &json!({"username": name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = app
        .post(
            &format!("/api/v1/labs/{lab_id}/instruments"),
            Some(&lab1),
            &instrument_json("盐雾试验箱", "盐雾试验"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let inst = r.json()["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/labs/{lab_id}/services"),
            Some(&lab1),
            &json!({"area": "testing", "mode": "testing_on_behalf", "item": "盐雾试验",
                    "standards": ["GB/T 10125-2021"], "price_per_sample": "800", "turnaround_days": 7}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let service = r.json()["id"].as_i64().unwrap();
    let ent1 = app.user_token("ent1", "enterprise", Some(&uscc1)).await;
    let ent2 = app.user_token("ent2", "enterprise", Some(&uscc(2))).await;
    Fx {
        reg,
        lab_id,
        inst,
        service,
        lab1,
        lab2,
        ent1,
        ent2,
        uscc1,
    }
}

fn part(inst: i64, day: &str, hour: &str, minutes: i64) -> Value {
    json!({"instrument_id": inst, "start": format!("{day} {hour}"), "minutes": minutes})
}

async fn book(app: &TestApp, token: &str, parts: Vec<Value>) -> crate::helpers::Resp {
    app.post(
        "/api/v1/labs/bookings",
        Some(token),
        &json!({"parts": parts}),
    )
    .await
}

#[tokio::test]
async fn concurrent_bookings_of_one_slot_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let day = china_day(3);
    let body = json!({"parts": [part(fx.inst, &day, "10:00", 120)]}).to_string();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let router = app.router.clone();
        let token = if i % 2 == 0 {
            fx.ent1.clone()
        } else {
            fx.ent2.clone()
        };
        let body = body.clone();
        set.spawn(async move {
            let req = Request::post("/api/v1/labs/bookings")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(body))
                .unwrap();
            router.oneshot(req).await.unwrap().status()
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = set.join_next().await {
        statuses.push(s.unwrap());
    }
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(won, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let active: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) FROM lab_bookings WHERE instrument_id = $1 AND state IN ('confirmed', 'pending_approval')")
            .bind(fx.inst)
            .fetch_one(app.store.pool())
            .await
            .unwrap(),
        0,
    )
    .unwrap();
    assert_eq!(active, 1);
}

#[tokio::test]
async fn the_database_itself_refuses_overlapping_bookings() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let insert = "INSERT INTO lab_bookings (instrument_id, enterprise_id, group_key, start_min, end_min, starts_at, ends_at, state, self_operated, price_fen, created_at, updated_at) \
                  VALUES ($1, NULL, 'raw', $2, $3, 'x', 'x', $4, 0, 0, 'now', 'now')";
    let run = |s: i64, e: i64, state: &'static str| {
        sqlx::query(insert)
            .bind(fx.inst)
            .bind(s)
            .bind(e)
            .bind(state)
            .execute(app.store.pool())
    };
    run(1_000, 1_120, "confirmed").await.unwrap();
    let err = run(1_060, 1_180, "held").await.unwrap_err().to_string();
    assert!(
        err.contains("lab_booking_overlap") || err.contains("lab_booking_no_overlap"),
        "{err}"
    );
    // Back-to-back is fine (half-open ranges); cancelled rows do not block.
    run(1_120, 1_180, "confirmed").await.unwrap();
    run(1_000, 1_180, "cancelled").await.unwrap();
    // Re-activating a cancelled booking into an occupied slot is refused too.
    let err = sqlx::query("UPDATE lab_bookings SET state = 'confirmed' WHERE state = 'cancelled'")
        .execute(app.store.pool())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("overlap"), "{err}");
}

#[tokio::test]
async fn combined_booking_is_all_or_nothing() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let r = app
        .post(
            &format!("/api/v1/labs/{}/instruments", fx.lab_id),
            Some(&fx.lab1),
            &instrument_json("ICP-MS", "重金属含量"),
        )
        .await;
    let icp = r.json()["id"].as_i64().unwrap();
    let day = china_day(4);
    let r = book(&app, &fx.ent2, vec![part(icp, &day, "14:00", 60)]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = book(
        &app,
        &fx.ent1,
        vec![
            part(fx.inst, &day, "13:00", 120),
            part(icp, &day, "13:00", 120),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let mine = app
        .get("/api/v1/labs/bookings", Some(&fx.ent1))
        .await
        .json();
    assert_eq!(
        mine["bookings"].as_array().unwrap().len(),
        0,
        "nothing booked"
    );
    let r = book(
        &app,
        &fx.ent1,
        vec![
            part(fx.inst, &day, "10:00", 120),
            part(icp, &day, "10:00", 120),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let b = r.json();
    assert_eq!(b["bookings"].as_array().unwrap().len(), 2);
    assert_eq!(b["bookings"][0]["group_key"], b["bookings"][1]["group_key"]);
    // The combined search finds a common slot for both items.
    let r = app
        .get(
            &format!(
                "/api/v1/labs/availability?item=盐雾试验,重金属含量&from={day}&to={day}&minutes=60"
            ),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(!r.json()["combined"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn booking_rules_approval_blackout_qualification_and_cancellation() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let mut spec = instrument_json("扫描电镜", "微观形貌");
    spec["requires_approval"] = json!(true);
    spec["operator_qualification"] = json!("电镜上岗证");
    let r = app
        .post(
            &format!("/api/v1/labs/{}/instruments", fx.lab_id),
            Some(&fx.lab1),
            &spec,
        )
        .await;
    let sem = r.json()["id"].as_i64().unwrap();
    let day = china_day(5);
    // Prices are shown before booking.
    let r = app
        .get(
            &format!("/api/v1/labs/availability?item=微观形貌&from={day}&to={day}&minutes=120"),
            None,
        )
        .await;
    let slots = r.json()["slots"].as_array().unwrap().clone();
    assert!(
        !slots.is_empty() && slots[0]["price"].is_string(),
        "{slots:?}"
    );
    // Self-operation needs the qualification: rejected with the testing-on-behalf hint.
    let mut p = part(sem, &day, "10:00", 120);
    p["self_operated"] = json!(true);
    let r = book(&app, &fx.ent1, vec![p.clone()]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("代检代测"), "{}", r.text());
    let r = app
        .post(
            "/api/v1/labs/qualifications",
            Some(&fx.lab1),
            &json!({"uscc": fx.uscc1, "qualification": "电镜上岗证", "valid_until": "2099-12-31"}),
        )
        .await;
    // Issue 17: not until 2099; at most three years, from today (an invalid field is 400).
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("valid_until"), "{}", r.text());
    let r = app
        .post(
            "/api/v1/labs/qualifications",
            Some(&fx.lab1),
            &json!({"uscc": fx.uscc1, "qualification": "电镜上岗证", "valid_until": china_day(-1)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    // Only for what the lab's own instruments demand.
    let r = app
        .post(
            "/api/v1/labs/qualifications",
            Some(&fx.lab1),
            &json!({"uscc": fx.uscc1, "qualification": "X射线辐射安全", "valid_until": china_day(365)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    // A lab account bound to another lab cannot grant this lab's qualification.
    let r = app
        .post("/api/v1/labs", Some(&fx.reg), &lab_json("SZQTC"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let other_lab = r.json()["id"].as_i64().unwrap();
    let other = app.user_token("otherlab", "lab", None).await;
    let r = app
        .post(
            &format!("/api/v1/labs/{other_lab}/staff"),
            Some(&fx.reg),
            &json!({"username": "otherlab"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .post(
            "/api/v1/labs/qualifications",
            Some(&other),
            &json!({"uscc": fx.uscc1, "qualification": "电镜上岗证", "valid_until": china_day(365)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = app
        .post(
            "/api/v1/labs/qualifications",
            Some(&fx.lab1),
            &json!({"uscc": fx.uscc1, "qualification": "电镜上岗证", "valid_until": china_day(3 * 365 - 2)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = book(&app, &fx.ent1, vec![p]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let b = r.json()["bookings"][0].clone();
    assert_eq!(b["state"], "pending_approval");
    let id = b["id"].as_i64().unwrap();
    // Issue 17 item 10: a grant holds at the granting lab only. Another lab's instrument that
    // demands the same qualification still refuses self-operation; the regulator's grant holds
    // at every lab.
    let mut spec2 = instrument_json("扫描电镜二号", "微观形貌");
    spec2["operator_qualification"] = json!("电镜上岗证");
    let r = app
        .post(
            &format!("/api/v1/labs/{other_lab}/instruments"),
            Some(&other),
            &spec2,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let mut p2 = part(r.json()["id"].as_i64().unwrap(), &day, "14:00", 60);
    p2["self_operated"] = json!(true);
    let r = book(&app, &fx.ent1, vec![p2.clone()]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("代检代测"), "{}", r.text());
    let r = app
        .post(
            "/api/v1/labs/qualifications",
            Some(&fx.reg),
            &json!({"uscc": fx.uscc1, "qualification": "电镜上岗证", "valid_until": china_day(365)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = book(&app, &fx.ent1, vec![p2]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // The enterprise cannot approve its own booking; the lab can.
    let r = app
        .post(
            &format!("/api/v1/labs/bookings/{id}/approve"),
            Some(&fx.ent1),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            &format!("/api/v1/labs/bookings/{id}/approve"),
            Some(&fx.lab2),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["state"], "confirmed", "{}", r.text());
    // Blackouts refuse bookings.
    let r = app
        .post(
            &format!("/api/v1/labs/instruments/{}/blackouts", fx.inst),
            Some(&fx.lab1),
            &json!({"start": format!("{day} 00:00"), "end": format!("{day} 23:30"), "reason": "年度校准"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = book(&app, &fx.ent2, vec![part(fx.inst, &day, "09:00", 60)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("年度校准"), "{}", r.text());
    // Off-grid and too-short requests are refused with the rule's message.
    let r = book(
        &app,
        &fx.ent2,
        vec![part(fx.inst, &china_day(6), "09:10", 60)],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Free cancellation more than 24 h ahead; the invoice then shows no fee.
    let r = app
        .post(
            &format!("/api/v1/labs/bookings/{id}/cancel"),
            Some(&fx.ent1),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["state"], "cancelled", "{}", r.text());
    assert_eq!(r.json()["fee"], "0");
    let inv = app
        .get(
            &format!("/api/v1/labs/bookings/{id}/invoice"),
            Some(&fx.ent1),
        )
        .await
        .json();
    assert_eq!(inv["invoice"]["total"], "0", "{inv}");
    // Quota: 20 h a week per enterprise.
    let d = china_day(8);
    let mut over = 0;
    for h in ["00:00", "08:00", "16:00"] {
        let r = book(&app, &fx.ent2, vec![part(fx.inst, &d, h, 480)]).await;
        if r.status != StatusCode::CREATED {
            over += 1;
            assert!(
                r.text().contains("quota") || r.text().contains("配额"),
                "{}",
                r.text()
            );
        }
    }
    assert!(over >= 1, "the weekly quota must bite");
}

#[tokio::test]
async fn waitlist_hold_no_show_fee_and_blacklist() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let day = china_day(3);
    let r = book(&app, &fx.ent1, vec![part(fx.inst, &day, "10:00", 120)]).await;
    let first = r.json()["bookings"][0]["id"].as_i64().unwrap();
    let r = app
        .post(
            "/api/v1/labs/waitlist",
            Some(&fx.ent2),
            &json!({"instrument_id": fx.inst, "start": format!("{day} 10:00"), "minutes": 120}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    app.post(
        &format!("/api/v1/labs/bookings/{first}/cancel"),
        Some(&fx.ent1),
        &json!({}),
    )
    .await;
    let mine = app
        .get("/api/v1/labs/bookings", Some(&fx.ent2))
        .await
        .json();
    let held = mine["bookings"][0].clone();
    assert_eq!(held["state"], "held", "{mine}");
    assert!(held["hold_until"].is_string());
    let hid = held["id"].as_i64().unwrap();
    // Someone else cannot take the held slot.
    let r = book(&app, &fx.ent1, vec![part(fx.inst, &day, "10:00", 60)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .post(
            &format!("/api/v1/labs/bookings/{hid}/accept_hold"),
            Some(&fx.ent2),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["state"], "confirmed", "{}", r.text());
    // No-show: the sweep after the grace period marks it, charges 100 % and releases the slot.
    let start =
        chrono::NaiveDateTime::parse_from_str(&format!("{day} 10:00"), "%Y-%m-%d %H:%M").unwrap();
    let s = yuepin_labs_service::LabsService::new(app.store.clone())
        .sweep_at(
            &yuepin_domain::Caller::system(),
            start + chrono::Duration::minutes(20),
        )
        .await
        .unwrap();
    assert_eq!(s.no_shows, 1);
    let b = app
        .get(&format!("/api/v1/labs/bookings/{hid}"), Some(&fx.ent2))
        .await
        .json();
    assert_eq!(b["state"], "no_show");
    assert_eq!(b["fee"], b["price"]);
    // Two more no-shows within 90 days suspend the enterprise.
    for d in [4, 5] {
        let day = china_day(d);
        let r = book(&app, &fx.ent2, vec![part(fx.inst, &day, "10:00", 60)]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let start =
            chrono::NaiveDateTime::parse_from_str(&format!("{day} 10:00"), "%Y-%m-%d %H:%M")
                .unwrap();
        yuepin_labs_service::LabsService::new(app.store.clone())
            .sweep_at(
                &yuepin_domain::Caller::system(),
                start + chrono::Duration::minutes(30),
            )
            .await
            .unwrap();
    }
    let r = book(
        &app,
        &fx.ent2,
        vec![part(fx.inst, &china_day(6), "10:00", 60)],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.text().contains("暂停") || r.text().contains("suspend") || r.text().contains("blacklist"),
        "{}",
        r.text()
    );
}

pub(crate) async fn act(
    app: &TestApp,
    token: &str,
    order: i64,
    body: Value,
) -> crate::helpers::Resp {
    app.post(
        &format!("/api/v1/labs/orders/{order}/actions"),
        Some(token),
        &body,
    )
    .await
}

#[tokio::test]
async fn order_lifecycle_four_eyes_report_inspection_retest_and_revoke() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let r = app
        .post(
            "/api/v1/labs/orders",
            Some(&fx.ent1),
            &json!({"service_id": fx.service, "samples": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let o = r.json()["id"].as_i64().unwrap();
    // The enterprise may not quote; the lab may not accept on the customer's behalf.
    assert_eq!(
        act(&app, &fx.ent1, o, json!({"action": "quote", "amount": "1"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        act(
            &app,
            &fx.lab1,
            o,
            json!({"action": "quote", "amount": "2400"})
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        act(&app, &fx.lab1, o, json!({"action": "accept"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        act(&app, &fx.ent1, o, json!({"action": "accept"}))
            .await
            .status,
        StatusCode::OK
    );
    // Illegal jumps are refused.
    assert_eq!(
        act(&app, &fx.lab1, o, json!({"action": "issue_report"}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    for a in ["receive_sample", "start_testing"] {
        let r = act(&app, &fx.lab1, o, json!({"action": a})).await;
        assert_eq!(r.status, StatusCode::OK, "{a}: {}", r.text());
    }
    // Only the tester records results.
    let results = json!({"action": "record_results", "results": {"passed": false, "failed_items": ["盐雾96h出现红锈"], "summary": "不合格"}});
    assert_eq!(
        act(&app, &fx.lab2, o, results.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(act(&app, &fx.lab1, o, results).await.status, StatusCode::OK);
    // Four eyes: the tester cannot verify; a colleague can.
    let r = act(&app, &fx.lab1, o, json!({"action": "verify"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(
        act(&app, &fx.lab2, o, json!({"action": "verify"}))
            .await
            .status,
        StatusCode::OK
    );
    let r = act(&app, &fx.lab2, o, json!({"action": "issue_report"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let first = r.json()["reports"][0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        first.starts_with("YP-GDQTC-") && first.ends_with("-0001"),
        "{first}"
    );
    // Public verification needs the number and the report's token (both in its link).
    let token = r.json()["reports"][0]["verify_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(token.len() >= 22, "{token}");
    let v = app
        .get(&format!("/api/v1/labs/reports/{first}?token={token}"), None)
        .await
        .json();
    assert_eq!(v["status"]["status"], "valid", "{v}");
    let page = app
        .get(&format!("/labs/reports/{first}?token={token}"), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("<svg") && page.text().contains(&first));
    // The report is now an inspection record in the enterprise's quality file.
    let qf = app
        .get(
            &format!("/api/v1/enterprises/{}/quality-file", fx.uscc1),
            Some(&fx.ent1),
        )
        .await
        .json();
    let events = qf["events"].as_array().unwrap();
    let insp = events
        .iter()
        .find(|e| e["report_no"] == first.as_str())
        .expect("inspection event");
    assert_eq!(insp["kind"], "inspection");
    assert_eq!(insp["result"], "fail");
    // Retest: new report number, the old one is replaced by it.
    assert_eq!(
        act(&app, &fx.ent1, o, json!({"action": "request_retest"}))
            .await
            .status,
        StatusCode::OK
    );
    act(&app, &fx.lab2, o, json!({"action": "start_testing"})).await;
    act(
        &app,
        &fx.lab2,
        o,
        json!({"action": "record_results", "results": {"passed": true}}),
    )
    .await;
    assert_eq!(
        act(&app, &fx.lab2, o, json!({"action": "verify"}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        act(&app, &fx.lab1, o, json!({"action": "verify"}))
            .await
            .status,
        StatusCode::OK
    );
    let r = act(&app, &fx.lab1, o, json!({"action": "issue_report"})).await;
    let second_token = r.json()["order"]["report_token"]
        .as_str()
        .unwrap()
        .to_string();
    let second = r.json()["order"]["state"]["report"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second);
    let v = app
        .get(&format!("/api/v1/labs/reports/{first}?token={token}"), None)
        .await
        .json();
    assert_eq!(v["status"]["status"], "replaced");
    assert_eq!(v["status"]["by"], second.as_str());
    // Invoice: 3 samples × 800 quoted at 2400, plus one chargeable retest round.
    let inv = app
        .get(&format!("/api/v1/labs/orders/{o}/invoice"), Some(&fx.ent1))
        .await
        .json();
    assert_eq!(inv["invoice"]["total"], "4800", "{inv}");
    // Revoke: final, and verification says so.
    let r = act(
        &app,
        &fx.lab1,
        o,
        json!({"action": "revoke_report", "reason": "样品信息有误"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = app
        .get(
            &format!("/api/v1/labs/reports/{second}?token={second_token}"),
            None,
        )
        .await
        .json();
    assert_eq!(v["status"]["status"], "revoked");
    assert_eq!(
        act(&app, &fx.ent1, o, json!({"action": "request_retest"}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    // The database keeps revoked reports final.
    let err = sqlx::query(
        "UPDATE lab_reports SET status = 'valid', revoked_reason = NULL WHERE number = $1",
    )
    .bind(&second)
    .execute(app.store.pool())
    .await;
    assert!(err.is_err());
}

#[tokio::test]
async fn ics_feeds_parse_with_python_icalendar() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let day = china_day(3);
    book(&app, &fx.ent1, vec![part(fx.inst, &day, "10:00", 120)]).await;
    book(&app, &fx.ent1, vec![part(fx.inst, &day, "14:00", 60)]).await;
    // Anonymous without a token: refused.
    let r = app
        .get(&format!("/labs/instruments/{}/calendar.ics", fx.inst), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .post(
            "/api/v1/labs/feeds",
            Some(&fx.lab1),
            &json!({"kind": "instrument", "id": fx.inst}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let path = r.json()["path"].as_str().unwrap().to_string();
    let inst_feed = app.get(&path, None).await;
    assert_eq!(inst_feed.status, StatusCode::OK);
    assert!(inst_feed.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let r = app
        .post(
            "/api/v1/labs/feeds",
            Some(&fx.ent1),
            &json!({"kind": "enterprise"}),
        )
        .await;
    let epath = r.json()["path"].as_str().unwrap().to_string();
    let ent_feed = app.get(&epath, None).await;
    assert_eq!(ent_feed.status, StatusCode::OK);
    // Another enterprise's token does not open this feed; the other enterprise cannot read it.
    let r = app
        .get(
            &format!("/labs/enterprises/{}/calendar.ics", fx.uscc1),
            Some(&fx.ent2),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get(
            &format!("/labs/enterprises/{}/calendar.ics?token=nope", fx.uscc1),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../yuepin-labs/tests/peers/parse_ics.py");
    for (feed, n) in [(inst_feed.body, 2usize), (ent_feed.body, 2)] {
        let mut child = match std::process::Command::new("python3")
            .arg(&script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) if std::env::var("CI").is_err() => {
                eprintln!("skipping ICS peer check: python3 unavailable ({e})");
                return;
            }
            Err(e) => panic!("python3: {e}"),
        };
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&feed).unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.code() == Some(3) {
            assert!(
                std::env::var("CI").is_err(),
                "python icalendar missing under CI"
            );
            eprintln!("skipping ICS peer check: python icalendar not installed");
            return;
        }
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let events = parsed["events"].as_array().unwrap();
        assert_eq!(events.len(), n, "{parsed}");
        // 10:00 China time is 02:00 UTC.
        assert!(
            events
                .iter()
                .any(|e| e[2].as_str().unwrap().contains("T02:00:00")),
            "{parsed}"
        );
    }
}

#[tokio::test]
async fn tenant_isolation_and_roles() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let day = china_day(3);
    let r = book(&app, &fx.ent1, vec![part(fx.inst, &day, "10:00", 60)]).await;
    let b = r.json()["bookings"][0]["id"].as_i64().unwrap();
    let r = app
        .post(
            "/api/v1/labs/orders",
            Some(&fx.ent1),
            &json!({"service_id": fx.service, "samples": 1}),
        )
        .await;
    let o = r.json()["id"].as_i64().unwrap();
    // Another enterprise sees neither, and cannot act.
    assert_eq!(
        app.get(&format!("/api/v1/labs/bookings/{b}"), Some(&fx.ent2))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/labs/bookings/{b}/cancel"),
            Some(&fx.ent2),
            &json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/labs/orders/{o}"), Some(&fx.ent2))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        act(&app, &fx.ent2, o, json!({"action": "cancel"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A second lab's staff cannot manage the first lab.
    let r = app
        .post("/api/v1/labs", Some(&fx.reg), &lab_json("SZLAB"))
        .await;
    let other = r.json()["id"].as_i64().unwrap();
    let outsider = app.user_token("otherlab", "lab", None).await;
    // Unbound lab accounts can do nothing.
    assert_eq!(
        app.get("/api/v1/labs/orders", Some(&outsider)).await.status,
        StatusCode::FORBIDDEN
    );
    app.post(
        &format!("/api/v1/labs/{other}/staff"),
        Some(&fx.reg),
        &json!({"username": "otherlab"}),
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/labs/{}/instruments", fx.lab_id),
            Some(&outsider),
            &instrument_json("X", "盐雾试验"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(
            &format!("/api/v1/labs/{}/orders", fx.lab_id),
            Some(&outsider)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&format!("/api/v1/labs/bookings/{b}"), Some(&outsider))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        act(
            &app,
            &outsider,
            o,
            json!({"action": "quote", "amount": "1"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // Only the regulator creates labs and binds staff; enterprises cannot.
    assert_eq!(
        app.post("/api/v1/labs", Some(&fx.ent1), &lab_json("ENTLAB"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/labs/{other}/staff"),
            Some(&fx.lab1),
            &json!({"username": "labtester"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Utilisation: regulator and labs only.
    assert_eq!(
        app.get("/api/v1/labs/utilisation", Some(&fx.ent1))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/labs/utilisation", Some(&fx.reg))
            .await
            .status,
        StatusCode::OK
    );
    // The catalogue, availability and one-stop view are public.
    assert_eq!(app.get("/api/v1/labs", None).await.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/labs/one-stop?city=广州", None)
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .get("/api/v1/labs/availability?item=盐雾试验&city=广州", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Anonymous booking is refused.
    assert_eq!(
        book(&app, "", vec![part(fx.inst, &day, "12:00", 60)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn availability_savings_utilisation_and_pages() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let day = china_day(2);
    let q = format!("/api/v1/labs/availability?item=盐雾试验&from={day}&to={day}&minutes=120");
    let before = app.get(&q, None).await.json();
    let earliest = before["slots"][0]["earliest"]["start"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(earliest.starts_with(&day), "{before}");
    // Book the whole day from midnight: the earliest free slot moves.
    let r = book(&app, &fx.ent1, vec![part(fx.inst, &day, "00:00", 480)]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let after = app.get(&q, None).await.json();
    assert!(
        after["slots"][0]["earliest"]["start"]
            .as_str()
            .unwrap()
            .contains("T08:00"),
        "{after}"
    );
    // Savings against buying the instrument.
    let s = app.get("/api/v1/labs/savings", Some(&fx.ent1)).await.json();
    assert_eq!(s["instruments"].as_array().unwrap().len(), 1, "{s}");
    assert!(
        s["total_saving"].as_str().unwrap().parse::<f64>().unwrap() > 0.0,
        "{s}"
    );
    // Utilisation counts checked-in time as used and enterprise use as outside use.
    let b = r.json()["bookings"][0]["id"].as_i64().unwrap();
    sqlx::query("UPDATE lab_bookings SET state = 'completed' WHERE id = $1")
        .bind(b)
        .execute(app.store.pool())
        .await
        .unwrap();
    let year = &day[..4];
    let u = app
        .get(
            &format!("/api/v1/labs/utilisation?year={year}"),
            Some(&fx.lab1),
        )
        .await
        .json();
    let row = &u["instruments"][0];
    assert_eq!(row["used_minutes"], 480, "{u}");
    assert_eq!(row["sharing_rate_bp"], 10000, "{u}");
    // Pages for each role (bearer tokens also authenticate pages).
    for (path, token, needle) in [
        ("/labs", None, "一站式"),
        ("/labs/search?item=盐雾试验", None, "slot"),
        ("/labs/instruments/1", Some(&fx.ent1), "book-form"),
        ("/labs/my", Some(&fx.ent1), "savings"),
        ("/labs/lab", Some(&fx.lab1), "order-queue"),
        ("/labs/dashboard", Some(&fx.reg), "<svg"),
        ("/labs/dashboard?lang=en", Some(&fx.reg), "Sharing rate"),
    ] {
        let r = app.get(path, token.map(String::as_str)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        assert!(r.text().contains(needle), "{path} lacks {needle}");
    }
    // Signed-out visitors are sent to sign in; enterprises cannot open the dashboard.
    assert_eq!(
        app.get("/labs/my", None).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get("/labs/dashboard", Some(&fx.ent1)).await.status,
        StatusCode::FORBIDDEN
    );
}
