//! Two real `yuepin serve` processes on one fresh PostgreSQL database, driven over HTTP only:
//! migrations at simultaneous start-up run once and both replicas come up healthy; a session
//! and a token opened on one replica work on the other, and signing out on one ends the session
//! on both; failed logins split across both replicas reach the per-account limit; concurrent
//! bookings of one lab slot through both have exactly one winner; scans of one 粤品通 code
//! through both add up once both replicas have flushed their scan counters, without a regulator
//! view (the periodic flush) and across a SIGTERM (the shutdown flush); `/metrics` answers
//! a loopback scraper with the matched routes, logs are JSON lines with the request id, and a
//! replica stops cleanly on SIGTERM.
//!
//! Runs in the PostgreSQL phase of `scripts/test` (`YUEPIN_TEST_DATABASE_URL` names the
//! server); skipped with a notice on SQLite runs, where replicas cannot share a database.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a replica may take to migrate and bind, and any one request to answer.
const START_TIMEOUT: Duration = Duration::from_secs(90);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Matches `yuepin_codes_service::SCAN_FLUSH_SECONDS`, which bounds how stale a count is.
const SCAN_FLUSH_SECONDS: u64 = 5;
/// Matches `yuepin_enterprises_service::signin::ACCOUNT_FREE_FAILURES`.
const MAX_FAILURES_PER_ACCOUNT: usize = 5;

/// A `yuepin serve` process; killed (and reaped) when dropped, its log printed if the test
/// failed.
struct Replica {
    name: &'static str,
    child: Child,
    /// `http://127.0.0.1:PORT` once [`Replica::ready`] returned.
    base: String,
    log: PathBuf,
    address: mpsc::Receiver<String>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("--- replica {} log (last 40 lines) ---", self.name);
            for line in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("{line}");
            }
        }
    }
}

impl Replica {
    /// Starts `yuepin serve` on a free port (`127.0.0.1:0`; the bound address is read from the
    /// line the server prints once it listens) and returns at once.
    fn start(name: &'static str, url: &str, data_dir: &Path) -> Replica {
        let log = data_dir.join(format!("replica-{name}.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_yuepin"))
            // Both replicas have the balancer's address as public URL (plain http is
            // accepted for code resolvers on loopback only).
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--public-url",
                "http://127.0.0.1:8080",
            ])
            .env("YUEPIN_DATABASE_URL", url)
            // Its regulator and bank sign in with passwords alone (the TOTP tests are in yuepin-web).
            .env("YUEPIN_REQUIRE_TOTP", "false")
            // The scans below come from distinct clients (X-Forwarded-For from this proxy):
            // one client's scans of one code count at most three times a day.
            .env("YUEPIN_TRUSTED_PROXIES", "127.0.0.1")
            .env("YUEPIN_DATA_DIR", data_dir)
            .env("YUEPIN_LOG_FORMAT", "json")
            .env("RUST_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("replica log file"))
            .spawn()
            .expect("start yuepin serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, address) = mpsc::channel();
        // Reads the address, then keeps draining stdout so the server never blocks on it.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving on ").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        });
        Replica {
            name,
            child,
            base: String::new(),
            log,
            address,
        }
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit; returns whether it exited
    /// successfully.
    fn terminate(&mut self) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the replica") {
                return status.success();
            }
            assert!(
                Instant::now() < deadline,
                "replica {} ignored SIGTERM",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the server listens (it migrates first).
    fn ready(&mut self) {
        match self.address.recv_timeout(START_TIMEOUT) {
            Ok(base) => self.base = base,
            Err(e) => panic!("replica {} is not listening ({e})", self.name),
        }
    }
}

struct Reply {
    status: u16,
    headers: hyper::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
struct Http(Client<HttpConnector, Full<Bytes>>);

impl Http {
    fn new() -> Http {
        Http(Client::builder(hyper_util::rt::TokioExecutor::new()).build_http())
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, String)>,
    ) -> Reply {
        let mut req = hyper::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some((content_type, b)) => req
                .header("content-type", content_type)
                .body(Full::new(Bytes::from(b))),
            None => req.body(Full::new(Bytes::new())),
        }
        .unwrap();
        let exchange = async {
            let resp = self.0.request(req).await.expect("HTTP request");
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            Reply {
                status,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            }
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| panic!("{method} {url} took over {REQUEST_TIMEOUT:?}"))
    }

    async fn get(&self, r: &Replica, path: &str, token: Option<&str>) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.send("GET", &format!("{}{path}", r.base), &headers, None)
            .await
    }

    async fn post(&self, r: &Replica, path: &str, token: Option<&str>, body: &Value) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.send(
            "POST",
            &format!("{}{path}", r.base),
            &headers,
            Some(("application/json", body.to_string())),
        )
        .await
    }

    async fn token(&self, r: &Replica, username: &str) -> String {
        let resp = self
            .post(
                r,
                "/api/v1/auth/token",
                None,
                &json!({"username": username, "password": password(username)}),
            )
            .await;
        assert_eq!(resp.status, 201, "token for {username}: {}", resp.body);
        resp.json()["token"].as_str().unwrap().to_string()
    }
}

fn password(username: &str) -> String {
    format!("{username}-password-1")
}

/// Creates an account with the CLI, as an operator would.
fn create_user(url: &str, data_dir: &Path, username: &str, role: &str, enterprise: Option<&str>) {
    let mut args = vec![
        "admin",
        "create-user",
        "--username",
        username,
        "--role",
        role,
        "--password-stdin",
    ];
    if let Some(e) = enterprise {
        args.extend(["--enterprise", e]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuepin"))
        .args(&args)
        .env("YUEPIN_DATABASE_URL", url)
        .env("YUEPIN_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("yuepin admin create-user");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", password(username)).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "create-user {username}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn session_cookie(reply: &Reply) -> Option<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("yp_session=") && !v.starts_with("yp_session=;"))
        .map(|v| v.split(';').next().unwrap().to_string())
}

fn china_day(days_ahead: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(days_ahead))
        .format("%Y-%m-%d")
        .to_string()
}

/// The path and query of a code URI (either replica resolves it).
fn local(uri: &str) -> String {
    let rest = uri.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_one_postgres_database() {
    let Some(server) = yuepin_test_support::postgres_server() else {
        eprintln!(
            "SKIP replicas: YUEPIN_TEST_DATABASE_URL is not set (the PostgreSQL phase of scripts/test runs this test)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // One fresh, unmigrated database; one data directory (the shared signing keys).
    let url = yuepin_test_support::fresh_postgres(&server).await;

    // (e) Both replicas start at the same instant on the fresh database and both migrate it.
    let mut a = Replica::start("A", &url, dir.path());
    let mut b = Replica::start("B", &url, dir.path());
    a.ready();
    b.ready();
    let http = Http::new();
    for r in [&a, &b] {
        let health = http.get(r, "/healthz", None).await;
        assert_eq!(health.status, 200, "replica {}: {}", r.name, health.body);
        assert_eq!(health.json()["status"], "ok");
        assert_eq!(health.json()["backend"], "postgres");
    }
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, COUNT(*) FROM schema_migrations GROUP BY name ORDER BY name")
            .fetch_all(&mut db)
            .await
            .unwrap();
    let mut known: Vec<String> = yuepin_store::Store::known_migrations()
        .into_iter()
        .map(str::to_string)
        .collect();
    known.sort();
    let names: Vec<String> = rows.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, known, "every migration is recorded");
    assert!(rows.iter().all(|(_, n)| *n == 1), "{rows:?}");

    create_user(&url, dir.path(), "reg", "regulator", None);
    let reg = http.token(&a, "reg").await;

    // (a) A session cookie from A works on B; signing out on B ends it on A. A token from A
    // works on B.
    // The sign-in form comes from B and is posted to A: its CSRF token travels in the
    // pre-session cookie, not in one replica's memory.
    let form = http
        .send("GET", &format!("{}/login", b.base), &[], None)
        .await;
    let pre = form
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("yp_presession="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("a pre-session cookie from B");
    let marker = "name=\"csrf\" value=\"";
    let at = form.body.rfind(marker).expect("the form's csrf field") + marker.len();
    let form_csrf = form.body[at..].split('"').next().unwrap().to_string();
    let login = http
        .send(
            "POST",
            &format!("{}/login", a.base),
            &[("cookie", &pre)],
            Some((
                "application/x-www-form-urlencoded",
                format!("username=reg&password={}&csrf={form_csrf}", password("reg")),
            )),
        )
        .await;
    assert_eq!(login.status, 303, "{}", login.body);
    let cookie = session_cookie(&login).expect("session cookie from A");
    let me = http
        .send(
            "GET",
            &format!("{}/api/v1/me", b.base),
            &[("cookie", &cookie)],
            None,
        )
        .await;
    assert_eq!(
        me.status, 200,
        "the session opened on A works on B: {}",
        me.body
    );
    assert_eq!(me.json()["user"]["username"], "reg");
    let csrf = me.json()["csrf_token"].as_str().unwrap().to_string();
    let out = http
        .send(
            "POST",
            &format!("{}/logout", b.base),
            &[("cookie", &cookie)],
            Some(("application/x-www-form-urlencoded", format!("csrf={csrf}"))),
        )
        .await;
    assert_eq!(out.status, 303, "sign-out on B: {}", out.body);
    for r in [&a, &b] {
        let after = http
            .send(
                "GET",
                &format!("{}/api/v1/me", r.base),
                &[("cookie", &cookie)],
                None,
            )
            .await;
        assert_eq!(after.status, 401, "signed out, also on {}", r.name);
    }
    assert_eq!(http.get(&b, "/api/v1/me", Some(&reg)).await.status, 200);

    // (b) Failed logins alternate between the replicas and still reach the per-account limit:
    // then even the right password is refused on both.
    create_user(&url, dir.path(), "victim", "bank", None);
    for i in 0..MAX_FAILURES_PER_ACCOUNT {
        let r = if i % 2 == 0 { &a } else { &b };
        let fail = http
            .post(
                r,
                "/api/v1/auth/token",
                None,
                &json!({"username": "victim", "password": "wrong-password"}),
            )
            .await;
        assert!(
            fail.status == 400 || fail.status == 401,
            "failure {i} on {}: {} {}",
            r.name,
            fail.status,
            fail.body
        );
    }
    for r in [&a, &b] {
        let locked = http
            .post(
                r,
                "/api/v1/auth/token",
                None,
                &json!({"username": "victim", "password": password("victim")}),
            )
            .await;
        assert_eq!(locked.status, 429, "limited on {}: {}", r.name, locked.body);
        assert!(locked.header("retry-after").is_some());
    }

    // Two enterprises with one user each, and a lab with an instrument.
    let (uscc1, uscc2) = (yuepin_test_support::uscc(1), yuepin_test_support::uscc(2));
    for (code, name, r) in [
        (&uscc1, "甲精密制造有限公司", &a),
        (&uscc2, "乙电子科技有限公司", &b),
    ] {
        let e = http
            .post(
                r,
                "/api/v1/enterprises",
                Some(&reg),
                &yuepin_test_support::enterprise_json(code, name),
            )
            .await;
        assert_eq!(e.status, 201, "{}", e.body);
    }
    create_user(&url, dir.path(), "ent1", "enterprise", Some(&uscc1));
    create_user(&url, dir.path(), "ent2", "enterprise", Some(&uscc2));
    create_user(&url, dir.path(), "labtester", "lab", None);
    let ent1 = http.token(&a, "ent1").await;
    let ent2 = http.token(&b, "ent2").await;
    let lab = http.token(&a, "labtester").await;
    let created = http
        .post(
            &b,
            "/api/v1/labs",
            Some(&reg),
            &json!({
                "code": "GDQTC", "name": "GDQTC 检测中心", "cma": "201919123456", "cnas": "CNAS L1234",
                "scope": [{"item": "盐雾试验", "standards": ["GB/T 10125-2021"]}],
                "areas": ["testing", "reliability"], "city": "广州",
                "contact": {"person": "张工", "phone": "020-12345678"}, "opening_hours": "always"
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let lab_id = created.json()["id"].as_i64().unwrap();
    let staff = http
        .post(
            &a,
            &format!("/api/v1/labs/{lab_id}/staff"),
            Some(&reg),
            &json!({"username": "labtester"}),
        )
        .await;
    assert_eq!(staff.status, 200, "{}", staff.body);
    let inst = http
        .post(
            &b,
            &format!("/api/v1/labs/{lab_id}/instruments"),
            Some(&lab),
            &json!({
                "name": "盐雾试验箱", "model": "SST-1000", "maker": "某仪器公司", "purchase_price": "180万",
                "purchased_on": "2021-03-01", "location": "A栋101", "capabilities": ["中性盐雾"],
                "test_methods": [{"item": "盐雾试验", "standards": ["GB/T 10125-2021"]}],
                "peak_hourly": "400", "off_peak_hourly": "300", "peak_hours": "weekdays 08:30-17:30",
                "accessories": [{"name": "样品架", "hourly": "20"}], "opening_hours": "always"
            }),
        )
        .await;
    assert_eq!(inst.status, 201, "{}", inst.body);
    let inst = inst.json()["id"].as_i64().unwrap();

    // (c) Twenty bookings of one slot at once, half through each replica: one wins.
    let booking = json!({"parts": [{"instrument_id": inst, "start": format!("{} 10:00", china_day(3)), "minutes": 120}]});
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let http = http.clone();
        let url = format!(
            "{}/api/v1/labs/bookings",
            if i % 2 == 0 { &a.base } else { &b.base }
        );
        let auth = format!("Bearer {}", if i % 4 < 2 { &ent1 } else { &ent2 });
        let body = booking.to_string();
        set.spawn(async move {
            http.send(
                "POST",
                &url,
                &[("authorization", &auth)],
                Some(("application/json", body)),
            )
            .await
            .status
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = set.join_next().await {
        statuses.push(s.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );

    // (d) One code, applied for on A, approved on B, issued on A; scanned through both.
    let product = http
        .post(
            &a,
            &format!("/api/v1/enterprises/{uscc1}/products"),
            Some(&reg),
            &json!({"name": "智能电饭煲", "brand": "粤禾", "model": "RC-1", "category": "家用电器", "gtin": "06901234567892"}),
        )
        .await;
    assert_eq!(product.status, 201, "{}", product.body);
    let product_id = product.json()["id"].as_i64().unwrap();
    let applied = http
        .post(
            &a,
            "/api/v1/codes/applications",
            Some(&ent1),
            &json!({"product_id": product_id, "quantity": 1}),
        )
        .await;
    assert_eq!(applied.status, 201, "{}", applied.body);
    let application = applied.json()["id"].as_i64().unwrap();
    let approved = http
        .post(
            &b,
            &format!("/api/v1/codes/applications/{application}/decision"),
            Some(&reg),
            &json!({"approve": true, "reason": "记录良好"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    let series = approved.json()["series_id"].as_i64().unwrap();
    let issued = http
        .post(
            &a,
            &format!("/api/v1/codes/series/{series}/issue"),
            Some(&ent1),
            &json!({"count": 1}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let uri = issued
        .body
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').next())
        .expect("one issued code")
        .to_string();
    let code_id = http
        .get(&b, &format!("/api/v1/codes/series/{series}"), Some(&reg))
        .await
        .json()["first_codes"][0]["id"]
        .as_i64()
        .expect("the code's id");
    let (on_a, on_b) = (7, 5);
    for i in 0..on_a + on_b {
        let r = if i < on_a { &a } else { &b };
        let scan = http
            .send(
                "GET",
                &format!("{}{}", r.base, local(&uri)),
                &[
                    ("accept", "application/json"),
                    ("x-forwarded-for", &format!("198.51.100.{}", i + 1)),
                ],
                None,
            )
            .await;
        assert_eq!(scan.status, 200, "scan on {}: {}", r.name, scan.body);
        assert_eq!(scan.json()["verdict"], "valid");
    }
    // The regulator's scan view flushes the serving replica's counter first; ask both, until
    // every scan has landed (a flush started by a scan itself may still be committing).
    let total = |reply: &Reply| -> i64 {
        reply.json()["scans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["scans"].as_i64().unwrap())
            .sum()
    };
    let deadline = Instant::now() + Duration::from_secs(3 * SCAN_FLUSH_SECONDS);
    let path = format!("/api/v1/codes/codes/{code_id}/scans");
    loop {
        let from_b = http.get(&b, &path, Some(&reg)).await;
        assert_eq!(from_b.status, 200, "{}", from_b.body);
        let from_a = http.get(&a, &path, Some(&reg)).await;
        let seen = total(&from_a);
        if seen == on_a + on_b {
            break;
        }
        assert!(
            seen < on_a + on_b,
            "more scans counted than made: {}",
            from_a.body
        );
        assert!(
            Instant::now() < deadline,
            "scans never added up: {}",
            from_a.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for r in [&a, &b] {
        assert_eq!(
            total(&http.get(r, &path, Some(&reg)).await),
            on_a + on_b,
            "stays put on {}",
            r.name
        );
    }

    // Operations: each replica answers its loopback scraper with its own requests by route, and
    // logs JSON lines carrying the request id.
    let metrics = http.get(&a, "/metrics", None).await;
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert!(
        metrics.body.contains("yuepin_http_requests_total{method=\"POST\",route=\"/api/v1/labs/bookings\",status=\"409\"}"),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains("yuepin_db_pool_connections "),
        "{}",
        metrics.body
    );
    let traced = http
        .send(
            "GET",
            &format!("{}/healthz", b.base),
            &[("x-request-id", "replica-test-42")],
            None,
        )
        .await;
    assert_eq!(traced.header("x-request-id"), Some("replica-test-42"));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = std::fs::read_to_string(&b.log).unwrap_or_default();
        let found = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|v| {
                v["span"]["request_id"] == "replica-test-42"
                    && v["span"]["route"] == "/healthz"
                    && v["span"]["status"] == 200
            });
        if found {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no JSON log line for the request:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Scans that no regulator view flushes on their replica land anyway: A's background task
    // writes its buffer every SCAN_FLUSH_SECONDS; only B is asked (B's view flushes B alone).
    let scan_on = |r: &Replica| format!("{}{}", r.base, local(&uri));
    let mut made = on_a + on_b;
    for i in 0..3 {
        let client = format!("198.51.100.{}", 100 + i);
        let headers = [
            ("accept", "application/json"),
            ("x-forwarded-for", client.as_str()),
        ];
        let scan = http.send("GET", &scan_on(&a), &headers, None).await;
        assert_eq!(scan.status, 200, "{}", scan.body);
    }
    made += 3;
    let deadline = Instant::now() + Duration::from_secs(4 * SCAN_FLUSH_SECONDS);
    loop {
        let seen = total(&http.get(&b, &path, Some(&reg)).await);
        if seen == made {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A's periodic flush never landed: {seen} of {made} scans"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // SIGTERM (what orchestrators send) stops a replica cleanly, after writing the scans it
    // still buffers; the other one keeps serving and counts them.
    for _ in 0..2 {
        let scan = http
            .send("GET", &scan_on(&b), &[("accept", "application/json")], None)
            .await;
        assert_eq!(scan.status, 200, "{}", scan.body);
    }
    made += 2;
    assert!(b.terminate(), "replica B exits cleanly on SIGTERM");
    assert_eq!(http.get(&a, "/healthz", None).await.status, 200);
    assert_eq!(
        total(&http.get(&a, &path, Some(&reg)).await),
        made,
        "B's buffered scans were written at shutdown"
    );
}
