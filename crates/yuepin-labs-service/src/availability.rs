//! Availability search (public): free slots for one test item across labs, combined slots
//! (one distinct instrument per item, all free together), and an instrument's busy time.
//! Only the candidate instruments and their bookings and blackouts inside the window are
//! loaded (through the item index), then the pure crate's index searches in memory.

use crate::records::{CombinedHit, InstrumentRecord, SlotHit};
use crate::store::{instrument_from_row, BLOCKING};
use crate::{LabsResult, LabsService, MAX_BOOKING_MINUTES, MAX_SEARCH_DAYS};
use sqlx::Row;
use std::collections::HashMap;
use yuepin_domain::Caller;
use yuepin_labs::{
    AvailabilityIndex, CombinedSlot, Instrument, InstrumentId, SlotQuery, TestItem, TimeRange,
};

impl LabsService {
    /// Free slots for `query.test_item`, with the lab's name and a price quote for each.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn search_slots(
        &self,
        caller: &Caller,
        query: &SlotQuery,
    ) -> LabsResult<Vec<SlotHit>> {
        let city = query
            .city
            .as_ref()
            .map(|c| c.city().code.clone())
            .unwrap_or_default();
        let (ws, we) = query.window.as_minutes();
        let we = we.min(ws + MAX_SEARCH_DAYS * 1440);
        let item = query.test_item.as_str();
        let mut conn = self.store.pool().acquire().await?;
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
        .collect::<yuepin_store::Result<_>>()?;
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
        for (id, list) in busy {
            for (s, e) in merge(list) {
                if let Some(r) = TimeRange::from_minutes(s, e) {
                    merged.push((InstrumentId(id as u64), r));
                }
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
        let lab_names = self.lab_names(caller).await?;
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
        caller: &Caller,
        items: &[TestItem],
        query: &SlotQuery,
    ) -> LabsResult<Vec<CombinedSlot>> {
        let mut instruments: Vec<Instrument> = Vec::new();
        let mut bookings: Vec<(InstrumentId, TimeRange)> = Vec::new();
        let city = query
            .city
            .as_ref()
            .map(|c| c.city().code.clone())
            .unwrap_or_default();
        let (ws, we) = query.window.as_minutes();
        for item in items {
            // The busy intervals are the complement the index needs: load them per instrument.
            let found = self
                .find_instruments_in(item.as_str(), &city, 10_000)
                .await?;
            for inst in found {
                for r in self.busy_of(caller, inst.id, ws, we).await? {
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

    /// [`Self::search_combined_slots`] with each instrument's name, as the search page lists them.
    pub async fn search_combined_named(
        &self,
        caller: &Caller,
        items: &[TestItem],
        query: &SlotQuery,
    ) -> LabsResult<Vec<CombinedHit>> {
        let mut out = Vec::new();
        for c in self.search_combined_slots(caller, items, query).await? {
            let mut instruments = Vec::new();
            for id in &c.instruments {
                let inst = self.instrument(caller, id.0 as i64).await?;
                instruments.push((inst.id, inst.instrument.name));
            }
            out.push(CombinedHit {
                range: c.range,
                instruments,
            });
        }
        Ok(out)
    }

    /// Busy time (active bookings and blackouts, merged) of one instrument inside the window
    /// `[from, to)` in minutes (public: it names no one).
    pub async fn busy_of(
        &self,
        _caller: &Caller,
        instrument_id: i64,
        from: i64,
        to: i64,
    ) -> LabsResult<Vec<TimeRange>> {
        let rows = sqlx::query(&format!(
            "SELECT start_min, end_min FROM lab_bookings WHERE instrument_id = $1 AND start_min < $2 AND end_min > $3 AND state IN {BLOCKING} \
             UNION ALL SELECT start_min, end_min FROM lab_blackouts WHERE instrument_id = $1 AND start_min < $2 AND end_min > $3"
        ))
        .bind(instrument_id)
        .bind(to)
        .bind(from)
        .fetch_all(self.store.pool())
        .await?;
        let list: Vec<(i64, i64)> = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(merge(list)
            .into_iter()
            .filter_map(|(s, e)| TimeRange::from_minutes(s, e))
            .collect())
    }
}

/// Sorts intervals and merges those that overlap or touch.
fn merge(mut list: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    list.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (s, e) in list {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}
