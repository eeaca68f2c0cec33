//! The platform's one PDF module (issue #16 item 3): documents of pages with Chinese text and
//! filled rectangles, written with `krilla` (font embedding and subsetting, Unicode text that
//! `pdftotext` recovers) and a compiled-in CJK font, so a fresh machine needs no system fonts.
//!
//! Coordinates are PDF points (1/72 in) from the page's top-left corner, y growing downwards;
//! a text's `y` is its baseline. Label sheets (codes), lab reports and the coming credit and
//! evaluation reports are laid out by their capability on top of this.
//!
//! The font is Noto Sans CJK SC Regular (SIL OFL 1.1, `fonts/OFL.txt`) subset to GB 2312 and
//! every character of the platform's own text by `scripts/make-pdf-font.py` (2.9 MB instead
//! of 16 MB). A character outside it prints as the font's empty box (.notdef) and is still
//! recovered as text; [`covers`] tells which.

mod layout;

pub use layout::{fit, text_width, wrap};

use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use std::sync::{Arc, OnceLock};

/// The compiled-in CJK font (see the crate docs).
const FONT: &[u8] = include_bytes!("../fonts/NotoSansSC-Yuepin.otf");

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("page size {0} × {1} pt is not positive and finite")]
    PageSize(f32, f32),
    #[error("the embedded font could not be read")]
    Font,
    #[error("writing the PDF: {0}")]
    Write(String),
}

/// A page size in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageSize {
    pub width: f32,
    pub height: f32,
}

impl PageSize {
    /// ISO A4 portrait (210 × 297 mm).
    pub const A4: PageSize = PageSize {
        width: 595.28,
        height: 841.89,
    };

    /// A size in millimetres (e.g. a 50 × 30 mm label of a thermal roll).
    pub fn mm(width: f32, height: f32) -> PageSize {
        PageSize {
            width: mm(width),
            height: mm(height),
        }
    }
}

/// Millimetres in points.
pub fn mm(v: f32) -> f32 {
    v * 72.0 / 25.4
}

fn font() -> Result<Font, PdfError> {
    static DATA: OnceLock<Arc<Vec<u8>>> = OnceLock::new();
    let data = DATA.get_or_init(|| Arc::new(FONT.to_vec())).clone();
    Font::new(data.into(), 0).ok_or(PdfError::Font)
}

/// Whether the embedded font has a glyph for every character of `text`.
pub fn covers(text: &str) -> bool {
    layout::covers(FONT, text)
}

/// A PDF being written: add pages, then [`Pdf::finish`].
pub struct Pdf {
    doc: Document,
    font: Font,
}

impl Pdf {
    /// An empty document titled `title` (shown by viewers; any language).
    pub fn new(title: &str) -> Result<Self, PdfError> {
        let mut doc = Document::new();
        doc.set_metadata(
            krilla::metadata::Metadata::new()
                .title(title.to_string())
                .creator("粤品通 Yuepin".to_string()),
        );
        Ok(Self { doc, font: font()? })
    }

    /// Adds a page of `size` and draws on it.
    pub fn page(
        &mut self,
        size: PageSize,
        draw: impl FnOnce(&mut Canvas<'_, '_>),
    ) -> Result<(), PdfError> {
        let settings = PageSettings::from_wh(size.width, size.height)
            .ok_or(PdfError::PageSize(size.width, size.height))?;
        let mut page = self.doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut canvas = Canvas {
            surface: &mut surface,
            font: self.font.clone(),
        };
        draw(&mut canvas);
        surface.finish();
        page.finish();
        Ok(())
    }

    /// The finished file.
    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        self.doc
            .finish()
            .map_err(|e| PdfError::Write(format!("{e:?}")))
    }
}

/// Drawing on one page (black on white).
pub struct Canvas<'a, 'b> {
    surface: &'a mut krilla::surface::Surface<'b>,
    font: Font,
}

impl Canvas<'_, '_> {
    /// One line of text at baseline `(x, y)` in `size` pt.
    pub fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        if text.is_empty() || size.is_nan() || size <= 0.0 {
            return;
        }
        self.surface.set_fill(Some(Fill::default()));
        self.surface.draw_text(
            Point::from_xy(x, y),
            self.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    /// Filled rectangles `(x, y, width, height)` (y = top edge) as one path, e.g. the dark
    /// modules of a QR code; empty or degenerate ones are skipped.
    pub fn fill_rects(&mut self, rects: &[(f32, f32, f32, f32)]) {
        let mut path = PathBuilder::new();
        for &(x, y, w, h) in rects {
            if let Some(r) = Rect::from_xywh(x, y, w, h) {
                path.push_rect(r);
            }
        }
        if let Some(path) = path.finish() {
            self.surface.set_fill(Some(Fill::default()));
            self.surface.draw_path(&path);
        }
    }

    /// A thin rectangle outline (cut marks, boxes).
    pub fn outline(&mut self, x: f32, y: f32, width: f32, height: f32, line: f32) {
        self.fill_rects(&[
            (x, y, width, line),
            (x, y + height - line, width, line),
            (x, y, line, height),
            (x + width - line, y, line, height),
        ]);
    }
}
