//! 粤品通 product quality credit codes (measure 6) as a service: applications with their
//! approval pre-check, series, issuing signed codes into status lists, status changes (one code,
//! a lot, a product, an enterprise), the published key set and status lists, the public scan
//! with its quality summary, scan counting and counterfeit signals, and the demo data.
//!
//! [`CodesService`] holds the [`Store`] and the capability's long-lived state: the key ring
//! loaded from `{data_dir}/keys` (see [`keys`]), the verification cache, the short-lived code
//! cache of the scan path and the scan-count buffer (see [`scan`]). It is cheap to clone (the
//! state is behind an `Arc`). Every use case takes the [`Caller`] first and checks role and
//! tenant itself; the public ones (scan, published documents) say so.

pub mod error;
pub mod keys;
pub mod precheck;
pub mod records;
pub mod scan;
mod scan_limit;

mod applications;
mod demo;
mod issue;
mod labels;
mod status;
mod store;

pub use applications::{ApplyRequest, CodesHome};
pub use error::{CodesError, Entity, Result};
pub use issue::{batch_spec, Issued, SeriesChoice, SeriesDetail};
pub use keys::{KeyFiles, Loaded};
pub use labels::{label_sheet, LabelLayout, LabelText, SeriesFile, LABELS_PER_FILE};
pub use records::*;
pub use scan::{AwardLine, CodeScans, InspectionLine, ScanData, Scanned, Signals};
pub use status::{KeyAction, StatusChanged, StatusTarget};

use std::path::PathBuf;
use std::sync::Arc;
use yuepin_code::Resolver;
use yuepin_domain::{Caller, CallerKind, Denied};
use yuepin_store::Store;

/// Time-to-live of published status lists (also their `Cache-Control: max-age`).
pub const STATUS_TTL_SECONDS: u64 = 900;
/// How long a looked-up code may be served from memory (changes made through this service
/// clear the cache at once; changes from other processes show within this time).
pub const CODE_CACHE_SECONDS: u64 = 1;
/// Buffered scan counts are flushed to the database at least this often (on the next scan).
pub const SCAN_FLUSH_SECONDS: u64 = 5;
/// The largest counterfeit-signal threshold a rule may set (the smallest is 1).
pub const MAX_SIGNAL_THRESHOLD: i64 = 1_000_000;
/// Longest free text (notes, reasons) kept, in characters.
const TEXT_LIMIT: usize = 500;

/// The codes capability. See the crate documentation.
#[derive(Clone)]
pub struct CodesService {
    store: Store,
    /// The owner of enterprises and products (every read of them goes through it).
    registry: yuepin_enterprises_service::EnterprisesService,
    /// The owner of complaint counts (the scan page shows the 12-month count).
    complaints: yuepin_complaints_service::ComplaintsService,
    keys: KeyFiles,
    state: Arc<scan::State>,
}

impl std::fmt::Debug for CodesService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodesService")
            .field("keys_dir", &self.keys.dir())
            .finish()
    }
}

impl CodesService {
    /// The service over `store`, with signing keys in `keys_dir` (`{data_dir}/keys`, created on
    /// first use) and codes issued on `public_url` (e.g. `https://q.yuepin.gd.gov.cn`).
    pub fn new(store: Store, keys_dir: PathBuf, public_url: &str) -> Self {
        Self {
            complaints: yuepin_complaints_service::ComplaintsService::new(store.clone()),
            registry: yuepin_enterprises_service::EnterprisesService::new(store.clone()),
            store,
            keys: KeyFiles::new(keys_dir, public_url),
            state: Arc::new(scan::State::default()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The registry this service reads enterprises and products through.
    pub fn registry(&self) -> &yuepin_enterprises_service::EnterprisesService {
        &self.registry
    }

    /// The key ring files (for the operator's key commands).
    pub fn key_files(&self) -> &KeyFiles {
        &self.keys
    }

    /// The resolver codes are issued on (the public URL).
    pub fn resolver(&self) -> Result<&Resolver> {
        self.keys.resolver()
    }

    /// The loaded key ring and its published documents (created on first use).
    pub fn loaded(&self) -> Result<Arc<Loaded>> {
        let (loaded, reread) = self.state.ring.loaded(&self.keys)?;
        if reread {
            self.state.forget_verifications();
        }
        Ok(loaded)
    }
}

/// Any signed-in caller (or the operator and the system); only the anonymous public is refused.
fn require_signed_in(caller: &Caller) -> std::result::Result<(), Denied> {
    match caller.kind {
        CallerKind::Public => Err(Denied::SignInRequired),
        _ => Ok(()),
    }
}

/// A required reason: trimmed, at most [`TEXT_LIMIT`] characters.
fn required_reason(reason: &str) -> Result<String> {
    let reason: String = reason.trim().chars().take(TEXT_LIMIT).collect();
    if reason.is_empty() {
        return Err(CodesError::ReasonRequired);
    }
    Ok(reason)
}
