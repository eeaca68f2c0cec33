//! Dates as Chinese spreadsheets and forms write them: 2023-10-12, 2023/10/12, 2023.10.12,
//! 20231012 and 2023年10月12日.

use crate::error::DomainError;
use chrono::{NaiveDate, NaiveDateTime, Timelike};

/// China keeps one offset all year (UTC+8, no daylight saving), so no tz database is needed.
const CHINA_OFFSET_HOURS: i64 = 8;

/// Wall-clock time in China, to the second: what "now" means for bookings, deadlines and pages.
/// The one place the platform reads the clock for a date; the server decides dates, never the client.
pub fn china_now() -> NaiveDateTime {
    let t = (chrono::Utc::now() + chrono::Duration::hours(CHINA_OFFSET_HOURS)).naive_utc();
    t.with_nanosecond(0).unwrap_or(t)
}

/// A UTC instant as China's wall clock (timestamps are stored in UTC, shown in China time).
pub fn to_china(t: chrono::DateTime<chrono::Utc>) -> NaiveDateTime {
    (t + chrono::Duration::hours(CHINA_OFFSET_HOURS)).naive_utc()
}

/// Today's date in China: what "as of today" means everywhere.
pub fn china_today() -> NaiveDate {
    china_now().date()
}

pub fn parse_date(field: &'static str, input: &str) -> Result<NaiveDate, DomainError> {
    let s = input.trim();
    let formats = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"];
    formats
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        .ok_or_else(|| {
            DomainError::new(
                field,
                format!("无法识别的日期 {s:?} (not a date; use YYYY-MM-DD)"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn forms() {
        for s in [
            "2023-10-12",
            "2023/10/12",
            "2023.10.12",
            "20231012",
            "2023年10月12日",
        ] {
            assert_eq!(parse_date("d", s).unwrap().to_string(), "2023-10-12");
        }
        assert!(parse_date("d", "2023-02-30").is_err());
        assert!(parse_date("d", "").is_err());
    }
}
