//! GB/T 4754-2017 manufacturing divisions (门类 C, 大类 13–43).

use crate::{error::DomainError, reference};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Division(u8);

crate::openapi_string!(
    Division,
    "GB/T 4754 manufacturing division, two digits (13–43)",
    "38",
    pattern = "^[0-9]{2}$"
);

impl Division {
    /// Accepts "39", "C39", "c 39", or the Chinese division name.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let s = input.trim();
        let digits = s.trim_start_matches(['C', 'c']).trim();
        if let Ok(n) = digits.parse::<u8>() {
            if reference::find_division(n).is_some() {
                return Ok(Self(n));
            }
        }
        if let Some(d) = reference::divisions().iter().find(|d| d.name_zh == s) {
            return Ok(Self(d.code));
        }
        Err(DomainError::new(
            "division",
            format!(
                "{s:?} 不是制造业大类13-43 (not a GB/T 4754-2017 manufacturing division 13–43)"
            ),
        ))
    }

    pub fn code(self) -> u8 {
        self.0
    }

    pub fn info(self) -> &'static reference::DivisionInfo {
        reference::find_division(self.0).expect("validated at parse")
    }
}

impl fmt::Display for Division {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}
impl TryFrom<String> for Division {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Division> for String {
    fn from(d: Division) -> Self {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_forms() {
        assert_eq!(Division::parse("C39").unwrap().code(), 39);
        assert_eq!(Division::parse("汽车制造业").unwrap().code(), 36);
        assert!(Division::parse("12").is_err());
        assert!(Division::parse("44").is_err());
    }
}
