//! Amounts in yuan (人民币元) as exact decimals, parsed the way Chinese users write them
//! ("1,234.56", "￥1234", "12.5万元", "20亿元", "人民币3亿") and stored as whole fen (分).

use crate::error::DomainError;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An exact amount of yuan with at most two decimal places (fen). Never a float.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Yuan(Decimal);

crate::openapi_string!(
    Yuan,
    "Amount in yuan as a decimal string",
    "1250000.00",
    pattern = "^-?[0-9]+(\\.[0-9]+)?$"
);

const WAN: i64 = 10_000;
const YI: i64 = 100_000_000;

impl Yuan {
    pub const ZERO: Yuan = Yuan(Decimal::ZERO);

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let err = |why: &str| DomainError::new("amount", format!("{why}: {input:?}"));
        let mut s: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ',' | '，' | ' ' | '\u{3000}' | '_'))
            .collect();
        for prefix in ["人民币", "RMB", "CNY", "¥", "￥"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest.to_string();
            }
        }
        if let Some(rest) = s.strip_suffix('元') {
            s = rest.to_string();
        }
        let (number, multiplier) = if let Some(n) = s.strip_suffix("亿") {
            (n, YI)
        } else if let Some(n) = s.strip_suffix("万") {
            (n, WAN)
        } else {
            (s.as_str(), 1)
        };
        if number.is_empty() {
            return Err(err("金额为空 (empty amount)"));
        }
        let value: Decimal = number
            .parse()
            .map_err(|_| err("不是有效金额 (not a number)"))?;
        let value = value
            .checked_mul(Decimal::from(multiplier))
            .ok_or_else(|| err("金额过大 (too large)"))?;
        if value.normalize().scale() > 2 {
            return Err(err("金额最多精确到分 (at most two decimal places of yuan)"));
        }
        if value.abs() > Decimal::from(i64::MAX / 100) {
            return Err(err("金额过大 (too large)"));
        }
        Ok(Self(value.normalize()))
    }

    /// Below zero (prices, capital and revenue never are).
    pub fn is_negative(&self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    pub fn from_fen(fen: i64) -> Self {
        Self(Decimal::new(fen, 2).normalize())
    }

    pub fn from_yuan(yuan: i64) -> Self {
        Self(Decimal::from(yuan))
    }

    /// Whole fen, exact (parse guarantees at most two decimals and the i64 range).
    pub fn fen(&self) -> i64 {
        (self.0 * Decimal::from(100)).to_i64().unwrap_or(i64::MAX)
    }

    pub fn decimal(&self) -> Decimal {
        self.0
    }

    /// As a Chinese reader expects it: "20亿元", "12.5万元", "850元".
    pub fn to_zh(&self) -> String {
        let abs = self.0.abs();
        let (v, unit) = if abs >= Decimal::from(YI) {
            (self.0 / Decimal::from(YI), "亿元")
        } else if abs >= Decimal::from(WAN) {
            (self.0 / Decimal::from(WAN), "万元")
        } else {
            (self.0, "元")
        };
        format!("{}{unit}", v.round_dp(4).normalize())
    }

    /// With thousands separators and two decimals: "1,234,567.80".
    pub fn grouped(&self) -> String {
        let s = format!("{:.2}", self.0);
        let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
        let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}.{frac}")
    }

    pub fn checked_add(self, other: Yuan) -> Option<Yuan> {
        self.0.checked_add(other.0).map(Yuan)
    }
}

impl fmt::Display for Yuan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl TryFrom<String> for Yuan {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Yuan> for String {
    fn from(y: Yuan) -> Self {
        y.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chinese_forms() {
        assert_eq!(Yuan::parse("20亿元").unwrap().fen(), 200_000_000_000);
        assert_eq!(
            Yuan::parse("人民币4亿").unwrap(),
            Yuan::from_yuan(400_000_000)
        );
        assert_eq!(Yuan::parse("12.5万").unwrap(), Yuan::from_yuan(125_000));
        assert_eq!(Yuan::parse("￥1,234.56").unwrap().fen(), 123_456);
        assert_eq!(Yuan::parse("1，000元").unwrap(), Yuan::from_yuan(1000));
        assert!(Yuan::parse("1.234").is_err());
        assert!(Yuan::parse("abc").is_err());
        assert!(Yuan::parse("").is_err());
        assert_eq!(Yuan::from_yuan(2_000_000_000).to_zh(), "20亿元");
        assert_eq!(Yuan::from_yuan(125_000).to_zh(), "12.5万元");
        assert_eq!(Yuan::from_fen(123_456_780).grouped(), "1,234,567.80");
    }

    proptest! {
        #[test]
        fn fen_round_trips(fen in -1_000_000_000_000_000i64..1_000_000_000_000_000) {
            let y = Yuan::from_fen(fen);
            prop_assert_eq!(y.fen(), fen);
            prop_assert_eq!(Yuan::parse(&y.to_string()).unwrap(), y);
            prop_assert_eq!(Yuan::parse(&y.grouped()).unwrap(), y);
        }
        #[test]
        fn never_panics(s in "\\PC{0,40}") { let _ = Yuan::parse(&s); }
    }
}
