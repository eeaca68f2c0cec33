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
    let checkpoints = match settings.audit_checkpoint_minutes {
        0 => None,
        minutes => Some(tokio::spawn(write_checkpoints(
            state.store.clone(),
            settings.clone(),
            minutes,
        ))),
    };
    let served = yuepin_web::serve(listener, state).await;
    if let Some(task) = checkpoints {
        task.abort();
    }
    served?;
    Ok(())
}

/// Signs a checkpoint of the audit chain at start and every `minutes`, into
/// `{data_dir}/audit-checkpoints/`: `latest.txt` and `checkpoint-<size>.txt` (both written
/// whole and renamed into place). A chain that did not grow is not signed again. A chain that
/// is not intact is logged as an error and never signed; the server keeps serving. Several
/// replicas may share the directory: a size's file is the same chain, whoever signed it.
async fn write_checkpoints(store: yuepin_store::Store, settings: Resolved, minutes: u64) {
    let dir = settings.data_dir.join("audit-checkpoints");
    let key_args = crate::cmd::audit::KeyArgs {
        key: settings.audit_key.clone(),
    };
    let key_path = crate::cmd::audit::key_path(&key_args, &settings.data_dir);
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(minutes * 60));
    let mut last_size = None;
    loop {
        tick.tick().await;
        match checkpoint_once(&store, &key_path, &dir, last_size).await {
            Ok(Some(size)) => {
                tracing::info!(size, dir = %dir.display(), "audit checkpoint signed");
                last_size = Some(size);
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %format!("{e:#}"), "audit checkpoint not written"),
        }
    }
}

async fn checkpoint_once(
    store: &yuepin_store::Store,
    key_path: &std::path::Path,
    dir: &std::path::Path,
    last_size: Option<u64>,
) -> Result<Option<u64>> {
    let rows = store.audit_len().await?;
    if last_size == Some(rows) {
        return Ok(None);
    }
    let key = crate::cmd::audit::load_or_create_key(key_path)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let latest = dir.join("latest.txt");
    let made = crate::cmd::audit::write_checkpoint(store, &key, Some(&latest)).await?;
    let kept = dir.join(format!("checkpoint-{:012}.txt", made.size));
    let tmp = kept.with_extension("tmp");
    std::fs::copy(&latest, &tmp).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &kept).with_context(|| format!("writing {}", kept.display()))?;
    Ok(Some(made.size))
}
