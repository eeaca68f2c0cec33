//! Error types of the credit-code library; every message names the field or item and why it was rejected.

use thiserror::Error;

/// A value that could not be parsed into one of this crate's newtypes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {reason}")]
pub struct ParseError {
    /// Which field or URI part was rejected (e.g. `lot`, `serial`, `uri.query`).
    pub field: &'static str,
    /// Why it was rejected.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Errors from signing, key handling, status lists and output generation.
#[derive(Debug, Error)]
pub enum CodeError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("COSE structure of field {field}: {reason}")]
    Cose { field: &'static str, reason: String },
    #[error("key set: {0}")]
    KeySet(String),
    #[error("key set signature does not verify against root key {root_kid}")]
    KeySetSignature { root_kid: String },
    #[error("status list {list_id}: {reason}")]
    StatusList { list_id: u32, reason: String },
    #[error("status list token: {0}")]
    StatusToken(String),
    #[error("status index {index}: {reason}")]
    StatusIndex { index: u64, reason: String },
    #[error("index allocator for list {list_id} is exhausted (all {capacity} entries used)")]
    ListFull { list_id: u32, capacity: u32 },
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("QR code for {what}: {reason}")]
    Qr { what: &'static str, reason: String },
    #[error("writing {what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("writing CSV row {row}: {reason}")]
    Csv { row: u64, reason: String },
}
