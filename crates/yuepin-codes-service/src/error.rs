//! Why a codes use case failed, as codes, field names and values. No sentences for users: the
//! web layer (`yuepin-web/src/codes/mod.rs`) words them in Chinese and English, the CLI prints
//! the `Display` form.

use crate::records::ApplicationStatus;
use yuepin_code::{CodeError, ParseError};

/// A stored thing a use case looked for and did not find (or may not show: someone else's
/// application or series looks the same as a missing one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Application,
    Series,
    Code,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Application => "code application",
            Entity::Series => "code series",
            Entity::Code => "code",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodesError {
    #[error(transparent)]
    Denied(#[from] yuepin_domain::Denied),
    #[error(transparent)]
    Store(#[from] yuepin_store::StoreError),
    /// The product does not exist or belongs to another enterprise (one answer for both).
    #[error("product #{product_id} not found")]
    NoSuchProduct { product_id: i64 },
    #[error("{} #{id} not found", entity.as_str())]
    NotFound { entity: Entity, id: i64 },
    /// A code URI that names no issued code.
    #[error("unknown code")]
    UnknownCode,
    /// This client scanned too often this minute (`scan_limit.rs`).
    #[error("too many scans; retry after {retry_after_secs} s")]
    ScanRateLimited { retry_after_secs: u64 },
    #[error("no status list {list_id}")]
    NoStatusList { list_id: i64 },
    /// A field of the request that does not parse (`lot`, `uri`).
    #[error("{field}: {source}")]
    Field {
        field: &'static str,
        #[source]
        source: ParseError,
    },
    /// A field the request must carry for its scope (`uri`, `product_id`, `lot`, `uscc`).
    #[error("{field} is required")]
    Required { field: &'static str },
    #[error("quantity must be 1 to {max}")]
    Quantity { max: i64 },
    #[error("count must be 1 to {max} per issue")]
    Count { max: usize },
    #[error("a reason is required")]
    ReasonRequired,
    /// `lookback_months` above 120 or `max_quantity` below 1.
    #[error("approval rule out of range: lookback_months 0 to 120, max_quantity at least 1")]
    ApprovalRuleRange,
    /// A counterfeit-signal threshold outside 1 to [`crate::MAX_SIGNAL_THRESHOLD`]: zero or a
    /// negative number would flag every scanned code.
    #[error("{field} must be 1 to {max}")]
    SignalRuleRange { field: &'static str, max: i64 },
    #[error("application #{id} is already {status}")]
    AlreadyDecided { id: i64, status: ApplicationStatus },
    #[error("series #{series_id} allows {remaining} more code(s), {requested} requested")]
    SeriesExhausted {
        series_id: i64,
        remaining: i64,
        requested: i64,
    },
    #[error("no approved series of product #{product_id} (lot {lot:?}) with room for {count} codes: apply and have it approved, or grant one")]
    NoSeriesWithRoom {
        product_id: i64,
        lot: Option<String>,
        count: usize,
    },
    #[error("series #{series_id} is for product #{product_id} lot {lot:?}")]
    SeriesMismatch {
        series_id: i64,
        product_id: i64,
        lot: Option<String>,
    },
    /// The configured public URL cannot serve as the codes' resolver.
    #[error("public URL {url} as code resolver: {source}")]
    PublicUrl {
        url: String,
        #[source]
        source: ParseError,
    },
    /// Opening, creating or changing the key ring files.
    #[error("key ring: {0}")]
    KeyRing(#[source] CodeError),
    /// Signing, status-list building or any other failure of the code library.
    #[error(transparent)]
    Code(#[from] CodeError),
    #[error("lock poisoned")]
    Poisoned,
    /// Writing a label sheet (PDF or CSV) failed.
    #[error("label sheet: {0}")]
    Labels(String),
}

pub type Result<T, E = CodesError> = std::result::Result<T, E>;

impl From<ParseError> for CodesError {
    fn from(e: ParseError) -> Self {
        CodesError::Code(CodeError::Parse(e))
    }
}

impl From<sqlx::Error> for CodesError {
    fn from(e: sqlx::Error) -> Self {
        CodesError::Store(e.into())
    }
}
