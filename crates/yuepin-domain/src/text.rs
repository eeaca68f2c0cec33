//! Rules for free text that crosses the boundary: control characters are refused (ASVS 2.2.1;
//! a NUL would otherwise reach SQL, XLSX as `_x0000_`, or a terminal), and spreadsheet cells
//! that a program would read as a formula are escaped with a leading apostrophe (ASVS 1.2.10,
//! OWASP "CSV injection"), which the importers take off again so that an export re-imports.
//! One length bound holds for every text field ([`MAX_TEXT_CHARS`]), and a replacement
//! character (what a decoder leaves for bytes it could not read) is refused, so that what is
//! stored always exports to a workbook and is the text that was sent.

use std::borrow::Cow;

/// The first control character in `s` other than tab, line feed and carriage return (C0,
/// DEL and C1), if any.
pub fn control_char(s: &str) -> Option<char> {
    s.chars()
        .find(|&c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The reason to show for a control character, in Chinese and English.
pub fn control_char_reason(c: char) -> String {
    format!(
        "含有控制字符 U+{:04X} (control character U+{:04X} is not allowed)",
        c as u32, c as u32
    )
}

/// The most characters one text field may hold: Excel's cell limit (32,767), so that anything
/// the platform stores can be written to a workbook cell. Names and codes have tighter limits
/// of their own in their types.
pub const MAX_TEXT_CHARS: usize = 32_767;

/// Why `s` cannot be taken as a text field, if it cannot: a control character (see
/// [`control_char`]), U+FFFD (the bytes did not decode in the file's encoding, or a decoder
/// already replaced them), or more than [`MAX_TEXT_CHARS`] characters. Chinese and English.
pub fn text_problem(s: &str) -> Option<String> {
    // Fast path for the importers' hot loops: a control character is a byte below 0x20, 0x7F,
    // or (C1) a sequence led by 0xC2; U+FFFD is led by 0xEF. Text without those bytes passes.
    let plain = s.bytes().all(|b| {
        (b >= 0x20 && b != 0x7F && b != 0xC2 && b != 0xEF) || matches!(b, b'\t' | b'\n' | b'\r')
    });
    if plain && s.len() <= MAX_TEXT_CHARS {
        return None;
    }
    if let Some(c) = control_char(s) {
        return Some(control_char_reason(c));
    }
    if s.contains('\u{FFFD}') {
        return Some(
            "含有无法解码的字节U+FFFD，请确认文件编码为UTF-8或GBK \
             (bytes that do not decode: check that the file is UTF-8 or GBK)"
                .to_string(),
        );
    }
    // Bytes bound characters from above, so most text needs no count.
    if s.len() > MAX_TEXT_CHARS {
        let chars = s.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Some(format!(
                "长度为{chars}个字符，超过上限{MAX_TEXT_CHARS} \
                 ({chars} characters: at most {MAX_TEXT_CHARS})"
            ));
        }
    }
    None
}

/// Does a spreadsheet read a cell starting like this as a formula?
fn formula_like(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r', '\0'])
}

/// A text cell for CSV or XLSX: `'` before a leading `= + - @`, tab, CR or NUL.
pub fn escape_cell(s: &str) -> Cow<'_, str> {
    if formula_like(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The inverse of [`escape_cell`] for imported cells: `'=…` becomes `=…`; other text is kept.
pub fn unescape_cell(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_but_line_breaks_are_text() {
        assert_eq!(control_char("a\0b"), Some('\0'));
        assert_eq!(control_char("型号\u{1b}[31m"), Some('\u{1b}'));
        assert_eq!(control_char("x\u{7f}"), Some('\u{7f}'));
        assert_eq!(control_char("x\u{85}"), Some('\u{85}'));
        assert_eq!(control_char("第一行\r\n第二行\t完"), None);
        assert!(control_char_reason('\0').contains("U+0000"));
    }

    #[test]
    fn text_problems_name_control_characters_undecoded_bytes_and_length() {
        assert!(text_problem("a\0b").is_some_and(|r| r.contains("U+0000")));
        assert!(text_problem("华\u{FFFD}为").is_some_and(|r| r.contains("U+FFFD")));
        let longest = "质".repeat(MAX_TEXT_CHARS);
        assert_eq!(text_problem(&longest), None);
        let over = format!("{longest}x");
        assert!(text_problem(&over).is_some_and(|r| r.contains("32768")));
        assert_eq!(text_problem("第一行\r\n第二行"), None);
    }

    #[test]
    fn formula_cells_are_escaped_and_unescaped() {
        for s in ["=HYPERLINK(\"http://x\")", "+1", "-1+2", "@SUM(A1)", "\tx"] {
            let e = escape_cell(s);
            assert_eq!(e, format!("'{s}"));
            assert_eq!(unescape_cell(&e), s);
        }
        for s in ["华为", "1-2", "'quoted", "a=b", ""] {
            assert_eq!(escape_cell(s), s);
            assert_eq!(unescape_cell(s), s);
        }
    }
}
