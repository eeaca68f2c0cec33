//! The labs tables as SQL: row mapping (stored text parsed into typed records; a value that no
//! longer parses is `StoreError::Corrupt`), the column lists the queries share, and the reads
//! and writes that run on a given connection — inside a writing transaction they go through
//! its connection, never a second one from the pool.
//!
//! No double booking: besides the rule check, the database refuses overlapping active bookings
//! of one instrument (SQLite trigger, PostgreSQL exclusion constraint over `int8range`), so
//! concurrent requests cannot both win; [`overlap_or`] recognises that refusal through the
//! backend's `Dialect`.

use crate::records::{
    dt_text, parse_dt_text, BookingPart, BookingRecord, InstrumentRecord, LabRecord, OrderRecord,
    ReportRecord, ServiceRecord, WaitRecord, WaitState,
};
use crate::{LabsError, LabsResult};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use yuepin_domain::{Uscc, Yuan};
use yuepin_labs::{
    Blackout, BookingState, HeldQualification, Instrument, InstrumentId, Lab, LabCode, LabId,
    Qualification, ReportNumber, ReportStatus, Service, ServiceId, TimeRange,
};
use yuepin_store::{corrupt, now_text, Dialect, Result};

/// States that occupy the instrument (must match `BookingState::blocks_instrument` and the
/// database constraint).
pub(crate) const BLOCKING: &str =
    "('held', 'requested', 'pending_approval', 'confirmed', 'checked_in', 'completed')";

pub(crate) fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(corrupt)
}

pub(crate) fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(corrupt)
}

pub(crate) fn range_of(start: i64, end: i64) -> Result<TimeRange> {
    TimeRange::from_minutes(start, end).ok_or_else(|| corrupt("booking time out of range"))
}

/// Minutes since the epoch of a China-time instant (the `start_min`/`end_min` columns).
pub(crate) fn minute_of(t: chrono::NaiveDateTime) -> i64 {
    t.and_utc().timestamp() / 60
}

fn dt_of(s: &str) -> Result<chrono::NaiveDateTime> {
    parse_dt_text(s).ok_or_else(|| corrupt(format!("instant {s}")))
}

/// Maps the database's refusal of an overlapping booking to [`LabsError::DoubleBooked`].
pub(crate) fn overlap_or(dialect: &dyn Dialect, e: sqlx::Error) -> LabsError {
    if dialect.is_booking_overlap(&e) {
        LabsError::DoubleBooked
    } else {
        LabsError::from(e)
    }
}

// ---------------------------------------------------------------- row mapping

pub(crate) fn lab_from_row(r: &AnyRow) -> Result<LabRecord> {
    let id: i64 = r.try_get("id")?;
    let mut lab: Lab = from_json(&r.try_get::<String, _>("data")?)?;
    lab.id = LabId(id as u64);
    Ok(LabRecord {
        id,
        code: LabCode::parse(&r.try_get::<String, _>("code")?).map_err(corrupt)?,
        lab,
    })
}

pub(crate) fn instrument_from_row(r: &AnyRow) -> Result<InstrumentRecord> {
    let id: i64 = r.try_get("id")?;
    let lab_id: i64 = r.try_get("lab_id")?;
    let mut instrument: Instrument = from_json(&r.try_get::<String, _>("data")?)?;
    instrument.id = InstrumentId(id as u64);
    instrument.lab = LabId(lab_id as u64);
    Ok(InstrumentRecord {
        id,
        lab_id,
        requires_approval: r.try_get::<i64, _>("requires_approval")? != 0,
        active: r.try_get::<i64, _>("active")? != 0,
        instrument,
    })
}

pub(crate) fn service_from_row(r: &AnyRow) -> Result<ServiceRecord> {
    let id: i64 = r.try_get("id")?;
    let lab_id: i64 = r.try_get("lab_id")?;
    let mut service: Service = from_json(&r.try_get::<String, _>("data")?)?;
    service.id = ServiceId(id as u64);
    service.lab = LabId(lab_id as u64);
    Ok(ServiceRecord {
        id,
        lab_id,
        service,
    })
}

pub(crate) const BOOKING_COLS: &str = "b.id, b.instrument_id, i.name AS instrument_name, i.lab_id, l.name AS lab_name, b.enterprise_id, e.uscc, e.name AS enterprise_name, b.group_key, b.start_min, b.end_min, b.state, b.self_operated, b.accessories, b.price_fen, b.fee_fen, b.hold_until, b.created_at";
pub(crate) const BOOKING_FROM: &str = "lab_bookings b JOIN lab_instruments i ON i.id = b.instrument_id JOIN labs l ON l.id = i.lab_id LEFT JOIN enterprises e ON e.id = b.enterprise_id";

pub(crate) fn parse_booking_state(s: &str) -> Result<BookingState> {
    BookingState::ALL
        .iter()
        .copied()
        .find(|b| b.name() == s)
        .ok_or_else(|| corrupt(format!("booking state {s}")))
}

fn uscc_of(s: &str) -> Result<Uscc> {
    Uscc::parse(s).map_err(corrupt)
}

pub(crate) fn booking_from_row(r: &AnyRow) -> Result<BookingRecord> {
    let range = range_of(r.try_get("start_min")?, r.try_get("end_min")?)?;
    Ok(BookingRecord {
        id: r.try_get("id")?,
        instrument_id: r.try_get("instrument_id")?,
        instrument_name: r.try_get("instrument_name")?,
        lab_id: r.try_get("lab_id")?,
        lab_name: r.try_get("lab_name")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        enterprise_uscc: r
            .try_get::<Option<String>, _>("uscc")?
            .as_deref()
            .map(uscc_of)
            .transpose()?,
        group_key: r.try_get("group_key")?,
        starts_at: range.start(),
        ends_at: range.end(),
        state: parse_booking_state(&r.try_get::<String, _>("state")?)?,
        self_operated: r.try_get::<i64, _>("self_operated")? != 0,
        accessories: from_json(&r.try_get::<String, _>("accessories")?)?,
        price: Yuan::from_fen(r.try_get("price_fen")?),
        fee: Yuan::from_fen(r.try_get("fee_fen")?),
        hold_until: r
            .try_get::<Option<String>, _>("hold_until")?
            .as_deref()
            .map(dt_of)
            .transpose()?,
        created_at: r.try_get("created_at")?,
    })
}

pub(crate) const ORDER_COLS: &str = "o.id, o.service_id, o.lab_id, o.enterprise_id, e.uscc, e.name AS enterprise_name, s.item, o.samples, o.note, o.state_data, o.quoted_fen, o.tester_id, o.verifier_id, o.round, o.results, o.created_at, o.updated_at, (SELECT rt_t.token FROM lab_reports rt_r JOIN lab_report_tokens rt_t ON rt_t.number = rt_r.number WHERE rt_r.order_id = o.id ORDER BY rt_r.round DESC LIMIT 1) AS report_token";
pub(crate) const ORDER_FROM: &str = "lab_orders o JOIN enterprises e ON e.id = o.enterprise_id JOIN lab_services s ON s.id = o.service_id";

pub(crate) fn order_from_row(r: &AnyRow) -> Result<OrderRecord> {
    let results: Option<String> = r.try_get("results")?;
    Ok(OrderRecord {
        id: r.try_get("id")?,
        service_id: r.try_get("service_id")?,
        lab_id: r.try_get("lab_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_uscc: uscc_of(&r.try_get::<String, _>("uscc")?)?,
        enterprise_name: r.try_get("enterprise_name")?,
        item: r.try_get("item")?,
        samples: r.try_get("samples")?,
        note: r.try_get("note")?,
        state: from_json(&r.try_get::<String, _>("state_data")?)?,
        quoted: r
            .try_get::<Option<i64>, _>("quoted_fen")?
            .map(Yuan::from_fen),
        tester_id: r.try_get("tester_id")?,
        verifier_id: r.try_get("verifier_id")?,
        round: r.try_get("round")?,
        results: results.map(|s| from_json(&s)).transpose()?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        report_token: r.try_get("report_token")?,
    })
}

pub(crate) const REPORT_COLS: &str = "r.number, r.order_id, r.lab_id, l.name AS lab_name, r.enterprise_id, e.name AS enterprise_name, s.item, r.issued_on, r.round, r.data, r.status, r.replaced_by, r.revoked_reason, rt.token AS verify_token";
pub(crate) const REPORT_FROM: &str = "lab_reports r JOIN labs l ON l.id = r.lab_id JOIN enterprises e ON e.id = r.enterprise_id JOIN lab_orders o ON o.id = r.order_id JOIN lab_services s ON s.id = o.service_id LEFT JOIN lab_report_tokens rt ON rt.number = r.number";

pub(crate) fn report_from_row(r: &AnyRow) -> Result<ReportRecord> {
    let status = match r.try_get::<String, _>("status")?.as_str() {
        "valid" => ReportStatus::Valid,
        "replaced" => ReportStatus::Replaced {
            by: ReportNumber::parse(
                &r.try_get::<Option<String>, _>("replaced_by")?
                    .unwrap_or_default(),
            )
            .map_err(corrupt)?,
        },
        "revoked" => ReportStatus::Revoked {
            reason: r
                .try_get::<Option<String>, _>("revoked_reason")?
                .unwrap_or_default(),
        },
        other => return Err(corrupt(format!("report status {other}"))),
    };
    Ok(ReportRecord {
        number: r.try_get("number")?,
        order_id: r.try_get("order_id")?,
        lab_id: r.try_get("lab_id")?,
        lab_name: r.try_get("lab_name")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        item: r.try_get("item")?,
        issued_on: yuepin_domain::parse_date("issued_on", &r.try_get::<String, _>("issued_on")?)
            .map_err(corrupt)?,
        round: r.try_get("round")?,
        results: from_json(&r.try_get::<String, _>("data")?)?,
        status,
        verify_token: r
            .try_get::<Option<String>, _>("verify_token")?
            .unwrap_or_default(),
    })
}

pub(crate) fn wait_from_row(r: &AnyRow) -> Result<WaitRecord> {
    let range = range_of(r.try_get("start_min")?, r.try_get("end_min")?)?;
    let state: String = r.try_get("state")?;
    Ok(WaitRecord {
        id: r.try_get("id")?,
        instrument_id: r.try_get("instrument_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        starts_at: range.start(),
        ends_at: range.end(),
        state: WaitState::parse(&state)
            .ok_or_else(|| corrupt(format!("waitlist state {state}")))?,
        booking_id: r.try_get("booking_id")?,
        joined_at: dt_of(&r.try_get::<String, _>("joined_at")?)?,
    })
}

pub(crate) fn blackout_from_row(r: &AnyRow) -> Result<Blackout> {
    Ok(Blackout {
        range: range_of(r.try_get(0)?, r.try_get(1)?)?,
        reason: r.try_get(2)?,
    })
}

// ---------------------------------------------------------------- reads on a connection

pub(crate) async fn lab_on(conn: &mut AnyConnection, id: i64) -> LabsResult<LabRecord> {
    let r = sqlx::query("SELECT * FROM labs WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| LabsError::missing("lab", id))?;
    Ok(lab_from_row(&r)?)
}

pub(crate) async fn instrument_on(
    conn: &mut AnyConnection,
    id: i64,
) -> LabsResult<InstrumentRecord> {
    let r = sqlx::query("SELECT * FROM lab_instruments WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| LabsError::missing("instrument", id))?;
    Ok(instrument_from_row(&r)?)
}

pub(crate) async fn booking_on(conn: &mut AnyConnection, id: i64) -> LabsResult<BookingRecord> {
    let r = sqlx::query(&format!(
        "SELECT {BOOKING_COLS} FROM {BOOKING_FROM} WHERE b.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| LabsError::missing("booking", id))?;
    Ok(booking_from_row(&r)?)
}

pub(crate) async fn order_on(conn: &mut AnyConnection, id: i64) -> LabsResult<OrderRecord> {
    let r = sqlx::query(&format!(
        "SELECT {ORDER_COLS} FROM {ORDER_FROM} WHERE o.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| LabsError::missing("order", id))?;
    Ok(order_from_row(&r)?)
}

pub(crate) async fn service_on(conn: &mut AnyConnection, id: i64) -> LabsResult<ServiceRecord> {
    let r = sqlx::query("SELECT * FROM lab_services WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| LabsError::missing("service", id))?;
    Ok(service_from_row(&r)?)
}

/// Time ranges selected by `sql`, which binds an id and a `[from, to)` window in minutes.
pub(crate) async fn ranges(
    conn: &mut AnyConnection,
    sql: &str,
    id: i64,
    from: i64,
    to: i64,
) -> Result<Vec<TimeRange>> {
    sqlx::query(sql)
        .bind(id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| range_of(r.try_get(0)?, r.try_get(1)?))
        .collect()
}

/// The qualifications an enterprise holds at one lab: that lab's grants and the regulator's.
pub(crate) async fn qualifications_on(
    conn: &mut AnyConnection,
    enterprise_id: i64,
    lab_id: i64,
) -> Result<Vec<HeldQualification>> {
    sqlx::query(
        "SELECT qualification, valid_until FROM lab_qualifications \
         WHERE enterprise_id = $1 AND lab_id IN (0, $2)",
    )
    .bind(enterprise_id)
    .bind(lab_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(HeldQualification {
            qualification: Qualification::parse(&r.try_get::<String, _>(0)?).map_err(corrupt)?,
            valid_until: yuepin_domain::parse_date("valid_until", &r.try_get::<String, _>(1)?)
                .map_err(corrupt)?,
        })
    })
    .collect()
}

/// The lab a `lab` account works for.
pub(crate) async fn staff_lab_on(conn: &mut AnyConnection, user_id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT lab_id FROM lab_staff WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?,
    )
}

// ---------------------------------------------------------------- booking writes

/// Inserts one booking row; an overlap refused by the database is [`LabsError::DoubleBooked`].
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_booking(
    conn: &mut AnyConnection,
    dialect: &dyn Dialect,
    instrument_id: i64,
    enterprise_id: Option<i64>,
    group_key: &str,
    part: &BookingPart,
    state: BookingState,
    price: Yuan,
    hold_until: Option<chrono::NaiveDateTime>,
) -> LabsResult<i64> {
    let (s, e) = part.range.as_minutes();
    let now = now_text();
    let id: i64 = sqlx::query(
        "INSERT INTO lab_bookings (instrument_id, enterprise_id, group_key, start_min, end_min, starts_at, ends_at, state, self_operated, accessories, price_fen, fee_fen, hold_until, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $13) RETURNING id",
    )
    .bind(instrument_id)
    .bind(enterprise_id)
    .bind(group_key)
    .bind(s)
    .bind(e)
    .bind(dt_text(part.range.start()))
    .bind(dt_text(part.range.end()))
    .bind(state.name())
    .bind(i64::from(part.self_operated))
    .bind(json(&part.accessories)?)
    .bind(price.fen())
    .bind(hold_until.map(dt_text))
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| overlap_or(dialect, e))?
    .try_get(0)?;
    Ok(id)
}

/// Moves a booking to `state` (a fee when one is due) and ends any hold; re-activating into an
/// occupied slot is refused by the database like an insert.
pub(crate) async fn set_booking_state(
    conn: &mut AnyConnection,
    dialect: &dyn Dialect,
    id: i64,
    state: BookingState,
    fee: Option<Yuan>,
) -> LabsResult<()> {
    sqlx::query(
        "UPDATE lab_bookings SET state = $1, fee_fen = COALESCE($2, fee_fen), hold_until = NULL, updated_at = $3 WHERE id = $4",
    )
    .bind(state.name())
    .bind(fee.map(|f| f.fen()))
    .bind(now_text())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(|e| overlap_or(dialect, e))?;
    Ok(())
}

/// Sets the state of the waitlist entry whose hold is booking `booking_id`.
pub(crate) async fn set_wait_state_of_booking(
    conn: &mut AnyConnection,
    booking_id: i64,
    state: WaitState,
) -> Result<()> {
    sqlx::query("UPDATE lab_waitlist SET state = $1 WHERE booking_id = $2")
        .bind(state.as_str())
        .bind(booking_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
