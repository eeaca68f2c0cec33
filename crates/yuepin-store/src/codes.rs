//! Storage of the product quality credit codes (issue 3): code applications with their
//! approval pre-check, code series, issued codes with their status-list positions, status
//! changes (one code, a lot, a product, an enterprise), scan counters and counterfeit flags.
//! Private signing keys never come here: they live in files (see `yuepin_code::KeyRing`).

use crate::corrupt;
use crate::{now_text, Actor, Change, Result, Store, StoreError};
use chrono::NaiveDate;
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use yuepin_code::{BatchSpec, IndexAllocator, IssuedCode, PrivateKey, LIST_CAPACITY};
use yuepin_domain::{InspectionResult, QualityEventKind};

/// The configurable approval rule applied to every application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalRule {
    /// How far back the rule looks, in months.
    pub lookback_months: u32,
    /// Block when a failed inspection of the product (or of the enterprise as a whole) in the
    /// window has no later passed inspection.
    pub block_unresolved_failed_inspection: bool,
    /// Block when the enterprise has a serious penalty in the window.
    pub block_serious_penalty: bool,
    /// Approve at once (as "system") when the pre-check passes.
    pub auto_approve: bool,
    /// Largest quantity one application may ask for.
    pub max_quantity: i64,
}

impl Default for ApprovalRule {
    fn default() -> Self {
        Self {
            lookback_months: 12,
            block_unresolved_failed_inspection: true,
            block_serious_penalty: true,
            auto_approve: false,
            max_quantity: 1_000_000,
        }
    }
}

/// When a code's scans look like copies of one label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalRule {
    /// Flag when one code is scanned in more distinct cities than this on one day.
    pub max_cities_per_day: i64,
    /// Flag when one code is scanned more often than this on one day.
    pub max_scans_per_day: i64,
    /// Flag when one code is scanned in more distinct cities than this within 30 days.
    pub max_cities_per_30_days: i64,
}

impl Default for SignalRule {
    fn default() -> Self {
        Self {
            max_cities_per_day: 2,
            max_scans_per_day: 30,
            max_cities_per_30_days: 4,
        }
    }
}

/// One finding of the pre-check (bilingual).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precheck {
    pub ok: bool,
    pub findings: Vec<Finding>,
    pub rule: ApprovalRule,
    pub as_of: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplicationRecord {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub uscc: String,
    pub product_id: i64,
    pub product_name: String,
    pub lot: Option<String>,
    pub quantity: i64,
    pub note: String,
    /// pending / approved / rejected
    pub status: String,
    pub precheck: Precheck,
    pub decision_reason: Option<String>,
    pub auto_approved: bool,
    pub applied_by: String,
    pub applied_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub series_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesRecord {
    pub id: i64,
    pub application_id: Option<i64>,
    pub enterprise_id: i64,
    pub product_id: i64,
    pub lot: Option<String>,
    pub quantity: i64,
    pub issued: i64,
    pub created_at: String,
}

/// An issued code as stored.
#[derive(Debug, Clone, Serialize)]
pub struct CodeRecord {
    pub id: i64,
    pub series_id: i64,
    pub enterprise_id: i64,
    pub product_id: i64,
    /// `01:{gtin14}` or `p:{product-id}`.
    pub subject: String,
    pub lot: Option<String>,
    pub serial: String,
    pub status_index: i64,
    pub kid: String,
    pub issued_on: String,
    pub uri: String,
    /// 0 valid, 1 suspended, 2 revoked, 3 recalled.
    pub status: i64,
    pub status_reason: Option<String>,
    pub status_since: Option<String>,
}

/// Which codes a status change applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum StatusScope {
    Code { code_id: i64 },
    Lot { product_id: i64, lot: String },
    Product { product_id: i64 },
    Enterprise { enterprise_id: i64 },
}

/// A counterfeit signal for the regulator.
#[derive(Debug, Clone, Serialize)]
pub struct FlagRecord {
    pub id: i64,
    pub code_id: i64,
    pub day: String,
    pub kind: String,
    pub evidence: serde_json::Value,
    pub created_at: String,
    pub serial: String,
    pub uri: String,
    pub product_name: String,
    pub enterprise_name: String,
    pub status: i64,
}

/// Scan counts of one code: (day, city, scans), newest first.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRow {
    pub day: String,
    pub city: String,
    pub scans: i64,
}

/// Status-list entry that is not "valid": (position, status).
#[derive(Debug, Clone, Copy)]
pub struct ListEntry {
    pub position: u32,
    pub status: u8,
}

/// The subject column for a product: `01:{gtin14}` or `p:{product id}`.
pub fn subject_key(subject: &yuepin_code::Subject) -> String {
    match subject {
        yuepin_code::Subject::Gtin(g) => format!("01:{}", g.to_gtin14()),
        yuepin_code::Subject::Product(p) => format!("p:{}", p.as_str()),
    }
}

const APP_SELECT: &str = "SELECT a.*, e.name AS enterprise_name, e.uscc AS uscc, p.name AS product_name FROM code_applications a JOIN enterprises e ON e.id = a.enterprise_id JOIN products p ON p.id = a.product_id";

fn app_from_row(r: &AnyRow) -> Result<ApplicationRecord> {
    let precheck: Precheck =
        serde_json::from_str(&r.try_get::<String, _>("precheck_json")?).map_err(corrupt)?;
    Ok(ApplicationRecord {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        uscc: r.try_get("uscc")?,
        product_id: r.try_get("product_id")?,
        product_name: r.try_get("product_name")?,
        lot: crate::get_opt_text(r, "lot")?,
        quantity: r.try_get("quantity")?,
        note: r.try_get("note")?,
        status: r.try_get("status")?,
        precheck,
        decision_reason: crate::get_opt_text(r, "decision_reason")?,
        auto_approved: r.try_get::<i64, _>("auto_approved")? != 0,
        applied_by: r.try_get("applied_by")?,
        applied_at: r.try_get("applied_at")?,
        decided_by: crate::get_opt_text(r, "decided_by")?,
        decided_at: crate::get_opt_text(r, "decided_at")?,
        series_id: r.try_get("series_id")?,
    })
}

fn series_from_row(r: &AnyRow) -> Result<SeriesRecord> {
    Ok(SeriesRecord {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        product_id: r.try_get("product_id")?,
        lot: crate::get_opt_text(r, "lot")?,
        quantity: r.try_get("quantity")?,
        issued: r.try_get("issued")?,
        created_at: r.try_get("created_at")?,
    })
}

const CODE_COLS: &str = "id, series_id, enterprise_id, product_id, subject, lot, serial, status_index, kid, issued_on, uri, status, status_reason, status_since";

fn code_from_row(r: &AnyRow) -> Result<CodeRecord> {
    Ok(CodeRecord {
        id: r.try_get("id")?,
        series_id: r.try_get("series_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        product_id: r.try_get("product_id")?,
        subject: r.try_get("subject")?,
        lot: crate::get_opt_text(r, "lot")?,
        serial: r.try_get("serial")?,
        status_index: r.try_get("status_index")?,
        kid: r.try_get("kid")?,
        issued_on: r.try_get("issued_on")?,
        uri: r.try_get("uri")?,
        status: r.try_get("status")?,
        status_reason: crate::get_opt_text(r, "status_reason")?,
        status_since: crate::get_opt_text(r, "status_since")?,
    })
}

async fn setting_on<T: for<'de> Deserialize<'de> + Default>(
    conn: &mut AnyConnection,
    key: &str,
) -> Result<T> {
    let row = sqlx::query("SELECT value FROM code_settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => serde_json::from_str(&r.try_get::<String, _>(0)?).map_err(corrupt),
        None => Ok(T::default()),
    }
}

/// Evaluates the approval rule on an enterprise's quality events for one product.
pub fn evaluate_rule(
    rule: &ApprovalRule,
    events: &[crate::EventRecord],
    product_id: i64,
    today: NaiveDate,
) -> Precheck {
    let since = today
        .checked_sub_months(chrono::Months::new(rule.lookback_months))
        .unwrap_or(NaiveDate::MIN);
    let concerns = |p: Option<i64>| p.is_none() || p == Some(product_id);
    let mut findings = Vec::new();
    for e in events {
        if e.date < since || e.date > today {
            continue;
        }
        match &e.kind {
            QualityEventKind::Inspection {
                result: InspectionResult::Fail,
                report_no,
                ..
            } if rule.block_unresolved_failed_inspection && concerns(e.product_id) => {
                let resolved = events.iter().any(|later| {
                    later.product_id == e.product_id
                        && later.date > e.date
                        && matches!(
                            later.kind,
                            QualityEventKind::Inspection {
                                result: InspectionResult::Pass,
                                ..
                            }
                        )
                });
                if !resolved {
                    findings.push(Finding {
                        code: "unresolved_failed_inspection".into(),
                        zh: format!("{} 监督抽查不合格(报告 {report_no}),其后无合格记录", e.date),
                        en: format!(
                            "failed inspection on {} (report {report_no}) with no later pass",
                            e.date
                        ),
                        date: e.date,
                    });
                }
            }
            QualityEventKind::Penalty {
                serious: true,
                decision_no,
                ..
            } if rule.block_serious_penalty => {
                findings.push(Finding {
                    code: "serious_penalty".into(),
                    zh: format!("{} 受到严重行政处罚(决定书 {decision_no})", e.date),
                    en: format!("serious penalty on {} (decision {decision_no})", e.date),
                    date: e.date,
                });
            }
            _ => {}
        }
    }
    Precheck {
        ok: findings.is_empty(),
        findings,
        rule: rule.clone(),
        as_of: today,
    }
}

/// Inserts issued codes in multi-row statements on the transaction's connection.
async fn insert_codes(
    conn: &mut AnyConnection,
    dialect: &dyn crate::Dialect,
    series: &SeriesRecord,
    subject: &str,
    codes: &[IssuedCode],
) -> Result<()> {
    const COLS: usize = 11;
    for chunk in codes.chunks(1000) {
        let sql = format!(
            "INSERT INTO codes (series_id, enterprise_id, product_id, subject, lot, serial, status_index, list_id, kid, issued_on, uri) VALUES {}",
            crate::dialect::values_sql(dialect, chunk.len(), COLS)
        );
        let mut q = sqlx::query(&sql);
        for code in chunk {
            q = q
                .bind(series.id)
                .bind(series.enterprise_id)
                .bind(series.product_id)
                .bind(subject.to_string())
                .bind(series.lot.clone())
                .bind(code.serial.as_str().to_string())
                .bind(i64::from(code.status.global_index()))
                .bind(i64::from(code.status.list_id()))
                .bind(code.kid.clone())
                .bind(code.issued_on.to_string())
                .bind(code.uri.clone());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    pub async fn code_approval_rule(&self) -> Result<ApprovalRule> {
        let mut conn = self.pool.acquire().await?;
        setting_on(&mut conn, "approval_rule").await
    }

    pub async fn code_signal_rule(&self) -> Result<SignalRule> {
        let mut conn = self.pool.acquire().await?;
        setting_on(&mut conn, "signal_rule").await
    }

    /// Stores a setting (`approval_rule` or `signal_rule`), audited.
    pub async fn set_code_setting(
        &self,
        actor: Actor,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<()> {
        let mut w = self.begin_write(actor).await?;
        let before = sqlx::query("SELECT value FROM code_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *w.tx)
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?;
        sqlx::query("INSERT INTO code_settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
            .bind(key)
            .bind(value.to_string())
            .bind(now_text())
            .execute(&mut *w.tx)
            .await?;
        let mut change = Change::new("update", "code_setting", key).after(value);
        if let Some(b) = before {
            change = change.before(serde_json::from_str::<serde_json::Value>(&b).ok());
        }
        w.record(change);
        self.commit(w).await
    }

    /// The pre-check of an application for `product_id` as of `today`.
    pub async fn code_precheck(
        &self,
        enterprise_id: i64,
        product_id: i64,
        today: NaiveDate,
    ) -> Result<Precheck> {
        let rule = self.code_approval_rule().await?;
        let events = self.events_of(enterprise_id).await?;
        Ok(evaluate_rule(&rule, &events, product_id, today))
    }

    /// Files an application (pre-checked); auto-approves it when the rule says so and the
    /// pre-check passes.
    #[allow(clippy::too_many_arguments)]
    pub async fn apply_for_codes(
        &self,
        actor: Actor,
        enterprise_id: i64,
        product_id: i64,
        lot: Option<&str>,
        quantity: i64,
        note: &str,
        today: NaiveDate,
    ) -> Result<ApplicationRecord> {
        let product = self.product(product_id).await?;
        if product.enterprise_id != enterprise_id {
            return Err(StoreError::NotFound(format!(
                "product #{product_id} of this enterprise"
            )));
        }
        let precheck = self.code_precheck(enterprise_id, product_id, today).await?;
        let auto = precheck.ok && precheck.rule.auto_approve;
        let now = now_text();
        let mut w = self.begin_write(actor.clone()).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO code_applications (enterprise_id, product_id, lot, quantity, note, status, precheck_ok, precheck_json, applied_by, applied_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9) RETURNING id",
        )
        .bind(enterprise_id)
        .bind(product_id)
        .bind(lot.map(str::to_string))
        .bind(quantity)
        .bind(note.to_string())
        .bind(i64::from(precheck.ok))
        .bind(serde_json::to_string(&precheck).map_err(corrupt)?)
        .bind(actor.0.clone())
        .bind(now.clone())
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        w.record(
            Change::new("apply", "code_application", id).after(serde_json::json!({
                "enterprise_id": enterprise_id, "product_id": product_id, "lot": lot,
                "quantity": quantity, "precheck_ok": precheck.ok,
            })),
        );
        if auto {
            decide_on(
                &mut w,
                id,
                true,
                "预审通过,自动批准 (pre-check passed; auto-approved)",
                "system:auto-approve",
                true,
            )
            .await?;
        }
        self.commit(w).await?;
        self.code_application(id).await
    }

    /// Approves (creating a series) or rejects a pending application.
    pub async fn decide_code_application(
        &self,
        actor: Actor,
        id: i64,
        approve: bool,
        reason: &str,
    ) -> Result<ApplicationRecord> {
        let mut w = self.begin_write(actor.clone()).await?;
        decide_on(&mut w, id, approve, reason, &actor.0, false).await?;
        self.commit(w).await?;
        self.code_application(id).await
    }

    pub async fn code_application(&self, id: i64) -> Result<ApplicationRecord> {
        let row = sqlx::query(&format!("{APP_SELECT} WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("code application #{id}")))?;
        app_from_row(&row)
    }

    /// Applications, newest first; optionally of one enterprise and/or in one status.
    pub async fn code_applications(
        &self,
        enterprise_id: Option<i64>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ApplicationRecord>> {
        sqlx::query(&format!(
            "{APP_SELECT} WHERE ($1 = 0 OR a.enterprise_id = $2) AND ($3 = '' OR a.status = $4) ORDER BY a.id DESC LIMIT $5"
        ))
        .bind(i64::from(enterprise_id.is_some()))
        .bind(enterprise_id.unwrap_or(0))
        .bind(status.unwrap_or("").to_string())
        .bind(status.unwrap_or("").to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(app_from_row)
        .collect()
    }

    /// Creates an approved series directly (operator CLI `--grant`), audited.
    pub async fn grant_code_series(
        &self,
        actor: Actor,
        product_id: i64,
        lot: Option<&str>,
        quantity: i64,
        reason: &str,
    ) -> Result<SeriesRecord> {
        let product = self.product(product_id).await?;
        let mut w = self.begin_write(actor).await?;
        let id = insert_series(
            &mut w.tx,
            None,
            product.enterprise_id,
            product_id,
            lot,
            quantity,
        )
        .await?;
        w.record(
            Change::new("grant", "code_series", id).after(serde_json::json!({
                "product_id": product_id, "lot": lot, "quantity": quantity, "reason": reason,
            })),
        );
        self.commit(w).await?;
        self.code_series(id).await
    }

    pub async fn code_series(&self, id: i64) -> Result<SeriesRecord> {
        let row = sqlx::query("SELECT * FROM code_series WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("code series #{id}")))?;
        series_from_row(&row)
    }

    /// Series of a product (optionally only those for `lot`), newest first.
    pub async fn code_series_of_product(&self, product_id: i64) -> Result<Vec<SeriesRecord>> {
        sqlx::query("SELECT * FROM code_series WHERE product_id = $1 ORDER BY id DESC")
            .bind(product_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(series_from_row)
            .collect()
    }

    pub async fn code_series_of_enterprise(&self, enterprise_id: i64) -> Result<Vec<SeriesRecord>> {
        sqlx::query("SELECT * FROM code_series WHERE enterprise_id = $1 ORDER BY id DESC")
            .bind(enterprise_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(series_from_row)
            .collect()
    }

    /// Issues `count` codes of a series: positions in a status list with room, random serials,
    /// signatures by `key`; all rows stored in one audited transaction before they are returned.
    pub async fn issue_codes(
        &self,
        actor: Actor,
        series_id: i64,
        count: usize,
        spec: &BatchSpec,
        key: &PrivateKey,
        rng: &mut (impl RngCore + CryptoRng + Send),
    ) -> Result<Vec<IssuedCode>> {
        if count == 0 || count > LIST_CAPACITY as usize {
            return Err(StoreError::Conflict(format!(
                "count must be 1 to {LIST_CAPACITY} per issue"
            )));
        }
        let mut w = self.begin_write(actor).await?;
        let series = series_from_row(
            &sqlx::query("SELECT * FROM code_series WHERE id = $1")
                .bind(series_id)
                .fetch_optional(&mut *w.tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("code series #{series_id}")))?,
        )?;
        if series.issued + count as i64 > series.quantity {
            return Err(StoreError::Conflict(format!(
                "series #{series_id} allows {} more code(s), {count} requested",
                series.quantity - series.issued
            )));
        }
        // Lock the chosen list's row (PostgreSQL) so concurrent issuers cannot share positions.
        let list_id: i64 = match sqlx::query(
            "SELECT list_id FROM code_lists WHERE used + $1 <= $2 ORDER BY list_id LIMIT 1",
        )
        .bind(count as i64)
        .bind(i64::from(LIST_CAPACITY))
        .fetch_optional(&mut *w.tx)
        .await?
        {
            Some(r) => r.try_get(0)?,
            None => sqlx::query("SELECT COALESCE(MAX(list_id) + 1, 0) FROM code_lists")
                .fetch_one(&mut *w.tx)
                .await?
                .try_get(0)?,
        };
        sqlx::query("INSERT INTO code_lists (list_id, used, updated_at) VALUES ($1, 0, $2) ON CONFLICT (list_id) DO UPDATE SET updated_at = excluded.updated_at")
            .bind(list_id)
            .bind(now_text())
            .execute(&mut *w.tx)
            .await?;
        let base = list_id * i64::from(LIST_CAPACITY);
        let used: Vec<u32> = sqlx::query("SELECT status_index FROM codes WHERE list_id = $1")
            .bind(list_id)
            .fetch_all(&mut *w.tx)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>(0).map(|i| (i - base) as u32))
            .collect::<std::result::Result<_, _>>()?;
        let mut allocator = IndexAllocator::resume(list_id as u32, used).map_err(corrupt)?;
        let codes = yuepin_code::issue_many(spec, key, count, &mut allocator, rng)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        let subject = subject_key(&spec.subject);
        insert_codes(&mut w.tx, self.dialect, &series, &subject, &codes).await?;
        sqlx::query("UPDATE code_lists SET used = used + $1 WHERE list_id = $2")
            .bind(count as i64)
            .bind(list_id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("UPDATE code_series SET issued = issued + $1 WHERE id = $2")
            .bind(count as i64)
            .bind(series_id)
            .execute(&mut *w.tx)
            .await?;
        w.record(
            Change::new("issue", "code_series", series_id).after(serde_json::json!({
                "count": count, "list_id": list_id, "kid": key.kid().as_str(),
                "issued_on": spec.issued_on, "subject": subject, "lot": series.lot,
            })),
        );
        self.commit(w).await?;
        Ok(codes)
    }

    /// The stored code for a subject key and serial.
    pub async fn code_by_serial(&self, subject: &str, serial: &str) -> Result<Option<CodeRecord>> {
        sqlx::query(&format!(
            "SELECT {CODE_COLS} FROM codes WHERE subject = $1 AND serial = $2"
        ))
        .bind(subject)
        .bind(serial)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(code_from_row)
        .transpose()
    }

    pub async fn code_by_id(&self, id: i64) -> Result<CodeRecord> {
        let row = sqlx::query(&format!("SELECT {CODE_COLS} FROM codes WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("code #{id}")))?;
        code_from_row(&row)
    }

    /// Codes of a series (or of all series when `series_id` is None), first `limit`.
    pub async fn codes_of_series(&self, series_id: i64, limit: i64) -> Result<Vec<CodeRecord>> {
        sqlx::query(&format!(
            "SELECT {CODE_COLS} FROM codes WHERE series_id = $1 ORDER BY id LIMIT $2"
        ))
        .bind(series_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(code_from_row)
        .collect()
    }

    /// A few codes per status, for the regulator's page (demo scan links).
    pub async fn sample_codes(&self, limit: i64) -> Result<Vec<CodeRecord>> {
        let mut out = Vec::new();
        for status in 0..4i64 {
            let rows = sqlx::query(&format!(
                "SELECT {CODE_COLS} FROM codes WHERE status = $1 ORDER BY id LIMIT $2"
            ))
            .bind(status)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                out.push(code_from_row(r)?);
            }
        }
        Ok(out)
    }

    /// Counts of issued codes by status (valid, suspended, revoked, recalled).
    pub async fn code_counts(&self) -> Result<[i64; 4]> {
        let mut counts = [0i64; 4];
        for r in sqlx::query("SELECT status, COUNT(*) FROM codes GROUP BY status")
            .fetch_all(&self.pool)
            .await?
        {
            let s: i64 = r.try_get(0)?;
            if let Some(slot) = counts.get_mut(s as usize) {
                *slot = r.try_get(1)?;
            }
        }
        Ok(counts)
    }

    /// Sets the status of every code in `scope` (0 valid = reinstate, 1 suspended, 2 revoked,
    /// 3 recalled) with a reason, audited. Returns how many codes changed.
    pub async fn set_code_status(
        &self,
        actor: Actor,
        scope: &StatusScope,
        status: i64,
        reason: &str,
        today: NaiveDate,
    ) -> Result<u64> {
        if !(0..=3).contains(&status) {
            return Err(StoreError::Conflict(format!(
                "status {status} is not 0..=3"
            )));
        }
        let (cond, a, b): (&str, i64, Option<String>) = match scope {
            StatusScope::Code { code_id } => ("id = $4", *code_id, None),
            StatusScope::Lot { product_id, lot } => (
                "product_id = $4 AND lot = $5",
                *product_id,
                Some(lot.clone()),
            ),
            StatusScope::Product { product_id } => ("product_id = $4", *product_id, None),
            StatusScope::Enterprise { enterprise_id } => {
                ("enterprise_id = $4", *enterprise_id, None)
            }
        };
        let (reason_v, since_v) = if status == 0 {
            (None, None)
        } else {
            (Some(reason.to_string()), Some(today.to_string()))
        };
        let mut w = self.begin_write(actor).await?;
        let sql = format!(
            "UPDATE codes SET status = $1, status_reason = $2, status_since = $3 WHERE {cond} AND status <> $1"
        );
        let mut q = sqlx::query(&sql)
            .bind(status)
            .bind(reason_v)
            .bind(since_v)
            .bind(a);
        if let Some(lot) = b {
            q = q.bind(lot);
        }
        let changed = q.execute(&mut *w.tx).await?.rows_affected();
        let action = ["reinstate", "suspend", "revoke", "recall"][status as usize];
        w.record(
            Change::new(
                action,
                "codes",
                serde_json::to_string(scope).unwrap_or_default(),
            )
            .after(serde_json::json!({"status": status, "reason": reason, "changed": changed})),
        );
        self.commit(w).await?;
        Ok(changed)
    }

    /// Lists that have issued codes.
    pub async fn code_list_ids(&self) -> Result<Vec<i64>> {
        sqlx::query("SELECT list_id FROM code_lists ORDER BY list_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    pub async fn code_list_exists(&self, list_id: i64) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM code_lists WHERE list_id = $1")
            .bind(list_id)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// The non-valid entries of one status list.
    pub async fn code_list_entries(&self, list_id: i64) -> Result<Vec<ListEntry>> {
        let base = list_id * i64::from(LIST_CAPACITY);
        sqlx::query("SELECT status_index, status FROM codes WHERE list_id = $1 AND status <> 0")
            .bind(list_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(ListEntry {
                    position: (r.try_get::<i64, _>(0)? - base) as u32,
                    status: r.try_get::<i64, _>(1)? as u8,
                })
            })
            .collect()
    }

    /// Adds scan counts `(code_id, day, city, scans)` ("" = city not shared) and raises flags
    /// for codes whose scans break the signal rule. One audited transaction. Returns new flags.
    pub async fn record_code_scans(
        &self,
        actor: Actor,
        counts: &[(i64, String, String, i64)],
    ) -> Result<usize> {
        if counts.is_empty() {
            return Ok(0);
        }
        let rule = self.code_signal_rule().await?;
        let mut w = self.begin_write(actor).await?;
        for (code_id, day, city, n) in counts {
            sqlx::query("INSERT INTO code_scans (code_id, day, city, scans) VALUES ($1, $2, $3, $4) ON CONFLICT (code_id, day, city) DO UPDATE SET scans = code_scans.scans + excluded.scans")
                .bind(*code_id)
                .bind(day.clone())
                .bind(city.clone())
                .bind(*n)
                .execute(&mut *w.tx)
                .await?;
        }
        let mut pairs: Vec<(i64, String)> =
            counts.iter().map(|(c, d, _, _)| (*c, d.clone())).collect();
        pairs.sort();
        pairs.dedup();
        let mut flagged = 0;
        let now = now_text();
        for (code_id, day) in &pairs {
            let rows = sqlx::query(
                "SELECT day, city, scans FROM code_scans WHERE code_id = $1 AND day <= $2 ORDER BY day DESC, city",
            )
            .bind(*code_id)
            .bind(day.clone())
            .fetch_all(&mut *w.tx)
            .await?;
            let day_date = yuepin_domain::parse_date("day", day).map_err(corrupt)?;
            let window_start = (day_date - chrono::Days::new(29)).to_string();
            let mut today_scans = 0;
            let mut today_cities = std::collections::BTreeMap::new();
            let mut window_cities = std::collections::BTreeMap::new();
            for r in &rows {
                let d: String = r.try_get(0)?;
                let c: String = r.try_get(1)?;
                let s: i64 = r.try_get(2)?;
                if &d == day {
                    today_scans += s;
                    if !c.is_empty() {
                        *today_cities.entry(c.clone()).or_insert(0i64) += s;
                    }
                }
                if d >= window_start && !c.is_empty() {
                    *window_cities.entry(c).or_insert(0i64) += s;
                }
            }
            let mut raise = Vec::new();
            if today_cities.len() as i64 > rule.max_cities_per_day {
                raise.push((
                    "many_cities_day",
                    serde_json::json!({
                        "day": day, "cities": today_cities, "limit": rule.max_cities_per_day,
                    }),
                ));
            }
            if today_scans > rule.max_scans_per_day {
                raise.push(("many_scans_day", serde_json::json!({
                    "day": day, "scans": today_scans, "cities": today_cities, "limit": rule.max_scans_per_day,
                })));
            }
            if window_cities.len() as i64 > rule.max_cities_per_30_days {
                raise.push(("many_cities_30d", serde_json::json!({
                    "from": window_start, "to": day, "cities": window_cities, "limit": rule.max_cities_per_30_days,
                })));
            }
            for (kind, evidence) in raise {
                let inserted = sqlx::query("INSERT INTO code_flags (code_id, day, kind, evidence_json, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code_id, day, kind) DO UPDATE SET evidence_json = excluded.evidence_json RETURNING id")
                    .bind(*code_id)
                    .bind(day.clone())
                    .bind(kind)
                    .bind(evidence.to_string())
                    .bind(now.clone())
                    .fetch_optional(&mut *w.tx)
                    .await?;
                if inserted.is_some() {
                    flagged += 1;
                }
            }
        }
        w.record(Change::new("record", "code_scans", format!("{} row(s)", counts.len())).after(
            serde_json::json!({"rows": counts.len(), "scans": counts.iter().map(|c| c.3).sum::<i64>(), "flags": flagged}),
        ));
        self.commit(w).await?;
        Ok(flagged)
    }

    /// Counterfeit flags, newest first.
    pub async fn code_flags(&self, limit: i64) -> Result<Vec<FlagRecord>> {
        sqlx::query(
            "SELECT f.id, f.code_id, f.day, f.kind, f.evidence_json, f.created_at, c.serial, c.uri, c.status, p.name AS product_name, e.name AS enterprise_name FROM code_flags f JOIN codes c ON c.id = f.code_id JOIN products p ON p.id = c.product_id JOIN enterprises e ON e.id = c.enterprise_id ORDER BY f.day DESC, f.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(FlagRecord {
                id: r.try_get("id")?,
                code_id: r.try_get("code_id")?,
                day: r.try_get("day")?,
                kind: r.try_get("kind")?,
                evidence: serde_json::from_str(&r.try_get::<String, _>("evidence_json")?)
                    .map_err(corrupt)?,
                created_at: r.try_get("created_at")?,
                serial: r.try_get("serial")?,
                uri: r.try_get("uri")?,
                product_name: r.try_get("product_name")?,
                enterprise_name: r.try_get("enterprise_name")?,
                status: r.try_get("status")?,
            })
        })
        .collect()
    }

    /// Scan counts of one code, newest day first.
    pub async fn code_scans(&self, code_id: i64) -> Result<Vec<ScanRow>> {
        sqlx::query(
            "SELECT day, city, scans FROM code_scans WHERE code_id = $1 ORDER BY day DESC, city",
        )
        .bind(code_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ScanRow {
                day: r.try_get(0)?,
                city: r.try_get(1)?,
                scans: r.try_get(2)?,
            })
        })
        .collect()
    }

    /// Complaints about an enterprise in the window, when the complaints module has a table of
    /// them (`complaints` with `enterprise_id` and a date column); `None` when it does not.
    pub async fn complaint_count(&self, enterprise_id: i64, since: &str) -> Option<i64> {
        for sql in [
            "SELECT COUNT(*) FROM complaints WHERE enterprise_id = $1 AND received_on >= $2",
            "SELECT COUNT(*) FROM complaints WHERE enterprise_id = $1 AND day >= $2",
        ] {
            if let Ok(row) = sqlx::query(sql)
                .bind(enterprise_id)
                .bind(since.to_string())
                .fetch_one(&self.pool)
                .await
            {
                return row.try_get::<i64, _>(0).ok();
            }
        }
        None
    }
}

async fn insert_series(
    conn: &mut AnyConnection,
    application_id: Option<i64>,
    enterprise_id: i64,
    product_id: i64,
    lot: Option<&str>,
    quantity: i64,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO code_series (application_id, enterprise_id, product_id, lot, quantity, issued, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id",
    )
    .bind(application_id)
    .bind(enterprise_id)
    .bind(product_id)
    .bind(lot.map(str::to_string))
    .bind(quantity)
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?)
}

async fn decide_on(
    w: &mut crate::WriteTx,
    id: i64,
    approve: bool,
    reason: &str,
    decided_by: &str,
    auto: bool,
) -> Result<()> {
    let row = sqlx::query(
        "SELECT enterprise_id, product_id, lot, quantity, status FROM code_applications WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *w.tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("code application #{id}")))?;
    let status: String = row.try_get("status")?;
    if status != "pending" {
        return Err(StoreError::Conflict(format!(
            "application #{id} is already {status}"
        )));
    }
    let series_id = if approve {
        Some(
            insert_series(
                &mut w.tx,
                Some(id),
                row.try_get("enterprise_id")?,
                row.try_get("product_id")?,
                crate::get_opt_text(&row, "lot")?.as_deref(),
                row.try_get("quantity")?,
            )
            .await?,
        )
    } else {
        None
    };
    let new_status = if approve { "approved" } else { "rejected" };
    sqlx::query("UPDATE code_applications SET status = $1, decision_reason = $2, decided_by = $3, decided_at = $4, series_id = $5, auto_approved = $6 WHERE id = $7")
        .bind(new_status)
        .bind(reason.to_string())
        .bind(decided_by.to_string())
        .bind(now_text())
        .bind(series_id)
        .bind(i64::from(auto))
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    w.record(
        Change::new(if approve { "approve" } else { "reject" }, "code_application", id)
            .before(serde_json::json!({"status": "pending"}))
            .after(serde_json::json!({"status": new_status, "reason": reason, "series_id": series_id, "auto": auto})),
    );
    Ok(())
}
