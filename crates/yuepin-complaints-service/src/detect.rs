//! Surge detection: the stored complaints of a window read into the integer-coded cube (on
//! SQLite through rusqlite: a full scan of millions of rows, see `native_sqlite`), the
//! detectors run over it on a blocking thread, and the run's alarms stored in one audited
//! transaction; each surging series' leading significant alarm becomes a draft warning.

use crate::alarms::{alarm_row, ALARM_COLS};
use crate::drafting::create_draft;
use crate::error::{ComplaintsError, Invalid, Result};
use crate::records::{AlarmRecord, DetectOptions, DetectReport};
use crate::{actor, ComplaintsService};
use chrono::{Duration, NaiveDate};
use sqlx::Row;
use std::collections::HashMap;
use yuepin_complaints::cube::{NO_ENTERPRISE, UNKNOWN};
use yuepin_complaints::{categories, detect_all, CodedComplaint, Cube, DetectParams, ProblemType};
use yuepin_domain::{reference, Caller};
use yuepin_store::dialect::values_sql;
use yuepin_store::{corrupt, native_sqlite, now_text, Change, StoreError};

/// Alarms inserted per statement (15 parameters each).
const ALARMS_PER_INSERT: usize = 500;

/// The columns the detection cube needs, for complaints received in [from, to].
fn cube_sql(from: &str, to: &str) -> String {
    format!("SELECT day, city, division, category, problem, enterprise_id FROM complaints WHERE day >= {from} AND day <= {to}")
}

fn native_value(e: rusqlite::types::FromSqlError) -> StoreError {
    corrupt(format!("complaint column: {e}"))
}

/// Codes stored complaint rows into the detection cube's small integers.
struct CubeCoder {
    cube: Cube,
    from: NaiveDate,
    cities: HashMap<&'static str, u8>,
    categories: HashMap<&'static str, u8>,
    days: HashMap<String, u16>,
    enterprises: HashMap<i64, u32>,
}

impl CubeCoder {
    fn new(from: NaiveDate, to: NaiveDate) -> Self {
        Self {
            cube: Cube::new(from, to),
            from,
            cities: reference::cities()
                .iter()
                .enumerate()
                .map(|(i, c)| (c.code.as_str(), i as u8))
                .collect(),
            categories: categories()
                .iter()
                .enumerate()
                .map(|(i, c)| (c.key.as_str(), i as u8))
                .collect(),
            days: HashMap::new(),
            enterprises: HashMap::new(),
        }
    }

    fn push(
        &mut self,
        day: &str,
        city: &str,
        division: Option<i64>,
        category: Option<&str>,
        problem: &str,
        enterprise: Option<i64>,
    ) -> yuepin_store::Result<()> {
        let d = match self.days.get(day) {
            Some(d) => *d,
            None => {
                let date = fast_date(day).ok_or_else(|| corrupt(format!("day {day}")))?;
                let d = (date - self.from).num_days().clamp(0, i64::from(u16::MAX)) as u16;
                self.days.insert(day.to_string(), d);
                d
            }
        };
        let enterprise = match enterprise {
            Some(e) => {
                let next = self.enterprises.len() as u32;
                *self.enterprises.entry(e).or_insert(next)
            }
            None => NO_ENTERPRISE,
        };
        self.cube.push_coded(CodedComplaint {
            day: d,
            city: self.cities.get(city).copied().unwrap_or(UNKNOWN),
            division: division
                .and_then(|d| u8::try_from(d).ok())
                .filter(|d| (13..=43).contains(d))
                .map_or(UNKNOWN, |d| d - 13),
            category: category
                .and_then(|c| self.categories.get(c).copied())
                .unwrap_or(UNKNOWN),
            problem: ProblemType::parse(problem).map_or(UNKNOWN, |p| p.index() as u8),
            enterprise,
        });
        Ok(())
    }
}

fn fast_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() < 10 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

impl ComplaintsService {
    /// Loads the stored complaints of `[from, to]` into an integer-coded cube.
    /// The stored complaints of `[from, to]` as the integer-coded cube (for benchmarks and
    /// ad-hoc aggregation). Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cube(&self, caller: &Caller, from: NaiveDate, to: NaiveDate) -> Result<Cube> {
        caller.require_administrator()?;
        Ok(self.read_cube(from, to).await?)
    }

    async fn read_cube(&self, from: NaiveDate, to: NaiveDate) -> yuepin_store::Result<Cube> {
        use futures_util::TryStreamExt;
        if let Some(path) = self.store.sqlite_file().map(std::path::Path::to_path_buf) {
            // A full scan of millions of rows: read it natively (see `native_sqlite`).
            let setup = self.store.dialect().connection_setup();
            return native_sqlite::with_connection(path, setup, move |conn| {
                use native_sqlite::native;
                let mut coder = CubeCoder::new(from, to);
                let mut stmt = conn.prepare(&cube_sql("?1", "?2")).map_err(native)?;
                let mut rows = stmt
                    .query([from.to_string(), to.to_string()])
                    .map_err(native)?;
                while let Some(r) = rows.next().map_err(native)? {
                    coder.push(
                        r.get_ref(0)
                            .map_err(native)?
                            .as_str()
                            .map_err(native_value)?,
                        r.get_ref(1)
                            .map_err(native)?
                            .as_str()
                            .map_err(native_value)?,
                        r.get(2).map_err(native)?,
                        r.get_ref(3)
                            .map_err(native)?
                            .as_str_or_null()
                            .map_err(native_value)?,
                        r.get_ref(4)
                            .map_err(native)?
                            .as_str()
                            .map_err(native_value)?,
                        r.get(5).map_err(native)?,
                    )?;
                }
                Ok(coder.cube)
            })
            .await;
        }
        let mut coder = CubeCoder::new(from, to);
        let mut conn = self.store.pool().acquire().await?;
        let sql = cube_sql("$1", "$2");
        let mut rows = sqlx::query(&sql)
            .bind(from.to_string())
            .bind(to.to_string())
            .fetch(&mut *conn);
        while let Some(r) = rows.try_next().await? {
            coder.push(
                r.try_get("day")?,
                r.try_get("city")?,
                r.try_get("division")?,
                r.try_get("category")?,
                r.try_get("problem")?,
                r.try_get("enterprise_id")?,
            )?;
        }
        Ok(coder.cube)
    }

    /// The detection options "as of" a day, or as of the last stored complaint day when `None`
    /// (`NoComplaints` when there is none), with the configuration in force: the last run's
    /// (so a regulator who tuned the detector keeps that operating point when the page or the
    /// API runs it again), the default when no run recorded one. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn detect_options(
        &self,
        caller: &Caller,
        as_of: Option<NaiveDate>,
    ) -> Result<DetectOptions> {
        caller.require_administrator()?;
        let as_of = match as_of {
            Some(d) => d,
            None => match self.stored_span().await? {
                Some((_, last)) => last,
                None => return Err(ComplaintsError::NoComplaints),
            },
        };
        let mut opts = DetectOptions::new(as_of);
        if let Some(config) = self.last_detect_run(caller).await?.and_then(|r| r.config) {
            opts.config = config;
        }
        Ok(opts)
    }

    /// Recomputes the alarms over the stored complaints and stores them (replacing those of
    /// earlier runs that no warning refers to); significant alarms become draft warnings, one
    /// per surging series unless that series had a live warning in the last 30 days.
    /// Administrators only; `report_days` is held to 1–366.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn detect(&self, caller: &Caller, opts: &DetectOptions) -> Result<DetectReport> {
        caller.require_administrator()?;
        opts.config
            .validate()
            .map_err(|m| ComplaintsError::invalid("config", Invalid::Config(m)))?;
        let opts = &DetectOptions {
            report_days: opts.report_days.clamp(1, 366),
            ..opts.clone()
        };
        let config_json = serde_json::to_string(&opts.config)
            .map_err(|e| corrupt(format!("detector configuration: {e}")))?;
        let base = opts.config.to_params();
        let t0 = std::time::Instant::now();
        let from = opts.as_of - Duration::days(opts.history_days - 1);
        let cube = self.read_cube(from, opts.as_of).await?;
        let complaints = cube.len() as i64;
        let read_millis = t0.elapsed().as_millis() as u64;
        let t1 = std::time::Instant::now();
        let report_from = (opts.history_days - opts.report_days).max(0) as usize;
        let alarms = tokio::task::spawn_blocking(move || {
            let params = DetectParams {
                report_from_day: report_from,
                ..base
            };
            detect_all(&cube, &params)
        })
        .await
        .map_err(|e| corrupt(format!("detection thread: {e}")))?;
        let detect_millis = t1.elapsed().as_millis() as u64;
        let t2 = std::time::Instant::now();
        let now = now_text();
        let significant = alarms.iter().filter(|a| a.significant).count() as u64;
        let mut w = self.store.begin_write(actor(caller)).await?;
        sqlx::query("DELETE FROM complaint_alarms WHERE id NOT IN (SELECT alarm_id FROM complaint_warnings WHERE alarm_id IS NOT NULL)")
            .execute(&mut *w.tx)
            .await?;
        let run_id: i64 = sqlx::query("INSERT INTO complaint_detect_runs (as_of, from_day, complaints, series_alarms, significant, millis, ran_at, config) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(opts.as_of.to_string())
            .bind(from.to_string())
            .bind(complaints)
            .bind(alarms.len() as i64)
            .bind(significant as i64)
            .bind((read_millis + detect_millis) as i64)
            .bind(&now)
            .bind(&config_json)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("id")?;
        for chunk in alarms.chunks(ALARMS_PER_INSERT) {
            let mut sql = format!(
                "INSERT INTO complaint_alarms (run_id, method, level, city, division, category, period_start, period_days, observed, expected, threshold, p_value, q_value, significant, created_at) VALUES {}",
                values_sql(self.store.dialect(), chunk.len(), 15)
            );
            sql.push_str(" ON CONFLICT (method, level, city, division, category, period_start) DO UPDATE SET run_id = excluded.run_id, observed = excluded.observed, expected = excluded.expected, threshold = excluded.threshold, p_value = excluded.p_value, q_value = excluded.q_value, significant = excluded.significant");
            let mut q = sqlx::query(&sql);
            for a in chunk {
                let fin = |v: f64| if v.is_finite() { v } else { 1.0 };
                q = q
                    .bind(run_id)
                    .bind(a.method.as_str())
                    .bind(a.level.as_str())
                    .bind(a.region.city().code.clone())
                    .bind(a.division.map_or(0, |d| i64::from(d.code())))
                    .bind(a.category.map_or(String::new(), |c| c.info().key.clone()))
                    .bind(a.period.start.to_string())
                    .bind(i64::from(a.period.days))
                    .bind(if a.observed.is_finite() {
                        a.observed
                    } else {
                        0.0
                    })
                    .bind(if a.expected.is_finite() {
                        a.expected
                    } else {
                        0.0
                    })
                    .bind(if a.threshold.is_finite() {
                        a.threshold
                    } else {
                        0.0
                    })
                    .bind(fin(a.p_value))
                    .bind(fin(a.q_value))
                    .bind(i64::from(a.significant))
                    .bind(&now);
            }
            q.execute(&mut *w.tx).await?;
        }
        let mut drafts = 0u64;
        if opts.draft_warnings {
            let rows = sqlx::query(&format!(
                "SELECT {ALARM_COLS} FROM complaint_alarms WHERE run_id = $1 AND significant = 1 ORDER BY q_value, p_value, id"
            ))
            .bind(run_id)
            .fetch_all(&mut *w.tx)
            .await?;
            let stored = rows
                .iter()
                .map(alarm_row)
                .collect::<yuepin_store::Result<Vec<_>>>()?;
            // One draft per surging series (the alarm with the smallest q leads), with every
            // method's alarm on that series as evidence.
            let mut by_series: HashMap<String, Vec<&AlarmRecord>> = HashMap::new();
            let mut leaders = Vec::new();
            for a in &stored {
                let key = a.series_key();
                let same = by_series.entry(key.clone()).or_default();
                if same.is_empty() {
                    leaders.push((key, a));
                }
                same.push(a);
            }
            let recent = (opts.as_of - Duration::days(30)).to_string();
            for (key, a) in leaders {
                let exists: i64 = sqlx::query("SELECT COUNT(*) AS n FROM complaint_warnings WHERE series_key = $1 AND status <> 'withdrawn' AND created_at >= $2")
                    .bind(&key)
                    .bind(&recent)
                    .fetch_one(&mut *w.tx)
                    .await?
                    .try_get("n")?;
                if exists > 0 {
                    continue;
                }
                let methods = by_series.get(&key).map(Vec::as_slice).unwrap_or_default();
                create_draft(&mut w.tx, a, methods, &now).await?;
                drafts += 1;
            }
        }
        w.record(
            Change::new("complaints.detect", "complaint_detect_run", run_id).after(
                serde_json::json!({"as_of": opts.as_of.to_string(), "alarms": alarms.len(),
                    "significant": significant, "drafts": drafts, "config": &opts.config}),
            ),
        );
        self.store.commit(w).await?;
        yuepin_metrics::complaint_alarm_runs(1);
        Ok(DetectReport {
            run_id,
            as_of: opts.as_of.to_string(),
            from: from.to_string(),
            complaints: complaints as u64,
            alarms: alarms.len() as u64,
            significant,
            drafts_created: drafts,
            read_millis,
            detect_millis,
            write_millis: t2.elapsed().as_millis() as u64,
        })
    }
}
