//! Creating accounts (administrators only): the username rule, the password policy, Argon2id
//! hashing, and the binding of enterprise users to their enterprise. Used by the API, the
//! `yuepin admin` command and demo seeding alike.

use crate::error::{EnterprisesError, Invalid, Result};
use crate::EnterprisesService;
use yuepin_domain::{Caller, Role, Uscc};
use yuepin_store::{passwords, Actor, StoreError, UserRecord};

/// An account to create, as entered.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: String,
    pub enterprise_uscc: Option<String>,
}

fn username_ok(u: &str) -> bool {
    (3..=40).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

impl EnterprisesService {
    /// Validates and creates an account; returns its id.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_account(&self, caller: &Caller, a: NewAccount) -> Result<i64> {
        caller.require_administrator()?;
        let username = a.username.trim().to_string();
        if !username_ok(&username) {
            return Err(EnterprisesError::invalid("username", Invalid::Username));
        }
        passwords::check_new_password(&a.password)
            .map_err(|p| EnterprisesError::invalid("password", Invalid::Password(p)))?;
        let role: Role = a.role.parse()?;
        let uscc = a
            .enterprise_uscc
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let enterprise_id = match (role, uscc) {
            (Role::Enterprise, Some(u)) => Some(
                self.enterprise_by_uscc(Uscc::parse(u)?.as_str())
                    .await
                    .map_err(|_| {
                        EnterprisesError::invalid("enterprise_uscc", Invalid::NoSuchEnterprise)
                    })?
                    .id,
            ),
            (Role::Enterprise, None) => {
                return Err(EnterprisesError::invalid(
                    "enterprise_uscc",
                    Invalid::EnterpriseRequired,
                ))
            }
            (_, Some(_)) => {
                return Err(EnterprisesError::invalid(
                    "enterprise_uscc",
                    Invalid::EnterpriseNotAllowed,
                ))
            }
            (_, None) => None,
        };
        let hash = passwords::hash_password(&a.password)
            .map_err(|e| StoreError::Native(format!("password hashing: {e}")))?;
        let display = match a.display_name.trim() {
            "" => username.clone(),
            d => d.to_string(),
        };
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let id = match self
            .store
            .create_user(&mut w, &username, &display, &hash, role, enterprise_id)
            .await
        {
            Err(StoreError::Conflict(_)) => return Err(EnterprisesError::UsernameTaken(username)),
            other => other?,
        };
        self.store.commit(w).await?;
        Ok(id)
    }

    /// Every account (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn accounts(&self, caller: &Caller) -> Result<Vec<UserRecord>> {
        caller.require_administrator()?;
        Ok(self.store.users().await?)
    }

    /// Page `page` (1-based, clamped to the last page) of `per_page` accounts, with the number
    /// of accounts and the page actually shown (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn accounts_page(
        &self,
        caller: &Caller,
        page: i64,
        per_page: i64,
    ) -> Result<AccountsPage> {
        caller.require_administrator()?;
        let per_page = per_page.max(1);
        let total = self.store.user_count().await?;
        let last = ((total + per_page - 1) / per_page).max(1);
        let page = page.clamp(1, last);
        let users = self
            .store
            .users_page(per_page, (page - 1) * per_page)
            .await?;
        Ok(AccountsPage { users, total, page })
    }
}

/// One page of the accounts list.
#[derive(Debug)]
pub struct AccountsPage {
    pub users: Vec<UserRecord>,
    /// Accounts in all.
    pub total: i64,
    /// The page shown (1-based, within the pages there are).
    pub page: i64,
}
