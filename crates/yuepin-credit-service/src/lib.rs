//! Quality credit (粤市监〔2023〕74号 measures 6, 18, 19 and 24) as use cases: bank
//! organisations and their staff, consents an enterprise grants a bank (signed artefacts,
//! pause, resume, revoke), credit reports a bank fetches under a live consent of its own,
//! the explainable grade with its history, and the append-only Merkle log of every consent
//! change, fetch and grade change with signed checkpoints and proofs.
//!
//! The rules live in the pure `yuepin-credit` crate (consent state machine, rating model,
//! Merkle tree); this crate loads what they need, applies them inside the writing transaction
//! and persists the outcome. Every use case takes the [`Caller`] first and checks role and
//! tenant itself: an enterprise user grants and manages only its own consents and sees its
//! own grade; a `bank` account (bound to one bank through `credit_bank_staff`) sees only its
//! own bank's consents, reports and log entries; regulators, the CLI operator and the system
//! administer banks, grades and the log. Someone else's consent looks the same as a missing one.
//!
//! The quality file is read through its owners (`EnterprisesService`, `ComplaintsService`),
//! never their tables.

mod banks;
mod consents;
pub mod error;
mod grades;
pub mod keys;
mod log;
pub mod pdf;
pub mod records;
mod reports;
mod store;

pub use error::{CreditError, CreditResult};
pub use keys::{CreditKeys, CREDIT_KID};
pub use records::*;

use chrono::NaiveDateTime;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use yuepin_domain::{Caller, CallerKind, Denied, Role};
use yuepin_store::Store;

/// The service's clock: China time, whole seconds, with an offset tests can move forward
/// (to reach expiry and fetch intervals without waiting).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> NaiveDateTime {
        yuepin_credit::consent::whole_seconds(yuepin_domain::china_now())
            + chrono::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }
    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

/// The credit capability. Cheap to clone: the store handle, the services it reads the quality
/// file through, the signing key and the clock.
#[derive(Debug, Clone)]
pub struct CreditService {
    store: Store,
    registry: yuepin_enterprises_service::EnterprisesService,
    complaints: yuepin_complaints_service::ComplaintsService,
    keys: CreditKeys,
    clock: Clock,
}

impl CreditService {
    /// The service over `store`, with its signing key in `keys_dir`
    /// (`{data_dir}/credit-keys`).
    pub fn new(store: Store, keys_dir: PathBuf) -> Self {
        Self {
            registry: yuepin_enterprises_service::EnterprisesService::new(store.clone()),
            complaints: yuepin_complaints_service::ComplaintsService::new(store.clone()),
            store,
            keys: CreditKeys::new(keys_dir),
            clock: Clock::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn keys(&self) -> &CreditKeys {
        &self.keys
    }
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
    /// The registry this service reads enterprises through.
    pub fn registry(&self) -> &yuepin_enterprises_service::EnterprisesService {
        &self.registry
    }

    /// The published key set banks verify artefacts, reports and checkpoints with (public).
    pub fn published_keys(&self) -> CreditResult<serde_json::Value> {
        self.keys.jwks()
    }

    // ------------------------------------------------------------ who the caller is

    /// The bank a `bank` account works for; other roles are refused.
    pub async fn staff_bank(&self, caller: &Caller) -> CreditResult<i64> {
        require_exact_role(caller, Role::Bank)?;
        let user_id = caller.user_id().ok_or(CreditError::BankNotBound)?;
        let mut conn = self.store.pool().acquire().await?;
        store::staff_bank_on(&mut conn, user_id)
            .await?
            .ok_or(CreditError::BankNotBound)
    }

    /// The enterprise of an enterprise user.
    fn own_enterprise(caller: &Caller) -> CreditResult<i64> {
        require_exact_role(caller, Role::Enterprise)?;
        caller.enterprise_id().ok_or(CreditError::NoEnterprise)
    }
}

/// Passes only for callers with exactly this role (administrators are not enterprises or
/// banks: they have no own enterprise or bank to act for).
fn require_exact_role(caller: &Caller, role: Role) -> Result<(), Denied> {
    match caller.kind {
        CallerKind::Public => Err(Denied::SignInRequired),
        _ if caller.role() == Some(role) => Ok(()),
        _ => Err(Denied::Role { needs: vec![role] }),
    }
}

/// Passes for anyone signed in (and the operator and system).
fn require_signed_in(caller: &Caller) -> Result<(), Denied> {
    match caller.kind {
        CallerKind::Public => Err(Denied::SignInRequired),
        _ => Ok(()),
    }
}
