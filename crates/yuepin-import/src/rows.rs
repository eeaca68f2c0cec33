//! The streaming row reader shared by all datasets: header binding, per-row parsing into domain
//! values, duplicate-key detection across the file, progress reporting, and `validate_all`.

use crate::columns::Binding;
use crate::error::{FileError, RowError};
use crate::source::{ImportOptions, Next, Table};
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Seek};
use yuepin_domain::text::{text_problem, unescape_cell};
use yuepin_domain::DomainError;

/// A dataset whose rows can be imported: its column set and how one row becomes a value.
pub trait Record: Sized {
    /// Name used in messages ("enterprises", "products", "events").
    const DATASET: &'static str;
    fn bind(headers: &[String]) -> Result<Binding, FileError>;
    /// Parses one row; problems go to `cells.errors` and the result is then `None`.
    fn parse(cells: &mut Cells<'_>) -> Option<Self>;
    /// Identity of the row within its dataset: a re-import with the same key updates, and two
    /// rows with the same key in one file are an error.
    fn natural_key(&self) -> String;
    /// Index (into the column set) of the column named in duplicate-key errors.
    fn key_column(&self) -> usize;
}

/// One record's cells with the binding, collecting the row's errors.
pub struct Cells<'a> {
    pub(crate) record: &'a csv::StringRecord,
    pub(crate) binding: &'a Binding,
    pub(crate) row: usize,
    pub(crate) errors: Vec<RowError>,
}

impl<'a> Cells<'a> {
    /// The trimmed text of a column; empty when the file lacks the column or the cell. A
    /// formula escape of our exports (`'=…`) is taken off (`yuepin_domain::text`).
    pub fn text(&self, column: usize) -> &'a str {
        self.text_at(self.binding.index[column])
    }

    pub fn text_at(&self, position: Option<usize>) -> &'a str {
        let record: &'a csv::StringRecord = self.record;
        position
            .and_then(|pos| record.get(pos))
            .map_or("", |t| unescape_cell(t.trim()))
    }

    pub fn row(&self) -> usize {
        self.row
    }

    /// Records an error against a column of the column set.
    pub fn fail(&mut self, column: usize, reason: impl Into<String>) {
        let name = self.binding.name(column).to_string();
        self.errors.push(RowError::new(self.row, name, reason));
    }

    pub fn fail_at(&mut self, position: usize, reason: impl Into<String>) {
        let name = self.binding.name_at(position).to_string();
        self.errors.push(RowError::new(self.row, name, reason));
    }

    /// Keeps the value or records the domain error against `column`.
    pub fn check<T>(&mut self, column: usize, result: Result<T, DomainError>) -> Option<T> {
        result.map_err(|e| self.fail(column, e.reason)).ok()
    }

    /// Parses a column's text with `parse`, recording a failure.
    pub fn parse_with<T>(
        &mut self,
        column: usize,
        parse: impl FnOnce(&str) -> Result<T, DomainError>,
    ) -> Option<T> {
        let result = parse(self.text(column));
        self.check(column, result)
    }
}

/// Progress callback: (bytes read, total bytes).
pub type ProgressFn = Box<dyn FnMut(u64, u64) + Send>;

/// How many rows pass between progress callbacks (keeps the hook off the hot path).
const PROGRESS_EVERY: usize = 4096;

/// Streaming reader of one dataset: yields each parsed row or, for a bad row, one error per
/// problem. The caller writes inside a transaction and commits only if no error came.
pub struct Rows<T: Record> {
    table: Table,
    binding: Binding,
    record: csv::StringRecord,
    /// Natural key → row where it first appeared.
    seen: HashMap<String, usize>,
    pending: VecDeque<RowError>,
    progress: Option<ProgressFn>,
    since_progress: usize,
    finished: bool,
    _dataset: std::marker::PhantomData<fn() -> T>,
}

impl<T: Record> std::fmt::Debug for Rows<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("dataset", &T::DATASET)
            .field("row", &self.table.row)
            .finish()
    }
}

impl<T: Record> Rows<T> {
    /// Reads the header and checks it against the dataset's column set.
    pub fn open<R: Read + Seek + Send + 'static>(
        input: R,
        options: ImportOptions,
    ) -> Result<Self, FileError> {
        let table = Table::open(input, options)?;
        let binding = T::bind(&table.headers)?;
        Ok(Self {
            table,
            binding,
            record: csv::StringRecord::new(),
            seen: HashMap::new(),
            pending: VecDeque::new(),
            progress: None,
            since_progress: 0,
            finished: false,
            _dataset: std::marker::PhantomData,
        })
    }

    /// Calls `progress(bytes_read, total_bytes)` every few thousand rows and once at the end.
    pub fn on_progress(mut self, progress: impl FnMut(u64, u64) + Send + 'static) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Total input size in bytes, as used by the progress callback.
    pub fn total_bytes(&self) -> u64 {
        self.table.total_bytes
    }

    /// Years of revenue columns present in the file (enterprises only; empty otherwise).
    pub fn revenue_years(&self) -> Vec<i32> {
        self.binding.revenue.keys().copied().collect()
    }

    fn report_progress(&mut self, force: bool) {
        self.since_progress += 1;
        if force || self.since_progress >= PROGRESS_EVERY {
            self.since_progress = 0;
            let done = if force {
                self.table.total_bytes
            } else {
                self.table.bytes_done()
            };
            let total = self.table.total_bytes;
            if let Some(p) = self.progress.as_mut() {
                p(done, total);
            }
        }
    }
}

impl<T: Record> Iterator for Rows<T> {
    type Item = Result<T, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.pop_front() {
            return Some(Err(e));
        }
        if self.finished {
            return None;
        }
        let row = match self.table.next_record(&mut self.record) {
            Next::End => {
                self.finished = true;
                self.report_progress(true);
                return None;
            }
            Next::Error(mut e, position) => {
                if let Some(pos) = position {
                    e.column = self.binding.name_at(pos).to_string();
                }
                return Some(Err(e));
            }
            Next::Record(row) => row,
        };
        self.report_progress(false);
        let mut cells = Cells {
            record: &self.record,
            binding: &self.binding,
            row,
            errors: Vec::new(),
        };
        // Control characters, bytes that did not decode (U+FFFD) and text longer than a
        // workbook cell holds are refused in every cell, by row and column.
        for (pos, text) in self.record.iter().enumerate() {
            if let Some(reason) = text_problem(text) {
                cells.fail_at(pos, reason);
            }
        }
        let parsed = T::parse(&mut cells);
        let mut errors = cells.errors;
        let value = match parsed {
            Some(value) if errors.is_empty() => {
                let key = value.natural_key();
                match self.seen.get(&key) {
                    Some(&first) => {
                        errors.push(RowError::new(
                            row,
                            self.binding.name(value.key_column()),
                            format!("与第{first}行重复 (duplicate of row {first}: same key {key})"),
                        ));
                        None
                    }
                    None => {
                        self.seen.insert(key, row);
                        Some(value)
                    }
                }
            }
            _ => None,
        };
        match value {
            Some(v) => Some(Ok(v)),
            None => {
                let mut errors = errors.into_iter();
                let first = errors
                    .next()
                    .unwrap_or_else(|| RowError::new(row, "", "无法解析 (could not be parsed)"));
                self.pending.extend(errors);
                Some(Err(first))
            }
        }
    }
}

/// All rows, or every error of the file (none of the rows when any error occurred).
pub fn validate_all<T: Record>(rows: Rows<T>) -> Result<Vec<T>, Vec<RowError>> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for item in rows {
        match item {
            Ok(v) if errors.is_empty() => values.push(v),
            Ok(_) => {}
            Err(e) => {
                values.clear();
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}
