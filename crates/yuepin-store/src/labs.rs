//! Storage of the labs module (measures 3 and 4): the catalogue (labs, instruments, services,
//! blackouts, operator qualifications, lab staff), time-share bookings with the waitlist, the
//! outsourced-testing orders with their reports, calendar-feed tokens, and the cost and
//! utilisation figures. The rules and state machines live in `yuepin-labs`; this module loads
//! what they need inside the writing transaction, applies them and persists the outcome.
//!
//! No double booking: besides the rule check, the database refuses overlapping active bookings
//! of one instrument (SQLite trigger, PostgreSQL exclusion constraint over `int8range`), so
//! concurrent requests cannot both win.

use crate::corrupt;
use crate::{now_text, Actor, Change, Result, Store, StoreError, WriteTx};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use yuepin_domain::{InspectionResult, QualityEventKind, Uscc, Yuan};
use yuepin_labs::{
    booking, order, AvailabilityIndex, Blackout, Booking, BookingContext, BookingEvent, BookingId,
    BookingPolicy, BookingRejection, BookingRequest, BookingState, CombinedSlot, FreeSlot,
    HeldQualification, IllegalTransition, Instrument, InstrumentId, Invoice, Lab, LabCode, LabId,
    OrderEvent, OrderState, OwnershipAssumptions, PersonId, Qualification, Quote, ReportNumber,
    ReportStatus, Savings, Service, ServiceId, SlotQuery, TestItem, TimeRange, UsageRecord,
    Utilisation,
};

/// States that occupy the instrument (must match `BookingState::blocks_instrument` and the
/// database constraint).
pub const BLOCKING: &str =
    "('held', 'requested', 'pending_approval', 'confirmed', 'checked_in', 'completed')";
/// Longest booking the store accepts, whatever the policy (bounds the search's index scan).
pub const MAX_BOOKING_MINUTES: i64 = 24 * 60;
/// Longest availability-search window.
pub const MAX_SEARCH_DAYS: i64 = 92;

/// What can go wrong in a labs operation, for the web layer to map onto statuses.
#[derive(Debug, thiserror::Error)]
pub enum LabsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A booking rule refused the request (`part` is the index in a combined booking).
    #[error("{reason}")]
    Rejected {
        part: Option<usize>,
        reason: BookingRejection,
    },
    /// The database refused an overlapping booking (a concurrent request won).
    #[error("该时段已被他人预约 (the slot was just booked by someone else)")]
    DoubleBooked,
    #[error("{0}")]
    Illegal(IllegalTransition),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
}

impl From<sqlx::Error> for LabsError {
    fn from(e: sqlx::Error) -> Self {
        if is_overlap(&e) {
            LabsError::DoubleBooked
        } else {
            LabsError::Store(StoreError::Database(e))
        }
    }
}

fn is_overlap(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23P01") || db.message().contains("lab_booking_overlap")
        }
        _ => false,
    }
}

pub type LabsResult<T> = std::result::Result<T, LabsError>;

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(corrupt)
}

fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(corrupt)
}

/// `'YYYY-MM-DD HH:MM:SS'`, the stored text form of a China-time instant.
pub fn dt_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn range_of(start: i64, end: i64) -> Result<TimeRange> {
    TimeRange::from_minutes(start, end).ok_or_else(|| corrupt("booking time out of range"))
}

/// Current time in China (UTC+8) at whole minutes: "now" for the booking rules.
pub fn china_now() -> NaiveDateTime {
    let t = (chrono::Utc::now() + Duration::hours(8)).naive_utc();
    let secs = t.and_utc().timestamp();
    chrono::DateTime::from_timestamp(secs - secs.rem_euclid(60), 0)
        .map(|d| d.naive_utc())
        .unwrap_or(t)
}

// ---------------------------------------------------------------- records

#[derive(Debug, Clone, Serialize)]
pub struct LabRecord {
    pub id: i64,
    pub code: String,
    #[serde(flatten)]
    pub lab: Lab,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstrumentRecord {
    pub id: i64,
    pub lab_id: i64,
    pub requires_approval: bool,
    pub active: bool,
    #[serde(flatten)]
    pub instrument: Instrument,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceRecord {
    pub id: i64,
    pub lab_id: i64,
    #[serde(flatten)]
    pub service: Service,
}

#[derive(Debug, Clone, Serialize)]
pub struct BookingRecord {
    pub id: i64,
    pub instrument_id: i64,
    pub instrument_name: String,
    pub lab_id: i64,
    /// `None` for the lab's own (internal) use.
    pub enterprise_id: Option<i64>,
    pub enterprise_uscc: Option<String>,
    pub group_key: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub state: BookingState,
    pub self_operated: bool,
    pub accessories: Vec<String>,
    pub price: Yuan,
    pub fee: Yuan,
    pub hold_until: Option<String>,
    pub created_at: String,
}

impl BookingRecord {
    pub fn range(&self) -> Option<TimeRange> {
        TimeRange::new(self.starts_at, self.ends_at).ok()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TestResults {
    pub passed: bool,
    #[serde(default)]
    pub failed_items: Vec<String>,
    #[serde(default)]
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderRecord {
    pub id: i64,
    pub service_id: i64,
    pub lab_id: i64,
    pub enterprise_id: i64,
    pub enterprise_uscc: String,
    pub enterprise_name: String,
    pub item: String,
    pub samples: i64,
    pub note: String,
    pub state: OrderState,
    pub quoted: Option<Yuan>,
    pub tester_id: Option<i64>,
    pub verifier_id: Option<i64>,
    pub round: i64,
    pub results: Option<TestResults>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportRecord {
    pub number: String,
    pub order_id: i64,
    pub lab_id: i64,
    pub lab_name: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub item: String,
    pub issued_on: String,
    pub round: i64,
    pub results: TestResults,
    pub status: ReportStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaitRecord {
    pub id: i64,
    pub instrument_id: i64,
    pub enterprise_id: i64,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub state: String,
    pub booking_id: Option<i64>,
    pub joined_at: String,
}

/// One part of a (possibly combined) booking request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookingPart {
    pub instrument_id: i64,
    pub range: TimeRange,
    pub self_operated: bool,
    #[serde(default)]
    pub accessories: Vec<String>,
}

/// Who books: an enterprise, or the owning lab itself (internal use, no quota).
#[derive(Debug, Clone)]
pub enum Booker {
    Enterprise { id: i64, uscc: Uscc },
    Lab { lab_id: i64 },
}

/// Actions on a booking after it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingAction {
    Cancel,
    Approve,
    Reject,
    CheckIn,
    CheckOut,
    AcceptHold,
    DeclineHold,
}

/// Actions on an order; the person is the acting user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OrderAction {
    Quote { amount: Yuan },
    Accept,
    Decline,
    Cancel,
    ReceiveSample,
    StartTesting,
    RecordResults { results: TestResults },
    Verify,
    ReturnForRework,
    IssueReport,
    RequestRetest,
    RevokeReport { reason: String },
}

impl OrderAction {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Quote { .. } => "quote",
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Cancel => "cancel",
            Self::ReceiveSample => "receive_sample",
            Self::StartTesting => "start_testing",
            Self::RecordResults { .. } => "record_results",
            Self::Verify => "verify",
            Self::ReturnForRework => "return_for_rework",
            Self::IssueReport => "issue_report",
            Self::RequestRetest => "request_retest",
            Self::RevokeReport { .. } => "revoke_report",
        }
    }
    /// Actions the customer (enterprise) takes; all others are the lab's.
    pub fn by_customer(&self) -> bool {
        matches!(
            self,
            Self::Accept | Self::Decline | Self::Cancel | Self::RequestRetest
        )
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepSummary {
    pub no_shows: usize,
    pub holds_expired: usize,
    pub offers: usize,
}

/// A hit of the availability search with what the page shows next to it.
#[derive(Debug, Clone, Serialize)]
pub struct SlotHit {
    pub slot: FreeSlot,
    pub instrument: InstrumentRecord,
    pub lab_name: String,
    pub quote: Option<Quote>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstrumentSavings {
    pub instrument_id: i64,
    pub instrument_name: String,
    pub hours: f64,
    pub savings: Savings,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstrumentUtilisation {
    pub instrument_id: i64,
    pub instrument_name: String,
    pub lab_id: i64,
    pub lab_name: String,
    #[serde(flatten)]
    pub utilisation: Utilisation,
}

// ---------------------------------------------------------------- row mapping

fn lab_from_row(r: &AnyRow) -> Result<LabRecord> {
    let id: i64 = r.try_get("id")?;
    let mut lab: Lab = from_json(&r.try_get::<String, _>("data")?)?;
    lab.id = LabId(id as u64);
    Ok(LabRecord {
        id,
        code: r.try_get("code")?,
        lab,
    })
}

fn instrument_from_row(r: &AnyRow) -> Result<InstrumentRecord> {
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

fn service_from_row(r: &AnyRow) -> Result<ServiceRecord> {
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

const BOOKING_COLS: &str = "b.id, b.instrument_id, i.name AS instrument_name, i.lab_id, b.enterprise_id, e.uscc, b.group_key, b.start_min, b.end_min, b.state, b.self_operated, b.accessories, b.price_fen, b.fee_fen, b.hold_until, b.created_at";
const BOOKING_FROM: &str = "lab_bookings b JOIN lab_instruments i ON i.id = b.instrument_id LEFT JOIN enterprises e ON e.id = b.enterprise_id";

fn parse_booking_state(s: &str) -> Result<BookingState> {
    BookingState::ALL
        .iter()
        .copied()
        .find(|b| b.name() == s)
        .ok_or_else(|| corrupt(format!("booking state {s}")))
}

fn booking_from_row(r: &AnyRow) -> Result<BookingRecord> {
    let range = range_of(r.try_get("start_min")?, r.try_get("end_min")?)?;
    Ok(BookingRecord {
        id: r.try_get("id")?,
        instrument_id: r.try_get("instrument_id")?,
        instrument_name: r.try_get("instrument_name")?,
        lab_id: r.try_get("lab_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_uscc: r.try_get("uscc")?,
        group_key: r.try_get("group_key")?,
        starts_at: range.start(),
        ends_at: range.end(),
        state: parse_booking_state(&r.try_get::<String, _>("state")?)?,
        self_operated: r.try_get::<i64, _>("self_operated")? != 0,
        accessories: from_json(&r.try_get::<String, _>("accessories")?)?,
        price: Yuan::from_fen(r.try_get("price_fen")?),
        fee: Yuan::from_fen(r.try_get("fee_fen")?),
        hold_until: r.try_get("hold_until")?,
        created_at: r.try_get("created_at")?,
    })
}

const ORDER_COLS: &str = "o.id, o.service_id, o.lab_id, o.enterprise_id, e.uscc, e.name AS enterprise_name, s.item, o.samples, o.note, o.state_data, o.quoted_fen, o.tester_id, o.verifier_id, o.round, o.results, o.created_at, o.updated_at";
const ORDER_FROM: &str = "lab_orders o JOIN enterprises e ON e.id = o.enterprise_id JOIN lab_services s ON s.id = o.service_id";

fn order_from_row(r: &AnyRow) -> Result<OrderRecord> {
    let results: Option<String> = r.try_get("results")?;
    Ok(OrderRecord {
        id: r.try_get("id")?,
        service_id: r.try_get("service_id")?,
        lab_id: r.try_get("lab_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_uscc: r.try_get("uscc")?,
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
    })
}

const REPORT_COLS: &str = "r.number, r.order_id, r.lab_id, l.name AS lab_name, r.enterprise_id, e.name AS enterprise_name, s.item, r.issued_on, r.round, r.data, r.status, r.replaced_by, r.revoked_reason";
const REPORT_FROM: &str = "lab_reports r JOIN labs l ON l.id = r.lab_id JOIN enterprises e ON e.id = r.enterprise_id JOIN lab_orders o ON o.id = r.order_id JOIN lab_services s ON s.id = o.service_id";

fn report_from_row(r: &AnyRow) -> Result<ReportRecord> {
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
        issued_on: r.try_get("issued_on")?,
        round: r.try_get("round")?,
        results: from_json(&r.try_get::<String, _>("data")?)?,
        status,
    })
}

async fn instrument_on(conn: &mut AnyConnection, id: i64) -> Result<InstrumentRecord> {
    let r = sqlx::query("SELECT * FROM lab_instruments WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("instrument #{id}")))?;
    instrument_from_row(&r)
}

async fn booking_on(conn: &mut AnyConnection, id: i64) -> Result<BookingRecord> {
    let r = sqlx::query(&format!(
        "SELECT {BOOKING_COLS} FROM {BOOKING_FROM} WHERE b.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("booking #{id}")))?;
    booking_from_row(&r)
}

async fn order_on(conn: &mut AnyConnection, id: i64) -> Result<OrderRecord> {
    let r = sqlx::query(&format!(
        "SELECT {ORDER_COLS} FROM {ORDER_FROM} WHERE o.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("order #{id}")))?;
    order_from_row(&r)
}

async fn service_on(conn: &mut AnyConnection, id: i64) -> Result<ServiceRecord> {
    let r = sqlx::query("SELECT * FROM lab_services WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("service #{id}")))?;
    service_from_row(&r)
}

async fn ranges(
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

/// The booking policy of an instrument: the documented defaults with its approval flag.
pub fn policy_for(inst: &InstrumentRecord) -> BookingPolicy {
    BookingPolicy {
        requires_approval: inst.requires_approval,
        ..BookingPolicy::default()
    }
}

// ---------------------------------------------------------------- catalogue

impl Store {
    /// Creates a lab (the id inside `lab` is ignored) and returns its id.
    pub async fn create_lab(&self, w: &mut WriteTx, code: &LabCode, lab: &Lab) -> Result<i64> {
        let exists = sqlx::query("SELECT 1 FROM labs WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(&mut *w.tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "实验室代码 {code} 已存在 (lab code {code} is taken)",
                code = code.as_str()
            )));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO labs (code, name, city, data, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(code.as_str())
        .bind(&lab.name)
        .bind(lab.city.city().code.as_str())
        .bind(json(lab)?)
        .bind(now_text())
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        w.record(Change::new("create", "lab", id).after(lab));
        Ok(id)
    }

    pub async fn update_lab(&self, w: &mut WriteTx, id: i64, lab: &Lab) -> Result<()> {
        let before = sqlx::query("SELECT * FROM labs WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("lab #{id}")))?;
        let before = lab_from_row(&before)?;
        sqlx::query(
            "UPDATE labs SET name = $1, city = $2, data = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(&lab.name)
        .bind(lab.city.city().code.as_str())
        .bind(json(lab)?)
        .bind(now_text())
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("update", "lab", id)
                .before(before.lab)
                .after(lab),
        );
        Ok(())
    }

    pub async fn labs(&self) -> Result<Vec<LabRecord>> {
        sqlx::query("SELECT * FROM labs ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(lab_from_row)
            .collect()
    }

    pub async fn lab(&self, id: i64) -> Result<LabRecord> {
        let r = sqlx::query("SELECT * FROM labs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("lab #{id}")))?;
        lab_from_row(&r)
    }

    /// Binds a `lab` account to a lab (one lab per account; rebinding moves it).
    pub async fn bind_lab_staff(&self, w: &mut WriteTx, user_id: i64, lab_id: i64) -> Result<()> {
        let role: Option<String> = sqlx::query("SELECT role FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match role.as_deref() {
            Some("lab") => {}
            Some(_) => {
                return Err(StoreError::Conflict(
                    "只有实验室账户可绑定实验室 (only lab accounts can be bound to a lab)".into(),
                ))
            }
            None => return Err(StoreError::NotFound(format!("user #{user_id}"))),
        }
        sqlx::query(
            "INSERT INTO lab_staff (user_id, lab_id) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET lab_id = excluded.lab_id",
        )
        .bind(user_id)
        .bind(lab_id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("bind", "lab_staff", user_id)
                .after(serde_json::json!({"user_id": user_id, "lab_id": lab_id})),
        );
        Ok(())
    }

    /// The lab a `lab` account works for.
    pub async fn staff_lab(&self, user_id: i64) -> Result<Option<i64>> {
        Ok(
            sqlx::query("SELECT lab_id FROM lab_staff WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?,
        )
    }

    /// Creates (`id` = None) or updates an instrument of `lab_id`.
    pub async fn save_instrument(
        &self,
        w: &mut WriteTx,
        lab_id: i64,
        id: Option<i64>,
        inst: &Instrument,
        requires_approval: bool,
    ) -> Result<i64> {
        let city = inst.city.city().code.clone();
        let id = match id {
            Some(id) => {
                let before = instrument_on(&mut w.tx, id).await?;
                if before.lab_id != lab_id {
                    return Err(StoreError::NotFound(format!("instrument #{id}")));
                }
                sqlx::query("UPDATE lab_instruments SET name = $1, city = $2, requires_approval = $3, data = $4, updated_at = $5 WHERE id = $6")
                    .bind(&inst.name)
                    .bind(&city)
                    .bind(i64::from(requires_approval))
                    .bind(json(inst)?)
                    .bind(now_text())
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
                sqlx::query("DELETE FROM lab_instrument_items WHERE instrument_id = $1")
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
                w.record(
                    Change::new("update", "lab_instrument", id)
                        .before(before.instrument)
                        .after(inst),
                );
                id
            }
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO lab_instruments (lab_id, name, city, requires_approval, active, data, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6) RETURNING id",
                )
                .bind(lab_id)
                .bind(&inst.name)
                .bind(&city)
                .bind(i64::from(requires_approval))
                .bind(json(inst)?)
                .bind(now_text())
                .fetch_one(&mut *w.tx)
                .await?
                .try_get(0)?;
                w.record(Change::new("create", "lab_instrument", id).after(inst));
                id
            }
        };
        let mut items: Vec<&str> = inst.test_methods.iter().map(|m| m.item.as_str()).collect();
        items.sort_unstable();
        items.dedup();
        for item in items {
            sqlx::query(
                "INSERT INTO lab_instrument_items (item, city, instrument_id) VALUES ($1, $2, $3)",
            )
            .bind(item)
            .bind(&city)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        }
        Ok(id)
    }

    pub async fn instrument(&self, id: i64) -> Result<InstrumentRecord> {
        let mut conn = self.pool.acquire().await?;
        instrument_on(&mut conn, id).await
    }

    pub async fn instruments_of_lab(&self, lab_id: i64) -> Result<Vec<InstrumentRecord>> {
        sqlx::query("SELECT * FROM lab_instruments WHERE lab_id = $1 ORDER BY id")
            .bind(lab_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(instrument_from_row)
            .collect()
    }

    /// Instruments performing `item` (any item when empty) in `city` (any when empty).
    pub async fn find_instruments(
        &self,
        item: &str,
        city: &str,
        limit: i64,
    ) -> Result<Vec<InstrumentRecord>> {
        let sql = if item.is_empty() {
            "SELECT * FROM lab_instruments i WHERE i.active = 1 AND ($1 = '' OR $1 = '') AND ($2 = '' OR i.city = $2) ORDER BY i.id LIMIT $3"
        } else {
            "SELECT i.* FROM lab_instrument_items t JOIN lab_instruments i ON i.id = t.instrument_id WHERE t.item = $1 AND ($2 = '' OR t.city = $2) AND i.active = 1 ORDER BY i.id LIMIT $3"
        };
        sqlx::query(sql)
            .bind(item)
            .bind(city)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(instrument_from_row)
            .collect()
    }

    /// Every test item some instrument performs, for the search form.
    pub async fn instrument_items(&self) -> Result<Vec<String>> {
        sqlx::query("SELECT DISTINCT item FROM lab_instrument_items ORDER BY item")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    /// Creates (`id` = None) or updates a service of `lab_id`.
    pub async fn save_service(
        &self,
        w: &mut WriteTx,
        lab_id: i64,
        id: Option<i64>,
        svc: &Service,
    ) -> Result<i64> {
        let area = serde_json::to_value(svc.area)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        match id {
            Some(id) => {
                let before = service_on(&mut w.tx, id).await?;
                if before.lab_id != lab_id {
                    return Err(StoreError::NotFound(format!("service #{id}")));
                }
                sqlx::query("UPDATE lab_services SET area = $1, item = $2, data = $3, updated_at = $4 WHERE id = $5")
                    .bind(&area)
                    .bind(svc.method.item.as_str())
                    .bind(json(svc)?)
                    .bind(now_text())
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
                w.record(
                    Change::new("update", "lab_service", id)
                        .before(before.service)
                        .after(svc),
                );
                Ok(id)
            }
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO lab_services (lab_id, area, item, data, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(lab_id)
                .bind(&area)
                .bind(svc.method.item.as_str())
                .bind(json(svc)?)
                .bind(now_text())
                .fetch_one(&mut *w.tx)
                .await?
                .try_get(0)?;
                w.record(Change::new("create", "lab_service", id).after(svc));
                Ok(id)
            }
        }
    }

    pub async fn service(&self, id: i64) -> Result<ServiceRecord> {
        let mut conn = self.pool.acquire().await?;
        service_on(&mut conn, id).await
    }

    /// Services, optionally of one lab.
    pub async fn services(&self, lab_id: Option<i64>) -> Result<Vec<ServiceRecord>> {
        sqlx::query("SELECT * FROM lab_services WHERE ($1 = 0 OR lab_id = $1) ORDER BY id")
            .bind(lab_id.unwrap_or(0))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(service_from_row)
            .collect()
    }

    pub async fn add_blackout(
        &self,
        w: &mut WriteTx,
        instrument_id: i64,
        blackout: &Blackout,
    ) -> Result<i64> {
        let (s, e) = blackout.range.as_minutes();
        let id: i64 = sqlx::query(
            "INSERT INTO lab_blackouts (instrument_id, start_min, end_min, reason) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(instrument_id)
        .bind(s)
        .bind(e)
        .bind(&blackout.reason)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        w.record(
            Change::new("create", "lab_blackout", id)
                .after(serde_json::json!({"instrument_id": instrument_id, "blackout": blackout})),
        );
        Ok(id)
    }

    pub async fn blackouts_of(&self, instrument_id: i64) -> Result<Vec<Blackout>> {
        sqlx::query("SELECT start_min, end_min, reason FROM lab_blackouts WHERE instrument_id = $1 ORDER BY start_min")
            .bind(instrument_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Blackout {
                    range: range_of(r.try_get(0)?, r.try_get(1)?)?,
                    reason: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Records that an enterprise's operators hold a qualification (granted by a lab or the
    /// regulator after training).
    pub async fn grant_qualification(
        &self,
        w: &mut WriteTx,
        enterprise_id: i64,
        held: &HeldQualification,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO lab_qualifications (enterprise_id, qualification, valid_until) VALUES ($1, $2, $3) \
             ON CONFLICT (enterprise_id, qualification) DO UPDATE SET valid_until = excluded.valid_until",
        )
        .bind(enterprise_id)
        .bind(held.qualification.as_str())
        .bind(held.valid_until.to_string())
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("grant", "lab_qualification", enterprise_id)
                .after(serde_json::json!({"enterprise_id": enterprise_id, "qualification": held})),
        );
        Ok(())
    }

    pub async fn qualifications_of(&self, enterprise_id: i64) -> Result<Vec<HeldQualification>> {
        let mut conn = self.pool.acquire().await?;
        qualifications_on(&mut conn, enterprise_id).await
    }
}

async fn qualifications_on(
    conn: &mut AnyConnection,
    enterprise_id: i64,
) -> Result<Vec<HeldQualification>> {
    sqlx::query(
        "SELECT qualification, valid_until FROM lab_qualifications WHERE enterprise_id = $1",
    )
    .bind(enterprise_id)
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

// ---------------------------------------------------------------- availability

impl Store {
    /// Free slots for one test item across labs. Loads only the candidate instruments and
    /// their bookings/blackouts inside the window (indexed), then searches in memory.
    pub async fn search_slots(&self, query: &SlotQuery) -> Result<Vec<SlotHit>> {
        let city = query
            .city
            .as_ref()
            .map(|c| c.city().code.clone())
            .unwrap_or_default();
        let (ws, we) = query.window.as_minutes();
        let we = we.min(ws + MAX_SEARCH_DAYS * 1440);
        let item = query.test_item.as_str();
        let mut conn = self.pool.acquire().await?;
        let candidates: Vec<InstrumentRecord> = sqlx::query(
            "SELECT i.* FROM lab_instrument_items t JOIN lab_instruments i ON i.id = t.instrument_id \
             WHERE t.item = $1 AND ($2 = '' OR t.city = $2) AND i.active = 1",
        )
        .bind(item)
        .bind(&city)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(instrument_from_row)
        .collect::<Result<_>>()?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let busy_rows = sqlx::query(&format!(
            "SELECT b.instrument_id, b.start_min, b.end_min FROM lab_instrument_items t \
             JOIN lab_bookings b ON b.instrument_id = t.instrument_id \
             WHERE t.item = $1 AND ($2 = '' OR t.city = $2) AND b.start_min >= $3 AND b.start_min < $4 AND b.end_min > $5 \
             AND b.state IN {BLOCKING} \
             UNION ALL SELECT k.instrument_id, k.start_min, k.end_min FROM lab_instrument_items t \
             JOIN lab_blackouts k ON k.instrument_id = t.instrument_id \
             WHERE t.item = $1 AND ($2 = '' OR t.city = $2) AND k.start_min < $4 AND k.end_min > $5"
        ))
        .bind(item)
        .bind(&city)
        .bind(ws - MAX_BOOKING_MINUTES)
        .bind(we)
        .bind(ws)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        // Bookings and blackouts may overlap each other: merge per instrument first.
        let mut busy: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for r in &busy_rows {
            busy.entry(r.try_get(0)?)
                .or_default()
                .push((r.try_get(1)?, r.try_get(2)?));
        }
        let mut merged: Vec<(InstrumentId, TimeRange)> = Vec::new();
        for (id, mut list) in busy {
            list.sort_unstable();
            let mut cur: Option<(i64, i64)> = None;
            for (s, e) in list {
                cur = match cur {
                    Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
                    Some(done) => {
                        if let Some(r) = TimeRange::from_minutes(done.0, done.1) {
                            merged.push((InstrumentId(id as u64), r));
                        }
                        Some((s, e))
                    }
                    None => Some((s, e)),
                };
            }
            if let Some(r) = cur.and_then(|(s, e)| TimeRange::from_minutes(s, e)) {
                merged.push((InstrumentId(id as u64), r));
            }
        }
        let instruments: Vec<Instrument> =
            candidates.iter().map(|c| c.instrument.clone()).collect();
        let (index, _) = AvailabilityIndex::with_bookings(&instruments, merged);
        let mut q = query.clone();
        if let Some(w) = TimeRange::from_minutes(ws, we) {
            q.window = w;
        }
        let slots = index.search(&q);
        let by_id: HashMap<i64, &InstrumentRecord> = candidates.iter().map(|c| (c.id, c)).collect();
        let lab_names: HashMap<i64, String> = self
            .labs()
            .await?
            .into_iter()
            .map(|l| (l.id, l.lab.name))
            .collect();
        Ok(slots
            .into_iter()
            .filter_map(|slot| {
                let inst = *by_id.get(&(slot.instrument.0 as i64))?;
                Some(SlotHit {
                    quote: yuepin_labs::quote(&inst.instrument.tariff, &slot.earliest).ok(),
                    lab_name: lab_names.get(&inst.lab_id).cloned().unwrap_or_default(),
                    instrument: inst.clone(),
                    slot,
                })
            })
            .collect())
    }

    /// Combined slots: one distinct instrument per item, all free together.
    pub async fn search_combined_slots(
        &self,
        items: &[TestItem],
        query: &SlotQuery,
    ) -> Result<Vec<CombinedSlot>> {
        let mut instruments: Vec<Instrument> = Vec::new();
        let mut bookings: Vec<(InstrumentId, TimeRange)> = Vec::new();
        for item in items {
            let q = SlotQuery {
                test_item: item.clone(),
                limit: usize::MAX,
                ..query.clone()
            };
            // Reuse the loader: the busy intervals are the complement we need, so load directly.
            let city = q
                .city
                .as_ref()
                .map(|c| c.city().code.clone())
                .unwrap_or_default();
            let found = self.find_instruments(item.as_str(), &city, 10_000).await?;
            let (ws, we) = q.window.as_minutes();
            for inst in found {
                for r in self.busy_of(inst.id, ws, we).await? {
                    bookings.push((inst.instrument.id, r));
                }
                instruments.push(inst.instrument);
            }
        }
        let (index, _) = AvailabilityIndex::with_bookings(&instruments, bookings);
        Ok(index.search_combined(
            items,
            query.city.as_ref(),
            &query.window,
            query.duration_minutes,
            query.granularity_minutes,
            query.limit,
        ))
    }

    /// Busy time (active bookings and blackouts, merged) of one instrument inside a window.
    pub async fn busy_of(&self, instrument_id: i64, from: i64, to: i64) -> Result<Vec<TimeRange>> {
        let rows = sqlx::query(&format!(
            "SELECT start_min, end_min FROM lab_bookings WHERE instrument_id = $1 AND start_min < $2 AND end_min > $3 AND state IN {BLOCKING} \
             UNION ALL SELECT start_min, end_min FROM lab_blackouts WHERE instrument_id = $1 AND start_min < $2 AND end_min > $3"
        ))
        .bind(instrument_id)
        .bind(to)
        .bind(from)
        .fetch_all(&self.pool)
        .await?;
        let mut list: Vec<(i64, i64)> = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
        list.sort_unstable();
        let mut out: Vec<(i64, i64)> = Vec::new();
        for (s, e) in list {
            match out.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        Ok(out
            .into_iter()
            .filter_map(|(s, e)| TimeRange::from_minutes(s, e))
            .collect())
    }
}

// ---------------------------------------------------------------- bookings

#[allow(clippy::too_many_arguments)]
async fn insert_booking(
    conn: &mut AnyConnection,
    instrument_id: i64,
    enterprise_id: Option<i64>,
    group_key: &str,
    part: &BookingPart,
    state: BookingState,
    price: Yuan,
    hold_until: Option<String>,
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
    .bind(hold_until)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)
    .map_err(StoreError::from)?;
    Ok(id)
}

async fn set_booking_state(
    conn: &mut AnyConnection,
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
    .await?;
    Ok(())
}

fn transition(state: BookingState, event: BookingEvent) -> LabsResult<BookingState> {
    booking::transition(state, event).map_err(LabsError::Illegal)
}

impl Store {
    /// Books one or several instruments together, all or nothing. Every part is checked against
    /// the rules (enterprise bookers: quota, blacklist, qualification…; the lab's own use: only
    /// opening hours, blackouts and conflicts); the database refuses overlaps even when a
    /// concurrent request passed the same check.
    pub async fn book(
        &self,
        actor: Actor,
        booker: &Booker,
        parts: &[BookingPart],
        now: NaiveDateTime,
    ) -> LabsResult<Vec<BookingRecord>> {
        if parts.is_empty() || parts.len() > 10 {
            return Err(LabsError::Invalid(
                "一次预约1至10台仪器 (book 1 to 10 instruments at once)".into(),
            ));
        }
        let mut w = self.begin_write(actor).await?;
        let group_key = format!("g{}", now_text().replace([':', '.', '-'], ""));
        let mut ids = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if part.range.minutes() > MAX_BOOKING_MINUTES {
                return Err(LabsError::Rejected {
                    part: Some(i),
                    reason: BookingRejection::TooLong {
                        max_minutes: MAX_BOOKING_MINUTES as u32,
                    },
                });
            }
            let inst = instrument_on(&mut w.tx, part.instrument_id).await?;
            if !inst.active {
                return Err(LabsError::Invalid(format!(
                    "仪器 {} 已停用 (instrument is inactive)",
                    inst.id
                )));
            }
            let (s, e) = part.range.as_minutes();
            let blackouts: Vec<Blackout> = sqlx::query(
                "SELECT start_min, end_min, reason FROM lab_blackouts WHERE instrument_id = $1 AND start_min < $2 AND end_min > $3",
            )
            .bind(inst.id)
            .bind(e)
            .bind(s)
            .fetch_all(&mut *w.tx)
            .await?
            .iter()
            .map(|r| {
                Ok(Blackout {
                    range: range_of(r.try_get(0)?, r.try_get(1)?)?,
                    reason: r.try_get(2)?,
                })
            })
            .collect::<Result<_>>()?;
            let taken = ranges(
                &mut w.tx,
                &format!("SELECT start_min, end_min FROM lab_bookings WHERE instrument_id = $1 AND start_min < $3 AND end_min > $2 AND state IN {BLOCKING}"),
                inst.id,
                s,
                e,
            )
            .await?;
            let policy = policy_for(&inst);
            let (state, quote) = match booker {
                Booker::Lab { lab_id } => {
                    if *lab_id != inst.lab_id {
                        return Err(LabsError::Forbidden(
                            "只能为本实验室的仪器登记内部使用 (internal use only on your own lab's instruments)".into(),
                        ));
                    }
                    let reject = |reason| LabsError::Rejected {
                        part: Some(i),
                        reason,
                    };
                    if !inst.instrument.opening_hours.covers(&part.range) {
                        return Err(reject(BookingRejection::OutsideOpeningHours));
                    }
                    if let Some(b) = blackouts.first() {
                        return Err(reject(BookingRejection::Blackout {
                            reason: b.reason.clone(),
                            start: b.range.start(),
                            end: b.range.end(),
                        }));
                    }
                    if let Some(t) = taken.first() {
                        return Err(reject(BookingRejection::Conflict {
                            start: t.start(),
                            end: t.end(),
                        }));
                    }
                    (BookingState::Confirmed, None)
                }
                Booker::Enterprise { id, uscc } => {
                    let window_from = (part.range.start() - Duration::days(40))
                        .and_utc()
                        .timestamp()
                        / 60;
                    let window_to = (part.range.end() + Duration::days(40))
                        .and_utc()
                        .timestamp()
                        / 60;
                    let mine = ranges(
                        &mut w.tx,
                        &format!("SELECT start_min, end_min FROM lab_bookings WHERE enterprise_id = $1 AND start_min < $3 AND end_min > $2 AND state IN {BLOCKING}"),
                        *id,
                        window_from,
                        window_to,
                    )
                    .await?;
                    let since = (now - Duration::days(400)).and_utc().timestamp() / 60;
                    let no_shows: Vec<NaiveDateTime> = ranges(
                        &mut w.tx,
                        "SELECT start_min, end_min FROM lab_bookings WHERE enterprise_id = $1 AND state = 'no_show' AND start_min >= $2 AND start_min < $3",
                        *id,
                        since,
                        i64::MAX / 2,
                    )
                    .await?
                    .iter()
                    .map(TimeRange::start)
                    .collect();
                    let quals = qualifications_on(&mut w.tx, *id).await?;
                    let request = BookingRequest {
                        instrument: inst.instrument.id,
                        enterprise: uscc.clone(),
                        range: part.range,
                        self_operated: part.self_operated,
                    };
                    let ctx = BookingContext {
                        instrument: &inst.instrument,
                        blackouts: &blackouts,
                        instrument_bookings: &taken,
                        enterprise_bookings: &mine,
                        enterprise_no_shows: &no_shows,
                        operator_qualifications: &quals,
                    };
                    let quote = yuepin_labs::check_booking(&policy, &request, &ctx, now).map_err(
                        |reason| LabsError::Rejected {
                            part: Some(i),
                            reason,
                        },
                    )?;
                    let requested = transition(
                        BookingState::Requested,
                        BookingEvent::Submit {
                            requires_approval: policy.requires_approval,
                        },
                    )?;
                    (requested, Some(quote))
                }
            };
            let price = match &quote {
                Some(_) => {
                    let names: Vec<&str> = part.accessories.iter().map(String::as_str).collect();
                    yuepin_labs::booking_invoice(&inst.instrument, &part.range, &names)
                        .map_err(|reason| LabsError::Rejected {
                            part: Some(i),
                            reason,
                        })?
                        .total
                }
                None => Yuan::ZERO,
            };
            let enterprise_id = match booker {
                Booker::Enterprise { id, .. } => Some(*id),
                Booker::Lab { .. } => None,
            };
            let id = insert_booking(
                &mut w.tx,
                inst.id,
                enterprise_id,
                &group_key,
                part,
                state,
                price,
                None,
            )
            .await?;
            w.record(Change::new("create", "lab_booking", id).after(serde_json::json!({
                "instrument_id": inst.id, "enterprise_id": enterprise_id, "start": dt_text(part.range.start()),
                "end": dt_text(part.range.end()), "state": state.name(), "price_fen": price.fen(),
                "self_operated": part.self_operated, "group": group_key,
            })));
            ids.push(id);
        }
        let mut out = Vec::new();
        for id in &ids {
            out.push(booking_on(&mut w.tx, *id).await?);
        }
        self.commit(w).await?;
        Ok(out)
    }

    pub async fn booking(&self, id: i64) -> Result<BookingRecord> {
        let mut conn = self.pool.acquire().await?;
        booking_on(&mut conn, id).await
    }

    pub async fn bookings_of_enterprise(&self, enterprise_id: i64) -> Result<Vec<BookingRecord>> {
        sqlx::query(&format!(
            "SELECT {BOOKING_COLS} FROM {BOOKING_FROM} WHERE b.enterprise_id = $1 ORDER BY b.start_min DESC LIMIT 500"
        ))
        .bind(enterprise_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(booking_from_row)
        .collect()
    }

    /// Bookings of a lab's instruments overlapping `[from, to)` (minutes), by start.
    pub async fn bookings_of_lab(
        &self,
        lab_id: i64,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<BookingRecord>> {
        sqlx::query(&format!(
            "SELECT {BOOKING_COLS} FROM {BOOKING_FROM} WHERE i.lab_id = $1 AND b.start_min < $2 AND b.end_min > $3 ORDER BY b.start_min LIMIT 2000"
        ))
        .bind(lab_id)
        .bind(from.and_utc().timestamp() / 60 + (to - from).num_minutes())
        .bind(from.and_utc().timestamp() / 60)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(booking_from_row)
        .collect()
    }

    pub async fn bookings_of_instrument(&self, instrument_id: i64) -> Result<Vec<BookingRecord>> {
        sqlx::query(&format!(
            "SELECT {BOOKING_COLS} FROM {BOOKING_FROM} WHERE b.instrument_id = $1 ORDER BY b.start_min DESC LIMIT 1000"
        ))
        .bind(instrument_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(booking_from_row)
        .collect()
    }

    /// Applies an action to a booking. Cancelling computes the fee; a released slot goes to
    /// the waitlist (the first fitting entry gets a timed hold).
    pub async fn booking_action(
        &self,
        actor: Actor,
        id: i64,
        action: BookingAction,
        now: NaiveDateTime,
    ) -> LabsResult<BookingRecord> {
        let mut w = self.begin_write(actor).await?;
        let b = booking_on(&mut w.tx, id).await?;
        let inst = instrument_on(&mut w.tx, b.instrument_id).await?;
        let policy = policy_for(&inst);
        let mut fee = None;
        let next = match action {
            BookingAction::Cancel => {
                let s = transition(b.state, BookingEvent::Cancel)?;
                if b.enterprise_id.is_some() {
                    fee = Some(yuepin_labs::cancellation_fee(
                        &policy,
                        b.price,
                        b.starts_at,
                        now,
                    ));
                }
                s
            }
            BookingAction::Approve => transition(b.state, BookingEvent::Approve)?,
            BookingAction::Reject => transition(b.state, BookingEvent::Reject)?,
            BookingAction::CheckIn => {
                if now < b.starts_at - Duration::minutes(30) {
                    return Err(LabsError::Invalid(
                        "最早可在开始前30分钟签到 (check-in opens 30 minutes before the start)"
                            .into(),
                    ));
                }
                transition(b.state, BookingEvent::CheckIn)?
            }
            BookingAction::CheckOut => transition(b.state, BookingEvent::CheckOut)?,
            BookingAction::AcceptHold => {
                let s = transition(b.state, BookingEvent::AcceptHold)?;
                let s = transition(
                    s,
                    BookingEvent::Submit {
                        requires_approval: policy.requires_approval,
                    },
                )?;
                sqlx::query("UPDATE lab_waitlist SET state = 'booked' WHERE booking_id = $1")
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
                s
            }
            BookingAction::DeclineHold => {
                sqlx::query("UPDATE lab_waitlist SET state = 'declined' WHERE booking_id = $1")
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
                transition(b.state, BookingEvent::DeclineHold)?
            }
        };
        set_booking_state(&mut w.tx, id, next, fee).await?;
        w.record(
            Change::new(
                match action {
                    BookingAction::Cancel => "cancel",
                    BookingAction::Approve => "approve",
                    BookingAction::Reject => "reject",
                    BookingAction::CheckIn => "check_in",
                    BookingAction::CheckOut => "check_out",
                    BookingAction::AcceptHold => "accept_hold",
                    BookingAction::DeclineHold => "decline_hold",
                },
                "lab_booking",
                id,
            )
            .before(serde_json::json!({"state": b.state.name()}))
            .after(serde_json::json!({"state": next.name(), "fee_fen": fee.map(|f| f.fen())})),
        );
        if !next.blocks_instrument() {
            if let Some(range) = b.range() {
                offer_freed(&mut w, &inst, range, &policy, now).await?;
            }
        }
        let out = booking_on(&mut w.tx, id).await?;
        self.commit(w).await?;
        Ok(out)
    }

    /// Periodic housekeeping at `now`: confirmed bookings past the grace period without
    /// check-in become no-shows (fee charged, slot released to the waitlist); lapsed waitlist
    /// holds are released and offered to the next in line.
    pub async fn labs_sweep(&self, actor: Actor, now: NaiveDateTime) -> LabsResult<SweepSummary> {
        let mut w = self.begin_write(actor).await?;
        let mut summary = SweepSummary::default();
        let policy = BookingPolicy::default();
        let cutoff = now.and_utc().timestamp() / 60 - policy.no_show_grace_minutes;
        let due: Vec<i64> = sqlx::query(
            "SELECT id FROM lab_bookings WHERE state = 'confirmed' AND enterprise_id IS NOT NULL AND start_min <= $1 ORDER BY id",
        )
        .bind(cutoff)
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::from)?;
        for id in due {
            let b = booking_on(&mut w.tx, id).await?;
            let inst = instrument_on(&mut w.tx, b.instrument_id).await?;
            let policy = policy_for(&inst);
            if !yuepin_labs::no_show_due(&policy, b.starts_at, now) {
                continue;
            }
            let next = transition(b.state, BookingEvent::GraceExpired)?;
            let fee = yuepin_labs::cancellation_fee(&policy, b.price, b.starts_at, b.starts_at);
            set_booking_state(&mut w.tx, id, next, Some(fee)).await?;
            w.record(
                Change::new("no_show", "lab_booking", id)
                    .after(serde_json::json!({"state": next.name(), "fee_fen": fee.fen()})),
            );
            summary.no_shows += 1;
            // The rest of the slot is released: offer what remains from now on.
            if let Ok(rest) = TimeRange::new(now.max(b.starts_at), b.ends_at) {
                summary.offers += offer_freed(&mut w, &inst, rest, &policy, now).await?;
            }
        }
        let lapsed: Vec<i64> = sqlx::query(
            "SELECT id FROM lab_bookings WHERE state = 'held' AND hold_until IS NOT NULL AND hold_until <= $1 ORDER BY id",
        )
        .bind(dt_text(now))
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::from)?;
        for id in lapsed {
            let b = booking_on(&mut w.tx, id).await?;
            let inst = instrument_on(&mut w.tx, b.instrument_id).await?;
            let next = transition(b.state, BookingEvent::HoldExpired)?;
            set_booking_state(&mut w.tx, id, next, None).await?;
            sqlx::query("UPDATE lab_waitlist SET state = 'expired' WHERE booking_id = $1")
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            w.record(
                Change::new("hold_expired", "lab_booking", id)
                    .after(serde_json::json!({"state": next.name()})),
            );
            summary.holds_expired += 1;
            if let Some(range) = b.range() {
                summary.offers +=
                    offer_freed(&mut w, &inst, range, &policy_for(&inst), now).await?;
            }
        }
        if summary.no_shows + summary.holds_expired == 0 {
            w.record(Change::new("sweep", "lab_booking", "none").after(&summary));
        }
        self.commit(w).await?;
        Ok(summary)
    }

    /// Puts an enterprise on the waitlist of an instrument for an exact range.
    pub async fn join_waitlist(
        &self,
        actor: Actor,
        enterprise_id: i64,
        instrument_id: i64,
        range: TimeRange,
        self_operated: bool,
        now: NaiveDateTime,
    ) -> LabsResult<i64> {
        if range.start() <= now {
            return Err(LabsError::Invalid(
                "候补时段须在未来 (the wanted time must be in the future)".into(),
            ));
        }
        let mut w = self.begin_write(actor).await?;
        instrument_on(&mut w.tx, instrument_id).await?;
        let (s, e) = range.as_minutes();
        let dup = sqlx::query("SELECT 1 FROM lab_waitlist WHERE instrument_id = $1 AND enterprise_id = $2 AND state IN ('waiting', 'offered')")
            .bind(instrument_id)
            .bind(enterprise_id)
            .fetch_optional(&mut *w.tx)
            .await?;
        if dup.is_some() {
            return Err(LabsError::Invalid(
                "已在该仪器的候补队列中 (already on this instrument's waitlist)".into(),
            ));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO lab_waitlist (instrument_id, enterprise_id, start_min, end_min, self_operated, state, joined_at) VALUES ($1, $2, $3, $4, $5, 'waiting', $6) RETURNING id",
        )
        .bind(instrument_id)
        .bind(enterprise_id)
        .bind(s)
        .bind(e)
        .bind(i64::from(self_operated))
        .bind(dt_text(now))
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)
        .map_err(StoreError::from)?;
        w.record(
            Change::new("join", "lab_waitlist", id).after(serde_json::json!({
                "instrument_id": instrument_id, "enterprise_id": enterprise_id,
                "start": dt_text(range.start()), "end": dt_text(range.end()),
            })),
        );
        self.commit(w).await?;
        Ok(id)
    }

    pub async fn waitlist_of_enterprise(&self, enterprise_id: i64) -> Result<Vec<WaitRecord>> {
        sqlx::query(
            "SELECT * FROM lab_waitlist WHERE enterprise_id = $1 ORDER BY id DESC LIMIT 200",
        )
        .bind(enterprise_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let range = range_of(r.try_get("start_min")?, r.try_get("end_min")?)?;
            Ok(WaitRecord {
                id: r.try_get("id")?,
                instrument_id: r.try_get("instrument_id")?,
                enterprise_id: r.try_get("enterprise_id")?,
                starts_at: range.start(),
                ends_at: range.end(),
                state: r.try_get("state")?,
                booking_id: r.try_get("booking_id")?,
                joined_at: r.try_get("joined_at")?,
            })
        })
        .collect()
    }

    /// Invoice of a booking: instrument time and accessories at the booked price, or the
    /// cancellation/no-show fee when it did not take place.
    pub async fn booking_invoice(&self, id: i64) -> LabsResult<Invoice> {
        let b = self.booking(id).await?;
        let inst = self.instrument(b.instrument_id).await?;
        match b.state {
            BookingState::Cancelled | BookingState::NoShow => Ok(yuepin_labs::fee_invoice(
                if b.state == BookingState::NoShow {
                    "爽约费 (no-show fee)"
                } else {
                    "取消费 (cancellation fee)"
                },
                b.fee,
            )),
            BookingState::Rejected | BookingState::Released => Ok(yuepin_labs::fee_invoice(
                "未产生费用 (no charge)",
                Yuan::ZERO,
            )),
            _ => {
                let range = b.range().ok_or_else(|| corrupt("booking range"))?;
                let names: Vec<&str> = b.accessories.iter().map(String::as_str).collect();
                yuepin_labs::booking_invoice(&inst.instrument, &range, &names)
                    .map_err(|reason| LabsError::Rejected { part: None, reason })
            }
        }
    }
}

/// Offers freed time to the first waiting entry whose wanted range fits and is free: a `held`
/// booking with a hold lapsing after the waitlist hold time (never after the wanted start).
async fn offer_freed(
    w: &mut WriteTx,
    inst: &InstrumentRecord,
    freed: TimeRange,
    policy: &BookingPolicy,
    now: NaiveDateTime,
) -> LabsResult<usize> {
    let (fs, fe) = freed.as_minutes();
    let rows = sqlx::query(
        "SELECT id, enterprise_id, start_min, end_min, self_operated FROM lab_waitlist WHERE instrument_id = $1 AND state = 'waiting' AND start_min >= $2 AND end_min <= $3 ORDER BY id",
    )
    .bind(inst.id)
    .bind(fs)
    .bind(fe)
    .fetch_all(&mut *w.tx)
    .await?;
    for r in rows {
        let wid: i64 = r.try_get(0).map_err(StoreError::from)?;
        let eid: i64 = r.try_get(1).map_err(StoreError::from)?;
        let range = range_of(
            r.try_get(2).map_err(StoreError::from)?,
            r.try_get(3).map_err(StoreError::from)?,
        )?;
        if range.start() <= now {
            sqlx::query("UPDATE lab_waitlist SET state = 'expired' WHERE id = $1")
                .bind(wid)
                .execute(&mut *w.tx)
                .await?;
            continue;
        }
        let taken = ranges(
            &mut w.tx,
            &format!("SELECT start_min, end_min FROM lab_bookings WHERE instrument_id = $1 AND start_min < $3 AND end_min > $2 AND state IN {BLOCKING}"),
            inst.id,
            range.as_minutes().0,
            range.as_minutes().1,
        )
        .await?;
        if !taken.is_empty() {
            continue;
        }
        let hold_until = (now + Duration::minutes(policy.waitlist_hold_minutes)).min(range.start());
        let price = yuepin_labs::quote(&inst.instrument.tariff, &range)
            .map(|q| q.total)
            .unwrap_or(Yuan::ZERO);
        let part = BookingPart {
            instrument_id: inst.id,
            range,
            self_operated: r.try_get::<i64, _>(4).map_err(StoreError::from)? != 0,
            accessories: vec![],
        };
        let bid = insert_booking(
            &mut w.tx,
            inst.id,
            Some(eid),
            &format!("w{wid}"),
            &part,
            BookingState::Held,
            price,
            Some(dt_text(hold_until)),
        )
        .await?;
        sqlx::query("UPDATE lab_waitlist SET state = 'offered', booking_id = $1 WHERE id = $2")
            .bind(bid)
            .bind(wid)
            .execute(&mut *w.tx)
            .await?;
        w.record(
            Change::new("offer", "lab_waitlist", wid).after(serde_json::json!({
                "booking_id": bid, "hold_until": dt_text(hold_until),
            })),
        );
        return Ok(1);
    }
    Ok(0)
}

// ---------------------------------------------------------------- orders and reports

fn order_transition(state: OrderState, event: OrderEvent) -> LabsResult<OrderState> {
    order::transition(state, event).map_err(LabsError::Illegal)
}

impl Store {
    pub async fn create_order(
        &self,
        actor: Actor,
        enterprise_id: i64,
        service_id: i64,
        samples: i64,
        note: &str,
    ) -> LabsResult<OrderRecord> {
        if !(1..=10_000).contains(&samples) {
            return Err(LabsError::Invalid(
                "样品数量应为1至10000 (1 to 10,000 samples)".into(),
            ));
        }
        let mut w = self.begin_write(actor).await?;
        let svc = service_on(&mut w.tx, service_id).await?;
        let state = OrderState::Requested;
        let now = now_text();
        let id: i64 = sqlx::query(
            "INSERT INTO lab_orders (service_id, lab_id, enterprise_id, samples, note, state, state_data, round, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING id",
        )
        .bind(service_id)
        .bind(svc.lab_id)
        .bind(enterprise_id)
        .bind(samples)
        .bind(note.chars().take(500).collect::<String>())
        .bind(state.name())
        .bind(json(&state)?)
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)
        .map_err(StoreError::from)?;
        w.record(
            Change::new("create", "lab_order", id).after(serde_json::json!({
                "service_id": service_id, "enterprise_id": enterprise_id, "samples": samples,
            })),
        );
        let out = order_on(&mut w.tx, id).await?;
        self.commit(w).await?;
        Ok(out)
    }

    pub async fn order(&self, id: i64) -> Result<OrderRecord> {
        let mut conn = self.pool.acquire().await?;
        order_on(&mut conn, id).await
    }

    pub async fn orders_of_enterprise(&self, enterprise_id: i64) -> Result<Vec<OrderRecord>> {
        sqlx::query(&format!(
            "SELECT {ORDER_COLS} FROM {ORDER_FROM} WHERE o.enterprise_id = $1 ORDER BY o.id DESC LIMIT 500"
        ))
        .bind(enterprise_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(order_from_row)
        .collect()
    }

    pub async fn orders_of_lab(&self, lab_id: i64) -> Result<Vec<OrderRecord>> {
        sqlx::query(&format!(
            "SELECT {ORDER_COLS} FROM {ORDER_FROM} WHERE o.lab_id = $1 ORDER BY o.id DESC LIMIT 500"
        ))
        .bind(lab_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(order_from_row)
        .collect()
    }

    /// Applies an action to an order on behalf of user `person`. Issuing a report numbers it,
    /// stores it, marks a replaced predecessor and writes an inspection record into the
    /// enterprise's quality file — all in the same transaction.
    pub async fn order_action(
        &self,
        actor: Actor,
        id: i64,
        person: i64,
        action: OrderAction,
        today: NaiveDate,
    ) -> LabsResult<OrderRecord> {
        let mut w = self.begin_write(actor).await?;
        let o = order_on(&mut w.tx, id).await?;
        let before_state = o.state.clone();
        let person_id = PersonId(person as u64);
        let mut results = o.results.clone();
        let mut quoted = o.quoted;
        let mut report_out: Option<(ReportNumber, Option<ReportNumber>)> = None;
        let next = match &action {
            OrderAction::Quote { amount } => {
                let s = order_transition(o.state.clone(), OrderEvent::Quote { amount: *amount })?;
                quoted = Some(*amount);
                s
            }
            OrderAction::Accept => order_transition(o.state.clone(), OrderEvent::Accept)?,
            OrderAction::Decline => order_transition(o.state.clone(), OrderEvent::Decline)?,
            OrderAction::Cancel => order_transition(o.state.clone(), OrderEvent::Cancel)?,
            OrderAction::ReceiveSample => {
                order_transition(o.state.clone(), OrderEvent::ReceiveSample)?
            }
            OrderAction::StartTesting => {
                results = None;
                order_transition(
                    o.state.clone(),
                    OrderEvent::StartTesting { tester: person_id },
                )?
            }
            OrderAction::RecordResults { results: r } => match &o.state {
                OrderState::Testing { tester, .. } if *tester == person_id => {
                    results = Some(r.clone());
                    o.state.clone()
                }
                OrderState::Testing { .. } => {
                    return Err(LabsError::Forbidden(
                        "只有检测人员可录入结果 (only the tester records results)".into(),
                    ))
                }
                _ => {
                    return Err(LabsError::Illegal(IllegalTransition {
                        state: o.state.name(),
                        event: "record_results",
                        reason: "只能在检测中录入结果 (results are recorded while testing)",
                    }))
                }
            },
            OrderAction::Verify => {
                if results.is_none() {
                    return Err(LabsError::Invalid(
                        "尚未录入检测结果 (no results recorded yet)".into(),
                    ));
                }
                order_transition(
                    o.state.clone(),
                    OrderEvent::Verify {
                        verifier: person_id,
                    },
                )?
            }
            OrderAction::ReturnForRework => {
                order_transition(o.state.clone(), OrderEvent::ReturnForRework)?
            }
            OrderAction::IssueReport => {
                let code: String = sqlx::query("SELECT code FROM labs WHERE id = $1")
                    .bind(o.lab_id)
                    .fetch_one(&mut *w.tx)
                    .await?
                    .try_get(0)
                    .map_err(StoreError::from)?;
                let day = today.format("%Y%m%d").to_string();
                let seq: i64 = sqlx::query(
                    "INSERT INTO lab_report_seq (lab_id, day, seq) VALUES ($1, $2, 1) \
                     ON CONFLICT (lab_id, day) DO UPDATE SET seq = lab_report_seq.seq + 1 RETURNING seq",
                )
                .bind(o.lab_id)
                .bind(&day)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get(0)
                .map_err(StoreError::from)?;
                let number = LabCode::parse(&code)
                    .and_then(|c| ReportNumber::new(c, today, seq as u32))
                    .map_err(|e| LabsError::Invalid(e.to_string()))?;
                let s = order_transition(
                    o.state.clone(),
                    OrderEvent::IssueReport {
                        report: number.clone(),
                    },
                )?;
                let replaces = match &s {
                    OrderState::ReportIssued { replaces, .. } => replaces.clone(),
                    _ => None,
                };
                report_out = Some((number, replaces));
                s
            }
            OrderAction::RequestRetest => {
                order_transition(o.state.clone(), OrderEvent::RequestRetest)?
            }
            OrderAction::RevokeReport { reason } => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(LabsError::Invalid(
                        "撤销须说明理由 (a reason is required)".into(),
                    ));
                }
                let s = order_transition(
                    o.state.clone(),
                    OrderEvent::RevokeReport {
                        reason: reason.to_string(),
                    },
                )?;
                if let OrderState::ReportRevoked { report, .. } = &s {
                    sqlx::query("UPDATE lab_reports SET status = 'revoked', revoked_reason = $1 WHERE number = $2")
                        .bind(reason)
                        .bind(report.to_string())
                        .execute(&mut *w.tx)
                        .await?;
                    w.record(
                        Change::new("revoke", "lab_report", report.to_string())
                            .after(serde_json::json!({"reason": reason})),
                    );
                }
                s
            }
        };
        let (tester, verifier, round) = match &next {
            OrderState::Testing { tester, round, .. } => (Some(tester.0 as i64), None, *round),
            OrderState::ResultsVerified {
                tester,
                verifier,
                round,
                ..
            } => (Some(tester.0 as i64), Some(verifier.0 as i64), *round),
            OrderState::ReportIssued { round, .. } | OrderState::Retest { round, .. } => {
                (o.tester_id, o.verifier_id, *round)
            }
            _ => (o.tester_id, o.verifier_id, o.round as u32),
        };
        sqlx::query(
            "UPDATE lab_orders SET state = $1, state_data = $2, quoted_fen = $3, tester_id = $4, verifier_id = $5, round = $6, results = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(next.name())
        .bind(json(&next)?)
        .bind(quoted.map(|q| q.fen()))
        .bind(tester)
        .bind(verifier)
        .bind(i64::from(round.max(1)))
        .bind(results.as_ref().map(json).transpose()?)
        .bind(now_text())
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new(action.name(), "lab_order", id)
                .before(serde_json::json!({"state": before_state}))
                .after(serde_json::json!({"state": next, "results": results})),
        );
        if let Some((number, replaces)) = report_out {
            let results = results.clone().ok_or_else(|| {
                LabsError::Invalid("尚未录入检测结果 (no results recorded yet)".into())
            })?;
            sqlx::query(
                "INSERT INTO lab_reports (number, order_id, lab_id, enterprise_id, issued_on, round, result, data, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'valid')",
            )
            .bind(number.to_string())
            .bind(id)
            .bind(o.lab_id)
            .bind(o.enterprise_id)
            .bind(today.to_string())
            .bind(i64::from(round))
            .bind(if results.passed { "pass" } else { "fail" })
            .bind(json(&results)?)
            .execute(&mut *w.tx)
            .await?;
            w.record(Change::new("issue", "lab_report", number.to_string()).after(&results));
            if let Some(old) = &replaces {
                sqlx::query(
                    "UPDATE lab_reports SET status = 'replaced', replaced_by = $1 WHERE number = $2",
                )
                .bind(number.to_string())
                .bind(old.to_string())
                .execute(&mut *w.tx)
                .await?;
                w.record(
                    Change::new("replace", "lab_report", old.to_string())
                        .after(serde_json::json!({"replaced_by": number.to_string()})),
                );
            }
            let lab_name: String = sqlx::query("SELECT name FROM labs WHERE id = $1")
                .bind(o.lab_id)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get(0)
                .map_err(StoreError::from)?;
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
            self.save_event(
                &mut w,
                o.enterprise_id,
                None,
                today,
                &format!("inspection:{number}"),
                &kind,
            )
            .await?;
        }
        let out = order_on(&mut w.tx, id).await?;
        self.commit(w).await?;
        Ok(out)
    }

    /// A report for public verification.
    pub async fn report(&self, number: &str) -> Result<ReportRecord> {
        let r = sqlx::query(&format!(
            "SELECT {REPORT_COLS} FROM {REPORT_FROM} WHERE r.number = $1"
        ))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("report {number}")))?;
        report_from_row(&r)
    }

    pub async fn reports_of_order(&self, order_id: i64) -> Result<Vec<ReportRecord>> {
        sqlx::query(&format!(
            "SELECT {REPORT_COLS} FROM {REPORT_FROM} WHERE r.order_id = $1 ORDER BY r.round"
        ))
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(report_from_row)
        .collect()
    }

    /// Invoice of an order: samples × price per sample, plus retest rounds (all chargeable
    /// here), or the quoted amount when the lab quoted a different price.
    pub async fn order_invoice(&self, id: i64) -> LabsResult<Invoice> {
        let o = self.order(id).await?;
        let svc = self.service(o.service_id).await?;
        let retests = u32::try_from(o.round.saturating_sub(1)).unwrap_or(0);
        let mut inv = yuepin_labs::order_invoice(
            &svc.service,
            u32::try_from(o.samples).unwrap_or(1),
            retests,
        )
        .map_err(|reason| LabsError::Rejected { part: None, reason })?;
        if let Some(q) = o.quoted {
            if q != inv.lines[0].amount {
                inv.lines[0].amount = q;
                inv.lines[0].description.push_str("（按报价）");
                inv.total = Yuan::from_fen(inv.lines.iter().map(|l| l.amount.fen()).sum());
            }
        }
        Ok(inv)
    }
}

// ---------------------------------------------------------------- costs, utilisation, feeds

impl Store {
    /// What sharing saved an enterprise over the 365 days before `today`, per instrument used,
    /// against buying each instrument (documented assumptions in `OwnershipAssumptions`).
    pub async fn savings_of(
        &self,
        enterprise_id: i64,
        today: NaiveDate,
    ) -> Result<Vec<InstrumentSavings>> {
        let to = today.and_hms_opt(0, 0, 0).unwrap_or_default();
        let from = to - Duration::days(365);
        let rows = sqlx::query(
            "SELECT instrument_id, start_min, end_min, price_fen FROM lab_bookings WHERE enterprise_id = $1 \
             AND state IN ('confirmed', 'checked_in', 'completed') AND start_min >= $2 AND start_min < $3",
        )
        .bind(enterprise_id)
        .bind(from.and_utc().timestamp() / 60)
        .bind(to.and_utc().timestamp() / 60 + 366 * 1440)
        .fetch_all(&self.pool)
        .await?;
        let mut per: HashMap<i64, (i64, i64)> = HashMap::new();
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let minutes = r.try_get::<i64, _>(2)? - r.try_get::<i64, _>(1)?;
            let e = per.entry(id).or_default();
            e.0 += minutes;
            e.1 += r.try_get::<i64, _>(3)?;
        }
        let mut out = Vec::new();
        let mut ids: Vec<i64> = per.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let (minutes, spend) = per[&id];
            let inst = self.instrument(id).await?;
            out.push(InstrumentSavings {
                instrument_id: id,
                instrument_name: inst.instrument.name.clone(),
                hours: minutes as f64 / 60.0,
                savings: yuepin_labs::ownership_savings(
                    inst.instrument.purchase_price,
                    &OwnershipAssumptions::default(),
                    Yuan::from_fen(spend),
                    inst.instrument.tariff.peak_hourly,
                ),
            });
        }
        Ok(out)
    }

    /// Utilisation and sharing rate per instrument for `year` (optionally of one lab): usage is
    /// checked-in/completed time; outside = used by enterprises (not the lab itself).
    pub async fn utilisation_of(
        &self,
        year: i32,
        lab_id: Option<i64>,
    ) -> Result<Vec<InstrumentUtilisation>> {
        let start = NaiveDate::from_ymd_opt(year, 1, 1)
            .ok_or_else(|| StoreError::NotFound(format!("year {year}")))?;
        let end = NaiveDate::from_ymd_opt(year + 1, 1, 1)
            .ok_or_else(|| StoreError::NotFound(format!("year {year}")))?;
        let (ys, ye) = (
            start
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc()
                .timestamp()
                / 60,
            end.and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc()
                .timestamp()
                / 60,
        );
        let lab = lab_id.unwrap_or(0);
        let instruments: Vec<InstrumentRecord> =
            sqlx::query("SELECT * FROM lab_instruments WHERE ($1 = 0 OR lab_id = $1) ORDER BY id")
                .bind(lab)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(instrument_from_row)
                .collect::<Result<_>>()?;
        let mut usage: HashMap<i64, Vec<UsageRecord>> = HashMap::new();
        for r in sqlx::query(
            "SELECT b.instrument_id, b.start_min, b.end_min, b.enterprise_id FROM lab_bookings b JOIN lab_instruments i ON i.id = b.instrument_id \
             WHERE ($1 = 0 OR i.lab_id = $1) AND b.state IN ('checked_in', 'completed') AND b.start_min < $2 AND b.end_min > $3",
        )
        .bind(lab)
        .bind(ye)
        .bind(ys)
        .fetch_all(&self.pool)
        .await?
        {
            usage.entry(r.try_get(0)?).or_default().push(UsageRecord {
                range: range_of(r.try_get(1)?, r.try_get(2)?)?,
                outside_user: r.try_get::<Option<i64>, _>(3)?.is_some(),
            });
        }
        let mut blackouts: HashMap<i64, Vec<TimeRange>> = HashMap::new();
        for r in sqlx::query(
            "SELECT k.instrument_id, k.start_min, k.end_min FROM lab_blackouts k JOIN lab_instruments i ON i.id = k.instrument_id \
             WHERE ($1 = 0 OR i.lab_id = $1) AND k.start_min < $2 AND k.end_min > $3",
        )
        .bind(lab)
        .bind(ye)
        .bind(ys)
        .fetch_all(&self.pool)
        .await?
        {
            blackouts
                .entry(r.try_get(0)?)
                .or_default()
                .push(range_of(r.try_get(1)?, r.try_get(2)?)?);
        }
        let lab_names: HashMap<i64, String> = self
            .labs()
            .await?
            .into_iter()
            .map(|l| (l.id, l.lab.name))
            .collect();
        Ok(instruments
            .into_iter()
            .map(|i| InstrumentUtilisation {
                instrument_id: i.id,
                instrument_name: i.instrument.name.clone(),
                lab_id: i.lab_id,
                lab_name: lab_names.get(&i.lab_id).cloned().unwrap_or_default(),
                utilisation: yuepin_labs::utilisation(
                    year,
                    &i.instrument.opening_hours,
                    blackouts.get(&i.id).map(Vec::as_slice).unwrap_or(&[]),
                    usage.get(&i.id).map(Vec::as_slice).unwrap_or(&[]),
                ),
            })
            .collect())
    }

    /// Stores a calendar-feed token (its hash) for an instrument or an enterprise.
    pub async fn create_feed_token(
        &self,
        w: &mut WriteTx,
        kind: &str,
        ref_id: i64,
        token: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO lab_feed_tokens (token_hash, kind, ref_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(crate::users::token_hash(token))
        .bind(kind)
        .bind(ref_id)
        .bind(now_text())
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("create", "lab_feed_token", format!("{kind}:{ref_id}"))
                .after(serde_json::json!({"kind": kind, "ref_id": ref_id})),
        );
        Ok(())
    }

    /// Whether `token` opens the feed `kind`/`ref_id`.
    pub async fn feed_token_valid(&self, kind: &str, ref_id: i64, token: &str) -> Result<bool> {
        Ok(sqlx::query(
            "SELECT 1 FROM lab_feed_tokens WHERE token_hash = $1 AND kind = $2 AND ref_id = $3",
        )
        .bind(crate::users::token_hash(token))
        .bind(kind)
        .bind(ref_id)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// RFC 5545 feed of one instrument's bookings (enterprises not named).
    pub async fn instrument_calendar(&self, id: i64, now: NaiveDateTime) -> Result<String> {
        let inst = self.instrument(id).await?;
        let bookings = self.bookings_of_instrument(id).await?;
        let list: Vec<Booking> = bookings.iter().filter_map(to_booking).collect();
        Ok(yuepin_labs::instrument_feed(&inst.instrument, &list, now))
    }

    /// RFC 5545 feed of one enterprise's bookings across instruments.
    pub async fn enterprise_calendar(
        &self,
        enterprise_id: i64,
        uscc: &Uscc,
        now: NaiveDateTime,
    ) -> Result<String> {
        let bookings = self.bookings_of_enterprise(enterprise_id).await?;
        let mut ids: Vec<i64> = bookings.iter().map(|b| b.instrument_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut instruments = Vec::new();
        for id in ids {
            instruments.push(self.instrument(id).await?.instrument);
        }
        let list: Vec<Booking> = bookings
            .iter()
            .filter_map(to_booking)
            .map(|mut b| {
                b.enterprise = uscc.clone();
                b
            })
            .collect();
        Ok(yuepin_labs::enterprise_feed(uscc, &list, &instruments, now))
    }
}

fn to_booking(b: &BookingRecord) -> Option<Booking> {
    let enterprise = b
        .enterprise_uscc
        .as_deref()
        .and_then(|u| Uscc::parse(u).ok())
        .or_else(|| Uscc::parse("91440300000000000X").ok())
        .or_else(|| Uscc::assemble("91", "440300", "00000000").ok())?;
    Some(Booking {
        id: BookingId(b.id as u64),
        instrument: InstrumentId(b.instrument_id as u64),
        enterprise,
        range: b.range()?,
        self_operated: b.self_operated,
        state: b.state,
        price: b.price,
    })
}

/// Year of a date, for callers building utilisation queries.
pub fn year_of(d: NaiveDate) -> i32 {
    d.year()
}
