//! Audited writes of the codes tables: settings, filing and deciding applications, granting
//! series, issuing codes into status lists, status changes, and scan counts with the
//! counterfeit flags they raise. Each function is one transaction with its audit entry.

use super::get_series_on;
use crate::error::{CodesError, Entity, Result};
use crate::records::{
    status_action, status_to_db, subject_key, ApplicationStatus, FlagKind, Precheck, SeriesRecord,
    SignalRule, StatusScope,
};
use chrono::NaiveDate;
use rand::{CryptoRng, RngCore};
use sqlx::{AnyConnection, Row};
use yuepin_code::{BatchSpec, CodeStatus, IndexAllocator, IssuedCode, PrivateKey, LIST_CAPACITY};
use yuepin_store::{corrupt, get_opt_text, now_text, Actor, Change, Dialect, Store, WriteTx};

/// The decision recorded when the rule approves on its own. Stored with the application (the
/// API has always sent it as `decision_reason`).
const AUTO_APPROVAL_REASON: &str = "预审通过，自动批准 (pre-check passed; auto-approved)";
const AUTO_APPROVER: &str = "system:auto-approve";

/// Stores a setting (`approval_rule` or `signal_rule`), audited with its value before and after.
pub(crate) async fn set_setting(
    store: &Store,
    actor: Actor,
    key: &str,
    value: &serde_json::Value,
) -> Result<()> {
    let mut w = store.begin_write(actor).await?;
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
    Ok(store.commit(w).await?)
}

/// What an application asks for (already validated by the use case).
pub(crate) struct NewApplication<'a> {
    pub enterprise_id: i64,
    pub product_id: i64,
    pub lot: Option<&'a str>,
    pub quantity: i64,
    pub note: &'a str,
    pub precheck: &'a Precheck,
}

/// Files an application; approves it at once (creating its series) when `auto`. Returns its id.
pub(crate) async fn insert_application(
    store: &Store,
    actor: Actor,
    a: NewApplication<'_>,
    auto: bool,
) -> Result<i64> {
    let mut w = store.begin_write(actor.clone()).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO code_applications (enterprise_id, product_id, lot, quantity, note, status, precheck_ok, precheck_json, applied_by, applied_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9) RETURNING id",
    )
    .bind(a.enterprise_id)
    .bind(a.product_id)
    .bind(a.lot.map(str::to_string))
    .bind(a.quantity)
    .bind(a.note.to_string())
    .bind(i64::from(a.precheck.ok))
    .bind(serde_json::to_string(a.precheck).map_err(corrupt)?)
    .bind(actor.0.clone())
    .bind(now_text())
    .fetch_one(&mut *w.tx)
    .await?
    .try_get(0)?;
    w.record(
        Change::new("apply", "code_application", id).after(serde_json::json!({
            "enterprise_id": a.enterprise_id, "product_id": a.product_id, "lot": a.lot,
            "quantity": a.quantity, "precheck_ok": a.precheck.ok,
        })),
    );
    if auto {
        decide_on(&mut w, id, true, AUTO_APPROVAL_REASON, AUTO_APPROVER, true).await?;
    }
    store.commit(w).await?;
    Ok(id)
}

/// Approves (creating a series) or rejects a pending application.
pub(crate) async fn decide(
    store: &Store,
    actor: Actor,
    id: i64,
    approve: bool,
    reason: &str,
) -> Result<()> {
    let mut w = store.begin_write(actor.clone()).await?;
    decide_on(&mut w, id, approve, reason, &actor.0, false).await?;
    Ok(store.commit(w).await?)
}

/// Creates an approved series directly (the operator's `--grant`), audited. Returns its id.
pub(crate) async fn grant_series(
    store: &Store,
    actor: Actor,
    enterprise_id: i64,
    product_id: i64,
    lot: Option<&str>,
    quantity: i64,
    reason: &str,
) -> Result<i64> {
    let mut w = store.begin_write(actor).await?;
    let id = insert_series(&mut w.tx, None, enterprise_id, product_id, lot, quantity).await?;
    w.record(
        Change::new("grant", "code_series", id).after(serde_json::json!({
            "product_id": product_id, "lot": lot, "quantity": quantity, "reason": reason,
        })),
    );
    store.commit(w).await?;
    Ok(id)
}

/// Issues `count` codes of a series: positions in a status list with room, random serials,
/// signatures by `key`; all rows stored in one audited transaction before they are returned.
pub(crate) async fn issue_codes(
    store: &Store,
    actor: Actor,
    series_id: i64,
    count: usize,
    spec: &BatchSpec,
    key: &PrivateKey,
    rng: &mut (impl RngCore + CryptoRng + Send),
) -> Result<Vec<IssuedCode>> {
    if count == 0 || count > LIST_CAPACITY as usize {
        return Err(CodesError::Count {
            max: LIST_CAPACITY as usize,
        });
    }
    let mut w = store.begin_write(actor).await?;
    let series = get_series_on(&mut w.tx, series_id).await?;
    if series.issued + count as i64 > series.quantity {
        return Err(CodesError::SeriesExhausted {
            series_id,
            remaining: series.quantity - series.issued,
            requested: count as i64,
        });
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
    let codes = yuepin_code::issue_many(spec, key, count, &mut allocator, rng)?;
    let subject = subject_key(&spec.subject);
    insert_codes(&mut w.tx, store.dialect(), &series, &subject, &codes).await?;
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
    store.commit(w).await?;
    Ok(codes)
}

/// Sets the status of every code in `scope` with a reason (none when reinstating), audited.
/// Returns how many codes changed.
pub(crate) async fn set_status(
    store: &Store,
    actor: Actor,
    scope: &StatusScope,
    status: CodeStatus,
    reason: &str,
    today: NaiveDate,
) -> Result<u64> {
    let (cond, a, b): (&str, i64, Option<String>) = match scope {
        StatusScope::Code { code_id } => ("id = $4", *code_id, None),
        StatusScope::Lot { product_id, lot } => (
            "product_id = $4 AND lot = $5",
            *product_id,
            Some(lot.clone()),
        ),
        StatusScope::Product { product_id } => ("product_id = $4", *product_id, None),
        StatusScope::Enterprise { enterprise_id } => ("enterprise_id = $4", *enterprise_id, None),
    };
    let (reason_v, since_v) = if status == CodeStatus::Valid {
        (None, None)
    } else {
        (Some(reason.to_string()), Some(today.to_string()))
    };
    let mut w = store.begin_write(actor).await?;
    let sql = format!(
        "UPDATE codes SET status = $1, status_reason = $2, status_since = $3 WHERE {cond} AND status <> $1"
    );
    let mut q = sqlx::query(&sql)
        .bind(status_to_db(status))
        .bind(reason_v)
        .bind(since_v)
        .bind(a);
    if let Some(lot) = b {
        q = q.bind(lot);
    }
    let changed = q.execute(&mut *w.tx).await?.rows_affected();
    w.record(
        Change::new(
            status_action(status),
            "codes",
            serde_json::to_string(scope).unwrap_or_default(),
        )
        .after(serde_json::json!({"status": status_to_db(status), "reason": reason, "changed": changed})),
    );
    store.commit(w).await?;
    Ok(changed)
}

/// One buffered scan count: (code id, day, city code or "" when not shared) → scans to add.
pub(crate) type ScanCount = (i64, String, String, i64);

/// Adds scan counts and raises flags for codes whose scans break the signal rule. One audited
/// transaction. Returns the number of flags raised or refreshed.
///
/// The counts are *added* (`scans = code_scans.scans + excluded.scans`), never overwritten:
/// each server flushes only the increments it buffered since its last flush, so the flushes of
/// several replicas into one database add up whatever their order. On PostgreSQL two flushes
/// touching the same row serialise on its row lock and the second adds to the first's committed
/// value (`ON CONFLICT … DO UPDATE` re-reads the row), on SQLite writers are serialised by
/// `BEGIN IMMEDIATE`. The flag check reads the summed rows inside the same transaction, so it
/// sees every committed count; a threshold crossed only by two replicas' simultaneous,
/// not yet committed flushes for *different* rows (e.g. two cities) is found by the next flush
/// that touches that code and day.
pub(crate) async fn record_scans(
    store: &Store,
    actor: Actor,
    rule: &SignalRule,
    counts: &[ScanCount],
) -> Result<usize> {
    if counts.is_empty() {
        return Ok(0);
    }
    let mut w = store.begin_write(actor).await?;
    for (code_id, day, city, n) in counts {
        sqlx::query("INSERT INTO code_scans (code_id, day, city, scans) VALUES ($1, $2, $3, $4) ON CONFLICT (code_id, day, city) DO UPDATE SET scans = code_scans.scans + excluded.scans")
            .bind(*code_id)
            .bind(day.clone())
            .bind(city.clone())
            .bind(*n)
            .execute(&mut *w.tx)
            .await?;
    }
    let mut pairs: Vec<(i64, String)> = counts.iter().map(|(c, d, _, _)| (*c, d.clone())).collect();
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
                FlagKind::ManyCitiesDay,
                serde_json::json!({
                    "day": day, "cities": today_cities, "limit": rule.max_cities_per_day,
                }),
            ));
        }
        if today_scans > rule.max_scans_per_day {
            raise.push((FlagKind::ManyScansDay, serde_json::json!({
                "day": day, "scans": today_scans, "cities": today_cities, "limit": rule.max_scans_per_day,
            })));
        }
        if window_cities.len() as i64 > rule.max_cities_per_30_days {
            raise.push((FlagKind::ManyCities30d, serde_json::json!({
                "from": window_start, "to": day, "cities": window_cities, "limit": rule.max_cities_per_30_days,
            })));
        }
        for (kind, evidence) in raise {
            let inserted = sqlx::query("INSERT INTO code_flags (code_id, day, kind, evidence_json, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code_id, day, kind) DO UPDATE SET evidence_json = excluded.evidence_json RETURNING id")
                .bind(*code_id)
                .bind(day.clone())
                .bind(kind.as_str())
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
    store.commit(w).await?;
    Ok(flagged)
}

/// Inserts issued codes in multi-row statements on the transaction's connection.
async fn insert_codes(
    conn: &mut AnyConnection,
    dialect: &dyn Dialect,
    series: &SeriesRecord,
    subject: &str,
    codes: &[IssuedCode],
) -> Result<()> {
    const COLS: usize = 11;
    for chunk in codes.chunks(1000) {
        let sql = format!(
            "INSERT INTO codes (series_id, enterprise_id, product_id, subject, lot, serial, status_index, list_id, kid, issued_on, uri) VALUES {}",
            yuepin_store::dialect::values_sql(dialect, chunk.len(), COLS)
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
    w: &mut WriteTx,
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
    .ok_or(CodesError::NotFound {
        entity: Entity::Application,
        id,
    })?;
    let status = ApplicationStatus::from_db(&row.try_get::<String, _>("status")?)?;
    if status != ApplicationStatus::Pending {
        return Err(CodesError::AlreadyDecided { id, status });
    }
    let series_id = if approve {
        Some(
            insert_series(
                &mut w.tx,
                Some(id),
                row.try_get("enterprise_id")?,
                row.try_get("product_id")?,
                get_opt_text(&row, "lot")?.as_deref(),
                row.try_get("quantity")?,
            )
            .await?,
        )
    } else {
        None
    };
    let new_status = if approve {
        ApplicationStatus::Approved
    } else {
        ApplicationStatus::Rejected
    };
    sqlx::query("UPDATE code_applications SET status = $1, decision_reason = $2, decided_by = $3, decided_at = $4, series_id = $5, auto_approved = $6 WHERE id = $7")
        .bind(new_status.as_str())
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
