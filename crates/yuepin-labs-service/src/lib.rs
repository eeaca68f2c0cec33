//! Shared testing resources (粤市监〔2023〕74号 measures 3 and 4) as use cases: the catalogue
//! (labs, instruments, services, blackouts, operator qualifications, lab staff), availability
//! search, time-share bookings with the waitlist and the periodic sweep, outsourced-testing
//! orders with their verifiable reports, invoices, savings, utilisation, calendar feeds, and the
//! bulk loads the CLI uses for demo data and benchmarks.
//!
//! The rules and state machines live in the pure `yuepin-labs` crate; this crate loads what
//! they need inside the writing transaction, applies them and persists the outcome. Every use
//! case takes the [`Caller`] first and checks role and tenant itself: the catalogue,
//! availability and report verification are public; an enterprise user sees and changes only
//! its own bookings and orders; a `lab` account (bound to one lab through `lab_staff`) manages
//! only its own lab; regulators, the CLI operator and the system administer everything.

mod availability;
mod bookings;
mod catalogue;
mod dashboard;
pub mod error;
mod feeds;
mod import;
pub mod invoice;
mod orders;
pub mod records;
mod reports;
mod store;
mod waitlist;

pub use error::{Invalid, LabsError, LabsResult, Party};
pub use invoice::{
    invoice_number, invoice_pdf, BookingInvoiceDocument, InvoiceSheet, OrderInvoiceDocument,
};
pub use records::*;

use chrono::NaiveDateTime;
use yuepin_domain::{Caller, CallerKind, Denied, Role, Uscc};
use yuepin_store::Store;

/// Longest booking accepted, whatever the policy (bounds the search's index scan).
pub const MAX_BOOKING_MINUTES: i64 = 24 * 60;
/// Longest availability-search window.
pub const MAX_SEARCH_DAYS: i64 = 92;

/// "Now" for the booking rules: China time at whole minutes (bookings are on a minute grid,
/// and the rules compare against the start of the current minute).
pub fn now() -> NaiveDateTime {
    let t = yuepin_domain::china_now();
    let secs = t.and_utc().timestamp();
    chrono::DateTime::from_timestamp(secs - secs.rem_euclid(60), 0)
        .map(|d| d.naive_utc())
        .unwrap_or(t)
}

/// The labs capability. Cheap to clone: it holds the store handle and the registry it reads
/// enterprises through (the module keeps no long-lived state of its own).
#[derive(Debug, Clone)]
pub struct LabsService {
    store: Store,
    /// The owner of enterprises (lab users' enterprises are read through it).
    registry: yuepin_enterprises_service::EnterprisesService,
}

impl LabsService {
    pub fn new(store: Store) -> Self {
        Self {
            registry: yuepin_enterprises_service::EnterprisesService::new(store.clone()),
            store,
        }
    }

    /// The registry this service reads enterprises through.
    pub fn registry(&self) -> &yuepin_enterprises_service::EnterprisesService {
        &self.registry
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    // ------------------------------------------------------------ who the caller is

    /// The lab a `lab` account works for; other roles are refused.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn staff_lab(&self, caller: &Caller) -> LabsResult<i64> {
        require_exact_role(caller, Role::Lab)?;
        self.bound_lab(caller).await?.ok_or(LabsError::LabNotBound)
    }

    /// The lab a `lab` account is bound to (`None` for other callers and unbound accounts).
    async fn bound_lab(&self, caller: &Caller) -> LabsResult<Option<i64>> {
        match (caller.role(), caller.user_id()) {
            (Some(Role::Lab), Some(user_id)) => {
                let mut conn = self.store.pool().acquire().await?;
                Ok(store::staff_lab_on(&mut conn, user_id).await?)
            }
            _ => Ok(None),
        }
    }

    /// The enterprise of an enterprise user.
    fn own_enterprise(caller: &Caller) -> LabsResult<i64> {
        require_exact_role(caller, Role::Enterprise)?;
        caller.enterprise_id().ok_or(LabsError::NoEnterprise)
    }

    /// The enterprise of an enterprise user with its credit code.
    async fn own_enterprise_uscc(&self, caller: &Caller) -> LabsResult<(i64, Uscc)> {
        let id = Self::own_enterprise(caller)?;
        Ok((id, self.enterprise_uscc(id).await?))
    }

    async fn enterprise_uscc(&self, id: i64) -> LabsResult<Uscc> {
        Ok(self.registry().enterprise_by_id(id).await?.enterprise.uscc)
    }

    /// Administrators manage every lab; a lab account only its own.
    async fn require_manage_lab(&self, caller: &Caller, lab_id: i64) -> LabsResult<()> {
        if matches!(caller.kind, CallerKind::Public) {
            return Err(Denied::SignInRequired.into());
        }
        if caller.is_administrator() {
            return Ok(());
        }
        if caller.role() != Some(Role::Lab) {
            return Err(Denied::Role {
                needs: vec![Role::Regulator, Role::Lab],
            }
            .into());
        }
        if self.staff_lab(caller).await? == lab_id {
            Ok(())
        } else {
            Err(Denied::OtherOrganisation.into())
        }
    }

    /// Who may see a booking or order of `lab_id` for `enterprise_id`: that enterprise, the
    /// lab's staff, administrators. Everyone else is told it does not exist.
    async fn can_see(
        &self,
        caller: &Caller,
        lab_id: i64,
        enterprise_id: Option<i64>,
    ) -> LabsResult<bool> {
        if matches!(caller.kind, CallerKind::Public) {
            return Err(Denied::SignInRequired.into());
        }
        Ok(match caller.role() {
            _ if caller.is_administrator() => true,
            Some(Role::Enterprise) => {
                enterprise_id.is_some() && caller.enterprise_id() == enterprise_id
            }
            Some(Role::Lab) => self.bound_lab(caller).await? == Some(lab_id),
            _ => false,
        })
    }
}

/// Passes only for callers with exactly this role (administrators are not enterprises or
/// labs: they have no own enterprise or lab to act for).
fn require_exact_role(caller: &Caller, role: Role) -> Result<(), Denied> {
    match caller.kind {
        CallerKind::Public => Err(Denied::SignInRequired),
        _ if caller.role() == Some(role) => Ok(()),
        _ => Err(Denied::Role { needs: vec![role] }),
    }
}
