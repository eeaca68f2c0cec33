//! Import errors: file-level problems (unreadable file, wrong columns) that stop an import before
//! any row is read, and row-level problems that name the spreadsheet row, the column and why.

use std::fmt;

/// A problem with the file as a whole; no row was parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("无法读取文件 (cannot read the file): {0}")]
    Read(String),
    #[error("无法读取Excel文件 (not a readable XLSX/XLS/ODS workbook): {0}")]
    Workbook(String),
    #[error("文件为空，缺少表头行 (the file is empty: a header row is required)")]
    Empty,
    #[error(
        "表头不符 (header does not match the {dataset} column set){missing}{unknown}{duplicated}; \
         可用的列 (expected columns): {expected}",
        missing = list_part("缺少必填列 (missing required columns)", missing),
        unknown = list_part("无法识别的列 (unknown columns)", unknown),
        duplicated = list_part("重复的列 (columns given twice)", duplicated),
        expected = expected.join(", ")
    )]
    Columns {
        dataset: &'static str,
        missing: Vec<String>,
        unknown: Vec<String>,
        duplicated: Vec<String>,
        /// Every accepted column, English name with its Chinese name.
        expected: Vec<String>,
    },
}

fn list_part(label: &str, items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!("; {label}: {}", items.join(", "))
    }
}

/// One problem in one row. A row with several bad cells yields several of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based row number as the spreadsheet shows it; the header is row 1.
    pub row: usize,
    /// The column's header as written in the file (or the canonical name when the column is absent).
    pub column: String,
    /// Why the value was rejected, in Chinese and English.
    pub reason: String,
}

impl RowError {
    pub fn new(row: usize, column: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            row,
            column: column.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "第{}行 (row {}): {}", self.row, self.row, self.reason)
        } else {
            write!(
                f,
                "第{}行 (row {}), 列 (column) {}: {}",
                self.row, self.row, self.column, self.reason
            )
        }
    }
}

impl std::error::Error for RowError {}
