//! Time vocabulary: half-open `TimeRange`s at whole minutes, daily opening windows and weekly
//! schedules (used for opening hours and peak-tariff windows). Times are China Standard Time.

use crate::error::LabError;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};
use std::fmt;

pub(crate) const MINUTES_PER_DAY: u16 = 24 * 60;

/// Minutes since 1970-01-01 00:00 (local), the integer form the availability index works in.
pub(crate) fn to_minutes(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp().div_euclid(60)
}

pub(crate) fn from_minutes(m: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp(m.checked_mul(60)?, 0).map(|d| d.naive_utc())
}

/// `t + d`, saturating at the ends of the calendar instead of panicking.
pub(crate) fn shift(t: NaiveDateTime, d: Duration) -> NaiveDateTime {
    t.checked_add_signed(d).unwrap_or(if d < Duration::zero() {
        NaiveDateTime::MIN
    } else {
        NaiveDateTime::MAX
    })
}

/// Durations from configuration numbers, saturating instead of panicking on absurd values.
pub(crate) fn minutes(n: i64) -> Duration {
    Duration::try_minutes(n).unwrap_or(if n < 0 { Duration::MIN } else { Duration::MAX })
}
pub(crate) fn hours(n: i64) -> Duration {
    Duration::try_hours(n).unwrap_or(if n < 0 { Duration::MIN } else { Duration::MAX })
}
pub(crate) fn days(n: i64) -> Duration {
    Duration::try_days(n).unwrap_or(if n < 0 { Duration::MIN } else { Duration::MAX })
}

/// A half-open interval `[start, end)` with `start < end`, both on whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RawRange")]
pub struct TimeRange {
    start: NaiveDateTime,
    end: NaiveDateTime,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct RawRange {
    start: NaiveDateTime,
    end: NaiveDateTime,
}

impl TryFrom<RawRange> for TimeRange {
    type Error = LabError;
    fn try_from(r: RawRange) -> Result<Self, LabError> {
        TimeRange::new(r.start, r.end)
    }
}

impl TimeRange {
    pub fn new(start: NaiveDateTime, end: NaiveDateTime) -> Result<Self, LabError> {
        if start >= end {
            return Err(LabError::new(
                "time_range",
                format!("结束时间须晚于开始时间 (end {end} must be after start {start})"),
            ));
        }
        for (name, t) in [("start", start), ("end", end)] {
            if t.second() != 0 || t.nanosecond() != 0 {
                return Err(LabError::new(
                    "time_range",
                    format!("{name} {t} 须为整分钟 (must be on a whole minute)"),
                ));
            }
        }
        Ok(Self { start, end })
    }

    /// `start` plus `minutes`; fails on zero/negative length or date overflow.
    pub fn starting_at(start: NaiveDateTime, minutes: i64) -> Result<Self, LabError> {
        let end = start
            .checked_add_signed(Duration::minutes(minutes))
            .ok_or_else(|| LabError::new("time_range", "结束时间溢出 (end out of range)"))?;
        Self::new(start, end)
    }

    /// From minutes since 1970-01-01 00:00 (local), the integer form stored in the database.
    pub fn from_minutes(start: i64, end: i64) -> Option<Self> {
        Self::new(from_minutes(start)?, from_minutes(end)?).ok()
    }

    pub fn start(&self) -> NaiveDateTime {
        self.start
    }
    pub fn end(&self) -> NaiveDateTime {
        self.end
    }
    pub fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }
    pub fn overlaps(&self, other: &TimeRange) -> bool {
        self.start < other.end && other.start < self.end
    }
    pub fn contains(&self, other: &TimeRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }
    /// Minutes this range shares with `other` (0 if disjoint).
    pub fn overlap_minutes(&self, other: &TimeRange) -> i64 {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        if start < end {
            (end - start).num_minutes()
        } else {
            0
        }
    }
    /// (start, end) as minutes since 1970-01-01 00:00 (local).
    pub fn as_minutes(&self) -> (i64, i64) {
        (to_minutes(self.start), to_minutes(self.end))
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} – {}",
            self.start.format("%Y-%m-%d %H:%M"),
            self.end.format("%Y-%m-%d %H:%M")
        )
    }
}

/// One window within a day, `[open, close)` in minutes after midnight; `close` may be 1440
/// (24:00) so that round-the-clock instruments can be described.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "(u16, u16)", into = "(u16, u16)")]
pub struct DailyWindow {
    open: u16,
    close: u16,
}

/// On the wire a window is `[open, close]`, minutes after midnight.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for DailyWindow {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .maximum(Some(1440)),
            )
            .min_items(Some(2))
            .max_items(Some(2))
            .description(Some("[open, close) in minutes after midnight"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for DailyWindow {}

impl DailyWindow {
    pub fn new(open_minute: u16, close_minute: u16) -> Result<Self, LabError> {
        if open_minute >= close_minute || close_minute > MINUTES_PER_DAY {
            return Err(LabError::new(
                "daily_window",
                format!(
                    "时段无效 {open_minute}–{close_minute} 分 (need 0 ≤ open < close ≤ 1440 minutes after midnight)"
                ),
            ));
        }
        Ok(Self {
            open: open_minute,
            close: close_minute,
        })
    }

    /// Parses "08:30-17:30" (also "08:30–17:30", "8:30~24:00").
    pub fn parse(input: &str) -> Result<Self, LabError> {
        let s = input.trim();
        let err = || {
            LabError::new(
                "daily_window",
                format!("无法识别的时段 {s:?} (expected HH:MM-HH:MM, e.g. 08:30-17:30)"),
            )
        };
        let (a, b) = s.split_once(['-', '–', '~', '～']).ok_or_else(err)?;
        let minute = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then(|| h * 60 + m)
        };
        Self::new(minute(a).ok_or_else(err)?, minute(b).ok_or_else(err)?)
    }

    pub fn open_minute(&self) -> u16 {
        self.open
    }
    pub fn close_minute(&self) -> u16 {
        self.close
    }

    /// This window on a given date (`None` at the very end of the calendar).
    pub fn on(&self, date: NaiveDate) -> Option<TimeRange> {
        let midnight = date.and_time(NaiveTime::MIN);
        Some(TimeRange {
            start: midnight.checked_add_signed(Duration::minutes(i64::from(self.open)))?,
            end: midnight.checked_add_signed(Duration::minutes(i64::from(self.close)))?,
        })
    }
}

impl TryFrom<(u16, u16)> for DailyWindow {
    type Error = LabError;
    fn try_from((o, c): (u16, u16)) -> Result<Self, LabError> {
        Self::new(o, c)
    }
}
impl From<DailyWindow> for (u16, u16) {
    fn from(w: DailyWindow) -> Self {
        (w.open, w.close)
    }
}

/// Windows per weekday (index 0 = Monday … 6 = Sunday), sorted and non-overlapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RawSchedule")]
pub struct WeeklySchedule {
    days: [Vec<DailyWindow>; 7],
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct RawSchedule {
    days: [Vec<DailyWindow>; 7],
}

impl TryFrom<RawSchedule> for WeeklySchedule {
    type Error = LabError;
    fn try_from(raw: RawSchedule) -> Result<Self, LabError> {
        Self::new(raw.days)
    }
}

impl WeeklySchedule {
    /// Builds a schedule; overlapping windows on one day are rejected, abutting ones merged.
    pub fn new(days: [Vec<DailyWindow>; 7]) -> Result<Self, LabError> {
        let mut out: [Vec<DailyWindow>; 7] = Default::default();
        for (i, mut windows) in days.into_iter().enumerate() {
            windows.sort();
            let mut merged: Vec<DailyWindow> = Vec::with_capacity(windows.len());
            for w in windows {
                match merged.last_mut() {
                    Some(last) if w.open < last.close => {
                        return Err(LabError::new(
                            "weekly_schedule",
                            format!(
                                "星期{} 的时段重叠 (overlapping windows on weekday {})",
                                ["一", "二", "三", "四", "五", "六", "日"][i],
                                i + 1
                            ),
                        ))
                    }
                    Some(last) if w.open == last.close => last.close = w.close,
                    _ => merged.push(w),
                }
            }
            out[i] = merged;
        }
        Ok(Self { days: out })
    }

    /// The same windows Monday to Friday, closed at weekends — the usual lab timetable.
    pub fn weekdays(windows: &[DailyWindow]) -> Result<Self, LabError> {
        let mut days: [Vec<DailyWindow>; 7] = Default::default();
        for day in days.iter_mut().take(5) {
            *day = windows.to_vec();
        }
        Self::new(days)
    }

    /// The same windows every day of the week.
    pub fn every_day(windows: &[DailyWindow]) -> Result<Self, LabError> {
        Self::new(std::array::from_fn(|_| windows.to_vec()))
    }

    /// Open around the clock.
    pub fn always() -> Self {
        let all = DailyWindow {
            open: 0,
            close: MINUTES_PER_DAY,
        };
        Self {
            days: std::array::from_fn(|_| vec![all]),
        }
    }

    pub fn on_weekday(&self, weekday: chrono::Weekday) -> &[DailyWindow] {
        &self.days[weekday.num_days_from_monday() as usize]
    }

    /// The schedule's windows intersecting `range`, clipped to it, in order, with windows that
    /// abut across midnight merged (so an overnight 24h block is one range).
    pub fn windows_within(&self, range: &TimeRange) -> Vec<TimeRange> {
        let mut out: Vec<TimeRange> = Vec::new();
        let mut date = range.start.date();
        let last = range.end.date();
        while date <= last {
            for w in self.on_weekday(date.weekday()) {
                let Some(full) = w.on(date) else { continue };
                let start = full.start.max(range.start);
                let end = full.end.min(range.end);
                if start < end {
                    match out.last_mut() {
                        Some(prev) if prev.end == start => prev.end = end,
                        _ => out.push(TimeRange { start, end }),
                    }
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        out
    }

    /// True when `range` lies entirely inside open time.
    pub fn covers(&self, range: &TimeRange) -> bool {
        self.windows_within(range).first() == Some(range)
    }

    /// Minutes of open time within `range`.
    pub fn open_minutes_within(&self, range: &TimeRange) -> i64 {
        self.windows_within(range)
            .iter()
            .map(TimeRange::minutes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn ranges_and_windows() {
        assert!(TimeRange::new(at("2026-12-01 10:00"), at("2026-12-01 10:00")).is_err());
        let r = TimeRange::new(at("2026-12-01 10:00"), at("2026-12-01 12:00")).unwrap();
        assert_eq!(r.minutes(), 120);
        let w = DailyWindow::parse("08:30-17:30").unwrap();
        assert_eq!((w.open_minute(), w.close_minute()), (510, 1050));
        assert!(DailyWindow::parse("18:00-08:00").is_err());
        assert!(DailyWindow::parse("8:00-24:00").is_ok());
        assert!(DailyWindow::parse("nonsense").is_err());
        let hours = WeeklySchedule::weekdays(&[w]).unwrap();
        assert!(hours.covers(&r)); // 2026-12-01 is a Tuesday
        let saturday = TimeRange::new(at("2026-12-05 10:00"), at("2026-12-05 11:00")).unwrap();
        assert!(!hours.covers(&saturday));
        let overnight = TimeRange::new(at("2026-12-01 22:00"), at("2026-12-02 02:00")).unwrap();
        assert!(WeeklySchedule::always().covers(&overnight));
        assert!(!hours.covers(&overnight));
    }

    #[test]
    fn schedule_deserialisation_validates() {
        let ok = r#"{"days":[[[510,720],[810,1260]],[],[],[],[],[],[]]}"#;
        let s: WeeklySchedule = serde_json::from_str(ok).unwrap();
        assert_eq!(s.on_weekday(chrono::Weekday::Mon).len(), 2);
        let overlapping = r#"{"days":[[[510,720],[700,1260]],[],[],[],[],[],[]]}"#;
        assert!(serde_json::from_str::<WeeklySchedule>(overlapping).is_err());
        let bad_window = r#"{"days":[[[720,510]],[],[],[],[],[],[]]}"#;
        assert!(serde_json::from_str::<WeeklySchedule>(bad_window).is_err());
    }

    #[test]
    fn overlapping_windows_rejected() {
        let a = DailyWindow::parse("08:00-12:00").unwrap();
        let b = DailyWindow::parse("11:00-13:00").unwrap();
        assert!(WeeklySchedule::weekdays(&[a, b]).is_err());
        let c = DailyWindow::parse("12:00-13:00").unwrap();
        let s = WeeklySchedule::weekdays(&[c, a]).unwrap();
        assert_eq!(s.on_weekday(chrono::Weekday::Mon).len(), 1);
    }
}
