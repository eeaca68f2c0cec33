//! The business calendar: which dates are working days in mainland China. Public holidays
//! (放假) and the weekend days worked in exchange (调休上班) change every year by State
//! Council General Office notice, so they are data (`data/cn-holidays.csv`, compiled in, and
//! any number of further files of the same shape loaded at start, so a new year needs no
//! release). A date in a year no file covers falls back to the plain week (Monday–Friday
//! work) and [`Calendar::covers`] says so: SLA clocks over such a year are flagged
//! "calendar missing" rather than silently trusted.

use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::BTreeMap;

/// The compiled-in calendar file (2023–2026).
pub const BUILTIN_CSV: &str = include_str!("../data/cn-holidays.csv");

/// What a listed date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// A day off whatever the weekday (a public holiday or a weekend day inside one).
    Off,
    /// A Saturday or Sunday worked (调休上班).
    Work,
}

/// One listed date: its kind, the holiday it belongs to and the notice it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayEntry {
    pub kind: DayKind,
    pub holiday: String,
    pub notice: String,
}

/// Why a calendar file was refused: the 1-based line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct CalendarError {
    pub line: usize,
    pub problem: CalendarProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarProblem {
    #[error("expected 4 fields date,kind,name,notice")]
    Fields,
    #[error("date {0} is not YYYY-MM-DD")]
    Date(String),
    #[error("kind {0} is not off, work or year")]
    Kind(String),
    #[error("{0} is listed twice")]
    Duplicate(NaiveDate),
    /// A `work` row on a weekday (a weekday is a working day anyway: a typo).
    #[error("{0} is a weekday and cannot be an adjusted working day")]
    WorkOnWeekday(NaiveDate),
    /// A dated row for a year the file does not declare with a `year` row.
    #[error("{0} lies in a year the file does not declare")]
    Undeclared(NaiveDate),
}

/// The working-day calendar: listed dates by year, and the years loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, DayEntry>,
    years: BTreeMap<i32, String>,
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

impl Calendar {
    /// The compiled-in calendar (2023–2026).
    pub fn builtin() -> Calendar {
        Calendar::parse(BUILTIN_CSV).expect("the compiled-in calendar parses (tested)")
    }

    /// Parses a calendar file: `date,kind,name,notice` rows, `#` comments and blank lines.
    /// Every year must be declared by a `year` row (`YYYY-01-01,year,,notice`), so a file
    /// that lists a year covers all of it.
    pub fn parse(text: &str) -> Result<Calendar, CalendarError> {
        let mut cal = Calendar::default();
        let mut rows = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let row = raw.trim().trim_start_matches('\u{feff}');
            if row.is_empty() || row.starts_with('#') {
                continue;
            }
            let err = |problem| CalendarError { line, problem };
            let f: Vec<&str> = row.split(',').map(str::trim).collect();
            if f.len() != 4 {
                return Err(err(CalendarProblem::Fields));
            }
            let date = NaiveDate::parse_from_str(f[0], "%Y-%m-%d")
                .map_err(|_| err(CalendarProblem::Date(f[0].to_string())))?;
            let kind = match f[1] {
                "off" => Some(DayKind::Off),
                "work" => Some(DayKind::Work),
                "year" => None,
                other => return Err(err(CalendarProblem::Kind(other.to_string()))),
            };
            match kind {
                None => {
                    cal.years.insert(date.year(), f[3].to_string());
                }
                Some(kind) => rows.push((line, date, kind, f[2], f[3])),
            }
        }
        for (line, date, kind, name, notice) in rows {
            let err = |problem| CalendarError { line, problem };
            if !cal.years.contains_key(&date.year()) {
                return Err(err(CalendarProblem::Undeclared(date)));
            }
            if kind == DayKind::Work && !is_weekend(date) {
                return Err(err(CalendarProblem::WorkOnWeekday(date)));
            }
            let entry = DayEntry {
                kind,
                holiday: name.to_string(),
                notice: notice.to_string(),
            };
            if cal.days.insert(date, entry).is_some() {
                return Err(err(CalendarProblem::Duplicate(date)));
            }
        }
        Ok(cal)
    }

    /// Adds another calendar's years; a year both declare is taken wholly from `other` (a
    /// corrected file replaces the year, it does not mix with it).
    pub fn merge(&mut self, other: Calendar) {
        for (year, notice) in other.years {
            self.days.retain(|d, _| d.year() != year);
            self.years.insert(year, notice);
        }
        self.days.extend(other.days);
    }

    /// Is this year's holiday arrangement loaded?
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The loaded years with the notice each comes from.
    pub fn years(&self) -> impl Iterator<Item = (i32, &str)> {
        self.years.iter().map(|(y, n)| (*y, n.as_str()))
    }

    /// The listed entry of a date, if any.
    pub fn entry(&self, date: NaiveDate) -> Option<&DayEntry> {
        self.days.get(&date)
    }

    /// Is `date` a working day? Listed dates as listed; others by the week. A year not loaded
    /// is the plain week (check [`Calendar::covers`]).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date).map(|e| e.kind) {
            Some(DayKind::Off) => false,
            Some(DayKind::Work) => true,
            None => !is_weekend(date),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_builtin_calendar_loads_2023_to_2026() {
        let c = Calendar::builtin();
        let years: Vec<i32> = c.years().map(|(y, _)| y).collect();
        assert_eq!(years, vec![2023, 2024, 2025, 2026]);
        assert!(!c.covers(2027));
    }

    /// Days off per year as the notices count them (the holiday spans, weekends inside them
    /// included), and the adjusted working days.
    #[test]
    fn counts_per_year_match_the_notices() {
        let c = Calendar::builtin();
        for (year, off, work) in [(2023, 26, 7), (2024, 28, 8), (2025, 28, 5), (2026, 33, 6)] {
            let n = |k| {
                c.days
                    .iter()
                    .filter(|(d, e)| d.year() == year && e.kind == k)
                    .count()
            };
            assert_eq!((n(DayKind::Off), n(DayKind::Work)), (off, work), "{year}");
        }
    }

    #[test]
    fn holidays_and_adjusted_days() {
        let c = Calendar::builtin();
        // 2024 Spring Festival: 10–17 Feb off, Sunday 4 and Sunday 18 Feb worked.
        assert!(!c.is_working_day(d("2024-02-12")));
        assert!(c.is_working_day(d("2024-02-04")));
        assert!(c.is_working_day(d("2024-02-18")));
        // 2025 National Day 1–8 Oct, Saturday 11 Oct worked.
        assert!(!c.is_working_day(d("2025-10-08")));
        assert!(c.is_working_day(d("2025-10-11")));
        // 2026: 元旦 Friday 2 Jan off, Sunday 4 Jan worked; 春节 Monday 23 Feb off.
        assert!(!c.is_working_day(d("2026-01-02")));
        assert!(c.is_working_day(d("2026-01-04")));
        assert!(!c.is_working_day(d("2026-02-23")));
        assert!(c.is_working_day(d("2026-02-28")));
        // An ordinary week.
        assert!(c.is_working_day(d("2026-03-02")));
        assert!(!c.is_working_day(d("2026-03-07")));
        assert_eq!(c.entry(d("2023-06-22")).unwrap().holiday, "端午节");
    }

    #[test]
    fn a_year_not_loaded_is_the_plain_week() {
        let c = Calendar::builtin();
        // 2027-01-01 is a Friday: a holiday in fact, a working day until 2027 is loaded.
        assert!(!c.covers(2027));
        assert!(c.is_working_day(d("2027-01-01")));
        assert!(!c.is_working_day(d("2027-01-02")));
    }

    #[test]
    fn a_new_year_loads_from_a_file_and_replaces_wholly() {
        let mut c = Calendar::builtin();
        let extra = "2027-01-01,year,,test notice\n2027-01-01,off,元旦,test notice\n\
                     2026-01-01,year,,correction\n";
        c.merge(Calendar::parse(extra).unwrap());
        assert!(c.covers(2027));
        assert!(!c.is_working_day(d("2027-01-01")));
        // 2026 replaced by a file that lists no dates: the plain week.
        assert!(c.is_working_day(d("2026-01-02")));
        assert_eq!(c.years().find(|(y, _)| *y == 2026).unwrap().1, "correction");
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = |t: &str| Calendar::parse(t).unwrap_err();
        assert_eq!(e("x").problem, CalendarProblem::Fields);
        assert_eq!(e("# c\n2027-13-01,off,a,b").line, 2);
        assert!(matches!(
            e("2027-01-01,holiday,a,b").problem,
            CalendarProblem::Kind(_)
        ));
        assert!(matches!(
            e("2027-01-01,off,a,b").problem,
            CalendarProblem::Undeclared(_)
        ));
        assert!(matches!(
            e("2027-01-01,year,,n\n2027-01-04,work,a,n").problem,
            CalendarProblem::WorkOnWeekday(_)
        ));
        assert!(matches!(
            e("2027-01-01,year,,n\n2027-01-01,off,a,n\n2027-01-01,off,a,n").problem,
            CalendarProblem::Duplicate(_)
        ));
    }
}
