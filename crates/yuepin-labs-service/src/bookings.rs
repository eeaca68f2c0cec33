//! Time-share bookings: booking one or several instruments together (all or nothing), the
//! steps after (approve, reject, cancel with its fee, check in and out, accept or decline a
//! waitlist hold), the lists each party sees, and invoices.
//!
//! An enterprise books for itself within the rules (quota, blacklist, qualification, notice…);
//! a lab books internal use of its own instruments (only opening hours, blackouts and conflicts
//! apply). Enterprises see their own bookings, a lab's staff those of its instruments.

use crate::records::{Booker, BookingAction, BookingPart, BookingRecord, InvoiceOf};
use crate::store::{
    booking_from_row, booking_on, insert_booking, instrument_on, minute_of, qualifications_on,
    ranges, set_booking_state, set_wait_state_of_booking, BLOCKING, BOOKING_COLS, BOOKING_FROM,
};
use crate::{Invalid, LabsError, LabsResult, LabsService, Party, MAX_BOOKING_MINUTES};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use yuepin_domain::{Caller, CallerKind, Denied, Role, Yuan};
use yuepin_labs::{
    booking, Blackout, BookingContext, BookingEvent, BookingPolicy, BookingRejection,
    BookingRequest, BookingState, TimeRange,
};
use yuepin_store::{corrupt, now_text, Actor, Change};

/// The booking policy of an instrument: the documented defaults with its approval flag.
pub(crate) fn policy_for(inst: &crate::InstrumentRecord) -> BookingPolicy {
    BookingPolicy {
        requires_approval: inst.requires_approval,
        ..BookingPolicy::default()
    }
}

pub(crate) fn transition(state: BookingState, event: BookingEvent) -> LabsResult<BookingState> {
    booking::transition(state, event).map_err(LabsError::Illegal)
}

impl LabsService {
    /// Books for the caller: an enterprise user for its enterprise, a lab account for its
    /// lab's internal use.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn book(
        &self,
        caller: &Caller,
        parts: &[BookingPart],
    ) -> LabsResult<Vec<BookingRecord>> {
        let booker = match caller.role() {
            Some(Role::Enterprise) => Booker::Enterprise {
                id: Self::own_enterprise(caller)?,
            },
            Some(Role::Lab) => Booker::Lab {
                lab_id: self.staff_lab(caller).await?,
            },
            _ if matches!(caller.kind, CallerKind::Public) => {
                return Err(Denied::SignInRequired.into())
            }
            _ => {
                return Err(Denied::Role {
                    needs: vec![Role::Enterprise, Role::Lab],
                }
                .into())
            }
        };
        self.book_as(caller, &booker, parts).await
    }

    /// Books one or several instruments together for `booker`, all or nothing. The caller is
    /// the booker itself or an administrator (demo seeding, benchmarks). Every part is checked
    /// against the rules; the database refuses overlaps even when a concurrent request passed
    /// the same check.
    pub async fn book_as(
        &self,
        caller: &Caller,
        booker: &Booker,
        parts: &[BookingPart],
    ) -> LabsResult<Vec<BookingRecord>> {
        let uscc = match booker {
            Booker::Enterprise { id } => {
                caller.require_enterprise(*id)?;
                // Read before the write begins: no second connection inside a write.
                Some(self.enterprise_uscc(*id).await?)
            }
            Booker::Lab { lab_id } => {
                self.require_manage_lab(caller, *lab_id).await?;
                None
            }
        };
        if parts.is_empty() || parts.len() > 10 {
            return Err(LabsError::Invalid(Invalid::PartCount));
        }
        let now = crate::now();
        let dialect = self.store.dialect();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let group_key = format!("g{}", now_text().replace([':', '.', '-'], ""));
        let mut ids = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let reject = |reason| LabsError::Rejected {
                part: Some(i),
                reason,
            };
            if part.range.minutes() > MAX_BOOKING_MINUTES {
                return Err(reject(BookingRejection::TooLong {
                    max_minutes: MAX_BOOKING_MINUTES as u32,
                }));
            }
            let inst = instrument_on(&mut w.tx, part.instrument_id).await?;
            if !inst.active {
                return Err(LabsError::Invalid(Invalid::InstrumentInactive(inst.id)));
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
            .map(crate::store::blackout_from_row)
            .collect::<yuepin_store::Result<_>>()?;
            let taken = ranges(
                &mut w.tx,
                &format!("SELECT start_min, end_min FROM lab_bookings WHERE instrument_id = $1 AND start_min < $3 AND end_min > $2 AND state IN {BLOCKING}"),
                inst.id,
                s,
                e,
            )
            .await?;
            let policy = policy_for(&inst);
            let (state, priced) = match (booker, &uscc) {
                (Booker::Enterprise { id }, Some(uscc)) => {
                    let window_from = minute_of(part.range.start() - Duration::days(40));
                    let window_to = minute_of(part.range.end() + Duration::days(40));
                    let mine = ranges(
                        &mut w.tx,
                        &format!("SELECT start_min, end_min FROM lab_bookings WHERE enterprise_id = $1 AND start_min < $3 AND end_min > $2 AND state IN {BLOCKING}"),
                        *id,
                        window_from,
                        window_to,
                    )
                    .await?;
                    let since = minute_of(now - Duration::days(400));
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
                    let quals = qualifications_on(&mut w.tx, *id, inst.lab_id).await?;
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
                    yuepin_labs::check_booking(&policy, &request, &ctx, now).map_err(reject)?;
                    let requested = transition(
                        BookingState::Requested,
                        BookingEvent::Submit {
                            requires_approval: policy.requires_approval,
                        },
                    )?;
                    (requested, true)
                }
                (Booker::Lab { lab_id }, _) => {
                    if *lab_id != inst.lab_id {
                        return Err(LabsError::NotOwnInstrument);
                    }
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
                    (BookingState::Confirmed, false)
                }
                (Booker::Enterprise { .. }, None) => {
                    return Err(corrupt("enterprise booker without credit code").into())
                }
            };
            // Enterprises pay for instrument time and accessories; internal use is free.
            let price = if priced {
                let names: Vec<&str> = part.accessories.iter().map(String::as_str).collect();
                yuepin_labs::booking_invoice(&inst.instrument, &part.range, &names)
                    .map_err(reject)?
                    .total
            } else {
                Yuan::ZERO
            };
            let enterprise_id = match booker {
                Booker::Enterprise { id } => Some(*id),
                Booker::Lab { .. } => None,
            };
            let id = insert_booking(
                &mut w.tx,
                dialect,
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
                "instrument_id": inst.id, "enterprise_id": enterprise_id, "start": crate::dt_text(part.range.start()),
                "end": crate::dt_text(part.range.end()), "state": state.name(), "price_fen": price.fen(),
                "self_operated": part.self_operated, "group": group_key,
            })));
            ids.push(id);
        }
        let mut out = Vec::new();
        for id in &ids {
            out.push(booking_on(&mut w.tx, *id).await?);
        }
        self.store.commit(w).await?;
        Ok(out)
    }

    /// One booking, if the caller may see it (else it does not exist for them).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn booking(&self, caller: &Caller, id: i64) -> LabsResult<BookingRecord> {
        let b = {
            let mut conn = self.store.pool().acquire().await?;
            booking_on(&mut conn, id).await?
        };
        if self.can_see(caller, b.lab_id, b.enterprise_id).await? {
            Ok(b)
        } else {
            Err(LabsError::missing("booking", id))
        }
    }

    /// The caller's enterprise's bookings, latest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn my_bookings(&self, caller: &Caller) -> LabsResult<Vec<BookingRecord>> {
        let id = Self::own_enterprise(caller)?;
        self.bookings_of_enterprise(id).await
    }

    pub(crate) async fn bookings_of_enterprise(
        &self,
        enterprise_id: i64,
    ) -> LabsResult<Vec<BookingRecord>> {
        Ok(sqlx::query(&format!(
            "SELECT {BOOKING_COLS} FROM {BOOKING_FROM} WHERE b.enterprise_id = $1 ORDER BY b.start_min DESC LIMIT 500"
        ))
        .bind(enterprise_id)
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(booking_from_row)
        .collect::<yuepin_store::Result<_>>()?)
    }

    /// Bookings of a lab's instruments over `days` days (1 to 92) from the start of `from`, by
    /// start: the lab's calendar.
    pub async fn bookings_of_lab(
        &self,
        caller: &Caller,
        lab_id: i64,
        from: NaiveDate,
        days: i64,
    ) -> LabsResult<Vec<BookingRecord>> {
        self.require_manage_lab(caller, lab_id).await?;
        let from = from.and_hms_opt(0, 0, 0).unwrap_or_default();
        let to = from + Duration::days(days.clamp(1, 92));
        Ok(sqlx::query(&format!(
            "SELECT {BOOKING_COLS} FROM {BOOKING_FROM} WHERE i.lab_id = $1 AND b.start_min < $2 AND b.end_min > $3 ORDER BY b.start_min LIMIT 2000"
        ))
        .bind(lab_id)
        .bind(minute_of(to))
        .bind(minute_of(from))
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(booking_from_row)
        .collect::<yuepin_store::Result<_>>()?)
    }

    pub(crate) async fn bookings_of_instrument(
        &self,
        instrument_id: i64,
    ) -> LabsResult<Vec<BookingRecord>> {
        Ok(sqlx::query(&format!(
            "SELECT {BOOKING_COLS} FROM {BOOKING_FROM} WHERE b.instrument_id = $1 ORDER BY b.start_min DESC LIMIT 1000"
        ))
        .bind(instrument_id)
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(booking_from_row)
        .collect::<yuepin_store::Result<_>>()?)
    }

    /// Applies an action to a booking. Anyone who sees it may cancel; the enterprise accepts or
    /// declines a hold; the lab (or an administrator) approves, rejects, checks in and out.
    /// Cancelling computes the fee; a released slot goes to the waitlist (the first fitting
    /// entry gets a timed hold).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn booking_action(
        &self,
        caller: &Caller,
        id: i64,
        action: BookingAction,
    ) -> LabsResult<BookingRecord> {
        self.booking(caller, id).await?;
        let allowed = match action {
            BookingAction::Cancel => Ok(()),
            BookingAction::AcceptHold | BookingAction::DeclineHold => {
                if caller.role() == Some(Role::Enterprise) {
                    Ok(())
                } else {
                    Err(Party::Customer)
                }
            }
            _ => {
                if caller.role() == Some(Role::Lab) || caller.is_administrator() {
                    Ok(())
                } else {
                    Err(Party::Lab)
                }
            }
        };
        allowed.map_err(LabsError::NotYourAction)?;
        let now = crate::now();
        let dialect = self.store.dialect();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
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
                    return Err(LabsError::Invalid(Invalid::CheckInTooEarly));
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
                set_wait_state_of_booking(&mut w.tx, id, crate::WaitState::Booked).await?;
                s
            }
            BookingAction::DeclineHold => {
                set_wait_state_of_booking(&mut w.tx, id, crate::WaitState::Declined).await?;
                transition(b.state, BookingEvent::DeclineHold)?
            }
        };
        set_booking_state(&mut w.tx, dialect, id, next, fee).await?;
        w.record(
            Change::new(action.as_str(), "lab_booking", id)
                .before(serde_json::json!({"state": b.state.name()}))
                .after(serde_json::json!({"state": next.name(), "fee_fen": fee.map(|f| f.fen())})),
        );
        if !next.blocks_instrument() {
            if let Some(range) = b.range() {
                crate::waitlist::offer_freed(&mut w, dialect, &inst, range, &policy, now).await?;
            }
        }
        let out = booking_on(&mut w.tx, id).await?;
        self.store.commit(w).await?;
        Ok(out)
    }

    /// Invoice of a booking the caller may see: instrument time and accessories at the booked
    /// price, or the cancellation/no-show fee when it did not take place.
    pub async fn booking_invoice(&self, caller: &Caller, id: i64) -> LabsResult<InvoiceOf> {
        let b = self.booking(caller, id).await?;
        let inst = self.instrument(caller, b.instrument_id).await?;
        let invoice = match b.state {
            BookingState::Cancelled | BookingState::NoShow => yuepin_labs::fee_invoice(
                if b.state == BookingState::NoShow {
                    "爽约费 (no-show fee)"
                } else {
                    "取消费 (cancellation fee)"
                },
                b.fee,
            ),
            BookingState::Rejected | BookingState::Released => {
                yuepin_labs::fee_invoice("未产生费用 (no charge)", Yuan::ZERO)
            }
            _ => {
                let range = b.range().ok_or_else(|| corrupt("booking range"))?;
                let names: Vec<&str> = b.accessories.iter().map(String::as_str).collect();
                yuepin_labs::booking_invoice(&inst.instrument, &range, &names)
                    .map_err(|reason| LabsError::Rejected { part: None, reason })?
            }
        };
        Ok(InvoiceOf { id, invoice })
    }
}
