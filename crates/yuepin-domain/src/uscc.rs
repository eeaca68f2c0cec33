//! 统一社会信用代码 (Unified Social Credit Code) per GB 32100-2015, with both check characters:
//! the organisation code's (GB 11714) at position 17 and the code's own at position 18.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The 31 characters GB 32100 allows (no I, O, S, V, Z), in value order.
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A validated 18-character 统一社会信用代码, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

crate::openapi_string!(
    Uscc,
    "统一社会信用代码 (unified social credit code), 18 characters, upper-case",
    "91440300708461136A",
    pattern = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
);

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// Value of a character in the GB 11714 organisation code (digits, then A=10 … Z=35).
fn org_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// The GB 32100 check character for the first 17 characters.
pub fn check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    Some(ALPHABET[((31 - sum % 31) % 31) as usize])
}

/// The GB 11714 check character for the first 8 characters of an organisation code.
pub fn org_check_char(first8: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (c, w) in first8.iter().zip(ORG_WEIGHTS) {
        sum += org_value(*c)? * w;
    }
    Some(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    })
}

impl Uscc {
    /// Parses a code as people type it: surrounding spaces trimmed, lower case accepted.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let err = |reason: String| DomainError::new("uscc", reason);
        let code = input.trim().to_ascii_uppercase();
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != 18 {
            return Err(err(format!(
                "统一社会信用代码应为18位，实际{}位 (must be 18 characters, got {}: {input:?})",
                chars.len(),
                chars.len()
            )));
        }
        let bytes = code.as_bytes();
        if let Some(pos) = bytes.iter().position(|b| value_of(*b).is_none()) {
            return Err(err(format!(
                "第{}位含非法字符 {:?} (character {} {:?} is not allowed; I, O, S, V, Z never occur)",
                pos + 1,
                chars[pos],
                pos + 1,
                chars[pos]
            )));
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(err(format!(
                "第3-8位登记管理机关行政区划码应为数字 (positions 3-8 must be a GB/T 2260 region code, got {})",
                &code[2..8]
            )));
        }
        let org_expected = org_check_char(&bytes[8..16]).unwrap_or(b'?');
        if bytes[16] != org_expected {
            return Err(err(format!(
                "第17位组织机构代码校验码应为 {} 而非 {} (organisation-code check character: expected {}, found {})",
                org_expected as char, bytes[16] as char, org_expected as char, bytes[16] as char
            )));
        }
        let expected = check_char(&bytes[..17]).unwrap_or(b'?');
        if bytes[17] != expected {
            return Err(err(format!(
                "第18位校验码应为 {} 而非 {} (check character: expected {}, found {})",
                expected as char, bytes[17] as char, expected as char, bytes[17] as char
            )));
        }
        Ok(Self(code))
    }

    /// Builds a valid code from its 17 leading characters' raw parts, filling both check characters.
    /// `head` is the 2 authority/type characters, `region` the 6-digit region code, `org8` the
    /// first 8 characters of the organisation code. Used by the synthetic-data generator.
    pub fn assemble(head: &str, region: &str, org8: &str) -> Result<Self, DomainError> {
        let org_check = org_check_char(org8.as_bytes())
            .ok_or_else(|| DomainError::new("uscc", format!("bad organisation code {org8}")))?;
        let mut s = format!("{head}{region}{org8}{}", org_check as char);
        let check = check_char(s.as_bytes())
            .ok_or_else(|| DomainError::new("uscc", format!("bad characters in {s}")))?;
        s.push(check as char);
        Self::parse(&s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The GB/T 2260 code of the registering authority (positions 3–8).
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Uscc {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Uscc> for String {
    fn from(u: Uscc) -> Self {
        u.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_published_codes() {
        // Codes printed on public business licences.
        for code in ["91440300708461136T", "914403001922038216"] {
            assert!(Uscc::parse(code).is_ok(), "{code}");
        }
        assert!(Uscc::parse(" 91440300708461136t ").is_ok());
    }

    #[test]
    fn rejects_wrong_check_character() {
        let e = Uscc::parse("91440300708461136A").unwrap_err();
        assert!(e.reason.contains("expected T"), "{e}");
        assert!(Uscc::parse("9144030070846113").is_err());
        assert!(Uscc::parse("91440300708461I36T").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,30}") { let _ = Uscc::parse(&s); }

        #[test]
        fn assembled_codes_parse_and_single_edits_fail(org in "[0-9A-HJ-NPQRTUWXY]{8}", pos in 0usize..18, rep in 0usize..31) {
            let u = Uscc::assemble("91", "440300", &org).unwrap();
            let mut b = u.as_str().as_bytes().to_vec();
            let new = ALPHABET[rep];
            prop_assume!(b[pos] != new && (!(2..8).contains(&pos) || new.is_ascii_digit()));
            b[pos] = new;
            prop_assert!(Uscc::parse(std::str::from_utf8(&b).unwrap()).is_err());
        }
    }
}
