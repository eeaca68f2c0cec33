//! Product hospital (产品医院, 粤市监〔2023〕74号 measure 6) as use cases: hospitals with their
//! business hours and SLA targets, experts bound to `expert` accounts (CSV imports,
//! all-or-nothing), cases an enterprise opens, routed to experts with reasons, consulted in a
//! thread with internal notes the enterprise never sees, escalated to a panel, resolved and
//! closed with root cause, fix, verification and a satisfaction survey, each SLA target's state
//! on the business calendar, the public knowledge base of anonymised solutions, and the
//! regulator's statistics.
//!
//! The rules live in the pure `yuepin-hospital` crate (calendar, SLA clock, state machine,
//! routing). Every use case takes the [`Caller`] first and checks role and tenant itself: an
//! enterprise user sees only its own cases; an expert sees the cases assigned to them, those of
//! panels they sit on, and, as a hospital's coordinator, the hospital's cases; regulators, the
//! CLI and the system see all. A case hidden from the caller looks the same as a missing one.

mod access;
mod care;
mod cases;
pub mod error;
mod hospitals;
mod import;
mod knowledge;
pub mod records;
mod stats;
mod store;

pub use error::{HospitalError, HospitalResult, Invalid, RowError};
pub use records::*;
pub use yuepin_hospital::{Calendar, CaseEvent, CaseState, TargetState};

use chrono::NaiveDateTime;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use yuepin_store::Store;

/// The service's clock: China time, whole seconds, with an offset tests can move.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> NaiveDateTime {
        let now = yuepin_domain::china_now();
        let whole =
            now - chrono::Duration::nanoseconds(now.and_utc().timestamp_subsec_nanos() as i64);
        whole + chrono::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }
    /// Moves this clock (and every clone of it) by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
    /// Sets the clock so that `now()` is about `at` (tests, demo seeding).
    pub fn set(&self, at: NaiveDateTime) {
        let real = yuepin_domain::china_now();
        self.offset_seconds
            .store((at - real).num_seconds(), Ordering::Relaxed);
    }
}

/// The product-hospital capability. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HospitalService {
    store: Store,
    registry: yuepin_enterprises_service::EnterprisesService,
    complaints: yuepin_complaints_service::ComplaintsService,
    calendar: Arc<Calendar>,
    clock: Clock,
}

impl HospitalService {
    /// The service over `store` with the compiled-in calendar (2023–2026).
    pub fn new(store: Store) -> Self {
        Self {
            registry: yuepin_enterprises_service::EnterprisesService::new(store.clone()),
            complaints: yuepin_complaints_service::ComplaintsService::new(store.clone()),
            store,
            calendar: Arc::new(Calendar::builtin()),
            clock: Clock::default(),
        }
    }

    /// Adds the years of a calendar file (same shape as `data/cn-holidays.csv`); a year the
    /// file declares replaces the compiled-in one. Used for years published after a release.
    pub fn with_calendar_text(mut self, text: &str) -> HospitalResult<Self> {
        let mut cal = (*self.calendar).clone();
        cal.merge(Calendar::parse(text)?);
        self.calendar = Arc::new(cal);
        Ok(self)
    }

    /// [`HospitalService::with_calendar_text`] from `{dir}/hospital-calendar/*.csv` when the
    /// folder exists (files in name order). Reading the files is the start-up's I/O, here so
    /// that the CLI and the server load the same way.
    pub fn with_calendar_dir(self, dir: &Path) -> HospitalResult<Self> {
        let folder = dir.join("hospital-calendar");
        let Ok(entries) = std::fs::read_dir(&folder) else {
            return Ok(self);
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        files.sort();
        let mut svc = self;
        for f in files {
            let text = std::fs::read_to_string(&f)
                .map_err(|e| HospitalError::Link(format!("{}: {e}", f.display())))?;
            svc = svc.with_calendar_text(&text)?;
        }
        Ok(svc)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}
