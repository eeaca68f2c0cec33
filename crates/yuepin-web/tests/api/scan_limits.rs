//! Issue 17 item 8: anonymous 粤品通 scans are bounded per client (its address behind the
//! trusted proxies): 60 a minute, then 429 in the documented JSON shape with `Retry-After`
//! (and a 429 page for browsers); one client's burst of scans of a code counts three times,
//! so it cannot raise `many_scans_day` alone, while other clients are untouched.

use crate::codes::{issue, local, setup};
use crate::helpers::TestApp;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn one_clients_burst_is_limited_and_raises_no_signal() {
    let app = TestApp::spawn().await;
    let s = setup(&app, 309, Some("06901234567892")).await;
    let uris = issue(&app, &s, None, 1).await;
    let rule =
        json!({"max_cities_per_day": 3, "max_scans_per_day": 5, "max_cities_per_30_days": 4});
    let r = app
        .send_json("PUT", "/api/v1/codes/signal-rule", Some(&s.reg), &rule)
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let url = format!("{}&format=json", local(&uris[0]));
    for i in 0..60 {
        let r = app.get_from(&url, "203.0.113.50").await;
        assert_eq!(r.status, StatusCode::OK, "scan {i}: {}", r.text());
    }
    let r = app.get_from(&url, "203.0.113.50").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "too_many_attempts");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let page = app.get_from(&local(&uris[0]), "203.0.113.50").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // Another phone is untouched.
    let r = app.get_from(&url, "203.0.113.51").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // 61 scans from one client: none of the flags (more than 5 scans a day) is raised.
    let signals = app.get("/api/v1/codes/signals", Some(&s.reg)).await.json();
    assert!(
        !signals["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "many_scans_day"),
        "{signals}"
    );
    // Six clients each scanning once still raise it.
    for i in 1..=5 {
        let r = app.get_from(&url, &format!("198.51.100.{i}")).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let signals = app.get("/api/v1/codes/signals", Some(&s.reg)).await.json();
    assert!(
        signals["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "many_scans_day"),
        "{signals}"
    );
}
