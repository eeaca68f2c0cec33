//! The HTTP face of Yuepin: server-rendered pages (askama templates compiled into the binary,
//! zh-CN first with an English switch), the JSON API under `/api/v1` with its OpenAPI document,
//! `/healthz`, and the request log and `/metrics` (`ops`). Every handler checks the caller's role and tenant through [`auth::Auth`].

pub mod auth;
pub mod error;
pub mod i18n;
pub mod input;
pub mod ops;
pub mod page;
pub mod routes;

use axum::Router;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;
use yuepin_store::Store;

/// Settings the web layer needs; built by the CLI from flags, environment and config file.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Send cookies with `Secure` (set when served over HTTPS behind a proxy).
    pub secure_cookies: bool,
    /// Public base URL, e.g. `https://yuepin.example.gov.cn` (used in links and codes).
    pub public_url: String,
    /// Where keys and generated files live.
    pub data_dir: std::path::PathBuf,
    /// Marks pages as showing synthetic demo data.
    pub demo: bool,
    /// Bearer token that opens `/metrics` from any address (loopback callers need none).
    pub metrics_token: Option<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            public_url: "http://127.0.0.1:8080".into(),
            data_dir: "yuepin-data".into(),
            demo: false,
            metrics_token: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub modules: Arc<Modules>,
}

/// Each capability module's long-lived state (see `routes::<module>::ModuleState`).
#[derive(Debug)]
pub struct Modules {
    pub codes: routes::codes::ModuleState,
    pub policy: routes::policy::ModuleState,
    pub complaints: routes::complaints::ModuleState,
    pub labs: routes::labs::ModuleState,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> Self {
        let modules = Modules {
            codes: routes::codes::ModuleState::new(&config),
            policy: routes::policy::ModuleState::new(&config),
            complaints: routes::complaints::ModuleState::new(&config),
            labs: routes::labs::ModuleState::new(&config),
        };
        Self {
            store,
            config: Arc::new(config),
            modules: Arc::new(modules),
        }
    }
}

/// Largest request body accepted (imports go through the CLI, not request bodies).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn router(store: Store, config: WebConfig) -> Router {
    let state = AppState::new(store, config);
    let routes = routes::router()
        .merge(ops::router())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    ops::layer(routes).with_state(state)
}

/// Serves until Ctrl-C / SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(ops::shutdown_signal())
    .await
}

/// Today's date in China (UTC+8), which is what "as of today" means on every page.
pub use yuepin_domain::china_today as today;
