//! End to end in headless Chromium (driven through chromedriver): sign in, search the
//! directory, open an enterprise page, switch language. Also the axe-core helpers the
//! navigation crawl (`phone.rs`) runs on every page. Skipped with a notice when Chromium is
//! not installed, except under CI (`CI` set), where it must run.

use crate::helpers::{uscc, TestApp};
use fantoccini::{ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver, or returns None (skip) when it is absent outside CI.
pub async fn start_browser() -> Option<(Driver, fantoccini::Client)> {
    start_browser_sized(None).await
}

/// As [`start_browser`], emulating a phone of `width` × `height` CSS pixels when given (a
/// desktop window otherwise: headless Chromium has no window narrower than 500 px).
pub async fn start_browser_sized(
    phone: Option<(u32, u32)>,
) -> Option<(Driver, fantoccini::Client)> {
    let driver_bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(driver_bin) = driver_bin else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromedriver is required under CI"
        );
        eprintln!("SKIP browser test: chromedriver not installed (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = free_port();
    let child = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let mut caps = serde_json::Map::new();
    let window = if phone.is_some() {
        "--window-size=1366,900"
    } else {
        "--window-size=390,844"
    };
    let mut options = serde_json::json!({
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", window]
    });
    if let Some((width, height)) = phone {
        options["mobileEmulation"] = serde_json::json!({
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0},
            "userAgent": "Mozilla/5.0 (Linux; Android 12) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36 MicroMessenger/8.0.40"
        });
    }
    caps.insert("goog:chromeOptions".into(), options);
    let mut last_err = None;
    for _ in 0..50 {
        match ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return Some((driver, c)),
            Err(e) => {
                last_err = Some(e);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("could not connect to chromedriver: {last_err:?}");
}

/// axe-core's browser build (`axe.min.js`): `YUEPIN_AXE_JS`, or where
/// `.ci/setup-yuepin-web.sh` unpacks it from npm. Absent: a failure under CI (`CI` set), a
/// skip with a notice elsewhere.
pub fn axe_source() -> Option<String> {
    let candidates = std::env::var_os("YUEPIN_AXE_JS")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain([std::path::PathBuf::from(
            "/usr/local/share/yuepin/axe-core/axe.min.js",
        )]);
    for path in candidates {
        if let Ok(source) = std::fs::read_to_string(&path) {
            return Some(source);
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "axe-core is required under CI: run .ci/setup-yuepin-web.sh or set YUEPIN_AXE_JS"
    );
    eprintln!("SKIP axe-core checks: axe.min.js not found (run .ci/setup-yuepin-web.sh as root, or set YUEPIN_AXE_JS)");
    None
}

/// Runs axe-core on the page the browser shows: its serious and critical violations, one line
/// each with the rule, the impact, what it asks for, the elements (CSS selectors) and `at`.
pub async fn axe_violations(client: &fantoccini::Client, axe: &str, at: &str) -> Vec<String> {
    client
        .execute(axe, vec![])
        .await
        .unwrap_or_else(|e| panic!("{at}: injecting axe-core: {e}"));
    let version = client
        .execute(
            "return typeof axe === 'object' ? axe.version : null",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        version.is_string(),
        "{at}: axe-core did not load ({version})"
    );
    let found = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(r => done(r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => [v.id, v.impact, v.help, v.nodes.slice(0, 6).map(n => n.target.join(' ')).join(' | ')])))
  .catch(e => done([['axe-error', 'critical', String(e), '']]));"#,
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{at}: running axe-core: {e}"));
    let rows: Vec<(String, String, String, String)> =
        serde_json::from_value(found).expect("axe results");
    rows.into_iter()
        .map(|(id, impact, help, targets)| format!("{at}: {id} [{impact}] {help} — {targets}"))
        .collect()
}

#[tokio::test]
async fn sign_in_and_open_an_enterprise_page_in_chromium() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let code = uscc(81);
    app.create_enterprise(&reg, &code, "中山市粤禾照明电器有限公司")
        .await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(yuepin_web::serve_router(listener, app.router.clone()));

    let Some((_driver, client)) = start_browser().await else {
        return;
    };
    client.goto(&format!("{base}/enterprises")).await.unwrap();
    // Redirected to sign-in.
    assert!(client
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/login"));
    // Under the Content-Security-Policy the style sheet and the style attributes still apply.
    let styles = client
        .execute(
            "return [getComputedStyle(document.querySelector('header')).backgroundColor,
                     getComputedStyle(document.querySelector('.card')).maxWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(styles, serde_json::json!(["rgb(181, 18, 27)", "420px"]));
    client
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("regulator")
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("regulator-password-1")
        .await
        .unwrap();
    client
        .find(Locator::Id("login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let results = client
        .wait()
        .for_element(Locator::Id("results"))
        .await
        .unwrap();
    assert!(results
        .text()
        .await
        .unwrap()
        .contains("中山市粤禾照明电器有限公司"));

    client
        .find(Locator::LinkText("中山市粤禾照明电器有限公司"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let name = client
        .wait()
        .for_element(Locator::Id("enterprise-name"))
        .await
        .unwrap();
    assert_eq!(name.text().await.unwrap(), "中山市粤禾照明电器有限公司");
    assert_eq!(
        client
            .find(Locator::Id("uscc"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        code
    );
    let file = client
        .find(Locator::Id("quality-file"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(file.contains("质量信用档案"));
    // The enterprise page is not in any navigation: axe-core checks it here.
    if let Some(axe) = axe_source() {
        let found = axe_violations(&client, &axe, "/enterprises/{uscc}").await;
        assert!(found.is_empty(), "axe-core:\n{}", found.join("\n"));
    }

    client
        .find(Locator::Id("lang-switch"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let file = client
        .wait()
        .for_element(Locator::Id("quality-file"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(file.contains("Quality credit file"), "{file}");

    client
        .find(Locator::Id("logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("login-link"))
        .await
        .unwrap();
    client.close().await.unwrap();
    server.abort();
}
