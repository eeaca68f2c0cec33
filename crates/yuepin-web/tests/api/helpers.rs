//! `TestApp`: a fresh database (a temporary SQLite file, or a new PostgreSQL database on the
//! server named by `YUEPIN_TEST_DATABASE_URL`), the real router, and request helpers.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;
use yuepin_store::Store;
use yuepin_web::WebConfig;

pub struct TestApp {
    pub store: Store,
    pub router: Router,
    _dir: tempfile::TempDir,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub use yuepin_test_support::{enterprise_json, uscc};

/// The `Set-Cookie` header that starts a session, if the answer has one.
pub fn session_cookie(resp: &Resp) -> Option<String> {
    set_cookie(resp, "yp_session")
}

/// The `name=value` pair of the session cookie the answer sets, if any.
pub fn session_pair(resp: &Resp) -> Option<String> {
    session_cookie(resp).map(|c| pair(&c))
}

/// The non-empty `Set-Cookie` of `name` in the answer.
pub fn set_cookie(resp: &Resp, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    resp.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix) && !v.starts_with(&format!("{name}=;")))
        .map(str::to_string)
}

fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

/// The value of the last hidden `csrf` field of a page (the sign-in form's on `/login`).
pub fn form_csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html.rfind(marker).expect("a csrf field") + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(None).await
    }

    /// The app with the server running as of `day` (as `yuepin demo --as-of` does).
    pub async fn spawn_as_of(day: &str) -> TestApp {
        Self::spawn_with(Some(day.parse().unwrap())).await
    }

    async fn spawn_with(as_of: Option<chrono::NaiveDate>) -> TestApp {
        Self::spawn_configured(|c| c.as_of = as_of).await
    }

    /// The app with its configuration changed by `configure` (e.g. `secure_cookies`).
    pub async fn spawn_configured(configure: impl FnOnce(&mut WebConfig)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = yuepin_test_support::fresh_database_url(dir.path()).await;
        let store = Store::connect(&url).await.expect("connect test database");
        // Most tests sign regulators and banks in with passwords alone; the second-factor
        // tests (`second_factor.rs`) turn `require_totp` on.
        let mut config = WebConfig {
            data_dir: dir.path().to_path_buf(),
            require_totp: false,
            ..WebConfig::default()
        };
        configure(&mut config);
        let router = yuepin_web::router(store.clone(), config);
        TestApp {
            store,
            router,
            _dir: dir,
        }
    }

    pub async fn request(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024)
            .await
            .unwrap()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let mut b = Request::get(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        self.request(b.body(Body::empty()).unwrap()).await
    }

    /// GET `path` as a browser with the session cookie `cookie` (`name=value`).
    pub async fn page(&self, path: &str, cookie: &str) -> Resp {
        self.request(
            Request::get(path)
                .header("cookie", cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// A GET from the client at `addr` (as the server sees a connection's peer address).
    pub async fn get_from(&self, path: &str, addr: &str) -> Resp {
        let mut req = Request::get(path).body(Body::empty()).unwrap();
        let peer: std::net::SocketAddr = format!("{addr}:40000").parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        self.request(req).await
    }

    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json");
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        self.request(b.body(Body::from(body.to_string())).unwrap())
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send_json("POST", path, token, body).await
    }

    pub async fn post_form(&self, path: &str, cookie: Option<&str>, form: &str) -> Resp {
        let mut b = Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        self.request(b.body(Body::from(form.to_string())).unwrap())
            .await
    }

    /// Opens the sign-in page (sending `cookie`, if any): the cookie header to post with (the
    /// given cookies and the pre-session cookie) and the form's CSRF token.
    pub async fn login_page(&self, cookie: Option<&str>) -> (String, String) {
        let mut b = Request::get("/login");
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        let page = self.request(b.body(Body::empty()).unwrap()).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let pre = set_cookie(&page, "yp_presession").expect("a pre-session cookie");
        let header = match cookie {
            Some(c) => format!("{c}; {}", pair(&pre)),
            None => pair(&pre),
        };
        (header, form_csrf(&page.text()))
    }

    /// Posts the sign-in form (`username=…&password=…`, url-encoded) as a browser does: the
    /// page first, then the form with its CSRF token and the pre-session cookie.
    pub async fn sign_in(&self, form: &str, cookie: Option<&str>) -> Resp {
        let (cookies, csrf) = self.login_page(cookie).await;
        self.post_form("/login", Some(&cookies), &format!("{form}&csrf={csrf}"))
            .await
    }

    /// Signs in as `user` (password `{user}-password-1`): the session cookie's `name=value`.
    pub async fn session(&self, user: &str) -> String {
        let r = self
            .sign_in(&format!("username={user}&password={user}-password-1"), None)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        session_pair(&r).expect("a session cookie")
    }

    /// Creates an account directly in the store and returns an API token for it.
    pub async fn user_token(&self, username: &str, role: &str, enterprise: Option<&str>) -> String {
        yuepin_enterprises_service::EnterprisesService::new(self.store.clone())
            .create_account(
                &yuepin_domain::Caller::system(),
                yuepin_enterprises_service::NewAccount {
                    username: username.into(),
                    display_name: String::new(),
                    password: format!("{username}-password-1"),
                    role: role.into(),
                    enterprise_uscc: enterprise.map(str::to_string),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("create {username}: {e}"));
        let resp = self
            .post(
                "/api/v1/auth/token",
                None,
                &serde_json::json!({"username": username, "password": format!("{username}-password-1")}),
            )
            .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
        resp.json()["token"].as_str().unwrap().to_string()
    }

    pub async fn regulator(&self) -> String {
        self.user_token("regulator", "regulator", None).await
    }

    /// Creates an enterprise through the API as the regulator.
    pub async fn create_enterprise(&self, token: &str, code: &str, name: &str) -> Value {
        let resp = self
            .post(
                "/api/v1/enterprises",
                Some(token),
                &enterprise_json(code, name),
            )
            .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
        resp.json()
    }
}
