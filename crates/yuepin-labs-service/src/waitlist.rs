//! The waitlist and the periodic sweep. An enterprise waits for an exact range of one
//! instrument; when time is freed (cancellation, rejection, no-show, a lapsed hold) the first
//! waiting entry that fits and is free gets a `held` booking with a timed hold. The sweep marks
//! no-shows (fee charged, rest of the slot released) and lapses expired holds.

use crate::bookings::{policy_for, transition};
use crate::records::{BookingPart, SweepSummary, WaitRecord, WaitState};
use crate::store::{
    booking_on, insert_booking, instrument_on, range_of, ranges, set_booking_state,
    set_wait_state_of_booking, wait_from_row, BLOCKING,
};
use crate::{dt_text, InstrumentRecord, Invalid, LabsError, LabsResult, LabsService};
use chrono::{Duration, NaiveDateTime};
use sqlx::Row;
use yuepin_domain::{Caller, Yuan};
use yuepin_labs::{BookingEvent, BookingPolicy, BookingState, TimeRange};
use yuepin_store::{Actor, Change, Dialect, WriteTx};

impl LabsService {
    /// Puts the caller's enterprise on the waitlist of an instrument for an exact range.
    pub async fn join_waitlist(
        &self,
        caller: &Caller,
        instrument_id: i64,
        range: TimeRange,
        self_operated: bool,
    ) -> LabsResult<i64> {
        let enterprise_id = Self::own_enterprise(caller)?;
        let now = crate::now();
        if range.start() <= now {
            return Err(LabsError::Invalid(Invalid::WaitInPast));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        instrument_on(&mut w.tx, instrument_id).await?;
        let (s, e) = range.as_minutes();
        let dup = sqlx::query("SELECT 1 FROM lab_waitlist WHERE instrument_id = $1 AND enterprise_id = $2 AND state IN ('waiting', 'offered')")
            .bind(instrument_id)
            .bind(enterprise_id)
            .fetch_optional(&mut *w.tx)
            .await?;
        if dup.is_some() {
            return Err(LabsError::Invalid(Invalid::AlreadyWaiting));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO lab_waitlist (instrument_id, enterprise_id, start_min, end_min, self_operated, state, joined_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(instrument_id)
        .bind(enterprise_id)
        .bind(s)
        .bind(e)
        .bind(i64::from(self_operated))
        .bind(WaitState::Waiting.as_str())
        .bind(dt_text(now))
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        w.record(
            Change::new("join", "lab_waitlist", id).after(serde_json::json!({
                "instrument_id": instrument_id, "enterprise_id": enterprise_id,
                "start": dt_text(range.start()), "end": dt_text(range.end()),
            })),
        );
        self.store.commit(w).await?;
        Ok(id)
    }

    /// The caller's enterprise's waitlist entries, latest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn my_waitlist(&self, caller: &Caller) -> LabsResult<Vec<WaitRecord>> {
        let id = Self::own_enterprise(caller)?;
        self.waitlist_of_enterprise(id).await
    }

    pub(crate) async fn waitlist_of_enterprise(
        &self,
        enterprise_id: i64,
    ) -> LabsResult<Vec<WaitRecord>> {
        Ok(sqlx::query(
            "SELECT * FROM lab_waitlist WHERE enterprise_id = $1 ORDER BY id DESC LIMIT 200",
        )
        .bind(enterprise_id)
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(wait_from_row)
        .collect::<yuepin_store::Result<_>>()?)
    }

    /// The periodic housekeeping now (administrators: the regulator, a timer through the CLI).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn sweep(&self, caller: &Caller) -> LabsResult<SweepSummary> {
        self.sweep_at(caller, crate::now()).await
    }

    /// Housekeeping at `now`: confirmed bookings past the grace period without check-in become
    /// no-shows (fee charged, slot released to the waitlist); lapsed waitlist holds are
    /// released and offered to the next in line.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn sweep_at(&self, caller: &Caller, now: NaiveDateTime) -> LabsResult<SweepSummary> {
        caller.require_administrator()?;
        let dialect = self.store.dialect();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let mut summary = SweepSummary::default();
        let policy = BookingPolicy::default();
        let cutoff = crate::store::minute_of(now) - policy.no_show_grace_minutes;
        let due: Vec<i64> = sqlx::query(
            "SELECT id FROM lab_bookings WHERE state = 'confirmed' AND enterprise_id IS NOT NULL AND start_min <= $1 ORDER BY id",
        )
        .bind(cutoff)
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        for id in due {
            let b = booking_on(&mut w.tx, id).await?;
            let inst = instrument_on(&mut w.tx, b.instrument_id).await?;
            let policy = policy_for(&inst);
            if !yuepin_labs::no_show_due(&policy, b.starts_at, now) {
                continue;
            }
            let next = transition(b.state, BookingEvent::GraceExpired)?;
            let fee = yuepin_labs::cancellation_fee(&policy, b.price, b.starts_at, b.starts_at);
            set_booking_state(&mut w.tx, dialect, id, next, Some(fee)).await?;
            w.record(
                Change::new("no_show", "lab_booking", id)
                    .after(serde_json::json!({"state": next.name(), "fee_fen": fee.fen()})),
            );
            summary.no_shows += 1;
            // The rest of the slot is released: offer what remains from now on.
            if let Ok(rest) = TimeRange::new(now.max(b.starts_at), b.ends_at) {
                summary.offers += offer_freed(&mut w, dialect, &inst, rest, &policy, now).await?;
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
        .collect::<Result<_, _>>()?;
        for id in lapsed {
            let b = booking_on(&mut w.tx, id).await?;
            let inst = instrument_on(&mut w.tx, b.instrument_id).await?;
            let next = transition(b.state, BookingEvent::HoldExpired)?;
            set_booking_state(&mut w.tx, dialect, id, next, None).await?;
            set_wait_state_of_booking(&mut w.tx, id, WaitState::Expired).await?;
            w.record(
                Change::new("hold_expired", "lab_booking", id)
                    .after(serde_json::json!({"state": next.name()})),
            );
            summary.holds_expired += 1;
            if let Some(range) = b.range() {
                summary.offers +=
                    offer_freed(&mut w, dialect, &inst, range, &policy_for(&inst), now).await?;
            }
        }
        if summary.no_shows + summary.holds_expired == 0 {
            // A writing transaction records at least one change: note the empty sweep.
            w.record(Change::new("sweep", "lab_booking", "none").after(&summary));
        }
        self.store.commit(w).await?;
        Ok(summary)
    }
}

/// Offers freed time to the first waiting entry whose wanted range fits and is free: a `held`
/// booking with a hold lapsing after the waitlist hold time (never after the wanted start).
/// Entries whose wanted time has begun expire on the way. Returns the number of offers (0/1).
pub(crate) async fn offer_freed(
    w: &mut WriteTx,
    dialect: &dyn Dialect,
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
        let wid: i64 = r.try_get(0)?;
        let eid: i64 = r.try_get(1)?;
        let range = range_of(r.try_get(2)?, r.try_get(3)?)?;
        if range.start() <= now {
            sqlx::query("UPDATE lab_waitlist SET state = $1 WHERE id = $2")
                .bind(WaitState::Expired.as_str())
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
            self_operated: r.try_get::<i64, _>(4)? != 0,
            accessories: vec![],
        };
        let bid = insert_booking(
            &mut w.tx,
            dialect,
            inst.id,
            Some(eid),
            &format!("w{wid}"),
            &part,
            BookingState::Held,
            price,
            Some(hold_until),
        )
        .await?;
        sqlx::query("UPDATE lab_waitlist SET state = $1, booking_id = $2 WHERE id = $3")
            .bind(WaitState::Offered.as_str())
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
