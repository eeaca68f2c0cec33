//! Complaint import (CSV / JSON Lines / XLSX, UTF-8 or GBK) that lands a whole file or nothing.
//!
//! Strategy (documented in `docs/complaints.md`): the file is parsed on a blocking thread that
//! streams batches through a bounded channel (bounded memory whatever the size); everything is
//! written inside ONE transaction — SQLite: a native (rusqlite) connection on its own thread
//! steps one prepared `INSERT OR IGNORE` per row (the upsert only for ids already stored) and
//! appends the audit entry before it commits; PostgreSQL: `COPY` into an unlogged staging
//! table, then one `UPDATE … FROM` and one `INSERT … SELECT` inside the audited transaction.
//! The first bad row stops the writing; parsing continues to report every bad row, then the
//! transaction is rolled back.

use crate::error::{ComplaintsError, Result};
use crate::records::LabelsSource;
use crate::{actor, ComplaintsService};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPoolCopyExt;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use yuepin_complaints::{
    Classifier, Complainant, Complaint, ComplaintParser, Format, RowError, TextEncoding,
};
use yuepin_domain::Caller;
use yuepin_enterprises_service::EnterpriseKey;
use yuepin_store::{native_sqlite, now_text, Actor, BulkLoad, Change, StoreError};

/// Rows per batch sent from the parser thread.
const BATCH_ROWS: usize = 4096;

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
    /// A format by name as the extension would give it (`csv`, `jsonl`, `xlsx`…).
    pub fn for_format(name: &str) -> Option<Self> {
        Self::for_path(Path::new(&format!("file.{name}")))
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        LabelsSource::Input
    } else if c.category.is_some() || c.division.is_some() {
        *classified += 1;
        LabelsSource::Classifier
    } else {
        LabelsSource::None
    }
    .as_str();
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
) -> Result<(String, u64)> {
    let io = |source| ComplaintsError::Io {
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
) -> yuepin_store::Result<Option<u64>> {
    use native_sqlite::native;
    let mut conn = native_sqlite::open_for_bulk(&path, setup)?;
    let txn = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(native)?;
    let count = |t: &rusqlite::Transaction| -> yuepin_store::Result<i64> {
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
    yuepin_store::audit::append_native(&txn, &commit.actor, &[change])?;
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
        writer: tokio::task::JoinHandle<yuepin_store::Result<Option<u64>>>,
    },
}

impl ComplaintsService {
    /// Every enterprise's (id, USCC, name, city, division), for linking synthetic complaints
    /// (the demo). Administrators only; read through the registry.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enterprise_keys(&self, caller: &Caller) -> Result<Vec<EnterpriseKey>> {
        self.registry().keys(caller).await.map_err(from_registry)
    }

    /// Imports a complaint file (administrators only); see the module docs for the
    /// all-or-nothing strategy. Row errors come back in the report with `committed = false`;
    /// file-level ones (unreadable, missing columns) as errors. Missing labels are filled by the
    /// classifier with the current lexicon; USCCs of registered enterprises are linked.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import(
        &self,
        caller: &Caller,
        path: &Path,
        opts: ImportOptions,
        progress: Arc<ImportProgress>,
    ) -> Result<ImportReport> {
        caller.require_administrator()?;
        let actor = actor(caller);
        let started = std::time::Instant::now();
        let classifier = self.classifier().await?;
        let usccs = Arc::new(
            self.registry()
                .ids_by_uscc(caller)
                .await
                .map_err(from_registry)?,
        );
        let max_errors = opts.max_errors;
        let now = now_text();
        let import_key = format!("{}-{}", now, std::process::id());
        let mut sink = if self.store.dialect().bulk_load() == BulkLoad::PostgresCopy {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(self.store.url())
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
            let Some(file) = self.store.sqlite_file().map(Path::to_path_buf) else {
                return Err(StoreError::Native(
                    "complaint import needs a SQLite database file, not an in-memory database"
                        .into(),
                )
                .into());
            };
            let (tx, rx) = std::sync::mpsc::sync_channel(4);
            let (setup, now) = (self.store.dialect().connection_setup(), now.clone());
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
                    let res: yuepin_store::Result<()> = match &mut sink {
                        Sink::Copy { copy, seq, .. } => copy
                            .send(copy_rows(&import_key, seq, &rows))
                            .await
                            .map(|_| ())
                            .map_err(StoreError::from),
                        Sink::Native { tx, .. } => {
                            if native_sqlite::send_to_writer(tx, NativeMsg::Rows(rows)).await {
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
        let outcome: Result<(String, u64)> = match parsed {
            Err(e) => Err(e),
            Ok(_) if write_error.is_some() => Err(write_error
                .take()
                .map(ComplaintsError::from)
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
                let mut w = self.store.begin_write(actor).await?;
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
                self.store.commit(w).await?;
                pool.close().await;
            }
        }
        report.updated = report.rows.saturating_sub(report.inserted);
        report.committed = true;
        report.millis = started.elapsed().as_millis() as u64;
        yuepin_metrics::import_rows("complaints", report.rows);
        Ok(report)
    }
}

/// A registry failure as this service's: refusals and store failures keep their kind; the
/// registry's reads here can fail in no other way.
fn from_registry(e: yuepin_enterprises_service::EnterprisesError) -> ComplaintsError {
    use yuepin_enterprises_service::EnterprisesError as E;
    match e {
        E::Denied(d) => d.into(),
        E::Store(s) => s.into(),
        other => yuepin_store::corrupt(other.to_string()).into(),
    }
}
