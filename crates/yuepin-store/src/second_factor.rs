//! The second factor's rows: an account's TOTP secret (pending until confirmed with a first
//! code, then required at sign-in), its last accepted time step (so no code is accepted
//! twice, across replicas), its single-use recovery codes (Argon2id hashes), the sign-in
//! challenges between the password step and the code step, and an administrator's reset of
//! a password or of the second factor. The rules (which codes, who may) are the registry
//! service's; enrolment, confirmation, recovery-code use and resets go through the audited
//! write transaction, challenges and step counters (like sessions and login attempts) do not.

use crate::{now_text, users::token_hash, Change, Result, Store, WriteTx};
use sqlx::Row;

/// An account's TOTP secret as stored.
#[derive(Debug, Clone)]
pub struct TotpRow {
    pub user_id: i64,
    /// Sealed under the TOTP key (`v1:…`, see the registry service's `secret_box`), or base32
    /// (RFC 4648, no padding) when stored before sealing.
    pub secret: String,
    pub confirmed: bool,
    pub last_step: i64,
    pub created_at: String,
}

/// A sign-in waiting for its code.
#[derive(Debug, Clone)]
pub struct ChallengeRow {
    pub user_id: i64,
    pub password_ok: bool,
    pub attempts: i64,
    pub created_at: String,
}

impl Store {
    pub async fn totp_of(&self, user_id: i64) -> Result<Option<TotpRow>> {
        let row = sqlx::query(
            "SELECT user_id, secret, confirmed_at, last_step, created_at FROM user_totp WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(TotpRow {
                user_id: r.try_get("user_id")?,
                secret: r.try_get("secret")?,
                confirmed: r.try_get::<Option<String>, _>("confirmed_at")?.is_some(),
                last_step: r.try_get("last_step")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }

    /// Every stored secret as (user id, stored value), for sealing the ones stored in the clear.
    pub async fn totp_secrets(&self) -> Result<Vec<(i64, String)>> {
        sqlx::query("SELECT user_id, secret FROM user_totp ORDER BY user_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Replaces the stored form of an account's secret, only where it still reads `was` (the
    /// same secret, sealed; another replica may have sealed it first). True when replaced.
    pub async fn reseal_totp(
        &self,
        w: &mut WriteTx,
        user_id: i64,
        was: &str,
        sealed: &str,
    ) -> Result<bool> {
        let n = sqlx::query("UPDATE user_totp SET secret = $1 WHERE user_id = $2 AND secret = $3")
            .bind(sealed)
            .bind(user_id)
            .bind(was)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        if n > 0 {
            w.record(Change::new("seal_totp_secret", "user", user_id));
        }
        Ok(n > 0)
    }

    /// Stores a new pending secret for an account that has no confirmed one (replacing an
    /// older pending one). The secret itself is not written to the audit log.
    pub async fn set_pending_totp(
        &self,
        w: &mut WriteTx,
        user_id: i64,
        secret: &str,
    ) -> Result<()> {
        sqlx::query("DELETE FROM user_totp WHERE user_id = $1 AND confirmed_at IS NULL")
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query(
            "INSERT INTO user_totp (user_id, secret, confirmed_at, last_step, created_at) VALUES ($1, $2, NULL, 0, $3)",
        )
        .bind(user_id)
        .bind(secret)
        .bind(now_text())
        .execute(&mut *w.tx)
        .await?;
        w.record(Change::new("begin_totp_enrolment", "user", user_id));
        Ok(())
    }

    /// Confirms the pending secret (its first code was at `step`), turns the second factor on
    /// and replaces the recovery codes with `recovery_hashes`.
    pub async fn confirm_totp(
        &self,
        w: &mut WriteTx,
        user_id: i64,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE user_totp SET confirmed_at = $1, last_step = $2 WHERE user_id = $3 AND confirmed_at IS NULL",
        )
        .bind(now_text())
        .bind(step)
        .bind(user_id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(false);
        }
        sqlx::query("UPDATE users SET totp_enabled = 1 WHERE id = $1")
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        self.replace_recovery_codes(w, user_id, recovery_hashes)
            .await?;
        w.record(
            Change::new("enable_totp", "user", user_id)
                .after(serde_json::json!({"recovery_codes": recovery_hashes.len()})),
        );
        Ok(true)
    }

    /// Replaces an account's recovery codes with new ones (its user asked, with a code).
    pub async fn regenerate_recovery_codes(
        &self,
        w: &mut WriteTx,
        user_id: i64,
        hashes: &[String],
    ) -> Result<()> {
        self.replace_recovery_codes(w, user_id, hashes).await?;
        w.record(
            Change::new("regenerate_recovery_codes", "user", user_id)
                .after(serde_json::json!({"recovery_codes": hashes.len()})),
        );
        Ok(())
    }

    async fn replace_recovery_codes(
        &self,
        w: &mut WriteTx,
        user_id: i64,
        hashes: &[String],
    ) -> Result<()> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        for h in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)",
            )
            .bind(user_id)
            .bind(h)
            .execute(&mut *w.tx)
            .await?;
        }
        Ok(())
    }

    /// Accepts time step `step` for the account if it is later than the last accepted one;
    /// false when it was already used (a replay), also when two replicas race for it.
    pub async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE user_totp SET last_step = $1 WHERE user_id = $2 AND confirmed_at IS NOT NULL AND last_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// The unused recovery codes of an account: (id, Argon2id hash).
    pub async fn unused_recovery_codes(&self, user_id: i64) -> Result<Vec<(i64, String)>> {
        sqlx::query("SELECT id, code_hash FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL ORDER BY id")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("code_hash")?)))
            .collect()
    }

    /// Marks a recovery code used; false if it already was (a concurrent use).
    pub async fn use_recovery_code(&self, w: &mut WriteTx, user_id: i64, id: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE id = $2 AND user_id = $3 AND used_at IS NULL",
        )
        .bind(now_text())
        .bind(id)
        .bind(user_id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        w.record(
            Change::new("use_recovery_code", "user", user_id)
                .after(serde_json::json!({"code": id})),
        );
        Ok(n == 1)
    }

    /// Removes the second factor (administrators' reset): the secret, the recovery codes and
    /// the account's sessions, tokens and pending challenges.
    pub async fn reset_totp(&self, w: &mut WriteTx, user_id: i64) -> Result<()> {
        for sql in [
            "DELETE FROM user_totp WHERE user_id = $1",
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM login_challenges WHERE user_id = $1",
            "DELETE FROM sessions WHERE user_id = $1",
            "UPDATE api_tokens SET revoked = 1 WHERE user_id = $1",
            "UPDATE users SET totp_enabled = 0 WHERE id = $1",
        ] {
            sqlx::query(sql).bind(user_id).execute(&mut *w.tx).await?;
        }
        w.record(
            Change::new("reset_totp", "user", user_id)
                .after(serde_json::json!({"sessions_ended": true, "tokens_revoked": true})),
        );
        Ok(())
    }

    /// An administrator's password reset: the temporary password's hash, which must be changed
    /// at the next sign-in; the account's sessions end and its tokens are revoked.
    pub async fn reset_password(&self, w: &mut WriteTx, user_id: i64, hash: &str) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        for sql in [
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM login_challenges WHERE user_id = $1",
            "UPDATE api_tokens SET revoked = 1 WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user_id).execute(&mut *w.tx).await?;
        }
        w.record(Change::new("reset_password", "user", user_id).after(
            serde_json::json!({"must_change_password": true, "sessions_ended": true, "tokens_revoked": true}),
        ));
        Ok(())
    }

    /// Stores a sign-in challenge (the hash of its token).
    pub async fn create_challenge(
        &self,
        token: &str,
        user_id: i64,
        password_ok: bool,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO login_challenges (token_hash, user_id, password_ok, attempts, created_at) VALUES ($1, $2, $3, 0, $4)",
        )
        .bind(token_hash(token))
        .bind(user_id)
        .bind(i64::from(password_ok))
        .bind(now_text())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn challenge(&self, token: &str) -> Result<Option<ChallengeRow>> {
        let row = sqlx::query(
            "SELECT user_id, password_ok, attempts, created_at FROM login_challenges WHERE token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(ChallengeRow {
                user_id: r.try_get("user_id")?,
                password_ok: r.try_get::<i64, _>("password_ok")? != 0,
                attempts: r.try_get("attempts")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }

    /// Counts one wrong code against a challenge.
    pub async fn challenge_failed(&self, token: &str) -> Result<()> {
        sqlx::query("UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a challenge, and any of the account's challenges older than `older_than`.
    pub async fn delete_challenge(&self, token: &str, older_than: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1 OR created_at < $2")
            .bind(token_hash(token))
            .bind(older_than)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The password was changed as required after a reset.
    pub async fn clear_must_change_password(&self, w: &mut WriteTx, user_id: i64) -> Result<()> {
        sqlx::query("UPDATE users SET must_change_password = 0 WHERE id = $1")
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        Ok(())
    }
}
