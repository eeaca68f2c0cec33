//! Reviewed identity changes (issue 17 item 4, ASVS 5.0 2.3): an enterprise's name and region
//! are what consumers see on every 粤品通 scan, so an enterprise's own edit cannot change them.
//! It files a request instead (one pending at a time; a new one withdraws the old), keeps the
//! stored values, and a regulator approves (the change is applied in the same audited write)
//! or rejects it with a note. Regulators' own edits and official imports apply directly.

use crate::error::{EnterprisesError, Invalid, Result};
use crate::records::EnterpriseRecord;
use crate::store::rows::enterprise_by_uscc_on;
use crate::EnterprisesService;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use yuepin_domain::{Caller, Enterprise, RegionCode, Role};
use yuepin_store::{corrupt, now_text, Actor, Change, StoreError, WriteTx};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdentityChangeStatus {
    Pending,
    Approved,
    Rejected,
    /// Replaced by a later request of the same enterprise before anyone decided it.
    Withdrawn,
}

impl IdentityChangeStatus {
    pub const ALL: [IdentityChangeStatus; 4] = [
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Withdrawn,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One request to change the name or region that consumers see.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityChange {
    pub id: i64,
    pub enterprise_id: i64,
    /// The enterprise's credit code (unchangeable).
    pub uscc: String,
    pub current_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub current_region: RegionCode,
    pub proposed_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub proposed_region: RegionCode,
    pub reason: String,
    pub status: IdentityChangeStatus,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub note: Option<String>,
}

/// A regulator's decision on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityDecision {
    Approve,
    Reject,
}

const COLS: &str = "c.id, c.enterprise_id, e.uscc, c.current_name, c.current_region, c.proposed_name, c.proposed_region, c.reason, c.status, c.requested_by, c.requested_at, c.decided_by, c.decided_at, c.note";

fn change_from_row(r: &AnyRow) -> yuepin_store::Result<IdentityChange> {
    let status: String = r.try_get("status")?;
    let region = |col: &str| -> yuepin_store::Result<RegionCode> {
        let s: String = r.try_get(col)?;
        RegionCode::parse(&s).map_err(|e| corrupt(format!("identity change {col}: {e}")))
    };
    Ok(IdentityChange {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        uscc: r.try_get("uscc")?,
        current_name: r.try_get("current_name")?,
        current_region: region("current_region")?,
        proposed_name: r.try_get("proposed_name")?,
        proposed_region: region("proposed_region")?,
        reason: r.try_get("reason")?,
        status: IdentityChangeStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("identity change status {status:?}")))?,
        requested_by: r.try_get("requested_by")?,
        requested_at: r.try_get("requested_at")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        note: r.try_get("note")?,
    })
}

/// Longest reason or note kept (characters).
pub const IDENTITY_TEXT_MAX: usize = 500;

fn check_text(field: &'static str, s: &str, required: bool) -> Result<String> {
    let t = s.trim();
    if required && t.is_empty() {
        return Err(EnterprisesError::invalid(field, Invalid::Required));
    }
    if t.chars().count() > IDENTITY_TEXT_MAX {
        return Err(EnterprisesError::invalid(
            field,
            Invalid::TooLong(IDENTITY_TEXT_MAX),
        ));
    }
    if yuepin_domain::text::control_char(t).is_some() {
        return Err(EnterprisesError::invalid(field, Invalid::ControlCharacter));
    }
    Ok(t.to_string())
}

impl EnterprisesService {
    /// Files a request inside `w` (the enterprise's own update): a pending request of the same
    /// enterprise is withdrawn first. Returns `None` when nothing that consumers see changes.
    pub(crate) async fn file_identity_change(
        &self,
        w: &mut WriteTx,
        caller: &Caller,
        existing: &EnterpriseRecord,
        proposed: &Enterprise,
        reason: &str,
    ) -> Result<Option<i64>> {
        let now = &existing.enterprise;
        if proposed.name == now.name && proposed.region == now.region {
            return Ok(None);
        }
        let reason = check_text("reason", reason, false)?;
        sqlx::query(
            "UPDATE identity_changes SET status = 'withdrawn', decided_at = $1 WHERE enterprise_id = $2 AND status = 'pending'",
        )
        .bind(now_text())
        .bind(existing.id)
        .execute(&mut *w.tx)
        .await?;
        let id: i64 = sqlx::query(
            "INSERT INTO identity_changes (enterprise_id, current_name, current_region, proposed_name, proposed_region, reason, status, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) RETURNING id",
        )
        .bind(existing.id)
        .bind(&now.name)
        .bind(now.region.as_str())
        .bind(&proposed.name)
        .bind(proposed.region.as_str())
        .bind(&reason)
        .bind(&caller.actor)
        .bind(now_text())
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        w.record(
            Change::new("request", "identity_change", id).after(serde_json::json!({
                "uscc": now.uscc.as_str(),
                "name": proposed.name,
                "region": proposed.region.as_str(),
                "reason": reason,
            })),
        );
        Ok(Some(id))
    }

    /// One request: regulators see any, an enterprise user its own enterprise's (someone
    /// else's looks missing).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn identity_change(&self, caller: &Caller, id: i64) -> Result<IdentityChange> {
        caller.require_role(&[Role::Regulator, Role::Enterprise])?;
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM identity_changes c JOIN enterprises e ON e.id = c.enterprise_id WHERE c.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        match row {
            Some(r) => {
                let c = change_from_row(&r)?;
                if caller.can_read_enterprise(c.enterprise_id) {
                    Ok(c)
                } else {
                    Err(EnterprisesError::NoSuchIdentityChange(id))
                }
            }
            None => Err(EnterprisesError::NoSuchIdentityChange(id)),
        }
    }

    /// Requests, newest first, optionally of one status: all enterprises' for regulators, the
    /// own enterprise's for an enterprise user. With the total for paging.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn identity_changes(
        &self,
        caller: &Caller,
        status: Option<IdentityChangeStatus>,
        page: i64,
        per_page: i64,
    ) -> Result<(Vec<IdentityChange>, i64)> {
        caller.require_role(&[Role::Regulator, Role::Enterprise])?;
        let only = if caller.is_administrator() {
            None
        } else {
            Some(caller.enterprise_id().unwrap_or(-1))
        };
        let filter = "($1 = '' OR c.status = $1) AND ($2 < 0 OR c.enterprise_id = $2)";
        let status = status.map_or("", IdentityChangeStatus::as_str);
        let only = only.unwrap_or(-1);
        let total: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) FROM identity_changes c WHERE {filter}"
        ))
        .bind(status)
        .bind(only)
        .fetch_one(self.store.pool())
        .await?
        .try_get(0)?;
        let per_page = per_page.clamp(1, 200);
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM identity_changes c JOIN enterprises e ON e.id = c.enterprise_id WHERE {filter} ORDER BY c.id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(status)
        .bind(only)
        .bind(per_page)
        .bind((page.max(1) - 1) * per_page)
        .fetch_all(self.store.pool())
        .await?;
        let list = rows
            .iter()
            .map(change_from_row)
            .collect::<yuepin_store::Result<Vec<_>>>()?;
        Ok((list, total))
    }

    /// Approves (the name and region are applied in the same audited write, other fields
    /// untouched) or rejects a pending request. Regulators only; a note is required to reject.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decide_identity_change(
        &self,
        caller: &Caller,
        id: i64,
        decision: IdentityDecision,
        note: &str,
    ) -> Result<IdentityChange> {
        caller.require_administrator()?;
        let note = check_text("note", note, decision == IdentityDecision::Reject)?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM identity_changes c JOIN enterprises e ON e.id = c.enterprise_id WHERE c.id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(EnterprisesError::NoSuchIdentityChange(id))?;
        let change = change_from_row(&row)?;
        if change.status != IdentityChangeStatus::Pending {
            return Err(EnterprisesError::invalid("id", Invalid::AlreadyDecided));
        }
        let status = match decision {
            IdentityDecision::Approve => IdentityChangeStatus::Approved,
            IdentityDecision::Reject => IdentityChangeStatus::Rejected,
        };
        // Only a pending row moves: a concurrent decision finds nothing to update.
        let moved = sqlx::query(
            "UPDATE identity_changes SET status = $1, decided_by = $2, decided_at = $3, note = $4 WHERE id = $5 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(&caller.actor)
        .bind(now_text())
        .bind((!note.is_empty()).then_some(note.as_str()))
        .bind(id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Err(EnterprisesError::invalid("id", Invalid::AlreadyDecided));
        }
        w.record(Change::new(status.as_str(), "identity_change", id));
        if decision == IdentityDecision::Approve {
            // Read through the write transaction (no second connection inside a write).
            let mut e = match enterprise_by_uscc_on(&mut w.tx, &change.uscc).await {
                Ok(r) => r.enterprise,
                Err(StoreError::NotFound(_)) => {
                    return Err(EnterprisesError::NoSuchIdentityChange(id))
                }
                Err(e) => return Err(e.into()),
            };
            e.name = change.proposed_name.clone();
            e.region = change.proposed_region.clone();
            self.save_enterprise(&mut w, &e).await?;
        }
        self.store.commit(w).await?;
        self.identity_change(caller, id).await
    }
}
