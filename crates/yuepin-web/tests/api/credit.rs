//! Credit module, black-box through the router on SQLite and PostgreSQL: an enterprise grants
//! a bank a consent (the artefact verifies with the published key), the bank fetches a signed
//! report within the terms, pause/resume/revoke change what the bank may do, other parties
//! get 401/403/404, and the bank proves its log entries against signed checkpoints.

use crate::helpers::{uscc, TestApp};
use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{json, Value};
use yuepin_credit::merkle::{self, Hash};
use yuepin_credit::Artefact;

struct Fx {
    a: String,
    b: String,
    x: String,
    y: String,
    lab: String,
    bank_x: i64,
}

async fn setup(app: &TestApp) -> Fx {
    let reg = app.regulator().await;
    app.create_enterprise(&reg, &uscc(1), "甲精密制造有限公司")
        .await;
    app.create_enterprise(&reg, &uscc(2), "乙电子科技有限公司")
        .await;
    let a = app.user_token("enta", "enterprise", Some(&uscc(1))).await;
    let b = app.user_token("entb", "enterprise", Some(&uscc(2))).await;
    let x = app.user_token("bankx", "bank", None).await;
    let y = app.user_token("banky", "bank", None).await;
    let lab = app.user_token("lab1", "lab", None).await;
    let dir = tempfile::tempdir().unwrap();
    let credit = yuepin_credit_service::CreditService::new(app.store.clone(), dir.path().into());
    let op = yuepin_domain::Caller::cli("test");
    let bx = credit
        .create_bank(&op, "ICBC-GD", "工商银行广东省分行")
        .await
        .unwrap();
    let by = credit
        .create_bank(&op, "CMB-SZ", "招商银行深圳分行")
        .await
        .unwrap();
    credit.bind_bank_staff(&op, bx.id, "bankx").await.unwrap();
    credit.bind_bank_staff(&op, by.id, "banky").await.unwrap();
    Fx {
        a,
        b,
        x,
        y,
        lab,
        bank_x: bx.id,
    }
}

fn yesterday() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string()
}

fn grant(bank: i64, max: u32) -> Value {
    json!({
        "bank_id": bank, "purpose": "quality_loan", "categories": ["grade", "inspections"],
        "data_from": "2024-01-01", "data_to": yesterday(), "max_fetches": max,
        "retention_days": 90, "valid_days": 30
    })
}

fn fetch() -> Value {
    json!({"categories": ["grade"], "data_from": "2025-01-01", "data_to": yesterday()})
}

async fn key(app: &TestApp) -> ed25519_dalek::VerifyingKey {
    let keys = app.get("/api/v1/credit/keys", None).await;
    assert_eq!(keys.status, StatusCode::OK);
    let x = keys.json()["keys"][0]["x"].as_str().unwrap().to_string();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(x)
        .unwrap();
    ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().unwrap()).unwrap()
}

#[tokio::test]
async fn consents_reports_and_proofs_over_http() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let vk = key(&app).await;

    // Only the enterprise grants; the tax category is refused by name.
    let mut taxed = grant(fx.bank_x, 3);
    taxed["categories"] = json!(["grade", "tax"]);
    let r = app
        .post("/api/v1/credit/consents", Some(&fx.a), &taxed)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"][0]["field"], "categories");
    for t in [&fx.x, &fx.lab] {
        let r = app
            .post("/api/v1/credit/consents", Some(t), &grant(fx.bank_x, 3))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let r = app
        .post("/api/v1/credit/consents", None, &grant(fx.bank_x, 3))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .post("/api/v1/credit/consents", Some(&fx.a), &grant(fx.bank_x, 3))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let c = r.json();
    let id = c["id"].as_str().unwrap().to_string();
    let art = Artefact::verify(
        c["artefact"].as_str().unwrap(),
        c["kid"].as_str().unwrap(),
        &vk,
    )
    .unwrap();
    assert_eq!(art.consent_id.as_str(), id);
    assert_eq!(c["status"], "active");

    // Listing: the bank sees it, the other bank and enterprise do not.
    let list = |t: String| {
        let app = &app;
        async move {
            app.get("/api/v1/credit/consents", Some(&t)).await.json()["consents"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(list(fx.x.clone()).await, 1);
    assert_eq!(list(fx.y.clone()).await, 0);
    assert_eq!(list(fx.b.clone()).await, 0);
    let path = format!("/api/v1/credit/consents/{id}");
    assert_eq!(
        app.get(&path, Some(&fx.y)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&path, Some(&fx.b)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&path, Some(&fx.x)).await.status, StatusCode::OK);

    // Fetching.
    let reports = format!("{path}/reports");
    assert_eq!(
        app.post(&reports, Some(&fx.y), &fetch()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&reports, Some(&fx.a), &fetch()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&reports, None, &fetch()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut lab = fetch();
    lab["categories"] = json!(["lab_reports"]);
    assert_eq!(
        app.post(&reports, Some(&fx.x), &lab).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app.post(&reports, Some(&fx.x), &fetch()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let rep = r.json();
    assert_eq!(rep["report"]["tax"], "official_tax_channel");
    assert_eq!(rep["report"]["fetch_no"], 1);
    assert!(rep["report"]["grade"]["grade"].is_string());
    assert!(rep["report"]["inspections"].is_null(), "not asked for");
    let payload = yuepin_credit::verify_json(rep["signed"].as_str().unwrap(), "C1", &vk).unwrap();
    assert_eq!(payload, rep["json"].as_str().unwrap().as_bytes());

    // The same fetch as PDF (counts a use too).
    let r = app
        .post(&format!("{reports}/pdf"), Some(&fx.x), &fetch())
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    assert!(r.body.starts_with(b"%PDF-"));
    assert_eq!(
        app.post(&format!("{reports}/pdf"), Some(&fx.y), &fetch())
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Pause, resume, revoke: the enterprise only.
    assert_eq!(
        app.post(&format!("{path}/pause"), Some(&fx.x), &json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&format!("{path}/pause"), Some(&fx.b), &json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&format!("{path}/explode"), Some(&fx.a), &json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .post(&format!("{path}/pause"), Some(&fx.a), &json!({}))
        .await;
    assert_eq!(r.json()["status"], "paused");
    assert_eq!(
        app.post(&reports, Some(&fx.x), &fetch()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&format!("{path}/pause"), Some(&fx.a), &json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    app.post(&format!("{path}/resume"), Some(&fx.a), &json!({}))
        .await;
    assert_eq!(
        app.post(&reports, Some(&fx.x), &fetch()).await.status,
        StatusCode::CREATED
    );
    let r = app
        .post(&format!("{path}/revoke"), Some(&fx.a), &json!({}))
        .await;
    assert_eq!(r.json()["status"], "revoked");
    assert_eq!(
        app.post(&reports, Some(&fx.x), &fetch()).await.status,
        StatusCode::FORBIDDEN
    );

    // Grades: the enterprise and the regulator; banks only through reports.
    let g = format!("/api/v1/credit/enterprises/{}/grade", uscc(1));
    assert_eq!(app.get(&g, Some(&fx.a)).await.status, StatusCode::OK);
    assert_eq!(app.get(&g, Some(&fx.x)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&g, Some(&fx.b)).await.status, StatusCode::NOT_FOUND);

    // The bank's entries prove inclusion against the signed checkpoint; an old checkpoint is
    // consistent with the latest.
    let entries = app
        .get("/api/v1/credit/log/entries", Some(&fx.x))
        .await
        .json();
    let entries = entries["entries"].as_array().unwrap().clone();
    assert_eq!(
        entries.len(),
        7,
        "grant, fetch, fetch (PDF), pause, resume, fetch, revoke: {entries:?}"
    );
    let first = yuepin_credit::checkpoint::open(
        app.get("/api/v1/credit/log/checkpoint", Some(&fx.x))
            .await
            .json()["checkpoint"]
            .as_str()
            .unwrap(),
        &vk,
    )
    .unwrap();
    for e in &entries {
        let index = e["index"].as_u64().unwrap();
        let p = app
            .get(
                &format!("/api/v1/credit/log/entries/{index}/proof"),
                Some(&fx.x),
            )
            .await
            .json();
        let cp = yuepin_credit::checkpoint::open(p["checkpoint"].as_str().unwrap(), &vk).unwrap();
        let proof: Vec<Hash> = p["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        let leaf = merkle::leaf_hash(p["entry"]["entry"].as_str().unwrap().as_bytes());
        merkle::verify_inclusion(index, cp.size, &leaf, &proof, &cp.root).unwrap();
        let other = app
            .get(
                &format!("/api/v1/credit/log/entries/{index}/proof"),
                Some(&fx.y),
            )
            .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
    }
    app.post("/api/v1/credit/consents", Some(&fx.b), &grant(fx.bank_x, 1))
        .await;
    let c = app
        .get(
            &format!("/api/v1/credit/log/consistency?first={}", first.size),
            Some(&fx.x),
        )
        .await
        .json();
    let latest = yuepin_credit::checkpoint::open(c["checkpoint"].as_str().unwrap(), &vk).unwrap();
    let proof: Vec<Hash> = c["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    assert!(latest.size > first.size);
    merkle::verify_consistency(first.size, latest.size, &first.root, &latest.root, &proof).unwrap();
    assert_eq!(
        app.get("/api/v1/credit/log/checkpoint", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let reg = app.user_token("reg2", "regulator", None).await;
    let v = app
        .post("/api/v1/credit/log/verify", Some(&reg), &json!({}))
        .await;
    assert_eq!(v.status, StatusCode::OK);
    assert!(v.json()["problem"].is_null());
    assert_eq!(
        app.post("/api/v1/credit/log/verify", Some(&fx.x), &json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

async fn page_with(app: &TestApp, path: &str, cookie: Option<&str>) -> crate::helpers::Resp {
    let mut b = axum::http::Request::get(path);
    if let Some(c) = cookie {
        b = b.header("cookie", c);
    }
    app.request(b.body(axum::body::Body::empty()).unwrap())
        .await
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let i = html.find(marker).unwrap() + marker.len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn the_consent_dashboard_pauses_and_revokes_in_one_click() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let c = app
        .post("/api/v1/credit/consents", Some(&fx.a), &grant(fx.bank_x, 3))
        .await
        .json();
    let id = c["id"].as_str().unwrap().to_string();

    let cookie = app.session("enta").await;
    let page = page_with(&app, "/credit/consents", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains(&id) && html.contains("工商银行广东省分行") && html.contains("暂停"));
    // The grant form is in the page, not in its title.
    assert!(html.contains("<title>数据授权 · 粤品通</title>"), "{html}");
    assert!(html.contains("id=\"grant\""));
    assert!(
        !html.contains(">grade") && !html.contains("inspections,"),
        "categories in words"
    );
    let csrf = csrf_of(&html);
    let post = |action: &'static str, csrf: String| {
        let (app, cookie, id) = (&app, cookie.clone(), id.clone());
        async move {
            let req = axum::http::Request::post(format!("/credit/consents/{id}/{action}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", cookie)
                .body(axum::body::Body::from(format!("csrf={csrf}")))
                .unwrap();
            app.request(req).await
        }
    };
    // Without the CSRF token: refused, nothing changes.
    assert_eq!(
        post("pause", String::new()).await.status,
        StatusCode::FORBIDDEN
    );
    let r = post("pause", csrf.clone()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let after = page_with(&app, "/credit/consents?msg=consent_updated", Some(&cookie))
        .await
        .text();
    assert!(after.contains("授权已更新") && after.contains("已暂停") && after.contains("恢复"));
    assert_eq!(
        app.post(
            &format!("/api/v1/credit/consents/{id}/reports"),
            Some(&fx.x),
            &fetch()
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post("revoke", csrf.clone()).await.status,
        StatusCode::SEE_OTHER
    );
    let after = page_with(&app, "/credit/consents", Some(&cookie))
        .await
        .text();
    assert!(after.contains("已撤回"));

    // Granting through the form: categories are checkboxes, tax is not among them.
    assert!(!after.contains("cat_tax"));
    let form = |extra: &str| {
        format!(
            "csrf={csrf}&bank_id={}&purpose=credit_review&cat_grade=on&cat_lab_reports=on&data_from=2024-01-01&data_to={}&max_fetches=2&min_interval_minutes=0&retention_days=30&valid_days=10{extra}",
            fx.bank_x,
            yesterday()
        )
    };
    let send = |body: String| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let req = axum::http::Request::post("/credit/consents")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", cookie)
                .body(axum::body::Body::from(body))
                .unwrap();
            app.request(req).await
        }
    };
    let r = send(form("")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let mine = app.get("/api/v1/credit/consents", Some(&fx.a)).await.json();
    let newest = &mine["consents"][0];
    assert_eq!(newest["purpose"], "credit_review");
    assert_eq!(newest["categories"], json!(["grade", "lab_reports"]));
    // A tax checkbox smuggled in is refused by name, on the dashboard with the input kept.
    let r = send(form("&cat_tax=on")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("id=\"grant-error\"") && html.contains("数据类别："),
        "{html}"
    );
    assert!(html.contains("name=\"cat_grade\" checked") && html.contains("value=\"2024-01-01\""));
    // A bad number names its field by label, in the page's language only, and keeps the rest.
    let r = send(form("").replace("max_fetches=2", "max_fetches=abc")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("调用次数上限：须为整数"), "{html}");
    assert!(!html.contains("a whole number") && html.contains("value=\"abc\""));
    assert!(html.contains("value=\"credit_review\" selected"));
    assert_eq!(
        app.get("/api/v1/credit/consents", Some(&fx.a)).await.json()["consents"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The bank sees the consent, without the enterprise's buttons; others see nothing of it.
    let bank = app.session("bankx").await;
    let html = page_with(&app, "/credit/consents", Some(&bank))
        .await
        .text();
    assert!(html.contains(&id) && html.contains("甲精密制造有限公司"));
    assert!(!html.contains(&format!("/credit/consents/{id}/")));
    let other = app.session("banky").await;
    assert!(!page_with(&app, "/credit/consents", Some(&other))
        .await
        .text()
        .contains(&id));
    let b = app.session("entb").await;
    assert!(!page_with(&app, "/credit/consents", Some(&b))
        .await
        .text()
        .contains(&id));
    // Signed out: not the page.
    let anon = page_with(&app, "/credit/consents", None).await;
    assert_ne!(anon.status, StatusCode::OK);
}
