//! Nothing is found by guessing (issue 17 item 6): a lab report is verified with its number
//! and its unguessable token, and without the token it is as unknown as a number never issued;
//! an enterprise user asking for another enterprise gets the same 404 as for a missing one.

use crate::helpers::{uscc, Resp, TestApp};
use crate::labs::{act, setup};
use axum::http::StatusCode;
use serde_json::json;

/// The error body with the asked-for key replaced, to compare two 404s.
fn shape(r: &Resp, key: &str) -> String {
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    r.text().replace(key, "KEY")
}

#[tokio::test]
async fn a_report_is_verified_only_with_its_token() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let r = app
        .post(
            "/api/v1/labs/orders",
            Some(&fx.ent1),
            &json!({"service_id": fx.service, "samples": 1}),
        )
        .await;
    let o = r.json()["id"].as_i64().unwrap();
    act(
        &app,
        &fx.lab1,
        o,
        json!({"action": "quote", "amount": "800"}),
    )
    .await;
    act(&app, &fx.ent1, o, json!({"action": "accept"})).await;
    for a in ["receive_sample", "start_testing"] {
        act(&app, &fx.lab1, o, json!({"action": a})).await;
    }
    let results = json!({"action": "record_results", "results": {"passed": true}});
    act(&app, &fx.lab1, o, results).await;
    act(&app, &fx.lab2, o, json!({"action": "verify"})).await;
    let r = act(&app, &fx.lab2, o, json!({"action": "issue_report"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let number = r.json()["reports"][0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let token = r.json()["reports"][0]["verify_token"]
        .as_str()
        .unwrap()
        .to_string();
    // 128 bits or more, base64url.
    assert!(token.len() >= 22, "{token}");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));

    let never = number.replace("-0001", "-0002");
    let api = |n: &str, q: &str| format!("/api/v1/labs/reports/{n}{q}");
    let unknown = shape(&app.get(&api(&never, ""), None).await, &never);
    let wrong = format!("?token={}", "A".repeat(token.len()));
    for q in ["", "?token=", wrong.as_str()] {
        let r = app.get(&api(&number, q), None).await;
        assert_eq!(shape(&r, &number), unknown, "{q}");
    }
    assert_eq!(
        shape(
            &app.get(&api(&never, &format!("?token={token}")), None)
                .await,
            &never
        ),
        unknown
    );
    let ok = app
        .get(&api(&number, &format!("?token={token}")), None)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["passed"], true);

    // The page likewise, and the link printed on it (its QR) and on the order pages carries
    // the token.
    for q in ["", wrong.as_str()] {
        let page = app.get(&format!("/labs/reports/{number}{q}"), None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{q}");
    }
    let page = app
        .get(&format!("/labs/reports/{number}?token={token}"), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let link = format!("/labs/reports/{number}?token={token}");
    let mine = app.get("/labs/my", Some(&fx.ent1)).await;
    assert!(mine.text().contains(&link), "{}", mine.text());
}

#[tokio::test]
async fn another_enterprise_looks_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let (other, missing) = (uscc(2), uscc(99));
    for path in [
        "/enterprises/{}",
        "/policy/enterprises/{}",
        "/api/v1/policy/enterprises/{}",
        "/api/v1/labs/savings?uscc={}",
        "/api/v1/enterprises/{}",
    ] {
        let ask = |code: &str| path.replace("{}", code);
        let theirs = app.get(&ask(&other), Some(&fx.ent1)).await;
        let none = app.get(&ask(&missing), Some(&fx.ent1)).await;
        assert_eq!(
            theirs.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            theirs.text()
        );
        assert_eq!(shape(&theirs, &other), shape(&none, &missing), "{path}");
        // Its own still opens, and signed-out callers are asked to sign in either way.
        let own = app.get(&ask(&fx.uscc1), Some(&fx.ent1)).await;
        assert_eq!(own.status, StatusCode::OK, "{path}: {}", own.text());
        if path.starts_with("/api/") {
            for code in [&other, &missing] {
                let anon = app.get(&ask(code), None).await;
                assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{path}");
            }
        }
    }
    // Administrators still learn that a code is unknown.
    let r = app
        .get(&format!("/api/v1/enterprises/{missing}"), Some(&fx.reg))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
