//! Changing credentials: listing and revoking API tokens, disabling an account (its sessions
//! and tokens end with it), replacing a password hash. Every change goes through the audited
//! write transaction; the rules (who may, which password) are the registry service's.

use crate::{users::token_hash, Change, Result, Store, WriteTx};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// An API token as its owner sees it (never the token itself, which is shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: String,
    /// When the token stops working (RFC 3339, UTC).
    pub expires_at: String,
    pub revoked: bool,
}

fn token_from_row(r: &AnyRow) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        expires_at: r
            .try_get::<Option<String>, _>("expires_at")?
            .unwrap_or_default(),
        revoked: r.try_get::<i64, _>("revoked")? != 0,
    })
}

const TOKEN_COLS: &str = "id, user_id, name, created_at, expires_at, revoked";

impl Store {
    /// A user's API tokens, newest first.
    pub async fn api_tokens_of(&self, user_id: i64) -> Result<Vec<TokenRecord>> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    pub async fn api_token(&self, id: i64) -> Result<Option<TokenRecord>> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| token_from_row(&r))
        .transpose()
    }

    /// The record of a presented token (live or not).
    pub async fn api_token_by_value(&self, token: &str) -> Result<Option<TokenRecord>> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1"
        ))
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?
        .map(|r| token_from_row(&r))
        .transpose()
    }

    pub async fn revoke_api_token(&self, w: &mut WriteTx, id: i64) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.record(Change::new("revoke", "api_token", id));
        Ok(())
    }

    /// Disables (or enables) an account; disabling deletes its sessions and revokes its tokens.
    pub async fn set_user_disabled(
        &self,
        w: &mut WriteTx,
        user_id: i64,
        disabled: bool,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *w.tx)
                .await?;
            sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *w.tx)
                .await?;
        }
        let action = if disabled { "disable" } else { "enable" };
        w.record(
            Change::new(action, "user", user_id).after(serde_json::json!({
                "disabled": disabled, "sessions_ended": disabled, "tokens_revoked": disabled
            })),
        );
        Ok(())
    }

    /// Replaces an account's password hash and ends its sessions except `keep_session` (the
    /// token of the session that made the change).
    pub async fn set_password_hash(
        &self,
        w: &mut WriteTx,
        user_id: i64,
        hash: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep_session.map(token_hash).unwrap_or_default())
            .execute(&mut *w.tx)
            .await?;
        w.record(
            Change::new("change_password", "user", user_id)
                .after(serde_json::json!({"other_sessions_ended": true})),
        );
        Ok(())
    }
}
