//! The access matrix (issue 17): every route the router sources register, pages and API (read
//! from `src/**/*.rs` as the OpenAPI check does), requested by every kind of caller — signed
//! out, an enterprise that is a stranger to the objects named, a bank without consent, a lab,
//! an expert, the regulator — against one fixture whose objects belong to enterprise B. It
//! checks what must hold everywhere (no answer is a 5xx; a signed-out caller gets a 2xx only
//! from a route listed public here; the stranger gets no 2xx from a route naming B's credit
//! code) and compares every answer with the kept matrix `access_matrix.txt`, so a route added
//! without a line, or a change in who may do what, fails until the matrix is reviewed and
//! rewritten (`YUEPIN_UPDATE_ACCESS_MATRIX=1`).
//!
//! Reads use the fixture's real ids (each object is the first of its kind, so `{id}` is 1);
//! writes name ids that do not exist and send an empty body, so no write of the run can
//! destroy the fixture that the later rows depend on.

use crate::helpers::{session_pair, uscc, TestApp};
use crate::labs::{china_day, instrument_json, lab_json};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use std::fmt::Write as _;

const GOLDEN: &str = "tests/api/access_matrix.txt";

/// Routes that answer a signed-out caller with a 2xx: the public pages, the public catalogues
/// (labs, their instruments and services, the hospital's knowledge base) and verification.
const PUBLIC: &[&str] = &[
    "/",
    "/.well-known/yuepin/keys.json",
    "/.well-known/yuepin/root.json",
    "/api/v1/auth/token",
    "/api/v1/credit/keys",
    "/api/v1/credit/log/checkpoint",
    "/api/v1/credit/log/consistency",
    "/api/v1/credit/log/entries",
    "/api/v1/credit/log/verify",
    "/api/v1/hospital/knowledge",
    "/api/v1/labs",
    "/api/v1/labs/availability",
    "/api/v1/labs/catalogue",
    "/api/v1/labs/feeds",
    "/api/v1/labs/instruments",
    "/api/v1/labs/instruments/{id}",
    "/api/v1/labs/one-stop",
    "/api/v1/labs/services",
    "/api/v1/labs/{id}",
    "/api/v1/openapi.json",
    "/api/v1/policy/check",
    "/api/v1/policy/measures",
    "/api/v1/policy/what-if",
    "/api/v1/public/warnings",
    "/api/v1/reference/cities",
    "/api/v1/reference/designations",
    "/api/v1/reference/divisions",
    "/api/v1/reference/measures",
    "/healthz",
    "/hospital/knowledge",
    "/labs",
    "/labs/instruments/{id}",
    "/labs/search",
    "/login",
    "/login/code",
    "/measures/{n}",
    "/policy",
    "/policy/check",
    "/policy/what-if",
    "/warnings",
    "/warnings.atom",
    "/warnings/{id}",
];

struct Who {
    name: &'static str,
    token: Option<String>,
    cookie: Option<String>,
}

struct Fixture {
    who: Vec<Who>,
    b: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let reg = app.regulator().await;
    // B first, so that B's objects are the first of their kind: `{id}` = 1 names them.
    let b = uscc(2);
    app.create_enterprise(&reg, &b, "乙电子科技有限公司").await;
    app.create_enterprise(&reg, &uscc(1), "甲精密制造有限公司")
        .await;
    let product = app
        .post(
            &format!("/api/v1/enterprises/{b}/products"),
            Some(&reg),
            &json!({"name": "智能电饭煲", "brand": "粤禾", "model": "RC-1", "category": "家用电器"}),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.text());
    let product_id = product.json()["id"].as_i64().unwrap();
    let entb = app.user_token("entb", "enterprise", Some(&b)).await;
    let applied = app
        .post(
            "/api/v1/codes/applications",
            Some(&entb),
            &json!({"product_id": product_id, "quantity": 3}),
        )
        .await;
    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.text());

    let lab = app
        .post("/api/v1/labs", Some(&reg), &lab_json("GDQTC"))
        .await;
    assert_eq!(lab.status, StatusCode::CREATED, "{}", lab.text());
    let lab_id = lab.json()["id"].as_i64().unwrap();
    let labx = app.user_token("labx", "lab", None).await;
    let staff = app
        .post(
            &format!("/api/v1/labs/{lab_id}/staff"),
            Some(&reg),
            &json!({"username": "labx"}),
        )
        .await;
    assert_eq!(staff.status, StatusCode::OK, "{}", staff.text());
    let inst = app
        .post(
            &format!("/api/v1/labs/{lab_id}/instruments"),
            Some(&labx),
            &instrument_json("盐雾试验箱", "盐雾试验"),
        )
        .await;
    assert_eq!(inst.status, StatusCode::CREATED, "{}", inst.text());
    let day = china_day(3);
    let booked = app
        .post(
            "/api/v1/labs/bookings",
            Some(&entb),
            &json!({"parts": [{"instrument_id": inst.json()["id"], "start": format!("{day} 10:00"), "minutes": 60}]}),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text());

    let expert = app.user_token("hx1", "expert", None).await;
    let (hospital_id, _) = crate::hospital::hospital_with_expert(app, "hx1").await;
    let case = app
        .post(
            "/api/v1/hospital/cases",
            Some(&entb),
            &json!({"hospital_id": hospital_id, "title": "插座温升超标", "product": "转换插座",
                    "problem_type": "不合格整改", "description": "抽查不合格", "priority": "high"}),
        )
        .await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.text());

    let stranger = app.user_token("enta", "enterprise", Some(&uscc(1))).await;
    let bank = app.user_token("bankx", "bank", None).await;
    let mut who = vec![Who {
        name: "anon",
        token: None,
        cookie: None,
    }];
    for (name, user, token) in [
        ("stranger", "enta", stranger),
        ("bank", "bankx", bank),
        ("lab", "labx", labx),
        ("expert", "hx1", expert),
        ("regulator", "regulator", reg),
    ] {
        who.push(Who {
            name,
            token: Some(token),
            cookie: Some(session(app, user).await),
        });
    }
    Fixture { who, b }
}

async fn session(app: &TestApp, user: &str) -> String {
    let r = app
        .sign_in(&format!("username={user}&password={user}-password-1"), None)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{user}: {}", r.text());
    session_pair(&r).expect("a session cookie")
}

/// The path with its parameters filled: B's objects for reads, missing ones for writes.
fn fill(path: &str, b: &str, write: bool) -> String {
    let id = if write { "999999" } else { "1" };
    let user = if write { "no-such-user" } else { "entb" };
    path.replace("{uscc}", b)
        .replace("{id}", id)
        .replace("{username}", user)
        .replace("{action}", "cancel")
        .replace("{gtin}", "06901234567892")
        .replace("{lot}", "L1")
        .replace("{serial}", "S1")
        .replace("{number}", "YP-GDQTC-20260101-0001")
        .replace("{n}", "6")
        .replace("{list_id}", "1")
}

async fn answer(app: &TestApp, who: &Who, method: &str, path: &str) -> StatusCode {
    let api = path.starts_with("/api/");
    let mut req = Request::builder()
        .method(method.to_ascii_uppercase().as_str())
        .uri(path);
    match (api, &who.token, &who.cookie) {
        (true, Some(token), _) => req = req.header("authorization", format!("Bearer {token}")),
        (false, _, Some(cookie)) => req = req.header("cookie", cookie),
        _ => {}
    }
    let body = if method == "get" {
        Body::empty()
    } else if api {
        req = req.header("content-type", "application/json");
        Body::from("{}")
    } else {
        req = req.header("content-type", "application/x-www-form-urlencoded");
        Body::empty()
    };
    app.request(req.body(body).unwrap()).await.status
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_matrix_says() {
    let app = TestApp::spawn().await;
    let fx = fixture(&app).await;
    let routes = crate::routes_src::source_routes(|_| true);
    // Reads first, then writes; signing out is left out for the signed-in callers, whose
    // sessions the later rows still use.
    let mut ordered: Vec<&(String, String)> = routes.iter().filter(|(m, _)| m == "get").collect();
    ordered.extend(routes.iter().filter(|(m, _)| m != "get"));

    let mut matrix = String::new();
    let _ = writeln!(
        matrix,
        "# route × caller → status; see access_matrix.rs. Callers: {}",
        fx.who.iter().map(|w| w.name).collect::<Vec<_>>().join(", ")
    );
    let mut broken = Vec::new();
    for (method, route) in ordered {
        let write = method != "get";
        let path = fill(route, &fx.b, write);
        let mut line = format!("{:6} {route}", method.to_ascii_uppercase());
        for who in &fx.who {
            if route == "/logout" && who.cookie.is_some() {
                let _ = write!(line, " {}=skip", who.name);
                continue;
            }
            let status = answer(&app, who, method, &path).await;
            let _ = write!(line, " {}={}", who.name, status.as_u16());
            let ok = status.is_success();
            if status.is_server_error() {
                broken.push(format!("{method} {path} as {}: {status}", who.name));
            }
            if ok && who.name == "anon" && !PUBLIC.contains(&route.as_str()) {
                broken.push(format!(
                    "{method} {path} answers a signed-out caller {status} but is not listed public"
                ));
            }
            if ok && who.name == "stranger" && route.contains("{uscc}") && !write {
                broken.push(format!(
                    "{method} {path} shows enterprise B to a stranger enterprise ({status})"
                ));
            }
        }
        matrix.push_str(&line);
        matrix.push('\n');
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));

    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var_os("YUEPIN_UPDATE_ACCESS_MATRIX").is_some() {
        std::fs::write(&golden, &matrix).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(&golden).unwrap_or_default();
    let kept_lines: std::collections::BTreeSet<&str> = kept.lines().collect();
    let new_lines: std::collections::BTreeSet<&str> = matrix.lines().collect();
    let gone: Vec<&&str> = kept_lines.difference(&new_lines).collect();
    let came: Vec<&&str> = new_lines.difference(&kept_lines).collect();
    assert!(
        gone.is_empty() && came.is_empty(),
        "the access matrix changed; review, then rewrite {GOLDEN} with \
         YUEPIN_UPDATE_ACCESS_MATRIX=1.\nkept:\n{}\nnow:\n{}",
        gone.iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
        came.iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}
