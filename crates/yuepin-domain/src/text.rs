//! Rules for free text that crosses the boundary: control characters are refused (ASVS 2.2.1;
//! a NUL would otherwise reach SQL, XLSX as `_x0000_`, or a terminal), and spreadsheet cells
//! that a program would read as a formula are escaped with a leading apostrophe (ASVS 1.2.10,
//! OWASP "CSV injection"), which the importers take off again so that an export re-imports.

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
