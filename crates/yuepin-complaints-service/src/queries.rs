//! Reading complaints: one record (raw for administrators, masked for the enterprise it names),
//! lists (masked; an enterprise sees only its own), counts and aggregates for the dashboard,
//! the stored span, and the reads other capabilities use: `complaint_count_12m`, the one
//! definition of "complaints in the last 12 months".

use crate::error::{ComplaintsError, Result};
use crate::records::{
    AggRow, ComplaintFilter, ComplaintRecord, CountDim, CountRow, Grain, TopEnterprise,
};
use crate::sql::{bind_all, complaint_row, top_enterprises, COMPLAINT_COLS};
use crate::ComplaintsService;
use chrono::{Datelike, Duration, NaiveDate};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use yuepin_domain::{Caller, CallerKind, Denied, Role};
use yuepin_store::{corrupt, Actor, Change};

/// Longest daily series drawn (about eight years).
const SERIES_MAX_DAYS: usize = 3000;

impl ComplaintsService {
    /// One complaint: raw for administrators; masked for the enterprise user of the enterprise
    /// it names; refused to everyone else (`SignInRequired` for the public).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn complaint(&self, caller: &Caller, id: i64) -> Result<ComplaintRecord> {
        if matches!(caller.kind, CallerKind::Public) {
            return Err(Denied::SignInRequired.into());
        }
        let rec = self.raw_complaint(id).await?;
        if caller.is_administrator() {
            // Reading a complainant's raw personal data leaves an audit row (ASVS 16.3.2):
            // who read whose record, when; the data itself is not copied into the log.
            let c = &rec.complainant;
            if c.name.is_some() || c.phone.is_some() || c.id_number.is_some() || c.address.is_some()
            {
                let mut w = self.store.begin_write(Actor::from(caller)).await?;
                w.record(Change::new("read_personal_data", "complaint", &rec.ext_id));
                self.store.commit(w).await?;
            }
            return Ok(rec);
        }
        match rec.enterprise_id {
            Some(e) if caller.role() == Some(Role::Enterprise) && caller.can_read_enterprise(e) => {
                Ok(rec.masked())
            }
            _ => Err(Denied::OtherEnterprise.into()),
        }
    }

    async fn raw_complaint(&self, id: i64) -> Result<ComplaintRecord> {
        let row = sqlx::query(&format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or(ComplaintsError::NotFound {
            what: "complaint",
            id,
        })?;
        Ok(complaint_row(&row)?)
    }

    /// Newest first, masked, with the total matching: administrators list everything, an
    /// enterprise user only the complaints naming its enterprise; other roles are refused.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list(
        &self,
        caller: &Caller,
        filter: &ComplaintFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ComplaintRecord>, i64)> {
        let mut f = filter.clone();
        if !caller.is_administrator() {
            caller.require_role(&[Role::Regulator, Role::Enterprise])?;
            // An enterprise sees only complaints about itself (none when unbound).
            f.enterprise_id = Some(caller.enterprise_id().unwrap_or(-1));
        }
        self.masked_list(&f, limit, offset).await
    }

    /// The regulator's drill-down and export: every complaint in the filter, masked.
    /// Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn search(
        &self,
        caller: &Caller,
        filter: &ComplaintFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ComplaintRecord>, i64)> {
        caller.require_administrator()?;
        self.masked_list(filter, limit, offset).await
    }

    pub(crate) async fn masked_list(
        &self,
        f: &ComplaintFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ComplaintRecord>, i64)> {
        let (clause, binds) = f.clause();
        let n = binds.len();
        let sql = format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE {clause} ORDER BY received_at DESC, id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .bind(limit)
            .bind(offset)
            .fetch_all(self.store.pool())
            .await?;
        let total: i64 = bind_all(
            sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM complaints WHERE {clause}"
            )),
            &binds,
        )
        .fetch_one(self.store.pool())
        .await?
        .try_get("n")?;
        let list = rows
            .iter()
            .map(|r| complaint_row(r).map(ComplaintRecord::masked))
            .collect::<yuepin_store::Result<Vec<_>>>()?;
        Ok((list, total))
    }

    /// Counts grouped by the given dimensions (and by day when `with_day`). Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn counts(
        &self,
        caller: &Caller,
        f: &ComplaintFilter,
        by: &[CountDim],
        with_day: bool,
    ) -> Result<Vec<CountRow>> {
        caller.require_administrator()?;
        let mut cols: Vec<&str> = Vec::new();
        if with_day {
            cols.push("day");
        }
        for d in by {
            if !cols.contains(&d.column()) {
                cols.push(d.column());
            }
        }
        let (clause, binds) = f.clause();
        let group = if cols.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {}", cols.join(", "))
        };
        let select = if cols.is_empty() {
            "COUNT(*) AS n".to_string()
        } else {
            format!("{}, COUNT(*) AS n", cols.join(", "))
        };
        let sql = format!("SELECT {select} FROM complaints WHERE {clause}{group}");
        let rows = bind_all(sqlx::query(&sql), &binds)
            .fetch_all(self.store.pool())
            .await?;
        // A dimension not grouped by is not selected: it reads as `None`.
        let opt = |r: &AnyRow, c: &str| -> Result<Option<String>> {
            Ok(if cols.contains(&c) {
                r.try_get(c)?
            } else {
                None
            })
        };
        let opt_i64 = |r: &AnyRow, c: &str| -> Result<Option<i64>> {
            Ok(if cols.contains(&c) {
                r.try_get(c)?
            } else {
                None
            })
        };
        rows.iter()
            .map(|r| {
                Ok(CountRow {
                    day: opt(r, "day")?,
                    city: opt(r, "city")?,
                    division: opt_i64(r, "division")?,
                    category: opt(r, "category")?,
                    problem: opt(r, "problem")?,
                    enterprise_id: opt_i64(r, "enterprise_id")?,
                    n: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// Counts by day / ISO week / month / all × the given dimensions, sorted by period and then
    /// the dimensions' stored codes. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn aggregate(
        &self,
        caller: &Caller,
        f: &ComplaintFilter,
        by: &[CountDim],
        grain: Grain,
    ) -> Result<Vec<AggRow>> {
        let rows = self.counts(caller, f, by, grain != Grain::All).await?;
        let mut acc: BTreeMap<
            (
                String,
                Option<String>,
                Option<i64>,
                Option<String>,
                Option<String>,
                Option<i64>,
            ),
            i64,
        > = BTreeMap::new();
        for r in rows {
            let period = match (grain, r.day.as_deref()) {
                (Grain::All, _) | (_, None) => String::new(),
                (Grain::Day, Some(d)) => d.to_string(),
                (Grain::Week, Some(d)) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map(|d| iso_week_start(d).to_string())
                    .unwrap_or_default(),
                (Grain::Month, Some(d)) => d.chars().take(7).collect(),
            };
            *acc.entry((
                period,
                r.city,
                r.division,
                r.category,
                r.problem,
                r.enterprise_id,
            ))
            .or_default() += r.n;
        }
        Ok(acc
            .into_iter()
            .map(
                |((period, city, division, category, problem, enterprise_id), n)| AggRow {
                    period,
                    city,
                    division,
                    category,
                    problem,
                    enterprise_id,
                    n,
                },
            )
            .collect())
    }

    /// Daily counts over the filter's window (which must be bounded), zeros included, at most
    /// about eight years. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn daily_series(
        &self,
        caller: &Caller,
        f: &ComplaintFilter,
    ) -> Result<Vec<(NaiveDate, i64)>> {
        let rows = self.counts(caller, f, &[], true).await?;
        let by: HashMap<String, i64> = rows
            .into_iter()
            .filter_map(|r| Some((r.day?, r.n)))
            .collect();
        let (Some(from), Some(to)) = (f.from, f.to) else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        let mut d = from;
        while d <= to && out.len() < SERIES_MAX_DAYS {
            out.push((d, by.get(&d.to_string()).copied().unwrap_or(0)));
            d += Duration::days(1);
        }
        Ok(out)
    }

    /// The enterprises with most complaints in the filter. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn top_enterprises(
        &self,
        caller: &Caller,
        f: &ComplaintFilter,
        n: i64,
    ) -> Result<Vec<TopEnterprise>> {
        caller.require_administrator()?;
        Ok(top_enterprises(&mut *self.store.pool().acquire().await?, f, n).await?)
    }

    /// First and last complaint day stored. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn span(&self, caller: &Caller) -> Result<Option<(NaiveDate, NaiveDate)>> {
        caller.require_administrator()?;
        self.stored_span().await
    }

    pub(crate) async fn stored_span(&self) -> Result<Option<(NaiveDate, NaiveDate)>> {
        let r = sqlx::query("SELECT MIN(day) AS a, MAX(day) AS b FROM complaints")
            .fetch_one(self.store.pool())
            .await?;
        let a: Option<String> = r.try_get("a")?;
        let b: Option<String> = r.try_get("b")?;
        Ok(match (a, b) {
            (Some(a), Some(b)) => Some((
                NaiveDate::parse_from_str(&a, "%Y-%m-%d").map_err(corrupt)?,
                NaiveDate::parse_from_str(&b, "%Y-%m-%d").map_err(corrupt)?,
            )),
            _ => None,
        })
    }

    /// Fills an open filter window: up to the last stored complaint (today when there is none),
    /// 90 days long. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn default_window(&self, caller: &Caller, f: &mut ComplaintFilter) -> Result<()> {
        caller.require_administrator()?;
        if f.to.is_none() {
            f.to = Some(match self.stored_span().await? {
                Some((_, last)) => last,
                None => yuepin_domain::china_today(),
            });
        }
        if f.from.is_none() {
            f.from = f.to.map(|t| t - Duration::days(89));
        }
        Ok(())
    }

    /// Complaints against an enterprise in the 12 months up to today in China: the ONE
    /// definition of "complaints in the last 12 months", shown on the 粤品通 scan page and in
    /// the enterprise's quality file (see [`ComplaintsService::complaint_count_12m_as_of`]).
    ///
    /// No caller: the count is public information on a scan page (anyone holding a product's
    /// code sees it), and it reveals nothing about complainants.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn complaint_count_12m(&self, enterprise_id: i64) -> Result<i64> {
        self.complaint_count_12m_as_of(enterprise_id, yuepin_domain::china_today())
            .await
    }

    /// Complaints against an enterprise received in the 365 days ending with `today`
    /// (`today - 365 < day <= today`). Takes the day so callers that already fixed "today" for
    /// a page, and tests, count the same window.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn complaint_count_12m_as_of(
        &self,
        enterprise_id: i64,
        today: NaiveDate,
    ) -> Result<i64> {
        let from = today - Duration::days(365);
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM complaints WHERE enterprise_id = $1 AND day > $2 AND day <= $3",
        )
        .bind(enterprise_id)
        .bind(from.to_string())
        .bind(today.to_string())
        .fetch_one(self.store.pool())
        .await?
        .try_get("n")?)
    }
}

/// The Monday of `d`'s ISO week.
pub fn iso_week_start(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}
