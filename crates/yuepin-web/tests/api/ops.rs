//! Operations through the router: request ids (generated, echoed), `/metrics` in Prometheus
//! text with matched-route labels, and who may read `/metrics` (loopback or the token).

use crate::helpers::{Resp, TestApp};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use std::net::SocketAddr;
use tower::ServiceExt;

fn from(addr: &str, path: &str) -> Request<Body> {
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(addr.parse::<SocketAddr>().unwrap()));
    req
}

async fn send(router: &axum::Router, req: Request<Body>) -> Resp {
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024)
        .await
        .unwrap()
        .to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_a_given_one() {
    let app = TestApp::spawn().await;
    let a = app.get("/healthz", None).await;
    let b = app.get("/no/such/page", None).await;
    let id_a = a.headers.get("x-request-id").expect("generated id");
    let id_b = b.headers.get("x-request-id").expect("generated id on 404");
    assert_eq!(id_a.len(), 36, "a UUID: {id_a:?}");
    assert_ne!(id_a, id_b);
    let req = Request::get("/healthz")
        .header("x-request-id", "lb-7f3a-0001")
        .body(Body::empty())
        .unwrap();
    let echoed = app.request(req).await;
    assert_eq!(echoed.status, StatusCode::OK);
    assert_eq!(echoed.headers.get("x-request-id").unwrap(), "lb-7f3a-0001");
}

#[tokio::test]
async fn metrics_from_loopback_list_requests_by_matched_route() {
    let app = TestApp::spawn().await;
    let code = crate::helpers::uscc(77);
    let r = app.get(&format!("/api/v1/enterprises/{code}"), None).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    let m = send(&app.router, from("127.0.0.1:40000", "/metrics")).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text());
    assert!(m.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = m.text();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("yuepin_http_requests_total{")
                && l.contains("route=\"/api/v1/enterprises/{uscc}\"")
                && l.contains("method=\"GET\"")
                && l.contains(&format!("status=\"{}\"", r.status.as_u16()))
        })
        .unwrap_or_else(|| panic!("no request counter for the route:\n{text}"));
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1.0, "{line}");
    // The raw path never becomes a label; the latency histogram has buckets; the pool and the
    // service counters are there.
    assert!(!text.contains(&code), "raw path in labels:\n{text}");
    for needle in [
        "# TYPE yuepin_http_requests_total counter",
        "yuepin_http_request_duration_seconds_bucket{route=\"/api/v1/enterprises/{uscc}\",le=\"",
        "# TYPE yuepin_db_pool_connections gauge",
        "yuepin_db_pool_idle ",
        "yuepin_import_rows_total{dataset=\"enterprises\"}",
        "yuepin_code_scans_total ",
        "yuepin_policy_evaluations_total ",
        "yuepin_complaint_alarm_runs_total ",
    ] {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    // Unknown paths share one label.
    app.get("/definitely/not/a/route/8c1f", None).await;
    let text = send(&app.router, from("[::1]:40000", "/metrics"))
        .await
        .text();
    assert!(text.contains("route=\"unmatched\""), "{text}");
    assert!(!text.contains("8c1f"), "{text}");
}

#[tokio::test]
async fn metrics_are_hidden_from_other_addresses_without_the_token() {
    let app = TestApp::spawn().await;
    let remote = send(&app.router, from("203.0.113.7:5000", "/metrics")).await;
    assert_eq!(remote.status, StatusCode::NOT_FOUND);
    assert!(!remote.text().contains("yuepin_http_requests_total"));
    // No peer address at all (an in-process call) is not loopback either.
    assert_eq!(
        app.get("/metrics", None).await.status,
        StatusCode::NOT_FOUND
    );
    // A proxy on the same host forwards outside callers: loopback is then not enough.
    let mut proxied = from("127.0.0.1:5000", "/metrics");
    proxied
        .headers_mut()
        .insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
    assert_eq!(
        send(&app.router, proxied).await.status,
        StatusCode::NOT_FOUND
    );

    // With a token configured, the token opens it from anywhere; a wrong one does not.
    let dir = tempfile::tempdir().unwrap();
    let router = yuepin_web::router(
        app.store.clone(),
        yuepin_web::WebConfig {
            data_dir: dir.path().to_path_buf(),
            metrics_token: Some("scrape-secret-1".into()),
            ..yuepin_web::WebConfig::default()
        },
    );
    let with = |token: &str| {
        let mut req = from("203.0.113.7:5000", "/metrics");
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        req
    };
    assert_eq!(
        send(&router, with("scrape-secret-2")).await.status,
        StatusCode::NOT_FOUND
    );
    let ok = send(&router, with("scrape-secret-1")).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.text().contains("yuepin_http_requests_total"));
}
