//! Test reports: public verification by number and token (what the QR on a report opens), the reports
//! of an order, and the writes the order steps make inside their transaction — the next number
//! of a lab's day, replacement, revocation, and the inspection record an issued report becomes
//! in the enterprise's quality file.

use crate::records::{OrderRecord, ReportRecord, TestResults};
use crate::store::{report_from_row, REPORT_COLS, REPORT_FROM};
use crate::{Invalid, LabsError, LabsResult, LabsService};
use chrono::NaiveDate;
use sqlx::Row;
use yuepin_domain::{Caller, InspectionResult, QualityEventKind};
use yuepin_labs::{LabCode, ReportNumber};
use yuepin_store::{corrupt, Change, Store, WriteTx};

impl LabsService {
    /// A report for public verification: anyone holding its number and its token (both in
    /// the printed link) may check it. A wrong or missing token is the same `NotFound` as an
    /// unknown number, so numbers cannot be enumerated.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn report(
        &self,
        _caller: &Caller,
        number: &ReportNumber,
        token: &str,
    ) -> LabsResult<ReportRecord> {
        let number = number.to_string();
        let not_found = || LabsError::NotFound {
            entity: "report",
            key: number.clone(),
        };
        let r = sqlx::query(&format!(
            "SELECT {REPORT_COLS} FROM {REPORT_FROM} WHERE r.number = $1"
        ))
        .bind(&number)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(not_found)?;
        let report = report_from_row(&r)?;
        if report.verify_token.is_empty() || !constant_eq(&report.verify_token, token) {
            return Err(not_found());
        }
        Ok(report)
    }

    /// The reports of one order, by round (callers check access to the order first).
    pub(crate) async fn reports_of_order(&self, order_id: i64) -> LabsResult<Vec<ReportRecord>> {
        Ok(sqlx::query(&format!(
            "SELECT {REPORT_COLS} FROM {REPORT_FROM} WHERE r.order_id = $1 ORDER BY r.round"
        ))
        .bind(order_id)
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(report_from_row)
        .collect::<yuepin_store::Result<_>>()?)
    }
}

/// Random bytes in a report's verification token (128 bits, 22 base64url characters).
pub(crate) const REPORT_TOKEN_BYTES: usize = 16;

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The next report number of `lab_id` on `today`: `YP-<lab code>-<yyyymmdd>-<seq>`, the
/// sequence counted per lab and day in the database (safe under concurrent issuing).
pub(crate) async fn next_report_number(
    w: &mut WriteTx,
    lab_id: i64,
    today: NaiveDate,
) -> LabsResult<ReportNumber> {
    let code: String = sqlx::query("SELECT code FROM labs WHERE id = $1")
        .bind(lab_id)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
    let day = today.format("%Y%m%d").to_string();
    let seq: i64 = sqlx::query(
        "INSERT INTO lab_report_seq (lab_id, day, seq) VALUES ($1, $2, 1) \
         ON CONFLICT (lab_id, day) DO UPDATE SET seq = lab_report_seq.seq + 1 RETURNING seq",
    )
    .bind(lab_id)
    .bind(&day)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get(0)?;
    LabCode::parse(&code)
        .and_then(|c| ReportNumber::new(c, today, seq as u32))
        .map_err(|e| LabsError::Invalid(Invalid::ReportNumber(e.to_string())))
}

/// Marks `old` as replaced by `by` (a retest's report).
pub(crate) async fn mark_replaced(
    w: &mut WriteTx,
    old: &ReportNumber,
    by: &ReportNumber,
) -> LabsResult<()> {
    sqlx::query("UPDATE lab_reports SET status = 'replaced', replaced_by = $1 WHERE number = $2")
        .bind(by.to_string())
        .bind(old.to_string())
        .execute(&mut *w.tx)
        .await?;
    w.record(
        Change::new("replace", "lab_report", old.to_string())
            .after(serde_json::json!({"replaced_by": by.to_string()})),
    );
    Ok(())
}

/// Revokes a report for `reason` (final: the database keeps revoked reports revoked).
pub(crate) async fn revoke_report(
    w: &mut WriteTx,
    report: &ReportNumber,
    reason: &str,
) -> LabsResult<()> {
    sqlx::query("UPDATE lab_reports SET status = 'revoked', revoked_reason = $1 WHERE number = $2")
        .bind(reason)
        .bind(report.to_string())
        .execute(&mut *w.tx)
        .await?;
    w.record(
        Change::new("revoke", "lab_report", report.to_string())
            .after(serde_json::json!({"reason": reason})),
    );
    Ok(())
}

/// Files an issued report as an `inspection` event in the enterprise's quality file, in the
/// issuing transaction (the event's natural key is the report number, so re-issuing upserts).
pub(crate) async fn file_inspection(
    store: &Store,
    w: &mut WriteTx,
    order: &OrderRecord,
    number: &ReportNumber,
    results: &TestResults,
    today: NaiveDate,
) -> LabsResult<()> {
    let lab_name: String = sqlx::query("SELECT name FROM labs WHERE id = $1")
        .bind(order.lab_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or_else(|| corrupt(format!("lab #{} of order #{}", order.lab_id, order.id)))?
        .try_get(0)?;
    let kind = QualityEventKind::Inspection {
        agency: lab_name,
        report_no: number.to_string(),
        result: if results.passed {
            InspectionResult::Pass
        } else {
            InspectionResult::Fail
        },
        failed_items: results.failed_items.clone(),
    };
    yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .save_event(
            w,
            order.enterprise_id,
            None,
            today,
            &format!("inspection:{number}"),
            &kind,
        )
        .await?;
    Ok(())
}
