//! Business hours: the windows of a working day during which an SLA clock runs, written
//! `08:30-12:00,13:30-17:30` (a lunch break is the gap between windows).

use chrono::NaiveTime;
use std::fmt;

/// A working day's windows, ascending and not overlapping, at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    windows: Vec<(NaiveTime, NaiveTime)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("business hours {0:?} are not HH:MM-HH:MM windows, ascending, at most 24 hours")]
pub struct HoursError(pub String);

impl BusinessHours {
    /// Parses `HH:MM-HH:MM[,HH:MM-HH:MM…]`.
    pub fn parse(text: &str) -> Result<BusinessHours, HoursError> {
        let bad = || HoursError(text.to_string());
        let mut windows: Vec<(NaiveTime, NaiveTime)> = Vec::new();
        for part in text.split(',') {
            let (a, b) = part.trim().split_once('-').ok_or_else(bad)?;
            let a = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
            let b = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
            if a >= b || windows.last().is_some_and(|&(_, end)| end > a) {
                return Err(bad());
            }
            windows.push((a, b));
        }
        if windows.is_empty() || windows.len() > 6 {
            return Err(bad());
        }
        Ok(BusinessHours { windows })
    }

    /// 08:30–12:00 and 13:30–17:30: eight working hours, the usual 机关 day.
    pub fn standard() -> BusinessHours {
        BusinessHours::parse("08:30-12:00,13:30-17:30").expect("valid")
    }

    pub fn windows(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.windows
    }

    /// Working minutes in one full working day.
    pub fn minutes_per_day(&self) -> i64 {
        self.windows
            .iter()
            .map(|(a, b)| (*b - *a).num_minutes())
            .sum()
    }
}

impl fmt::Display for BusinessHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (a, b)) in self.windows.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}-{}", a.format("%H:%M"), b.format("%H:%M"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let h = BusinessHours::standard();
        assert_eq!(h.minutes_per_day(), 450);
        assert_eq!(h.to_string(), "08:30-12:00,13:30-17:30");
        assert_eq!(
            BusinessHours::parse("09:00-18:00")
                .unwrap()
                .minutes_per_day(),
            540
        );
        for bad in [
            "",
            "9-18",
            "18:00-09:00",
            "08:00-12:00,11:00-17:00",
            "08:00-12:00;13:00-17:00",
        ] {
            assert!(BusinessHours::parse(bad).is_err(), "{bad}");
        }
    }
}
