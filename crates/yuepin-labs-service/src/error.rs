//! What can go wrong in a labs use case. No UI text: variants carry codes, fields and values;
//! the web layer words them (zh/en) and picks the status, the CLI prints them as they are.

use yuepin_domain::Denied;
use yuepin_labs::{BookingRejection, IllegalTransition};
use yuepin_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LabsError {
    /// Role or tenant refused (sign-in required, wrong role, another enterprise, another lab).
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The record does not exist, or exists but is hidden from the caller (a booking or order
    /// of someone else looks the same as a missing one).
    #[error("{entity} {key} not found")]
    NotFound { entity: &'static str, key: String },
    /// A booking rule refused the request (`part` is the index in a combined booking).
    #[error("booking rejected: {reason}")]
    Rejected {
        part: Option<usize>,
        reason: BookingRejection,
    },
    /// The database refused an overlapping booking (a concurrent request won).
    #[error("the slot was just booked by someone else")]
    DoubleBooked,
    /// The booking or order state machine does not accept this step.
    #[error("illegal transition: {0}")]
    Illegal(IllegalTransition),
    /// A value the use case itself refuses (not a parse error of a request: those stay in the
    /// caller's face).
    #[error("invalid {0:?}")]
    Invalid(Invalid),
    /// Another lab already uses this code.
    #[error("lab code {0} is taken")]
    LabCodeTaken(String),
    /// Only `lab` accounts can be bound to a lab.
    #[error("user {0} is not a lab account")]
    NotLabAccount(String),
    /// A `lab` account that no lab has been bound to yet.
    #[error("the lab account is not bound to a lab")]
    LabNotBound,
    /// An enterprise account without an enterprise.
    #[error("the account has no enterprise")]
    NoEnterprise,
    /// The step belongs to another party of the booking or order.
    #[error("the action belongs to the {0:?}")]
    NotYourAction(Party),
    /// Results are recorded while testing (the order is in `state`).
    #[error("results are recorded while testing, not in state {state}")]
    NotTesting { state: &'static str },
    /// Results are recorded by the tester who started the test.
    #[error("only the tester records results")]
    NotTester,
    /// A lab books internal use only on its own instruments.
    #[error("internal use only on the lab's own instruments")]
    NotOwnInstrument,
}

/// Values a use case refuses, by what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// A booking names 1 to 10 instruments.
    PartCount,
    /// The instrument (id) is no longer bookable.
    InstrumentInactive(i64),
    /// Check-in opens 30 minutes before the start.
    CheckInTooEarly,
    /// The wanted waitlist time has started.
    WaitInPast,
    /// The enterprise already waits for this instrument.
    AlreadyWaiting,
    /// 1 to 10,000 samples per order.
    SampleCount,
    /// Verifying or issuing needs recorded results.
    NoResults,
    /// Revoking a report needs a reason.
    RevokeReason,
    /// A blackout needs a reason (calibration, repair…).
    BlackoutReason,
    /// A price or amount below zero (the field named).
    Negative(&'static str),
    /// A qualification's validity must end between today and `latest` (three years on).
    QualificationValidity { latest: chrono::NaiveDate },
    /// A lab grants only qualifications that one of its own active instruments demands.
    QualificationNotOurs,
    /// The report number could not be formed (lab code, date or sequence out of range).
    ReportNumber(String),
}

/// Who takes a step on a booking or order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The lab (its staff, or the regulator on its behalf).
    Lab,
    /// The enterprise that ordered.
    Customer,
    /// The lab's own staff only.
    LabStaff,
}

pub type LabsResult<T> = std::result::Result<T, LabsError>;

impl From<sqlx::Error> for LabsError {
    fn from(e: sqlx::Error) -> Self {
        LabsError::Store(StoreError::Database(e))
    }
}

impl LabsError {
    /// A record named by its number: `key` is "#<id>".
    pub(crate) fn missing(entity: &'static str, id: i64) -> Self {
        LabsError::NotFound {
            entity,
            key: format!("#{id}"),
        }
    }
}
