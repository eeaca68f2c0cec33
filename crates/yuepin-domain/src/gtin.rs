//! GS1 Global Trade Item Numbers (GTIN-8/12/13/14) with the mod-10 check digit.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A GTIN as given (8, 12, 13 or 14 digits), check digit verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gtin(String);

crate::openapi_string!(
    Gtin,
    "GTIN, 8, 12, 13 or 14 digits with a valid check digit",
    "6901234567892",
    pattern = "^([0-9]{8}|[0-9]{12,14})$"
);

/// The GS1 mod-10 check digit of `body` (all digits but the last).
pub fn check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    b'0' + ((10 - sum % 10) % 10) as u8
}

impl Gtin {
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let s = input.trim();
        if !s.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 13, 14].contains(&s.len()) {
            return Err(DomainError::new(
                "gtin",
                format!("GTIN应为8、12、13或14位数字 (must be 8, 12, 13 or 14 digits, got {s:?})"),
            ));
        }
        let b = s.as_bytes();
        let expected = check_digit(&b[..b.len() - 1]);
        if b[b.len() - 1] != expected {
            return Err(DomainError::new(
                "gtin",
                format!(
                    "校验位应为 {} (check digit: expected {}, found {})",
                    expected as char,
                    expected as char,
                    b[b.len() - 1] as char
                ),
            ));
        }
        Ok(Self(s.to_string()))
    }

    /// Completes a GTIN from its digits without the check digit (used by generators).
    pub fn with_check_digit(body: &str) -> Result<Self, DomainError> {
        if !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::new("gtin", "digits only"));
        }
        let mut s = body.to_string();
        s.push(check_digit(body.as_bytes()) as char);
        Self::parse(&s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 14-digit form used in GS1 Digital Link URIs (left-padded with zeros).
    pub fn to_gtin14(&self) -> String {
        format!("{:0>14}", self.0)
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for Gtin {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Gtin> for String {
    fn from(g: Gtin) -> Self {
        g.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_gtins() {
        assert_eq!(
            Gtin::parse("6901234567892").unwrap().to_gtin14(),
            "06901234567892"
        );
        assert!(Gtin::parse("6901234567891").is_err());
        assert!(Gtin::parse("96385074").is_ok());
        assert!(Gtin::parse("abc").is_err());
    }

    proptest! {
        #[test]
        fn generated_are_valid(body in "[0-9]{12}") {
            let g = Gtin::with_check_digit(&body).unwrap();
            prop_assert_eq!(g.as_str().len(), 13);
        }
        #[test]
        fn never_panics(s in "\\PC{0,20}") { let _ = Gtin::parse(&s); }
    }
}
