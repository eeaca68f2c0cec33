//! A printable A4 PDF label sheet: a grid of vector QR codes (3 × 4 per page) with the
//! human-readable caption and URI under each. Minimal hand-written PDF 1.4 (base-14 Courier font,
//! Flate-compressed content streams) — a PDF crate would add far more weight than these ~150 lines.

use crate::error::CodeError;
use crate::qr::qr_code;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use std::fmt::Write as _;
use std::io::Write as _;

/// One label: the URI encoded in the QR and a short caption (e.g. `SN 7fK2…  LOT 2026A`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub uri: String,
    pub caption: String,
}

const PAGE_WIDTH: f64 = 595.28;
const PAGE_HEIGHT: f64 = 841.89;
const COLUMNS: usize = 3;
const ROWS: usize = 4;
const MARGIN: f64 = 28.0;
const QR_SIZE: f64 = 140.0;
const URI_FONT: f64 = 4.2;
/// Courier advances 0.6 em: this many characters fit under the QR.
const URI_CHARS_PER_LINE: usize = 55;

/// Escapes a string for a PDF literal and keeps it printable ASCII (the human-readable text is ASCII).
fn pdf_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            ' '..='~' => out.push(ch),
            _ => out.push('?'),
        }
    }
    out
}

fn draw_label(content: &mut String, label: &Label, left: f64, top: f64) -> Result<(), CodeError> {
    let code = qr_code(&label.uri)?;
    let width = code.width();
    let colors = code.to_colors();
    let module = QR_SIZE / (width as f64 + 8.0);
    let origin_x = left + 4.0 * module;
    let origin_y = top - 4.0 * module;
    content.push_str("0 g\n");
    for y in 0..width {
        let mut x = 0;
        while x < width {
            if colors[y * width + x] == qrcode::Color::Dark {
                // Merge horizontal runs of dark modules into one rectangle.
                let start = x;
                while x < width && colors[y * width + x] == qrcode::Color::Dark {
                    x += 1;
                }
                let _ = writeln!(
                    content,
                    "{:.3} {:.3} {:.3} {:.3} re",
                    origin_x + start as f64 * module,
                    origin_y - (y as f64 + 1.0) * module,
                    (x - start) as f64 * module,
                    module
                );
            } else {
                x += 1;
            }
        }
    }
    content.push_str("f\n");
    let mut baseline = top - QR_SIZE - 2.0;
    let _ = writeln!(
        content,
        "BT /F1 7 Tf {:.2} {:.2} Td ({}) Tj ET",
        left + 4.0 * module,
        baseline,
        pdf_text(&label.caption)
    );
    let uri_bytes = label.uri.as_bytes();
    for chunk in uri_bytes.chunks(URI_CHARS_PER_LINE) {
        baseline -= URI_FONT + 1.2;
        let line = String::from_utf8_lossy(chunk);
        let _ = writeln!(
            content,
            "BT /F1 {URI_FONT} Tf {:.2} {:.2} Td ({}) Tj ET",
            left + 4.0 * module,
            baseline,
            pdf_text(&line)
        );
    }
    Ok(())
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Renders the labels as an A4 PDF (as many pages as needed; at least one).
pub fn label_sheet_pdf(labels: &[Label]) -> Result<Vec<u8>, CodeError> {
    let per_page = COLUMNS * ROWS;
    let cell_width = (PAGE_WIDTH - 2.0 * MARGIN) / COLUMNS as f64;
    let cell_height = (PAGE_HEIGHT - 2.0 * MARGIN) / ROWS as f64;
    let mut pages = Vec::new();
    let chunks: Vec<&[Label]> = if labels.is_empty() {
        vec![&[]]
    } else {
        labels.chunks(per_page).collect()
    };
    for page_labels in chunks {
        let mut content = String::new();
        for (slot, label) in page_labels.iter().enumerate() {
            let left = MARGIN + (slot % COLUMNS) as f64 * cell_width + (cell_width - QR_SIZE) / 2.0;
            let top = PAGE_HEIGHT - MARGIN - (slot / COLUMNS) as f64 * cell_height;
            draw_label(&mut content, label, left, top)?;
        }
        pages.push(deflate(content.as_bytes()));
    }

    // Objects: 1 catalog, 2 pages, 3 font, then per page: page object, content stream.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 4 + 2 * i))
        .collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>".to_vec(),
    );
    for (i, stream) in pages.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        let mut object = format!(
            "<< /Length {} /Filter /FlateDecode >>\nstream\n",
            stream.len()
        )
        .into_bytes();
        object.extend_from_slice(stream);
        object.extend_from_slice(b"\nendstream");
        objects.push(object);
    }
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref_offset = pdf.len();
    let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(xref, "{offset:010} 00000 n ");
    }
    let _ = write!(
        xref,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_offset}\n%%EOF\n",
        objects.len() + 1
    );
    pdf.extend_from_slice(xref.as_bytes());
    Ok(pdf)
}
