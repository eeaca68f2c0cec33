//! Booking rules for time-share instrument rental as pure functions: booking window, grid,
//! duration limits, opening hours, blackouts, conflicts, per-enterprise quotas, no-show
//! blacklisting, operator qualification, cancellation fees, weekly recurrence and combined
//! (all-or-nothing) bookings. Modelled on LibreBooking's rules and the booking rules of China's
//! instrument-sharing platforms; every rejection is a bilingual `BookingRejection`.

use crate::catalogue::{HeldQualification, Instrument, InstrumentId};
use crate::error::BookingRejection;
use crate::pricing::{quote, round_div, Quote};
use crate::time::{days, hours, minutes, shift, TimeRange};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};
use yuepin_domain::{Uscc, Yuan};

/// A platform's or lab's booking rules. `Default` gives the values documented in
/// `docs/yuepin-labs.md` (1 h to 60 days ahead, 30-minute grid, 30 min–8 h, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingPolicy {
    pub min_notice_minutes: i64,
    pub max_advance_days: i64,
    pub granularity_minutes: u32,
    pub min_duration_minutes: u32,
    pub max_duration_minutes: u32,
    /// Per enterprise, per ISO week (Monday 00:00 to Monday 00:00).
    pub weekly_quota_minutes: Option<i64>,
    /// Per enterprise, per calendar month.
    pub monthly_quota_minutes: Option<i64>,
    pub free_cancellation_hours: i64,
    pub late_cancellation_fee_percent: u8,
    pub no_show_fee_percent: u8,
    pub no_show_grace_minutes: i64,
    pub blacklist_after_no_shows: usize,
    pub blacklist_window_days: i64,
    pub blacklist_days: i64,
    pub waitlist_hold_minutes: i64,
    /// Whether the owner must approve bookings (requested → pending_approval).
    pub requires_approval: bool,
    pub max_recurrences: u32,
}

impl Default for BookingPolicy {
    fn default() -> Self {
        Self {
            min_notice_minutes: 60,
            max_advance_days: 60,
            granularity_minutes: 30,
            min_duration_minutes: 30,
            max_duration_minutes: 8 * 60,
            weekly_quota_minutes: Some(20 * 60),
            monthly_quota_minutes: Some(60 * 60),
            free_cancellation_hours: 24,
            late_cancellation_fee_percent: 50,
            no_show_fee_percent: 100,
            no_show_grace_minutes: 15,
            blacklist_after_no_shows: 3,
            blacklist_window_days: 90,
            blacklist_days: 90,
            waitlist_hold_minutes: 30,
            requires_approval: false,
            max_recurrences: 52,
        }
    }
}

/// A period in which an instrument cannot be booked (maintenance, calibration, holidays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Blackout {
    pub range: TimeRange,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingRequest {
    pub instrument: InstrumentId,
    pub enterprise: Uscc,
    pub range: TimeRange,
    /// The enterprise's own staff will operate the instrument (otherwise the lab's operator).
    pub self_operated: bool,
}

/// What the store knows that the rules need; all slices may be in any order.
#[derive(Debug, Clone, Copy)]
pub struct BookingContext<'a> {
    pub instrument: &'a Instrument,
    pub blackouts: &'a [Blackout],
    /// Active (not cancelled/rejected/released) bookings on this instrument.
    pub instrument_bookings: &'a [TimeRange],
    /// The enterprise's active bookings counted against its quota (scope chosen by the caller:
    /// this instrument, this lab, or the whole platform).
    pub enterprise_bookings: &'a [TimeRange],
    /// When the enterprise's recorded no-shows happened.
    pub enterprise_no_shows: &'a [NaiveDateTime],
    /// Qualifications of the person who will operate the instrument when self-operated.
    pub operator_qualifications: &'a [HeldQualification],
}

fn minute_of_day(t: NaiveDateTime) -> u32 {
    t.hour() * 60 + t.minute()
}

fn week_start(t: NaiveDateTime) -> NaiveDateTime {
    let back = Duration::days(i64::from(t.weekday().num_days_from_monday()));
    shift(t.date().and_time(NaiveTime::MIN), -back)
}

fn month_start(t: NaiveDateTime) -> NaiveDateTime {
    t.date()
        .with_day(1)
        .unwrap_or(t.date())
        .and_time(NaiveTime::MIN)
}

fn next_month(start: NaiveDateTime) -> NaiveDateTime {
    let d = start.date();
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .map(|n| n.and_time(NaiveTime::MIN))
        .unwrap_or(NaiveDateTime::MAX)
}

/// Periods (weeks or months) the request touches, each as `[start, end)`.
fn periods(
    range: &TimeRange,
    first: fn(NaiveDateTime) -> NaiveDateTime,
    next: impl Fn(NaiveDateTime) -> NaiveDateTime,
) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let mut out = Vec::new();
    let mut start = first(range.start());
    while start < range.end() {
        let end = next(start);
        out.push((start, end));
        if end <= start {
            break;
        }
        start = end;
    }
    out
}

fn used_in(bookings: &[TimeRange], start: NaiveDateTime, end: NaiveDateTime) -> i64 {
    match TimeRange::new(start, end) {
        Ok(period) => bookings.iter().map(|b| b.overlap_minutes(&period)).sum(),
        Err(_) => 0,
    }
}

/// Until when the enterprise is suspended: `blacklist_after_no_shows` no-shows within
/// `blacklist_window_days` suspend it for `blacklist_days` from the last of them.
pub fn blacklisted_until(
    policy: &BookingPolicy,
    no_shows: &[NaiveDateTime],
    now: NaiveDateTime,
) -> Option<NaiveDateTime> {
    let n = policy.blacklist_after_no_shows;
    if n == 0 || no_shows.len() < n {
        return None;
    }
    let mut sorted = no_shows.to_vec();
    sorted.sort();
    sorted
        .windows(n)
        .filter(|w| w[n - 1] - w[0] <= days(policy.blacklist_window_days))
        .map(|w| shift(w[n - 1], days(policy.blacklist_days)))
        .max()
        .filter(|until| *until > now)
}

/// Self-operation needs the instrument's qualification, valid on the booking's first day.
/// The rejection suggests testing on behalf (代检代测) instead.
pub fn check_self_operation(
    instrument: &Instrument,
    held: &[HeldQualification],
    on: NaiveDate,
) -> Result<(), BookingRejection> {
    match &instrument.operator_qualification {
        None => Ok(()),
        Some(required) => {
            if held
                .iter()
                .any(|h| &h.qualification == required && h.valid_until >= on)
            {
                Ok(())
            } else {
                Err(BookingRejection::OperatorNotQualified {
                    required: required.as_str().to_string(),
                })
            }
        }
    }
}

/// Checks one booking request against every rule and prices it.
pub fn check_booking(
    policy: &BookingPolicy,
    request: &BookingRequest,
    ctx: &BookingContext<'_>,
    now: NaiveDateTime,
) -> Result<Quote, BookingRejection> {
    let range = &request.range;
    if let Some(until) = blacklisted_until(policy, ctx.enterprise_no_shows, now) {
        return Err(BookingRejection::Blacklisted { until });
    }
    if range.start() < now {
        return Err(BookingRejection::InPast {
            start: range.start(),
        });
    }
    let earliest = shift(now, minutes(policy.min_notice_minutes));
    if range.start() < earliest {
        return Err(BookingRejection::TooSoon { earliest });
    }
    let latest = shift(now, days(policy.max_advance_days));
    if range.start() > latest {
        return Err(BookingRejection::TooFarAhead { latest });
    }
    let g = policy.granularity_minutes.max(1);
    let minutes = range.minutes();
    if minute_of_day(range.start()) % g != 0 || minutes % i64::from(g) != 0 {
        return Err(BookingRejection::OffGrid {
            granularity_minutes: g,
        });
    }
    if minutes < i64::from(policy.min_duration_minutes) {
        return Err(BookingRejection::TooShort {
            min_minutes: policy.min_duration_minutes,
        });
    }
    if minutes > i64::from(policy.max_duration_minutes) {
        return Err(BookingRejection::TooLong {
            max_minutes: policy.max_duration_minutes,
        });
    }
    if !ctx.instrument.opening_hours.covers(range) {
        return Err(BookingRejection::OutsideOpeningHours);
    }
    if let Some(b) = ctx.blackouts.iter().find(|b| b.range.overlaps(range)) {
        return Err(BookingRejection::Blackout {
            reason: b.reason.clone(),
            start: b.range.start(),
            end: b.range.end(),
        });
    }
    if let Some(b) = ctx
        .instrument_bookings
        .iter()
        .filter(|b| b.overlaps(range))
        .min()
    {
        return Err(BookingRejection::Conflict {
            start: b.start(),
            end: b.end(),
        });
    }
    if let Some(quota) = policy.weekly_quota_minutes {
        let next_week = |s: NaiveDateTime| shift(s, Duration::days(7));
        for (start, end) in periods(range, week_start, next_week) {
            let used = used_in(ctx.enterprise_bookings, start, end);
            let requested = used_in(std::slice::from_ref(range), start, end);
            if used + requested > quota {
                return Err(BookingRejection::WeeklyQuotaExceeded {
                    week_start: start,
                    used_minutes: used,
                    requested_minutes: requested,
                    quota_minutes: quota,
                });
            }
        }
    }
    if let Some(quota) = policy.monthly_quota_minutes {
        for (start, end) in periods(range, month_start, next_month) {
            let used = used_in(ctx.enterprise_bookings, start, end);
            let requested = used_in(std::slice::from_ref(range), start, end);
            if used + requested > quota {
                return Err(BookingRejection::MonthlyQuotaExceeded {
                    month_start: start,
                    used_minutes: used,
                    requested_minutes: requested,
                    quota_minutes: quota,
                });
            }
        }
    }
    if request.self_operated {
        check_self_operation(
            ctx.instrument,
            ctx.operator_qualifications,
            range.start().date(),
        )?;
    }
    quote(&ctx.instrument.tariff, range)
}

/// Weekly recurrence: `occurrences` copies of `first`, `every_weeks` apart.
pub fn expand_weekly(
    policy: &BookingPolicy,
    first: &TimeRange,
    every_weeks: u32,
    occurrences: u32,
) -> Result<Vec<TimeRange>, BookingRejection> {
    if occurrences == 0 || occurrences > policy.max_recurrences || every_weeks == 0 {
        return Err(BookingRejection::BadRecurrence {
            max: policy.max_recurrences,
        });
    }
    (0..occurrences)
        .map(|i| {
            let shift = Duration::weeks(i64::from(i) * i64::from(every_weeks));
            first
                .start()
                .checked_add_signed(shift)
                .and_then(|s| TimeRange::starting_at(s, first.minutes()).ok())
                .ok_or(BookingRejection::BadRecurrence {
                    max: policy.max_recurrences,
                })
        })
        .collect()
}

/// Checks each occurrence of a recurring booking in order; accepted occurrences count against
/// the quota and block the instrument for the later ones. The caller decides whether to book
/// the accepted ones only or nothing unless all pass (LibreBooking offers both).
pub fn check_recurring(
    policy: &BookingPolicy,
    request: &BookingRequest,
    occurrences: &[TimeRange],
    ctx: &BookingContext<'_>,
    now: NaiveDateTime,
) -> Vec<(TimeRange, Result<Quote, BookingRejection>)> {
    let mut instrument_bookings = ctx.instrument_bookings.to_vec();
    let mut enterprise_bookings = ctx.enterprise_bookings.to_vec();
    occurrences
        .iter()
        .map(|range| {
            let one = BookingRequest {
                range: *range,
                ..request.clone()
            };
            let local = BookingContext {
                instrument_bookings: &instrument_bookings,
                enterprise_bookings: &enterprise_bookings,
                ..*ctx
            };
            let result = check_booking(policy, &one, &local, now);
            if result.is_ok() {
                instrument_bookings.push(*range);
                enterprise_bookings.push(*range);
            }
            (*range, result)
        })
        .collect()
}

/// Which part of a combined booking failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("组合预约中仪器 {instrument} 不可预约，整单未预约 (combined booking refused as a whole because instrument {instrument} failed): {reason}")]
pub struct CombinedRejection {
    pub instrument: InstrumentId,
    pub reason: BookingRejection,
}

/// All-or-nothing booking of several instruments (e.g. a sample-prep station plus an ICP-MS).
/// Parts are checked in order with each accepted part counted against the enterprise's quota
/// for the next; the first failure rejects the whole set.
pub fn check_combined(
    policy: &BookingPolicy,
    parts: &[(BookingRequest, BookingContext<'_>)],
    now: NaiveDateTime,
) -> Result<Vec<Quote>, CombinedRejection> {
    let mut seen = std::collections::HashSet::new();
    let mut accepted: Vec<TimeRange> = Vec::new();
    let mut quotes = Vec::with_capacity(parts.len());
    for (request, ctx) in parts {
        if !seen.insert(request.instrument) {
            return Err(CombinedRejection {
                instrument: request.instrument,
                reason: BookingRejection::DuplicateInstrument,
            });
        }
        let mut enterprise = ctx.enterprise_bookings.to_vec();
        enterprise.extend_from_slice(&accepted);
        let local = BookingContext {
            enterprise_bookings: &enterprise,
            ..*ctx
        };
        let q =
            check_booking(policy, request, &local, now).map_err(|reason| CombinedRejection {
                instrument: request.instrument,
                reason,
            })?;
        accepted.push(request.range);
        quotes.push(q);
    }
    Ok(quotes)
}

/// Fee for cancelling at `now` a booking priced at `total`: free until
/// `free_cancellation_hours` before the start, then `late_cancellation_fee_percent`, and from
/// the start on `no_show_fee_percent`.
pub fn cancellation_fee(
    policy: &BookingPolicy,
    total: Yuan,
    start: NaiveDateTime,
    now: NaiveDateTime,
) -> Yuan {
    let percent = if now < shift(start, -hours(policy.free_cancellation_hours)) {
        0
    } else if now < start {
        policy.late_cancellation_fee_percent
    } else {
        policy.no_show_fee_percent
    };
    percent_of(total, percent)
}

pub(crate) fn percent_of(total: Yuan, percent: u8) -> Yuan {
    let fen = round_div(i128::from(total.fen()) * i128::from(percent), 100).unwrap_or(0);
    Yuan::from_fen(i64::try_from(fen).unwrap_or(0))
}

/// True once the grace period after the start has passed without a check-in: the booking
/// becomes a no-show and the rest of the slot is released to the waitlist.
pub fn no_show_due(policy: &BookingPolicy, start: NaiveDateTime, now: NaiveDateTime) -> bool {
    now >= shift(start, minutes(policy.no_show_grace_minutes))
}
