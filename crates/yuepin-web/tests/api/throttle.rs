//! Sign-in throttling that cannot lock everyone out (issue 17 item 2): per-address slow-down,
//! per-account back-off that the owner passes from an address that has not failed, and the
//! client's address taken from `X-Forwarded-For` only behind configured trusted proxies.

use crate::helpers::{Resp, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use yuepin_web::client_addr::TrustedProxies;

/// `POST /api/v1/auth/token` from the peer `peer`, with an `X-Forwarded-For` when given.
async fn token_from(app: &TestApp, peer: &str, xff: Option<&str>, user: &str, pw: &str) -> Resp {
    let mut b = Request::post("/api/v1/auth/token").header("content-type", "application/json");
    if let Some(x) = xff {
        b = b.header("x-forwarded-for", x);
    }
    let mut req = b
        .body(Body::from(
            json!({"username": user, "password": pw}).to_string(),
        ))
        .unwrap();
    let peer: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    app.request(req).await
}

fn retry_after(r: &Resp) -> u64 {
    r.headers
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn failures_from_one_address_lock_no_one_else_out() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    for i in 0..20 {
        let r = token_from(&app, "203.0.113.9", None, &format!("nobody{i}"), "guess").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{i}: {}", r.text());
    }
    // The address is slowed down (seconds, not a quarter of an hour)...
    let slowed = token_from(&app, "203.0.113.9", None, "nobody99", "guess").await;
    assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&slowed) <= 60, "{:?}", slowed.headers);
    // ...and everyone else signs in as before.
    let ok = token_from(
        &app,
        "198.51.100.4",
        None,
        "regulator",
        "regulator-password-1",
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text());
}

#[tokio::test]
async fn the_owner_signs_in_while_an_attacker_is_locked_out_of_the_account() {
    let app = TestApp::spawn().await;
    app.regulator().await;
    for _ in 0..12 {
        let r = token_from(&app, "203.0.113.9", None, "regulator", "guess").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    }
    // The attacker's address waits, even with the right password, at most 15 minutes.
    let locked = token_from(
        &app,
        "203.0.113.9",
        None,
        "regulator",
        "regulator-password-1",
    )
    .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&locked);
    assert!((1..=900).contains(&wait), "{wait}");
    // Wrong guesses from fresh addresses are still checked (and refused)...
    let other = token_from(&app, "192.0.2.50", None, "regulator", "guess").await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST, "{}", other.text());
    // ...and the owner's correct password from their own address works.
    let owner = token_from(
        &app,
        "198.51.100.4",
        None,
        "regulator",
        "regulator-password-1",
    )
    .await;
    assert_eq!(owner.status, StatusCode::CREATED, "{}", owner.text());
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_trusted_proxies() {
    // Without trusted proxies the header is ignored: rotating it does not escape the limit.
    let app = TestApp::spawn().await;
    app.regulator().await;
    for i in 0..20 {
        let xff = format!("192.0.2.{i}");
        let r = token_from(&app, "203.0.113.9", Some(&xff), &format!("n{i}"), "guess").await;
        assert_ne!(r.status, StatusCode::CREATED);
    }
    let r = token_from(&app, "203.0.113.9", Some("192.0.2.200"), "other", "guess").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());

    // Behind the balancer every client has the balancer's peer address; with it trusted, the
    // right-most untrusted entry is the client, so one client's failures slow only that client.
    let app = TestApp::spawn_configured(|c| {
        c.trusted_proxies = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
    })
    .await;
    app.regulator().await;
    for i in 0..20 {
        // The left-most entry is the attacker's own claim and changes every time.
        let xff = format!("192.0.2.{i}, 203.0.113.9");
        let r = token_from(&app, "10.0.0.1", Some(&xff), &format!("x{i}"), "guess").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{i}: {}", r.text());
    }
    let attacker = token_from(&app, "10.0.0.2", Some("203.0.113.9"), "x", "guess").await;
    assert_eq!(attacker.status, StatusCode::TOO_MANY_REQUESTS);
    let ok = token_from(
        &app,
        "10.0.0.1",
        Some("198.51.100.4"),
        "regulator",
        "regulator-password-1",
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text());
}
