//! Stored alarms for the regulator: lists with the city → division → category roll-up, one
//! alarm with its masked drill-down, the latest detection run, and a draft warning from any
//! alarm the regulator chooses.

use crate::drafting::create_draft;
use crate::error::{ComplaintsError, Result};
use crate::records::{AlarmRecord, ComplaintRecord, DetectRun, WarningRecord};
use crate::sql::{category, day, division_of, parsed, region};
use crate::{actor, ComplaintsService};
use sqlx::any::AnyRow;
use sqlx::Row;
use yuepin_complaints::{roll_up, CityRollup, DetectorConfig, Level, Method};
use yuepin_domain::Caller;
use yuepin_store::{now_text, Change};

pub(crate) const ALARM_COLS: &str = "id, run_id, method, level, city, division, category, period_start, period_days, observed, expected, threshold, p_value, q_value, significant";

pub(crate) fn alarm_row(r: &AnyRow) -> yuepin_store::Result<AlarmRecord> {
    let division: i64 = r.try_get("division")?;
    let cat: String = r.try_get("category")?;
    Ok(AlarmRecord {
        id: r.try_get("id")?,
        run_id: r.try_get("run_id")?,
        method: parsed(r, "method", Method::parse)?,
        level: parsed(r, "level", Level::parse)?,
        city: parsed(r, "city", region)?,
        // 0 and "" stand for "not per division / category" (the unique key needs a value).
        division: (division != 0).then(|| division_of(division)).transpose()?,
        category: if cat.is_empty() {
            None
        } else {
            Some(parsed(r, "category", category)?)
        },
        period_start: parsed(r, "period_start", day)?,
        period_days: r.try_get("period_days")?,
        observed: r.try_get("observed")?,
        expected: r.try_get("expected")?,
        threshold: r.try_get("threshold")?,
        p_value: r.try_get("p_value")?,
        q_value: r.try_get("q_value")?,
        significant: r.try_get::<i64, _>("significant")? != 0,
    })
}

/// An alarm with the complaints of its evidence window.
#[derive(Debug, Clone)]
pub struct AlarmDrillDown {
    pub alarm: AlarmRecord,
    /// Masked, newest first.
    pub complaints: Vec<ComplaintRecord>,
    pub complaints_total: i64,
}

impl ComplaintsService {
    /// Stored alarms, newest period first (significant ones only unless `significant_only` is
    /// false). Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn alarms(
        &self,
        caller: &Caller,
        significant_only: bool,
        limit: i64,
    ) -> Result<Vec<AlarmRecord>> {
        caller.require_administrator()?;
        let rows = sqlx::query(&format!(
            "SELECT {ALARM_COLS} FROM complaint_alarms WHERE significant >= $1 ORDER BY period_start DESC, q_value, id LIMIT $2"
        ))
        .bind(i64::from(significant_only))
        .bind(limit)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .iter()
            .map(alarm_row)
            .collect::<yuepin_store::Result<_>>()?)
    }

    /// One alarm. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn alarm(&self, caller: &Caller, id: i64) -> Result<AlarmRecord> {
        caller.require_administrator()?;
        self.stored_alarm(id).await
    }

    async fn stored_alarm(&self, id: i64) -> Result<AlarmRecord> {
        let row = sqlx::query(&format!(
            "SELECT {ALARM_COLS} FROM complaint_alarms WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or(ComplaintsError::NotFound { what: "alarm", id })?;
        Ok(alarm_row(&row)?)
    }

    /// One alarm and the first `limit` (masked) complaints of its series in the evidence
    /// window. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn alarm_drill_down(
        &self,
        caller: &Caller,
        id: i64,
        limit: i64,
    ) -> Result<AlarmDrillDown> {
        let alarm = self.alarm(caller, id).await?;
        let (complaints, complaints_total) = self.masked_list(&alarm.filter(), limit, 0).await?;
        Ok(AlarmDrillDown {
            alarm,
            complaints,
            complaints_total,
        })
    }

    /// The latest detection run, if any. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn last_detect_run(&self, caller: &Caller) -> Result<Option<DetectRun>> {
        caller.require_administrator()?;
        let row = sqlx::query("SELECT id, as_of, ran_at, series_alarms, significant, config FROM complaint_detect_runs ORDER BY id DESC LIMIT 1")
            .fetch_optional(self.store.pool())
            .await?;
        Ok(row
            .map(|r| {
                let config: Option<String> = r.try_get("config")?;
                Ok::<_, yuepin_store::StoreError>(DetectRun {
                    id: r.try_get("id")?,
                    as_of: r.try_get("as_of")?,
                    ran_at: r.try_get("ran_at")?,
                    series_alarms: r.try_get("series_alarms")?,
                    significant: r.try_get("significant")?,
                    // Stored by `detect`; re-parsed, a bad one is corrupt data.
                    config: config
                        .map(|c| {
                            serde_json::from_str::<DetectorConfig>(&c)
                                .map_err(|e| yuepin_store::corrupt(format!("run config: {e}")))
                        })
                        .transpose()?,
                })
            })
            .transpose()?)
    }

    /// A draft warning from any stored alarm (the regulator's choice), with that alarm alone
    /// as evidence. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn draft_warning_from_alarm(
        &self,
        caller: &Caller,
        alarm_id: i64,
    ) -> Result<WarningRecord> {
        let a = self.alarm(caller, alarm_id).await?;
        let mut w = self.store.begin_write(actor(caller)).await?;
        let now = now_text();
        let id = create_draft(&mut w.tx, &a, &[&a], &now).await?;
        w.record(Change::new("complaints.warning.draft", "complaint_warning", id).after(&a));
        self.store.commit(w).await?;
        self.warning(caller, id).await
    }
}

/// The city → division → category roll-up of the significant alarms among `alarms`.
pub fn alarm_rollup(alarms: &[AlarmRecord]) -> Vec<CityRollup> {
    let lib: Vec<_> = alarms
        .iter()
        .filter(|a| a.significant)
        .filter_map(AlarmRecord::to_alarm)
        .collect();
    roll_up(&lib)
}
