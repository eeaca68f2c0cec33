//! Everything a policy use case can refuse or fail with. No UI text: variants carry the field,
//! the code and the values; the web layer and the CLI word them (zh and en).

use crate::records::{ApplicationStatus, OfferStatus, Refusal};
use yuepin_domain::{Denied, DomainError};
use yuepin_policy::{EngineError, FactError, SubjectKind};
use yuepin_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value that does not parse (a date, an amount), with its field.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Request facts that do not fit the pack's vocabulary.
    #[error(transparent)]
    Facts(#[from] FactError),
    /// Parameter overrides the engine refuses (unknown name, bad value), or a bad measure.
    #[error(transparent)]
    Engine(#[from] EngineError),

    /// An enterprise user whose account names no enterprise.
    #[error("the account is bound to no enterprise")]
    AccountWithoutEnterprise,
    #[error("no enterprise with credit code {uscc}")]
    UnknownEnterprise { uscc: String },
    #[error("no measure {id}")]
    UnknownMeasure { id: String },
    #[error("no offer #{0}")]
    UnknownOffer(i64),
    #[error("no application #{0}")]
    UnknownApplication(i64),
    #[error("no standard record #{0}")]
    UnknownFact(i64),
    #[error("no match run #{0}")]
    UnknownRun(i64),
    /// A listing asked for the latest match run and there is none.
    #[error("no match run yet")]
    NoMatchRun,

    /// `field` must be one of `allowed`.
    #[error("{field}: {value:?} is not one of {allowed:?}")]
    Choice {
        field: &'static str,
        value: String,
        allowed: &'static [&'static str],
    },
    /// `field` is required here.
    #[error("{field} is required")]
    Required { field: &'static str },
    /// An amount that is zero or negative.
    #[error("{field} must be positive")]
    NotPositive { field: &'static str },
    /// A write that depends on eligibility was sent a date: the server's date decides.
    #[error("{field} is not accepted here: eligibility is evaluated as of the server's date")]
    ClientDate { field: &'static str },
    #[error("year {0} is out of range")]
    InvalidYear(i64),
    /// An enterprise's platform facts were asked for with another subject kind.
    #[error("enterprise facts are only for the enterprise subject")]
    EnterpriseSubjectOnly,
    #[error("{measure} has no eligibility rule for {subject}")]
    NoRuleForSubject {
        measure: String,
        subject: SubjectKind,
    },
    /// What-if subject number `index` is of another kind than the run's.
    #[error("subjects[{index}] is not a {expected}")]
    SubjectKind { index: usize, expected: SubjectKind },
    /// What-if subject number `index` has facts that do not parse.
    #[error("subjects[{index}]: {source}")]
    SubjectFacts { index: usize, source: FactError },
    #[error("at most {max} subjects")]
    TooManySubjects { max: usize },
    /// Only M8, M10 and M18 pay money and take applications.
    #[error("{measure} takes no applications")]
    NotMoneyMeasure { measure: String },
    /// The enterprise is not eligible for the measure it applies for.
    #[error("not eligible for {}", .0.measure)]
    NotEligible(Refusal),
    /// A grant that would take the enterprise's total for the measure and period over the
    /// cap of the text (fen; `already_fen` granted before).
    #[error("over the cap of {cap_fen} fen ({already_fen} fen already granted)")]
    OverCap { cap_fen: i64, already_fen: i64 },
    /// An application outside the measure's application window.
    #[error("{measure} takes applications from {first_day} to {last_day}")]
    OutsideWindow {
        measure: String,
        first_day: chrono::NaiveDate,
        last_day: chrono::NaiveDate,
        clause: String,
        /// The measure that replaces it, if a loaded pack says so.
        successor: Option<String>,
    },
    /// What is paid for names no record of the enterprise the platform holds.
    #[error("{field}: no record of the enterprise to pay for")]
    NoPayableRecord { field: &'static str },
    /// The record paid for was declared by the enterprise and awaits confirmation by `unit`.
    #[error("{field}: declared by the enterprise, awaiting confirmation by {unit}")]
    Unconfirmed { field: &'static str, unit: String },
    /// Who may apply for the measure (pack data) does not include this applicant kind.
    #[error("{measure} does not take applications from {applicant}")]
    ApplicantKind { measure: String, applicant: String },

    #[error("offer already answered ({0})")]
    OfferAnswered(OfferStatus),
    /// An offer is confirmed within [`crate::OFFER_VALID_DAYS`] of the match that made it;
    /// after that the enterprise applies (or waits for the next match).
    #[error("offer #{id} expired on {expired_on}")]
    OfferExpired {
        id: i64,
        expired_on: chrono::NaiveDate,
    },
    #[error("application already decided ({0})")]
    ApplicationDecided(ApplicationStatus),
    /// The same standard or award is never paid twice.
    #[error("{measure} {reference:?} was already paid")]
    AlreadyPaid { measure: String, reference: String },
    #[error("an application for {measure} {reference:?} is already pending")]
    ApplicationPending { measure: String, reference: String },
}

/// SQL run by this crate's own store code fails like the store's.
impl From<sqlx::Error> for PolicyError {
    fn from(e: sqlx::Error) -> Self {
        PolicyError::Store(StoreError::from(e))
    }
}

pub type Result<T, E = PolicyError> = std::result::Result<T, E>;
