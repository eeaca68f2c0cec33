//! What the complaints service can refuse or fail with. No sentences for users: variants carry
//! codes, field names and values; the web layer and the CLI word them.

use crate::records::WarningStatus;
use std::path::PathBuf;
use yuepin_complaints::{IngestError, ValueError};
use yuepin_domain::{Denied, DomainError};
use yuepin_store::StoreError;

/// Every failure of a complaints use case.
#[derive(Debug, thiserror::Error)]
pub enum ComplaintsError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file-level import failure (encoding, missing columns, unreadable workbook); row-level
    /// ones are in the import report. The pure crate's error says which columns.
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The import file's extension (or the format asked for) is not csv, jsonl or xlsx.
    #[error("unsupported file type {0:?}")]
    UnknownFormat(String),
    /// The record does not exist, or the caller may not know that it does.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: i64 },
    /// A value in the caller's input that the use case refuses.
    #[error("invalid {field}: {problem:?}")]
    Invalid {
        field: &'static str,
        problem: Invalid,
    },
    /// A category, division, problem type or channel that does not parse (the pure crate's
    /// field and reason).
    #[error("invalid {}: {}", .0.field, .0.reason)]
    Value(#[from] ValueError),
    /// A region, division or date that does not parse (the domain's field and reason).
    #[error("invalid {}: {}", .0.field, .0.reason)]
    Domain(#[from] DomainError),
    /// A warning workflow step that its current status does not allow.
    #[error("cannot {action:?} a {status:?} warning")]
    WrongStatus {
        action: WarningAction,
        status: WarningStatus,
    },
    /// A comment outside the named enterprises' comment window.
    #[error("the comment window is not open")]
    WindowClosed,
    /// Publication while the comment window is open and a named enterprise has not commented.
    #[error("the comment window runs until {deadline}")]
    WindowOpen { deadline: String },
    /// Detection "as of the last complaint" with no complaint stored.
    #[error("no complaints stored")]
    NoComplaints,
}

/// Why an input value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Text must have `min..=max` characters (and no control characters for terms).
    Length { min: usize, max: usize },
    /// A number must lie in `min..=max`.
    Range { min: i64, max: i64 },
    /// Neither a category nor a division was given.
    NeedCategoryOrDivision,
    /// A lexicon term points at exactly one of category or division.
    ExactlyOneOfCategoryOrDivision,
    /// The category belongs to another division than the one given.
    CategoryInOtherDivision { category: String, division: u8 },
    /// A detector configuration out of range or of the wrong shape (the pure crate's
    /// message names the key).
    Config(String),
    /// Not one of the accepted values.
    Unknown {
        value: String,
        expected: &'static [&'static str],
    },
}

/// The warning workflow steps (for [`ComplaintsError::WrongStatus`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningAction {
    Edit,
    Approve,
    Publish,
    Withdraw,
}

impl From<sqlx::Error> for ComplaintsError {
    fn from(e: sqlx::Error) -> Self {
        ComplaintsError::Store(e.into())
    }
}

impl ComplaintsError {
    pub(crate) fn invalid(field: &'static str, problem: Invalid) -> Self {
        ComplaintsError::Invalid { field, problem }
    }
}

pub type Result<T, E = ComplaintsError> = std::result::Result<T, E>;
