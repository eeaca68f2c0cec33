//! Exports enterprises, products and events in the import column sets: CSV (UTF-8 with BOM so
//! Excel shows Chinese correctly) and XLSX, so an exported file re-imports to the same data.

use crate::columns::{self, ColumnSpec};
use crate::enterprise::format_designations;
use crate::event::EventRecord;
use crate::source::float_text;
use std::borrow::Cow;
use std::io::Write;
use yuepin_domain::text::escape_cell;
use yuepin_domain::{Enterprise, InspectionResult, Product, QualityEventKind, StandardRole};

/// Which header names an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderLanguage {
    #[default]
    English,
    Chinese,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("写出CSV失败 (writing CSV failed): {0}")]
    Csv(#[from] csv::Error),
    #[error("写出XLSX失败 (writing XLSX failed): {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("写出失败 (write failed): {0}")]
    Io(#[from] std::io::Error),
    /// A text longer than a workbook cell holds (checked before anything is written).
    #[error(
        "第{row}行“{column}”有{chars}个字符，超过工作簿单元格上限{max} \
         (row {row}, {column}: {chars} characters, a workbook cell holds {max}); \
         请改用CSV导出 (export as CSV instead)",
        max = yuepin_domain::text::MAX_TEXT_CHARS
    )]
    CellTooLong {
        /// The sheet row as a spreadsheet numbers it (the header is row 1).
        row: u32,
        column: String,
        chars: usize,
    },
}

/// A dataset that can be written in its import column set.
pub trait Export {
    /// Revenue years the rows need columns for (enterprises only).
    fn years(_rows: &[Self]) -> Vec<i32>
    where
        Self: Sized,
    {
        Vec::new()
    }
    fn header(years: &[i32], language: HeaderLanguage) -> Vec<String>;
    /// This row's cells, in header order.
    fn fields(&self, years: &[i32], out: &mut Vec<String>);
    /// Which header positions hold numbers (written as numbers to XLSX when exact).
    fn numeric(years: &[i32]) -> Vec<bool>;
}

fn spec_headers(specs: &[ColumnSpec], language: HeaderLanguage) -> Vec<String> {
    specs
        .iter()
        .map(|s| match language {
            HeaderLanguage::English => s.en.to_string(),
            HeaderLanguage::Chinese => s.zh.to_string(),
        })
        .collect()
}

fn numeric_by_name(specs: &[ColumnSpec], names: &[&str]) -> Vec<bool> {
    specs.iter().map(|s| names.contains(&s.en)).collect()
}

impl Export for Enterprise {
    fn years(rows: &[Self]) -> Vec<i32> {
        let mut years: Vec<i32> = rows
            .iter()
            .flat_map(|e| e.financials.iter().map(|f| f.year))
            .collect();
        years.sort_unstable();
        years.dedup();
        years
    }

    fn header(years: &[i32], language: HeaderLanguage) -> Vec<String> {
        let mut h = spec_headers(columns::enterprise::SPECS, language);
        for y in years {
            h.push(match language {
                HeaderLanguage::English => format!("revenue_china_{y}"),
                HeaderLanguage::Chinese => format!("营业收入_境内_{y}"),
            });
        }
        for y in years {
            h.push(match language {
                HeaderLanguage::English => format!("revenue_world_{y}"),
                HeaderLanguage::Chinese => format!("营业收入_全球_{y}"),
            });
        }
        h
    }

    fn fields(&self, years: &[i32], out: &mut Vec<String>) {
        out.extend([
            self.uscc.to_string(),
            self.name.clone(),
            self.region.to_string(),
            self.division.to_string(),
            self.registered_capital.to_string(),
            self.employees.to_string(),
            self.founded_on.to_string(),
            self.listing.as_str().to_string(),
            format_designations(&self.designations),
        ]);
        let of_year = |y: i32| self.financials.iter().find(|f| f.year == y);
        for &y in years {
            out.push(of_year(y).map_or_else(String::new, |f| f.revenue_china.to_string()));
        }
        for &y in years {
            out.push(
                of_year(y)
                    .and_then(|f| f.revenue_world)
                    .map_or_else(String::new, |w| w.to_string()),
            );
        }
    }

    fn numeric(years: &[i32]) -> Vec<bool> {
        let mut n = numeric_by_name(
            columns::enterprise::SPECS,
            &["registered_capital", "employees"],
        );
        n.extend(std::iter::repeat_n(true, years.len() * 2));
        n
    }
}

impl Export for Product {
    fn header(_years: &[i32], language: HeaderLanguage) -> Vec<String> {
        spec_headers(columns::product::SPECS, language)
    }

    fn fields(&self, _years: &[i32], out: &mut Vec<String>) {
        out.extend([
            self.enterprise.to_string(),
            self.name.clone(),
            self.brand.clone(),
            self.model.clone(),
            self.gtin
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
            self.category.clone(),
            self.standard
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
        ]);
    }

    fn numeric(_years: &[i32]) -> Vec<bool> {
        vec![false; columns::product::SPECS.len()]
    }
}

impl Export for EventRecord {
    fn header(_years: &[i32], language: HeaderLanguage) -> Vec<String> {
        spec_headers(columns::event::SPECS, language)
    }

    fn fields(&self, _years: &[i32], out: &mut Vec<String>) {
        use columns::event as c;
        let start = out.len();
        out.resize(start + c::SPECS.len(), String::new());
        let row = &mut out[start..];
        let e = &self.event;
        row[c::USCC] = e.enterprise.to_string();
        row[c::PRODUCT_MODEL] = self.product_model.clone().unwrap_or_default();
        row[c::DATE] = e.date.to_string();
        row[c::KIND] = e.kind.code().to_string();
        match &e.kind {
            QualityEventKind::Inspection {
                agency,
                report_no,
                result,
                failed_items,
            } => {
                row[c::AGENCY] = agency.clone();
                row[c::REPORT_NO] = report_no.clone();
                row[c::RESULT] = match result {
                    InspectionResult::Pass => "pass",
                    InspectionResult::Fail => "fail",
                }
                .to_string();
                row[c::FAILED_ITEMS] = failed_items.join("; ");
            }
            QualityEventKind::Certification(cert) => {
                row[c::SCHEME] = cert.scheme.clone();
                row[c::NUMBER] = cert.number.clone();
                row[c::ISSUER] = cert.issuer.clone();
                row[c::VALID_FROM] = cert.valid_from.to_string();
                row[c::VALID_UNTIL] = cert.valid_until.to_string();
            }
            QualityEventKind::Award { name, level } => {
                row[c::AWARD_NAME] = name.clone();
                row[c::AWARD_LEVEL] = level.clone();
            }
            QualityEventKind::Standard { code, level, role } => {
                row[c::STANDARD_CODE] = code.to_string();
                row[c::STANDARD_LEVEL] = level.as_str().to_string();
                row[c::ROLE] = match role {
                    StandardRole::Lead => "lead",
                    StandardRole::Participant => "participant",
                }
                .to_string();
            }
            QualityEventKind::Penalty {
                authority,
                decision_no,
                amount,
                serious,
                reason,
            } => {
                row[c::AUTHORITY] = authority.clone();
                row[c::DECISION_NO] = decision_no.clone();
                row[c::AMOUNT] = amount.to_string();
                row[c::SERIOUS] = serious.to_string();
                row[c::REASON] = reason.clone();
            }
        }
    }

    fn numeric(_years: &[i32]) -> Vec<bool> {
        numeric_by_name(columns::event::SPECS, &["amount"])
    }
}

/// Streaming CSV export: writes the BOM and header on creation, then one row per `write`.
pub struct CsvExporter<W: Write, T: Export> {
    writer: csv::Writer<W>,
    years: Vec<i32>,
    numeric: Vec<bool>,
    buffer: Vec<String>,
    _rows: std::marker::PhantomData<fn(&T)>,
}

impl<W: Write, T: Export> std::fmt::Debug for CsvExporter<W, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvExporter")
            .field("years", &self.years)
            .finish()
    }
}

impl<W: Write, T: Export> CsvExporter<W, T> {
    /// `years`: the revenue years to give columns to (see [`Export::years`]; empty for products
    /// and events).
    pub fn new(mut out: W, years: Vec<i32>, language: HeaderLanguage) -> Result<Self, ExportError> {
        out.write_all(b"\xEF\xBB\xBF")?;
        let mut writer = csv::WriterBuilder::new()
            .buffer_capacity(256 * 1024)
            .from_writer(out);
        writer.write_record(T::header(&years, language))?;
        Ok(Self {
            writer,
            numeric: T::numeric(&years),
            years,
            buffer: Vec::new(),
            _rows: std::marker::PhantomData,
        })
    }

    pub fn write(&mut self, row: &T) -> Result<(), ExportError> {
        self.buffer.clear();
        row.fields(&self.years, &mut self.buffer);
        for (col, text) in self.buffer.iter_mut().enumerate() {
            if !is_number(&self.numeric, col, text) {
                if let Cow::Owned(escaped) = escape_cell(text) {
                    *text = escaped;
                }
            }
        }
        self.writer.write_record(&self.buffer)?;
        Ok(())
    }

    /// Flushes and hands back the writer.
    pub fn finish(self) -> Result<W, ExportError> {
        self.writer
            .into_inner()
            .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))
    }
}

/// Whether a cell of a numeric column holds a number (written as is: `-5` is not a formula).
fn is_number(numeric: &[bool], col: usize, text: &str) -> bool {
    numeric.get(col).copied().unwrap_or(false) && text.parse::<f64>().is_ok()
}

/// Writes `rows` as a UTF-8 (BOM) CSV in the import column set; text cells that a spreadsheet
/// would read as a formula get a leading `'` (`yuepin_domain::text::escape_cell`).
pub fn export_csv<T: Export, W: Write>(
    out: W,
    rows: &[T],
    language: HeaderLanguage,
) -> Result<W, ExportError> {
    let mut exporter = CsvExporter::new(out, T::years(rows), language)?;
    for row in rows {
        exporter.write(row)?;
    }
    exporter.finish()
}

/// Writes `rows` as an XLSX workbook with one sheet in the import column set. Codes, dates and
/// text are text cells (so GTINs and credit codes keep every digit); counts and amounts are
/// numbers where a float represents them exactly.
pub fn export_xlsx<T: Export, W: Write>(
    mut out: W,
    rows: &[T],
    language: HeaderLanguage,
) -> Result<W, ExportError> {
    let years = T::years(rows);
    let numeric = T::numeric(&years);
    let header = T::header(&years, language);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, name, &bold)?;
    }
    let mut buffer = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        buffer.clear();
        row.fields(&years, &mut buffer);
        for (col, text) in buffer.iter().enumerate() {
            if text.is_empty() {
                continue;
            }
            let exact_number = numeric
                .get(col)
                .copied()
                .unwrap_or(false)
                .then(|| text.parse::<f64>().ok())
                .flatten()
                .filter(|f| float_text(*f) == *text);
            match exact_number {
                Some(f) => sheet.write_number(r, col as u16, f)?,
                None => {
                    let cell = escape_cell(text);
                    let chars = cell.chars().count();
                    if chars > yuepin_domain::text::MAX_TEXT_CHARS {
                        return Err(ExportError::CellTooLong {
                            row: r + 1,
                            column: header.get(col).cloned().unwrap_or_default(),
                            chars,
                        });
                    }
                    sheet.write_string(r, col as u16, cell)?
                }
            };
        }
    }
    out.write_all(&book.save_to_buffer()?)?;
    Ok(out)
}
