//! Storage of 12315 complaints (measure 22): bulk import (CSV / JSON Lines / XLSX, UTF-8 or GBK)
//! that lands a whole file or nothing, classification of missing labels, regulator corrections
//! and lexicon terms, aggregates for the dashboard, surge-detection runs and their alarms, and
//! consumer warnings (消费提示/警示) with the named enterprises' comment window.
//!
//! Import strategy (documented in `docs/complaints.md`): the file is parsed on a blocking
//! thread that streams batches through a bounded channel (bounded memory whatever the size);
//! everything is written inside ONE transaction — SQLite: a native (rusqlite) connection on its
//! own thread steps one prepared `INSERT … ON CONFLICT (ext_id) DO UPDATE` per row and appends
//! the audit entry before it commits; PostgreSQL: `COPY` into an unlogged staging table, then one
//! `INSERT … SELECT … ON CONFLICT` inside the audited transaction. The first bad row stops the
//! writing; parsing continues to report every bad row, then the transaction is rolled back.

use crate::corrupt;
use crate::{now_text, Actor, Change, Result, Store, StoreError};
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use yuepin_complaints::cube::{division_from_index, division_index, NO_ENTERPRISE, UNKNOWN};
use yuepin_complaints::{
    categories, detect_all, mask_complainant, scrub_text, Alarm, Category, Classifier,
    CodedComplaint, Complainant, Complaint, ComplaintParser, Cube, DetectParams, Format,
    IngestError, Level, Method, Period, ProblemType, RowError, Target, TermOverride, TextEncoding,
};
use yuepin_domain::{reference, Division, RegionCode};

/// Days an enterprise named in a warning may comment before publication (default).
pub const COMMENT_DAYS_DEFAULT: i64 = 5;
/// Rows per batch sent from the parser thread.
const BATCH_ROWS: usize = 4096;

// ───────────────────────────── records ─────────────────────────────

/// One stored complaint. `complainant` is the raw personal data: call [`ComplaintRecord::masked`]
/// before it leaves a regulator's view of the record itself.
#[derive(Debug, Clone, Serialize)]
pub struct ComplaintRecord {
    pub id: i64,
    pub ext_id: String,
    pub received_at: String,
    pub day: String,
    pub channel: String,
    pub kind: String,
    pub region: String,
    pub city: String,
    pub enterprise_id: Option<i64>,
    pub enterprise_uscc: Option<String>,
    pub enterprise_name: Option<String>,
    pub category: Option<String>,
    pub division: Option<i64>,
    pub labels_source: String,
    pub problem: String,
    pub amount_fen: Option<i64>,
    pub text: String,
    pub complainant: Complainant,
    pub masked: bool,
}

impl ComplaintRecord {
    /// Personal data masked and the free text scrubbed of ID numbers and phone numbers.
    pub fn masked(mut self) -> Self {
        if !self.masked {
            self.complainant = mask_complainant(&self.complainant);
            self.text = scrub_text(&self.text);
            self.masked = true;
        }
        self
    }
    pub fn city_name(&self) -> &str {
        city_name(&self.city)
    }
    pub fn category_name(&self) -> String {
        self.category
            .as_deref()
            .map(category_name)
            .unwrap_or_default()
    }
    pub fn division_name(&self) -> String {
        self.division.map(division_name).unwrap_or_default()
    }
    pub fn problem_name(&self) -> &'static str {
        ProblemType::parse(&self.problem).map_or("其他", |p| p.name_zh())
    }
}

pub fn city_name(code: &str) -> &str {
    reference::find_city(code).map_or(code, |c| c.name_zh.as_str())
}
pub fn city_name_en(code: &str) -> &str {
    reference::find_city(code).map_or(code, |c| c.name_en.as_str())
}
pub fn category_name(key: &str) -> String {
    Category::parse(key).map_or_else(|_| key.to_string(), |c| c.info().name_zh.clone())
}
pub fn division_name(code: i64) -> String {
    u8::try_from(code)
        .ok()
        .and_then(reference::find_division)
        .map_or_else(|| code.to_string(), |d| d.name_zh.clone())
}

const COMPLAINT_COLS: &str = "id, ext_id, received_at, day, channel, kind, region, city, enterprise_id, enterprise_uscc, enterprise_name, category, division, labels_source, problem, amount_fen, text, complainant_name, complainant_phone, complainant_id_number, complainant_address";

fn complaint_row(r: &AnyRow) -> Result<ComplaintRecord> {
    Ok(ComplaintRecord {
        id: r.try_get("id")?,
        ext_id: r.try_get("ext_id")?,
        received_at: r.try_get("received_at")?,
        day: r.try_get("day")?,
        channel: r.try_get("channel")?,
        kind: r.try_get("kind")?,
        region: r.try_get("region")?,
        city: r.try_get("city")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_uscc: r.try_get("enterprise_uscc")?,
        enterprise_name: r.try_get("enterprise_name")?,
        category: r.try_get("category")?,
        division: r.try_get("division")?,
        labels_source: r.try_get("labels_source")?,
        problem: r.try_get("problem")?,
        amount_fen: r.try_get("amount_fen")?,
        text: r.try_get("text")?,
        complainant: Complainant {
            name: r.try_get("complainant_name")?,
            phone: r.try_get("complainant_phone")?,
            id_number: r.try_get("complainant_id_number")?,
            address: r.try_get("complainant_address")?,
        },
        masked: false,
    })
}

/// Filters shared by lists, aggregates and exports (all optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ComplaintFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// City code (440300).
    pub city: Option<String>,
    pub division: Option<i64>,
    /// Category key.
    pub category: Option<String>,
    pub problem: Option<String>,
    pub enterprise_id: Option<i64>,
}

enum Bind {
    Text(String),
    Int(i64),
}

impl ComplaintFilter {
    fn clause(&self) -> (String, Vec<Bind>) {
        let mut parts = vec!["1 = 1".to_string()];
        let mut binds = Vec::new();
        let mut push = |sql: &str, b: Bind, binds: &mut Vec<Bind>| {
            binds.push(b);
            parts.push(sql.replace('?', &format!("${}", binds.len())));
        };
        if let Some(d) = self.from {
            push("day >= ?", Bind::Text(d.to_string()), &mut binds);
        }
        if let Some(d) = self.to {
            push("day <= ?", Bind::Text(d.to_string()), &mut binds);
        }
        if let Some(c) = &self.city {
            push("city = ?", Bind::Text(c.clone()), &mut binds);
        }
        if let Some(d) = self.division {
            push("division = ?", Bind::Int(d), &mut binds);
        }
        if let Some(c) = &self.category {
            push("category = ?", Bind::Text(c.clone()), &mut binds);
        }
        if let Some(p) = &self.problem {
            push("problem = ?", Bind::Text(p.clone()), &mut binds);
        }
        if let Some(e) = self.enterprise_id {
            push("enterprise_id = ?", Bind::Int(e), &mut binds);
        }
        (parts.join(" AND "), binds)
    }
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.as_str()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

// ───────────────────────────── import ─────────────────────────────

/// How to read an import file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: Format,
    pub encoding: TextEncoding,
    /// Row errors kept in the report (all are counted).
    pub max_errors: usize,
}

impl ImportOptions {
    /// Format from the file extension (`.csv`, `.jsonl`/`.json`/`.ndjson`, `.xlsx`).
    pub fn for_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        let format = match ext.as_str() {
            "csv" | "txt" => Format::Csv,
            "jsonl" | "ndjson" | "json" => Format::JsonLines,
            "xlsx" => Format::Xlsx,
            _ => return None,
        };
        Some(Self {
            format,
            encoding: TextEncoding::Auto,
            max_errors: 200,
        })
    }
}

/// Live counters for a progress bar.
#[derive(Debug, Default)]
pub struct ImportProgress {
    pub bytes: AtomicU64,
    pub rows: AtomicU64,
}

/// What an import did. `committed = false` means nothing was written.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub file_hash: String,
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub classified: u64,
    pub linked: u64,
    pub error_count: u64,
    pub errors: Vec<RowErrorOut>,
    pub committed: bool,
    pub millis: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RowErrorOut {
    pub row: u64,
    pub field: String,
    pub reason: String,
}

impl From<RowError> for RowErrorOut {
    fn from(e: RowError) -> Self {
        Self {
            row: e.row,
            field: e.field,
            reason: e.reason,
        }
    }
}

/// File-level failures (row-level ones are in [`ImportReport::errors`]).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("unsupported file type {0:?}: use .csv, .jsonl or .xlsx")]
    UnknownFormat(String),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Store(e.into())
    }
}

/// A parsed, classified, linked row ready to write.
struct Prepared {
    ext_id: String,
    received_at: String,
    day: String,
    channel: &'static str,
    kind: &'static str,
    region: String,
    city: String,
    enterprise_id: Option<i64>,
    uscc: Option<String>,
    ename: Option<String>,
    category: Option<&'static str>,
    division: Option<i64>,
    labels_source: &'static str,
    problem: &'static str,
    amount_fen: Option<i64>,
    text: String,
    person: Complainant,
}

enum Msg {
    Batch(Vec<Prepared>),
    Error(RowError),
}

struct Counting<R> {
    inner: R,
    hasher: Sha256,
    progress: Arc<ImportProgress>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn prepare(
    mut c: Complaint,
    classifier: &Classifier,
    usccs: &HashMap<String, i64>,
    classified: &mut u64,
) -> Prepared {
    let had_both = c.category.is_some() && c.division.is_some();
    let had_category = c.category.is_some();
    classifier.fill_missing(&mut c);
    let labels_source = if had_both || (had_category && c.division.is_some()) {
        "input"
    } else if c.category.is_some() || c.division.is_some() {
        *classified += 1;
        "classifier"
    } else {
        "none"
    };
    let enterprise_id = c
        .enterprise_uscc
        .as_ref()
        .and_then(|u| usccs.get(u.as_str()).copied());
    Prepared {
        ext_id: c.id.as_str().to_string(),
        received_at: c.received_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        day: c.received_at.date().to_string(),
        channel: c.channel.as_str(),
        kind: c.kind.as_str(),
        city: c.region.city().code.clone(),
        region: c.region.as_str().to_string(),
        enterprise_id,
        uscc: c.enterprise_uscc.map(|u| u.as_str().to_string()),
        ename: c.enterprise_name,
        category: c.category.map(|k| k.info().key.as_str()),
        division: c.division.map(|d| i64::from(d.code())),
        labels_source,
        problem: c.problem.as_str(),
        amount_fen: c.amount.map(|a| a.fen()),
        text: c.text,
        person: c.complainant,
    }
}

/// Runs on a blocking thread: parse, classify, link, send in batches. Returns (hash, classified).
fn parse_thread(
    path: PathBuf,
    opts: ImportOptions,
    classifier: Arc<Classifier>,
    usccs: Arc<HashMap<String, i64>>,
    tx: tokio::sync::mpsc::Sender<Msg>,
    progress: Arc<ImportProgress>,
) -> std::result::Result<(String, u64), ImportError> {
    let io = |source| ImportError::Io {
        path: path.clone(),
        source,
    };
    let file = std::fs::File::open(&path).map_err(io)?;
    let parser = ComplaintParser::new(opts.format).with_encoding(opts.encoding);
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut classified = 0u64;
    let mut closed = false;
    let mut handle = |r: std::result::Result<Complaint, RowError>,
                      batch: &mut Vec<Prepared>,
                      classified: &mut u64|
     -> bool {
        progress.rows.fetch_add(1, Ordering::Relaxed);
        match r {
            Ok(c) => {
                batch.push(prepare(c, &classifier, &usccs, classified));
                if batch.len() >= BATCH_ROWS {
                    let full = std::mem::replace(batch, Vec::with_capacity(BATCH_ROWS));
                    if tx.blocking_send(Msg::Batch(full)).is_err() {
                        closed = true;
                        return false;
                    }
                }
                true
            }
            Err(e) => {
                if tx.blocking_send(Msg::Error(e)).is_err() {
                    closed = true;
                    return false;
                }
                true
            }
        }
    };
    let hash = match opts.format {
        Format::Xlsx => {
            let mut hasher = Sha256::new();
            let mut f = std::fs::File::open(&path).map_err(io)?;
            std::io::copy(&mut f, &mut hasher).map_err(io)?;
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            parser.for_each_xlsx(std::io::BufReader::new(file), |r| {
                handle(r, &mut batch, &mut classified)
            })?;
            progress.bytes.fetch_add(len, Ordering::Relaxed);
            hex::encode(hasher.finalize())
        }
        _ => {
            let mut counting = Counting {
                inner: file,
                hasher: Sha256::new(),
                progress: progress.clone(),
            };
            {
                let rows = parser.parse(&mut counting)?;
                for r in rows {
                    if !handle(r, &mut batch, &mut classified) {
                        break;
                    }
                }
            }
            hex::encode(counting.hasher.finalize())
        }
    };
    if !batch.is_empty() && !closed {
        let _ = tx.blocking_send(Msg::Batch(batch));
    }
    Ok((hash, classified))
}

const INSERT_COLS: &str = "ext_id, received_at, day, channel, kind, region, city, enterprise_id, enterprise_uscc, enterprise_name, category, division, labels_source, problem, amount_fen, text, complainant_name, complainant_phone, complainant_id_number, complainant_address";
const N_COLS: usize = 20;

fn upsert_tail(now: &str) -> String {
    format!(
        " ON CONFLICT (ext_id) DO UPDATE SET received_at = excluded.received_at, day = excluded.day, \
channel = excluded.channel, kind = excluded.kind, region = excluded.region, city = excluded.city, \
enterprise_id = excluded.enterprise_id, enterprise_uscc = excluded.enterprise_uscc, enterprise_name = excluded.enterprise_name, \
category = CASE WHEN complaints.labels_source = 'regulator' THEN complaints.category ELSE excluded.category END, \
division = CASE WHEN complaints.labels_source = 'regulator' THEN complaints.division ELSE excluded.division END, \
labels_source = CASE WHEN complaints.labels_source = 'regulator' THEN 'regulator' ELSE excluded.labels_source END, \
problem = excluded.problem, amount_fen = excluded.amount_fen, text = excluded.text, \
complainant_name = excluded.complainant_name, complainant_phone = excluded.complainant_phone, \
complainant_id_number = excluded.complainant_id_number, complainant_address = excluded.complainant_address, \
updated_at = '{now}'"
    )
}

/// PostgreSQL COPY text-format field.
fn copy_field(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => out.extend_from_slice(b"\\N"),
        Some(s) => {
            for b in s.bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
        }
    }
}

fn copy_rows(key: &str, seq: &mut i64, rows: &[Prepared]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 256);
    for p in rows {
        *seq += 1;
        let id = p.enterprise_id.map(|i| i.to_string());
        let div = p.division.map(|i| i.to_string());
        let amt = p.amount_fen.map(|i| i.to_string());
        let s = seq.to_string();
        let fields: [Option<&str>; 22] = [
            Some(key),
            Some(&s),
            Some(&p.ext_id),
            Some(&p.received_at),
            Some(&p.day),
            Some(p.channel),
            Some(p.kind),
            Some(&p.region),
            Some(&p.city),
            id.as_deref(),
            p.uscc.as_deref(),
            p.ename.as_deref(),
            p.category,
            div.as_deref(),
            Some(p.labels_source),
            Some(p.problem),
            amt.as_deref(),
            Some(&p.text),
            p.person.name.as_deref(),
            p.person.phone.as_deref(),
            p.person.id_number.as_deref(),
            p.person.address.as_deref(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            copy_field(&mut out, *f);
        }
        out.push(b'\n');
    }
    out
}

/// The native SQLite writer's single-row statements ( `?1`…`?20` ): `INSERT OR IGNORE` for new
/// complaints (it changes nothing when the id is already stored), then the upsert for those. A
/// single-row INSERT needs no statement journal; an upsert always opens one, which costs a copy
/// of every page it touches.
fn native_insert_sql(now: &str, upsert: bool) -> String {
    let params: Vec<String> = (1..=N_COLS).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT {}INTO complaints ({INSERT_COLS}, updated_at) VALUES ({}, '{now}'){}",
        if upsert { "" } else { "OR IGNORE " },
        params.join(","),
        if upsert {
            upsert_tail(now)
        } else {
            String::new()
        }
    )
}

/// What the native writer needs to finish: the import's record and audit entry.
struct NativeCommit {
    file_hash: String,
    file_name: String,
    rows: u64,
    classified: u64,
    linked: u64,
    now: String,
    actor: Actor,
}

enum NativeMsg {
    Rows(Vec<Prepared>),
    Commit(NativeCommit),
}

/// SQLite: one blocking thread owns a rusqlite connection and the import's `BEGIN IMMEDIATE`
/// transaction and steps one prepared upsert per row (see `native_sqlite`). Dropping the
/// sender without a `Commit` rolls everything back. Returns the number of new rows.
fn native_writer(
    path: PathBuf,
    setup: &'static [&'static str],
    now: String,
    rx: std::sync::mpsc::Receiver<NativeMsg>,
) -> Result<Option<u64>> {
    use crate::native_sqlite::native;
    let mut conn = crate::native_sqlite::open_for_bulk(&path, setup)?;
    let txn = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(native)?;
    let count = |t: &rusqlite::Transaction| -> Result<i64> {
        t.query_row("SELECT COUNT(*) FROM complaints", [], |r| r.get(0))
            .map_err(native)
    };
    let before = count(&txn)?;
    let commit = {
        let mut insert = txn
            .prepare(&native_insert_sql(&now, false))
            .map_err(native)?;
        let mut upsert = txn
            .prepare(&native_insert_sql(&now, true))
            .map_err(native)?;
        loop {
            match rx.recv() {
                Ok(NativeMsg::Rows(rows)) => {
                    for p in &rows {
                        let fields = rusqlite::params![
                            p.ext_id,
                            p.received_at,
                            p.day,
                            p.channel,
                            p.kind,
                            p.region,
                            p.city,
                            p.enterprise_id,
                            p.uscc,
                            p.ename,
                            p.category,
                            p.division,
                            p.labels_source,
                            p.problem,
                            p.amount_fen,
                            p.text,
                            p.person.name,
                            p.person.phone,
                            p.person.id_number,
                            p.person.address,
                        ];
                        if insert.execute(fields).map_err(native)? == 0 {
                            upsert.execute(fields).map_err(native)?;
                        }
                    }
                }
                Ok(NativeMsg::Commit(c)) => break c,
                // The importer gave up (row errors, file error): roll back.
                Err(_) => return Ok(None),
            }
        }
    };
    let inserted = (count(&txn)? - before).max(0) as u64;
    let updated = commit.rows.saturating_sub(inserted);
    txn.execute(
        "INSERT INTO complaint_imports (file_hash, file_name, rows_read, inserted, updated, classified, linked, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![
            commit.file_hash,
            commit.file_name,
            commit.rows as i64,
            inserted as i64,
            updated as i64,
            commit.classified as i64,
            commit.linked as i64,
            commit.now
        ],
    )
    .map_err(native)?;
    let change = import_change(
        &commit.file_hash,
        &commit.file_name,
        commit.rows,
        inserted,
        updated,
        commit.classified,
        commit.linked,
    );
    crate::audit::append_native(&txn, &commit.actor, &[change])?;
    txn.commit().map_err(native)?;
    Ok(Some(inserted))
}

/// The audit entry of a committed complaint import.
fn import_change(
    file_hash: &str,
    file_name: &str,
    rows: u64,
    inserted: u64,
    updated: u64,
    classified: u64,
    linked: u64,
) -> Change {
    Change::new("complaints.import", "complaint_import", file_hash).after(serde_json::json!({
        "file": file_name, "rows": rows, "inserted": inserted,
        "updated": updated, "classified": classified, "linked": linked}))
}

/// Where an import's rows go while the file is parsed.
enum Sink {
    /// PostgreSQL: COPY into the staging table on a native connection.
    Copy {
        pool: sqlx::PgPool,
        copy: sqlx::postgres::PgCopyIn<sqlx::pool::PoolConnection<sqlx::Postgres>>,
        seq: i64,
    },
    /// SQLite: the native writer thread.
    Native {
        tx: std::sync::mpsc::SyncSender<NativeMsg>,
        writer: tokio::task::JoinHandle<Result<Option<u64>>>,
    },
}

/// The columns the detection cube needs, for complaints received in [from, to].
fn cube_sql(from: &str, to: &str) -> String {
    format!("SELECT day, city, division, category, problem, enterprise_id FROM complaints WHERE day >= {from} AND day <= {to}")
}

fn native_value(e: rusqlite::types::FromSqlError) -> StoreError {
    corrupt(format!("complaint column: {e}"))
}

/// Codes stored complaint rows into the detection cube's small integers.
struct CubeCoder {
    cube: Cube,
    from: NaiveDate,
    cities: HashMap<&'static str, u8>,
    categories: HashMap<&'static str, u8>,
    days: HashMap<String, u16>,
    enterprises: HashMap<i64, u32>,
}

impl CubeCoder {
    fn new(from: NaiveDate, to: NaiveDate) -> Self {
        Self {
            cube: Cube::new(from, to),
            from,
            cities: reference::cities()
                .iter()
                .enumerate()
                .map(|(i, c)| (c.code.as_str(), i as u8))
                .collect(),
            categories: categories()
                .iter()
                .enumerate()
                .map(|(i, c)| (c.key.as_str(), i as u8))
                .collect(),
            days: HashMap::new(),
            enterprises: HashMap::new(),
        }
    }

    fn push(
        &mut self,
        day: &str,
        city: &str,
        division: Option<i64>,
        category: Option<&str>,
        problem: &str,
        enterprise: Option<i64>,
    ) -> Result<()> {
        let d = match self.days.get(day) {
            Some(d) => *d,
            None => {
                let date = fast_date(day).ok_or_else(|| corrupt(format!("day {day}")))?;
                let d = (date - self.from).num_days().clamp(0, i64::from(u16::MAX)) as u16;
                self.days.insert(day.to_string(), d);
                d
            }
        };
        let enterprise = match enterprise {
            Some(e) => {
                let next = self.enterprises.len() as u32;
                *self.enterprises.entry(e).or_insert(next)
            }
            None => NO_ENTERPRISE,
        };
        self.cube.push_coded(CodedComplaint {
            day: d,
            city: self.cities.get(city).copied().unwrap_or(UNKNOWN),
            division: division
                .and_then(|d| u8::try_from(d).ok())
                .filter(|d| (13..=43).contains(d))
                .map_or(UNKNOWN, |d| d - 13),
            category: category
                .and_then(|c| self.categories.get(c).copied())
                .unwrap_or(UNKNOWN),
            problem: ProblemType::parse(problem).map_or(UNKNOWN, |p| p.index() as u8),
            enterprise,
        });
        Ok(())
    }
}

impl Store {
    /// (id, USCC, name, city, division) of every enterprise, for linking synthetic complaints.
    pub async fn enterprise_keys(&self) -> Result<Vec<(i64, String, String, String, i64)>> {
        let rows =
            sqlx::query("SELECT id, uscc, name, city, division FROM enterprises ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("uscc")?,
                    r.try_get("name")?,
                    r.try_get("city")?,
                    r.try_get("division")?,
                ))
            })
            .collect()
    }

    /// USCC → enterprise id, for linking complaints.
    async fn uscc_map(&self) -> Result<HashMap<String, i64>> {
        let rows = sqlx::query("SELECT id, uscc FROM enterprises")
            .fetch_all(self.pool())
            .await?;
        let mut m = HashMap::with_capacity(rows.len());
        for r in rows {
            m.insert(r.try_get::<String, _>("uscc")?, r.try_get::<i64, _>("id")?);
        }
        Ok(m)
    }

    /// A classifier with the stored lexicon corrections applied.
    pub async fn complaint_classifier(&self) -> Result<Classifier> {
        let overrides = self.lexicon_overrides().await?;
        let mut c = Classifier::new();
        c.apply_overrides(&overrides);
        Ok(c)
    }

    /// Imports a complaint file; see the module docs for the all-or-nothing strategy.
    pub async fn import_complaints(
        &self,
        path: &Path,
        opts: ImportOptions,
        progress: Arc<ImportProgress>,
        actor: Actor,
    ) -> std::result::Result<ImportReport, ImportError> {
        let started = std::time::Instant::now();
        let classifier = Arc::new(self.complaint_classifier().await?);
        let usccs = Arc::new(self.uscc_map().await?);
        let max_errors = opts.max_errors;
        let now = now_text();
        let import_key = format!("{}-{}", now, std::process::id());
        let mut sink = if self.backend_name() == "postgres" {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(self.url())
                .await?;
            sqlx::query("DELETE FROM complaints_staging WHERE import_key = $1")
                .bind(&import_key)
                .execute(&pool)
                .await?;
            let copy = pool.copy_in_raw(
                "COPY complaints_staging (import_key, seq, ext_id, received_at, day, channel, kind, region, city, enterprise_id, enterprise_uscc, enterprise_name, category, division, labels_source, problem, amount_fen, text, complainant_name, complainant_phone, complainant_id_number, complainant_address) FROM STDIN",
            )
            .await?;
            Sink::Copy { pool, copy, seq: 0 }
        } else {
            let Some(file) = self.sqlite_file.clone() else {
                return Err(StoreError::Native(
                    "complaint import needs a SQLite database file, not an in-memory database"
                        .into(),
                )
                .into());
            };
            let (tx, rx) = std::sync::mpsc::sync_channel(4);
            let (setup, now) = (self.dialect.connection_setup(), now.clone());
            let writer = tokio::task::spawn_blocking(move || native_writer(file, setup, now, rx));
            Sink::Native { tx, writer }
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(8);
        let parser = {
            let (path, progress) = (path.to_path_buf(), progress.clone());
            tokio::task::spawn_blocking(move || {
                parse_thread(path, opts, classifier, usccs, tx, progress)
            })
        };
        let mut report = ImportReport {
            file: path.display().to_string(),
            ..ImportReport::default()
        };
        let mut failed = false;
        let mut write_error: Option<StoreError> = None;
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Error(e) => {
                    failed = true;
                    report.error_count += 1;
                    if report.errors.len() < max_errors {
                        report.errors.push(e.into());
                    }
                }
                Msg::Batch(rows) => {
                    report.rows += rows.len() as u64;
                    report.linked +=
                        rows.iter().filter(|r| r.enterprise_id.is_some()).count() as u64;
                    if failed || write_error.is_some() {
                        continue;
                    }
                    let res: Result<()> = match &mut sink {
                        Sink::Copy { copy, seq, .. } => copy
                            .send(copy_rows(&import_key, seq, &rows))
                            .await
                            .map(|_| ())
                            .map_err(StoreError::from),
                        Sink::Native { tx, .. } => {
                            if crate::native_sqlite::send_to_writer(tx, NativeMsg::Rows(rows)).await
                            {
                                Ok(())
                            } else {
                                Err(StoreError::Native("the SQLite writer stopped".into()))
                            }
                        }
                    };
                    if let Err(e) = res {
                        write_error = Some(e);
                    }
                }
            }
        }
        let parsed = parser
            .await
            .map_err(|e| StoreError::Corrupt(format!("import thread: {e}")))?;
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Any failure: abort the sink (nothing lands) and report.
        let outcome: std::result::Result<(String, u64), ImportError> = match parsed {
            Err(e) => Err(e),
            Ok(_) if write_error.is_some() => Err(write_error
                .take()
                .map(ImportError::from)
                .unwrap_or_else(|| StoreError::Native("write failed".into()).into())),
            Ok(v) => Ok(v),
        };
        let (hash, classified) = match outcome {
            Ok(v) if !failed => v,
            other => {
                match sink {
                    Sink::Copy { pool, copy, .. } => {
                        let _ = copy.abort("import failed").await;
                        let _ = sqlx::query("DELETE FROM complaints_staging WHERE import_key = $1")
                            .bind(&import_key)
                            .execute(&pool)
                            .await;
                        pool.close().await;
                    }
                    Sink::Native { tx, writer } => {
                        drop(tx);
                        // The writer rolls back; its own error explains a write failure.
                        if let (Ok(Err(e)), false) = (writer.await, failed) {
                            return Err(e.into());
                        }
                    }
                }
                let (hash, classified) = other?;
                report.file_hash = hash;
                report.classified = classified;
                report.millis = started.elapsed().as_millis() as u64;
                return Ok(report); // row errors: rolled back, nothing written
            }
        };
        report.file_hash = hash;
        report.classified = classified;
        match sink {
            Sink::Native { tx, writer } => {
                let commit = NativeCommit {
                    file_hash: report.file_hash.clone(),
                    file_name,
                    rows: report.rows,
                    classified,
                    linked: report.linked,
                    now: now.clone(),
                    actor,
                };
                let sent = tx.send(NativeMsg::Commit(commit));
                drop(tx);
                let written = writer
                    .await
                    .map_err(|e| StoreError::Native(format!("SQLite writer: {e}")))??;
                match (sent, written) {
                    (Ok(()), Some(inserted)) => report.inserted = inserted,
                    _ => return Err(StoreError::Native("the SQLite writer stopped".into()).into()),
                }
            }
            Sink::Copy { pool, copy, .. } => {
                copy.finish().await?;
                let mut w = self.begin_write(actor).await?;
                // Stored complaints are updated in place (regulator labels kept), new ones
                // inserted with a plain INSERT: no per-row speculative insertion, and the
                // counts come from the statements, not from counting the table. Ids are unique
                // within a file (the parser refuses repeats), so no ordering is needed.
                let set_list = upsert_tail(&now)
                    .replace(" ON CONFLICT (ext_id) DO UPDATE SET ", "")
                    .replace("excluded.", "s.");
                sqlx::query(&format!(
                    "UPDATE complaints SET {set_list} FROM complaints_staging s WHERE s.import_key = $1 AND complaints.ext_id = s.ext_id"
                ))
                .bind(&import_key)
                .execute(&mut *w.tx)
                .await?;
                report.inserted = sqlx::query(&format!(
                    "INSERT INTO complaints ({INSERT_COLS}, updated_at) SELECT {INSERT_COLS}, '{now}' FROM complaints_staging s \
                     WHERE s.import_key = $1 AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.ext_id = s.ext_id)"
                ))
                .bind(&import_key)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                sqlx::query("DELETE FROM complaints_staging WHERE import_key = $1")
                    .bind(&import_key)
                    .execute(&mut *w.tx)
                    .await?;
                let updated = report.rows.saturating_sub(report.inserted);
                sqlx::query("INSERT INTO complaint_imports (file_hash, file_name, rows_read, inserted, updated, classified, linked, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(&report.file_hash)
                    .bind(&file_name)
                    .bind(report.rows as i64)
                    .bind(report.inserted as i64)
                    .bind(updated as i64)
                    .bind(report.classified as i64)
                    .bind(report.linked as i64)
                    .bind(&now)
                    .execute(&mut *w.tx)
                    .await?;
                w.record(import_change(
                    &report.file_hash,
                    &file_name,
                    report.rows,
                    report.inserted,
                    updated,
                    report.classified,
                    report.linked,
                ));
                self.commit(w).await?;
                pool.close().await;
            }
        }
        report.updated = report.rows.saturating_sub(report.inserted);
        report.committed = true;
        report.millis = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    // ───────────────────────────── reads ─────────────────────────────

    pub async fn complaint(&self, id: i64) -> Result<ComplaintRecord> {
        let row = sqlx::query(&format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("complaint {id}")))?;
        complaint_row(&row)
    }

    /// Newest first. Raw records: mask before showing outside the record view.
    pub async fn complaints(
        &self,
        f: &ComplaintFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ComplaintRecord>, i64)> {
        let (clause, binds) = f.clause();
        let n = binds.len();
        let sql = format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE {clause} ORDER BY received_at DESC, id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        let total: i64 = bind_all(
            sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM complaints WHERE {clause}"
            )),
            &binds,
        )
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        let list = rows.iter().map(complaint_row).collect::<Result<Vec<_>>>()?;
        Ok((list, total))
    }

    /// Counts grouped by day and the given columns (`city`, `division`, `category`, `problem`,
    /// `enterprise_id`); the caller folds days into weeks or months.
    pub async fn complaint_counts(
        &self,
        f: &ComplaintFilter,
        by: &[&str],
        with_day: bool,
    ) -> Result<Vec<CountRow>> {
        const ALLOWED: [&str; 5] = ["city", "division", "category", "problem", "enterprise_id"];
        let mut cols: Vec<&str> = by.iter().copied().filter(|c| ALLOWED.contains(c)).collect();
        if with_day {
            cols.insert(0, "day");
        }
        let (clause, binds) = f.clause();
        let group = if cols.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {}", cols.join(", "))
        };
        let select = if cols.is_empty() {
            "COUNT(*) AS n".to_string()
        } else {
            format!("{}, COUNT(*) AS n", cols.join(", "))
        };
        let sql = format!("SELECT {select} FROM complaints WHERE {clause}{group}");
        let rows = bind_all(sqlx::query(&sql), &binds)
            .fetch_all(self.pool())
            .await?;
        let has = |c: &str| cols.contains(&c);
        rows.iter()
            .map(|r| {
                Ok(CountRow {
                    day: if has("day") { r.try_get("day")? } else { None },
                    city: if has("city") {
                        r.try_get("city")?
                    } else {
                        None
                    },
                    division: if has("division") {
                        r.try_get("division")?
                    } else {
                        None
                    },
                    category: if has("category") {
                        r.try_get("category")?
                    } else {
                        None
                    },
                    problem: if has("problem") {
                        r.try_get("problem")?
                    } else {
                        None
                    },
                    enterprise_id: if has("enterprise_id") {
                        r.try_get("enterprise_id")?
                    } else {
                        None
                    },
                    n: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// Top enterprises by complaints in the filter (id, USCC, name, count).
    pub async fn complaint_top_enterprises(
        &self,
        f: &ComplaintFilter,
        n: i64,
    ) -> Result<Vec<(Option<i64>, Option<String>, String, i64)>> {
        top_enterprises(&mut *self.pool().acquire().await?, f, n).await
    }

    /// Complaints against an enterprise in the 12 months up to `today` (for the code scan page).
    pub async fn complaint_count_12m(&self, enterprise_id: i64, today: NaiveDate) -> Result<i64> {
        let from = today - Duration::days(365);
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM complaints WHERE enterprise_id = $1 AND day > $2 AND day <= $3",
        )
        .bind(enterprise_id)
        .bind(from.to_string())
        .bind(today.to_string())
        .fetch_one(self.pool())
        .await?
        .try_get("n")?)
    }

    /// First and last complaint day stored.
    pub async fn complaint_span(&self) -> Result<Option<(NaiveDate, NaiveDate)>> {
        let r = sqlx::query("SELECT MIN(day) AS a, MAX(day) AS b FROM complaints")
            .fetch_one(self.pool())
            .await?;
        let a: Option<String> = r.try_get("a")?;
        let b: Option<String> = r.try_get("b")?;
        Ok(match (a, b) {
            (Some(a), Some(b)) => Some((
                NaiveDate::parse_from_str(&a, "%Y-%m-%d").map_err(corrupt)?,
                NaiveDate::parse_from_str(&b, "%Y-%m-%d").map_err(corrupt)?,
            )),
            _ => None,
        })
    }

    // ───────────────────────────── labels & lexicon ─────────────────────────────

    pub async fn lexicon_overrides(&self) -> Result<Vec<TermOverride>> {
        let rows =
            sqlx::query("SELECT term, target FROM complaint_lexicon ORDER BY updated_at, term")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                let target: Option<String> = r.try_get("target")?;
                Ok(TermOverride {
                    term: r.try_get("term")?,
                    target: match target {
                        Some(t) => Some(serde_json::from_str::<Target>(&t).map_err(corrupt)?),
                        None => None,
                    },
                })
            })
            .collect()
    }

    /// Adds (or with `None` removes) a lexicon term; applied by later classification.
    pub async fn set_lexicon_term(
        &self,
        term: &str,
        target: Option<Target>,
        actor: Actor,
    ) -> Result<()> {
        let now = now_text();
        let t = target
            .map(|t| serde_json::to_string(&t))
            .transpose()
            .map_err(corrupt)?;
        let by = actor.0.clone();
        let mut w = self.begin_write(actor).await?;
        sqlx::query("INSERT INTO complaint_lexicon (term, target, updated_at, updated_by) VALUES ($1, $2, $3, $4) ON CONFLICT (term) DO UPDATE SET target = excluded.target, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
            .bind(term)
            .bind(t.as_deref())
            .bind(&now)
            .bind(&by)
            .execute(&mut *w.tx)
            .await?;
        w.record(Change::new("complaints.lexicon", "complaint_lexicon", term).after(target));
        self.commit(w).await
    }

    /// A fingerprint of the lexicon table, to know when a cached classifier is stale.
    pub async fn lexicon_version(&self) -> Result<String> {
        let r = sqlx::query("SELECT COUNT(*) AS n, MAX(updated_at) AS m FROM complaint_lexicon")
            .fetch_one(self.pool())
            .await?;
        let n: i64 = r.try_get("n")?;
        let m: Option<String> = r.try_get("m")?;
        Ok(format!("{n}:{}", m.unwrap_or_default()))
    }

    /// A regulator's label correction; kept as labelled data and never overwritten by re-imports.
    pub async fn correct_complaint_labels(
        &self,
        id: i64,
        category: Option<Category>,
        division: Option<Division>,
        actor: Actor,
    ) -> Result<ComplaintRecord> {
        let division = division.or(category.map(Category::division));
        let by = actor.0.clone();
        let mut w = self.begin_write(actor).await?;
        let row = sqlx::query(&format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("complaint {id}")))?;
        let old = complaint_row(&row)?;
        let cat = category.map(|c| c.info().key.clone());
        let div = division.map(|d| i64::from(d.code()));
        let now = now_text();
        sqlx::query("UPDATE complaints SET category = $1, division = $2, labels_source = 'regulator', updated_at = $3 WHERE id = $4")
            .bind(cat.as_deref())
            .bind(div)
            .bind(&now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("INSERT INTO complaint_corrections (complaint_id, old_category, old_division, category, division, corrected_by, corrected_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id)
            .bind(old.category.as_deref())
            .bind(old.division)
            .bind(cat.as_deref())
            .bind(div)
            .bind(&by)
            .bind(&now)
            .execute(&mut *w.tx)
            .await?;
        w.record(
            Change::new("complaints.correct", "complaint", id)
                .before(serde_json::json!({"category": old.category, "division": old.division}))
                .after(serde_json::json!({"category": cat, "division": div})),
        );
        self.commit(w).await?;
        self.complaint(id).await
    }

    /// Regulator-labelled complaints: (text, category key, division).
    pub async fn labelled_complaints(&self) -> Result<Vec<(String, Option<String>, Option<i64>)>> {
        let rows = sqlx::query("SELECT text, category, division FROM complaints WHERE labels_source = 'regulator' ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("text")?,
                    r.try_get("category")?,
                    r.try_get("division")?,
                ))
            })
            .collect()
    }
}

/// One group-by row.
#[derive(Debug, Clone, Serialize)]
pub struct CountRow {
    pub day: Option<String>,
    pub city: Option<String>,
    pub division: Option<i64>,
    pub category: Option<String>,
    pub problem: Option<String>,
    pub enterprise_id: Option<i64>,
    pub n: i64,
}

async fn top_enterprises(
    conn: &mut AnyConnection,
    f: &ComplaintFilter,
    n: i64,
) -> Result<Vec<(Option<i64>, Option<String>, String, i64)>> {
    let (clause, binds) = f.clause();
    let sql = format!(
        "SELECT enterprise_id, enterprise_uscc, COALESCE(enterprise_name, enterprise_uscc) AS name, COUNT(*) AS n FROM complaints WHERE {clause} AND (enterprise_uscc IS NOT NULL OR enterprise_name IS NOT NULL) GROUP BY enterprise_id, enterprise_uscc, COALESCE(enterprise_name, enterprise_uscc) ORDER BY n DESC, name LIMIT ${}",
        binds.len() + 1
    );
    let rows = bind_all(sqlx::query(&sql), &binds)
        .bind(n)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("enterprise_id")?,
                r.try_get("enterprise_uscc")?,
                r.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                r.try_get("n")?,
            ))
        })
        .collect()
}

// ───────────────────────────── detection ─────────────────────────────

/// One stored alarm.
#[derive(Debug, Clone, Serialize)]
pub struct AlarmRecord {
    pub id: i64,
    pub run_id: i64,
    pub method: String,
    pub level: String,
    pub city: String,
    /// 0 when the series is not per division.
    pub division: i64,
    /// "" when the series is not per category.
    pub category: String,
    pub period_start: String,
    pub period_days: i64,
    pub observed: f64,
    pub expected: f64,
    pub threshold: f64,
    pub p_value: f64,
    pub q_value: f64,
    pub significant: bool,
}

impl AlarmRecord {
    pub fn period_end(&self) -> String {
        NaiveDate::parse_from_str(&self.period_start, "%Y-%m-%d")
            .map(|d| (d + Duration::days(self.period_days - 1)).to_string())
            .unwrap_or_default()
    }
    /// The drill-down filter: the series over the evidence window (7 days ending with the period).
    pub fn filter(&self) -> ComplaintFilter {
        let end = NaiveDate::parse_from_str(&self.period_start, "%Y-%m-%d")
            .map(|d| d + Duration::days(self.period_days - 1))
            .ok();
        ComplaintFilter {
            from: end.map(|e| e - Duration::days(6)),
            to: end,
            city: Some(self.city.clone()),
            division: (self.division != 0).then_some(self.division),
            category: (!self.category.is_empty()).then(|| self.category.clone()),
            ..ComplaintFilter::default()
        }
    }
    pub fn series_key(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.level, self.city, self.division, self.category
        )
    }
    pub fn city_name(&self) -> &str {
        city_name(&self.city)
    }
    pub fn subject_zh(&self) -> String {
        if !self.category.is_empty() {
            category_name(&self.category)
        } else if self.division != 0 {
            division_name(self.division)
        } else {
            "全部商品和服务".into()
        }
    }
    pub fn method_name(&self) -> &str {
        method_label(&self.method)
    }
    pub fn ratio(&self) -> f64 {
        if self.expected > 0.0 {
            self.observed / self.expected
        } else {
            self.observed
        }
    }
    /// Rebuilds the library's alarm (for roll-up).
    pub fn to_alarm(&self) -> Option<Alarm> {
        Some(Alarm {
            method: method_from(&self.method)?,
            level: level_from(&self.level)?,
            region: RegionCode::parse(&self.city).ok()?,
            division: (self.division != 0)
                .then(|| Division::parse(&self.division.to_string()).ok())
                .flatten(),
            category: (!self.category.is_empty())
                .then(|| Category::parse(&self.category).ok())
                .flatten(),
            period: Period {
                start: NaiveDate::parse_from_str(&self.period_start, "%Y-%m-%d").ok()?,
                days: u8::try_from(self.period_days).ok()?,
            },
            observed: self.observed,
            expected: self.expected,
            threshold: self.threshold,
            p_value: self.p_value,
            q_value: self.q_value,
            significant: self.significant,
        })
    }
}

pub fn method_label(m: &str) -> &str {
    match m {
        "ears_c1" => "EARS C1",
        "ears_c2" => "EARS C2",
        "ears_c3" => "EARS C3",
        "farrington_flexible" => "Farrington-flexible",
        "cusum" => "Poisson CUSUM",
        other => other,
    }
}

fn method_from(s: &str) -> Option<Method> {
    Method::ALL.into_iter().find(|m| m.as_str() == s)
}

fn level_str(l: Level) -> &'static str {
    match l {
        Level::City => "city",
        Level::CityDivision => "division",
        Level::CityCategory => "category",
    }
}

fn level_from(s: &str) -> Option<Level> {
    match s {
        "city" => Some(Level::City),
        "division" => Some(Level::CityDivision),
        "category" => Some(Level::CityCategory),
        _ => None,
    }
}

const ALARM_COLS: &str = "id, run_id, method, level, city, division, category, period_start, period_days, observed, expected, threshold, p_value, q_value, significant";

fn alarm_row(r: &AnyRow) -> Result<AlarmRecord> {
    Ok(AlarmRecord {
        id: r.try_get("id")?,
        run_id: r.try_get("run_id")?,
        method: r.try_get("method")?,
        level: r.try_get("level")?,
        city: r.try_get("city")?,
        division: r.try_get("division")?,
        category: r.try_get("category")?,
        period_start: r.try_get("period_start")?,
        period_days: r.try_get("period_days")?,
        observed: r.try_get("observed")?,
        expected: r.try_get("expected")?,
        threshold: r.try_get("threshold")?,
        p_value: r.try_get("p_value")?,
        q_value: r.try_get("q_value")?,
        significant: r.try_get::<i64, _>("significant")? != 0,
    })
}

/// What a detection run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DetectReport {
    pub run_id: i64,
    pub as_of: String,
    pub from: String,
    pub complaints: u64,
    pub alarms: u64,
    pub significant: u64,
    pub drafts_created: u64,
    pub read_millis: u64,
    pub detect_millis: u64,
    pub write_millis: u64,
}

/// Options of a detection run.
#[derive(Debug, Clone)]
pub struct DetectOptions {
    pub as_of: NaiveDate,
    /// Days of history loaded (default 4 years).
    pub history_days: i64,
    /// Alarms reported (and BH-tested) for the last this many days.
    pub report_days: i64,
    /// Turn significant alarms into draft warnings.
    pub draft_warnings: bool,
}

impl DetectOptions {
    pub fn new(as_of: NaiveDate) -> Self {
        Self {
            as_of,
            history_days: 4 * 365 + 1,
            report_days: 28,
            draft_warnings: true,
        }
    }
}

fn fast_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() < 10 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

impl Store {
    /// Loads the stored complaints of `[from, to]` into an integer-coded cube.
    pub async fn complaint_cube(&self, from: NaiveDate, to: NaiveDate) -> Result<Cube> {
        use futures_util::TryStreamExt;
        if let Some(path) = self.sqlite_file.clone() {
            // A full scan of millions of rows: read it natively (see `native_sqlite`).
            let setup = self.dialect.connection_setup();
            return crate::native_sqlite::with_connection(path, setup, move |conn| {
                use crate::native_sqlite::native;
                let mut coder = CubeCoder::new(from, to);
                let mut stmt = conn.prepare(&cube_sql("?1", "?2")).map_err(native)?;
                let mut rows = stmt
                    .query([from.to_string(), to.to_string()])
                    .map_err(native)?;
                while let Some(r) = rows.next().map_err(native)? {
                    coder.push(
                        r.get_ref(0)
                            .map_err(native)?
                            .as_str()
                            .map_err(native_value)?,
                        r.get_ref(1)
                            .map_err(native)?
                            .as_str()
                            .map_err(native_value)?,
                        r.get(2).map_err(native)?,
                        r.get_ref(3)
                            .map_err(native)?
                            .as_str_or_null()
                            .map_err(native_value)?,
                        r.get_ref(4)
                            .map_err(native)?
                            .as_str()
                            .map_err(native_value)?,
                        r.get(5).map_err(native)?,
                    )?;
                }
                Ok(coder.cube)
            })
            .await;
        }
        let mut coder = CubeCoder::new(from, to);
        let mut conn = self.pool().acquire().await?;
        let sql = cube_sql("$1", "$2");
        let mut rows = sqlx::query(&sql)
            .bind(from.to_string())
            .bind(to.to_string())
            .fetch(&mut *conn);
        while let Some(r) = rows.try_next().await? {
            coder.push(
                r.try_get("day")?,
                r.try_get("city")?,
                r.try_get("division")?,
                r.try_get("category")?,
                r.try_get("problem")?,
                r.try_get("enterprise_id")?,
            )?;
        }
        Ok(coder.cube)
    }

    /// Recomputes the alarms over the stored complaints and stores them (replacing those of
    /// earlier runs that no warning refers to); significant alarms become draft warnings.
    pub async fn detect_complaint_alarms(
        &self,
        opts: &DetectOptions,
        actor: Actor,
    ) -> Result<DetectReport> {
        let t0 = std::time::Instant::now();
        let from = opts.as_of - Duration::days(opts.history_days - 1);
        let cube = self.complaint_cube(from, opts.as_of).await?;
        let complaints = cube.len() as i64;
        let read_millis = t0.elapsed().as_millis() as u64;
        let t1 = std::time::Instant::now();
        let report_from = (opts.history_days - opts.report_days).max(0) as usize;
        let alarms = tokio::task::spawn_blocking(move || {
            let params = DetectParams {
                report_from_day: report_from,
                ..DetectParams::default()
            };
            detect_all(&cube, &params)
        })
        .await
        .map_err(|e| corrupt(format!("detection thread: {e}")))?;
        let detect_millis = t1.elapsed().as_millis() as u64;
        let t2 = std::time::Instant::now();
        let now = now_text();
        let significant = alarms.iter().filter(|a| a.significant).count() as u64;
        let mut w = self.begin_write(actor).await?;
        sqlx::query("DELETE FROM complaint_alarms WHERE id NOT IN (SELECT alarm_id FROM complaint_warnings WHERE alarm_id IS NOT NULL)")
            .execute(&mut *w.tx)
            .await?;
        let run_id: i64 = sqlx::query("INSERT INTO complaint_detect_runs (as_of, from_day, complaints, series_alarms, significant, millis, ran_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(opts.as_of.to_string())
            .bind(from.to_string())
            .bind(complaints)
            .bind(alarms.len() as i64)
            .bind(significant as i64)
            .bind((read_millis + detect_millis) as i64)
            .bind(&now)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("id")?;
        const PER: usize = 500;
        for chunk in alarms.chunks(PER) {
            let mut sql = String::from(
                "INSERT INTO complaint_alarms (run_id, method, level, city, division, category, period_start, period_days, observed, expected, threshold, p_value, q_value, significant, created_at) VALUES ",
            );
            let mut n = 0;
            for (i, _) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push('(');
                for c in 0..15 {
                    n += 1;
                    if c > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&self.dialect.ph(n));
                }
                sql.push(')');
            }
            sql.push_str(" ON CONFLICT (method, level, city, division, category, period_start) DO UPDATE SET run_id = excluded.run_id, observed = excluded.observed, expected = excluded.expected, threshold = excluded.threshold, p_value = excluded.p_value, q_value = excluded.q_value, significant = excluded.significant");
            let mut q = sqlx::query(&sql);
            for a in chunk {
                let fin = |v: f64| if v.is_finite() { v } else { 1.0 };
                q = q
                    .bind(run_id)
                    .bind(a.method.as_str())
                    .bind(level_str(a.level))
                    .bind(a.region.city().code.clone())
                    .bind(a.division.map_or(0, |d| i64::from(d.code())))
                    .bind(a.category.map_or(String::new(), |c| c.info().key.clone()))
                    .bind(a.period.start.to_string())
                    .bind(i64::from(a.period.days))
                    .bind(if a.observed.is_finite() {
                        a.observed
                    } else {
                        0.0
                    })
                    .bind(if a.expected.is_finite() {
                        a.expected
                    } else {
                        0.0
                    })
                    .bind(if a.threshold.is_finite() {
                        a.threshold
                    } else {
                        0.0
                    })
                    .bind(fin(a.p_value))
                    .bind(fin(a.q_value))
                    .bind(i64::from(a.significant))
                    .bind(&now);
            }
            q.execute(&mut *w.tx).await?;
        }
        let mut drafts = 0u64;
        if opts.draft_warnings {
            let rows = sqlx::query(&format!(
                "SELECT {ALARM_COLS} FROM complaint_alarms WHERE run_id = $1 AND significant = 1 ORDER BY q_value, p_value, id"
            ))
            .bind(run_id)
            .fetch_all(&mut *w.tx)
            .await?;
            let stored = rows.iter().map(alarm_row).collect::<Result<Vec<_>>>()?;
            // One draft per surging series (the alarm with the smallest q leads), with every
            // method's alarm on that series as evidence.
            let mut by_series: HashMap<String, Vec<&AlarmRecord>> = HashMap::new();
            let mut leaders = Vec::new();
            for a in &stored {
                let key = a.series_key();
                let same = by_series.entry(key.clone()).or_default();
                if same.is_empty() {
                    leaders.push((key, a));
                }
                same.push(a);
            }
            let recent = (opts.as_of - Duration::days(30)).to_string();
            for (key, a) in leaders {
                let exists: i64 = sqlx::query("SELECT COUNT(*) AS n FROM complaint_warnings WHERE series_key = $1 AND status <> 'withdrawn' AND created_at >= $2")
                    .bind(&key)
                    .bind(&recent)
                    .fetch_one(&mut *w.tx)
                    .await?
                    .try_get("n")?;
                if exists > 0 {
                    continue;
                }
                let methods = by_series.get(&key).map(Vec::as_slice).unwrap_or_default();
                create_draft(&mut w.tx, a, methods, &now).await?;
                drafts += 1;
            }
        }
        w.record(
            Change::new("complaints.detect", "complaint_detect_run", run_id).after(
                serde_json::json!({"as_of": opts.as_of.to_string(), "alarms": alarms.len(),
                    "significant": significant, "drafts": drafts}),
            ),
        );
        self.commit(w).await?;
        Ok(DetectReport {
            run_id,
            as_of: opts.as_of.to_string(),
            from: from.to_string(),
            complaints: complaints as u64,
            alarms: alarms.len() as u64,
            significant,
            drafts_created: drafts,
            read_millis,
            detect_millis,
            write_millis: t2.elapsed().as_millis() as u64,
        })
    }

    pub async fn complaint_alarms(
        &self,
        significant_only: bool,
        limit: i64,
    ) -> Result<Vec<AlarmRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {ALARM_COLS} FROM complaint_alarms WHERE significant >= $1 ORDER BY period_start DESC, q_value, id LIMIT $2"
        ))
        .bind(i64::from(significant_only))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(alarm_row).collect()
    }

    pub async fn complaint_alarm(&self, id: i64) -> Result<AlarmRecord> {
        let row = sqlx::query(&format!(
            "SELECT {ALARM_COLS} FROM complaint_alarms WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("alarm {id}")))?;
        alarm_row(&row)
    }

    pub async fn last_detect_run(&self) -> Result<Option<(i64, String, String, i64, i64)>> {
        let row = sqlx::query("SELECT id, as_of, ran_at, series_alarms, significant FROM complaint_detect_runs ORDER BY id DESC LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("as_of")?,
                r.try_get("ran_at")?,
                r.try_get("series_alarms")?,
                r.try_get("significant")?,
            ))
        })
        .transpose()
    }

    /// A draft warning from any stored alarm (regulator's choice).
    pub async fn draft_warning_from_alarm(&self, alarm_id: i64, actor: Actor) -> Result<i64> {
        let a = self.complaint_alarm(alarm_id).await?;
        let mut w = self.begin_write(actor).await?;
        let now = now_text();
        let id = create_draft(&mut w.tx, &a, &[&a], &now).await?;
        w.record(Change::new("complaints.warning.draft", "complaint_warning", id).after(&a));
        self.commit(w).await?;
        Ok(id)
    }
}

// ───────────────────────────── warnings ─────────────────────────────

/// Evidence attached to a warning (stored as JSON, shown on every view of the warning).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Evidence {
    pub alarm_id: i64,
    pub method: String,
    pub methods: Vec<String>,
    pub observed: f64,
    pub expected: f64,
    pub threshold: f64,
    pub p_value: f64,
    pub q_value: f64,
    pub period_start: String,
    pub period_end: String,
    pub window_from: String,
    pub window_to: String,
    pub city: String,
    pub city_name: String,
    pub division: Option<i64>,
    pub division_name: String,
    pub category: Option<String>,
    pub category_name: String,
    pub window_complaints: i64,
    pub leading_enterprises: Vec<EvidenceEnterprise>,
    pub problem_types: Vec<(String, i64)>,
    /// Masked samples: complainant data masked and texts scrubbed.
    pub samples: Vec<EvidenceSample>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EvidenceEnterprise {
    pub enterprise_id: Option<i64>,
    pub uscc: Option<String>,
    pub name: String,
    pub complaints: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EvidenceSample {
    pub ext_id: String,
    pub day: String,
    pub problem: String,
    pub text: String,
    pub complainant_name: Option<String>,
    pub complainant_phone: Option<String>,
}

/// A warning with its evidence, named enterprises and comments.
#[derive(Debug, Clone, Serialize)]
pub struct WarningRecord {
    pub id: i64,
    pub alarm_id: Option<i64>,
    pub status: String,
    /// `tip` (消费提示) or `alert` (消费警示).
    pub severity: String,
    pub title: String,
    pub body: String,
    pub evidence: Evidence,
    pub comment_deadline: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub approved_at: Option<String>,
    pub approved_by: Option<String>,
    pub published_at: Option<String>,
    pub enterprises: Vec<NamedEnterprise>,
    pub comments: Vec<WarningComment>,
}

impl WarningRecord {
    pub fn severity_zh(&self) -> &'static str {
        if self.severity == "alert" {
            "消费警示"
        } else {
            "消费提示"
        }
    }
    pub fn severity_en(&self) -> &'static str {
        if self.severity == "alert" {
            "Consumer alert"
        } else {
            "Consumer tip"
        }
    }
    pub fn status_zh(&self) -> &'static str {
        match self.status.as_str() {
            "draft" => "草稿",
            "approved" => "已审核·征求意见中",
            "published" => "已发布",
            "withdrawn" => "已撤回",
            _ => "",
        }
    }
    pub fn window_open(&self, now: &str) -> bool {
        self.status == "approved" && self.comment_deadline.as_deref().is_some_and(|d| now < d)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NamedEnterprise {
    pub enterprise_id: i64,
    pub uscc: String,
    pub name: String,
    pub complaints: i64,
    pub notified_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WarningComment {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub author: String,
    pub body: String,
    pub created_at: String,
}

/// A short public reference to a published warning (for quality files).
#[derive(Debug, Clone, Serialize)]
pub struct WarningRef {
    pub id: i64,
    pub title: String,
    pub severity: String,
    pub published_at: String,
}

async fn create_draft(
    conn: &mut AnyConnection,
    lead: &AlarmRecord,
    all: &[&AlarmRecord],
    now: &str,
) -> Result<i64> {
    let f = lead.filter();
    let (clause, binds) = f.clause();
    let window_complaints: i64 = bind_all(
        sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM complaints WHERE {clause}"
        )),
        &binds,
    )
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    let leading = top_enterprises(conn, &f, 5).await?;
    let probs = bind_all(
        sqlx::query(&format!(
            "SELECT problem, COUNT(*) AS n FROM complaints WHERE {clause} GROUP BY problem ORDER BY n DESC, problem"
        )),
        &binds,
    )
    .fetch_all(&mut *conn)
    .await?;
    let problem_types = probs
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("problem")?,
                r.try_get::<i64, _>("n")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let n = binds.len();
    let samples = bind_all(
        sqlx::query(&format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE {clause} ORDER BY received_at DESC, id DESC LIMIT ${}",
            n + 1
        )),
        &binds,
    )
    .bind(5i64)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| complaint_row(r).map(ComplaintRecord::masked))
    .collect::<Result<Vec<_>>>()?;
    let safety = problem_types.first().is_some_and(|(p, _)| p == "safety");
    let severity = if safety || lead.ratio() >= 3.0 {
        "alert"
    } else {
        "tip"
    };
    let subject = lead.subject_zh();
    let city = lead.city_name().to_string();
    let title = format!(
        "关于{city}{subject}投诉明显增多的{}",
        if severity == "alert" {
            "消费警示"
        } else {
            "消费提示"
        }
    );
    let top_problem = problem_types
        .first()
        .and_then(|(p, _)| ProblemType::parse(p).ok())
        .map_or("其他", |p| p.name_zh());
    let body = format!(
        "{}至{}，{city}市场监管部门接到的{subject}相关投诉举报为{}件，明显高于同期预期水平（约{:.1}件），主要集中在“{top_problem}”方面。提醒广大消费者在购买和使用{subject}时注意查看产品标识、索要并保存购物凭证，发现质量安全问题及时通过12315热线或全国12315平台反映。",
        f.from.map(|d| d.to_string()).unwrap_or_default(),
        f.to.map(|d| d.to_string()).unwrap_or_default(),
        lead.observed,
        lead.expected
    );
    let mut methods: Vec<String> = all
        .iter()
        .map(|a| method_label(&a.method).to_string())
        .collect();
    methods.sort();
    methods.dedup();
    let evidence = Evidence {
        alarm_id: lead.id,
        method: method_label(&lead.method).to_string(),
        methods,
        observed: lead.observed,
        expected: lead.expected,
        threshold: lead.threshold,
        p_value: lead.p_value,
        q_value: lead.q_value,
        period_start: lead.period_start.clone(),
        period_end: lead.period_end(),
        window_from: f.from.map(|d| d.to_string()).unwrap_or_default(),
        window_to: f.to.map(|d| d.to_string()).unwrap_or_default(),
        city: lead.city.clone(),
        city_name: city.clone(),
        division: f.division,
        division_name: f.division.map(division_name).unwrap_or_default(),
        category: f.category.clone(),
        category_name: f.category.as_deref().map(category_name).unwrap_or_default(),
        window_complaints,
        leading_enterprises: leading
            .iter()
            .map(|(id, uscc, name, n)| EvidenceEnterprise {
                enterprise_id: *id,
                uscc: uscc.clone(),
                name: name.clone(),
                complaints: *n,
            })
            .collect(),
        problem_types,
        samples: samples
            .into_iter()
            .map(|s| EvidenceSample {
                ext_id: s.ext_id,
                day: s.day,
                problem: s.problem,
                text: s.text,
                complainant_name: s.complainant.name,
                complainant_phone: s.complainant.phone,
            })
            .collect(),
    };
    let id: i64 = sqlx::query("INSERT INTO complaint_warnings (alarm_id, status, severity, title, body, series_key, evidence, created_at, updated_at) VALUES ($1, 'draft', $2, $3, $4, $5, $6, $7, $7) RETURNING id")
        .bind(lead.id)
        .bind(severity)
        .bind(&title)
        .bind(&body)
        .bind(lead.series_key())
        .bind(serde_json::to_string(&evidence).map_err(corrupt)?)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
    for (eid, _, _, n) in leading.iter().take(3) {
        if let Some(eid) = eid {
            sqlx::query("INSERT INTO complaint_warning_enterprises (warning_id, enterprise_id, complaints) VALUES ($1, $2, $3) ON CONFLICT (warning_id, enterprise_id) DO NOTHING")
                .bind(id)
                .bind(*eid)
                .bind(*n)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(id)
}

const WARNING_COLS: &str = "id, alarm_id, status, severity, title, body, evidence, comment_deadline, created_at, updated_at, approved_at, approved_by, published_at";

async fn load_warning(conn: &mut AnyConnection, id: i64) -> Result<WarningRecord> {
    let r = sqlx::query(&format!(
        "SELECT {WARNING_COLS} FROM complaint_warnings WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("warning {id}")))?;
    let mut w = warning_head(&r)?;
    let ents = sqlx::query("SELECT w.enterprise_id, e.uscc, e.name, w.complaints, w.notified_at FROM complaint_warning_enterprises w JOIN enterprises e ON e.id = w.enterprise_id WHERE w.warning_id = $1 ORDER BY w.complaints DESC, e.id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    w.enterprises = ents
        .iter()
        .map(|r| {
            Ok(NamedEnterprise {
                enterprise_id: r.try_get("enterprise_id")?,
                uscc: r.try_get("uscc")?,
                name: r.try_get("name")?,
                complaints: r.try_get("complaints")?,
                notified_at: r.try_get("notified_at")?,
            })
        })
        .collect::<Result<_>>()?;
    let comments = sqlx::query("SELECT c.id, c.enterprise_id, e.name, c.author, c.body, c.created_at FROM complaint_warning_comments c JOIN enterprises e ON e.id = c.enterprise_id WHERE c.warning_id = $1 ORDER BY c.id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    w.comments = comments
        .iter()
        .map(|r| {
            Ok(WarningComment {
                id: r.try_get("id")?,
                enterprise_id: r.try_get("enterprise_id")?,
                enterprise_name: r.try_get("name")?,
                author: r.try_get("author")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(w)
}

fn warning_head(r: &AnyRow) -> Result<WarningRecord> {
    let ev: String = r.try_get("evidence")?;
    Ok(WarningRecord {
        id: r.try_get("id")?,
        alarm_id: r.try_get("alarm_id")?,
        status: r.try_get("status")?,
        severity: r.try_get("severity")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        evidence: serde_json::from_str(&ev).map_err(corrupt)?,
        comment_deadline: r.try_get("comment_deadline")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        approved_at: r.try_get("approved_at")?,
        approved_by: r.try_get("approved_by")?,
        published_at: r.try_get("published_at")?,
        enterprises: vec![],
        comments: vec![],
    })
}

/// Which warnings a caller may list.
#[derive(Debug, Clone, Copy)]
pub enum WarningScope {
    /// Regulators: everything.
    All,
    /// The public: published only.
    Published,
    /// An enterprise: warnings naming it once approved (comment window) or published.
    Enterprise(i64),
}

/// Why a workflow step was refused.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    State(String),
}

impl From<sqlx::Error> for WorkflowError {
    fn from(e: sqlx::Error) -> Self {
        WorkflowError::Store(e.into())
    }
}

impl Store {
    pub async fn complaint_warning(&self, id: i64) -> Result<WarningRecord> {
        load_warning(&mut *self.pool().acquire().await?, id).await
    }

    pub async fn complaint_warnings(&self, scope: WarningScope) -> Result<Vec<WarningRecord>> {
        let (sql, bind) = match scope {
            WarningScope::All => (
                format!("SELECT {WARNING_COLS} FROM complaint_warnings ORDER BY id DESC LIMIT 500"),
                None,
            ),
            WarningScope::Published => (
                format!(
                    "SELECT {WARNING_COLS} FROM complaint_warnings WHERE status = 'published' ORDER BY published_at DESC, id DESC LIMIT 200"
                ),
                None,
            ),
            WarningScope::Enterprise(e) => (
                format!(
                    "SELECT {WARNING_COLS} FROM complaint_warnings WHERE status IN ('approved', 'published') AND id IN (SELECT warning_id FROM complaint_warning_enterprises WHERE enterprise_id = $1) ORDER BY id DESC"
                ),
                Some(e),
            ),
        };
        let mut q = sqlx::query(&sql);
        if let Some(e) = bind {
            q = q.bind(e);
        }
        let rows = q.fetch_all(self.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut conn = self.pool().acquire().await?;
        for r in &rows {
            out.push(load_warning(&mut conn, r.try_get("id")?).await?);
        }
        Ok(out)
    }

    /// Published warnings naming an enterprise, for its quality file.
    pub async fn complaint_warnings_for_enterprise(
        &self,
        enterprise_id: i64,
    ) -> Result<Vec<WarningRef>> {
        let rows = sqlx::query("SELECT w.id, w.title, w.severity, w.published_at FROM complaint_warnings w JOIN complaint_warning_enterprises e ON e.warning_id = w.id WHERE e.enterprise_id = $1 AND w.status = 'published' ORDER BY w.published_at DESC")
            .bind(enterprise_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(WarningRef {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    severity: r.try_get("severity")?,
                    published_at: r
                        .try_get::<Option<String>, _>("published_at")?
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Regulator edits title, body or severity (drafts and approved warnings only).
    pub async fn edit_complaint_warning(
        &self,
        id: i64,
        title: &str,
        body: &str,
        severity: &str,
        actor: Actor,
    ) -> std::result::Result<WarningRecord, WorkflowError> {
        let mut w = self.begin_write(actor).await?;
        let before = load_warning(&mut w.tx, id).await?;
        if !matches!(before.status.as_str(), "draft" | "approved") {
            return Err(WorkflowError::State(format!(
                "已{}的警示不能修改 (a {} warning cannot be edited)",
                before.status_zh(),
                before.status
            )));
        }
        sqlx::query("UPDATE complaint_warnings SET title = $1, body = $2, severity = $3, updated_at = $4 WHERE id = $5")
            .bind(title)
            .bind(body)
            .bind(severity)
            .bind(now_text())
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.record(
            Change::new("complaints.warning.edit", "complaint_warning", id)
                .before(serde_json::json!({"title": before.title, "body": before.body, "severity": before.severity}))
                .after(serde_json::json!({"title": title, "body": body, "severity": severity})),
        );
        self.commit(w).await?;
        Ok(self.complaint_warning(id).await?)
    }

    /// Approves a draft: the named enterprises are notified and may comment until the deadline.
    pub async fn approve_complaint_warning(
        &self,
        id: i64,
        comment_days: i64,
        actor: Actor,
    ) -> std::result::Result<WarningRecord, WorkflowError> {
        let by = actor.0.clone();
        let mut w = self.begin_write(actor).await?;
        let before = load_warning(&mut w.tx, id).await?;
        if before.status != "draft" {
            return Err(WorkflowError::State(format!(
                "只有草稿可以审核 (only drafts can be approved; this one is {})",
                before.status
            )));
        }
        let now = chrono::Utc::now();
        let deadline = (now + Duration::days(comment_days))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let now = now_text();
        sqlx::query("UPDATE complaint_warnings SET status = 'approved', approved_at = $1, approved_by = $2, comment_deadline = $3, updated_at = $1 WHERE id = $4")
            .bind(&now)
            .bind(&by)
            .bind(&deadline)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query(
            "UPDATE complaint_warning_enterprises SET notified_at = $1 WHERE warning_id = $2",
        )
        .bind(&now)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("complaints.warning.approve", "complaint_warning", id).after(
                serde_json::json!({"comment_deadline": deadline,
                    "notified": before.enterprises.iter().map(|e| e.enterprise_id).collect::<Vec<_>>()}),
            ),
        );
        self.commit(w).await?;
        Ok(self.complaint_warning(id).await?)
    }

    /// A named enterprise's comment, accepted only while the window is open.
    pub async fn comment_complaint_warning(
        &self,
        id: i64,
        enterprise_id: i64,
        body: &str,
        actor: Actor,
    ) -> std::result::Result<WarningRecord, WorkflowError> {
        let author = actor.0.clone();
        let mut w = self.begin_write(actor).await?;
        let before = load_warning(&mut w.tx, id).await?;
        if !before
            .enterprises
            .iter()
            .any(|e| e.enterprise_id == enterprise_id)
        {
            return Err(WorkflowError::Store(StoreError::NotFound(format!(
                "warning {id}"
            ))));
        }
        let now = now_text();
        if !before.window_open(&now) {
            return Err(WorkflowError::State(
                "意见征求期未开放或已结束 (the comment window is not open)".into(),
            ));
        }
        let cid: i64 = sqlx::query("INSERT INTO complaint_warning_comments (warning_id, enterprise_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(id)
            .bind(enterprise_id)
            .bind(&author)
            .bind(body)
            .bind(&now)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("id")?;
        w.record(
            Change::new(
                "complaints.warning.comment",
                "complaint_warning_comment",
                cid,
            )
            .after(serde_json::json!({"warning": id, "enterprise": enterprise_id, "body": body})),
        );
        self.commit(w).await?;
        Ok(self.complaint_warning(id).await?)
    }

    /// Publishes an approved warning once the comment window has closed or every named
    /// enterprise has commented.
    pub async fn publish_complaint_warning(
        &self,
        id: i64,
        actor: Actor,
    ) -> std::result::Result<WarningRecord, WorkflowError> {
        let mut w = self.begin_write(actor).await?;
        let before = load_warning(&mut w.tx, id).await?;
        if before.status != "approved" {
            return Err(WorkflowError::State(format!(
                "只有已审核的警示可以发布 (only approved warnings can be published; this one is {})",
                before.status
            )));
        }
        let now = now_text();
        let all_commented = before.enterprises.iter().all(|e| {
            before
                .comments
                .iter()
                .any(|c| c.enterprise_id == e.enterprise_id)
        });
        if before.window_open(&now) && !all_commented {
            return Err(WorkflowError::State(format!(
                "企业意见征求期至 {} 结束,尚有企业未反馈 (the enterprises' comment window runs until {})",
                before.comment_deadline.clone().unwrap_or_default(),
                before.comment_deadline.clone().unwrap_or_default()
            )));
        }
        sqlx::query("UPDATE complaint_warnings SET status = 'published', published_at = $1, updated_at = $1 WHERE id = $2")
            .bind(&now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.record(
            Change::new("complaints.warning.publish", "complaint_warning", id)
                .after(serde_json::json!({"published_at": now, "title": before.title})),
        );
        self.commit(w).await?;
        Ok(self.complaint_warning(id).await?)
    }

    pub async fn withdraw_complaint_warning(
        &self,
        id: i64,
        actor: Actor,
    ) -> std::result::Result<WarningRecord, WorkflowError> {
        let mut w = self.begin_write(actor).await?;
        let before = load_warning(&mut w.tx, id).await?;
        if before.status == "withdrawn" {
            return Err(WorkflowError::State("已撤回 (already withdrawn)".into()));
        }
        sqlx::query(
            "UPDATE complaint_warnings SET status = 'withdrawn', updated_at = $1 WHERE id = $2",
        )
        .bind(now_text())
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("complaints.warning.withdraw", "complaint_warning", id)
                .before(serde_json::json!({"status": before.status})),
        );
        self.commit(w).await?;
        Ok(self.complaint_warning(id).await?)
    }
}

/// Day-of-year helper kept for callers that fold daily counts into ISO weeks.
pub fn iso_week_start(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// Division index helpers re-exported for the web layer.
pub fn division_code_of_index(i: u8) -> Option<i64> {
    division_from_index(i).map(|d| i64::from(d.code()))
}
pub fn division_index_of(d: Division) -> u8 {
    division_index(d)
}
