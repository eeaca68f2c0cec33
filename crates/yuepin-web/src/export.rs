//! Table downloads of the pages (issue #16 item 9): the directory, applications and grants,
//! a series' codes and lab bookings as CSV (UTF-8 with BOM, so Excel reads the Chinese) or
//! XLSX (one sheet), with headers and values in the reader's language: Chinese by default,
//! English with `?lang=en` (the language switch of every page). Values are written as people
//! read them on the pages: regions and industries by name, money in 元 with two decimals,
//! dates as 2026-12-01 and times in China time, statuses in words.
//!
//! The rows come from the capability's service with the caller (role and tenant are decided
//! there); this module only words and writes them. A text cell that a spreadsheet would run as
//! a formula (`= + - @`, tab, CR) gets a leading `'` (`yuepin_domain::text::escape_cell`);
//! counts and amounts are numbers. An export that hit its cap ends with a note row saying how
//! many rows it holds and how to narrow the filter, and says the same in the
//! `x-export-capped` header.

use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use yuepin_domain::text::escape_cell;
use yuepin_domain::{reference, Yuan};

/// CSV or XLSX, from the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Written as 1234.50 (CSV) or a number formatted `#,##0.00` (XLSX); the header says 元.
    Money(Yuan),
    Empty,
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

impl From<Yuan> for Cell {
    fn from(y: Yuan) -> Self {
        Cell::Money(y)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// An export being built: headers in the reader's language, then rows.
#[derive(Debug, Clone)]
pub struct Table {
    /// The file's name without extension (ASCII, e.g. `enterprises`).
    pub file: String,
    pub sheet: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Written after the rows when the export was capped.
    pub note: Option<String>,
}

impl Table {
    /// A table named `file`, its sheet and headers as (Chinese, English) pairs.
    pub fn new(
        tr: Tr,
        file: impl Into<String>,
        sheet: (&str, &str),
        headers: &[(&str, &str)],
    ) -> Self {
        Self {
            file: file.into(),
            sheet: tr.t(sheet.0, sheet.1).to_string(),
            headers: headers
                .iter()
                .map(|(zh, en)| tr.t(zh, en).to_string())
                .collect(),
            rows: Vec::new(),
            note: None,
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// Notes that the export holds only its first rows of more: how many, and (`what_next`, a
    /// sentence in each language) how to narrow the filter.
    pub fn capped(&mut self, tr: Tr, what_next: (&str, &str)) {
        let n = self.rows.len();
        self.note = Some(if tr.is_en() {
            format!(
                "Note: only the first {n} rows are exported; more match. {}",
                what_next.1
            )
        } else {
            format!("注：仅导出前{n}行，符合条件的记录更多。{}", what_next.0)
        });
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn money_text(y: Yuan) -> String {
    format!("{:.2}", y.decimal())
}

/// The table as CSV: UTF-8 with BOM, CRLF line ends, formula-like text escaped.
pub fn csv_bytes(t: &Table) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let mut line = |cells: Vec<String>| {
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    line(t.headers.iter().map(|h| csv_field(h)).collect());
    for row in &t.rows {
        line(
            row.iter()
                .map(|c| match c {
                    Cell::Text(s) => csv_field(&escape_cell(s)),
                    Cell::Int(n) => n.to_string(),
                    Cell::Money(y) => money_text(*y),
                    Cell::Empty => String::new(),
                })
                .collect(),
        );
    }
    if let Some(note) = &t.note {
        line(vec![csv_field(&escape_cell(note))]);
    }
    out.into_bytes()
}

/// The table as an XLSX workbook of one sheet: bold headers, numbers as numbers, money with
/// two decimals, every other cell as text (never a formula).
pub fn xlsx_bytes(t: &Table) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format as CellFormat, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    // Sheet names: at most 31 characters, none of []:*?/\ .
    let name: String = t
        .sheet
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    sheet.set_name(name)?;
    let bold = CellFormat::new().set_bold();
    let money = CellFormat::new().set_num_format("#,##0.00");
    for (j, h) in t.headers.iter().enumerate() {
        sheet.write_string_with_format(0, j as u16, h, &bold)?;
    }
    for (i, row) in t.rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (j, c) in row.iter().enumerate() {
            let j = j as u16;
            match c {
                Cell::Text(s) if !s.is_empty() => {
                    sheet.write_string(r, j, escape_cell(s))?;
                }
                Cell::Int(n) => {
                    sheet.write_number(r, j, *n as f64)?;
                }
                Cell::Money(y) => {
                    let v: f64 = money_text(*y).parse().unwrap_or_default();
                    sheet.write_number_with_format(r, j, v, &money)?;
                }
                _ => {}
            }
        }
    }
    if let Some(note) = &t.note {
        sheet.write_string_with_format(t.rows.len() as u32 + 2, 0, escape_cell(note), &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// The table as a download in `format` (XLSX written off the async threads).
pub async fn download(t: Table, format: Format) -> WebResult<Response> {
    let name = format!("{}.{}", t.file, format.extension());
    let rows = t.rows.len();
    let capped = t.note.is_some();
    let bytes = match format {
        Format::Csv => csv_bytes(&t),
        Format::Xlsx => tokio::task::spawn_blocking(move || xlsx_bytes(&t))
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?
            .map_err(|e| WebError::Internal(format!("xlsx: {e}")))?,
    };
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (
                header::HeaderName::from_static("x-export-rows"),
                rows.to_string(),
            ),
            (
                header::HeaderName::from_static("x-export-capped"),
                capped.to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A city (or any region code of it) by name in the reader's language; unknown codes as they are.
pub fn city_name(tr: Tr, code: &str) -> String {
    reference::find_city(code)
        .map(|c| tr.t(&c.name_zh, &c.name_en).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// An industry (GB/T 4754 division) by name in the reader's language.
pub fn division_name(tr: Tr, code: i64) -> String {
    u8::try_from(code)
        .ok()
        .and_then(reference::find_division)
        .map(|d| tr.t(&d.name_zh, &d.name_en).to_string())
        .unwrap_or_else(|| code.to_string())
}

pub use crate::page::china_time;

/// Yes or no in the reader's language.
pub fn yes_no(tr: Tr, v: bool) -> &'static str {
    if v {
        tr.t("是", "yes")
    } else {
        tr.t("否", "no")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn csv_has_a_bom_escapes_formulas_and_writes_money_with_two_decimals() {
        let tr = Tr { lang: Lang::Zh };
        let mut t = Table::new(
            tr,
            "t",
            ("表", "t"),
            &[("名称", "name"), ("金额（元）", "amount")],
        );
        t.push(vec![
            "=HYPERLINK(\"x\")".into(),
            Yuan::from_fen(123_450).into(),
        ]);
        t.push(vec!["a,b".into(), Cell::Int(-5)]);
        t.capped(tr, ("请按地市缩小范围后再导出。", "Narrow by city."));
        let s = String::from_utf8(csv_bytes(&t)).unwrap();
        assert!(s.starts_with("\u{feff}名称,金额（元）\r\n"), "{s}");
        assert!(s.contains("\"'=HYPERLINK(\"\"x\"\")\",1234.50\r\n"), "{s}");
        assert!(s.contains("\"a,b\",-5\r\n"), "{s}");
        assert!(s.contains("注：仅导出前2行"), "{s}");
        assert!(!xlsx_bytes(&t).unwrap().is_empty());
    }
}
