//! Issue 17 item 7: strict security headers on every kind of response (a page, a JSON answer,
//! error answers, a static file), HSTS only when the platform is configured for HTTPS, and
//! pages without inline scripts or style elements, so the Content-Security-Policy holds.

use crate::helpers::{Resp, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};

fn header<'a>(r: &'a Resp, name: &str) -> &'a str {
    r.headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} header ({})", r.status))
}

fn assert_strict(r: &Resp, what: &str) {
    let csp = header(r, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{what}: {csp}");
    }
    assert!(!csp.contains("script-src 'self' 'unsafe"), "{what}: {csp}");
    assert_eq!(header(r, "x-frame-options"), "DENY", "{what}");
    assert_eq!(header(r, "x-content-type-options"), "nosniff", "{what}");
    assert!(
        matches!(
            header(r, "referrer-policy"),
            "strict-origin-when-cross-origin" | "no-referrer"
        ),
        "{what}"
    );
}

#[tokio::test]
async fn every_kind_of_response_carries_the_headers() {
    let app = TestApp::spawn().await;
    let page = app.get("/", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_strict(&page, "page");
    let json = app.get("/api/v1/reference/cities", None).await;
    assert_eq!(json.status, StatusCode::OK);
    assert_strict(&json, "JSON");
    let css = app.get("/static/yuepin.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(header(&css, "content-type").starts_with("text/css"));
    assert!(
        css.text().contains(".verdict"),
        "the scan page's styles too"
    );
    assert_strict(&css, "static file");
    for path in ["/no-such-page", "/api/v1/no-such-route", "/api/v1/me"] {
        let err = app.get(path, None).await;
        assert!(err.status.is_client_error(), "{path}: {}", err.status);
        assert_strict(&err, path);
    }
    let too_large = app
        .request(
            Request::post("/api/v1/auth/token")
                .header("content-type", "application/json")
                .header("content-length", yuepin_web::BODY_LIMIT + 1)
                .body(Body::from(vec![b' '; yuepin_web::BODY_LIMIT + 1]))
                .unwrap(),
        )
        .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_strict(&too_large, "413");
    // No HSTS over plain HTTP.
    assert!(page.headers.get("strict-transport-security").is_none());
    assert_eq!(
        header(&page, "referrer-policy"),
        "strict-origin-when-cross-origin"
    );
}

#[tokio::test]
async fn scan_pages_send_no_referrer() {
    let app = TestApp::spawn().await;
    let scan = app.get("/01/06901234567892/21/A1?s=abc", None).await;
    assert_strict(&scan, "scan");
    assert_eq!(header(&scan, "referrer-policy"), "no-referrer");
    let report = app.get("/labs/reports/YP-X-20260101-0001", None).await;
    assert_eq!(header(&report, "referrer-policy"), "no-referrer");
}

#[tokio::test]
async fn hsts_only_when_served_over_https() {
    let app = TestApp::spawn_configured(|c| c.secure_cookies = true).await;
    for path in ["/", "/api/v1/reference/cities", "/no-such-page"] {
        let r = app.get(path, None).await;
        let hsts = header(&r, "strict-transport-security");
        assert!(hsts.starts_with("max-age=31536000"), "{path}: {hsts}");
    }
    // The pre-session cookie is Secure there too.
    let login = app.get("/login", None).await;
    let pre = crate::helpers::set_cookie(&login, "yp_presession").unwrap();
    assert!(pre.contains("Secure"), "{pre}");
}

/// The policy allows no inline script: no template has a `<script>` element, an `on…=`
/// handler or a `javascript:` link, and style elements live in the style sheet.
#[test]
fn templates_have_no_inline_scripts_or_style_elements() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut stack = vec![dir];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            seen += 1;
            let html = std::fs::read_to_string(&p).unwrap().to_lowercase();
            for bad in ["<script", "<style", "javascript:"] {
                assert!(!html.contains(bad), "{} has {bad}", p.display());
            }
            let handler = html.match_indices(" on").any(|(i, _)| {
                let rest = &html[i + 3..];
                let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
                !name.is_empty() && rest[name.len()..].starts_with('=')
            });
            assert!(!handler, "{} has an on…= handler", p.display());
        }
    }
    assert!(seen > 20, "templates found: {seen}");
}
