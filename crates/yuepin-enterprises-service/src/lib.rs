//! The registry capability: enterprises with their designations and financials, products,
//! quality events, name search, the quality credit file (质量信用档案), and the accounts that
//! belong to enterprises. Other capabilities read enterprises through this service and add
//! quality events inside their own write transactions ([`EnterprisesService::save_event`]).
//!
//! Use cases take a [`Caller`] and check role and tenant themselves (`registry.rs`,
//! `accounts.rs`); the `store` module holds the SQL.

pub mod accounts;
pub mod credentials;
pub mod error;
pub mod identity;
pub mod keys;
pub mod records;
pub mod registry;
pub mod second_factor;
pub mod secret_box;
pub mod signin;
pub mod store;

pub use accounts::{AccountsPage, NewAccount};
pub use credentials::IssuedToken;
pub use error::{EnterprisesError, Invalid};
pub use identity::{IdentityChange, IdentityChangeStatus, IdentityDecision, IDENTITY_TEXT_MAX};
pub use keys::EnterpriseKey;
pub use records::{
    summarize, EnterpriseRecord, EventRecord, ImportSummary, ProductRecord, QualityFile,
    QualitySummary, IMPORT_BATCH,
};
pub use registry::{EnterpriseUpdate, NewEvent};
pub use second_factor::{totp_required, Enrolment, FirstStep};
pub use secret_box::{SealError, SecretBox};
pub use store::bulk::MissingReference;
pub use store::import::EnterpriseImport;
pub use store::rows::{name_grams, upsert_event, upsert_product};
pub use store::search::{query_grams, EnterpriseSummary, SearchPage, SearchQuery};

use yuepin_store::Store;

/// The registry. Cheap to clone (a `Store` handle).
#[derive(Clone, Debug)]
pub struct EnterprisesService {
    store: Store,
    /// Seals TOTP secrets; a service without it refuses every second-factor use
    /// (`EnterprisesError::NoTotpKey`) rather than store a secret in the clear.
    totp_key: Option<std::sync::Arc<SecretBox>>,
}

impl EnterprisesService {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            totp_key: None,
        }
    }

    /// With the key that seals TOTP secrets (see [`secret_box`]).
    pub fn with_totp_key(mut self, key: std::sync::Arc<SecretBox>) -> Self {
        self.totp_key = Some(key);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}
