//! Reads of the codes tables: settings, applications, series, codes, status-list entries,
//! counterfeit flags and scan counts.

use super::{
    all, app_from_row, code_from_row, date, one_by_id, series_from_row, setting_on, APPROVAL_RULE,
    APP_SELECT, CODE_COLS, SIGNAL_RULE,
};
use crate::error::{Entity, Result};
use crate::records::{
    status_from_db, status_to_db, ApplicationRecord, ApplicationStatus, ApprovalRule, CodeRecord,
    FlagKind, FlagRecord, ListEntry, ScanRow, SeriesRecord, SignalRule, StatusCounts,
};
use sqlx::Row;
use yuepin_code::{CodeStatus, LIST_CAPACITY};
use yuepin_store::{corrupt, Store};

pub(crate) async fn approval_rule(store: &Store) -> Result<ApprovalRule> {
    let mut conn = store.pool().acquire().await?;
    Ok(setting_on(&mut conn, APPROVAL_RULE).await?)
}

pub(crate) async fn signal_rule(store: &Store) -> Result<SignalRule> {
    let mut conn = store.pool().acquire().await?;
    Ok(setting_on(&mut conn, SIGNAL_RULE).await?)
}

pub(crate) async fn application(store: &Store, id: i64) -> Result<ApplicationRecord> {
    one_by_id(
        store,
        &format!("{APP_SELECT} WHERE a.id = $1"),
        id,
        Entity::Application,
        app_from_row,
    )
    .await
}

/// Applications, newest first; optionally of one enterprise and/or in one status.
pub(crate) async fn applications(
    store: &Store,
    enterprise_id: Option<i64>,
    status: Option<ApplicationStatus>,
    limit: i64,
) -> Result<Vec<ApplicationRecord>> {
    let status = status.map(ApplicationStatus::as_str).unwrap_or("");
    let rows = sqlx::query(&format!(
        "{APP_SELECT} WHERE ($1 = 0 OR a.enterprise_id = $2) AND ($3 = '' OR a.status = $4) ORDER BY a.id DESC LIMIT $5"
    ))
    .bind(i64::from(enterprise_id.is_some()))
    .bind(enterprise_id.unwrap_or(0))
    .bind(status.to_string())
    .bind(status.to_string())
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    Ok(all(&rows, app_from_row)?)
}

pub(crate) async fn series(store: &Store, id: i64) -> Result<SeriesRecord> {
    one_by_id(
        store,
        "SELECT * FROM code_series WHERE id = $1",
        id,
        Entity::Series,
        series_from_row,
    )
    .await
}

/// Series of a product, newest first.
pub(crate) async fn series_of_product(store: &Store, product_id: i64) -> Result<Vec<SeriesRecord>> {
    let rows = sqlx::query("SELECT * FROM code_series WHERE product_id = $1 ORDER BY id DESC")
        .bind(product_id)
        .fetch_all(store.pool())
        .await?;
    Ok(all(&rows, series_from_row)?)
}

pub(crate) async fn series_of_enterprise(
    store: &Store,
    enterprise_id: i64,
) -> Result<Vec<SeriesRecord>> {
    let rows = sqlx::query("SELECT * FROM code_series WHERE enterprise_id = $1 ORDER BY id DESC")
        .bind(enterprise_id)
        .fetch_all(store.pool())
        .await?;
    Ok(all(&rows, series_from_row)?)
}

/// The stored code for a subject key and serial.
pub(crate) async fn code_by_serial(
    store: &Store,
    subject: &str,
    serial: &str,
) -> Result<Option<CodeRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {CODE_COLS} FROM codes WHERE subject = $1 AND serial = $2"
    ))
    .bind(subject)
    .bind(serial)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.as_ref().map(code_from_row).transpose()?)
}

pub(crate) async fn code_by_id(store: &Store, id: i64) -> Result<CodeRecord> {
    one_by_id(
        store,
        &format!("SELECT {CODE_COLS} FROM codes WHERE id = $1"),
        id,
        Entity::Code,
        code_from_row,
    )
    .await
}

/// `limit` codes of a series in issuing order, after the first `offset`.
pub(crate) async fn codes_of_series(
    store: &Store,
    series_id: i64,
    offset: i64,
    limit: i64,
) -> Result<Vec<CodeRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {CODE_COLS} FROM codes WHERE series_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
    ))
    .bind(series_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(store.pool())
    .await?;
    Ok(all(&rows, code_from_row)?)
}

/// Up to `limit` codes of each status, those issued for `base` (this server's address) first.
pub(crate) async fn sample_codes(store: &Store, limit: i64, base: &str) -> Result<Vec<CodeRecord>> {
    let mut out = Vec::new();
    for status in [
        CodeStatus::Valid,
        CodeStatus::Suspended,
        CodeStatus::Revoked,
        CodeStatus::Recalled,
    ] {
        let rows = sqlx::query(&format!(
            "SELECT {CODE_COLS} FROM codes WHERE status = $1 \
             ORDER BY CASE WHEN uri LIKE $3 THEN 0 ELSE 1 END, id LIMIT $2"
        ))
        .bind(status_to_db(status))
        .bind(limit)
        .bind(format!("{base}/%"))
        .fetch_all(store.pool())
        .await?;
        for r in &rows {
            out.push(code_from_row(r)?);
        }
    }
    Ok(out)
}

/// Counts of issued codes by status.
pub(crate) async fn code_counts(store: &Store) -> Result<StatusCounts> {
    let mut counts = StatusCounts::default();
    for r in sqlx::query("SELECT status, COUNT(*) FROM codes GROUP BY status")
        .fetch_all(store.pool())
        .await?
    {
        *counts.slot(status_from_db(r.try_get(0)?)?) = r.try_get(1)?;
    }
    Ok(counts)
}

pub(crate) async fn list_exists(store: &Store, list_id: i64) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM code_lists WHERE list_id = $1")
        .bind(list_id)
        .fetch_optional(store.pool())
        .await?
        .is_some())
}

/// The non-valid entries of one status list.
pub(crate) async fn list_entries(store: &Store, list_id: i64) -> Result<Vec<ListEntry>> {
    let base = list_id * i64::from(LIST_CAPACITY);
    let rows =
        sqlx::query("SELECT status_index, status FROM codes WHERE list_id = $1 AND status <> 0")
            .bind(list_id)
            .fetch_all(store.pool())
            .await?;
    rows.iter()
        .map(|r| {
            let position = r.try_get::<i64, _>(0)? - base;
            Ok(ListEntry {
                position: u32::try_from(position)
                    .map_err(|_| corrupt(format!("status index outside list {list_id}")))?,
                status: status_from_db(r.try_get(1)?)?,
            })
        })
        .collect()
}

/// Counterfeit flags, newest first.
pub(crate) async fn flags(store: &Store, limit: i64) -> Result<Vec<FlagRecord>> {
    let rows = sqlx::query(
        "SELECT f.id, f.code_id, f.day, f.kind, f.evidence_json, f.created_at, c.serial, c.uri, c.status, p.name AS product_name, e.name AS enterprise_name FROM code_flags f JOIN codes c ON c.id = f.code_id JOIN products p ON p.id = c.product_id JOIN enterprises e ON e.id = c.enterprise_id ORDER BY f.day DESC, f.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(FlagRecord {
                id: r.try_get("id")?,
                code_id: r.try_get("code_id")?,
                day: date("day", &r.try_get::<String, _>("day")?)?,
                kind: FlagKind::parse(&kind)
                    .ok_or_else(|| corrupt(format!("flag kind {kind:?}")))?,
                evidence: serde_json::from_str(&r.try_get::<String, _>("evidence_json")?)
                    .map_err(corrupt)?,
                created_at: r.try_get("created_at")?,
                serial: r.try_get("serial")?,
                uri: r.try_get("uri")?,
                product_name: r.try_get("product_name")?,
                enterprise_name: r.try_get("enterprise_name")?,
                status: status_from_db(r.try_get("status")?)?,
            })
        })
        .collect()
}

/// Scan counts of one code, newest day first.
pub(crate) async fn scans(store: &Store, code_id: i64) -> Result<Vec<ScanRow>> {
    let rows = sqlx::query(
        "SELECT day, city, scans FROM code_scans WHERE code_id = $1 ORDER BY day DESC, city",
    )
    .bind(code_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let city: String = r.try_get(1)?;
            Ok(ScanRow {
                day: date("day", &r.try_get::<String, _>(0)?)?,
                city: if city.is_empty() {
                    None
                } else {
                    Some(yuepin_domain::RegionCode::parse(&city).map_err(corrupt)?)
                },
                scans: r.try_get(2)?,
            })
        })
        .collect()
}
