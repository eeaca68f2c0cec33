//! Stored alarms for the regulator: filtered, paged lists with their totals, the city →
//! division → category roll-up, one
//! alarm with its masked drill-down, the latest detection run, and a draft warning from any
//! alarm the regulator chooses.

use crate::drafting::create_draft;
use crate::error::{ComplaintsError, Invalid, Result};
use crate::records::{AlarmRecord, ComplaintRecord, DetectRun, WarningRecord};
use crate::sql::{category, day, division_of, parsed, region};
use crate::{actor, ComplaintsService};
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use yuepin_complaints::{roll_up, CityRollup, DetectorConfig, Level, Method};
use yuepin_domain::{Caller, Division, RegionCode};
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

/// Largest page of [`ComplaintsService::alarm_page`].
pub const ALARM_PAGE_MAX: i64 = 200;

/// Which stored alarms a list or an export covers (every field optional; `significant_only`
/// keeps BH-significant ones).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmFilter {
    pub method: Option<Method>,
    pub level: Option<Level>,
    /// Any region code of the city (a district selects its whole city).
    pub city: Option<RegionCode>,
    pub division: Option<Division>,
    /// Periods starting on or after this day.
    pub from: Option<NaiveDate>,
    /// Periods starting on or before this day.
    pub to: Option<NaiveDate>,
    pub significant_only: bool,
}

impl AlarmFilter {
    /// The WHERE clause (from `$1`) and its text or integer parameters.
    fn sql(&self) -> (String, Vec<Param>) {
        let mut clauses = vec![];
        let mut params = vec![];
        let mut add = |clause: &str, p: Param| {
            params.push(p);
            clauses.push(clause.replace('?', &format!("${}", params.len())));
        };
        if let Some(m) = self.method {
            add("method = ?", Param::Text(m.as_str().into()));
        }
        if let Some(l) = self.level {
            add("level = ?", Param::Text(l.as_str().into()));
        }
        if let Some(c) = &self.city {
            add("city = ?", Param::Text(c.city().code.clone()));
        }
        if let Some(d) = self.division {
            add("division = ?", Param::Int(i64::from(d.code())));
        }
        if let Some(d) = self.from {
            add("period_start >= ?", Param::Text(d.to_string()));
        }
        if let Some(d) = self.to {
            add("period_start <= ?", Param::Text(d.to_string()));
        }
        if self.significant_only {
            add("significant = ?", Param::Int(1));
        }
        let w = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        (w, params)
    }
}

enum Param {
    Text(String),
    Int(i64),
}

fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    params: &'q [Param],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for p in params {
        q = match p {
            Param::Text(t) => q.bind(t.as_str()),
            Param::Int(i) => q.bind(*i),
        };
    }
    q
}

/// One page of alarms and how many match the filter.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlarmPage {
    pub alarms: Vec<AlarmRecord>,
    /// Alarms matching the filter, over all pages.
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub page_size: i64,
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

    /// A page (1-based; `page_size` 1–[`ALARM_PAGE_MAX`]) of the stored alarms matching
    /// `filter`, newest period first, with the total. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn alarm_page(
        &self,
        caller: &Caller,
        filter: &AlarmFilter,
        page: i64,
        page_size: i64,
    ) -> Result<AlarmPage> {
        caller.require_administrator()?;
        if !(1..=ALARM_PAGE_MAX).contains(&page_size) {
            return Err(ComplaintsError::invalid(
                "page_size",
                Invalid::Range {
                    min: 1,
                    max: ALARM_PAGE_MAX,
                },
            ));
        }
        if !(1..=1_000_000).contains(&page) {
            return Err(ComplaintsError::invalid(
                "page",
                Invalid::Range {
                    min: 1,
                    max: 1_000_000,
                },
            ));
        }
        self.matching_alarms(filter, page_size, (page - 1) * page_size)
            .await
            .map(|(alarms, total)| AlarmPage {
                alarms,
                total,
                page,
                page_size,
            })
    }

    /// The first `limit` alarms matching `filter` (for the unpaged API and exports) with
    /// the total. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn alarms_matching(
        &self,
        caller: &Caller,
        filter: &AlarmFilter,
        limit: i64,
    ) -> Result<(Vec<AlarmRecord>, i64)> {
        caller.require_administrator()?;
        self.matching_alarms(filter, limit.max(0), 0).await
    }

    async fn matching_alarms(
        &self,
        filter: &AlarmFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AlarmRecord>, i64)> {
        let (w, params) = filter.sql();
        let n = params.len();
        let count_sql = format!("SELECT COUNT(*) AS n FROM complaint_alarms{w}");
        let total: i64 = bind(sqlx::query(&count_sql), &params)
            .fetch_one(self.store.pool())
            .await?
            .try_get("n")?;
        let list_sql = format!(
            "SELECT {ALARM_COLS} FROM complaint_alarms{w} ORDER BY period_start DESC, q_value, id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = bind(sqlx::query(&list_sql), &params)
            .bind(limit)
            .bind(offset)
            .fetch_all(self.store.pool())
            .await?;
        let alarms = rows
            .iter()
            .map(alarm_row)
            .collect::<yuepin_store::Result<_>>()?;
        Ok((alarms, total))
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
