//! The policy tables read back: match runs with their counts and stored cells, the regulator's
//! per-measure listing, offers, notifications, applications (with their grants), grants and
//! grant totals. Rows are parsed into the typed records here (`records.rs`).

use crate::records::{
    stored_date, stored_outcome, stored_region, stored_uscc, Application, ApplicationStatus, Grant,
    GrantTotal, MatchCell, MatchRun, MeasureListing, Notification, Offer, OfferStatus, Provenance,
    RunCount, StandardRecord,
};
use crate::PolicyService;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use yuepin_policy::OutcomeKind;
use yuepin_store::{corrupt, Result};

pub(crate) fn run_from_row(r: &AnyRow) -> Result<MatchRun> {
    Ok(MatchRun {
        id: r.try_get("id")?,
        as_of: stored_date(&r.try_get::<String, _>("as_of")?)?,
        overrides: serde_json::from_str(&r.try_get::<String, _>("overrides")?)
            .unwrap_or(serde_json::Value::Null),
        enterprises: r.try_get("enterprises")?,
        evaluations: r.try_get("evaluations")?,
        eligible: r.try_get("eligible")?,
        undetermined: r.try_get("undetermined")?,
        notified: r.try_get("notified")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
    })
}

pub(crate) fn offer_from_row(r: &AnyRow) -> Result<Offer> {
    let status: String = r.try_get("status")?;
    let as_of = stored_date(&r.try_get::<String, _>("as_of")?)?;
    Ok(Offer {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        measure: r.try_get("measure")?,
        run_id: r.try_get("run_id")?,
        as_of,
        expires_on: as_of + chrono::Duration::days(crate::OFFER_VALID_DAYS),
        status: OfferStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("offer status {status:?}")))?,
        amount_fen: r.try_get("amount_fen")?,
        created_at: r.try_get("created_at")?,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decided_by")?,
    })
}

pub(crate) fn grant_from_row(r: &AnyRow) -> Result<Grant> {
    Ok(Grant {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        measure: r.try_get("measure")?,
        reference: r.try_get("reference")?,
        amount_fen: r.try_get("amount_fen")?,
        city: stored_region(&r.try_get::<String, _>("city")?)?,
        year: r.try_get("year")?,
        granted_at: r.try_get("granted_at")?,
        granted_by: r.try_get("granted_by")?,
    })
}

pub(crate) const APP_COLS: &str = "a.id, a.enterprise_id, e.uscc, e.name AS enterprise_name, e.city, a.measure, a.reference, a.offer_id, \
    a.amount_requested_fen, a.note, a.status, a.reason, a.created_at, a.created_by, a.decided_at, a.decided_by, \
    a.payment_key, a.period, a.evaluated_on, a.evidence";

fn app_from_row(r: &AnyRow) -> Result<Application> {
    let status: String = r.try_get("status")?;
    Ok(Application {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        uscc: stored_uscc(&r.try_get::<String, _>("uscc")?)?,
        enterprise_name: r.try_get("enterprise_name")?,
        city: stored_region(&r.try_get::<String, _>("city")?)?,
        measure: r.try_get("measure")?,
        reference: r.try_get("reference")?,
        offer_id: r.try_get("offer_id")?,
        amount_requested_fen: r.try_get("amount_requested_fen")?,
        note: r.try_get("note")?,
        status: ApplicationStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("application status {status:?}")))?,
        reason: r.try_get("reason")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decided_by")?,
        payment_key: r.try_get("payment_key")?,
        period: r.try_get("period")?,
        evaluated_on: r
            .try_get::<Option<String>, _>("evaluated_on")?
            .map(|d| stored_date(&d))
            .transpose()?,
        evidence: r
            .try_get::<Option<String>, _>("evidence")?
            .map(|e| serde_json::from_str(&e).map_err(corrupt))
            .transpose()?,
        grant: None,
    })
}

/// One application with its grant, on a given connection (a writing transaction reads
/// through its own). `None` when there is no such application.
pub(crate) async fn application_on(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<Application>> {
    let Some(r) = sqlx::query(&format!(
        "SELECT {APP_COLS} FROM policy_applications a JOIN enterprises e ON e.id = a.enterprise_id WHERE a.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let mut a = app_from_row(&r)?;
    a.grant = sqlx::query("SELECT * FROM policy_grants WHERE application_id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(grant_from_row)
        .transpose()?;
    Ok(Some(a))
}

/// The store reads behind the use cases; access is checked by the callers in this crate.
impl PolicyService {
    /// The standards an enterprise drafted or revised, with their provenance.
    pub(crate) async fn standard_records(&self, enterprise_id: i64) -> Result<Vec<StandardRecord>> {
        let rows = sqlx::query(
            "SELECT id, event_date, data, provenance FROM quality_events WHERE enterprise_id = $1 AND kind = 'standard' ORDER BY id",
        )
        .bind(enterprise_id)
        .fetch_all(self.store.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            if let Some(s) = standard_row(r)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    pub(crate) async fn latest_run_row(&self) -> Result<Option<MatchRun>> {
        sqlx::query("SELECT * FROM policy_match_runs ORDER BY id DESC LIMIT 1")
            .fetch_optional(self.store.pool())
            .await?
            .as_ref()
            .map(run_from_row)
            .transpose()
    }

    pub(crate) async fn run_row(&self, id: i64) -> Result<Option<MatchRun>> {
        sqlx::query("SELECT * FROM policy_match_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?
            .as_ref()
            .map(run_from_row)
            .transpose()
    }

    pub(crate) async fn run_rows(&self, limit: i64) -> Result<Vec<MatchRun>> {
        sqlx::query("SELECT * FROM policy_match_runs ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(self.store.pool())
            .await?
            .iter()
            .map(run_from_row)
            .collect()
    }

    /// (measure, outcome, count) of a run.
    pub(crate) async fn run_count_rows(&self, run_id: i64) -> Result<Vec<RunCount>> {
        sqlx::query("SELECT measure, outcome, n FROM policy_match_counts WHERE run_id = $1 ORDER BY measure, outcome")
            .bind(run_id)
            .fetch_all(self.store.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(RunCount {
                    measure: r.try_get("measure")?,
                    outcome: stored_outcome(&r.try_get::<String, _>("outcome")?)?,
                    count: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// An enterprise's stored cells in a run.
    pub(crate) async fn result_rows(
        &self,
        run_id: i64,
        enterprise_id: i64,
    ) -> Result<Vec<MatchCell>> {
        sqlx::query(
            "SELECT enterprise_id, measure, outcome, reasons, amount_fen FROM policy_match_results \
             WHERE run_id = $1 AND enterprise_id = $2 ORDER BY measure",
        )
        .bind(run_id)
        .bind(enterprise_id)
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(MatchCell {
                enterprise_id: r.try_get("enterprise_id")?,
                measure: r.try_get("measure")?,
                outcome: stored_outcome(&r.try_get::<String, _>("outcome")?)?,
                reasons: r.try_get("reasons")?,
                amount_fen: r.try_get("amount_fen")?,
            })
        })
        .collect()
    }

    /// Enterprises with `outcome` for `measure` in a run, in id order (`limit` ≤ 0: all).
    pub(crate) async fn listing_rows(
        &self,
        run_id: i64,
        measure: &str,
        outcome: OutcomeKind,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<MeasureListing>> {
        let limit = if limit <= 0 { i64::MAX } else { limit };
        sqlx::query(
            "SELECT r.enterprise_id, e.uscc, e.name, e.city, e.division, r.outcome, r.reasons, r.amount_fen \
             FROM policy_match_results r JOIN enterprises e ON e.id = r.enterprise_id \
             WHERE r.run_id = $1 AND r.measure = $2 AND r.outcome = $3 ORDER BY r.enterprise_id LIMIT $4 OFFSET $5",
        )
        .bind(run_id)
        .bind(measure)
        .bind(crate::records::outcome_code(outcome))
        .bind(limit)
        .bind(offset.max(0))
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(MeasureListing {
                enterprise_id: r.try_get("enterprise_id")?,
                uscc: stored_uscc(&r.try_get::<String, _>("uscc")?)?,
                name: r.try_get("name")?,
                city: stored_region(&r.try_get::<String, _>("city")?)?,
                division: r.try_get("division")?,
                outcome: stored_outcome(&r.try_get::<String, _>("outcome")?)?,
                reasons: serde_json::from_str(&r.try_get::<String, _>("reasons")?)
                    .unwrap_or(serde_json::Value::Null),
                amount_fen: r.try_get("amount_fen")?,
            })
        })
        .collect()
    }

    pub(crate) async fn offer_rows_of(&self, enterprise_id: i64) -> Result<Vec<Offer>> {
        sqlx::query("SELECT * FROM policy_offers WHERE enterprise_id = $1 ORDER BY id")
            .bind(enterprise_id)
            .fetch_all(self.store.pool())
            .await?
            .iter()
            .map(offer_from_row)
            .collect()
    }

    pub(crate) async fn offer_row(&self, id: i64) -> Result<Option<Offer>> {
        sqlx::query("SELECT * FROM policy_offers WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?
            .as_ref()
            .map(offer_from_row)
            .transpose()
    }

    pub(crate) async fn notification_rows_of(
        &self,
        enterprise_id: i64,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        sqlx::query(
            "SELECT * FROM policy_notifications WHERE enterprise_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(enterprise_id)
        .bind(limit)
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(Notification {
                id: r.try_get("id")?,
                enterprise_id: r.try_get("enterprise_id")?,
                run_id: r.try_get("run_id")?,
                title_zh: r.try_get("title_zh")?,
                title_en: r.try_get("title_en")?,
                body_zh: r.try_get("body_zh")?,
                body_en: r.try_get("body_en")?,
                link: r.try_get("link")?,
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect()
    }

    pub(crate) async fn application_row(&self, id: i64) -> Result<Option<Application>> {
        let mut conn = self.store.pool().acquire().await?;
        application_on(&mut conn, id).await
    }

    /// Applications, newest first; `enterprise_id` scopes to one enterprise, `status` filters.
    pub(crate) async fn application_rows(
        &self,
        enterprise_id: Option<i64>,
        status: Option<ApplicationStatus>,
        limit: i64,
    ) -> Result<Vec<Application>> {
        let pool = self.store.pool();
        let rows = sqlx::query(&format!(
            "SELECT {APP_COLS} FROM policy_applications a JOIN enterprises e ON e.id = a.enterprise_id \
             WHERE ($1 < 0 OR a.enterprise_id = $1) AND ($2 = '' OR a.status = $2) ORDER BY a.id DESC LIMIT $3"
        ))
        .bind(enterprise_id.unwrap_or(-1))
        .bind(status.map(ApplicationStatus::as_str).unwrap_or(""))
        .bind(limit)
        .fetch_all(pool)
        .await?;
        let mut apps: Vec<Application> = rows.iter().map(app_from_row).collect::<Result<_>>()?;
        if apps.is_empty() {
            return Ok(apps);
        }
        let grants: HashMap<i64, Grant> = sqlx::query(
            "SELECT g.* FROM policy_grants g JOIN policy_applications a ON a.id = g.application_id \
             WHERE ($1 < 0 OR a.enterprise_id = $1)",
        )
        .bind(enterprise_id.unwrap_or(-1))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| grant_from_row(r).map(|g| (g.application_id, g)))
        .collect::<Result<_>>()?;
        for a in &mut apps {
            a.grant = grants.get(&a.id).cloned();
        }
        Ok(apps)
    }

    /// Grants, newest first.
    pub(crate) async fn grant_rows(
        &self,
        enterprise_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Grant>> {
        sqlx::query("SELECT * FROM policy_grants WHERE ($1 < 0 OR enterprise_id = $1) ORDER BY id DESC LIMIT $2")
            .bind(enterprise_id.unwrap_or(-1))
            .bind(limit)
            .fetch_all(self.store.pool())
            .await?
            .iter()
            .map(grant_from_row)
            .collect()
    }

    /// Totals by measure, city and year.
    pub(crate) async fn grant_total_rows(&self) -> Result<Vec<GrantTotal>> {
        sqlx::query(
            "SELECT measure, city, year, COUNT(*) AS grants, CAST(SUM(amount_fen) AS BIGINT) AS amount_fen \
             FROM policy_grants GROUP BY measure, city, year ORDER BY measure, city, year",
        )
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(GrantTotal {
                measure: r.try_get("measure")?,
                city: stored_region(&r.try_get::<String, _>("city")?)?,
                year: r.try_get("year")?,
                grants: r.try_get("grants")?,
                amount_fen: r.try_get("amount_fen")?,
            })
        })
        .collect()
    }
}

/// A standard from a `quality_events` row with `id, event_date, data, provenance` (`None` when
/// the row's data is another kind of event).
pub(crate) fn standard_row(r: &AnyRow) -> Result<Option<StandardRecord>> {
    let data: String = r.try_get("data")?;
    let kind: yuepin_domain::QualityEventKind = serde_json::from_str(&data).map_err(corrupt)?;
    let yuepin_domain::QualityEventKind::Standard { code, level, role } = kind else {
        return Ok(None);
    };
    let p: String = r.try_get("provenance")?;
    Ok(Some(StandardRecord {
        id: r.try_get("id")?,
        code: code.to_string(),
        level: serde_json::to_value(level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        role: serde_json::to_value(role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        event_date: stored_date(&r.try_get::<String, _>("event_date")?)?,
        provenance: Provenance::parse(&p).ok_or_else(|| corrupt(format!("provenance {p:?}")))?,
    }))
}
