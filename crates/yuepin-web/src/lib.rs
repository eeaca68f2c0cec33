//! The HTTP face of Yuepin: server-rendered pages (askama templates compiled into the binary,
//! zh-CN first with an English switch), the JSON API under `/api/v1` with its OpenAPI document,
//! `/healthz`, and the request log and `/metrics` (`ops`). Every handler checks the caller's role and tenant through [`auth::Auth`].

pub mod accounts;
pub mod api_errors;
pub mod assets;
pub mod auth;
pub mod client_addr;
pub mod codes;
pub mod complaints;
pub mod credit;
pub mod cx;
pub mod enterprises;
pub mod error;
pub mod export;
pub mod flash;
pub mod form;
pub mod headers;
pub mod hospital;
pub mod i18n;
pub mod input;
pub mod json_body;
pub mod labs;
pub mod nav;
pub mod openapi;
pub mod ops;
pub mod page;
pub mod policy;
pub mod portal;
pub mod reauth;
pub mod redirect;
pub mod routes;
pub mod signed_in;

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
    /// Runs the policy capability as of this day instead of today in China (training and
    /// demos: `yuepin demo --as-of`); every page names the date in a banner.
    pub as_of: Option<chrono::NaiveDate>,
    /// Proxies whose `X-Forwarded-For` names the client (`client_addr`); empty: the
    /// connection's peer is the client.
    pub trusted_proxies: client_addr::TrustedProxies,
    /// The policy packs in force (the built-in pack and the configured successors); `None`:
    /// the built-in pack alone.
    pub policy_set: Option<yuepin_policy::PolicySet>,
    /// Regulator and bank accounts must enrol a TOTP second factor before anything else
    /// (`yuepin serve` turns it on; the demo, with its synthetic accounts, does not).
    pub require_totp: bool,
    /// How recent a sign-in or re-authentication must be for money decisions and consent
    /// changes (ASVS 7.5.3), in minutes.
    pub reauth_minutes: i64,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            public_url: "http://127.0.0.1:8080".into(),
            data_dir: "yuepin-data".into(),
            demo: false,
            metrics_token: None,
            as_of: None,
            trusted_proxies: client_addr::TrustedProxies::default(),
            policy_set: None,
            require_totp: true,
            reauth_minutes: 5,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub modules: Arc<Modules>,
}

/// Each capability's service, with its long-lived state (caches, the scan-count buffer).
#[derive(Debug)]
pub struct Modules {
    pub enterprises: yuepin_enterprises_service::EnterprisesService,
    pub codes: yuepin_codes_service::CodesService,
    pub policy: yuepin_policy_service::PolicyService,
    pub complaints: yuepin_complaints_service::ComplaintsService,
    pub labs: yuepin_labs_service::LabsService,
    pub credit: yuepin_credit_service::CreditService,
    pub hospital: yuepin_hospital_service::HospitalService,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> Self {
        let modules = Modules {
            // TOTP secrets are sealed under `{data_dir}/totp-keys/totp.key`, never in the
            // database (every replica is given the same file, like the codes' keys).
            enterprises: yuepin_enterprises_service::EnterprisesService::new(store.clone())
                .with_totp_key(Arc::new(
                    yuepin_enterprises_service::SecretBox::open_or_create(
                        &config.data_dir.join("totp-keys").join("totp.key"),
                    )
                    .unwrap_or_else(|e| panic!("{e}")),
                )),
            codes: yuepin_codes_service::CodesService::new(
                store.clone(),
                config.data_dir.join("keys"),
                &config.public_url,
            ),
            policy: {
                let p = match &config.policy_set {
                    Some(set) => {
                        yuepin_policy_service::PolicyService::with_set(store.clone(), set.clone())
                    }
                    None => yuepin_policy_service::PolicyService::new(store.clone()),
                };
                match config.as_of {
                    Some(day) => p.with_today(day),
                    None => p,
                }
            },
            complaints: yuepin_complaints_service::ComplaintsService::new(store.clone()),
            labs: yuepin_labs_service::LabsService::new(store.clone()),
            credit: yuepin_credit_service::CreditService::new(
                store.clone(),
                config.data_dir.join("credit-keys"),
            ),
            // Holiday years published after this release: `{data_dir}/hospital-calendar/*.csv`.
            hospital: yuepin_hospital_service::HospitalService::new(store.clone())
                .with_calendar_dir(&config.data_dir)
                .unwrap_or_else(|e| {
                    panic!("hospital calendar under {}: {e}", config.data_dir.display())
                }),
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
    app(AppState::new(store, config))
}

/// The router over an existing state (the server keeps the state to flush it on shutdown).
pub fn app(state: AppState) -> Router {
    let routes = routes::router()
        .merge(ops::router())
        .merge(assets::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            signed_in::api_writes,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    let routes = headers::layer(api_errors::layer(routes), state.config.secure_cookies);
    // The state as an extension too, for route layers that need it (`reauth::guard`).
    ops::layer(routes.layer(axum::Extension(state.clone()))).with_state(state)
}

/// Serves until Ctrl-C / SIGTERM. The codes service buffers scan counts in memory; a
/// background task writes them every [`yuepin_codes_service::SCAN_FLUSH_SECONDS`] even when no
/// further scan arrives, and the buffer is written once more after the last request, so a
/// replica that stops loses no counts (each replica flushes its own buffer; the writes add up
/// in the database, so several replicas count correctly).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let codes = state.modules.codes.clone();
    let flusher = tokio::spawn(async move {
        let period = std::time::Duration::from_secs(yuepin_codes_service::SCAN_FLUSH_SECONDS);
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = codes.flush_scans().await {
                tracing::warn!(error = %e, "periodic flush of scan counts");
            }
        }
    });
    let served = serve_router(listener, app(state.clone())).await;
    flusher.abort();
    match state.modules.codes.flush_scans().await {
        Ok(_) => tracing::info!("scan counts flushed at shutdown"),
        Err(e) => tracing::warn!(error = %e, "flushing scan counts at shutdown"),
    }
    served
}

/// Serves a router until Ctrl-C / SIGTERM, without the scan-count flushing of [`serve`] (for
/// tests and tools that build their own router; their scans flush on the next regulator view).
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(ops::shutdown_signal())
    .await
}

/// Today's date in China (UTC+8), which is what "as of today" means on every page.
pub use yuepin_domain::china_today as today;
