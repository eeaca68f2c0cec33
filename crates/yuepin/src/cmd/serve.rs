//! `yuepin serve`: migrate, then serve pages and API until interrupted.

use crate::config::{redact, Resolved, ServerArgs};
use anyhow::{Context, Result};
use yuepin_web::WebConfig;

pub async fn run(args: ServerArgs) -> Result<()> {
    let settings = args.resolve()?;
    serve(&settings, false, None).await
}

/// Serves; `as_of` runs the platform's policy capability as of a fixed day (demos, training).
pub async fn serve(
    settings: &Resolved,
    demo: bool,
    as_of: Option<chrono::NaiveDate>,
) -> Result<()> {
    // Packs first: a bad successor pack stops the start, before anything listens.
    let policy_set = settings.policy_set()?;
    let store = settings.connect().await?;
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = store.backend_name(), db = %redact(&settings.database_url), "serving");
    println!(
        "Yuepin is serving on http://{addr}  (database: {})",
        redact(&settings.database_url)
    );
    let state = yuepin_web::AppState::new(
        store,
        WebConfig {
            secure_cookies: settings.secure_cookies,
            public_url: settings.public_url.clone(),
            data_dir: settings.data_dir.clone(),
            demo,
            metrics_token: settings.metrics_token.clone(),
            as_of,
            trusted_proxies: settings.trusted_proxies.clone(),
            policy_set: Some(policy_set),
            // The demo's synthetic accounts sign in with their passwords alone; a real
            // server requires TOTP of regulator and bank accounts (`--require-totp false`
            // only for test set-ups).
            require_totp: settings.require_totp && !demo,
            reauth_minutes: yuepin_web::WebConfig::default().reauth_minutes,
        },
    );
    // Secrets stored before sealing existed are sealed now (a no-op once done).
    let sealed = state
        .modules
        .enterprises
        .seal_plain_totp_secrets(&yuepin_domain::Caller::cli("serve"))
        .await
        .context("sealing TOTP secrets")?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed TOTP secrets stored in the clear");
    }
    yuepin_web::serve(listener, state).await?;
    Ok(())
}
