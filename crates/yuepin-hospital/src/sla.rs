//! SLA clocks in working time: a target of N working minutes runs only inside business hours
//! on working days of the [`Calendar`], and stops while the case waits for the enterprise
//! (a [`Pause`]). [`SlaClock::evaluate`] gives one target's state at an instant: on track,
//! due soon (the last quarter of the target), paused, breached, or met. Arithmetic is in whole
//! seconds; minutes are what is shown.

use crate::calendar::Calendar;
use crate::hours::BusinessHours;
use chrono::{Datelike, Days, NaiveDateTime, TimeDelta};
use serde::Serialize;

/// How far ahead a clock looks for working time before giving up (ten years: any target
/// meets a working day long before that; the bound only stops a degenerate calendar).
const HORIZON_DAYS: u64 = 3660;

/// An interval during which the clock stands still; `to` is `None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub from: NaiveDateTime,
    pub to: Option<NaiveDateTime>,
}

/// A target's state at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    OnTrack,
    /// At most a quarter of the target left.
    DueSoon,
    /// The clock is stopped (waiting for the enterprise) and the target not yet breached.
    Paused,
    Breached,
    Met,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::OnTrack => "on_track",
            TargetState::DueSoon => "due_soon",
            TargetState::Paused => "paused",
            TargetState::Breached => "breached",
            TargetState::Met => "met",
        }
    }
}

/// One target evaluated at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetStatus {
    pub state: TargetState,
    /// Working minutes the clock has run (pauses excluded), rounded down.
    pub elapsed_minutes: i64,
    pub target_minutes: i64,
    /// When the target falls due if nothing more pauses it; `None` while paused.
    pub due_at: Option<NaiveDateTime>,
    /// Part of the span lies in a year the calendar has not loaded: counted as the plain
    /// week, so the figures may be wrong around that year's holidays.
    pub calendar_missing: bool,
}

/// A clock over one calendar and one set of business hours.
#[derive(Debug, Clone, Copy)]
pub struct SlaClock<'a> {
    pub calendar: &'a Calendar,
    pub hours: &'a BusinessHours,
}

fn secs(d: TimeDelta) -> i64 {
    d.num_seconds()
}

/// The pauses as sorted, merged `[from, to)` intervals (`to = MAX` while open).
fn merged(pauses: &[Pause]) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let mut v: Vec<_> = pauses
        .iter()
        .map(|p| (p.from, p.to.unwrap_or(NaiveDateTime::MAX)))
        .filter(|(a, b)| a < b)
        .collect();
    v.sort();
    let mut out: Vec<(NaiveDateTime, NaiveDateTime)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// `[a, b)` minus the sorted, disjoint `cuts`.
fn subtract(
    a: NaiveDateTime,
    b: NaiveDateTime,
    cuts: &[(NaiveDateTime, NaiveDateTime)],
) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let mut out = Vec::new();
    let mut cur = a;
    for &(x, y) in cuts {
        if y <= cur || x >= b {
            continue;
        }
        if x > cur {
            out.push((cur, x));
        }
        cur = cur.max(y);
        if cur >= b {
            break;
        }
    }
    if cur < b {
        out.push((cur, b));
    }
    out
}

impl<'a> SlaClock<'a> {
    pub fn new(calendar: &'a Calendar, hours: &'a BusinessHours) -> Self {
        Self { calendar, hours }
    }

    /// Business-hour intervals on working days from `from` on, in order.
    fn working(
        &self,
        from: NaiveDateTime,
    ) -> impl Iterator<Item = (NaiveDateTime, NaiveDateTime)> + 'a {
        let (calendar, hours) = (self.calendar, self.hours);
        let first = from.date();
        (0..HORIZON_DAYS)
            .filter_map(move |i| first.checked_add_days(Days::new(i)))
            .filter(move |d| calendar.is_working_day(*d))
            .flat_map(move |d| {
                hours
                    .windows()
                    .iter()
                    .map(move |(a, b)| (d.and_time(*a), d.and_time(*b)))
            })
            .filter_map(move |(a, b)| {
                let a = a.max(from);
                (a < b).then_some((a, b))
            })
    }

    /// Intervals during which the clock runs: working time minus the pauses.
    fn running(
        &self,
        from: NaiveDateTime,
        pauses: &[Pause],
    ) -> impl Iterator<Item = (NaiveDateTime, NaiveDateTime)> + 'a {
        let cuts = merged(pauses);
        self.working(from)
            .flat_map(move |(a, b)| subtract(a, b, &cuts))
    }

    /// Working seconds the clock runs in `[from, to)`.
    pub fn elapsed_seconds(&self, from: NaiveDateTime, to: NaiveDateTime, pauses: &[Pause]) -> i64 {
        if to <= from {
            return 0;
        }
        self.running(from, pauses)
            .take_while(|(a, _)| *a < to)
            .map(|(a, b)| secs(b.min(to) - a))
            .sum()
    }

    /// The instant at which `minutes` working minutes have run from `from`, given the pauses;
    /// `None` if an open pause stops the clock first.
    pub fn due(
        &self,
        from: NaiveDateTime,
        minutes: i64,
        pauses: &[Pause],
    ) -> Option<NaiveDateTime> {
        let mut left = minutes.max(0) * 60;
        if left == 0 {
            return Some(from);
        }
        let open_from = pauses
            .iter()
            .filter(|p| p.to.is_none())
            .map(|p| p.from)
            .min();
        for (a, b) in self.running(from, pauses) {
            if open_from.is_some_and(|o| a >= o) {
                return None;
            }
            let len = secs(b - a);
            if len >= left {
                return Some(a + TimeDelta::seconds(left));
            }
            left -= len;
        }
        None
    }

    /// One target at `now`: started at `start`, `target_minutes` long, done at `done_at` (the
    /// first response or the resolution) if it has happened.
    pub fn evaluate(
        &self,
        start: NaiveDateTime,
        target_minutes: i64,
        done_at: Option<NaiveDateTime>,
        pauses: &[Pause],
        now: NaiveDateTime,
    ) -> TargetStatus {
        let end = done_at.unwrap_or(now).max(start);
        // A pause still open is open until the end of the span looked at.
        let elapsed = self.elapsed_seconds(start, end, pauses);
        let target = target_minutes.max(0) * 60;
        let due_at = self.due(start, target_minutes, pauses);
        let paused_now = pauses
            .iter()
            .any(|p| p.from <= now && p.to.is_none_or(|t| t > now));
        let state = if done_at.is_some() {
            if elapsed <= target {
                TargetState::Met
            } else {
                TargetState::Breached
            }
        } else if elapsed >= target {
            TargetState::Breached
        } else if paused_now {
            TargetState::Paused
        } else if (target - elapsed) * 4 <= target {
            TargetState::DueSoon
        } else {
            TargetState::OnTrack
        };
        let last = due_at.map_or(end, |d| d.max(end));
        let calendar_missing = (start.year()..=last.year()).any(|y| !self.calendar.covers(y));
        TargetStatus {
            state,
            elapsed_minutes: elapsed / 60,
            target_minutes,
            due_at: if done_at.is_none() && paused_now {
                None
            } else {
                due_at
            },
            calendar_missing,
        }
    }
}

#[cfg(test)]
#[path = "sla_tests.rs"]
mod tests;
