//! Masking of complainants' personal data (个人信息) before analytics or display:
//! names keep the surname (张**), mobile numbers keep the first 3 and last 4 digits
//! (138****1234), resident ID numbers keep the first 6 (the issuing region) and the last 4
//! (18 → 6 + 8 asterisks + 4), addresses are cut after the district/county, and free text is
//! scrubbed of phone and ID numbers it contains.

use crate::model::Complainant;
use regex::Regex;
use std::sync::OnceLock;

/// Two-character compound surnames kept whole (欧阳**).
const COMPOUND_SURNAMES: [&str; 12] = [
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "长孙", "司徒", "公孙",
];

/// 张三 → 张*, 张小明 → 张**, 欧阳娜娜 → 欧阳**; non-empty Latin names keep the first letter.
pub fn mask_name(name: &str) -> String {
    let name = name.trim();
    let keep = COMPOUND_SURNAMES
        .iter()
        .find(|s| name.starts_with(*s) && name.chars().count() > 2)
        .map_or(1, |_| 2);
    let total = name.chars().count();
    if total == 0 {
        return String::new();
    }
    let kept: String = name.chars().take(keep).collect();
    format!("{kept}{}", "*".repeat(total.saturating_sub(keep).max(1)))
}

/// 13812341234 → 138****1234; landlines keep the last 4 digits; other separators are dropped.
pub fn mask_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let digits = digits
        .strip_prefix("86")
        .filter(|d| d.len() == 11)
        .unwrap_or(&digits);
    let n = digits.len();
    if n == 11 && digits.starts_with('1') {
        format!("{}****{}", &digits[..3], &digits[7..])
    } else if n > 4 {
        format!("{}{}", "*".repeat(n - 4), &digits[n - 4..])
    } else {
        "*".repeat(n)
    }
}

/// 18-digit (or legacy 15-digit) resident ID: keep first 6 and last 4, mask the rest
/// (birth date and sequence). Anything shorter than 10 characters is masked entirely.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n < 10 {
        return "*".repeat(n);
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[n - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(n - 10))
}

/// Keeps the address up to and including the first county-level unit (区/县/县级市), or the city
/// if none is written; the rest becomes "***".
pub fn mask_address(address: &str) -> String {
    let a = address.trim();
    // Find the first 区 or 县 after a 市 (or anywhere if no 市), plus a trailing 市 for 县级市.
    let after_city = a.find('市').map_or(0, |i| i + '市'.len_utf8());
    let rest = &a[after_city..];
    let cut = rest
        .char_indices()
        .find(|(_, c)| matches!(c, '区' | '县' | '市'))
        .map(|(i, c)| after_city + i + c.len_utf8());
    match cut {
        Some(end) if end < a.len() => format!("{}***", &a[..end]),
        Some(_) => a.to_string(),
        None if after_city > 0 && after_city < a.len() => format!("{}***", &a[..after_city]),
        None if after_city > 0 => a.to_string(),
        None => "***".to_string(),
    }
}

fn landline_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"0\d{2,3}-\d{7,8}").expect("static regex"))
}

fn separated_mobile_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"1[3-9]\d[- ]\d{4}[- ]\d{4}").expect("static regex"))
}

fn digit_run_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[0-9]+[Xx]?").expect("static regex"))
}

/// Replaces ID numbers, mobile numbers and landlines written inside free text with masked forms.
/// Digit runs are judged by length (Chinese characters next to digits defeat `\b`): 18 (or 17
/// + X) and 15 digits are ID numbers, 11 digits starting with 1 (optionally after 86) mobiles.
pub fn scrub_text(text: &str) -> String {
    let step = landline_re().replace_all(text, |c: &regex::Captures| mask_phone(&c[0]));
    let step = separated_mobile_re().replace_all(&step, |c: &regex::Captures| mask_phone(&c[0]));
    digit_run_re()
        .replace_all(&step, |c: &regex::Captures| {
            let run = &c[0];
            let digits_only = run.bytes().all(|b| b.is_ascii_digit());
            match run.len() {
                18 => mask_id_number(run),
                15 if digits_only => mask_id_number(run),
                11 if digits_only && run.starts_with('1') => mask_phone(run),
                13 if digits_only && run.starts_with("861") => mask_phone(run),
                _ => run.to_string(),
            }
        })
        .into_owned()
}

/// Masks every personal field of a complainant.
pub fn mask_complainant(c: &Complainant) -> Complainant {
    Complainant {
        name: c.name.as_deref().map(mask_name),
        phone: c.phone.as_deref().map(mask_phone),
        id_number: c.id_number.as_deref().map(mask_id_number),
        address: c.address.as_deref().map(mask_address),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张小明"), "张**");
        assert_eq!(mask_name("欧阳娜娜"), "欧阳**");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_phone("138-1234-5678"), "138****5678");
        assert_eq!(mask_phone("+86 13812345678"), "138****5678");
        assert_eq!(mask_phone("020-12345678"), "*******5678");
        assert_eq!(mask_id_number("44030619900101123X"), "440306********123X");
        assert_eq!(mask_id_number("123"), "***");
        assert_eq!(
            mask_address("广东省深圳市南山区粤海街道科技园1号"),
            "广东省深圳市南山区***"
        );
        assert_eq!(mask_address("东莞市长安镇xx路"), "东莞市***");
        assert_eq!(mask_address("惠州市博罗县罗阳街道"), "惠州市博罗县***");
    }

    #[test]
    fn scrubs_free_text() {
        let t = "我的电话13812345678,身份证440306199001011234,座机020-87654321。";
        let s = scrub_text(t);
        assert!(
            !s.contains("12345678") && !s.contains("19900101") && !s.contains("87654321"),
            "{s}"
        );
        assert!(
            s.contains("138****5678") && s.contains("440306********1234"),
            "{s}"
        );
    }

    #[test]
    fn arbitrary_input_never_panics() {
        for s in ["", "市", "区", "市区", "😀😀", "x市y"] {
            let _ = (
                mask_name(s),
                mask_phone(s),
                mask_id_number(s),
                mask_address(s),
                scrub_text(s),
            );
        }
    }
}
