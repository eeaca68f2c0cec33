//! The complaints capability (measure 22 of 粤市监〔2023〕74号) as a service: 12315 complaint
//! import (CSV / JSON Lines / XLSX, UTF-8 or GBK, a whole file or nothing), classification of
//! missing labels with the lexicon, regulators' corrections, aggregates for the dashboard,
//! surge detection over the complaint cube and its alarms, and consumer warnings (消费提示/警示)
//! from draft through the named enterprises' comment window to publication.
//!
//! Every use case takes the [`Caller`] first and checks role and tenant itself. The two reads
//! other capabilities use — [`ComplaintsService::complaint_count_12m`] (the one definition of
//! "complaints in the last 12 months") and [`ComplaintsService::complaint_warnings_for_enterprise`]
//! — are public information on a scan page and take no caller.
//!
//! Privacy: only an administrator reading one complaint ([`ComplaintsService::complaint`]) gets
//! the complainant's raw data; lists, drill-downs, exports, evidence and enterprise views are
//! masked here, not in the callers.
//!
//! Layout: `import` (the bulk paths), `queries` (lists, counts, the cross-capability reads),
//! `lexicon` (classifier, terms, corrections, accuracy), `detect` (cube and runs), `alarms`,
//! `warnings` and `drafting` (the workflow and the draft's evidence), `records`, `sql`.

mod alarm_export;
mod alarms;
mod detect;
mod drafting;
pub mod error;
mod import;
mod lexicon;
mod queries;
pub mod records;
mod sql;
mod warnings;

pub use alarm_export::{
    csv_cell, write_alarms, AlarmExport, ExportFormat, ExportLang, ALARM_EXPORT_MAX,
};
pub use alarms::{alarm_rollup, AlarmDrillDown, AlarmFilter, AlarmPage, ALARM_PAGE_MAX};
pub use error::{ComplaintsError, Invalid, Result, WarningAction};
pub use import::{ImportOptions, ImportProgress, ImportReport, RowErrorOut};
pub use lexicon::{check_term, term_target, TERM_MAX_CHARS};
pub use queries::iso_week_start;
pub use records::*;
pub use warnings::{COMMENT_DAYS_DEFAULT, COMMENT_DAYS_MAX};
pub use yuepin_enterprises_service::EnterpriseKey;

use std::sync::Arc;
use yuepin_complaints::Classifier;
use yuepin_domain::Caller;
use yuepin_store::Store;

/// The complaints service: the store plus the classifier with the stored lexicon applied,
/// rebuilt when the lexicon changes (building one segments the whole seed lexicon, so it is
/// kept between calls). Cheap to clone; clones share the classifier.
#[derive(Clone)]
pub struct ComplaintsService {
    store: Store,
    /// The owner of enterprises (linking complaints reads them through it).
    registry: yuepin_enterprises_service::EnterprisesService,
    /// (lexicon version, classifier built for it).
    classifier: Arc<tokio::sync::Mutex<Option<(String, Arc<Classifier>)>>>,
}

impl std::fmt::Debug for ComplaintsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComplaintsService")
            .field("store", &self.store)
            .finish()
    }
}

impl ComplaintsService {
    pub fn new(store: Store) -> Self {
        Self {
            registry: yuepin_enterprises_service::EnterprisesService::new(store.clone()),
            store,
            classifier: Arc::default(),
        }
    }

    /// The store this service writes to (for the caller's WAL checkpoint after an import).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The registry this service reads enterprises through.
    pub fn registry(&self) -> &yuepin_enterprises_service::EnterprisesService {
        &self.registry
    }
}

/// The caller as the audit log records it.
fn actor(caller: &Caller) -> yuepin_store::Actor {
    yuepin_store::Actor::from(caller)
}
