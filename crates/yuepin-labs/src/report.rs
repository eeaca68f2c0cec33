//! Test report numbers and their public verification status (the QR code on a report links to
//! the number; anyone scanning it sees valid, replaced by a newer report, or revoked and why).
//! Format: `YP-{lab code}-{yyyymmdd}-{sequence}`, e.g. `YP-GDQTC-20261126-0042`.

use crate::error::{IllegalTransition, LabError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A lab's short code in report numbers: 2–10 ASCII capital letters or digits, starting with
/// a letter (so it cannot be mistaken for the date part).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LabCode(String);

yuepin_domain::openapi_string!(
    LabCode,
    "Lab short code in report numbers",
    "GDQTC",
    pattern = "^[A-Z][A-Z0-9]{1,9}$"
);

impl LabCode {
    pub fn parse(input: &str) -> Result<Self, LabError> {
        let s = input.trim().to_ascii_uppercase();
        let ok = (2..=10).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && s.bytes().next().is_some_and(|b| b.is_ascii_uppercase());
        if ok {
            Ok(Self(s))
        } else {
            Err(LabError::new(
                "lab_code",
                format!("实验室代码须为 2–10 位大写字母或数字且以字母开头 (lab code must be 2–10 capital letters/digits starting with a letter): {input:?}"),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LabCode {
    type Error = LabError;
    fn try_from(s: String) -> Result<Self, LabError> {
        Self::parse(&s)
    }
}
impl From<LabCode> for String {
    fn from(c: LabCode) -> String {
        c.0
    }
}

/// Highest sequence number per lab per day.
pub const MAX_REPORT_SEQUENCE: u32 = 999_999;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReportNumber {
    lab: LabCode,
    issued_on: NaiveDate,
    sequence: u32,
}

yuepin_domain::openapi_string!(
    ReportNumber,
    "Test report number YP-<lab>-<yyyymmdd>-<sequence>",
    "YP-GDQTC-20261126-0042"
);

impl ReportNumber {
    pub fn new(lab: LabCode, issued_on: NaiveDate, sequence: u32) -> Result<Self, LabError> {
        if sequence == 0 || sequence > MAX_REPORT_SEQUENCE {
            return Err(LabError::new(
                "report_number",
                format!("报告序号须在 1–{MAX_REPORT_SEQUENCE} 之间 (sequence must be 1–{MAX_REPORT_SEQUENCE}): {sequence}"),
            ));
        }
        Ok(Self {
            lab,
            issued_on,
            sequence,
        })
    }

    /// Parses "YP-GDQTC-20261126-0042" (case-insensitive, surrounding spaces ignored).
    pub fn parse(input: &str) -> Result<Self, LabError> {
        let s = input.trim().to_ascii_uppercase();
        let err = || {
            LabError::new(
                "report_number",
                format!("无法识别的报告编号 {:?} (expected YP-<lab>-<yyyymmdd>-<sequence>, e.g. YP-GDQTC-20261126-0042)", input.trim()),
            )
        };
        let mut parts = s.split('-');
        let (Some("YP"), Some(lab), Some(date), Some(seq), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(err());
        };
        let lab = LabCode::parse(lab).map_err(|_| err())?;
        if date.len() != 8 || !(4..=6).contains(&seq.len()) {
            return Err(err());
        }
        let issued_on = NaiveDate::parse_from_str(date, "%Y%m%d").map_err(|_| err())?;
        if !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let sequence: u32 = seq.parse().map_err(|_| err())?;
        Self::new(lab, issued_on, sequence).map_err(|_| err())
    }

    pub fn lab(&self) -> &LabCode {
        &self.lab
    }
    pub fn issued_on(&self) -> NaiveDate {
        self.issued_on
    }
    pub fn sequence(&self) -> u32 {
        self.sequence
    }
}

impl fmt::Display for ReportNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "YP-{}-{}-{:04}",
            self.lab.0,
            self.issued_on.format("%Y%m%d"),
            self.sequence
        )
    }
}
impl TryFrom<String> for ReportNumber {
    type Error = LabError;
    fn try_from(s: String) -> Result<Self, LabError> {
        Self::parse(&s)
    }
}
impl From<ReportNumber> for String {
    fn from(n: ReportNumber) -> String {
        n.to_string()
    }
}

/// What a public verification lookup answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReportStatus {
    Valid,
    Replaced { by: ReportNumber },
    Revoked { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReportStatusEvent {
    Replace { by: ReportNumber },
    Revoke { reason: String },
}

impl ReportStatus {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Replaced { .. } => "replaced",
            Self::Revoked { .. } => "revoked",
        }
    }

    pub fn describe_zh(&self) -> String {
        match self {
            Self::Valid => "报告有效".to_string(),
            Self::Replaced { by } => format!("报告已被 {by} 替代"),
            Self::Revoked { reason } => format!("报告已撤销：{reason}"),
        }
    }

    /// Only a valid report can be replaced or revoked; replaced and revoked are final, so a
    /// revoked report can never become valid again.
    pub fn transition(self, event: ReportStatusEvent) -> Result<Self, IllegalTransition> {
        match (self, event) {
            (Self::Valid, ReportStatusEvent::Replace { by }) => Ok(Self::Replaced { by }),
            (Self::Valid, ReportStatusEvent::Revoke { reason }) => Ok(Self::Revoked { reason }),
            (s, e) => Err(IllegalTransition {
                state: s.name(),
                event: match e {
                    ReportStatusEvent::Replace { .. } => "replace",
                    ReportStatusEvent::Revoke { .. } => "revoke",
                },
                reason: "报告已被替代或撤销，状态不可再变 (a replaced or revoked report is final)",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_round_trip() {
        let n = ReportNumber::parse(" yp-gdqtc-20261126-0042 ").unwrap();
        assert_eq!(n.to_string(), "YP-GDQTC-20261126-0042");
        assert_eq!(n.sequence(), 42);
        let big =
            ReportNumber::new(LabCode::parse("SZ01").unwrap(), n.issued_on(), 123_456).unwrap();
        assert_eq!(ReportNumber::parse(&big.to_string()).unwrap(), big);
        for bad in [
            "",
            "YP-GDQTC-20261131-0001",
            "XX-GDQTC-20261126-0001",
            "YP-1ABC-20261126-0001",
            "YP-GDQTC-20261126-0000",
            "YP-GDQTC-20261126-01",
            "YP-GDQTC-20261126-0001-9",
            "YP-GDQTC-20261126-+001",
        ] {
            assert!(ReportNumber::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") { let _ = ReportNumber::parse(&s); }

        #[test]
        fn revoked_stays_revoked(replace_first in any::<bool>(), tries in 0usize..5) {
            let by = ReportNumber::parse("YP-AB-20261126-0002").unwrap();
            let first = if replace_first {
                ReportStatusEvent::Replace { by: by.clone() }
            } else {
                ReportStatusEvent::Revoke { reason: "数据错误".into() }
            };
            let final_state = ReportStatus::Valid.transition(first).unwrap();
            for i in 0..tries {
                let e = if i % 2 == 0 {
                    ReportStatusEvent::Replace { by: by.clone() }
                } else {
                    ReportStatusEvent::Revoke { reason: "x".into() }
                };
                prop_assert!(final_state.clone().transition(e).is_err());
            }
        }
    }
}
