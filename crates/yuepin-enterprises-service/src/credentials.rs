//! Credentials after sign-in (ASVS 6.2, 7.4): API tokens that expire (90 days unless asked
//! otherwise, at most a year), listed and revoked by their owner or an administrator;
//! administrators disable accounts, which ends their sessions and tokens; a user changes their
//! own password by entering the current one (checked under the sign-in throttle), and the new
//! one must pass `yuepin_store::passwords::check_new_password`.

use crate::error::{EnterprisesError, Invalid, Result};
use crate::EnterprisesService;
use chrono::{Duration, Utc};
use yuepin_domain::Caller;
use yuepin_store::{passwords, Actor, StoreError, TokenRecord, UserRecord};

/// How long a token lives when its creator does not say.
pub const TOKEN_DEFAULT_DAYS: i64 = 90;
/// The longest life a token may be given.
pub const TOKEN_MAX_DAYS: i64 = 365;

/// A token just issued: its value (shown once) and its record.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub record: TokenRecord,
}

fn owner_or_admin(caller: &Caller, user_id: i64) -> bool {
    caller.user_id() == Some(user_id) || caller.is_administrator()
}

impl EnterprisesService {
    /// Issues a token to the account `user_id`: the account itself (just signed in with its
    /// password) or an administrator. `days` defaults to [`TOKEN_DEFAULT_DAYS`].
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn issue_token(
        &self,
        caller: &Caller,
        user_id: i64,
        name: &str,
        days: Option<i64>,
    ) -> Result<IssuedToken> {
        if caller.user_id() != Some(user_id) {
            caller.require_administrator()?;
        }
        let days = days.unwrap_or(TOKEN_DEFAULT_DAYS);
        if !(1..=TOKEN_MAX_DAYS).contains(&days) {
            return Err(EnterprisesError::invalid("days", Invalid::TokenDays));
        }
        let name: String = match name.trim() {
            "" => "api".into(),
            n => n.chars().filter(|c| !c.is_control()).take(60).collect(),
        };
        let expires_at = (Utc::now() + Duration::days(days))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let token = format!("yp_{}", passwords::random_token(32));
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let id = self
            .store
            .create_api_token(&mut w, user_id, &token, &name, &expires_at)
            .await?;
        self.store.commit(w).await?;
        let record = self
            .store
            .api_token(id)
            .await?
            .ok_or(EnterprisesError::NoSuchToken(id))?;
        Ok(IssuedToken { token, record })
    }

    /// The caller's own tokens, newest first.
    pub async fn my_tokens(&self, caller: &Caller) -> Result<Vec<TokenRecord>> {
        let id = caller
            .user_id()
            .ok_or(yuepin_domain::Denied::SignInRequired)?;
        Ok(self.store.api_tokens_of(id).await?)
    }

    /// Another account's tokens (administrators).
    pub async fn tokens_of(&self, caller: &Caller, username: &str) -> Result<Vec<TokenRecord>> {
        caller.require_administrator()?;
        let user = self.user_named(username).await?;
        Ok(self.store.api_tokens_of(user.id).await?)
    }

    /// Revokes a token of the caller's (administrators: anyone's). Someone else's token looks
    /// the same as a missing one.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_token(&self, caller: &Caller, id: i64) -> Result<TokenRecord> {
        if caller.user_id().is_none() && !caller.is_administrator() {
            return Err(yuepin_domain::Denied::SignInRequired.into());
        }
        let token = match self.store.api_token(id).await? {
            Some(t) if owner_or_admin(caller, t.user_id) => t,
            _ => return Err(EnterprisesError::NoSuchToken(id)),
        };
        if !token.revoked {
            let mut w = self.store.begin_write(Actor::from(caller)).await?;
            self.store.revoke_api_token(&mut w, id).await?;
            self.store.commit(w).await?;
        }
        Ok(TokenRecord {
            revoked: true,
            ..token
        })
    }

    /// Revokes the token a client presents (signing out with a bearer token).
    pub async fn revoke_presented_token(&self, caller: &Caller, token: &str) -> Result<()> {
        match self.store.api_token_by_value(token).await? {
            Some(t) => self.revoke_token(caller, t.id).await.map(|_| ()),
            None => Ok(()),
        }
    }

    /// Disables an account (administrators): its sessions end and its tokens are revoked in
    /// the same transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn disable_user(&self, caller: &Caller, username: &str) -> Result<UserRecord> {
        caller.require_administrator()?;
        let user = self.user_named(username).await?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        self.store.set_user_disabled(&mut w, user.id, true).await?;
        self.store.commit(w).await?;
        Ok(UserRecord {
            disabled: true,
            ..user
        })
    }

    /// Re-enables a disabled account (administrators); its old sessions and tokens stay ended.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enable_user(&self, caller: &Caller, username: &str) -> Result<UserRecord> {
        caller.require_administrator()?;
        let user = self.user_named(username).await?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        self.store.set_user_disabled(&mut w, user.id, false).await?;
        self.store.commit(w).await?;
        Ok(UserRecord {
            disabled: false,
            ..user
        })
    }

    /// Resets an account's password (administrators): a temporary password (16 random
    /// characters, returned once) that must be changed at the next sign-in; the account's
    /// sessions end and its tokens are revoked.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reset_password(&self, caller: &Caller, username: &str) -> Result<String> {
        caller.require_administrator()?;
        let user = self.user_named(username).await?;
        let temporary = passwords::random_token(12);
        let hash = passwords::hash_password(&temporary)
            .map_err(|e| StoreError::Native(format!("password hashing: {e}")))?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        self.store.reset_password(&mut w, user.id, &hash).await?;
        self.store.commit(w).await?;
        Ok(temporary)
    }

    /// Changes the caller's password: `current` is checked as a sign-in from `client` would be
    /// (wrong ones count towards the throttle); the caller's other sessions end, `keep_session`
    /// (the one making the change) stays.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
        client: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let id = caller
            .user_id()
            .ok_or(yuepin_domain::Denied::SignInRequired)?;
        let me = self
            .store
            .user_by_id(id)
            .await?
            .ok_or(yuepin_domain::Denied::SignInRequired)?;
        match self.sign_in(&me.username, current, client).await {
            Ok(_) => {}
            Err(EnterprisesError::WrongCredentials) => {
                return Err(EnterprisesError::invalid(
                    "current_password",
                    Invalid::WrongPassword,
                ))
            }
            Err(e) => return Err(e),
        }
        passwords::check_new_password(new)
            .map_err(|p| EnterprisesError::invalid("password", Invalid::Password(p)))?;
        if new == current {
            return Err(EnterprisesError::invalid("password", Invalid::SamePassword));
        }
        let hash = passwords::hash_password(new)
            .map_err(|e| StoreError::Native(format!("password hashing: {e}")))?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        self.store
            .set_password_hash(&mut w, id, &hash, keep_session)
            .await?;
        self.store.commit(w).await?;
        Ok(())
    }

    async fn user_named(&self, username: &str) -> Result<UserRecord> {
        self.store
            .user_by_username(username.trim())
            .await?
            .ok_or_else(|| EnterprisesError::NoSuchUser(username.trim().to_string()))
    }
}
