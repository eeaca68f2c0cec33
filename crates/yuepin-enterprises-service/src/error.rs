//! What the registry's use cases can refuse, as codes and fields: the web layer and the CLI
//! turn them into words in the user's language.

use yuepin_domain::{Denied, DomainError};
use yuepin_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EnterprisesError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("no enterprise {0}")]
    NoSuchEnterprise(String),
    #[error("no product #{0}")]
    NoSuchProduct(i64),
    #[error("enterprise {0} already exists")]
    EnterpriseExists(String),
    #[error("product model {0} already exists")]
    ModelExists(String),
    /// Wrong username or password (or a disabled account): one answer for all three.
    #[error("wrong username or password")]
    WrongCredentials,
    /// Too many recent failures from this address or on this account (`signin.rs`).
    #[error("too many failed sign-ins; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("no identity change request #{0}")]
    NoSuchIdentityChange(i64),
    #[error("no API token #{0}")]
    NoSuchToken(i64),
    #[error("wrong or used code")]
    WrongCode,
    #[error("the sign-in step expired; sign in again")]
    ChallengeExpired,
    #[error("no second factor is being enrolled")]
    TotpNotPending,
    #[error("the second factor is already enrolled")]
    TotpEnrolled,
    /// The service was built without the key that seals TOTP secrets.
    #[error("no TOTP key is configured")]
    NoTotpKey,
    #[error(transparent)]
    Seal(#[from] crate::secret_box::SealError),
    #[error("no account {0}")]
    NoSuchUser(String),
    #[error("username {0} is taken")]
    UsernameTaken(String),
    /// A value that parsed but is not allowed here.
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: Invalid,
    },
    /// A value that does not parse (the domain's own message says why).
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(StoreError),
}

/// Why an otherwise well-formed value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the credit code cannot change")]
    UsccCannotChange,
    #[error("the model cannot change; create a new product")]
    ModelCannotChange,
    #[error("no such product")]
    NoSuchProduct,
    #[error("the product belongs to another enterprise")]
    ProductOfAnotherEnterprise,
    #[error("unknown city {0:?}")]
    UnknownCity(String),
    #[error("3-40 letters, digits or ._-")]
    Username,
    /// A new password that breaks the rules (`yuepin_store::passwords`).
    #[error("password: {0}")]
    Password(yuepin_store::passwords::PasswordProblem),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the new password is the current one")]
    SamePassword,
    #[error("a token lives 1 to 365 days")]
    TokenDays,
    #[error("enterprise users belong to an enterprise")]
    EnterpriseRequired,
    #[error("only enterprise users belong to an enterprise")]
    EnterpriseNotAllowed,
    #[error("no such enterprise")]
    NoSuchEnterprise,
    /// An amount (capital, revenue) below zero.
    #[error("must not be negative")]
    Negative,
    #[error("required")]
    Required,
    /// Longer than the given number of characters.
    #[error("longer than {0} characters")]
    TooLong(usize),
    #[error("contains a control character")]
    ControlCharacter,
    /// The identity change request was decided (or withdrawn) already.
    #[error("already decided")]
    AlreadyDecided,
}

impl EnterprisesError {
    pub fn invalid(field: &'static str, reason: Invalid) -> Self {
        EnterprisesError::Invalid { field, reason }
    }
}

impl From<StoreError> for EnterprisesError {
    fn from(e: StoreError) -> Self {
        EnterprisesError::Store(e)
    }
}

impl From<sqlx::Error> for EnterprisesError {
    fn from(e: sqlx::Error) -> Self {
        EnterprisesError::Store(e.into())
    }
}

pub type Result<T, E = EnterprisesError> = std::result::Result<T, E>;
