//! Hourly instrument tariffs with peak and off-peak windows, and exact price quotes for a time
//! range. Amounts are computed in whole fen; each part is rounded half-up once, and the total is
//! the sum of the rounded parts so that invoice lines always add up.

use crate::error::BookingRejection;
use crate::time::{TimeRange, WeeklySchedule};
use serde::{Deserialize, Serialize};
use yuepin_domain::Yuan;

/// Price per hour; time inside `peak` windows is charged at `peak_hourly`, the rest at
/// `off_peak_hourly` (labs discount evenings and weekends to raise utilisation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tariff {
    pub peak_hourly: Yuan,
    pub off_peak_hourly: Yuan,
    pub peak: WeeklySchedule,
}

impl Tariff {
    /// One price at all times.
    pub fn flat(hourly: Yuan) -> Self {
        Self {
            peak_hourly: hourly,
            off_peak_hourly: hourly,
            peak: WeeklySchedule::default(),
        }
    }
}

/// The priced split of a booked range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quote {
    pub peak_minutes: i64,
    pub off_peak_minutes: i64,
    pub peak_amount: Yuan,
    pub off_peak_amount: Yuan,
    pub total: Yuan,
}

/// `minutes` at `hourly`, rounded half-up to the fen. `None` on overflow.
pub(crate) fn prorate(hourly: Yuan, minutes: i64) -> Option<Yuan> {
    let numerator = i128::from(hourly.fen()).checked_mul(i128::from(minutes))?;
    let fen = round_div(numerator, 60)?;
    Some(Yuan::from_fen(i64::try_from(fen).ok()?))
}

/// Rounds `n / d` half away from zero (d > 0).
pub(crate) fn round_div(n: i128, d: i128) -> Option<i128> {
    if d <= 0 {
        return None;
    }
    let half = d / 2;
    let shifted = if n >= 0 {
        n.checked_add(half)?
    } else {
        n.checked_sub(half)?
    };
    Some(shifted / d)
}

/// Prices `range` under `tariff`.
pub fn quote(tariff: &Tariff, range: &TimeRange) -> Result<Quote, BookingRejection> {
    let peak_minutes = tariff.peak.open_minutes_within(range);
    let off_peak_minutes = range.minutes() - peak_minutes;
    let overflow = || BookingRejection::overflow("quote");
    let peak_amount = prorate(tariff.peak_hourly, peak_minutes).ok_or_else(overflow)?;
    let off_peak_amount = prorate(tariff.off_peak_hourly, off_peak_minutes).ok_or_else(overflow)?;
    let total = peak_amount
        .checked_add(off_peak_amount)
        .ok_or_else(overflow)?;
    Ok(Quote {
        peak_minutes,
        off_peak_minutes,
        peak_amount,
        off_peak_amount,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::DailyWindow;
    use chrono::NaiveDateTime;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn peak_split() {
        let tariff = Tariff {
            peak_hourly: Yuan::parse("300").unwrap(),
            off_peak_hourly: Yuan::parse("180.50").unwrap(),
            peak: WeeklySchedule::weekdays(&[DailyWindow::parse("09:00-18:00").unwrap()]).unwrap(),
        };
        // Tuesday 17:00–19:30: 60 min peak, 90 min off-peak.
        let r = TimeRange::new(at("2026-12-01 17:00"), at("2026-12-01 19:30")).unwrap();
        let q = quote(&tariff, &r).unwrap();
        assert_eq!((q.peak_minutes, q.off_peak_minutes), (60, 90));
        assert_eq!(q.peak_amount, Yuan::parse("300").unwrap());
        assert_eq!(q.off_peak_amount, Yuan::parse("270.75").unwrap());
        assert_eq!(q.total, Yuan::parse("570.75").unwrap());
        // Saturday is all off-peak.
        let sat = TimeRange::new(at("2026-12-05 10:00"), at("2026-12-05 10:20")).unwrap();
        let q = quote(&tariff, &sat).unwrap();
        assert_eq!(q.peak_minutes, 0);
        // 180.50 / 3 = 60.1666… → 60.17
        assert_eq!(q.total, Yuan::parse("60.17").unwrap());
    }

    #[test]
    fn rounding_half_up() {
        assert_eq!(round_div(5, 10), Some(1));
        assert_eq!(round_div(4, 10), Some(0));
        assert_eq!(round_div(-5, 10), Some(-1));
        assert_eq!(prorate(Yuan::from_fen(1), 30), Some(Yuan::from_fen(1)));
    }
}
