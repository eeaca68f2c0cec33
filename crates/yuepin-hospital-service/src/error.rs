//! What can go wrong in a product-hospital use case. No UI text: variants carry codes, fields
//! and values; the web layer words them (zh/en) and picks the status, the CLI prints them.

use serde::Serialize;
use yuepin_domain::Denied;
use yuepin_hospital::{CalendarError, IllegalStep};
use yuepin_store::StoreError;

/// Why a value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Invalid {
    /// Empty where a value is needed.
    Missing,
    /// Longer than the field allows.
    TooLong,
    /// Control characters or an unreadable value.
    Malformed,
    /// Outside the allowed range.
    OutOfRange,
    /// Not a known code (city, division, priority, hospital, user).
    Unknown,
    /// Already taken (a hospital code, an expert account).
    Taken,
    /// A linked record that is not the enterprise's own (or not a failed inspection).
    NotOwn,
    /// The account exists but does not have the `expert` role.
    NotExpert,
    /// A knowledge-base text still names the enterprise (its name or credit code).
    Identifying,
}

/// One refused value of an import row (row 1 is the header; data from row 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub reason: Invalid,
}

#[derive(Debug, thiserror::Error)]
pub enum HospitalError {
    /// Role or tenant refused.
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The record does not exist, or is hidden from the caller (another enterprise's case, a
    /// case not assigned to the expert, looks the same as a missing one).
    #[error("{entity} {key} not found")]
    NotFound { entity: &'static str, key: String },
    /// A value refused, the field named.
    #[error("invalid {field}: {reason:?}")]
    Invalid {
        field: &'static str,
        reason: Invalid,
    },
    /// The case's state machine does not take this step.
    #[error("{0}")]
    Illegal(#[from] IllegalStep),
    /// An `expert` account no expert record has been made for.
    #[error("the expert account is not registered as an expert")]
    ExpertNotBound,
    /// An enterprise account without an enterprise.
    #[error("the account has no enterprise")]
    NoEnterprise,
    /// An import file refused: every row error, nothing written.
    #[error("{} import errors", .0.len())]
    Import(Vec<RowError>),
    /// A calendar file refused.
    #[error("calendar: {0}")]
    Calendar(#[from] CalendarError),
    /// Reading a linked record through its owning service failed.
    #[error("linked record: {0}")]
    Link(String),
}

pub type HospitalResult<T> = std::result::Result<T, HospitalError>;

impl From<sqlx::Error> for HospitalError {
    fn from(e: sqlx::Error) -> Self {
        HospitalError::Store(StoreError::Database(e))
    }
}

impl From<yuepin_enterprises_service::EnterprisesError> for HospitalError {
    fn from(e: yuepin_enterprises_service::EnterprisesError) -> Self {
        use yuepin_enterprises_service::EnterprisesError as E;
        match e {
            E::Denied(d) => HospitalError::Denied(d),
            E::Store(s) => HospitalError::Store(s),
            E::NoSuchEnterprise(uscc) => HospitalError::missing("enterprise", uscc),
            other => HospitalError::Link(other.to_string()),
        }
    }
}

impl HospitalError {
    pub(crate) fn missing(entity: &'static str, key: impl ToString) -> Self {
        HospitalError::NotFound {
            entity,
            key: key.to_string(),
        }
    }
    pub(crate) fn invalid(field: &'static str, reason: Invalid) -> Self {
        HospitalError::Invalid { field, reason }
    }
}
