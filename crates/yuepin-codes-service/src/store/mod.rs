//! The SQL of the codes capability (tables of migration `0100_codes`): free functions over the
//! core [`Store`], split into reads (`queries`) and audited writes (`writes`). Rows are parsed
//! into the typed records here; a value that no longer parses is `StoreError::Corrupt`. Access
//! checks are not made here: the use cases in the crate root make them before calling in.
//! Private signing keys never come here: they live in files (see [`crate::keys`]).

pub(crate) mod queries;
pub(crate) mod writes;

use crate::records::{
    status_from_db, ApplicationRecord, ApplicationStatus, CodeRecord, Precheck, SeriesRecord,
};
use chrono::NaiveDate;
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use yuepin_store::{corrupt, get_opt_text, Result};

/// Settings rows of `code_settings`.
pub(crate) const APPROVAL_RULE: &str = "approval_rule";
pub(crate) const SIGNAL_RULE: &str = "signal_rule";

pub(crate) const APP_SELECT: &str = "SELECT a.*, e.name AS enterprise_name, e.uscc AS uscc, p.name AS product_name FROM code_applications a JOIN enterprises e ON e.id = a.enterprise_id JOIN products p ON p.id = a.product_id";

pub(crate) const CODE_COLS: &str = "id, series_id, enterprise_id, product_id, subject, lot, serial, status_index, kid, issued_on, uri, status, status_reason, status_since";

/// Parses one row into a record.
pub(crate) type FromRow<T> = fn(&AnyRow) -> Result<T>;

/// The row `sql` finds for `id` (its one `$1`), parsed, or `NotFound` naming the entity.
pub(crate) async fn one_by_id<T>(
    store: &yuepin_store::Store,
    sql: &str,
    id: i64,
    entity: crate::error::Entity,
    parse: FromRow<T>,
) -> crate::error::Result<T> {
    let row = sqlx::query(sql)
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .ok_or(crate::error::CodesError::NotFound { entity, id })?;
    Ok(parse(&row)?)
}

/// Every row parsed, or the first row that does not parse.
pub(crate) fn all<T>(rows: &[AnyRow], parse: FromRow<T>) -> Result<Vec<T>> {
    rows.iter().map(parse).collect()
}

/// A stored `YYYY-MM-DD` date.
pub(crate) fn date(col: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| corrupt(format!("{col} {text:?}: {e}")))
}

pub(crate) fn app_from_row(r: &AnyRow) -> Result<ApplicationRecord> {
    let precheck: Precheck =
        serde_json::from_str(&r.try_get::<String, _>("precheck_json")?).map_err(corrupt)?;
    Ok(ApplicationRecord {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        uscc: r.try_get("uscc")?,
        product_id: r.try_get("product_id")?,
        product_name: r.try_get("product_name")?,
        lot: get_opt_text(r, "lot")?,
        quantity: r.try_get("quantity")?,
        note: r.try_get("note")?,
        status: ApplicationStatus::from_db(&r.try_get::<String, _>("status")?)?,
        precheck,
        decision_reason: get_opt_text(r, "decision_reason")?,
        auto_approved: r.try_get::<i64, _>("auto_approved")? != 0,
        applied_by: r.try_get("applied_by")?,
        applied_at: r.try_get("applied_at")?,
        decided_by: get_opt_text(r, "decided_by")?,
        decided_at: get_opt_text(r, "decided_at")?,
        series_id: r.try_get("series_id")?,
    })
}

pub(crate) fn series_from_row(r: &AnyRow) -> Result<SeriesRecord> {
    Ok(SeriesRecord {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        product_id: r.try_get("product_id")?,
        lot: get_opt_text(r, "lot")?,
        quantity: r.try_get("quantity")?,
        issued: r.try_get("issued")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(crate) fn code_from_row(r: &AnyRow) -> Result<CodeRecord> {
    Ok(CodeRecord {
        id: r.try_get("id")?,
        series_id: r.try_get("series_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        product_id: r.try_get("product_id")?,
        subject: r.try_get("subject")?,
        lot: get_opt_text(r, "lot")?,
        serial: r.try_get("serial")?,
        status_index: r.try_get("status_index")?,
        kid: r.try_get("kid")?,
        issued_on: date("issued_on", &r.try_get::<String, _>("issued_on")?)?,
        uri: r.try_get("uri")?,
        status: status_from_db(r.try_get("status")?)?,
        status_reason: get_opt_text(r, "status_reason")?,
        status_since: get_opt_text(r, "status_since")?
            .map(|s| date("status_since", &s))
            .transpose()?,
    })
}

/// A setting as JSON, or its default when it was never set.
pub(crate) async fn setting_on<T: for<'de> Deserialize<'de> + Default>(
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

/// A series read on the given connection (inside a write: no second connection, see
/// ARCHITECTURE.md).
pub(crate) async fn get_series_on(
    conn: &mut AnyConnection,
    id: i64,
) -> crate::error::Result<SeriesRecord> {
    let row = sqlx::query("SELECT * FROM code_series WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(crate::error::CodesError::NotFound {
            entity: crate::error::Entity::Series,
            id,
        })?;
    Ok(series_from_row(&row)?)
}
