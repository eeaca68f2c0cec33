//! Per-instrument waitlist with timed holds: when a booked slot is freed (cancellation or
//! no-show), the first enterprise in line whose wanted time fits inside it gets a hold for
//! `hold_minutes`; if it does not accept in time (or declines) it loses its place and the slot
//! is offered to the next in line.

use crate::catalogue::InstrumentId;
use crate::time::{minutes, shift, TimeRange};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use yuepin_domain::Uscc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitlistError {
    #[error("该企业已在候补队列中 (enterprise {0} is already waiting for this time)")]
    AlreadyWaiting(String),
    #[error("候补时间已开始 (the wanted time {0} has already started)")]
    WantedInPast(TimeRange),
    #[error("该企业没有保留中的时段 (enterprise {0} holds no slot)")]
    NoHold(String),
    #[error("保留已于 {0} 过期 (the hold expired at {0})")]
    HoldExpired(NaiveDateTime),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitEntry {
    pub enterprise: Uscc,
    pub wanted: TimeRange,
    pub joined_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hold {
    pub enterprise: Uscc,
    /// The time offered (the enterprise's wanted range).
    pub range: TimeRange,
    /// The freed stretch the offer came from, re-offered if this hold lapses.
    pub freed: TimeRange,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Waitlist {
    pub instrument: InstrumentId,
    queue: Vec<WaitEntry>,
    holds: Vec<Hold>,
}

impl Waitlist {
    pub fn new(instrument: InstrumentId) -> Self {
        Self {
            instrument,
            queue: Vec::new(),
            holds: Vec::new(),
        }
    }

    pub fn queue(&self) -> &[WaitEntry] {
        &self.queue
    }
    pub fn holds(&self) -> &[Hold] {
        &self.holds
    }

    /// Joins the end of the queue; returns the 1-based position.
    pub fn join(
        &mut self,
        enterprise: Uscc,
        wanted: TimeRange,
        now: NaiveDateTime,
    ) -> Result<usize, WaitlistError> {
        if wanted.start() <= now {
            return Err(WaitlistError::WantedInPast(wanted));
        }
        if self
            .queue
            .iter()
            .any(|e| e.enterprise == enterprise && e.wanted.overlaps(&wanted))
        {
            return Err(WaitlistError::AlreadyWaiting(
                enterprise.as_str().to_string(),
            ));
        }
        self.queue.push(WaitEntry {
            enterprise,
            wanted,
            joined_at: now,
        });
        Ok(self.queue.len())
    }

    pub fn leave(&mut self, enterprise: &Uscc) -> bool {
        let before = self.queue.len();
        self.queue.retain(|e| &e.enterprise != enterprise);
        before != self.queue.len()
    }

    /// A stretch of time became free: hold it for the first fitting entry (removed from the
    /// queue). Entries whose wanted time has started are dropped on the way.
    pub fn offer(
        &mut self,
        freed: TimeRange,
        hold_minutes: i64,
        now: NaiveDateTime,
    ) -> Option<Hold> {
        self.queue.retain(|e| e.wanted.start() > now);
        let taken: Vec<TimeRange> = self.holds.iter().map(|h| h.range).collect();
        let pos = self.queue.iter().position(|e| {
            freed.contains(&e.wanted) && !taken.iter().any(|t| t.overlaps(&e.wanted))
        })?;
        let entry = self.queue.remove(pos);
        let expires_at = shift(now, minutes(hold_minutes.max(0))).min(entry.wanted.start());
        let hold = Hold {
            enterprise: entry.enterprise,
            range: entry.wanted,
            freed,
            expires_at,
        };
        self.holds.push(hold.clone());
        Some(hold)
    }

    /// The holder accepts: the hold ends and the caller books `range` (state held → requested).
    pub fn accept(
        &mut self,
        enterprise: &Uscc,
        now: NaiveDateTime,
    ) -> Result<TimeRange, WaitlistError> {
        let pos = self
            .holds
            .iter()
            .position(|h| &h.enterprise == enterprise)
            .ok_or_else(|| WaitlistError::NoHold(enterprise.as_str().to_string()))?;
        if now >= self.holds[pos].expires_at {
            return Err(WaitlistError::HoldExpired(self.holds[pos].expires_at));
        }
        Ok(self.holds.remove(pos).range)
    }

    /// The holder declines: the slot goes to the next in line.
    pub fn decline(
        &mut self,
        enterprise: &Uscc,
        hold_minutes: i64,
        now: NaiveDateTime,
    ) -> Option<Hold> {
        let pos = self
            .holds
            .iter()
            .position(|h| &h.enterprise == enterprise)?;
        let lapsed = self.holds.remove(pos);
        self.offer(lapsed.freed, hold_minutes, now)
    }

    /// Lapses every hold expired at `now` and re-offers each freed stretch; returns new holds.
    pub fn expire(&mut self, hold_minutes: i64, now: NaiveDateTime) -> Vec<Hold> {
        let (lapsed, live): (Vec<Hold>, Vec<Hold>) =
            self.holds.drain(..).partition(|h| now >= h.expires_at);
        self.holds = live;
        lapsed
            .into_iter()
            .filter_map(|h| self.offer(h.freed, hold_minutes, now))
            .collect()
    }
}
