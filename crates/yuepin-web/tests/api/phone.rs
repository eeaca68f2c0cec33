//! Every page in every role's navigation, in headless Chromium as a phone (360 × 740, a WeChat
//! user agent) and as a desktop (1366 × 900): it opens (no error page) and nothing is wider
//! than the screen (`scrollWidth` ≤ the viewport), and axe-core (npm, injected into the page)
//! finds no serious or critical accessibility violation (WCAG 2.1 AA: contrast, labels,
//! landmarks, language). The data: 300 synthetic enterprises with products and quality
//! events, and one account per role (issue #16 items 6 and the Tests section).

use crate::browser::{axe_source, axe_violations, start_browser_sized};
use crate::helpers::TestApp;
use fantoccini::Locator;
use yuepin_domain::Caller;
use yuepin_enterprises_service::{EnterprisesService, NewAccount};

async fn seed(app: &TestApp) -> String {
    let data = yuepin_demo::generate(2023, 300);
    let registry = EnterprisesService::new(app.store.clone());
    let actor = yuepin_store::Actor::cli("test");
    registry
        .import_enterprises(actor.clone(), &data.enterprises, "phone", |_| {})
        .await
        .unwrap();
    registry
        .import_products(actor.clone(), &data.products, "phone", |_| {})
        .await
        .unwrap()
        .unwrap();
    let events: Vec<_> = data
        .events
        .into_iter()
        .map(|r| (r.event, r.product_model))
        .collect();
    registry
        .import_events(actor, &events, "phone", |_| {})
        .await
        .unwrap()
        .unwrap();
    let uscc = data.enterprises[0].uscc.to_string();
    for role in ["regulator", "enterprise", "bank", "lab", "expert"] {
        registry
            .create_account(
                &Caller::system(),
                NewAccount {
                    username: format!("{role}-phone"),
                    display_name: format!("{role} 测试"),
                    password: format!("{role}-phone-password-1"),
                    role: role.into(),
                    enterprise_uscc: (role == "enterprise").then(|| uscc.clone()),
                },
            )
            .await
            .unwrap();
    }
    uscc
}

#[tokio::test]
async fn navigation_pages_fit_a_phone_and_a_desktop() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(yuepin_web::serve_router(listener, app.router.clone()));
    let axe = axe_source();
    let mut violations: Vec<String> = Vec::new();
    let mut checked = 0;
    for phone in [Some((360, 740)), None] {
        for role in [
            None,
            Some("regulator"),
            Some("enterprise"),
            Some("bank"),
            Some("lab"),
            Some("expert"),
        ] {
            let Some((_driver, client)) = start_browser_sized(phone).await else {
                return;
            };
            if let Some(role) = role {
                client.goto(&format!("{base}/login")).await.unwrap();
                // The sign-in page once per screen size.
                if let Some(axe) = axe.as_ref().filter(|_| role == "regulator") {
                    let at = format!("/login at {phone:?}");
                    violations.extend(axe_violations(&client, axe, &at).await);
                }
                let user = format!("{role}-phone");
                client
                    .find(Locator::Id("username"))
                    .await
                    .unwrap()
                    .send_keys(&user)
                    .await
                    .unwrap();
                client
                    .find(Locator::Id("password"))
                    .await
                    .unwrap()
                    .send_keys(&format!("{role}-phone-password-1"))
                    .await
                    .unwrap();
                client
                    .find(Locator::Id("login-submit"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                // The sign-in page has a navigation too: wait until the browser has left it,
                // so the role's own navigation is the one crawled.
                for _ in 0..100 {
                    let url = client.current_url().await.unwrap();
                    if !url.path().starts_with("/login") {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                client
                    .wait()
                    .for_element(Locator::Id("site-nav"))
                    .await
                    .unwrap();
                assert!(
                    client.find(Locator::Id("logout")).await.is_ok(),
                    "{role} is signed in"
                );
            } else {
                client.goto(&format!("{base}/")).await.unwrap();
            }
            let nav = client
                .execute(
                    "return [...document.querySelectorAll('#site-nav a')].map(a => a.getAttribute('href'))",
                    vec![],
                )
                .await
                .unwrap();
            let links: Vec<String> = serde_json::from_value(nav).unwrap();
            assert!(links.len() >= 4, "{role:?}: {links:?}");
            for link in links {
                client.goto(&format!("{base}{link}")).await.unwrap();
                let probe = client
                    .execute(
                        "return [document.documentElement.scrollWidth, window.innerWidth, document.title]",
                        vec![],
                    )
                    .await
                    .unwrap();
                let (scroll, inner, title): (u64, u64, String) =
                    serde_json::from_value(probe).unwrap();
                let at = format!("{role:?} {link} at {phone:?}");
                if let Some((width, _)) = phone {
                    assert_eq!(inner, u64::from(width), "{at}: the phone is emulated");
                }
                assert!(
                    scroll <= inner,
                    "{at}: {scroll} px wide in a {inner} px viewport"
                );
                assert!(
                    !title.starts_with('4') && !title.starts_with('5'),
                    "{at}: error page {title}"
                );
                if let Some(axe) = &axe {
                    violations.extend(axe_violations(&client, axe, &at).await);
                }
                checked += 1;
            }
            client.close().await.unwrap();
        }
    }
    assert!(checked >= 60, "{checked} pages checked");
    assert!(
        violations.is_empty(),
        "axe-core: {} serious or critical violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
    server.abort();
}
