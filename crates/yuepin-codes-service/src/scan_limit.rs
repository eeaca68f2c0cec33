//! Per-client bounds on anonymous 粤品通 scans (issue 17 item 8): a client (its address behind
//! the configured trusted proxies, kept only as a keyed hash) gets [`SCANS_PER_MINUTE`] scans
//! a minute (a fixed one-minute window; more answer `ScanRateLimited` with the seconds to
//! wait), and its scans of one code count at most [`COUNTED_PER_CODE_DAY`] times a day
//! towards the code's scan counts, so one client's burst cannot raise a counterfeit signal
//! (`many_scans_day`, `many_cities_day`) on its own.
//!
//! Per replica and in memory, like the location claims: with `n` replicas behind a balancer a
//! client gets at most `n × SCANS_PER_MINUTE` scans a minute and `n × COUNTED_PER_CODE_DAY`
//! counted scans of a code a day; the bounds stay bounded, and nothing is shared between
//! replicas but the database's summed counts.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

/// Scans a client may make per minute.
pub const SCANS_PER_MINUTE: u32 = 60;
/// Scans of one code by one client counted per day.
pub const COUNTED_PER_CODE_DAY: u32 = 3;
/// Entries kept before the maps start afresh (a crude memory bound).
const LIMIT: usize = 200_000;

/// The windows and daily counts of clients.
#[derive(Default)]
pub(crate) struct Limiter {
    keys: std::hash::RandomState,
    windows: HashMap<u64, (Instant, u32)>,
    day: String,
    counted: HashMap<(i64, u64), u32>,
}

impl Limiter {
    /// The keyed hash of a client's address.
    pub(crate) fn key(&self, client: &str) -> u64 {
        self.keys.hash_one(client)
    }

    /// Admits one scan by `client` at `now`, or the whole seconds until it may scan again.
    pub(crate) fn admit(&mut self, client: u64, now: Instant) -> Result<(), u64> {
        let minute = Duration::from_secs(60);
        if self.windows.len() > LIMIT {
            self.windows
                .retain(|_, (start, _)| now.duration_since(*start) < minute);
        }
        let w = self.windows.entry(client).or_insert((now, 0));
        if now.duration_since(w.0) >= minute {
            *w = (now, 0);
        }
        if w.1 >= SCANS_PER_MINUTE {
            let wait = minute.saturating_sub(now.duration_since(w.0));
            return Err(wait.as_secs().max(1));
        }
        w.1 += 1;
        Ok(())
    }

    /// Whether this scan of `code_id` by `client` on `day` still counts.
    pub(crate) fn counts(&mut self, day: &str, code_id: i64, client: u64) -> bool {
        if self.day != day || self.counted.len() > LIMIT {
            self.day = day.to_string();
            self.counted.clear();
        }
        let n = self.counted.entry((code_id, client)).or_insert(0);
        *n += 1;
        *n <= COUNTED_PER_CODE_DAY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_minute_and_others_are_untouched() {
        let mut l = Limiter::default();
        let t = Instant::now();
        let (a, b) = (l.key("10.0.0.1"), l.key("10.0.0.2"));
        for _ in 0..SCANS_PER_MINUTE {
            assert!(l.admit(a, t).is_ok());
        }
        let wait = l.admit(a, t + Duration::from_secs(20)).unwrap_err();
        assert_eq!(wait, 40);
        assert!(l.admit(b, t).is_ok());
        assert!(l.admit(a, t + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn a_client_counts_a_code_a_few_times_a_day() {
        let mut l = Limiter::default();
        let a = l.key("a");
        let counted = (0..10).filter(|_| l.counts("2026-12-02", 7, a)).count();
        assert_eq!(counted as u32, COUNTED_PER_CODE_DAY);
        assert!(l.counts("2026-12-02", 8, a));
        assert!(l.counts("2026-12-03", 7, a));
    }
}
