//! Measuring text in the embedded font (advance widths from its `hmtx`, no kerning: labels and
//! reports are set in short lines), and fitting it into a width: [`wrap`] breaks lines between
//! characters (Chinese has no spaces), [`fit`] shortens one line with an ellipsis.

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};
use std::sync::OnceLock;

fn font_ref() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::new(super::FONT).ok()).as_ref()
}

/// Advance width of `ch` at 1 pt (an unknown character counts as 1 em, like its box).
fn advance(ch: char) -> f32 {
    static UNITS: OnceLock<Option<skrifa::metrics::GlyphMetrics<'static>>> = OnceLock::new();
    let metrics = UNITS.get_or_init(|| {
        font_ref().map(|f| f.glyph_metrics(Size::new(1.0), LocationRef::default()))
    });
    let glyph = font_ref().and_then(|f| f.charmap().map(ch));
    match (metrics, glyph) {
        (Some(m), Some(g)) => m.advance_width(g).unwrap_or(1.0),
        _ => 1.0,
    }
}

/// Width of `text` set in `size` pt.
pub fn text_width(text: &str, size: f32) -> f32 {
    text.chars().map(advance).sum::<f32>() * size
}

/// `text` broken into lines no wider than `width` at `size` pt (at least one character a line;
/// explicit newlines are kept).
pub fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut used = 0.0;
        for ch in paragraph.chars() {
            let w = advance(ch) * size;
            if !line.is_empty() && used + w > width {
                lines.push(std::mem::take(&mut line));
                used = 0.0;
            }
            line.push(ch);
            used += w;
        }
        lines.push(line);
    }
    lines
}

/// `text` as one line no wider than `width`, ending in "…" when it had to be shortened.
pub fn fit(text: &str, size: f32, width: f32) -> String {
    if text_width(text, size) <= width {
        return text.to_string();
    }
    let budget = width - advance('…') * size;
    let mut out = String::new();
    let mut used = 0.0;
    for ch in text.chars() {
        let w = advance(ch) * size;
        if used + w > budget {
            break;
        }
        out.push(ch);
        used += w;
    }
    out.push('…');
    out
}

/// Whether `font` maps every character of `text` to a glyph.
pub(crate) fn covers(font: &[u8], text: &str) -> bool {
    let Ok(font) = FontRef::new(font) else {
        return false;
    };
    let charmap = font.charmap();
    text.chars()
        .all(|c| c.is_control() || charmap.map(c).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_one_em_and_lines_fit() {
        let w = text_width("粤品通", 10.0);
        assert!((w - 30.0).abs() < 0.5, "{w}");
        assert!(text_width("abc", 10.0) < 20.0);
        let lines = wrap("广东省全面提升制造业质量品牌水平", 10.0, 45.0);
        assert!(
            lines.iter().all(|l| text_width(l, 10.0) <= 45.0),
            "{lines:?}"
        );
        assert_eq!(lines.concat(), "广东省全面提升制造业质量品牌水平");
        let short = fit("广东省全面提升制造业质量品牌水平", 10.0, 60.0);
        assert!(
            short.ends_with('…') && text_width(&short, 10.0) <= 60.0,
            "{short}"
        );
        assert_eq!(fit("粤品通", 10.0, 60.0), "粤品通");
    }
}
