//! Turning input bytes into header + records: CSV in UTF-8 (BOM optional) or GBK/GB18030 with
//! detection, or the first sheet of an XLSX/XLS/ODS workbook. Counts bytes read for progress bars.

use crate::error::{FileError, RowError};
use calamine::{Data, Range, Reader as _};
use std::collections::VecDeque;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How the file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Decide from the first bytes: a ZIP (XLSX/ODS) or OLE (XLS) signature means a workbook.
    #[default]
    Auto,
    Csv,
    /// XLSX (also XLS/XLSB/ODS, via calamine): the first sheet is read.
    Xlsx,
}

impl Format {
    /// From a file name's extension, for the CLI (`.xlsx`, `.xls`, `.xlsb`, `.ods` → workbook).
    pub fn from_file_name(name: &str) -> Format {
        let lower = name.to_ascii_lowercase();
        if [".xlsx", ".xls", ".xlsb", ".xlsm", ".ods"]
            .iter()
            .any(|e| lower.ends_with(e))
        {
            Format::Xlsx
        } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
            Format::Csv
        } else {
            Format::Auto
        }
    }
}

/// The character encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// Valid UTF-8 (judged on the first 64 KiB) → UTF-8, otherwise GB18030.
    #[default]
    Auto,
    Utf8,
    /// GB18030, a superset of GBK and GB2312, so it reads all three.
    Gb18030,
}

impl TextEncoding {
    /// From a user-supplied label: `auto`, `utf-8`/`utf8`, `gbk`/`gb2312`/`gb18030`.
    pub fn from_label(label: &str) -> Option<TextEncoding> {
        match label.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Some(TextEncoding::Auto),
            "utf-8" | "utf8" => Some(TextEncoding::Utf8),
            "gbk" | "gb2312" | "gb18030" | "cp936" => Some(TextEncoding::Gb18030),
            _ => None,
        }
    }
}

/// How to read a file.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub format: Format,
    pub encoding: TextEncoding,
}

/// How many bytes the sniffers look at.
const SNIFF_BYTES: usize = 64 * 1024;

/// Counts the bytes the CSV parser has pulled from the input.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Remembers where line breaks are in the (decoded) text the CSV parser reads, because the
/// parser's own line counter skips blank lines; a spreadsheet user counts them.
struct NewlineIndex<R> {
    inner: R,
    offset: u64,
    last_was_cr: bool,
    newlines: NewlineOffsets,
}

/// Offsets of `\n` bytes, each with whether a `\r` came right before it.
type NewlineOffsets = Arc<std::sync::Mutex<VecDeque<(u64, bool)>>>;

impl<R: Read> Read for NewlineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut newlines) = self.newlines.lock() {
            for i in memchr::memchr_iter(b'\n', &buf[..n]) {
                let after_cr = if i == 0 {
                    self.last_was_cr
                } else {
                    buf[i - 1] == b'\r'
                };
                newlines.push_back((self.offset + i as u64, after_cr));
            }
        }
        if n > 0 {
            self.last_was_cr = buf[n - 1] == b'\r';
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The records of one table, header excluded.
pub(crate) enum Records {
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        bytes_read: Arc<AtomicU64>,
        done: bool,
        /// Offsets of line breaks not yet passed by the parser.
        newlines: NewlineOffsets,
        /// Line breaks before the current record.
        lines_before: u64,
        /// Line breaks inside quoted cells so far: a spreadsheet shows such a record as one row,
        /// so they do not count as rows.
        embedded_newlines: u64,
    },
    Sheet {
        range: Range<Data>,
        /// Index into the range of the next data row.
        next: usize,
        /// Absolute (0-based) sheet row of the range's first row.
        first_row: usize,
    },
}

/// One data record with its spreadsheet row number.
pub(crate) enum Next {
    Record(usize),
    /// A row that could not be read, with the position of the cell at fault when known.
    Error(RowError, Option<usize>),
    End,
}

pub(crate) struct Table {
    pub headers: Vec<String>,
    pub records: Records,
    /// Total size for progress: bytes for CSV, bytes scaled by rows for workbooks.
    pub total_bytes: u64,
    /// Row number of the last record read (header = 1).
    pub row: usize,
}

impl Table {
    pub fn open<R: Read + Seek + Send + 'static>(
        mut input: R,
        options: ImportOptions,
    ) -> Result<Table, FileError> {
        let read_err = |e: std::io::Error| FileError::Read(e.to_string());
        let start = input.stream_position().map_err(read_err)?;
        let end = input.seek(SeekFrom::End(0)).map_err(read_err)?;
        input.seek(SeekFrom::Start(start)).map_err(read_err)?;
        let total_bytes = end.saturating_sub(start);
        let mut head = Vec::with_capacity(SNIFF_BYTES.min(total_bytes as usize));
        (&mut input)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(read_err)?;
        let format = match options.format {
            Format::Auto if is_workbook(&head) => Format::Xlsx,
            Format::Auto => Format::Csv,
            f => f,
        };
        match format {
            Format::Xlsx => {
                input.seek(SeekFrom::Start(start)).map_err(read_err)?;
                Self::open_workbook(input, total_bytes)
            }
            _ => Self::open_csv(head, input, options.encoding, total_bytes),
        }
    }

    fn open_workbook<R: Read>(mut input: R, total_bytes: u64) -> Result<Table, FileError> {
        // calamine needs a cloneable reader; a workbook's sheet is loaded whole anyway.
        let mut bytes = Vec::new();
        input
            .read_to_end(&mut bytes)
            .map_err(|e| FileError::Read(e.to_string()))?;
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| FileError::Workbook(e.to_string()))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| {
                FileError::Workbook("工作簿没有工作表 (the workbook has no sheet)".into())
            })?
            .map_err(|e| FileError::Workbook(e.to_string()))?;
        let first_row = range.start().map_or(0, |(r, _)| r as usize);
        let headers: Vec<String> = range
            .rows()
            .next()
            .ok_or(FileError::Empty)?
            .iter()
            .map(cell_text)
            .collect();
        Ok(Table {
            headers,
            records: Records::Sheet {
                range,
                next: 1,
                first_row,
            },
            total_bytes,
            row: first_row + 1,
        })
    }

    fn open_csv<R: Read + Send + 'static>(
        mut head: Vec<u8>,
        rest: R,
        encoding: TextEncoding,
        total_bytes: u64,
    ) -> Result<Table, FileError> {
        let bytes_read = Arc::new(AtomicU64::new(0));
        let has_bom = head.starts_with(b"\xEF\xBB\xBF");
        let encoding = match encoding {
            TextEncoding::Auto if has_bom || looks_utf8(&head) => TextEncoding::Utf8,
            TextEncoding::Auto => TextEncoding::Gb18030,
            e => e,
        };
        if has_bom {
            head.drain(..3);
            bytes_read.fetch_add(3, Ordering::Relaxed);
        }
        let raw = CountingReader {
            inner: Cursor::new(head).chain(rest),
            count: Arc::clone(&bytes_read),
        };
        let decoded: Box<dyn Read + Send> = match encoding {
            TextEncoding::Gb18030 => Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding_rs::GB18030))
                    .build(raw),
            ),
            _ => Box::new(raw),
        };
        let newlines = Arc::new(std::sync::Mutex::new(VecDeque::new()));
        let decoded: Box<dyn Read + Send> = Box::new(NewlineIndex {
            inner: decoded,
            offset: 0,
            last_was_cr: false,
            newlines: Arc::clone(&newlines),
        });
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(256 * 1024)
            .from_reader(decoded);
        let mut header = csv::StringRecord::new();
        match reader.read_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(FileError::Empty),
            Err(e) => return Err(FileError::Read(describe_csv_error(&e))),
        }
        Ok(Table {
            headers: header.iter().map(str::to_string).collect(),
            records: Records::Csv {
                reader,
                bytes_read,
                done: false,
                newlines,
                lines_before: 0,
                embedded_newlines: count_newlines(&header),
            },
            total_bytes,
            row: 1,
        })
    }

    /// Reads the next non-blank record into `record`.
    pub fn next_record(&mut self, record: &mut csv::StringRecord) -> Next {
        loop {
            self.row += 1;
            let row = self.row;
            match &mut self.records {
                Records::Csv {
                    reader,
                    done,
                    newlines,
                    lines_before,
                    embedded_newlines,
                    ..
                } => {
                    if *done {
                        return Next::End;
                    }
                    match reader.read_record(record) {
                        Ok(true) => {
                            if let (Some(pos), Ok(mut newlines)) =
                                (record.position(), newlines.lock())
                            {
                                // The parser's position is just past the previous record's
                                // first terminator byte, before any blank lines: skip those too.
                                let mut cursor = pos.byte();
                                while let Some(&(n, after_cr)) = newlines.front() {
                                    if n < cursor {
                                        newlines.pop_front();
                                        *lines_before += 1;
                                    } else if n == cursor || (n == cursor + 1 && after_cr) {
                                        newlines.pop_front();
                                        *lines_before += 1;
                                        cursor = n + 1;
                                    } else {
                                        break;
                                    }
                                }
                                self.row =
                                    (1 + lines_before.saturating_sub(*embedded_newlines)) as usize;
                            }
                            *embedded_newlines += count_newlines(record);
                        }
                        Ok(false) => {
                            *done = true;
                            return Next::End;
                        }
                        Err(e) => {
                            // An I/O error ends the file; a bad-UTF-8 record only spoils its row.
                            if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                                *done = true;
                            }
                            let position = match e.kind() {
                                csv::ErrorKind::Utf8 { err, .. } => Some(err.field()),
                                _ => None,
                            };
                            return Next::Error(
                                RowError::new(row, "", describe_csv_error(&e)),
                                position,
                            );
                        }
                    }
                }
                Records::Sheet {
                    range,
                    next,
                    first_row,
                } => {
                    if *next >= range.height() {
                        return Next::End;
                    }
                    record.clear();
                    for column in 0..range.width() {
                        record.push_field(
                            &range
                                .get((*next, column))
                                .map(cell_text)
                                .unwrap_or_default(),
                        );
                    }
                    *next += 1;
                    self.row = *first_row + *next;
                }
            }
            if record.iter().any(|f| !f.trim().is_empty()) {
                return Next::Record(self.row);
            }
        }
    }

    /// Bytes consumed so far (for workbooks: the file size scaled by rows done).
    pub fn bytes_done(&self) -> u64 {
        match &self.records {
            Records::Csv { bytes_read, .. } => {
                bytes_read.load(Ordering::Relaxed).min(self.total_bytes)
            }
            Records::Sheet { range, next, .. } => {
                let rows = range.height().max(1) as u64;
                self.total_bytes * (*next as u64).min(rows) / rows
            }
        }
    }
}

fn count_newlines(record: &csv::StringRecord) -> u64 {
    record.as_slice().bytes().filter(|&b| b == b'\n').count() as u64
}

fn is_workbook(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// UTF-8 judged on a prefix: a multi-byte character cut off at the end does not count against it.
fn looks_utf8(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() >= SNIFF_BYTES,
    }
}

fn describe_csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "不是有效的UTF-8文本，文件可能是GBK编码，请指定编码 (not valid UTF-8: \
             the file may be GBK-encoded; pass the encoding explicitly)"
                .to_string()
        }
        csv::ErrorKind::Io(io) => format!("读取失败 (read error): {io}"),
        _ => format!("CSV格式错误 (malformed CSV): {e}"),
    }
}

/// A cell as the text a user would type: integers without ".0", dates as YYYY-MM-DD.
/// Decodes OOXML's `_xHHHH_` escapes in workbook strings (how a control character is stored:
/// `a_x0000_b`; `_x005F_` is a literal underscore), so the row check sees the real character.
fn ooxml_unescape(s: &str) -> String {
    if !s.contains("_x") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("_x") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let decoded = tail
            .get(2..6)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => ooxml_unescape(s),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) if d.time() == chrono::NaiveTime::MIN => d.date().to_string(),
            Some(d) => d.to_string(),
            None => dt.as_f64().to_string(),
        },
    }
}

/// Shortest text that reads back as the same number; whole numbers without a fraction.
pub(crate) fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workbook_escapes_are_decoded() {
        assert_eq!(ooxml_unescape("a_x0000_b"), "a\0b");
        assert_eq!(ooxml_unescape("_x005F_x0041_"), "_x0041_");
        assert_eq!(ooxml_unescape("型号_x"), "型号_x");
        assert_eq!(ooxml_unescape("_xZZZZ_ and _x12"), "_xZZZZ_ and _x12");
    }
}
