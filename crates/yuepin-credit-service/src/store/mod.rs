//! The credit tables as SQL: row mapping (stored text parsed into typed records; a value that
//! no longer parses is `StoreError::Corrupt`) and the reads and writes that run on a given
//! connection — inside a writing transaction they go through its connection, never a second
//! one from the pool.
//!
//! Exact counting: [`lock_consent`] starts with a no-op `UPDATE … RETURNING` of the consent
//! row, which on PostgreSQL holds the row lock until commit (a concurrent fetch waits, then
//! reads the committed count) and on SQLite runs under the `BEGIN IMMEDIATE` write lock. The
//! log head row serialises appends the same way, so leaf indices are dense and never repeat.

use crate::records::{
    dt_text, parse_dt, BankRecord, ConsentEventKind, ConsentEventRecord, ConsentRecord,
    GradeRecord, LogEntry, LogKind,
};
use chrono::NaiveDateTime;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use yuepin_credit::merkle::Hash;
use yuepin_credit::{BankRef, ConsentId, Grading, State, Terms};
use yuepin_domain::Uscc;
use yuepin_store::{corrupt, now_text, Result};

fn u64_of(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt(format!("{what} {v}")))
}

fn u32_of(v: i64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(format!("{what} {v}")))
}

fn dt_of(s: &str) -> Result<NaiveDateTime> {
    parse_dt(s).ok_or_else(|| corrupt(format!("instant {s}")))
}

// ---------------------------------------------------------------- banks

pub(crate) async fn staff_bank_on(conn: &mut AnyConnection, user_id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT bank_id FROM credit_bank_staff WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?,
    )
}

fn bank_from_row(r: &AnyRow) -> Result<BankRecord> {
    Ok(BankRecord {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
    })
}

pub(crate) async fn bank_on(conn: &mut AnyConnection, id: i64) -> Result<Option<BankRecord>> {
    sqlx::query("SELECT id, code, name FROM credit_banks WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(bank_from_row)
        .transpose()
}

pub(crate) async fn bank_by_code_on(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<BankRecord>> {
    sqlx::query("SELECT id, code, name FROM credit_banks WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(bank_from_row)
        .transpose()
}

pub(crate) async fn banks_on(conn: &mut AnyConnection) -> Result<Vec<BankRecord>> {
    sqlx::query("SELECT id, code, name FROM credit_banks ORDER BY name, id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(bank_from_row)
        .collect()
}

pub(crate) async fn insert_bank(conn: &mut AnyConnection, code: &str, name: &str) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO credit_banks (code, name, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(code)
    .bind(name)
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?)
}

pub(crate) async fn bind_staff(conn: &mut AnyConnection, user_id: i64, bank_id: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO credit_bank_staff (user_id, bank_id) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET bank_id = excluded.bank_id",
    )
    .bind(user_id)
    .bind(bank_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- consents

const CONSENT_COLS: &str = "c.id, c.enterprise_id, e.uscc, e.name AS enterprise_name, c.bank_id, b.name AS bank_name, c.terms, c.state, c.fetches_used, c.last_fetch_at, c.kid, c.artefact, c.created_at";
const CONSENT_FROM: &str = "credit_consents c JOIN enterprises e ON e.id = c.enterprise_id JOIN credit_banks b ON b.id = c.bank_id";

fn consent_from_row(r: &AnyRow, now: NaiveDateTime) -> Result<ConsentRecord> {
    let id = ConsentId::parse(&r.try_get::<String, _>("id")?).map_err(corrupt)?;
    let terms: Terms = serde_json::from_str(&r.try_get::<String, _>("terms")?).map_err(corrupt)?;
    let state_text: String = r.try_get("state")?;
    let state = State::parse(&state_text).ok_or_else(|| corrupt(format!("state {state_text}")))?;
    let mut rec = ConsentRecord {
        id,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_uscc: Uscc::parse(&r.try_get::<String, _>("uscc")?).map_err(corrupt)?,
        enterprise_name: r.try_get("enterprise_name")?,
        bank: BankRef {
            org_id: r.try_get("bank_id")?,
            name: r.try_get("bank_name")?,
        },
        terms,
        state,
        status: yuepin_credit::Status::Active,
        fetches_used: u32_of(r.try_get("fetches_used")?, "fetches_used")?,
        last_fetch_at: r
            .try_get::<Option<String>, _>("last_fetch_at")?
            .as_deref()
            .map(dt_of)
            .transpose()?,
        kid: r.try_get("kid")?,
        artefact: r.try_get("artefact")?,
        created_at: r.try_get("created_at")?,
        events: Vec::new(),
    };
    rec.status = rec.consent().status_at(now);
    Ok(rec)
}

pub(crate) async fn consent_on(
    conn: &mut AnyConnection,
    id: &ConsentId,
    now: NaiveDateTime,
) -> Result<Option<ConsentRecord>> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {CONSENT_COLS} FROM {CONSENT_FROM} WHERE c.id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let mut rec = consent_from_row(&row, now)?;
    rec.events = consent_events_on(conn, id).await?;
    Ok(Some(rec))
}

/// Locks the consent row for the rest of the writing transaction and reads it.
pub(crate) async fn lock_consent(
    conn: &mut AnyConnection,
    id: &ConsentId,
    now: NaiveDateTime,
) -> Result<Option<ConsentRecord>> {
    let locked = sqlx::query(
        "UPDATE credit_consents SET updated_at = updated_at WHERE id = $1 RETURNING id",
    )
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    if locked.is_none() {
        return Ok(None);
    }
    consent_on(conn, id, now).await
}

/// Consents of an enterprise (`by = "enterprise_id"`) or a bank (`"bank_id"`), newest first.
pub(crate) async fn consents_by(
    conn: &mut AnyConnection,
    by: &'static str,
    id: i64,
    now: NaiveDateTime,
) -> Result<Vec<ConsentRecord>> {
    let column = match by {
        "enterprise_id" => "c.enterprise_id",
        _ => "c.bank_id",
    };
    let rows = sqlx::query(&format!(
        "SELECT {CONSENT_COLS} FROM {CONSENT_FROM} WHERE {column} = $1 ORDER BY c.created_at DESC, c.id"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut rec = consent_from_row(r, now)?;
        rec.events = consent_events_on(conn, &rec.id).await?;
        out.push(rec);
    }
    Ok(out)
}

async fn consent_events_on(
    conn: &mut AnyConnection,
    id: &ConsentId,
) -> Result<Vec<ConsentEventRecord>> {
    sqlx::query(
        "SELECT event, actor, at, log_index FROM credit_consent_events WHERE consent_id = $1 ORDER BY id",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        let e: String = r.try_get("event")?;
        Ok(ConsentEventRecord {
            event: ConsentEventKind::parse(&e).ok_or_else(|| corrupt(format!("event {e}")))?,
            actor: r.try_get("actor")?,
            at: dt_of(&r.try_get::<String, _>("at")?)?,
            log_index: u64_of(r.try_get("log_index")?, "log_index")?,
        })
    })
    .collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_consent(
    conn: &mut AnyConnection,
    id: &ConsentId,
    enterprise_id: i64,
    bank_id: i64,
    terms: &Terms,
    kid: &str,
    artefact: &str,
) -> Result<()> {
    let now = now_text();
    sqlx::query(
        "INSERT INTO credit_consents (id, enterprise_id, bank_id, terms, state, max_fetches, fetches_used, last_fetch_at, expires_at, kid, artefact, created_at, updated_at) VALUES ($1, $2, $3, $4, 'active', $5, 0, NULL, $6, $7, $8, $9, $9)",
    )
    .bind(id.as_str())
    .bind(enterprise_id)
    .bind(bank_id)
    .bind(serde_json::to_string(terms).map_err(corrupt)?)
    .bind(i64::from(terms.max_fetches))
    .bind(dt_text(terms.expires_at))
    .bind(kid)
    .bind(artefact)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn save_usage(conn: &mut AnyConnection, c: &yuepin_credit::Consent) -> Result<()> {
    sqlx::query(
        "UPDATE credit_consents SET state = $2, fetches_used = $3, last_fetch_at = $4, updated_at = $5 WHERE id = $1",
    )
    .bind(c.id.as_str())
    .bind(c.state.code())
    .bind(i64::from(c.fetches_used))
    .bind(c.last_fetch_at.map(dt_text))
    .bind(now_text())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_event(
    conn: &mut AnyConnection,
    id: &ConsentId,
    kind: ConsentEventKind,
    actor: &str,
    at: NaiveDateTime,
    log_index: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO credit_consent_events (consent_id, event, actor, at, log_index) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.as_str())
    .bind(kind.code())
    .bind(actor)
    .bind(dt_text(at))
    .bind(log_index as i64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_fetch(
    conn: &mut AnyConnection,
    id: &ConsentId,
    bank_id: i64,
    seq: u32,
    at: NaiveDateTime,
    categories: &str,
    range: (chrono::NaiveDate, chrono::NaiveDate),
    report_sha256: &str,
    log_index: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO credit_fetches (consent_id, bank_id, seq, at, categories, data_from, data_to, report_sha256, log_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.as_str())
    .bind(bank_id)
    .bind(i64::from(seq))
    .bind(dt_text(at))
    .bind(categories)
    .bind(range.0.to_string())
    .bind(range.1.to_string())
    .bind(report_sha256)
    .bind(log_index as i64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- the Merkle log

/// Appends an entry; returns its index. Takes the head row first (the lock that orders
/// appends).
pub(crate) async fn append_log(
    conn: &mut AnyConnection,
    kind: LogKind,
    entry: &str,
    bank_id: Option<i64>,
    enterprise_id: Option<i64>,
    consent_id: Option<&ConsentId>,
) -> Result<u64> {
    let size: i64 =
        sqlx::query("UPDATE credit_log_head SET size = size + 1 WHERE id = 1 RETURNING size")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
    let index = size - 1;
    let leaf = yuepin_credit::merkle::leaf_hash(entry.as_bytes());
    sqlx::query(
        "INSERT INTO credit_log (idx, leaf_hash, entry, kind, bank_id, enterprise_id, consent_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(index)
    .bind(leaf.to_hex())
    .bind(entry)
    .bind(kind.code())
    .bind(bank_id)
    .bind(enterprise_id)
    .bind(consent_id.map(|c| c.as_str().to_string()))
    .bind(now_text())
    .execute(&mut *conn)
    .await?;
    u64_of(index, "log index")
}

/// Takes the log head's row lock without appending (orders writers that decide whether to
/// append, such as a grade refresh).
pub(crate) async fn lock_log(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE credit_log_head SET size = size WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) async fn log_size_on(conn: &mut AnyConnection) -> Result<u64> {
    let size: i64 = sqlx::query("SELECT size FROM credit_log_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    u64_of(size, "log size")
}

/// The stored leaf hashes of the first `size` entries, in order (a gap is corruption).
pub(crate) async fn leaves_on(conn: &mut AnyConnection, size: u64) -> Result<Vec<Hash>> {
    let rows = sqlx::query("SELECT idx, leaf_hash FROM credit_log WHERE idx < $1 ORDER BY idx")
        .bind(size as i64)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let idx: i64 = r.try_get("idx")?;
        if idx != i as i64 {
            return Err(corrupt(format!("credit log gap at {i}")));
        }
        let h: String = r.try_get("leaf_hash")?;
        out.push(Hash::from_hex(&h).ok_or_else(|| corrupt(format!("leaf hash {idx}")))?);
    }
    if out.len() as u64 != size {
        return Err(corrupt(format!("credit log holds {} of {size}", out.len())));
    }
    Ok(out)
}

/// One entry with whose it is: (entry, bank id, enterprise id).
pub(crate) async fn log_entry_on(
    conn: &mut AnyConnection,
    index: u64,
) -> Result<Option<(LogEntry, Option<i64>, Option<i64>)>> {
    let Some(r) = sqlx::query(
        "SELECT idx, kind, entry, leaf_hash, bank_id, enterprise_id FROM credit_log WHERE idx = $1",
    )
    .bind(index as i64)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some((
        entry_from_row(&r)?,
        r.try_get("bank_id")?,
        r.try_get("enterprise_id")?,
    )))
}

fn entry_from_row(r: &AnyRow) -> Result<LogEntry> {
    let kind: String = r.try_get("kind")?;
    Ok(LogEntry {
        index: u64_of(r.try_get("idx")?, "log index")?,
        kind: LogKind::parse(&kind).ok_or_else(|| corrupt(format!("log kind {kind}")))?,
        entry: r.try_get("entry")?,
        leaf_hash: r.try_get("leaf_hash")?,
    })
}

/// Entries of one bank (`by = "bank_id"`) or enterprise (`"enterprise_id"`), in log order.
pub(crate) async fn log_entries_by(
    conn: &mut AnyConnection,
    by: &'static str,
    id: i64,
) -> Result<Vec<LogEntry>> {
    let column = match by {
        "enterprise_id" => "enterprise_id",
        _ => "bank_id",
    };
    sqlx::query(&format!(
        "SELECT idx, kind, entry, leaf_hash FROM credit_log WHERE {column} = $1 ORDER BY idx"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(entry_from_row)
    .collect()
}

/// Every entry's (index, text, stored leaf hash), for verification.
pub(crate) async fn all_entries_on(conn: &mut AnyConnection) -> Result<Vec<(i64, String, String)>> {
    sqlx::query("SELECT idx, entry, leaf_hash FROM credit_log ORDER BY idx")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

pub(crate) async fn checkpoint_on(conn: &mut AnyConnection, size: u64) -> Result<Option<String>> {
    Ok(
        sqlx::query("SELECT note FROM credit_checkpoints WHERE size = $1")
            .bind(size as i64)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?,
    )
}

pub(crate) async fn insert_checkpoint(
    conn: &mut AnyConnection,
    size: u64,
    root: &Hash,
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO credit_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
    )
    .bind(size as i64)
    .bind(root.to_hex())
    .bind(note)
    .bind(now_text())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn checkpoints_on(conn: &mut AnyConnection) -> Result<Vec<(u64, String, String)>> {
    sqlx::query("SELECT size, root, note FROM credit_checkpoints ORDER BY size")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((u64_of(r.try_get(0)?, "size")?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

// ---------------------------------------------------------------- grades

fn grade_from_row(r: &AnyRow) -> Result<GradeRecord> {
    let grading: Grading =
        serde_json::from_str(&r.try_get::<String, _>("grading")?).map_err(corrupt)?;
    Ok(GradeRecord {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        grading,
        facts_sha256: r.try_get("facts_sha256")?,
        log_index: u64_of(r.try_get("log_index")?, "log_index")?,
        created_at: r.try_get("created_at")?,
    })
}

const GRADE_COLS: &str = "id, enterprise_id, grading, facts_sha256, log_index, created_at";

pub(crate) async fn latest_grade_on(
    conn: &mut AnyConnection,
    enterprise_id: i64,
) -> Result<Option<GradeRecord>> {
    sqlx::query(&format!(
        "SELECT {GRADE_COLS} FROM credit_grades WHERE enterprise_id = $1 ORDER BY id DESC LIMIT 1"
    ))
    .bind(enterprise_id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(grade_from_row)
    .transpose()
}

pub(crate) async fn grades_on(
    conn: &mut AnyConnection,
    enterprise_id: i64,
) -> Result<Vec<GradeRecord>> {
    sqlx::query(&format!(
        "SELECT {GRADE_COLS} FROM credit_grades WHERE enterprise_id = $1 ORDER BY id DESC"
    ))
    .bind(enterprise_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(grade_from_row)
    .collect()
}

pub(crate) async fn insert_grade(
    conn: &mut AnyConnection,
    enterprise_id: i64,
    g: &Grading,
    facts_sha256: &str,
    log_index: u64,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO credit_grades (enterprise_id, as_of, model_version, grade, score_tenths, grading, facts_sha256, log_index, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(enterprise_id)
    .bind(g.as_of.to_string())
    .bind(&g.model_version)
    .bind(g.grade.letter())
    .bind((g.score * 10.0).round() as i64)
    .bind(serde_json::to_string(g).map_err(corrupt)?)
    .bind(facts_sha256)
    .bind(log_index as i64)
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?)
}
