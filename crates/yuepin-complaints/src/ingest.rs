//! Streaming ingest of 12315 complaint exports: CSV, JSON Lines and XLSX, UTF-8 or GBK
//! (detected from the first 64 KiB, or forced). Rows come out one at a time as
//! `Result<Complaint, RowError>` so memory stays bounded by one row plus the set of ids seen
//! (8 bytes per row, for duplicate detection). The column schema is in docs/complaints-import.md.

use crate::model::{
    Category, Channel, Complainant, Complaint, ComplaintId, ComplaintKind, ProblemType,
};
use calamine::{DataRef, Reader, Xlsx};
use chrono::{NaiveDate, NaiveDateTime};
use encoding_rs::GBK;
use encoding_rs_io::DecodeReaderBytesBuilder;
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Seek};
use yuepin_domain::{Division, RegionCode, Uscc, Yuan};

/// Input file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
    Xlsx,
}

/// Text encoding of CSV / JSON Lines input (XLSX is always UTF-8 inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// Valid UTF-8 in the first 64 KiB ⇒ UTF-8, else valid GBK ⇒ GBK, else an error.
    Auto,
    Utf8,
    Gbk,
}

/// A file-level problem: nothing can be read.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("无法识别文件编码 (input is neither valid UTF-8 nor GBK near byte {offset}; convert it or pass the encoding explicitly)")]
    UnknownEncoding { offset: usize },
    #[error("缺少必填列 {missing:?} (missing required columns; found {found:?})")]
    MissingColumns {
        missing: Vec<&'static str>,
        found: Vec<String>,
    },
    #[error("无法读取表头 (cannot read the header row: {0})")]
    Header(String),
    #[error("读取失败 (I/O error: {0})")]
    Io(#[from] std::io::Error),
    #[error("XLSX 文件无法打开 (cannot open workbook: {0})")]
    Xlsx(String),
}

/// A row that could not become a [`Complaint`]: which row (1-based, header = row 1 for CSV and
/// XLSX; line number for JSON Lines), which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("第{row}行 字段 {field}: {reason} (row {row}, field {field})")]
pub struct RowError {
    pub row: u64,
    pub field: String,
    pub reason: String,
}

/// The schema: canonical field name and accepted header aliases (Chinese export headers).
const FIELDS: [(&str, &[&str]); 16] = [
    ("id", &["编号", "投诉编号", "工单号"]),
    ("received_at", &["受理时间", "登记时间", "接收时间"]),
    ("channel", &["渠道", "来源渠道"]),
    ("kind", &["类型", "诉求类型"]),
    ("region", &["地区", "属地", "行政区划"]),
    ("enterprise_uscc", &["统一社会信用代码", "被诉企业信用代码"]),
    ("enterprise_name", &["企业名称", "被诉企业"]),
    ("category", &["产品类别", "商品类别"]),
    ("division", &["行业", "行业大类"]),
    ("problem", &["问题类型", "问题分类"]),
    ("amount", &["涉及金额", "金额"]),
    ("text", &["内容", "诉求内容", "投诉内容"]),
    ("complainant_name", &["投诉人", "投诉人姓名", "姓名"]),
    ("complainant_phone", &["联系电话", "电话"]),
    ("complainant_id_number", &["证件号码", "身份证号"]),
    ("complainant_address", &["地址", "联系地址"]),
];
const REQUIRED: [&str; 5] = ["id", "received_at", "kind", "region", "text"];

/// Maps header names to field slots.
#[derive(Debug, Clone)]
struct Columns {
    /// For each of FIELDS, the column index in the file.
    slot: [Option<usize>; 16],
}

impl Columns {
    fn from_headers<'a>(headers: impl IntoIterator<Item = &'a str>) -> Result<Self, IngestError> {
        let mut slot = [None; 16];
        let mut found = Vec::new();
        for (col, h) in headers.into_iter().enumerate() {
            let h = h.trim().trim_start_matches('\u{feff}');
            found.push(h.to_string());
            if let Some(i) = FIELDS
                .iter()
                .position(|(name, aliases)| *name == h || aliases.contains(&h))
            {
                slot[i].get_or_insert(col);
            }
        }
        let missing: Vec<&'static str> = REQUIRED
            .iter()
            .copied()
            .filter(|r| {
                FIELDS
                    .iter()
                    .position(|(n, _)| n == r)
                    .is_some_and(|i| slot[i].is_none())
            })
            .collect();
        if missing.is_empty() {
            Ok(Self { slot })
        } else {
            Err(IngestError::MissingColumns { missing, found })
        }
    }
}

/// Parses a received-at time into China time (UTC+8, naive). See [`parse_datetime_checked`].
pub fn parse_datetime(input: &str) -> Option<NaiveDateTime> {
    parse_datetime_checked(input).ok()
}

/// Excel serial dates accepted in text (CSV/JSON) fields: 20000 … 79999 (1954-10-03 …
/// 2118-12-26). A bare number outside this range is refused rather than guessed.
const EXCEL_SERIAL_RANGE: std::ops::Range<f64> = 20_000.0..80_000.0;

/// Converts an Excel serial date (days since 1899-12-30, fraction = time of day; valid for
/// serials ≥ 61, i.e. after Excel's fictitious 1900-02-29) to a naive date-time, rounded to
/// the second.
pub fn excel_serial_to_datetime(serial: f64) -> Option<NaiveDateTime> {
    if !(61.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    base.checked_add_signed(chrono::Duration::seconds((serial * 86_400.0).round() as i64))
}

/// Splits a trailing UTC offset (`Z`, `+08:00`, `+0800`, `+08`, `-05:00`) off a date-time that
/// has a time part; returns the rest and the offset in seconds east of UTC.
fn split_offset(s: &str) -> Result<(&str, Option<i32>), String> {
    if let Some(rest) = s.strip_suffix(['Z', 'z']) {
        if rest.ends_with(|c: char| c.is_ascii_digit()) && rest.contains(':') {
            return Ok((rest, Some(0)));
        }
        return Err("“Z” 只能跟在时间之后 (a Z suffix must follow a time of day)".into());
    }
    // The offset sign must come after the time (which contains ':'), so date dashes never count.
    let Some(colon) = s.find(':') else {
        return Ok((s, None));
    };
    let Some(pos) = s[colon..].rfind(['+', '-']).map(|p| p + colon) else {
        return Ok((s, None));
    };
    let (rest, tz) = (&s[..pos], &s[pos..]);
    let sign = if tz.starts_with('-') { -1 } else { 1 };
    let digits: String = tz[1..].chars().filter(|c| *c != ':').collect();
    let bad = || format!("无法识别的时区 {tz:?} (UTC offset must be ±HH:MM, ±HHMM or ±HH)");
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return Err(bad());
    }
    let h: i32 = digits[..2].parse().map_err(|_| bad())?;
    let m: i32 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| bad())?
    } else {
        0
    };
    if h > 14 || m > 59 {
        return Err(bad());
    }
    Ok((rest.trim_end(), Some(sign * (h * 3600 + m * 60))))
}

/// Parses a received-at time and converts it to China time (UTC+8), the platform's clock.
///
/// Accepted: `2024-03-15 10:22:33`, `2024/3/15 10:22`, `2026/3/5`, `2024-03-15T10:22:33`,
/// `2024年3月15日 10时22分33秒`, `2026年3月5日 14:05` (seconds and minutes optional; a date alone
/// means midnight; fractional seconds are dropped), `20240315`; ISO 8601 with an offset or `Z`
/// (`2022-09-03T16:15:00+08:00`, `2022-09-03T08:15:00Z`, converted to UTC+8); and Excel serial
/// dates written as numbers (`45356`, `45356.5`) within [`EXCEL_SERIAL_RANGE`]. Times without
/// an offset are taken as China time. The error says what was wrong.
pub fn parse_datetime_checked(input: &str) -> Result<NaiveDateTime, String> {
    let s = input.trim();
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let d = NaiveDate::parse_from_str(s, "%Y%m%d")
            .map_err(|_| "不是有效的日期 (YYYYMMDD is not a valid date)".to_string())?;
        return d
            .and_hms_opt(0, 0, 0)
            .ok_or_else(|| "不是有效的日期 (not a valid date)".into());
    }
    let numeric = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|b| *b == b'.').count() <= 1;
    if numeric {
        let v: f64 = s
            .parse()
            .map_err(|_| "不是数字 (not a number)".to_string())?;
        if EXCEL_SERIAL_RANGE.contains(&v) {
            return excel_serial_to_datetime(v)
                .ok_or_else(|| "Excel 日期序号超出范围 (Excel serial out of range)".into());
        }
        return Err(format!(
            "纯数字 {s} 不是可识别的日期 (a bare number is read as an Excel serial date only              between 20000 and 79999, i.e. 1954–2118, or as YYYYMMDD)"
        ));
    }
    let (body, offset) = split_offset(s)?;
    let mut nums = [0u32; 6];
    let mut count = 0;
    let mut rest = body;
    while let Some(begin) = rest.find(|c: char| c.is_ascii_digit()) {
        let sep = &rest[..begin];
        let tail = &rest[begin..];
        let len = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let part = &tail[..len];
        rest = &tail[len..];
        if count == 6 {
            if sep == "." || sep == "," {
                continue; // fractional seconds
            }
            return Err("多余的数字 (unexpected extra digits after the seconds)".into());
        }
        if part.len() > 4 || (count == 0 && part.len() != 4) {
            return Err("日期须以四位年份开头 (the date must start with a 4-digit year:                  YYYY-MM-DD, YYYY/M/D or YYYY年M月D日)"
                .into());
        }
        nums[count] = part
            .parse()
            .map_err(|_| "不是数字 (not a number)".to_string())?;
        count += 1;
    }
    if count < 3 {
        return Err("缺少年月日 (year, month and day are required)".into());
    }
    if nums[0] < 1900 {
        return Err("年份早于1900 (year before 1900)".into());
    }
    let date = NaiveDate::from_ymd_opt(nums[0] as i32, nums[1], nums[2])
        .ok_or_else(|| "不存在的日期 (no such calendar date)".to_string())?;
    let local = date
        .and_hms_opt(nums[3], nums[4], nums[5])
        .ok_or_else(|| "不存在的时刻 (hour, minute or second out of range)".to_string())?;
    Ok(match offset {
        None => local,
        Some(east) => local + chrono::Duration::seconds(i64::from(CHINA_OFFSET_SECONDS - east)),
    })
}

/// UTC+8, China Standard Time (no daylight saving since 1991).
const CHINA_OFFSET_SECONDS: i32 = 8 * 3600;

/// Region lookups cached by input string, since `RegionCode::parse` scans the city table.
#[derive(Default)]
struct RegionCache(HashMap<String, Result<RegionCode, String>>);

impl RegionCache {
    fn get(&mut self, s: &str) -> Result<RegionCode, String> {
        if let Some(hit) = self.0.get(s) {
            return hit.clone();
        }
        let v = RegionCode::parse(s).map_err(|e| e.reason);
        if self.0.len() < 100_000 {
            self.0.insert(s.to_string(), v.clone());
        }
        v
    }
}

/// Shared row → Complaint conversion, with duplicate-id tracking.
struct RowBuilder {
    columns: Columns,
    seen_ids: HashSet<u64>,
    regions: RegionCache,
}

impl RowBuilder {
    fn new(columns: Columns) -> Self {
        Self {
            columns,
            seen_ids: HashSet::new(),
            regions: RegionCache::default(),
        }
    }

    fn build<'r>(
        &mut self,
        row: u64,
        get: impl Fn(usize) -> Option<&'r str>,
    ) -> Result<Complaint, RowError> {
        let field = |i: usize| -> Option<&'r str> {
            self.columns.slot[i]
                .and_then(&get)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let err = |f: &str, reason: String| RowError {
            row,
            field: f.to_string(),
            reason,
        };
        // Control characters, undecoded bytes (U+FFFD, what GBK decoding leaves) and text
        // longer than a workbook cell are refused in every column, named.
        for (i, (name, _)) in FIELDS.iter().enumerate() {
            if let Some(reason) = self.columns.slot[i]
                .and_then(&get)
                .and_then(yuepin_domain::text::text_problem)
            {
                return Err(err(name, reason));
            }
        }
        let required = |i: usize| {
            field(i)
                .ok_or_else(|| err(FIELDS[i].0, "必填字段为空 (required field is empty)".into()))
        };
        let id = ComplaintId::parse(required(0)?).map_err(|e| err("id", e.reason))?;
        let raw_time = required(1)?;
        let received_at = parse_datetime_checked(raw_time).map_err(|why| {
            err(
                "received_at",
                format!(
                    "无法识别的时间 {raw_time:?}: {why} (received_at: use YYYY-MM-DD HH:MM[:SS], \
                     ISO 8601 with Z or ±HH:MM, YYYY年M月D日 HH:MM, or an Excel date)"
                ),
            )
        })?;
        let channel =
            Channel::parse(field(2).unwrap_or("")).map_err(|e| err("channel", e.reason))?;
        let kind = ComplaintKind::parse(required(3)?).map_err(|e| err("kind", e.reason))?;
        let region = self
            .regions
            .get(required(4)?)
            .map_err(|r| err("region", r))?;
        let enterprise_uscc = field(5)
            .map(Uscc::parse)
            .transpose()
            .map_err(|e| err("enterprise_uscc", e.reason))?;
        let enterprise_name = field(6).map(str::to_string);
        let category = field(7)
            .map(Category::parse)
            .transpose()
            .map_err(|e| err("category", e.reason))?;
        let division = field(8)
            .map(Division::parse)
            .transpose()
            .map_err(|e| err("division", e.reason))?;
        let problem =
            ProblemType::parse(field(9).unwrap_or("")).map_err(|e| err("problem", e.reason))?;
        let amount = field(10)
            .map(Yuan::parse)
            .transpose()
            .map_err(|e| err("amount", e.reason))?;
        let text = required(11)?.to_string();
        let complainant = Complainant {
            name: field(12).map(str::to_string),
            phone: field(13).map(str::to_string),
            id_number: field(14).map(str::to_string),
            address: field(15).map(str::to_string),
        };
        let mut h = DefaultHasher::new();
        id.as_str().hash(&mut h);
        if !self.seen_ids.insert(h.finish()) {
            return Err(err(
                "id",
                format!("编号 {id} 在本文件中重复 (duplicate id within the file)"),
            ));
        }
        Ok(Complaint {
            id,
            received_at,
            channel,
            kind,
            region,
            enterprise_uscc,
            enterprise_name,
            category,
            division,
            problem,
            amount,
            text,
            complainant,
        })
    }
}

/// Decides the encoding from a sample; `at_eof` tells whether a truncated trailing UTF-8
/// sequence is an error.
fn sniff(sample: &[u8], at_eof: bool) -> Result<TextEncoding, IngestError> {
    match std::str::from_utf8(sample) {
        Ok(_) => Ok(TextEncoding::Utf8),
        Err(e) if e.error_len().is_none() && !at_eof => Ok(TextEncoding::Utf8),
        Err(e) => {
            let (_, had_errors) = GBK.decode_without_bom_handling(sample);
            // A GBK sample cut mid-character shows up as one error at the very end only.
            let clean_prefix = &sample[..sample.len().saturating_sub(1)];
            if !had_errors || (!at_eof && !GBK.decode_without_bom_handling(clean_prefix).1) {
                Ok(TextEncoding::Gbk)
            } else {
                Err(IngestError::UnknownEncoding {
                    offset: e.valid_up_to(),
                })
            }
        }
    }
}

/// A boxed stream of parsed rows.
pub type Rows<'a> = Box<dyn Iterator<Item = Result<Complaint, RowError>> + 'a>;

/// Parser configuration: format and encoding.
#[derive(Debug, Clone, Copy)]
pub struct ComplaintParser {
    pub format: Format,
    pub encoding: TextEncoding,
    pub delimiter: u8,
}

impl ComplaintParser {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            encoding: TextEncoding::Auto,
            delimiter: b',',
        }
    }
    pub fn with_encoding(mut self, encoding: TextEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Opens a CSV or JSON Lines stream. For XLSX use [`ComplaintParser::for_each_xlsx`].
    pub fn parse<'a, R: Read + 'a>(&self, reader: R) -> Result<Rows<'a>, IngestError> {
        let mut buffered = BufReader::with_capacity(1 << 16, reader);
        let encoding = match self.encoding {
            TextEncoding::Auto => {
                let sample = buffered.fill_buf()?;
                let at_eof = sample.len() < (1 << 16);
                sniff(sample, at_eof)?
            }
            e => e,
        };
        let text: Box<dyn Read + 'a> = match encoding {
            TextEncoding::Gbk => Box::new(
                DecodeReaderBytesBuilder::new()
                    .encoding(Some(GBK))
                    .build(buffered),
            ),
            _ => Box::new(buffered),
        };
        match self.format {
            Format::Csv => self.csv_rows(text),
            Format::JsonLines => Ok(json_rows(text)),
            Format::Xlsx => Err(IngestError::Xlsx(
                "XLSX needs a seekable reader: use ComplaintParser::for_each_xlsx".into(),
            )),
        }
    }

    fn csv_rows<'a>(&self, text: Box<dyn Read + 'a>) -> Result<Rows<'a>, IngestError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .flexible(true)
            .from_reader(text);
        let headers = reader.headers().map_err(|e| match e.kind() {
            csv::ErrorKind::Utf8 { .. } => IngestError::UnknownEncoding { offset: 0 },
            _ => IngestError::Header(e.to_string()),
        })?;
        let mut builder = RowBuilder::new(Columns::from_headers(headers.iter())?);
        let mut record = csv::StringRecord::new();
        let mut row = 1u64;
        let mut stopped = false;
        Ok(Box::new(std::iter::from_fn(move || {
            if stopped {
                return None;
            }
            row += 1;
            match reader.read_record(&mut record) {
                Ok(false) => None,
                Ok(true) => Some(builder.build(row, |i| record.get(i))),
                Err(e) => {
                    let reason = match e.kind() {
                        csv::ErrorKind::Utf8 { .. } => {
                            "不是有效的UTF-8 (invalid UTF-8; is the file GBK?)".to_string()
                        }
                        _ => e.to_string(),
                    };
                    // An I/O error cannot be skipped past; report it once and stop.
                    stopped = e.is_io_error();
                    Some(Err(RowError {
                        row,
                        field: "*".into(),
                        reason,
                    }))
                }
            }
        })))
    }

    /// Streams the first worksheet of an XLSX workbook, calling `on_row` per data row (rows
    /// are read cell by cell with calamine's cell reader, never as a whole sheet). Excel date
    /// serials in `received_at` are converted. Stops early if `on_row` returns `false`.
    pub fn for_each_xlsx<R: Read + Seek>(
        &self,
        reader: R,
        mut on_row: impl FnMut(Result<Complaint, RowError>) -> bool,
    ) -> Result<(), IngestError> {
        let mut book: Xlsx<R> = Xlsx::new(reader).map_err(|e| IngestError::Xlsx(e.to_string()))?;
        let sheet =
            book.sheet_names().first().cloned().ok_or_else(|| {
                IngestError::Xlsx("工作簿没有工作表 (workbook has no sheets)".into())
            })?;
        let mut cells = book
            .worksheet_cells_reader(&sheet)
            .map_err(|e| IngestError::Xlsx(e.to_string()))?;
        let mut builder: Option<RowBuilder> = None;
        let mut current_row: Option<u32> = None;
        let mut values: Vec<String> = Vec::new();
        let mut flush = |builder: &mut Option<RowBuilder>,
                         row: u32,
                         values: &mut Vec<String>|
         -> Result<bool, IngestError> {
            let keep_going = match builder {
                None => {
                    *builder = Some(RowBuilder::new(Columns::from_headers(
                        values.iter().map(String::as_str),
                    )?));
                    true
                }
                Some(b) => {
                    if values.iter().all(|v| v.trim().is_empty()) {
                        true
                    } else {
                        on_row(b.build(u64::from(row) + 1, |i| values.get(i).map(String::as_str)))
                    }
                }
            };
            values.clear();
            Ok(keep_going)
        };
        loop {
            let cell = cells
                .next_cell()
                .map_err(|e| IngestError::Xlsx(e.to_string()))?;
            let Some(cell) = cell else { break };
            let (r, c) = cell.get_position();
            if current_row != Some(r) {
                if let Some(prev) = current_row {
                    if !flush(&mut builder, prev, &mut values)? {
                        return Ok(());
                    }
                }
                current_row = Some(r);
            }
            let c = c as usize;
            if c >= 64 {
                continue;
            }
            if values.len() <= c {
                values.resize(c + 1, String::new());
            }
            values[c] = cell_text(cell.get_value());
        }
        if let Some(prev) = current_row {
            flush(&mut builder, prev, &mut values)?;
        }
        if builder.is_none() {
            return Err(IngestError::Header(
                "工作表为空 (worksheet is empty)".into(),
            ));
        }
        Ok(())
    }
}

/// Renders an XLSX cell as the text our field parsers accept.
fn cell_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => excel_serial_to_datetime(d.as_f64())
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

/// JSON Lines: one object per line, keys as in the CSV schema; numbers are accepted as text.
fn json_rows<'a>(text: Box<dyn Read + 'a>) -> Rows<'a> {
    let mut lines = BufReader::new(text).lines();
    let mut builder = RowBuilder::new(Columns {
        slot: std::array::from_fn(Some),
    });
    let mut line_no = 0u64;
    Box::new(std::iter::from_fn(move || loop {
        line_no += 1;
        let line = match lines.next()? {
            Ok(l) => l,
            Err(e) => {
                return Some(Err(RowError {
                    row: line_no,
                    field: "*".into(),
                    reason: format!("读取失败或不是UTF-8 (read error / invalid UTF-8: {e})"),
                }))
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                return Some(Err(RowError {
                    row: line_no,
                    field: "*".into(),
                    reason: format!("不是JSON对象 (invalid JSON: {e})"),
                }))
            }
        };
        let Some(object) = value.as_object() else {
            return Some(Err(RowError {
                row: line_no,
                field: "*".into(),
                reason: "每行必须是一个JSON对象 (each line must be a JSON object)".into(),
            }));
        };
        let texts: Vec<Option<String>> = FIELDS
            .iter()
            .map(|(name, aliases)| {
                let v = object
                    .get(*name)
                    .or_else(|| aliases.iter().find_map(|a| object.get(*a)))?;
                match v {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Null => None,
                    other => Some(other.to_string()),
                }
            })
            .collect();
        return Some(builder.build(line_no, |i| texts.get(i).and_then(|t| t.as_deref())));
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> String {
        parse_datetime_checked(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .to_string()
    }

    #[test]
    fn datetimes() {
        for s in [
            "2024-03-15 10:22:33",
            "2024/3/15 10:22:33",
            "2024-03-15T10:22:33",
            "2024年3月15日 10时22分33秒",
            "2024-03-15 10:22:33.250",
        ] {
            assert_eq!(at(s), "2024-03-15 10:22:33", "{s}");
        }
        assert_eq!(at("20240315"), "2024-03-15 00:00:00");
        assert!(parse_datetime("2024-02-30").is_none());
        assert!(parse_datetime("昨天").is_none());
        assert!(parse_datetime("15/03/2024").is_none());
    }

    #[test]
    fn iso_8601_with_china_offset_is_kept() {
        assert_eq!(at("2022-09-03T16:15:00+08:00"), "2022-09-03 16:15:00");
        assert_eq!(at("2022-09-03T16:15:00+0800"), "2022-09-03 16:15:00");
        assert_eq!(at("2022-09-03 16:15+08"), "2022-09-03 16:15:00");
    }

    #[test]
    fn iso_8601_with_other_offsets_converts_to_china_time() {
        assert_eq!(at("2022-09-03T16:15:00-05:00"), "2022-09-04 05:15:00");
        assert_eq!(at("2022-09-03T01:15:00+09:00"), "2022-09-03 00:15:00");
    }

    #[test]
    fn iso_8601_zulu_converts_to_china_time() {
        assert_eq!(at("2022-09-03T08:15:00Z"), "2022-09-03 16:15:00");
        assert_eq!(at("2022-09-03T20:15:00.123Z"), "2022-09-04 04:15:00");
    }

    #[test]
    fn excel_serial_numbers() {
        // Excel: 45356 = 2024-03-05; .5 = noon; 45356.6006944 ≈ 14:25.
        assert_eq!(at("45356"), "2024-03-05 00:00:00");
        assert_eq!(at("45356.5"), "2024-03-05 12:00:00");
        assert_eq!(at("45356.600694444"), "2024-03-05 14:25:00");
        // ambiguous / out-of-range numbers are refused, not guessed
        for s in ["123", "1999", "2024", "123456", "99999.5"] {
            let e = parse_datetime_checked(s).unwrap_err();
            assert!(e.contains("Excel"), "{s}: {e}");
        }
    }

    #[test]
    fn slash_dates_without_padding() {
        assert_eq!(at("2026/3/5"), "2026-03-05 00:00:00");
        assert_eq!(at("2026/03/05 7:05"), "2026-03-05 07:05:00");
    }

    #[test]
    fn chinese_dates_with_hh_mm() {
        assert_eq!(at("2026年3月5日 14:05"), "2026-03-05 14:05:00");
        assert_eq!(at("2026年3月5日14时05分"), "2026-03-05 14:05:00");
        assert_eq!(at("2026年3月5日"), "2026-03-05 00:00:00");
    }

    #[test]
    fn times_without_seconds() {
        assert_eq!(at("2024-03-15 10:22"), "2024-03-15 10:22:00");
        assert_eq!(at("2024-03-15T10:22"), "2024-03-15 10:22:00");
        assert_eq!(at("2024-03-15T10:22+08:00"), "2024-03-15 10:22:00");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let cases = [
            ("15/03/2024", "4-digit year"),
            ("2024-03", "year, month and day"),
            ("2024-02-30 10:00", "no such calendar date"),
            ("2024-03-15 25:00", "out of range"),
            ("2024-03-15T10:00:00+8:00", "UTC offset"),
            ("2024-03-15T10:00:00+15:00", "UTC offset"),
            ("2024-03-15Z", "Z suffix"),
            ("1850-01-01", "before 1900"),
            ("2024-03-15 10:00:00 12", "extra digits"),
        ];
        for (s, want) in cases {
            let e = parse_datetime_checked(s).unwrap_err();
            assert!(e.contains(want), "{s}: {e}");
        }
    }
}
