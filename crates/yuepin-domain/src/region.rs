//! GB/T 2260 region codes within Guangdong: a prefecture-level city from the reference table, or
//! a county-level code under one of them (district names are not in the reference data, so a
//! district code is checked structurally: its city must exist and its last two digits be non-zero).

use crate::{error::DomainError, reference};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

crate::openapi_string!(
    RegionCode,
    "Six-digit administrative division code (GB/T 2260)",
    "440100",
    pattern = "^[0-9]{6}$"
);

impl RegionCode {
    /// Accepts a 6-digit code, or a city name as people write it ("东莞", "东莞市", "Dongguan").
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let s = input.trim();
        if let Some(city) = reference::find_city(s) {
            return Ok(Self(city.code.clone()));
        }
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            let city = format!("{}00", &s[..4]);
            if reference::find_city(&city).is_some() {
                return Ok(Self(s.to_string()));
            }
            return Err(DomainError::new(
                "region",
                format!("{s} 不是广东省的行政区划代码 (not a Guangdong GB/T 2260 code)"),
            ));
        }
        Err(DomainError::new(
            "region",
            format!("无法识别的地区 {s:?} (unknown region: use a GB/T 2260 code or a city name)"),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefecture-level city this code belongs to.
    pub fn city(&self) -> &'static reference::City {
        reference::find_city(&format!("{}00", &self.0[..4])).expect("validated at parse")
    }

    pub fn is_city(&self) -> bool {
        self.0.ends_with("00")
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for RegionCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<RegionCode> for String {
    fn from(r: RegionCode) -> Self {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes() {
        assert_eq!(RegionCode::parse("东莞").unwrap().as_str(), "441900");
        assert_eq!(
            RegionCode::parse("440305").unwrap().city().name_zh,
            "深圳市"
        );
        assert!(RegionCode::parse("110000").is_err());
        assert!(RegionCode::parse("44x").is_err());
    }
}
