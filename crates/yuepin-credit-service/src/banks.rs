//! Bank organisations and their staff: the regulator registers a bank and binds `bank`
//! accounts to it; signed-in users list banks (an enterprise picks one to grant a consent).

use crate::error::{CreditError, CreditResult};
use crate::records::BankRecord;
use crate::{require_signed_in, store, CreditService};
use yuepin_domain::{Caller, Role};
use yuepin_store::{Actor, Change};

/// A bank code: 2 to 20 of `A-Z 0-9 -`.
fn check_code(code: &str) -> CreditResult<()> {
    let ok = (2..=20).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(CreditError::Invalid("code"))
    }
}

fn check_name(name: &str) -> CreditResult<()> {
    let n = name.trim().chars().count();
    if (1..=100).contains(&n) && !name.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(CreditError::Invalid("name"))
    }
}

impl CreditService {
    /// Registers a bank organisation (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_bank(
        &self,
        caller: &Caller,
        code: &str,
        name: &str,
    ) -> CreditResult<BankRecord> {
        caller.require_administrator()?;
        check_code(code)?;
        check_name(name)?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        if store::bank_by_code_on(w.conn(), code).await?.is_some() {
            return Err(CreditError::BankCodeTaken(code.to_string()));
        }
        let id = store::insert_bank(w.conn(), code, name.trim()).await?;
        w.record(
            Change::new("create", "credit_bank", id)
                .after(serde_json::json!({"code": code, "name": name.trim()})),
        );
        self.store.commit(w).await?;
        Ok(BankRecord {
            id,
            code: code.to_string(),
            name: name.trim().to_string(),
        })
    }

    /// Binds a `bank` account to a bank (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn bind_bank_staff(
        &self,
        caller: &Caller,
        bank_id: i64,
        username: &str,
    ) -> CreditResult<()> {
        caller.require_administrator()?;
        let user = self
            .store
            .user_by_username(username)
            .await?
            .ok_or_else(|| CreditError::missing("user", username))?;
        if user.role != Role::Bank {
            return Err(CreditError::NotBankAccount(user.username));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        if store::bank_on(w.conn(), bank_id).await?.is_none() {
            return Err(CreditError::missing("bank", format!("#{bank_id}")));
        }
        store::bind_staff(w.conn(), user.id, bank_id).await?;
        w.record(
            Change::new("bind", "credit_bank_staff", user.id)
                .after(serde_json::json!({"user_id": user.id, "bank_id": bank_id})),
        );
        self.store.commit(w).await?;
        Ok(())
    }

    /// Every bank (any signed-in caller: enterprises choose whom to grant a consent).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn banks(&self, caller: &Caller) -> CreditResult<Vec<BankRecord>> {
        require_signed_in(caller)?;
        let mut conn = self.store.pool().acquire().await?;
        Ok(store::banks_on(&mut conn).await?)
    }
}
