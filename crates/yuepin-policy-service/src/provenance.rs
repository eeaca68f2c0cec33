//! Facts' provenance: an enterprise's own declarations (a standard it says it led) are 待核实
//! until a responsible unit confirms them; rules that decide money read only confirmed and
//! official facts. A regulator lists an enterprise's declared standards and confirms one.

use crate::records::{Provenance, StandardRecord};
use crate::{PolicyError, PolicyService, Result};
use sqlx::Row;
use yuepin_domain::Caller;
use yuepin_store::{now_text, Actor, Change};

/// A declared standard waiting for confirmation, with its enterprise.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeclaredStandard {
    pub uscc: String,
    pub enterprise_name: String,
    #[serde(flatten)]
    pub standard: StandardRecord,
}

impl PolicyService {
    /// Every enterprise's declared (待核实) standards, newest first, with the total: the
    /// responsible unit's work list. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn declared_standards(
        &self,
        caller: &Caller,
        page: i64,
        per_page: i64,
    ) -> Result<(Vec<DeclaredStandard>, i64)> {
        caller.require_administrator()?;
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) FROM quality_events WHERE kind = 'standard' AND provenance = 'declared'",
        )
        .fetch_one(self.store.pool())
        .await?
        .try_get(0)?;
        let per_page = per_page.clamp(1, 200);
        let rows = sqlx::query(
            "SELECT q.id, q.event_date, q.data, q.provenance, e.uscc, e.name FROM quality_events q JOIN enterprises e ON e.id = q.enterprise_id WHERE q.kind = 'standard' AND q.provenance = 'declared' ORDER BY q.id DESC LIMIT $1 OFFSET $2",
        )
        .bind(per_page)
        .bind((page.max(1) - 1) * per_page)
        .fetch_all(self.store.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            if let Some(standard) = crate::store::queries::standard_row(r)? {
                out.push(DeclaredStandard {
                    uscc: r.try_get("uscc")?,
                    enterprise_name: r.try_get("name")?,
                    standard,
                });
            }
        }
        Ok((out, total))
    }

    /// An enterprise's standards with their provenance (its own users and regulators).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn standards_of(&self, caller: &Caller, uscc: &str) -> Result<Vec<StandardRecord>> {
        let id = self.enterprise_id_of(uscc).await?;
        caller.require_enterprise(id)?;
        Ok(self.standard_records(id).await?)
    }

    /// A regulator (the responsible unit) confirms a declared standard: from now on rules that
    /// decide money read it. Audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn confirm_standard(&self, caller: &Caller, event_id: i64) -> Result<StandardRecord> {
        caller.require_administrator()?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let row = sqlx::query(
            "SELECT enterprise_id, provenance FROM quality_events WHERE id = $1 AND kind = 'standard'",
        )
        .bind(event_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(PolicyError::UnknownFact(event_id))?;
        let enterprise_id: i64 = row.try_get("enterprise_id")?;
        let before: String = row.try_get("provenance")?;
        sqlx::query(
            "UPDATE quality_events SET provenance = $1, confirmed_by = $2, confirmed_at = $3 WHERE id = $4",
        )
        .bind(Provenance::Confirmed.as_str())
        .bind(&caller.actor)
        .bind(now_text())
        .bind(event_id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("confirm", "quality_event", event_id)
                .before(serde_json::json!({"provenance": before}))
                .after(serde_json::json!({"provenance": "confirmed", "by": caller.actor})),
        );
        self.store.commit(w).await?;
        self.standard_records(enterprise_id)
            .await?
            .into_iter()
            .find(|r| r.id == event_id)
            .ok_or(PolicyError::UnknownFact(event_id))
    }
}
