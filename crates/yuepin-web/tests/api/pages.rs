//! Server-rendered pages: policy home, language switch, directory and enterprise page.

use crate::helpers::{uscc, TestApp};
use axum::http::StatusCode;

#[tokio::test]
async fn home_shows_the_policy_in_chinese_then_english() {
    let app = TestApp::spawn().await;
    let zh = app.get("/", None).await;
    assert_eq!(zh.status, StatusCode::OK);
    let html = zh.text();
    assert!(html.contains("lang=\"zh-CN\""));
    assert!(html.contains("粤市监〔2023〕74号"));
    assert!(html.contains("2026-10-11"));
    for n in 1..=29 {
        assert!(
            html.contains(&format!("href=\"/measures/{n}\"")),
            "measure {n}"
        );
    }
    assert!(html.contains("降低制造业企业交易制度性成本"));
    assert!(html.contains("按职责分工负责"));

    let en = app.get("/?lang=en", None).await;
    assert!(en.text().contains("lang=\"en\""));
    assert!(en.text().contains("Responsible units"));
    let cookie = en.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("yp_lang=en"));

    let m16 = app.get("/measures/16", None).await.text();
    assert!(m16.contains("超过20亿元人民币"));
    assert_eq!(
        app.get("/measures/99", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/no/such/page", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/healthz", None).await.json()["status"], "ok");
    let openapi = app.get("/api/v1/openapi.json", None).await.json();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/v1/enterprises/{uscc}"].is_object());
}

#[tokio::test]
async fn directory_requires_sign_in_and_enterprise_page_shows_quality_file() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let code = uscc(71);
    app.create_enterprise(&reg, &code, "广州市禾川新材料有限公司")
        .await;
    let anon = app.get("/enterprises", None).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert!(anon
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("/login?next="));

    let cookie = app.session("regulator").await;
    let get = |path: &str| {
        axum::http::Request::get(path)
            .header("cookie", cookie.clone())
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let list = app.request(get("/enterprises?city=440300")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text().contains("广州市禾川新材料有限公司"));
    let page = app
        .request(get(&format!("/enterprises/{code}")))
        .await
        .text();
    assert!(page.contains("质量信用档案"));
    assert!(
        page.contains("id=\"complaints-12m\">0<"),
        "complaint count in the quality file"
    );
    assert!(page.contains(&format!("/policy/enterprises/{code}")));
    assert!(page.contains("5000万元"));
    assert!(page.contains("20亿元"));
    assert!(page.contains("专精特新“小巨人”企业"));
    let en = app
        .request(get(&format!("/enterprises/{code}?lang=en")))
        .await
        .text();
    assert!(en.contains("Quality credit file"));

    // An enterprise user cannot open another enterprise's page.
    let other = uscc(72);
    app.create_enterprise(&reg, &other, "另一家企业").await;
    app.user_token("ent", "enterprise", Some(&code)).await;
    let login = app
        .sign_in("username=ent&password=ent-password-1", None)
        .await;
    assert_eq!(
        login.headers.get("location").unwrap(),
        &format!("/enterprises/{code}")
    );
    let c2 = crate::helpers::session_pair(&login).unwrap();
    let req = axum::http::Request::get(format!("/enterprises/{other}"))
        .header("cookie", c2)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.request(req).await.status, StatusCode::NOT_FOUND);
}

/// Every role (and a visitor) sees only navigation links it may open: each answers 200 (a
/// visitor's 303 to sign-in is not offered either), the workbench lists the role's tasks and
/// every task link opens; bank is told plainly that its module is not open.
#[tokio::test]
async fn navigation_links_open_for_every_role() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let code = uscc(73);
    app.create_enterprise(&reg, &code, "佛山市南海区导航测试有限公司")
        .await;
    let mut callers = vec![(String::from("visitor"), None)];
    callers.push(("regulator".into(), Some(reg)));
    for (name, role) in [
        ("ent-nav", "enterprise"),
        ("bank-nav", "bank"),
        ("lab-nav", "lab"),
        ("expert-nav", "expert"),
    ] {
        let enterprise = (role == "enterprise").then_some(code.as_str());
        callers.push((
            role.into(),
            Some(app.user_token(name, role, enterprise).await),
        ));
    }
    // The links inside the element with `id` (the navigation ends at </nav>, the tasks at </ul>).
    let hrefs = |html: &str, id: &str, end: &str| -> Vec<String> {
        let start = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id}"));
        let len = html[start..].find(end).unwrap();
        html[start..start + len]
            .split("href=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    };
    for (role, token) in &callers {
        let home = app.get("/", token.as_deref()).await;
        assert_eq!(home.status, StatusCode::OK);
        let nav = hrefs(&home.text(), "site-nav", "</nav>");
        assert!(nav.len() >= 4, "{role}: {nav:?}");
        for href in &nav {
            let page = app.get(href, token.as_deref()).await;
            assert_eq!(
                page.status,
                StatusCode::OK,
                "{role} → {href}: {}",
                page.text()
            );
        }
        let Some(token) = token else { continue };
        assert!(nav.contains(&"/me".to_string()), "{role}: {nav:?}");
        let me = app.get("/me", Some(token)).await.text();
        let tasks = hrefs(&me, "tasks", "</ul>");
        assert!(!tasks.is_empty(), "{role}");
        for href in &tasks {
            let page = app.get(href, Some(token)).await;
            assert_eq!(page.status, StatusCode::OK, "{role} task → {href}");
        }
        assert_eq!(me.contains("id=\"not-open\""), role == "bank", "{role}");
    }
    assert_eq!(app.get("/me", None).await.status, StatusCode::SEE_OTHER);
}
