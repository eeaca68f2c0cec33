//! Standard designations as printed on products and documents: GB, GB/T, GB/Z, industry (QB/T,
//! SJ/T …), local (DB44/T), group (T/…), enterprise (Q/…), and ISO/IEC/ITU international ones.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StandardCode(String);

crate::openapi_string!(
    StandardCode,
    "Standard code such as GB/T 19001-2016",
    "GB/T 19001-2016"
);

impl StandardCode {
    /// Normalises spacing ("GB4706.1-2005" → "GB 4706.1-2005") and checks the shape: a prefix of
    /// letters (optionally with /T, /Z or a slash-separated body) and a number.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let s = input.trim().replace('／', "/").replace('－', "-");
        let err = || {
            DomainError::new(
                "standard",
                format!(
                    "无法识别的标准号 {s:?} (not a standard designation such as GB 4706.1-2005)"
                ),
            )
        };
        if s.is_empty() || s.chars().count() > 60 {
            return Err(err());
        }
        let split = s
            .find(|c: char| c.is_ascii_digit() || c == ' ')
            .ok_or_else(err)?;
        let (prefix, rest) = s.split_at(split);
        let prefix = prefix.trim();
        let rest = rest.trim();
        let prefix_ok = !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == '/' || c == ' ')
            && prefix
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase());
        let rest_ok = rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:/ ".contains(c));
        // Local standards keep their province digits right after "DB": DB44/T 1234-2020.
        if !prefix_ok || !rest_ok {
            return Err(err());
        }
        let glue = if prefix.ends_with('/') || prefix == "DB" {
            ""
        } else {
            " "
        };
        Ok(Self(format!("{prefix}{glue}{rest}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StandardCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for StandardCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<StandardCode> for String {
    fn from(s: StandardCode) -> Self {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn shapes() {
        assert_eq!(
            StandardCode::parse("GB4706.1-2005").unwrap().as_str(),
            "GB 4706.1-2005"
        );
        assert_eq!(
            StandardCode::parse("GB/T 2828.1-2012").unwrap().as_str(),
            "GB/T 2828.1-2012"
        );
        assert_eq!(
            StandardCode::parse("Q/ABC 001-2020").unwrap().as_str(),
            "Q/ABC 001-2020"
        );
        assert_eq!(
            StandardCode::parse("ISO 9001:2015").unwrap().as_str(),
            "ISO 9001:2015"
        );
        assert_eq!(
            StandardCode::parse("DB44/T 1234-2020").unwrap().as_str(),
            "DB44/T 1234-2020"
        );
        assert!(StandardCode::parse("中文").is_err());
        assert!(StandardCode::parse("").is_err());
    }
}
