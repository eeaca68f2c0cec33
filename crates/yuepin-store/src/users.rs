//! Accounts, page sessions, API tokens and login attempts. Only hashes of session and API tokens
//! are stored; password hashes are Argon2id PHC strings made by the web layer.

use crate::{now_text, Change, Result, Store, StoreError, WriteTx};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;
use yuepin_domain::Role;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub enterprise_id: Option<i64>,
    pub disabled: bool,
    pub created_at: String,
    /// A confirmed TOTP second factor (RFC 6238) is required at sign-in.
    pub totp_enabled: bool,
    /// An administrator reset the password: the temporary one must be changed first.
    pub must_change_password: bool,
}

/// A live session as looked up from its cookie.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: UserRecord,
    pub csrf_token: String,
    pub created_at: String,
    pub last_seen_at: String,
    /// When the user last proved a factor in this session (sign-in or re-authentication).
    pub reauth_at: String,
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn user_from_row(r: &AnyRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        role: r
            .try_get::<String, _>("role")?
            .parse()
            .map_err(|e: yuepin_domain::DomainError| StoreError::Corrupt(e.to_string()))?,
        enterprise_id: r.try_get("enterprise_id")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
        totp_enabled: r.try_get::<i64, _>("totp_enabled")? != 0,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
    })
}

const USER_COLS: &str =
    "u.id, u.username, u.display_name, u.password_hash, u.role, u.enterprise_id, u.disabled, u.created_at, u.totp_enabled, u.must_change_password";

impl Store {
    pub async fn create_user(
        &self,
        w: &mut WriteTx,
        username: &str,
        display_name: &str,
        password_hash: &str,
        role: Role,
        enterprise_id: Option<i64>,
    ) -> Result<i64> {
        let exists = sqlx::query("SELECT 1 FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *w.tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "username {username} is taken"
            )));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, enterprise_id, disabled, created_at) VALUES ($1,$2,$3,$4,$5,0,$6) RETURNING id",
        )
        .bind(username)
        .bind(display_name)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(enterprise_id)
        .bind(now_text())
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        w.record(Change::new("create", "user", id).after(serde_json::json!({
            "username": username, "display_name": display_name, "role": role, "enterprise_id": enterprise_id
        })));
        Ok(id)
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>> {
        sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
    }

    pub async fn users(&self) -> Result<Vec<UserRecord>> {
        sqlx::query(&format!("SELECT {USER_COLS} FROM users u ORDER BY u.id"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from_row)
            .collect()
    }

    /// One page of accounts in id order: `limit` rows after the first `offset`.
    pub async fn users_page(&self, limit: i64, offset: i64) -> Result<Vec<UserRecord>> {
        sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u ORDER BY u.id LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    pub async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// Stores a new session (hash of `token`) and deletes the user's other sessions older than
    /// the absolute lifetime. The caller rotates by deleting the pre-login session.
    pub async fn create_session(&self, user_id: i64, token: &str, csrf: &str) -> Result<()> {
        let now = now_text();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, reauth_at) VALUES ($1,$2,$3,$4,$4,$4)",
        )
        .bind(token_hash(token))
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Looks a session up and enforces the idle and absolute timeouts (cutoffs as RFC 3339
    /// text); a live session's last-seen time is refreshed at most once a minute.
    pub async fn session(
        &self,
        token: &str,
        idle_cutoff: &str,
        absolute_cutoff: &str,
        refresh_before: &str,
    ) -> Result<Option<SessionInfo>> {
        let hash = token_hash(token);
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS}, s.csrf_token, s.created_at AS s_created, s.last_seen_at, s.reauth_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
        ))
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let created: String = row.try_get("s_created")?;
        let last_seen: String = row.try_get("last_seen_at")?;
        let user = user_from_row(&row)?;
        if user.disabled || last_seen.as_str() < idle_cutoff || created.as_str() < absolute_cutoff {
            self.delete_session(token).await?;
            return Ok(None);
        }
        if last_seen.as_str() < refresh_before {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now_text())
                .bind(&hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(SessionInfo {
            user,
            csrf_token: row.try_get("csrf_token")?,
            reauth_at: row
                .try_get::<Option<String>, _>("reauth_at")?
                .unwrap_or_else(|| created.clone()),
            created_at: created,
            last_seen_at: last_seen,
        }))
    }

    /// Records that the session's user just proved a factor again (ASVS 7.5.3).
    pub async fn touch_reauth(&self, token: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET reauth_at = $1 WHERE token_hash = $2")
            .bind(now_text())
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a new API token (its hash) valid until `expires_at` (RFC 3339, UTC).
    pub async fn create_api_token(
        &self,
        w: &mut WriteTx,
        user_id: i64,
        token: &str,
        name: &str,
        expires_at: &str,
    ) -> Result<i64> {
        let id: i64 = sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, name, created_at, revoked, expires_at) VALUES ($1,$2,$3,$4,0,$5) RETURNING id",
        )
        .bind(user_id)
        .bind(token_hash(token))
        .bind(name)
        .bind(now_text())
        .bind(expires_at)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        w.record(Change::new("create", "api_token", id).after(
            serde_json::json!({"user_id": user_id, "name": name, "expires_at": expires_at}),
        ));
        Ok(id)
    }

    /// The account of a live token: not revoked, not expired, its user not disabled.
    pub async fn user_by_api_token(&self, token: &str) -> Result<Option<UserRecord>> {
        Ok(self.api_token_login(token).await?.map(|(u, _)| u))
    }

    /// The account of a live token and when the token was issued (the time its holder last
    /// proved the account's factors, for re-authentication).
    pub async fn api_token_login(&self, token: &str) -> Result<Option<(UserRecord, String)>> {
        sqlx::query(&format!(
            "SELECT {USER_COLS}, t.created_at AS t_created FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked = 0 AND t.expires_at > $2 AND u.disabled = 0"
        ))
        .bind(token_hash(token))
        .bind(now_text())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| Ok((user_from_row(&r)?, r.try_get("t_created")?)))
        .transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>> {
        sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| user_from_row(&r))
            .transpose()
    }

    /// Records a failed login for each key (e.g. "user:alice", "ip:1.2.3.4").
    pub async fn record_login_failure(&self, keys: &[String]) -> Result<()> {
        let now = now_text();
        for k in keys {
            sqlx::query("INSERT INTO login_attempts (key, at) VALUES ($1, $2)")
                .bind(k)
                .bind(&now)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    pub async fn login_failures_since(&self, key: &str, since: &str) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM login_attempts WHERE key = $1 AND at >= $2")
                .bind(key)
                .bind(since)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    /// The failures recorded for `key` since `since` and the time of the latest one.
    pub async fn login_failure_stats(
        &self,
        key: &str,
        since: &str,
    ) -> Result<(i64, Option<String>)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_attempts WHERE key = $1 AND at >= $2",
        )
        .bind(key)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("n")?, row.try_get("last")?))
    }

    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_attempts WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
