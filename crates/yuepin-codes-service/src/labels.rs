//! Label sheets of issued codes (issue #16 items 2–3): each label carries the QR of the code's
//! URI (vector, quiet zone of 4 modules), "粤品通" and what a shopper and a warehouse read — the
//! product, the producer, lot and serial — in Chinese, and the URI in small type. Two layouts:
//! A4 sheets of 3 × 4 labels for office printers, and one 60 × 40 mm label per page for
//! thermal label rolls. Written with the platform's PDF module (`yuepin-pdf`); also the CSV of
//! the same codes for a printing house.

use crate::error::{CodesError, Result};
use crate::records::CodeRecord;
use crate::store::queries;
use crate::CodesService;
use yuepin_domain::text::escape_cell;
use yuepin_domain::Caller;
use yuepin_pdf::{fit, mm, text_width, wrap, Canvas, PageSize, Pdf};

/// Labels in one downloaded file; a larger series is downloaded in parts.
pub const LABELS_PER_FILE: usize = 2_000;

/// How labels are laid out on paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelLayout {
    /// A4 sheets, 3 columns × 4 rows.
    A4,
    /// One 60 × 40 mm label per page (thermal label rolls).
    Roll,
}

impl LabelLayout {
    pub fn parse(input: &str) -> Option<Self> {
        match input {
            "a4" | "" => Some(Self::A4),
            "roll" => Some(Self::Roll),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A4 => "a4",
            Self::Roll => "roll",
        }
    }
}

/// What one label says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelText {
    pub uri: String,
    pub product: String,
    pub enterprise: String,
    pub lot: Option<String>,
    pub serial: String,
}

/// A downloadable file of a series' codes.
#[derive(Debug, Clone)]
pub struct SeriesFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Draws the QR of `uri` with its top-left corner at (x, y), `size` points square.
fn draw_qr(c: &mut Canvas<'_, '_>, uri: &str, x: f32, y: f32, size: f32) -> Result<()> {
    let (width, dark) = yuepin_code::qr::qr_modules(uri)?;
    let module = size / (width as f32 + 8.0);
    let (ox, oy) = (x + 4.0 * module, y + 4.0 * module);
    let mut rects = Vec::new();
    for row in 0..width {
        let mut col = 0;
        while col < width {
            if dark[row * width + col] {
                // One rectangle per horizontal run of dark modules.
                let start = col;
                while col < width && dark[row * width + col] {
                    col += 1;
                }
                rects.push((
                    ox + start as f32 * module,
                    oy + row as f32 * module,
                    (col - start) as f32 * module,
                    module,
                ));
            } else {
                col += 1;
            }
        }
    }
    c.fill_rects(&rects);
    Ok(())
}

/// `text` in at most two lines of `width`, the second shortened with "…" if need be.
fn two_lines(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = wrap(text, size, width);
    if lines.len() > 2 {
        let rest = lines[1..].concat();
        lines.truncate(1);
        lines.push(fit(&rest, size, width));
    }
    lines
}

/// Text lines under or beside a QR, from `top`, each fitted into `width`.
fn draw_lines(c: &mut Canvas<'_, '_>, l: &LabelText, x: f32, top: f32, width: f32, size: f32) {
    let mut y = top + size;
    c.text(
        x,
        y,
        size + 1.0,
        if text_width("粤品通 · 产品质量信用码", size + 1.0) <= width {
            "粤品通 · 产品质量信用码"
        } else {
            "粤品通"
        },
    );
    y += size * 1.5;
    let lot = l.lot.as_ref().map(|lot| format!("批次 {lot}"));
    let serial = format!("序列号 {}", l.serial);
    // Product and producer take up to two lines each (names are long, labels narrow).
    let mut lines = two_lines(&l.product, size, width);
    lines.extend(two_lines(&l.enterprise, size, width));
    lines.extend(lot.iter().chain([&serial]).map(|t| fit(t, size, width)));
    for line in lines {
        c.text(x, y, size, &line);
        y += size * 1.35;
    }
    let small = size * 0.55;
    for line in wrap(&l.uri, small, width).iter().take(4) {
        c.text(x, y, small, line);
        y += small * 1.3;
    }
}

/// The labels as a PDF in `layout` (at least one page).
pub fn label_sheet(labels: &[LabelText], layout: LabelLayout, title: &str) -> Result<Vec<u8>> {
    let pdf_error = |e: yuepin_pdf::PdfError| CodesError::Labels(e.to_string());
    let mut pdf = Pdf::new(title).map_err(pdf_error)?;
    let mut failed = None;
    match layout {
        LabelLayout::A4 => {
            let (columns, rows, margin) = (3usize, 4usize, 28.0f32);
            let page = PageSize::A4;
            let cell_w = (page.width - 2.0 * margin) / columns as f32;
            let cell_h = (page.height - 2.0 * margin) / rows as f32;
            let chunks: Vec<&[LabelText]> = if labels.is_empty() {
                vec![&[]]
            } else {
                labels.chunks(columns * rows).collect()
            };
            for chunk in chunks {
                pdf.page(page, |c| {
                    for (slot, l) in chunk.iter().enumerate() {
                        let x = margin + (slot % columns) as f32 * cell_w;
                        let y = margin + (slot / columns) as f32 * cell_h;
                        let qr = 120.0;
                        c.outline(x + 2.0, y + 2.0, cell_w - 4.0, cell_h - 4.0, 0.3);
                        if let Err(e) = draw_qr(c, &l.uri, x + (cell_w - qr) / 2.0, y + 4.0, qr) {
                            failed.get_or_insert(e);
                        }
                        draw_lines(c, l, x + 10.0, y + qr + 4.0, cell_w - 20.0, 7.5);
                    }
                })
                .map_err(pdf_error)?;
            }
        }
        LabelLayout::Roll => {
            let page = PageSize::mm(60.0, 40.0);
            for l in labels {
                pdf.page(page, |c| {
                    let qr = mm(36.0);
                    if let Err(e) = draw_qr(c, &l.uri, mm(1.0), mm(2.0), qr) {
                        failed.get_or_insert(e);
                    }
                    draw_lines(c, l, mm(37.0), mm(3.0), mm(22.0), 5.0);
                })
                .map_err(pdf_error)?;
            }
            if labels.is_empty() {
                pdf.page(page, |_| {}).map_err(pdf_error)?;
            }
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    pdf.finish().map_err(pdf_error)
}

impl CodesService {
    /// The labels of codes just issued (see [`CodesService::issue`]).
    pub async fn issued_labels(&self, issued: &crate::Issued) -> Result<Vec<LabelText>> {
        let enterprise = self
            .registry()
            .enterprise_by_id(issued.product.enterprise_id)
            .await?;
        Ok(issued
            .codes
            .iter()
            .map(|c| LabelText {
                uri: c.uri.clone(),
                product: issued.product.product.name.clone(),
                enterprise: enterprise.enterprise.name.clone(),
                lot: issued.series.lot.clone(),
                serial: c.serial.as_str().to_string(),
            })
            .collect())
    }

    /// The labels of `count` codes of a series from its `offset`-th (issuing order), for the
    /// series' enterprise or a regulator; a part of at most [`LABELS_PER_FILE`]. With the
    /// codes' records (status, issue date), for the web's code-list exports.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn series_labels(
        &self,
        caller: &Caller,
        series_id: i64,
        offset: usize,
    ) -> Result<(Vec<LabelText>, Vec<CodeRecord>)> {
        let series = self.readable_series(caller, series_id).await?;
        let codes = queries::codes_of_series(
            &self.store,
            series_id,
            i64::try_from(offset).unwrap_or(i64::MAX),
            LABELS_PER_FILE as i64,
        )
        .await?;
        let product = self.registry().product(series.product_id).await?;
        let enterprise = self
            .registry()
            .enterprise_by_id(series.enterprise_id)
            .await?;
        let labels = codes
            .iter()
            .map(|c| LabelText {
                uri: c.uri.clone(),
                product: product.product.name.clone(),
                enterprise: enterprise.enterprise.name.clone(),
                lot: c.lot.clone(),
                serial: c.serial.clone(),
            })
            .collect();
        Ok((labels, codes))
    }

    /// A PDF label sheet of part of a series (see [`LABELS_PER_FILE`]).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn series_label_pdf(
        &self,
        caller: &Caller,
        series_id: i64,
        offset: usize,
        layout: LabelLayout,
    ) -> Result<SeriesFile> {
        let (labels, _) = self.series_labels(caller, series_id, offset).await?;
        let title = format!(
            "粤品通标签 · 码段 {series_id} · 第{}–{}个",
            offset + 1,
            offset + labels.len()
        );
        Ok(SeriesFile {
            file_name: format!(
                "labels-series-{series_id}-{}-{}.pdf",
                offset + 1,
                layout.as_str()
            ),
            bytes: label_sheet(&labels, layout, &title)?,
        })
    }

    /// The same part of a series as CSV (UTF-8 with BOM, Chinese headers) for a printing house.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn series_codes_csv(
        &self,
        caller: &Caller,
        series_id: i64,
        offset: usize,
    ) -> Result<SeriesFile> {
        let (labels, codes) = self.series_labels(caller, series_id, offset).await?;
        let csv_error = |e: csv::Error| CodesError::Labels(e.to_string());
        let mut out = Vec::from("\u{feff}".as_bytes());
        {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "序号",
                "码URI",
                "产品",
                "生产企业",
                "批次",
                "序列号",
                "签发日期",
            ])
            .map_err(csv_error)?;
            for (i, (l, c)) in labels.iter().zip(&codes).enumerate() {
                w.write_record([
                    (offset + i + 1).to_string(),
                    l.uri.clone(),
                    escape_cell(&l.product).into_owned(),
                    escape_cell(&l.enterprise).into_owned(),
                    escape_cell(l.lot.as_deref().unwrap_or_default()).into_owned(),
                    l.serial.clone(),
                    c.issued_on.to_string(),
                ])
                .map_err(csv_error)?;
            }
            w.flush().map_err(|e| CodesError::Labels(e.to_string()))?;
        }
        Ok(SeriesFile {
            file_name: format!("codes-series-{series_id}-{}.csv", offset + 1),
            bytes: out,
        })
    }
}
