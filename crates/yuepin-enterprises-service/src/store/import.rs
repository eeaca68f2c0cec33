//! The all-or-nothing enterprise import: batches streamed in while the file is parsed, on a
//! native SQLite writer thread, by `COPY` into PostgreSQL's staging table (`copy.rs`), or
//! through the pool in multi-row statements (in-memory SQLite).

use super::rows::*;
use crate::records::*;
use crate::EnterprisesService;
use sqlx::{AnyConnection, Row};
use yuepin_domain::{Designation, Enterprise, Financials};
use yuepin_store::{now_text, Change, Result, Store, StoreError, WriteTx};

/// An open enterprise import (see [`Store::begin_enterprise_import`]).
pub struct EnterpriseImport {
    pub(crate) service: EnterprisesService,
    pub(crate) sink: ImportSink,
    pub(crate) summary: ImportSummary,
}

pub(crate) enum ImportSink {
    Pool(Box<WriteTx>),
    Copy(Box<super::copy::CopyImport>),
    Native {
        tx: std::sync::mpsc::SyncSender<NativeImport>,
        /// Taken once: by `finish`, or to learn why the writer stopped.
        writer: Option<tokio::task::JoinHandle<Result<Option<ImportSummary>>>>,
    },
}

pub(crate) enum NativeImport {
    Rows(Vec<Enterprise>),
    Commit { file_sha256: String },
}

impl EnterpriseImport {
    /// Writes a batch inside the import's transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn write(&mut self, rows: Vec<Enterprise>) -> Result<()> {
        match &mut self.sink {
            ImportSink::Pool(w) => {
                for chunk in rows.chunks(IMPORT_BATCH) {
                    self.service
                        .import_enterprise_batch(w, chunk, &mut self.summary)
                        .await?;
                }
                Ok(())
            }
            ImportSink::Copy(c) => c.write(&rows, &mut self.summary).await,
            ImportSink::Native { tx, .. } => {
                if yuepin_store::native_sqlite::send_to_writer(tx, NativeImport::Rows(rows)).await {
                    Ok(())
                } else {
                    Err(self.writer_error().await)
                }
            }
        }
    }

    /// The native writer's own error once it has stopped.
    async fn writer_error(&mut self) -> StoreError {
        if let ImportSink::Native { writer, .. } = &mut self.sink {
            if let Some(Ok(Err(e))) = match writer.take() {
                Some(h) => Some(h.await),
                None => None,
            } {
                return e;
            }
        }
        StoreError::Native("the SQLite import writer stopped".into())
    }

    /// Records the import in the audit log and commits it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn finish(mut self, file_sha256: &str) -> Result<ImportSummary> {
        match self.sink {
            ImportSink::Copy(c) => {
                c.finish(self.service.store(), file_sha256, &mut self.summary)
                    .await?;
                Ok(self.summary)
            }
            ImportSink::Pool(w) => {
                self.service
                    .finish_enterprise_import(*w, file_sha256, &self.summary)
                    .await?;
                Ok(self.summary)
            }
            ImportSink::Native { tx, writer } => {
                let sent = tx.send(NativeImport::Commit {
                    file_sha256: file_sha256.to_string(),
                });
                drop(tx);
                let Some(writer) = writer else {
                    return Err(StoreError::Native(
                        "the SQLite import writer stopped".into(),
                    ));
                };
                let done = writer
                    .await
                    .map_err(|e| StoreError::Native(format!("SQLite import writer: {e}")))??;
                match (sent, done) {
                    (Ok(()), Some(summary)) => Ok(summary),
                    _ => Err(StoreError::Native(
                        "the SQLite import writer stopped".into(),
                    )),
                }
            }
        }
    }
}

/// The native SQLite import: one `BEGIN IMMEDIATE` transaction on its own connection, a
/// prepared statement per table stepped once per row (`INSERT OR IGNORE` on the USCC decides
/// new or stored, which is also how rows are counted; new rows' designations and financials are
/// plain INSERTs), the audit entry, then COMMIT. Returns
/// `None` (rolled back) when the importer drops the channel without a `Commit`.
pub(crate) fn native_enterprise_writer(
    path: &std::path::Path,
    setup: &'static [&'static str],
    actor: yuepin_store::Actor,
    rx: std::sync::mpsc::Receiver<NativeImport>,
) -> Result<Option<ImportSummary>> {
    use yuepin_store::native_sqlite::native;
    let mut conn = yuepin_store::native_sqlite::open_for_bulk(path, setup)?;
    let txn = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(native)?;
    let mut summary = ImportSummary::default();
    let now = now_text();
    let file_sha256 = {
        let mut find = txn
            .prepare("SELECT id FROM enterprises WHERE uscc = ?1")
            .map_err(native)?;
        let mut insert = txn
            .prepare(
                "INSERT OR IGNORE INTO enterprises (uscc, name, region, city, division, registered_capital_fen, employees, founded_on, listing, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(native)?;
        let mut update = txn
            .prepare(
                "UPDATE enterprises SET uscc = ?1, name = ?2, region = ?3, city = ?4, division = ?5, registered_capital_fen = ?6, \
                 employees = ?7, founded_on = ?8, listing = ?9, updated_at = ?10 WHERE id = ?11",
            )
            .map_err(native)?;
        let mut grams_delete = txn
            .prepare("DELETE FROM enterprise_fts WHERE rowid = ?1")
            .map_err(native)?;
        let mut grams_insert = txn
            .prepare("INSERT INTO enterprise_fts (rowid, grams) VALUES (?1, ?2)")
            .map_err(native)?;
        // A new enterprise has no designations or financials yet: plain INSERTs, which need no
        // statement journal. Stored ones go through the upserts.
        const DESIGNATION: &str = "INSERT INTO designations (enterprise_id, kind, awarded_on, expires_on, city) VALUES (?1, ?2, ?3, ?4, ?5)";
        const FINANCIALS: &str = "INSERT INTO financials (enterprise_id, year, revenue_china_fen, revenue_world_fen) VALUES (?1, ?2, ?3, ?4)";
        let mut designation_new = txn.prepare(DESIGNATION).map_err(native)?;
        let mut designation_upsert = txn
            .prepare(&format!(
                "{DESIGNATION} ON CONFLICT (enterprise_id, kind, awarded_on) DO UPDATE SET expires_on = excluded.expires_on, city = excluded.city"
            ))
            .map_err(native)?;
        let mut financials_new = txn.prepare(FINANCIALS).map_err(native)?;
        let mut financials_upsert = txn
            .prepare(&format!(
                "{FINANCIALS} ON CONFLICT (enterprise_id, year) DO UPDATE SET revenue_china_fen = excluded.revenue_china_fen, revenue_world_fen = excluded.revenue_world_fen"
            ))
            .map_err(native)?;
        loop {
            let rows = match rx.recv() {
                Ok(NativeImport::Rows(rows)) => rows,
                Ok(NativeImport::Commit { file_sha256 }) => break file_sha256,
                Err(_) => return Ok(None),
            };
            for e in &rows {
                let fields = rusqlite::params![
                    e.uscc.as_str(),
                    e.name.as_str(),
                    e.region.as_str(),
                    e.region.city().code.as_str(),
                    i64::from(e.division.code()),
                    e.registered_capital.fen(),
                    i64::from(e.employees),
                    e.founded_on.to_string(),
                    e.listing.as_str(),
                    now.as_str(),
                ];
                summary.rows += 1;
                // INSERT OR IGNORE changes nothing when the USCC is already stored.
                let is_new = insert.execute(fields).map_err(native)? == 1;
                let id = if is_new {
                    summary.inserted += 1;
                    txn.last_insert_rowid()
                } else {
                    let id: i64 = find
                        .query_row([e.uscc.as_str()], |r| r.get(0))
                        .map_err(native)?;
                    let mut with_id: Vec<&dyn rusqlite::ToSql> = fields.to_vec();
                    with_id.push(&id);
                    update.execute(with_id.as_slice()).map_err(native)?;
                    grams_delete.execute([id]).map_err(native)?;
                    summary.updated += 1;
                    id
                };
                let (designation, financials) = if is_new {
                    (&mut designation_new, &mut financials_new)
                } else {
                    (&mut designation_upsert, &mut financials_upsert)
                };
                grams_insert
                    .execute(rusqlite::params![id, name_grams(&e.name)])
                    .map_err(native)?;
                for d in &e.designations {
                    designation
                        .execute(rusqlite::params![
                            id,
                            d.kind.code(),
                            d.awarded_on.to_string(),
                            d.expires_on.map(|x| x.to_string()),
                            e.region.city().code.as_str()
                        ])
                        .map_err(native)?;
                }
                for f in &e.financials {
                    financials
                        .execute(rusqlite::params![
                            id,
                            i64::from(f.year),
                            f.revenue_china.fen(),
                            f.revenue_world.map(|y| y.fen())
                        ])
                        .map_err(native)?;
                }
            }
        }
    };
    let change = Change::new("import", "enterprise", format!("file:{file_sha256}")).after(&summary);
    yuepin_store::audit::append_native(&txn, &actor, &[change])?;
    txn.commit().map_err(native)?;
    Ok(Some(summary))
}

pub(crate) async fn count_existing(
    conn: &mut AnyConnection,
    chunk: &[Enterprise],
    store: &Store,
) -> Result<usize> {
    let placeholders: Vec<String> = (1..=chunk.len()).map(|i| store.dialect().ph(i)).collect();
    let sql = format!(
        "SELECT COUNT(*) FROM enterprises WHERE uscc IN ({})",
        placeholders.join(",")
    );
    let mut q = sqlx::query(&sql);
    for e in chunk {
        q = q.bind(e.uscc.as_str());
    }
    Ok(q.fetch_one(&mut *conn).await?.try_get::<i64, _>(0)? as usize)
}

/// Multi-row upsert of enterprises and their search grams, designations and financials.
/// Returns the ids in input order.
pub(crate) async fn upsert_enterprises(
    conn: &mut AnyConnection,
    chunk: &[Enterprise],
    store: &Store,
) -> Result<Vec<i64>> {
    const COLS: usize = 10;
    let now = now_text();
    let values = yuepin_store::dialect::values_sql(store.dialect(), chunk.len(), COLS);
    let sql = format!(
        "INSERT INTO enterprises (uscc, name, region, city, division, registered_capital_fen, employees, founded_on, listing, updated_at) VALUES {} \
         ON CONFLICT (uscc) DO UPDATE SET name = excluded.name, region = excluded.region, city = excluded.city, division = excluded.division, \
         registered_capital_fen = excluded.registered_capital_fen, employees = excluded.employees, founded_on = excluded.founded_on, \
         listing = excluded.listing, updated_at = excluded.updated_at RETURNING id, uscc",
        values
    );
    let mut q = sqlx::query(&sql);
    for e in chunk {
        q = q
            .bind(e.uscc.as_str())
            .bind(e.name.as_str())
            .bind(e.region.as_str())
            .bind(e.region.city().code.as_str())
            .bind(i64::from(e.division.code()))
            .bind(e.registered_capital.fen())
            .bind(i64::from(e.employees))
            .bind(e.founded_on.to_string())
            .bind(e.listing.as_str())
            .bind(now.as_str());
    }
    let returned = q.fetch_all(&mut *conn).await?;
    let mut by_uscc = std::collections::HashMap::with_capacity(returned.len());
    for r in &returned {
        by_uscc.insert(r.try_get::<String, _>("uscc")?, r.try_get::<i64, _>("id")?);
    }
    let ids: Vec<i64> = chunk
        .iter()
        .map(|e| {
            by_uscc.get(e.uscc.as_str()).copied().ok_or_else(|| {
                StoreError::Conflict(format!("duplicate USCC {} in one batch", e.uscc))
            })
        })
        .collect::<Result<_>>()?;

    let grams: Vec<String> = chunk.iter().map(|e| name_grams(&e.name)).collect();
    for (sql, binds) in store.dialect().index_grams_sql(chunk.len()) {
        let mut q = sqlx::query(&sql);
        for (id, g) in ids.iter().zip(&grams) {
            q = q.bind(*id);
            if binds == yuepin_store::dialect::GramBinds::Pairs {
                q = q.bind(g.as_str());
            }
        }
        q.execute(&mut *conn).await?;
    }
    let designations: Vec<(i64, &Designation, &str)> = chunk
        .iter()
        .zip(&ids)
        .flat_map(|(e, id)| {
            let city = e.region.city().code.as_str();
            e.designations.iter().map(move |d| (*id, d, city))
        })
        .collect();
    for part in designations.chunks(1000) {
        let values = yuepin_store::dialect::values_sql(store.dialect(), part.len(), 5);
        let sql = format!(
            "INSERT INTO designations (enterprise_id, kind, awarded_on, expires_on, city) VALUES {} \
             ON CONFLICT (enterprise_id, kind, awarded_on) DO UPDATE SET expires_on = excluded.expires_on, city = excluded.city",
            values
        );
        let mut q = sqlx::query(&sql);
        for (id, d, city) in part {
            q = q
                .bind(*id)
                .bind(d.kind.code())
                .bind(d.awarded_on.to_string())
                .bind(d.expires_on.map(|x| x.to_string()))
                .bind(*city);
        }
        q.execute(&mut *conn).await?;
    }
    let financials: Vec<(i64, &Financials)> = chunk
        .iter()
        .zip(&ids)
        .flat_map(|(e, id)| e.financials.iter().map(move |f| (*id, f)))
        .collect();
    for part in financials.chunks(1000) {
        let values = yuepin_store::dialect::values_sql(store.dialect(), part.len(), 4);
        let sql = format!(
            "INSERT INTO financials (enterprise_id, year, revenue_china_fen, revenue_world_fen) VALUES {} \
             ON CONFLICT (enterprise_id, year) DO UPDATE SET revenue_china_fen = excluded.revenue_china_fen, revenue_world_fen = excluded.revenue_world_fen",
            values
        );
        let mut q = sqlx::query(&sql);
        for (id, f) in part {
            q = q
                .bind(*id)
                .bind(i64::from(f.year))
                .bind(f.revenue_china.fen())
                .bind(f.revenue_world.map(|y| y.fen()));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(ids)
}
