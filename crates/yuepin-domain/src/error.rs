//! The one error type of the domain: which field was wrong and why, in words a clerk understands.

/// A value that could not be parsed into a domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct DomainError {
    /// The field or type that was being parsed, e.g. `uscc`.
    pub field: &'static str,
    /// Why the value was rejected, with the offending value where useful.
    pub reason: String,
}

impl DomainError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
