//! Who the caller is to the product hospital, and what they may see of a case: administrators
//! (regulator, CLI, system) everything; an enterprise user its own enterprise's cases; an
//! expert the cases assigned to them, on their panels, or in hospitals they coordinate. Other
//! roles are refused; a case outside the caller's reach is "not found".

use crate::error::{HospitalError, HospitalResult};
use crate::records::{CaseRecord, ExpertRecord};
use crate::store::{self, Scope};
use crate::HospitalService;
use sqlx::AnyConnection;
use yuepin_domain::{Caller, CallerKind, Denied, Role};

/// The caller as the hospital sees them.
#[derive(Debug, Clone)]
pub(crate) enum Viewer {
    Admin,
    Enterprise(i64),
    Expert(ExpertRecord),
}

impl Viewer {
    pub(crate) fn scope(&self) -> Scope {
        match self {
            Viewer::Admin => Scope::All,
            Viewer::Enterprise(e) => Scope::Enterprise(*e),
            Viewer::Expert(x) => Scope::Expert(x.id),
        }
    }

    /// Does the viewer coordinate this hospital (assign, reassign, approve)?
    pub(crate) fn coordinates(&self, hospital_id: i64) -> bool {
        match self {
            Viewer::Admin => true,
            Viewer::Enterprise(_) => false,
            Viewer::Expert(x) => x
                .memberships
                .iter()
                .any(|m| m.hospital_id == hospital_id && m.coordinator),
        }
    }

    /// Is the viewer the case's assigned expert or on its panel?
    pub(crate) fn treats(&self, case: &CaseRecord) -> bool {
        match self {
            Viewer::Expert(x) => case.expert_id == Some(x.id) || case.panel.contains(&x.id),
            _ => false,
        }
    }

    pub(crate) fn may_see(&self, case: &CaseRecord) -> bool {
        match self {
            Viewer::Admin => true,
            Viewer::Enterprise(e) => case.enterprise_id == *e,
            Viewer::Expert(_) => self.treats(case) || self.coordinates(case.hospital_id),
        }
    }

    /// Internal notes are for the hospital side only.
    pub(crate) fn sees_internal(&self) -> bool {
        !matches!(self, Viewer::Enterprise(_))
    }

    pub(crate) fn expert_id(&self) -> Option<i64> {
        match self {
            Viewer::Expert(x) => Some(x.id),
            _ => None,
        }
    }
}

impl HospitalService {
    pub(crate) async fn viewer_on(
        &self,
        conn: &mut AnyConnection,
        caller: &Caller,
    ) -> HospitalResult<Viewer> {
        match caller.kind {
            CallerKind::Public => Err(Denied::SignInRequired.into()),
            _ if caller.is_administrator() => Ok(Viewer::Admin),
            _ => match caller.role() {
                Some(Role::Enterprise) => caller
                    .enterprise_id()
                    .map(Viewer::Enterprise)
                    .ok_or(HospitalError::NoEnterprise),
                Some(Role::Expert) => {
                    let uid = caller.user_id().ok_or(HospitalError::ExpertNotBound)?;
                    store::expert_by_user(conn, uid)
                        .await?
                        .map(Viewer::Expert)
                        .ok_or(HospitalError::ExpertNotBound)
                }
                _ => Err(Denied::Role {
                    needs: vec![Role::Enterprise, Role::Expert],
                }
                .into()),
            },
        }
    }

    /// The case if the viewer may see it; otherwise "not found".
    pub(crate) async fn visible_case_on(
        &self,
        conn: &mut AnyConnection,
        viewer: &Viewer,
        id: i64,
    ) -> HospitalResult<CaseRecord> {
        match store::case(conn, id).await? {
            Some(c) if viewer.may_see(&c) => Ok(c),
            _ => Err(HospitalError::missing("case", format!("#{id}"))),
        }
    }
}

/// Passes for anyone signed in (and the operator and system).
pub(crate) fn require_signed_in(caller: &Caller) -> Result<(), Denied> {
    match caller.kind {
        CallerKind::Public => Err(Denied::SignInRequired),
        _ => Ok(()),
    }
}
