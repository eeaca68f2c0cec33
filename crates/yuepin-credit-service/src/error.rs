//! What can go wrong in a credit use case. No UI text: variants carry codes, fields and values;
//! the web layer words them (zh/en) and picks the status, the CLI prints them as they are.

use yuepin_credit::{FetchRefused, IllegalTransition, ProofError, TermsError};
use yuepin_domain::Denied;
use yuepin_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CreditError {
    /// Role or tenant refused (sign-in required, wrong role, another organisation).
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The record does not exist, or exists but is hidden from the caller (another bank's or
    /// another enterprise's consent looks the same as a missing one).
    #[error("{entity} {key} not found")]
    NotFound { entity: &'static str, key: String },
    /// The consent's terms or one of their values are refused.
    #[error("invalid terms: {0}")]
    Terms(#[from] TermsError),
    /// The consent does not allow this fetch (why, as a code).
    #[error("fetch refused: {0}")]
    Refused(FetchRefused),
    /// The consent's state machine does not take this step.
    #[error("{0}")]
    Illegal(IllegalTransition),
    /// A proof cannot be made for these sizes or this index.
    #[error("proof: {0}")]
    Proof(#[from] ProofError),
    /// A `bank` account that no bank organisation has been bound to yet.
    #[error("the bank account is not bound to a bank")]
    BankNotBound,
    /// An enterprise account without an enterprise.
    #[error("the account has no enterprise")]
    NoEnterprise,
    /// Another bank already uses this code.
    #[error("bank code {0} is taken")]
    BankCodeTaken(String),
    /// A bank code or name the platform refuses (the field named).
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// Only `bank` accounts can be bound to a bank.
    #[error("user {0} is not a bank account")]
    NotBankAccount(String),
    /// The platform's credit signing key cannot be read or created.
    #[error("credit key: {0}")]
    Key(String),
    /// The report could not be laid out as PDF.
    #[error("pdf: {0}")]
    Pdf(String),
    /// Reading the quality file through its owning service failed.
    #[error("quality file: {0}")]
    QualityFile(String),
}

pub type CreditResult<T> = std::result::Result<T, CreditError>;

impl From<sqlx::Error> for CreditError {
    fn from(e: sqlx::Error) -> Self {
        CreditError::Store(StoreError::Database(e))
    }
}

impl From<yuepin_enterprises_service::EnterprisesError> for CreditError {
    fn from(e: yuepin_enterprises_service::EnterprisesError) -> Self {
        use yuepin_enterprises_service::EnterprisesError as E;
        match e {
            E::Denied(d) => CreditError::Denied(d),
            E::Store(s) => CreditError::Store(s),
            E::NoSuchEnterprise(uscc) => CreditError::missing("enterprise", uscc),
            other => CreditError::QualityFile(other.to_string()),
        }
    }
}

impl From<yuepin_complaints_service::ComplaintsError> for CreditError {
    fn from(e: yuepin_complaints_service::ComplaintsError) -> Self {
        use yuepin_complaints_service::ComplaintsError as E;
        match e {
            E::Denied(d) => CreditError::Denied(d),
            E::Store(s) => CreditError::Store(s),
            other => CreditError::QualityFile(other.to_string()),
        }
    }
}

impl CreditError {
    pub(crate) fn missing(entity: &'static str, key: impl ToString) -> Self {
        CreditError::NotFound {
            entity,
            key: key.to_string(),
        }
    }
}
