//! In-memory availability index: per instrument a sorted vector of busy intervals (integer
//! minutes), plus lookup tables by test item. Answers "where can I run test X in city Y between
//! these dates for N hours?" across instruments, finds combined sets (one instrument per test
//! item, all free at the same time), and checks new bookings for conflicts by binary search.
//!
//! The store rebuilds it at start-up from active bookings and keeps it in step on every
//! booking change; the database constraint (see docs) remains the final guard.

use crate::catalogue::{Instrument, InstrumentId, TestItem};
use crate::time::{TimeRange, WeeklySchedule};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use yuepin_domain::RegionCode;

/// Why a booking could not be entered into the index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingConflict {
    #[error("仪器 {instrument} 在 {existing} 已被预约 (instrument {instrument} is already booked for {existing})")]
    Overlaps {
        instrument: InstrumentId,
        existing: TimeRange,
    },
    #[error("未知仪器 {0} (instrument {0} is not in the index)")]
    UnknownInstrument(InstrumentId),
}

#[derive(Debug, Clone)]
struct Entry {
    id: InstrumentId,
    /// Prefecture-level city code (e.g. 440300 for 深圳).
    city: String,
    opening: WeeklySchedule,
    /// Sorted by start; pairwise disjoint, so also sorted by end.
    busy: Vec<(i64, i64)>,
}

impl Entry {
    fn overlapping(&self, (start, end): (i64, i64)) -> Option<(i64, i64)> {
        let idx = self.busy.partition_point(|&(s, _)| s < end);
        idx.checked_sub(1)
            .map(|i| self.busy[i])
            .filter(|&(_, e)| e > start)
    }

    /// Free gaps of at least `duration` minutes inside open time within `window`, each as
    /// (gap start, gap end, first aligned slot start).
    fn free_gaps(
        &self,
        window: &TimeRange,
        duration: i64,
        granularity: i64,
        out: &mut Vec<(i64, i64, i64)>,
    ) {
        for open in self.opening.windows_within(window) {
            let (a, b) = open.as_minutes();
            let mut cursor = a;
            let first = self.busy.partition_point(|&(_, e)| e <= a);
            for &(s, e) in &self.busy[first..] {
                if s >= b {
                    break;
                }
                push_gap(cursor, s.min(b), duration, granularity, out);
                cursor = cursor.max(e);
            }
            push_gap(cursor, b, duration, granularity, out);
        }
    }
}

fn align_up(m: i64, granularity: i64) -> i64 {
    m.div_euclid(granularity) * granularity
        + if m.rem_euclid(granularity) == 0 {
            0
        } else {
            granularity
        }
}

fn push_gap(start: i64, end: i64, duration: i64, granularity: i64, out: &mut Vec<(i64, i64, i64)>) {
    let aligned = align_up(start, granularity);
    if aligned + duration <= end {
        out.push((start, end, aligned));
    }
}

/// A search for free time on instruments that perform `test_item`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotQuery {
    pub test_item: TestItem,
    /// Only instruments in this prefecture-level city (a district code means its city).
    pub city: Option<RegionCode>,
    pub window: TimeRange,
    pub duration_minutes: u32,
    /// Slot starts are aligned to this many minutes after midnight (e.g. 30).
    pub granularity_minutes: u32,
    pub limit: usize,
}

/// A free stretch on one instrument, and the earliest bookable slot of the requested length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreeSlot {
    pub instrument: InstrumentId,
    pub free: TimeRange,
    pub earliest: TimeRange,
}

/// A set of distinct instruments, one per requested test item, all free for `range`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CombinedSlot {
    pub range: TimeRange,
    /// In the order of the requested test items.
    pub instruments: Vec<InstrumentId>,
}

#[derive(Debug, Clone, Default)]
pub struct AvailabilityIndex {
    entries: Vec<Entry>,
    position: HashMap<InstrumentId, usize>,
    by_item: HashMap<TestItem, Vec<usize>>,
}

/// Upper bound on start positions tried per candidate interval in the combined search when
/// the only obstacle is two items competing for the same instrument.
const COMBINED_STEPS_PER_INTERVAL: usize = 48;

impl AvailabilityIndex {
    /// Indexes instruments (later duplicates of an id replace earlier ones) with no bookings.
    pub fn new(instruments: &[Instrument]) -> Self {
        let mut index = Self::default();
        for inst in instruments {
            let entry = Entry {
                id: inst.id,
                city: inst.city.city().code.clone(),
                opening: inst.opening_hours.clone(),
                busy: Vec::new(),
            };
            let slot = match index.position.get(&inst.id) {
                Some(&i) => {
                    index.entries[i] = entry;
                    for list in index.by_item.values_mut() {
                        list.retain(|&j| j != i);
                    }
                    i
                }
                None => {
                    index.entries.push(entry);
                    index.entries.len() - 1
                }
            };
            index.position.insert(inst.id, slot);
            for m in &inst.test_methods {
                let list = index.by_item.entry(m.item.clone()).or_default();
                if !list.contains(&slot) {
                    list.push(slot);
                }
            }
        }
        index
    }

    /// Indexes instruments and their existing bookings in bulk (sort once rather than insert
    /// one by one). Bookings that overlap an earlier one or name an unknown instrument are
    /// skipped and returned.
    pub fn with_bookings(
        instruments: &[Instrument],
        bookings: impl IntoIterator<Item = (InstrumentId, TimeRange)>,
    ) -> (Self, Vec<BookingConflict>) {
        let mut index = Self::new(instruments);
        let mut rejected = Vec::new();
        for (id, range) in bookings {
            match index.position.get(&id) {
                Some(&i) => index.entries[i].busy.push(range.as_minutes()),
                None => rejected.push(BookingConflict::UnknownInstrument(id)),
            }
        }
        for entry in &mut index.entries {
            entry.busy.sort_unstable();
            let mut kept: Vec<(i64, i64)> = Vec::with_capacity(entry.busy.len());
            for &(s, e) in &entry.busy {
                match kept.last() {
                    Some(&(ps, pe)) if s < pe => {
                        if let Some(existing) = TimeRange::from_minutes(ps, pe) {
                            rejected.push(BookingConflict::Overlaps {
                                instrument: entry.id,
                                existing,
                            });
                        }
                    }
                    _ => kept.push((s, e)),
                }
            }
            entry.busy = kept;
        }
        (index, rejected)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, id: InstrumentId) -> Result<&Entry, BookingConflict> {
        self.position
            .get(&id)
            .map(|&i| &self.entries[i])
            .ok_or(BookingConflict::UnknownInstrument(id))
    }

    /// The existing booking `range` would overlap, if any.
    pub fn conflict(
        &self,
        id: InstrumentId,
        range: &TimeRange,
    ) -> Result<Option<TimeRange>, BookingConflict> {
        Ok(self
            .entry(id)?
            .overlapping(range.as_minutes())
            .and_then(|(s, e)| TimeRange::from_minutes(s, e)))
    }

    /// Records a booking unless it overlaps an existing one (O(log n) check, O(n) insert).
    pub fn try_book(&mut self, id: InstrumentId, range: &TimeRange) -> Result<(), BookingConflict> {
        let &i = self
            .position
            .get(&id)
            .ok_or(BookingConflict::UnknownInstrument(id))?;
        let entry = &mut self.entries[i];
        let interval = range.as_minutes();
        if let Some((s, e)) = entry.overlapping(interval) {
            return Err(BookingConflict::Overlaps {
                instrument: id,
                existing: TimeRange::from_minutes(s, e).unwrap_or(*range),
            });
        }
        let at = entry.busy.partition_point(|&(s, _)| s < interval.0);
        entry.busy.insert(at, interval);
        Ok(())
    }

    /// Removes a booking (cancelled, rejected, no-show released). Returns whether it was there.
    pub fn release(&mut self, id: InstrumentId, range: &TimeRange) -> bool {
        let Some(&i) = self.position.get(&id) else {
            return false;
        };
        let busy = &mut self.entries[i].busy;
        let interval = range.as_minutes();
        match busy.binary_search(&interval) {
            Ok(at) => {
                busy.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    fn candidates<'a>(
        &'a self,
        item: &TestItem,
        city: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.by_item
            .get(item)
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
            .filter(move |e| city.is_none_or(|c| e.city == c))
    }

    /// Free slots for one test item, earliest first (ties by instrument id), at most `limit`.
    pub fn search(&self, query: &SlotQuery) -> Vec<FreeSlot> {
        let duration = i64::from(query.duration_minutes);
        if duration == 0 || query.limit == 0 {
            return Vec::new();
        }
        let granularity = i64::from(query.granularity_minutes.max(1));
        let city = query.city.as_ref().map(|c| c.city().code.as_str());
        let mut found: Vec<(i64, InstrumentId, i64, i64)> = Vec::new();
        let mut gaps = Vec::new();
        for entry in self.candidates(&query.test_item, city) {
            gaps.clear();
            entry.free_gaps(&query.window, duration, granularity, &mut gaps);
            found.extend(gaps.iter().map(|&(s, e, a)| (a, entry.id, s, e)));
        }
        let take = query.limit.min(found.len());
        if take < found.len() {
            found.select_nth_unstable(take);
            found.truncate(take);
        }
        found.sort_unstable();
        found
            .into_iter()
            .filter_map(|(aligned, instrument, s, e)| {
                Some(FreeSlot {
                    instrument,
                    free: TimeRange::from_minutes(s, e)?,
                    earliest: TimeRange::from_minutes(aligned, aligned + duration)?,
                })
            })
            .collect()
    }

    /// Combined bookings: for each start, one distinct instrument per item, all free together.
    /// Returns at most `limit` slots, earliest first, at most one per stretch of common time.
    pub fn search_combined(
        &self,
        items: &[TestItem],
        city: Option<&RegionCode>,
        window: &TimeRange,
        duration_minutes: u32,
        granularity_minutes: u32,
        limit: usize,
    ) -> Vec<CombinedSlot> {
        let duration = i64::from(duration_minutes);
        if items.is_empty() || duration == 0 || limit == 0 {
            return Vec::new();
        }
        let granularity = i64::from(granularity_minutes.max(1));
        let city = city.map(|c| c.city().code.as_str());
        // Per item: candidate entries and the union of feasible start intervals [lo, hi].
        let mut per_item: Vec<Vec<&Entry>> = Vec::with_capacity(items.len());
        let mut common: Option<Vec<(i64, i64)>> = None;
        let mut gaps = Vec::new();
        for item in items {
            let entries: Vec<&Entry> = self.candidates(item, city).collect();
            let mut starts: Vec<(i64, i64)> = Vec::new();
            for e in &entries {
                gaps.clear();
                e.free_gaps(window, duration, granularity, &mut gaps);
                starts.extend(
                    gaps.iter()
                        .map(|&(_, end, aligned)| (aligned, end - duration)),
                );
            }
            let merged = merge(starts);
            common = Some(match common {
                None => merged,
                Some(prev) => intersect(&prev, &merged),
            });
            per_item.push(entries);
        }
        let mut out = Vec::new();
        for (lo, hi) in common.unwrap_or_default() {
            let mut t = align_up(lo, granularity);
            let mut steps = 0;
            while t <= hi && steps < COMBINED_STEPS_PER_INTERVAL {
                let mut chosen = Vec::with_capacity(items.len());
                if assign(&per_item, (t, t + duration), &mut chosen) {
                    if let Some(range) = TimeRange::from_minutes(t, t + duration) {
                        out.push(CombinedSlot {
                            range,
                            instruments: chosen,
                        });
                    }
                    break;
                }
                t += granularity;
                steps += 1;
            }
            if out.len() >= limit {
                break;
            }
        }
        out
    }
}

/// Backtracking choice of distinct free instruments, one per item.
fn assign(per_item: &[Vec<&Entry>], interval: (i64, i64), chosen: &mut Vec<InstrumentId>) -> bool {
    let Some((first, rest)) = per_item.split_first() else {
        return true;
    };
    for e in first {
        if chosen.contains(&e.id) || e.overlapping(interval).is_some() {
            continue;
        }
        chosen.push(e.id);
        if assign(rest, interval, chosen) {
            return true;
        }
        chosen.pop();
    }
    false
}

/// Sorts and merges closed integer intervals that overlap or touch.
fn merge(mut v: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(v.len());
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if lo <= last.1 + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Intersection of two sorted lists of disjoint closed intervals.
fn intersect(a: &[(i64, i64)], b: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}
