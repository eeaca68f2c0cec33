//! Import and export of Yuepin's bulk data: enterprises, products and quality events from CSV
//! (UTF-8 or GBK/GB18030) and XLSX with Chinese or English headers, parsed into `yuepin-domain`
//! values with every problem reported by spreadsheet row and column; and exports in the same
//! column sets. Pure: it reads from `io::Read` and writes to `io::Write`, it opens no files.
//!
//! ```no_run
//! # use yuepin_import::*;
//! # let file = std::io::Cursor::new(Vec::<u8>::new());
//! let rows = Rows::<yuepin_domain::Enterprise>::open(file, ImportOptions::default())?;
//! match validate_all(rows.on_progress(|done, total| eprintln!("{done}/{total}"))) {
//!     Ok(enterprises) => { /* write all in one transaction */ }
//!     Err(errors) => for e in errors { eprintln!("{e}") },
//! }
//! # Ok::<(), FileError>(())
//! ```

pub mod columns;
mod enterprise;
mod error;
mod event;
mod export;
mod fast;
mod product;
mod rows;
mod source;

pub use enterprise::{format_designations, parse_designations};
pub use error::{FileError, RowError};
pub use event::{event_natural_key, parse_award_level, parse_failed_items, EventRecord};
pub use export::{export_csv, export_xlsx, CsvExporter, Export, ExportError, HeaderLanguage};
pub use rows::{validate_all, Cells, ProgressFn, Record, Rows};
pub use source::{Format, ImportOptions, TextEncoding};

/// Why a whole-file import produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{} 行有错误 ({} errors), 未导入任何数据 (nothing imported)", .0.len(), .0.len())]
    Rows(Vec<RowError>),
}

/// Opens, parses and validates a whole file: every row or every problem.
pub fn import_all<T: Record, R: std::io::Read + std::io::Seek + Send + 'static>(
    input: R,
    options: ImportOptions,
) -> Result<Vec<T>, ImportFailure> {
    let rows = Rows::<T>::open(input, options)?;
    validate_all(rows).map_err(ImportFailure::Rows)
}
