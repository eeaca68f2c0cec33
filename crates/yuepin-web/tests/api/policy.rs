//! Black-box tests of the policy module: checks with reasons and clauses (request facts and
//! platform facts), the stored match with offers and notifications, intent → application →
//! approval → grant, no double payment (application check and the database's unique key),
//! totals, tenant isolation, what-if, XLSX export read back with calamine, and the pages.

use crate::helpers::{uscc, TestApp};
use axum::http::StatusCode;
use serde_json::{json, Value};

/// An enterprise eligible for M18 (little giant + performance excellence) and M10 (provincial
/// quality award) on 2025-03-01, in Shenzhen.
pub(crate) fn awarded_enterprise(code: &str, name: &str) -> Value {
    json!({
        "uscc": code, "name": name, "region": "深圳", "division": "39",
        "registered_capital": "5000万", "employees": 320, "founded_on": "2012-05-18",
        "listing": "unlisted",
        "designations": [
            {"kind": "little_giant", "awarded_on": "2022-07-01", "expires_on": "2025-06-30"},
            {"kind": "performance_excellence", "awarded_on": "2023-01-01"},
            {"kind": "guangdong_quality_award", "awarded_on": "2024-05-01"}],
        "financials": [{"year": 2024, "revenue_china": "20亿元", "revenue_world": "25.5亿"}]
    })
}

pub(crate) async fn setup(app: &TestApp) -> (String, String, String, String, String) {
    let reg = app.regulator().await;
    let a = uscc(101);
    let b = uscc(102);
    for (code, name) in [
        (&a, "深圳市甲质量科技有限公司"),
        (&b, "深圳市乙电子有限公司"),
    ] {
        let r = app
            .post(
                "/api/v1/enterprises",
                Some(&reg),
                &awarded_enterprise(code, name),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let ua = app.user_token("ent-a", "enterprise", Some(&a)).await;
    let ub = app.user_token("ent-b", "enterprise", Some(&b)).await;
    (reg, a, b, ua, ub)
}

fn merger(china: &[&str], world: &[&str]) -> Value {
    json!({"parties_revenue_china": china, "parties_revenue_world": world, "involves_manufacturing": true})
}

#[tokio::test]
async fn check_with_reasons_and_clauses() {
    let app = TestApp::spawn().await;
    let (reg, a, _b, ua, _ub) = setup(&app).await;
    // M16 boundary: "超过20亿元" is strict; exactly 20亿 fails with the clause cited.
    let at = app
        .post(
            "/api/v1/policy/check",
            None,
            &json!({"subject": "merger", "measure": "M16", "as_of": "2025-01-01",
                    "facts": merger(&["14亿元", "6亿元"], &["50亿元", "20亿元"])}),
        )
        .await;
    assert_eq!(at.status, StatusCode::OK, "{}", at.text());
    let ev = &at.json()["evaluations"][0];
    assert_eq!(ev["outcome"], "not_eligible", "{ev}");
    let failed = ev["failed"].as_array().unwrap();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .any(|c| c["clause"]["quote"].as_str().unwrap().contains("20亿元")),
        "{ev}"
    );
    let over = app
        .post(
            "/api/v1/policy/check",
            None,
            &json!({"subject": "merger", "measure": "M16", "as_of": "2025-01-01",
                    "facts": merger(&["14亿元", "6.0000001亿元"], &["50亿元", "20亿元"])}),
        )
        .await;
    assert_eq!(
        over.json()["evaluations"][0]["outcome"],
        "eligible",
        "{}",
        over.text()
    );
    // Missing facts are never read as false.
    let missing = app
        .post(
            "/api/v1/policy/check",
            None,
            &json!({"subject": "merger", "measure": "M16", "as_of": "2025-01-01", "facts": {}}),
        )
        .await;
    let ev = &missing.json()["evaluations"][0];
    assert_eq!(ev["outcome"], "undetermined");
    assert!(!ev["missing"].as_array().unwrap().is_empty());
    // After the policy lapsed (last day 2026-10-11).
    let lapsed = app
        .post(
            "/api/v1/policy/check",
            None,
            &json!({"subject": "merger", "measure": "M16", "as_of": "2026-10-12",
                    "facts": merger(&["14亿元", "7亿元"], &["50亿元", "20亿元"])}),
        )
        .await;
    assert_eq!(lapsed.json()["evaluations"][0]["outcome"], "not_in_force");
    // Bad facts are field errors, not panics.
    let bad = app
        .post(
            "/api/v1/policy/check",
            None,
            &json!({"subject": "merger", "facts": {"parties_revenue_china": "lots"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["field"], "facts.parties_revenue_china");
    // Enterprise facts from the platform: M18 eligible on 2025-03-01 (little giant still held).
    let ent = app
        .post(
            "/api/v1/policy/check",
            Some(&ua),
            &json!({"enterprise": a, "as_of": "2025-03-01", "measure": "M18"}),
        )
        .await;
    assert_eq!(ent.status, StatusCode::OK, "{}", ent.text());
    assert_eq!(ent.json()["evaluations"][0]["outcome"], "eligible");
    // … and the enterprise's full picture, regulator view.
    let all = app
        .get(
            &format!("/api/v1/policy/enterprises/{a}?as_of=2025-03-01"),
            Some(&reg),
        )
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    let j = all.json();
    let ids: Vec<&str> = j["eligible"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["measure"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"gd-2023-74/M18") && ids.contains(&"gd-2023-74/M10"),
        "{ids:?}"
    );
    assert!(!j["undetermined"].as_array().unwrap().is_empty());
    assert!(!j["not_eligible"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn match_stores_results_notifies_and_exports_xlsx() {
    let app = TestApp::spawn_as_of("2025-03-01").await;
    let (reg, a, b, ua, _ub) = setup(&app).await;
    // Only the regulator runs the match.
    assert_eq!(
        app.post(
            "/api/v1/policy/match",
            Some(&ua),
            &json!({"as_of": "2025-03-01"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let run = app
        .post(
            "/api/v1/policy/match",
            Some(&reg),
            &json!({"as_of": "2025-03-01"}),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text());
    let r = run.json();
    assert_eq!(r["enterprises"], 2);
    assert!(r["eligible"].as_i64().unwrap() >= 4, "{r}");
    assert_eq!(r["notified"], 2);
    assert_eq!(r["counts"]["gd-2023-74/M18"]["eligible"], 2);
    let run_id = r["run_id"].as_i64().unwrap();

    let listing = app
        .get(
            &format!("/api/v1/policy/measures/M18/enterprises?run={run_id}"),
            Some(&reg),
        )
        .await;
    assert_eq!(listing.status, StatusCode::OK, "{}", listing.text());
    let codes: Vec<String> = listing.json()["enterprises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uscc"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, vec![a.clone(), b.clone()]);

    // Notifications and offers, for the enterprise in the app.
    let n = app.get("/api/v1/policy/notifications", Some(&ua)).await;
    assert_eq!(n.status, StatusCode::OK);
    let nj = n.json();
    assert_eq!(nj["unread"], 1);
    assert!(nj["notifications"][0]["body_zh"]
        .as_str()
        .unwrap()
        .contains("M18"));
    let offers = app.get("/api/v1/policy/offers", Some(&ua)).await.json();
    let measures: Vec<&str> = offers["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["measure"].as_str().unwrap())
        .collect();
    assert!(measures.contains(&"gd-2023-74/M18"), "{measures:?}");
    assert!(offers["offers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["status"] == "offered"));
    let read = app
        .post("/api/v1/policy/notifications/read", Some(&ua), &json!({}))
        .await;
    assert_eq!(read.json()["marked_read"], 1);

    // XLSX export, read back.
    let x = app
        .get(
            &format!("/api/v1/policy/measures/M18/export.xlsx?run={run_id}"),
            Some(&reg),
        )
        .await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.headers["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(x.body.clone())).unwrap();
    let range = wb.worksheet_range("M18").unwrap();
    let cells: Vec<String> = range.rows().skip(2).map(|r| r[0].to_string()).collect();
    assert_eq!(cells, vec![a.clone(), b.clone()]);
    assert_eq!(range.rows().nth(2).unwrap()[6].to_string(), "100000000");
    // Headers and values in words: Chinese by default.
    assert_eq!(
        range.rows().nth(1).unwrap()[0].to_string(),
        "统一社会信用代码"
    );
    assert_eq!(range.rows().nth(2).unwrap()[2].to_string(), "深圳市");
    assert_eq!(range.rows().nth(2).unwrap()[4].to_string(), "符合");
    // Pages: regulator list and the enterprise's 政策匹配 page.
    let page = app.get("/policy/measures/M18", Some(&reg)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&a) && page.text().contains("export.xlsx"));
    let mine = app
        .get(&format!("/policy/enterprises/{a}"), Some(&ua))
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text());
    let t = mine.text();
    assert!(
        t.contains("政策匹配") && t.contains("确认意愿") && t.contains("条款"),
        "{t}"
    );
    let notes = app.get("/policy/notifications", Some(&ua)).await;
    assert!(notes.text().contains("政策匹配结果"));
}

#[tokio::test]
async fn intent_application_approval_grant_no_double_payment() {
    let app = TestApp::spawn_as_of("2025-03-01").await;
    let (reg, a, _b, ua, ub) = setup(&app).await;
    app.post(
        "/api/v1/policy/match",
        Some(&reg),
        &json!({"as_of": "2025-03-01"}),
    )
    .await;
    let offers = app.get("/api/v1/policy/offers", Some(&ua)).await.json();
    let offer = |m: &str| {
        offers["offers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["measure"] == m)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let m18 = offer("gd-2023-74/M18");
    // Another enterprise cannot answer it; nothing is granted before the intent is confirmed.
    assert_eq!(
        app.post(
            &format!("/api/v1/policy/offers/{m18}/answer"),
            Some(&ub),
            &json!({"decision": "confirm"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert!(app
        .get("/api/v1/policy/applications", Some(&reg))
        .await
        .json()["applications"]
        .as_array()
        .unwrap()
        .is_empty());
    let confirmed = app
        .post(
            &format!("/api/v1/policy/offers/{m18}/answer"),
            Some(&ua),
            &json!({"decision": "confirm"}),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text());
    let cj = confirmed.json();
    assert_eq!(cj["offer"]["status"], "confirmed");
    let app_id = cj["application"]["id"].as_i64().unwrap();
    assert_eq!(cj["application"]["status"], "submitted");
    // Answering twice is a conflict.
    assert_eq!(
        app.post(
            &format!("/api/v1/policy/offers/{m18}/answer"),
            Some(&ua),
            &json!({"decision": "decline"})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    // Over the 1亿 cap is refused; the enterprise cannot decide.
    let over = app
        .post(
            &format!("/api/v1/policy/applications/{app_id}/decision"),
            Some(&reg),
            &json!({"decision": "approve", "amount": "1.5亿元"}),
        )
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST, "{}", over.text());
    assert_eq!(
        app.post(
            &format!("/api/v1/policy/applications/{app_id}/decision"),
            Some(&ua),
            &json!({"decision": "approve", "amount": "1亿元"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let ok = app
        .post(
            &format!("/api/v1/policy/applications/{app_id}/decision"),
            Some(&reg),
            &json!({"decision": "approve", "amount": "5000万元", "reason": "材料齐全", "year": 2025}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["grant"]["amount_fen"], 5_000_000_000i64);

    // M10: apply directly (reference defaults to the award held), approve, then again → 409.
    let m10 = app
        .post(
            "/api/v1/policy/applications",
            Some(&ua),
            &json!({"measure": "M10"}),
        )
        .await;
    assert_eq!(m10.status, StatusCode::CREATED, "{}", m10.text());
    let m10_id = m10.json()["id"].as_i64().unwrap();
    assert!(m10.json()["reference"]
        .as_str()
        .unwrap()
        .contains("guangdong_quality_award"));
    let dup_pending = app
        .post(
            "/api/v1/policy/applications",
            Some(&ua),
            &json!({"measure": "M10"}),
        )
        .await;
    assert_eq!(dup_pending.status, StatusCode::CONFLICT);
    let rej = app
        .post(
            &format!("/api/v1/policy/applications/{m10_id}/decision"),
            Some(&reg),
            &json!({"decision": "reject"}),
        )
        .await;
    assert_eq!(
        rej.status,
        StatusCode::BAD_REQUEST,
        "a rejection needs a reason"
    );
    let ok = app
        .post(
            &format!("/api/v1/policy/applications/{m10_id}/decision"),
            Some(&reg),
            &json!({"decision": "approve", "amount": "30万元", "year": 2025}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let again = app
        .post(
            "/api/v1/policy/applications",
            Some(&ua),
            &json!({"measure": "M10"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("never paid twice"));
    // A measure the enterprise is not eligible for is refused with the reasons.
    let m8 = app
        .post(
            "/api/v1/policy/applications",
            Some(&ua),
            &json!({"measure": "M8", "reference": "ISO 12345:2024"}),
        )
        .await;
    assert_eq!(m8.status, StatusCode::BAD_REQUEST, "{}", m8.text());

    // The database refuses a second grant for the same (enterprise, measure, payment key).
    let dup = sqlx::query(
        "INSERT INTO policy_grants (application_id, enterprise_id, measure, reference, payment_key, period, amount_fen, city, year, granted_at, granted_by) \
         SELECT application_id + 1000, enterprise_id, measure, 'another reference', payment_key, period, 1, city, year, granted_at, granted_by FROM policy_grants WHERE measure = 'gd-2023-74/M10'",
    )
    .execute(app.store.pool())
    .await;
    assert!(
        dup.is_err(),
        "unique (enterprise, measure, payment key) must hold"
    );

    // Totals by measure, city and year.
    let t = app.get("/api/v1/policy/grants/totals", Some(&reg)).await;
    assert_eq!(t.status, StatusCode::OK);
    let tj = t.json();
    assert_eq!(tj["total"]["amount"], "50300000");
    assert_eq!(tj["by_measure"]["M18"]["amount_fen"], 5_000_000_000i64);
    assert_eq!(tj["by_city"]["440300"]["grants"], 2);
    assert_eq!(tj["by_year"]["2025"]["grants"], 2);
    assert_eq!(
        app.get("/api/v1/policy/grants/totals", Some(&ua))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let page = app.get("/policy/grants", Some(&reg)).await;
    assert!(
        page.text().contains("5030万元") && page.text().contains("<svg"),
        "{}",
        page.text()
    );
    // The audit chain recorded every step and is intact.
    let v = app.get("/api/v1/audit/verify", Some(&reg)).await.json();
    assert_eq!(v["status"], "intact", "{v}");
    let _ = a;
}

#[tokio::test]
async fn tenant_isolation() {
    let app = TestApp::spawn_as_of("2025-03-01").await;
    let (reg, a, b, ua, ub) = setup(&app).await;
    app.post(
        "/api/v1/policy/match",
        Some(&reg),
        &json!({"as_of": "2025-03-01"}),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/policy/enterprises/{b}"), Some(&ua))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/policy/enterprises/{b}"), Some(&ua))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/policy/enterprises/{a}"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post(
            "/api/v1/policy/check",
            Some(&ua),
            &json!({"enterprise": b, "as_of": "2025-03-01"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/policy/measures/M18/enterprises", Some(&ua))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/policy/measures/M18/export.xlsx", Some(&ua))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            "/api/v1/policy/what-if",
            Some(&ua),
            &json!({"overrides": {"m18_financing_cap": "2亿元"}})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Applications: each enterprise sees only its own.
    let pa = app
        .post(
            "/api/v1/policy/applications",
            Some(&ua),
            &json!({"measure": "M18"}),
        )
        .await;
    assert_eq!(pa.status, StatusCode::CREATED, "{}", pa.text());
    let id = pa.json()["id"].as_i64().unwrap();
    assert!(app
        .get("/api/v1/policy/applications", Some(&ub))
        .await
        .json()["applications"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        app.get(&format!("/api/v1/policy/applications/{id}"), Some(&ub))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/policy/applications/{id}"), Some(&ua))
            .await
            .status,
        StatusCode::OK
    );
    // Applying "for" another enterprise is refused.
    assert_eq!(
        app.post(
            "/api/v1/policy/applications",
            Some(&ub),
            &json!({"uscc": a, "measure": "M18"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Offers and notifications are the caller's own.
    let ob = app.get("/api/v1/policy/offers", Some(&ub)).await.json();
    assert!(ob["offers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["enterprise_id"] != pa.json()["enterprise_id"]));
    let nb = app
        .get("/api/v1/policy/notifications", Some(&ub))
        .await
        .json();
    assert!(nb["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["link"].as_str().unwrap().contains(&b)));
    assert_eq!(
        app.get("/api/v1/policy/notifications", Some(&reg))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn what_if_shows_the_difference() {
    let app = TestApp::spawn().await;
    let (reg, _a, _b, _ua, _ub) = setup(&app).await;
    // Enterprises from the store: a higher M18 cap adds 1亿 per eligible enterprise.
    let r = app
        .post(
            "/api/v1/policy/what-if",
            Some(&reg),
            &json!({"as_of": "2025-03-01", "overrides": {"m18_financing_cap": "2亿元"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    assert_eq!(j["subjects"], 2);
    assert_eq!(j["amount_delta_fen"], 2 * 10_000_000_000i64);
    // Mergers from the request: a 15亿 threshold makes the 18亿 merger newly eligible.
    let subjects = json!([
        merger(&["12亿元", "6亿元"], &["30亿元", "20亿元"]),
        merger(&["3亿元", "1亿元"], &["5亿元", "2亿元"])
    ]);
    let r = app
        .post(
            "/api/v1/policy/what-if",
            Some(&reg),
            &json!({"as_of": "2025-03-01", "subject": "merger", "subjects": subjects, "overrides": {"m16_combined_china": "15亿元"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    assert_eq!(j["eligible_before"], 0);
    assert_eq!(j["eligible_after"], 1);
    assert_eq!(j["newly_eligible"][0]["subject"], "#0");
    // Unknown parameter → field error; page renders.
    let bad = app
        .post(
            "/api/v1/policy/what-if",
            Some(&reg),
            &json!({"overrides": {"nope": "1"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["field"], "overrides");
    let page = app
        .get(
            "/policy/what-if?as_of=2025-03-01&p.m18_financing_cap=2%E4%BA%BF%E5%85%83",
            Some(&reg),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(
        page.text().contains("whatif-delta") && page.text().contains("2亿元"),
        "{}",
        page.text()
    );
}

#[tokio::test]
async fn check_page_for_request_subjects() {
    let app = TestApp::spawn().await;
    let page = app
        .get(
            "/policy/check?subject=merger&check=1&as_of=2025-01-01&f.parties_revenue_china=15%E4%BA%BF%E5%85%83,6%E4%BA%BF%E5%85%83&f.parties_revenue_world=50%E4%BA%BF%E5%85%83,20%E4%BA%BF%E5%85%83&f.involves_manufacturing=true",
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let t = page.text();
    assert!(t.contains("eval-M16") && t.contains("符合条件"), "{t}");
    let form = app
        .get("/policy/check?subject=standard&lang=en", None)
        .await;
    assert!(form.text().contains("released_on") && form.text().contains("Check"));
}

/// The server's date decides: after the lapse (today, 2026-12-01 in the spec's timeline, or
/// any real day after 2026-10-11) an enterprise cannot obtain eligibility by sending a date
/// from when the policy was in force; a read-only check still takes the date and shows it.
#[tokio::test]
async fn an_enterprise_cannot_obtain_eligibility_by_sending_a_date() {
    let app = TestApp::spawn_as_of("2026-12-01").await;
    let (reg, a, _b, ua, _ub) = setup(&app).await;
    let sent = app
        .post(
            "/api/v1/policy/applications",
            Some(&ua),
            &json!({"measure": "M18", "as_of": "2025-03-01"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::BAD_REQUEST, "{}", sent.text());
    assert_eq!(sent.json()["error"]["field"], "as_of");
    let plain = app
        .post(
            "/api/v1/policy/applications",
            Some(&ua),
            &json!({"measure": "M18"}),
        )
        .await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST, "{}", plain.text());
    // A match as of a day in force is stored but offers nothing.
    let run = app
        .post(
            "/api/v1/policy/match",
            Some(&reg),
            &json!({"as_of": "2025-03-01"}),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text());
    assert_eq!(run.json()["offers"], 0);
    assert!(
        app.get("/api/v1/policy/offers", Some(&ua)).await.json()["offers"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Read-only: the date is taken and shown.
    let check = app
        .post(
            "/api/v1/policy/check",
            Some(&ua),
            &json!({"enterprise": a, "as_of": "2025-03-01", "measure": "M18"}),
        )
        .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.text());
    assert_eq!(check.json()["as_of"], "2025-03-01");
    assert_eq!(check.json()["evaluations"][0]["outcome"], "eligible");
    assert!(app
        .get("/api/v1/policy/applications", Some(&reg))
        .await
        .json()["applications"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Lapse everywhere: after the last day the pages say so (zh and en) and name no raw enum; on
/// the last day the measure is still in force and shown as lapsing soon; a server run as of a
/// day names it in a banner on every page.
#[tokio::test]
async fn pages_show_the_lapse_and_the_as_of_banner() {
    let lapsed = TestApp::spawn_as_of("2026-10-12").await;
    for path in ["/policy", "/measures/18", "/", "/policy/check"] {
        let t = lapsed.get(path, None).await.text();
        assert!(t.contains("已于2026年10月11日失效"), "{path}: {t}");
        assert!(t.contains("as-of-banner"), "{path}");
    }
    let en = lapsed.get("/measures/18?lang=en", None).await.text();
    assert!(en.contains("Lapsed after 11 October 2026"), "{en}");
    let last = TestApp::spawn_as_of("2026-10-11").await;
    let t = last.get("/measures/18", None).await.text();
    assert!(t.contains("将于2026年10月11日失效"), "{t}");
    let first = TestApp::spawn_as_of("2023-10-12").await;
    let t = first.get("/policy", None).await.text();
    assert!(t.contains(">有效<"), "{t}");
    assert!(!t.contains("policy-notice"));
    // The real server clock: no banner naming a fixed day.
    let real = TestApp::spawn().await;
    assert!(!real.get("/", None).await.text().contains("as-of-banner"));
}
