//! Black-box tests of the codes module: apply → pre-check → approve/reject → issue → scan
//! (HTML, JSON, linkset; 400/404/410), revocation scopes, published key set and status lists
//! verified with the offline library, tenant isolation, counterfeit signals, pages, Chromium.

use crate::helpers::{uscc, Resp, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

pub(crate) struct Setup {
    pub(crate) reg: String,
    pub(crate) ent: String,
    pub(crate) code: String,
    product_id: i64,
}

pub(crate) async fn setup(app: &TestApp, n: u32, gtin: Option<&str>) -> Setup {
    let reg = app.user_token(&format!("reg{n}"), "regulator", None).await;
    let code = uscc(n);
    app.create_enterprise(&reg, &code, &format!("佛山市粤品{n}电器有限公司"))
        .await;
    let mut p = json!({"name": "智能电饭煲", "brand": "粤禾", "model": format!("RC-{n}"), "category": "家用电器"});
    if let Some(g) = gtin {
        p["gtin"] = json!(g);
    }
    let created = app
        .post(
            &format!("/api/v1/enterprises/{code}/products"),
            Some(&reg),
            &p,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let ent = app
        .user_token(&format!("ent{n}"), "enterprise", Some(&code))
        .await;
    Setup {
        reg,
        ent,
        code,
        product_id: created.json()["id"].as_i64().unwrap(),
    }
}

/// Applies, approves and issues `count` codes; returns the URIs.
pub(crate) async fn issue(app: &TestApp, s: &Setup, lot: Option<&str>, count: i64) -> Vec<String> {
    let applied = app
        .post(
            "/api/v1/codes/applications",
            Some(&s.ent),
            &json!({"product_id": s.product_id, "lot": lot, "quantity": count}),
        )
        .await;
    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.text());
    let id = applied.json()["id"].as_i64().unwrap();
    let approved = app
        .post(
            &format!("/api/v1/codes/applications/{id}/decision"),
            Some(&s.reg),
            &json!({"approve": true, "reason": "记录良好"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text());
    let series = approved.json()["series_id"].as_i64().unwrap();
    let csv = app
        .post(
            &format!("/api/v1/codes/series/{series}/issue"),
            Some(&s.ent),
            &json!({"count": count}),
        )
        .await;
    assert_eq!(csv.status, StatusCode::CREATED, "{}", csv.text());
    let text = csv.text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("uri,serial,status_index,issued_on,kid"));
    lines
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect()
}

/// The path and query of a code URI (the test router serves any host).
pub(crate) fn local(uri: &str) -> String {
    let rest = uri.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_string()
}

pub(crate) async fn scan_json(app: &TestApp, uri: &str) -> Resp {
    let req = Request::get(local(uri))
        .header("accept", "application/json")
        .body(Body::empty())
        .unwrap();
    app.request(req).await
}

#[tokio::test]
async fn apply_approve_issue_and_scan_in_every_representation() {
    let app = TestApp::spawn().await;
    let s = setup(&app, 301, Some("06901234567892")).await;

    // Reject needs a reason; only the regulator decides.
    let applied = app
        .post(
            "/api/v1/codes/applications",
            Some(&s.ent),
            &json!({"product_id": s.product_id, "quantity": 10}),
        )
        .await;
    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.text());
    let a = applied.json();
    assert_eq!(a["status"], "pending");
    assert_eq!(a["precheck"]["ok"], true);
    let id = a["id"].as_i64().unwrap();
    let by_ent = app
        .post(
            &format!("/api/v1/codes/applications/{id}/decision"),
            Some(&s.ent),
            &json!({"approve": true, "reason": "x"}),
        )
        .await;
    assert_eq!(by_ent.status, StatusCode::FORBIDDEN);
    let no_reason = app
        .post(
            &format!("/api/v1/codes/applications/{id}/decision"),
            Some(&s.reg),
            &json!({"approve": false, "reason": " "}),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_reason.json()["error"]["field"], "reason");
    let rejected = app
        .post(
            &format!("/api/v1/codes/applications/{id}/decision"),
            Some(&s.reg),
            &json!({"approve": false, "reason": "数量不合理"}),
        )
        .await;
    assert_eq!(rejected.json()["status"], "rejected");
    assert_eq!(rejected.json()["decision_reason"], "数量不合理");
    let again = app
        .post(
            &format!("/api/v1/codes/applications/{id}/decision"),
            Some(&s.reg),
            &json!({"approve": true, "reason": "x"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let queue = app
        .get("/api/v1/codes/applications?status=rejected", Some(&s.reg))
        .await
        .json();
    assert_eq!(queue.as_array().unwrap().len(), 1);

    let uris = issue(&app, &s, Some("20261126GZ01"), 5).await;
    assert_eq!(uris.len(), 5);
    assert!(uris[0].starts_with("http://127.0.0.1:8080/01/06901234567892/10/20261126GZ01/21/"));

    // JSON: genuine and valid, with product, producer and quality summary.
    let r = scan_json(&app, &uris[0]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["producer"]["uscc"], s.code.as_str());
    assert_eq!(v["product"]["name"], "智能电饭煲");
    assert_eq!(
        v["quality"]["complaints_last_12_months"], 0,
        "no complaints filed"
    );
    assert_eq!(v["complain"]["phone"], "12315");

    // HTML (zh by default, English on request), no login.
    let html = app.get(&local(&uris[0]), None).await;
    assert_eq!(html.status, StatusCode::OK);
    let t = html.text();
    assert!(t.contains("正品 · 有效") && t.contains("12315") && t.contains("暂无数据"));
    assert!(!t.contains("<script src"));
    // A consumer's page: brand, a tappable 12315 and the page's own language switch (which
    // keeps the signature); no site navigation or policy banners above the verdict.
    assert!(t.contains("href=\"tel:12315\""), "{t}");
    assert!(
        !t.contains("id=\"site-nav\"")
            && !t.contains("policy-notice")
            && !t.contains("id=\"lang-switch\"")
    );
    assert!(t.contains("id=\"scan-lang-switch\""));
    let en = app.get(&format!("{}&lang=en", local(&uris[0])), None).await;
    assert!(en.text().contains("Genuine and valid"));

    // Linkset by parameter and by Accept.
    let ls = app
        .get(&format!("{}&linkType=linkset", local(&uris[1])), None)
        .await;
    assert_eq!(ls.status, StatusCode::OK);
    assert_eq!(
        ls.headers.get("content-type").unwrap(),
        "application/linkset+json"
    );
    let set = &ls.json()["linkset"][0];
    assert_eq!(set["anchor"], uris[1].as_str());
    assert!(set["https://gs1.org/voc/defaultLink"][0]["href"].is_string());
    let req = Request::get(local(&uris[1]))
        .header("accept", "application/linkset+json")
        .body(Body::empty())
        .unwrap();
    assert!(app.request(req).await.json()["linkset"].is_array());

    // Malformed → 400; tampered signature → its own verdict; unknown code → 404.
    let bad = scan_json(&app, "http://x/01/06901234567892/21/abc?s=!!").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // Change a character inside the signature bytes (the last 64 bytes of the COSE_Sign1), not
    // the final one: the final character's low bits must be zero in strict base64url, so
    // changing it can make the code malformed instead of wrongly signed.
    let mut chars: Vec<char> = uris[2].chars().collect();
    let at = chars.len() - 5;
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let t = scan_json(&app, &tampered).await;
    assert_eq!(t.json()["verdict"], "signature_invalid", "{}", t.text());
    let serial = uris[3]
        .split("/21/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    sqlx::query("DELETE FROM codes WHERE serial = $1")
        .bind(serial)
        .execute(app.store.pool())
        .await
        .unwrap();
    let unknown = scan_json(&app, &uris[3]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["verdict"], "unknown_code");
}

#[tokio::test]
async fn precheck_blocks_unresolved_failures_and_auto_approves_clean_products() {
    let app = TestApp::spawn().await;
    let s = setup(&app, 302, None).await;
    let rule = app
        .send_json(
            "PUT",
            "/api/v1/codes/approval-rule",
            Some(&s.reg),
            &json!({"auto_approve": true}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::OK, "{}", rule.text());
    let as_ent = app
        .send_json(
            "PUT",
            "/api/v1/codes/approval-rule",
            Some(&s.ent),
            &json!({}),
        )
        .await;
    assert_eq!(as_ent.status, StatusCode::FORBIDDEN);
    let recent = (chrono::Utc::now() - chrono::Duration::days(60)).date_naive();
    let fail = json!({"date": recent.to_string(), "kind": "inspection", "agency": "广东省产品质量监督检验研究院",
        "report_no": "GDQ-1", "result": "fail", "failed_items": ["电气安全"], "product_id": s.product_id});
    let r = app
        .post(
            &format!("/api/v1/enterprises/{}/events", s.code),
            Some(&s.reg),
            &fail,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let blocked = app
        .post(
            "/api/v1/codes/applications",
            Some(&s.ent),
            &json!({"product_id": s.product_id, "quantity": 3}),
        )
        .await
        .json();
    assert_eq!(blocked["status"], "pending");
    assert_eq!(blocked["precheck"]["ok"], false);
    assert_eq!(
        blocked["precheck"]["findings"][0]["code"],
        "unresolved_failed_inspection"
    );
    let pass = json!({"date": (recent + chrono::Duration::days(20)).to_string(), "kind": "inspection",
        "agency": "广东省产品质量监督检验研究院", "report_no": "GDQ-2", "result": "pass", "failed_items": [], "product_id": s.product_id});
    app.post(
        &format!("/api/v1/enterprises/{}/events", s.code),
        Some(&s.reg),
        &pass,
    )
    .await;
    let auto = app
        .post(
            "/api/v1/codes/applications",
            Some(&s.ent),
            &json!({"product_id": s.product_id, "quantity": 3}),
        )
        .await
        .json();
    assert_eq!(auto["status"], "approved", "{auto}");
    assert_eq!(auto["auto_approved"], true);
    assert!(auto["series_id"].as_i64().is_some());
    // Non-GS1 product: /p/{id} path, still scannable.
    let csv = app
        .post(
            &format!("/api/v1/codes/series/{}/issue", auto["series_id"]),
            Some(&s.ent),
            &json!({"count": 1}),
        )
        .await
        .text();
    let uri = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    assert!(uri.contains(&format!("/p/{}/21/", s.product_id)), "{uri}");
    assert_eq!(scan_json(&app, &uri).await.json()["verdict"], "valid");

    // A serious penalty blocks too.
    let pen = json!({"date": recent.to_string(), "kind": "penalty", "authority": "佛山市市场监督管理局",
        "decision_no": "佛市监罚〔2026〕1号", "amount": "5万元", "serious": true, "reason": "以次充好"});
    let r = app
        .post(
            &format!("/api/v1/enterprises/{}/events", s.code),
            Some(&s.reg),
            &pen,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let blocked = app
        .post(
            "/api/v1/codes/applications",
            Some(&s.ent),
            &json!({"product_id": s.product_id, "quantity": 3}),
        )
        .await
        .json();
    assert_eq!(blocked["status"], "pending");
    assert_eq!(
        blocked["precheck"]["findings"][0]["code"],
        "serious_penalty"
    );
}

#[tokio::test]
async fn tenants_see_and_touch_only_their_own_codes() {
    let app = TestApp::spawn().await;
    let a = setup(&app, 303, None).await;
    let b = setup(&app, 304, None).await;
    // B cannot apply for A's product (same answer as a missing product).
    let r = app
        .post(
            "/api/v1/codes/applications",
            Some(&b.ent),
            &json!({"product_id": a.product_id, "quantity": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["field"], "product_id");
    let applied = app
        .post(
            "/api/v1/codes/applications",
            Some(&a.ent),
            &json!({"product_id": a.product_id, "quantity": 3}),
        )
        .await
        .json();
    let id = applied["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/codes/applications/{id}"), Some(&b.ent))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(app
        .get("/api/v1/codes/applications", Some(&b.ent))
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    let approved = app
        .post(
            &format!("/api/v1/codes/applications/{id}/decision"),
            Some(&a.reg),
            &json!({"approve": true, "reason": "ok"}),
        )
        .await
        .json();
    let series = approved["series_id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/codes/series/{series}/issue"),
            Some(&b.ent),
            &json!({"count": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Quantity is enforced.
    let r = app
        .post(
            &format!("/api/v1/codes/series/{series}/issue"),
            Some(&a.ent),
            &json!({"count": 4}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    // Revocation and signals are the regulator's; the public needs a token for the API.
    let body = json!({"scope": "enterprise", "action": "revoke", "reason": "x", "uscc": a.code});
    assert_eq!(
        app.post("/api/v1/codes/status", Some(&a.ent), &body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/api/v1/codes/status", None, &body).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/codes/signals", Some(&a.ent)).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn set_status(app: &TestApp, reg: &str, body: Value) -> Value {
    let r = app.post("/api/v1/codes/status", Some(reg), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn revocation_by_code_lot_product_enterprise_and_offline_verification() {
    let app = TestApp::spawn().await;
    let s = setup(&app, 305, Some("06901234567892")).await;
    let lot1 = issue(&app, &s, Some("L1"), 3).await;
    let lot2 = issue(&app, &s, Some("L2"), 2).await;

    // One code: revoked with reason and date → 410, on the very next scan.
    let out = set_status(
        &app,
        &s.reg,
        json!({"scope": "code", "action": "revoke", "reason": "标签被盗用", "uri": lot1[0]}),
    )
    .await;
    assert_eq!(out["changed"], 1);
    let r = scan_json(&app, &lot1[0]).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.json()["verdict"], "revoked");
    assert_eq!(r.json()["reason"], "标签被盗用");
    assert!(r.json()["since"].is_string());
    let html = app.get(&local(&lot1[0]), None).await;
    assert_eq!(html.status, StatusCode::GONE);
    assert!(html.text().contains("标签被盗用"));
    assert_eq!(scan_json(&app, &lot1[1]).await.json()["verdict"], "valid");

    // A lot: suspended, then reinstated.
    let out = set_status(
        &app,
        &s.reg,
        json!({"scope": "lot", "action": "suspend", "reason": "复检中", "product_id": s.product_id, "lot": "L2"}),
    )
    .await;
    assert_eq!(out["changed"], 2);
    assert_eq!(
        scan_json(&app, &lot2[0]).await.json()["verdict"],
        "suspended"
    );
    assert_eq!(scan_json(&app, &lot1[1]).await.json()["verdict"], "valid");
    set_status(
        &app,
        &s.reg,
        json!({"scope": "lot", "action": "reinstate", "reason": "复检合格", "product_id": s.product_id, "lot": "L2"}),
    )
    .await;
    assert_eq!(scan_json(&app, &lot2[0]).await.json()["verdict"], "valid");

    // Offline: key set signed by the root key, status list signed, verified by the library.
    let root = app.get("/.well-known/yuepin/root.json", None).await;
    let root: yuepin_code::RootKeyDocument = serde_json::from_slice(&root.body).unwrap();
    let keys = app.get("/.well-known/yuepin/keys.json", None).await;
    let key_set =
        yuepin_code::SignedKeySet::from_json_verified(&keys.body, &root.verifying_key().unwrap())
            .unwrap();
    let list = app.get("/status/0", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.headers.get("cache-control").unwrap(),
        "public, max-age=900"
    );
    let list = yuepin_code::StatusList::from_signed_token(&list.text(), &key_set).unwrap();
    let now = chrono::Utc::now();
    assert!(matches!(
        yuepin_code::verify(&lot1[0], &key_set, Some(&list), now),
        yuepin_code::Verdict::Revoked { .. }
    ));
    assert_eq!(
        yuepin_code::verify(&lot1[1], &key_set, Some(&list), now),
        yuepin_code::Verdict::Valid
    );
    assert_eq!(
        app.get("/status/7", None).await.status,
        StatusCode::NOT_FOUND
    );

    // A product: recalled; then every code of the enterprise revoked.
    let out = set_status(
        &app,
        &s.reg,
        json!({"scope": "product", "action": "recall", "reason": "存在安全隐患", "product_id": s.product_id}),
    )
    .await;
    assert_eq!(out["changed"], 5);
    let r = scan_json(&app, &lot2[1]).await;
    assert_eq!(r.json()["verdict"], "recalled");
    assert_eq!(r.json()["reason"], "存在安全隐患");
    set_status(
        &app,
        &s.reg,
        json!({"scope": "enterprise", "action": "revoke", "reason": "吊销许可", "uscc": s.code}),
    )
    .await;
    assert_eq!(scan_json(&app, &lot2[1]).await.status, StatusCode::GONE);

    // Every status change is in the audit log.
    let audit = app
        .get("/api/v1/audit?entity=codes", Some(&s.reg))
        .await
        .text();
    assert!(audit.contains("revoke") && audit.contains("recall") && audit.contains("suspend"));
}

#[tokio::test]
async fn scans_in_too_many_cities_are_flagged_with_evidence() {
    let app = TestApp::spawn().await;
    let s = setup(&app, 306, Some("06901234567892")).await;
    let uris = issue(&app, &s, None, 2).await;
    // Four phones in four cities.
    for (i, loc) in ["440100", "440300", "440600", "445100"].iter().enumerate() {
        let r = app
            .get_from(
                &format!("{}&loc={loc}&format=json", local(&uris[0])),
                &format!("198.51.100.{}", i + 1),
            )
            .await;
        assert_eq!(r.json()["verdict"], "valid");
    }
    // A plain scan without consent records no city.
    app.get(&local(&uris[1]), None).await;
    let signals = app.get("/api/v1/codes/signals", Some(&s.reg)).await;
    assert_eq!(signals.status, StatusCode::OK, "{}", signals.text());
    let flags = signals.json()["flags"].as_array().unwrap().clone();
    assert!(!flags.is_empty());
    let f = flags
        .iter()
        .find(|f| f["kind"] == "many_cities_day")
        .unwrap();
    assert_eq!(f["uri"], uris[0].as_str());
    assert_eq!(f["evidence"]["cities"].as_object().unwrap().len(), 4);
    let code_id = f["code_id"].as_i64().unwrap();
    let scans = app
        .get(
            &format!("/api/v1/codes/codes/{code_id}/scans"),
            Some(&s.reg),
        )
        .await
        .json();
    assert_eq!(scans["scans"].as_array().unwrap().len(), 4);
    // The page lists it.
    let page = regulator_page(&app, "reg306", "/codes/signals").await;
    assert!(page.contains("many_cities_day") && page.contains("深圳"));
}

#[tokio::test]
async fn one_client_claiming_many_cities_counts_one() {
    let app = TestApp::spawn().await;
    let s = setup(&app, 307, Some("06901234567892")).await;
    let uris = issue(&app, &s, None, 1).await;
    // One phone claims 广州, 深圳, 东莞 and 佛山 (issue 17: four such scans raised the flag).
    for loc in ["广州", "深圳", "东莞", "佛山"] {
        let r = app
            .get_from(
                &format!(
                    "{}&loc={}&format=json",
                    local(&uris[0]),
                    yuepin_web::page::urlencode(loc)
                ),
                "203.0.113.9",
            )
            .await;
        assert_eq!(r.json()["verdict"], "valid");
    }
    let signals = app.get("/api/v1/codes/signals", Some(&s.reg)).await.json();
    assert!(
        !signals["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "many_cities_day"),
        "{signals}"
    );
    // A client's scans of one code count three times a day (issue 17 item 8, scan_limit.rs);
    // only the first claimed city is recorded.
    let code_id: i64 = sqlx::query_scalar("SELECT id FROM codes")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let list = app
        .get(
            &format!("/api/v1/codes/codes/{code_id}/scans"),
            Some(&s.reg),
        )
        .await
        .json();
    let scans = list["scans"].as_array().unwrap().clone();
    let total: i64 = scans.iter().map(|r| r["scans"].as_i64().unwrap()).sum();
    assert_eq!(total, 3, "{scans:?}");
    let cities: Vec<&str> = scans
        .iter()
        .filter_map(|r| r["city"].as_str())
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(cities, ["440100"], "{scans:?}");
}

#[tokio::test]
async fn signal_thresholds_must_be_positive() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let path = "/api/v1/codes/signal-rule";
    for (field, value) in [
        ("max_cities_per_day", -1),
        ("max_scans_per_day", 0),
        ("max_cities_per_30_days", 1_000_001),
    ] {
        let mut rule =
            json!({"max_cities_per_day": 2, "max_scans_per_day": 30, "max_cities_per_30_days": 4});
        rule[field] = json!(value);
        let r = app.send_json("PUT", path, Some(&reg), &rule).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{field}={value}: {}",
            r.text()
        );
        assert_eq!(r.json()["error"]["field"], field);
    }
    let ok = json!({"max_cities_per_day": 1, "max_scans_per_day": 1, "max_cities_per_30_days": 1});
    let r = app.send_json("PUT", path, Some(&reg), &ok).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.get(path, Some(&reg)).await.json(), ok);
}

async fn cookie_of(app: &TestApp, user: &str) -> String {
    app.session(user).await
}

pub(crate) async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> Resp {
    let req = Request::get(path)
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap();
    app.request(req).await
}

async fn regulator_page(app: &TestApp, user: &str, path: &str) -> String {
    let cookie = cookie_of(app, user).await;
    let r = get_with_cookie(app, path, &cookie).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.text()
}

pub(crate) fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn enterprise_applies_and_regulator_approves_through_pages() {
    let app = TestApp::spawn().await;
    let s = setup(&app, 307, Some("06901234567892")).await;
    let cookie = cookie_of(&app, "ent307").await;
    let page = get_with_cookie(&app, "/codes", &cookie).await.text();
    assert!(page.contains("apply-form") && page.contains("智能电饭煲"));
    let csrf = csrf_of(&page);
    let req = Request::post("/codes/apply")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(Body::from(format!(
            "csrf={csrf}&product_id={}&lot=L9&quantity=50&note=",
            s.product_id
        )))
        .unwrap();
    let r = app.request(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // Without the CSRF token: refused.
    let req = Request::post("/codes/apply")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(Body::from(format!(
            "product_id={}&quantity=5",
            s.product_id
        )))
        .unwrap();
    assert_eq!(app.request(req).await.status, StatusCode::FORBIDDEN);

    let rc = cookie_of(&app, "reg307").await;
    let queue = get_with_cookie(&app, "/codes", &rc).await.text();
    assert!(queue.contains("data-status=\"pending\"") && queue.contains("通过"));
    let id = app
        .get("/api/v1/codes/applications", Some(&s.reg))
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();
    let req = Request::post(format!("/codes/applications/{id}/decide"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &rc)
        .body(Body::from(format!(
            "csrf={}&decision=approve&reason=",
            csrf_of(&queue)
        )))
        .unwrap();
    assert_eq!(app.request(req).await.status, StatusCode::SEE_OTHER);
    let a = app
        .get(&format!("/api/v1/codes/applications/{id}"), Some(&s.ent))
        .await
        .json();
    assert_eq!(a["status"], "approved");
    assert_eq!(a["lot"], "L9");
}

/// The manufacturer's flow in pages: the approved series links to its page; a bad count is
/// refused on the same page with the count kept and the reason in the page's language; a good
/// one issues and returns with the progress; labels download as PDF (A4 and roll) and the code
/// list as CSV with Chinese headers; another enterprise gets 404 for all of it.
#[tokio::test]
async fn enterprise_issues_codes_and_downloads_labels_through_pages() {
    let app = TestApp::spawn().await;
    let s = setup(&app, 308, None).await;
    let applied = app
        .post(
            "/api/v1/codes/applications",
            Some(&s.ent),
            &json!({"product_id": s.product_id, "lot": "2026B1", "quantity": 30}),
        )
        .await;
    let id = applied.json()["id"].as_i64().unwrap();
    let approved = app
        .post(
            &format!("/api/v1/codes/applications/{id}/decision"),
            Some(&s.reg),
            &json!({"approve": true, "reason": "记录良好"}),
        )
        .await;
    let series = approved.json()["series_id"].as_i64().unwrap();
    let cookie = cookie_of(&app, "ent308").await;
    let home = get_with_cookie(&app, "/codes", &cookie).await.text();
    assert!(
        home.contains(&format!("href=\"/codes/series/{series}\"")),
        "{home}"
    );
    assert!(
        !home.contains("POST /api/v1"),
        "no API instructions on the page"
    );
    let path = format!("/codes/series/{series}");
    let page = get_with_cookie(&app, &path, &cookie).await.text();
    assert!(
        page.contains("id=\"issue-form\"") && page.contains("已签发 0 / 批准 30"),
        "{page}"
    );
    let post = |body: String| {
        Request::post(format!("{path}/issue"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .body(Body::from(body))
            .unwrap()
    };
    let csrf = csrf_of(&page);
    for (typed, reason) in [
        ("0", "数量须为不小于1的整数"),
        ("abc", "数量须为不小于1的整数"),
        ("31", "本码段还可签发30个，您填写了31个"),
    ] {
        let refused = app
            .request(post(format!("csrf={csrf}&count={typed}")))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{typed}");
        let html = refused.text();
        assert!(
            html.contains("id=\"error-summary\"") && html.contains(reason),
            "{typed}: {html}"
        );
        assert!(
            html.contains(&format!("value=\"{typed}\"")),
            "{typed}: the input is kept"
        );
    }
    let done = app.request(post(format!("csrf={csrf}&count=13"))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let next = done
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let page = get_with_cookie(&app, &next, &cookie).await.text();
    assert!(
        page.contains("id=\"issued-now\"") && page.contains("已签发 13 / 批准 30"),
        "{page}"
    );
    assert!(page.contains("第1–13个"), "{page}");

    for layout in ["a4", "roll"] {
        let pdf = get_with_cookie(
            &app,
            &format!("{path}/labels.pdf?layout={layout}&from=1"),
            &cookie,
        )
        .await;
        assert_eq!(pdf.status, StatusCode::OK, "{layout}");
        assert_eq!(pdf.headers["content-type"], "application/pdf");
        assert!(pdf.body.starts_with(b"%PDF-"), "{layout}");
    }
    let csv = get_with_cookie(&app, &format!("{path}/codes.csv?from=1"), &cookie).await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.text();
    assert!(
        text.starts_with("\u{feff}序号,码URI,产品,生产企业,批次,序列号,签发日期"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 14);
    assert!(text.contains(",有效,"), "status in words: {text}");
    let x = get_with_cookie(&app, &format!("{path}/codes.xlsx?from=1&lang=en"), &cookie).await;
    assert_eq!(x.status, StatusCode::OK);
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(x.body.clone())).unwrap();
    let rows = calamine::Reader::worksheet_range(&mut wb, "codes").unwrap();
    assert_eq!(rows.get((0, 7)).unwrap().to_string(), "Status");
    assert_eq!(rows.get((1, 7)).unwrap().to_string(), "valid");
    let bad = get_with_cookie(&app, &format!("{path}/labels.pdf?layout=poster"), &cookie).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Another enterprise: no such series, whatever it asks for.
    let other = setup(&app, 309, None).await;
    let _ = other;
    let stranger = cookie_of(&app, "ent309").await;
    for p in [
        path.clone(),
        format!("{path}/labels.pdf"),
        format!("{path}/codes.csv"),
        format!("{path}/codes.xlsx"),
    ] {
        let r = get_with_cookie(&app, &p, &stranger).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{p}");
    }
}

#[tokio::test]
async fn scan_page_opens_in_chromium() {
    let app = TestApp::spawn().await;
    let s = setup(&app, 308, Some("06901234567892")).await;
    let uris = issue(&app, &s, Some("20261126GZ01"), 1).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let _server = tokio::spawn(yuepin_web::serve_router(listener, app.router.clone()));
    let Some((_driver, client)) = crate::browser::start_browser().await else {
        return;
    };
    client
        .goto(&format!("{base}{}", local(&uris[0])))
        .await
        .unwrap();
    let verdict = client
        .wait()
        .for_element(fantoccini::Locator::Id("verdict-title"))
        .await
        .unwrap();
    assert_eq!(verdict.text().await.unwrap(), "正品 · 有效");
    let producer = client
        .find(fantoccini::Locator::Id("producer-name"))
        .await
        .unwrap();
    assert_eq!(producer.text().await.unwrap(), "佛山市粤品308电器有限公司");
    // Consent to share the city: the form re-opens the page with ?loc=.
    client
        .find(fantoccini::Locator::Id("share-city-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..50 {
        let url = client.current_url().await.unwrap();
        if url.query().unwrap_or("").contains("loc=44") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let share = client
        .wait()
        .for_element(fantoccini::Locator::Id("share-city"))
        .await
        .unwrap();
    assert!(share.text().await.unwrap().contains("已记录"));
    client
        .find(fantoccini::Locator::Id("scan-lang-switch"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let verdict = client
        .wait()
        .for_element(fantoccini::Locator::Id("verdict-title"))
        .await
        .unwrap();
    assert_eq!(verdict.text().await.unwrap(), "Genuine and valid");
    client.close().await.unwrap();
}
