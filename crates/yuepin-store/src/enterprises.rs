//! Enterprises with their designations and financials, products, and quality events: the
//! enterprise's quality credit file. Single writes go through a [`WriteTx`]; imports use
//! batched multi-row statements inside one transaction, so a file lands whole or not at all.

use crate::corrupt;
use crate::{now_text, Change, Result, Store, StoreError, WriteTx};
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use yuepin_domain::{
    parse_date, Designation, Division, Enterprise, Financials, Gtin, Product, QualityEventKind,
    RegionCode, StandardCode, Uscc, Yuan,
};

#[derive(Debug, Clone, Serialize)]
pub struct EnterpriseRecord {
    pub id: i64,
    #[serde(flatten)]
    pub enterprise: Enterprise,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductRecord {
    pub id: i64,
    pub enterprise_id: i64,
    #[serde(flatten)]
    pub product: Product,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    pub id: i64,
    pub enterprise_id: i64,
    pub product_id: Option<i64>,
    pub date: NaiveDate,
    pub natural_key: String,
    #[serde(flatten)]
    pub kind: QualityEventKind,
}

/// The enterprise's quality credit file (质量信用档案) with a computed summary.
#[derive(Debug, Clone, Serialize)]
pub struct QualityFile {
    pub enterprise: EnterpriseRecord,
    pub products: Vec<ProductRecord>,
    pub events: Vec<EventRecord>,
    pub summary: QualitySummary,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct QualitySummary {
    pub inspections: usize,
    pub inspections_failed: usize,
    pub certifications_valid: usize,
    pub awards: usize,
    pub standards_led: usize,
    pub standards_international_led: usize,
    pub penalties: usize,
    pub serious_penalties: usize,
}

/// Rows per multi-row statement in imports.
pub const IMPORT_BATCH: usize = 500;

/// What an import did, for the CLI and the audit log.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub rows: usize,
    pub inserted: usize,
    pub updated: usize,
}

fn date_col(r: &AnyRow, col: &str) -> Result<NaiveDate> {
    parse_date("date", &r.try_get::<String, _>(col)?).map_err(corrupt)
}

/// Space-separated character bigrams of a name (lower-cased, punctuation dropped): the search
/// index terms. Names of one usable character index that character alone.
pub fn name_grams(name: &str) -> String {
    let chars: Vec<char> = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if chars.len() == 1 {
        return chars[0].to_string();
    }
    let mut grams: Vec<String> = chars.windows(2).map(|w| w.iter().collect()).collect();
    grams.sort();
    grams.dedup();
    grams.join(" ")
}

const ENTERPRISE_COLS: &str = "id, uscc, name, region, city, division, registered_capital_fen, employees, founded_on, listing, updated_at";

impl Store {
    async fn enterprise_from_row(&self, r: &AnyRow) -> Result<EnterpriseRecord> {
        let mut conn = self.pool.acquire().await?;
        load_enterprise(&mut conn, r).await
    }

    pub async fn enterprise_by_uscc(&self, uscc: &str) -> Result<EnterpriseRecord> {
        let mut conn = self.pool.acquire().await?;
        enterprise_by_uscc_on(&mut conn, uscc).await
    }

    pub async fn enterprise_by_id(&self, id: i64) -> Result<EnterpriseRecord> {
        let row = sqlx::query(&format!(
            "SELECT {ENTERPRISE_COLS} FROM enterprises WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("enterprise #{id}")))?;
        self.enterprise_from_row(&row).await
    }

    pub async fn enterprise_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM enterprises")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// Creates or updates one enterprise (keyed by USCC) with its designations and financials;
    /// records the before/after in the audit log. Returns the id.
    pub async fn save_enterprise(&self, w: &mut WriteTx, e: &Enterprise) -> Result<i64> {
        let before = match enterprise_by_uscc_on(&mut w.tx, e.uscc.as_str()).await {
            Ok(r) => Some(r.enterprise),
            Err(StoreError::NotFound(_)) => None,
            Err(err) => return Err(err),
        };
        let ids = upsert_enterprises(&mut w.tx, std::slice::from_ref(e), self).await?;
        let id = ids[0];
        let action = if before.is_some() { "update" } else { "create" };
        let mut change = Change::new(action, "enterprise", e.uscc.as_str()).after(e);
        if let Some(b) = before {
            change = change.before(b);
        }
        w.record(change);
        Ok(id)
    }

    /// Imports enterprises all-or-nothing in one transaction (see [`EnterpriseImport`]).
    pub async fn import_enterprises(
        &self,
        actor: crate::Actor,
        rows: &[Enterprise],
        file_sha256: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportSummary> {
        let mut import = self.begin_enterprise_import(actor).await?;
        for chunk in rows.chunks(IMPORT_BATCH * 10) {
            import.write(chunk.to_vec()).await?;
            progress(chunk.len());
        }
        import.finish(file_sha256).await
    }

    /// Opens an all-or-nothing enterprise import: write batches while the file is still being
    /// parsed, then [`EnterpriseImport::finish`]; dropping it instead writes nothing. On a
    /// SQLite file the rows go to a native writer thread (one prepared statement per table,
    /// stepped per row); elsewhere they go through the pool in multi-row statements.
    pub async fn begin_enterprise_import(&self, actor: crate::Actor) -> Result<EnterpriseImport> {
        let sink = match self.sqlite_file.clone() {
            Some(file) => {
                let (tx, rx) = std::sync::mpsc::sync_channel(4);
                let setup = self.dialect.connection_setup();
                let writer = tokio::task::spawn_blocking(move || {
                    native_enterprise_writer(&file, setup, actor, rx)
                });
                ImportSink::Native {
                    tx,
                    writer: Some(writer),
                }
            }
            None => ImportSink::Pool(Box::new(self.begin_write(actor).await?)),
        };
        Ok(EnterpriseImport {
            store: self.clone(),
            sink,
            summary: ImportSummary::default(),
        })
    }

    /// Writes one batch of an import inside the caller's transaction, counting new and updated
    /// rows. Callers stream batches in while they are still parsing, then either
    /// [`Store::finish_enterprise_import`] or drop the transaction (nothing is written).
    pub async fn import_enterprise_batch(
        &self,
        w: &mut WriteTx,
        chunk: &[Enterprise],
        summary: &mut ImportSummary,
    ) -> Result<()> {
        let existing = count_existing(&mut w.tx, chunk, self).await?;
        summary.rows += chunk.len();
        summary.updated += existing;
        summary.inserted += chunk.len() - existing;
        upsert_enterprises(&mut w.tx, chunk, self).await?;
        Ok(())
    }

    /// Records the import in the audit log and commits it.
    pub async fn finish_enterprise_import(
        &self,
        mut w: WriteTx,
        file_sha256: &str,
        summary: &ImportSummary,
    ) -> Result<()> {
        w.record(Change::new("import", "enterprise", format!("file:{file_sha256}")).after(summary));
        self.commit(w).await
    }

    pub async fn save_product(
        &self,
        w: &mut WriteTx,
        enterprise_id: i64,
        p: &Product,
    ) -> Result<i64> {
        let before = sqlx::query("SELECT id FROM products WHERE enterprise_id = $1 AND model = $2")
            .bind(enterprise_id)
            .bind(&p.model)
            .fetch_optional(&mut *w.tx)
            .await?;
        let id = upsert_product(&mut w.tx, enterprise_id, p).await?;
        let action = if before.is_some() { "update" } else { "create" };
        w.record(Change::new(action, "product", id).after(p));
        Ok(id)
    }

    pub async fn delete_product(&self, w: &mut WriteTx, id: i64) -> Result<()> {
        let before = product_on(&mut w.tx, id).await?;
        sqlx::query("DELETE FROM products WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.record(Change::new("delete", "product", id).before(before.product));
        Ok(())
    }

    pub async fn product(&self, id: i64) -> Result<ProductRecord> {
        let mut conn = self.pool.acquire().await?;
        product_on(&mut conn, id).await
    }

    pub async fn products_of(&self, enterprise_id: i64) -> Result<Vec<ProductRecord>> {
        sqlx::query(
            "SELECT p.*, e.uscc FROM products p JOIN enterprises e ON e.id = p.enterprise_id WHERE p.enterprise_id = $1 ORDER BY p.id",
        )
        .bind(enterprise_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(product_from_row)
        .collect()
    }

    pub async fn product_by_model(&self, enterprise_id: i64, model: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query("SELECT id FROM products WHERE enterprise_id = $1 AND model = $2")
                .bind(enterprise_id)
                .bind(model)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?,
        )
    }

    /// Creates or updates a quality event keyed by (enterprise, natural key).
    pub async fn save_event(
        &self,
        w: &mut WriteTx,
        enterprise_id: i64,
        product_id: Option<i64>,
        date: NaiveDate,
        natural_key: &str,
        kind: &QualityEventKind,
    ) -> Result<i64> {
        let id = upsert_event(
            &mut w.tx,
            enterprise_id,
            product_id,
            date,
            natural_key,
            kind,
        )
        .await?;
        w.record(Change::new("save", "quality_event", id).after(kind));
        Ok(id)
    }

    pub async fn events_of(&self, enterprise_id: i64) -> Result<Vec<EventRecord>> {
        sqlx::query(
            "SELECT id, enterprise_id, product_id, event_date, natural_key, data FROM quality_events WHERE enterprise_id = $1 ORDER BY event_date DESC, id DESC",
        )
        .bind(enterprise_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(event_from_row)
        .collect()
    }

    /// The enterprise's quality credit file as of `today`.
    pub async fn quality_file(&self, enterprise_id: i64, today: NaiveDate) -> Result<QualityFile> {
        let enterprise = self.enterprise_by_id(enterprise_id).await?;
        let products = self.products_of(enterprise_id).await?;
        let events = self.events_of(enterprise_id).await?;
        let summary = summarize(&events, today);
        Ok(QualityFile {
            enterprise,
            products,
            events,
            summary,
        })
    }
}

async fn enterprise_by_uscc_on(conn: &mut AnyConnection, uscc: &str) -> Result<EnterpriseRecord> {
    let row = sqlx::query(&format!(
        "SELECT {ENTERPRISE_COLS} FROM enterprises WHERE uscc = $1"
    ))
    .bind(uscc)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("enterprise {uscc}")))?;
    load_enterprise(conn, &row).await
}

/// Reads an enterprise row's designations and financials on the same connection (so it can run
/// inside a writing transaction without taking a second pooled connection).
async fn load_enterprise(conn: &mut AnyConnection, r: &AnyRow) -> Result<EnterpriseRecord> {
    let id: i64 = r.try_get("id")?;
    let designations = sqlx::query(
        "SELECT kind, awarded_on, expires_on FROM designations WHERE enterprise_id = $1 ORDER BY awarded_on, kind",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|d| {
        Ok(Designation {
            kind: d.try_get::<String, _>("kind")?.parse().map_err(corrupt)?,
            awarded_on: date_col(d, "awarded_on")?,
            expires_on: crate::get_opt_text(d, "expires_on")?
                .map(|s| parse_date("expires_on", &s).map_err(corrupt))
                .transpose()?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let financials = sqlx::query(
        "SELECT year, revenue_china_fen, revenue_world_fen FROM financials WHERE enterprise_id = $1 ORDER BY year",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|f| {
        Ok(Financials {
            year: f.try_get::<i64, _>("year")? as i32,
            revenue_china: Yuan::from_fen(f.try_get("revenue_china_fen")?),
            revenue_world: f
                .try_get::<Option<i64>, _>("revenue_world_fen")?
                .map(Yuan::from_fen),
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(EnterpriseRecord {
        id,
        enterprise: Enterprise {
            uscc: Uscc::parse(&r.try_get::<String, _>("uscc")?).map_err(corrupt)?,
            name: r.try_get("name")?,
            region: RegionCode::parse(&r.try_get::<String, _>("region")?).map_err(corrupt)?,
            division: Division::parse(&r.try_get::<i64, _>("division")?.to_string())
                .map_err(corrupt)?,
            registered_capital: Yuan::from_fen(r.try_get("registered_capital_fen")?),
            employees: r.try_get::<i64, _>("employees")? as u32,
            founded_on: date_col(r, "founded_on")?,
            listing: r
                .try_get::<String, _>("listing")?
                .parse()
                .map_err(corrupt)?,
            designations,
            financials,
        },
        updated_at: r.try_get("updated_at")?,
    })
}

/// Counts the quality file's figures; certifications count when valid on `today`.
pub fn summarize(events: &[EventRecord], today: NaiveDate) -> QualitySummary {
    use yuepin_domain::{InspectionResult, StandardLevel, StandardRole};
    let mut s = QualitySummary::default();
    for e in events {
        match &e.kind {
            QualityEventKind::Inspection { result, .. } => {
                s.inspections += 1;
                if *result == InspectionResult::Fail {
                    s.inspections_failed += 1;
                }
            }
            QualityEventKind::Certification(c) => {
                if c.valid_from <= today && today <= c.valid_until {
                    s.certifications_valid += 1;
                }
            }
            QualityEventKind::Award { .. } => s.awards += 1,
            QualityEventKind::Standard { level, role, .. } => {
                if *role == StandardRole::Lead {
                    s.standards_led += 1;
                    if *level == StandardLevel::International {
                        s.standards_international_led += 1;
                    }
                }
            }
            QualityEventKind::Penalty { serious, .. } => {
                s.penalties += 1;
                if *serious {
                    s.serious_penalties += 1;
                }
            }
        }
    }
    s
}

async fn product_on(conn: &mut AnyConnection, id: i64) -> Result<ProductRecord> {
    let row = sqlx::query(
        "SELECT p.*, e.uscc FROM products p JOIN enterprises e ON e.id = p.enterprise_id WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("product #{id}")))?;
    product_from_row(&row)
}

fn product_from_row(r: &AnyRow) -> Result<ProductRecord> {
    Ok(ProductRecord {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        product: Product {
            enterprise: Uscc::parse(&r.try_get::<String, _>("uscc")?).map_err(corrupt)?,
            name: r.try_get("name")?,
            brand: r.try_get("brand")?,
            model: r.try_get("model")?,
            gtin: crate::get_opt_text(r, "gtin")?
                .map(|g| Gtin::parse(&g).map_err(corrupt))
                .transpose()?,
            category: r.try_get("category")?,
            standard: crate::get_opt_text(r, "standard")?
                .map(|s| StandardCode::parse(&s).map_err(corrupt))
                .transpose()?,
        },
    })
}

fn event_from_row(r: &AnyRow) -> Result<EventRecord> {
    Ok(EventRecord {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        product_id: r.try_get("product_id")?,
        date: date_col(r, "event_date")?,
        natural_key: r.try_get("natural_key")?,
        kind: serde_json::from_str(&r.try_get::<String, _>("data")?).map_err(corrupt)?,
    })
}

/// An open enterprise import (see [`Store::begin_enterprise_import`]).
pub struct EnterpriseImport {
    store: Store,
    sink: ImportSink,
    summary: ImportSummary,
}

enum ImportSink {
    Pool(Box<WriteTx>),
    Native {
        tx: std::sync::mpsc::SyncSender<NativeImport>,
        /// Taken once: by `finish`, or to learn why the writer stopped.
        writer: Option<tokio::task::JoinHandle<Result<Option<ImportSummary>>>>,
    },
}

enum NativeImport {
    Rows(Vec<Enterprise>),
    Commit { file_sha256: String },
}

impl EnterpriseImport {
    /// Writes a batch inside the import's transaction.
    pub async fn write(&mut self, rows: Vec<Enterprise>) -> Result<()> {
        match &mut self.sink {
            ImportSink::Pool(w) => {
                for chunk in rows.chunks(IMPORT_BATCH) {
                    self.store
                        .import_enterprise_batch(w, chunk, &mut self.summary)
                        .await?;
                }
                Ok(())
            }
            ImportSink::Native { tx, .. } => {
                if crate::native_sqlite::send_to_writer(tx, NativeImport::Rows(rows)).await {
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
    pub async fn finish(self, file_sha256: &str) -> Result<ImportSummary> {
        match self.sink {
            ImportSink::Pool(w) => {
                self.store
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
fn native_enterprise_writer(
    path: &std::path::Path,
    setup: &'static [&'static str],
    actor: crate::Actor,
    rx: std::sync::mpsc::Receiver<NativeImport>,
) -> Result<Option<ImportSummary>> {
    use crate::native_sqlite::native;
    let mut conn = crate::native_sqlite::open_for_bulk(path, setup)?;
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
    crate::audit::append_native(&txn, &actor, &[change])?;
    txn.commit().map_err(native)?;
    Ok(Some(summary))
}

async fn count_existing(
    conn: &mut AnyConnection,
    chunk: &[Enterprise],
    store: &Store,
) -> Result<usize> {
    let placeholders: Vec<String> = (1..=chunk.len()).map(|i| store.dialect.ph(i)).collect();
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
async fn upsert_enterprises(
    conn: &mut AnyConnection,
    chunk: &[Enterprise],
    store: &Store,
) -> Result<Vec<i64>> {
    const COLS: usize = 10;
    let now = now_text();
    let values = crate::dialect::values_sql(store.dialect, chunk.len(), COLS);
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
    for (sql, binds) in store.dialect.index_grams_sql(chunk.len()) {
        let mut q = sqlx::query(&sql);
        for (id, g) in ids.iter().zip(&grams) {
            q = q.bind(*id);
            if binds == crate::dialect::GramBinds::Pairs {
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
        let values = crate::dialect::values_sql(store.dialect, part.len(), 5);
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
        let values = crate::dialect::values_sql(store.dialect, part.len(), 4);
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

pub(crate) async fn upsert_product(
    conn: &mut AnyConnection,
    enterprise_id: i64,
    p: &Product,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO products (enterprise_id, name, brand, model, gtin, category, standard, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) \
         ON CONFLICT (enterprise_id, model) DO UPDATE SET name = excluded.name, brand = excluded.brand, gtin = excluded.gtin, \
         category = excluded.category, standard = excluded.standard, updated_at = excluded.updated_at RETURNING id",
    )
    .bind(enterprise_id)
    .bind(&p.name)
    .bind(&p.brand)
    .bind(&p.model)
    .bind(p.gtin.as_ref().map(|g| g.as_str().to_string()))
    .bind(&p.category)
    .bind(p.standard.as_ref().map(|s| s.as_str().to_string()))
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

pub(crate) async fn upsert_event(
    conn: &mut AnyConnection,
    enterprise_id: i64,
    product_id: Option<i64>,
    date: NaiveDate,
    natural_key: &str,
    kind: &QualityEventKind,
) -> Result<i64> {
    let data = serde_json::to_string(kind).map_err(corrupt)?;
    let row = sqlx::query(
        "INSERT INTO quality_events (enterprise_id, product_id, kind, event_date, natural_key, data, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7) \
         ON CONFLICT (enterprise_id, natural_key) DO UPDATE SET product_id = excluded.product_id, kind = excluded.kind, \
         event_date = excluded.event_date, data = excluded.data, updated_at = excluded.updated_at RETURNING id",
    )
    .bind(enterprise_id)
    .bind(product_id)
    .bind(kind.code())
    .bind(date.to_string())
    .bind(natural_key)
    .bind(data)
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

/// A product or event row that names an enterprise (or product) the database does not have.
#[derive(Debug, Clone, Serialize)]
pub struct MissingReference {
    /// 0-based index of the row in the imported batch.
    pub index: usize,
    pub field: &'static str,
    pub value: String,
}

impl Store {
    /// Ids of the enterprises with these codes (unknown codes are absent from the map).
    pub async fn enterprise_ids(
        &self,
        usccs: &[&str],
    ) -> Result<std::collections::HashMap<String, i64>> {
        let mut map = std::collections::HashMap::new();
        for chunk in usccs.chunks(500) {
            let ph: Vec<String> = (1..=chunk.len()).map(|i| self.dialect.ph(i)).collect();
            let sql = format!(
                "SELECT id, uscc FROM enterprises WHERE uscc IN ({})",
                ph.join(",")
            );
            let mut q = sqlx::query(&sql);
            for u in chunk {
                q = q.bind(*u);
            }
            for r in q.fetch_all(&self.pool).await? {
                map.insert(r.try_get::<String, _>("uscc")?, r.try_get::<i64, _>("id")?);
            }
        }
        Ok(map)
    }

    /// Imports products all-or-nothing; rows naming an unknown enterprise are reported and
    /// nothing is written.
    pub async fn import_products(
        &self,
        actor: crate::Actor,
        rows: &[Product],
        file_sha256: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<std::result::Result<ImportSummary, Vec<MissingReference>>> {
        let codes: Vec<&str> = rows.iter().map(|p| p.enterprise.as_str()).collect();
        let ids = self.enterprise_ids(&codes).await?;
        let missing: Vec<MissingReference> = rows
            .iter()
            .enumerate()
            .filter(|(_, p)| !ids.contains_key(p.enterprise.as_str()))
            .map(|(index, p)| MissingReference {
                index,
                field: "uscc",
                value: p.enterprise.to_string(),
            })
            .collect();
        if !missing.is_empty() {
            return Ok(Err(missing));
        }
        let mut w = self.begin_write(actor).await?;
        let mut summary = ImportSummary {
            rows: rows.len(),
            ..Default::default()
        };
        for (i, p) in rows.iter().enumerate() {
            let eid = ids[p.enterprise.as_str()];
            let existed =
                sqlx::query("SELECT 1 FROM products WHERE enterprise_id = $1 AND model = $2")
                    .bind(eid)
                    .bind(&p.model)
                    .fetch_optional(&mut *w.tx)
                    .await?
                    .is_some();
            if existed {
                summary.updated += 1;
            } else {
                summary.inserted += 1;
            }
            upsert_product(&mut w.tx, eid, p).await?;
            if i % 500 == 499 {
                progress(500);
            }
        }
        progress(rows.len() % 500);
        w.record(Change::new("import", "product", format!("file:{file_sha256}")).after(&summary));
        self.commit(w).await?;
        Ok(Ok(summary))
    }

    /// Imports quality events all-or-nothing. Each row is (event, product model); a model must
    /// name a product of the same enterprise.
    pub async fn import_events(
        &self,
        actor: crate::Actor,
        rows: &[(yuepin_domain::QualityEvent, Option<String>)],
        file_sha256: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<std::result::Result<ImportSummary, Vec<MissingReference>>> {
        let codes: Vec<&str> = rows.iter().map(|(e, _)| e.enterprise.as_str()).collect();
        let ids = self.enterprise_ids(&codes).await?;
        let mut missing = Vec::new();
        let mut products = std::collections::HashMap::new();
        for (index, (e, model)) in rows.iter().enumerate() {
            let Some(&eid) = ids.get(e.enterprise.as_str()) else {
                missing.push(MissingReference {
                    index,
                    field: "uscc",
                    value: e.enterprise.to_string(),
                });
                continue;
            };
            if let Some(m) = model {
                match self.product_by_model(eid, m).await? {
                    Some(pid) => {
                        products.insert(index, pid);
                    }
                    None => missing.push(MissingReference {
                        index,
                        field: "product_model",
                        value: m.clone(),
                    }),
                }
            }
        }
        if !missing.is_empty() {
            return Ok(Err(missing));
        }
        let mut w = self.begin_write(actor).await?;
        let mut summary = ImportSummary {
            rows: rows.len(),
            ..Default::default()
        };
        for (i, (e, _)) in rows.iter().enumerate() {
            let eid = ids[e.enterprise.as_str()];
            let key = e.natural_key();
            let existed = sqlx::query(
                "SELECT 1 FROM quality_events WHERE enterprise_id = $1 AND natural_key = $2",
            )
            .bind(eid)
            .bind(&key)
            .fetch_optional(&mut *w.tx)
            .await?
            .is_some();
            if existed {
                summary.updated += 1;
            } else {
                summary.inserted += 1;
            }
            upsert_event(
                &mut w.tx,
                eid,
                products.get(&i).copied(),
                e.date,
                &key,
                &e.kind,
            )
            .await?;
            if i % 500 == 499 {
                progress(500);
            }
        }
        progress(rows.len() % 500);
        w.record(
            Change::new("import", "quality_event", format!("file:{file_sha256}")).after(&summary),
        );
        self.commit(w).await?;
        Ok(Ok(summary))
    }

    /// Every enterprise, in id order, for exports.
    pub async fn all_enterprises(&self) -> Result<Vec<Enterprise>> {
        let rows = sqlx::query(&format!(
            "SELECT {ENTERPRISE_COLS} FROM enterprises ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut designations: std::collections::HashMap<i64, Vec<Designation>> =
            std::collections::HashMap::new();
        for d in sqlx::query("SELECT enterprise_id, kind, awarded_on, expires_on FROM designations ORDER BY awarded_on, kind")
            .fetch_all(&self.pool)
            .await?
        {
            designations.entry(d.try_get("enterprise_id")?).or_default().push(Designation {
                kind: d.try_get::<String, _>("kind")?.parse().map_err(corrupt)?,
                awarded_on: date_col(&d, "awarded_on")?,
                expires_on: crate::get_opt_text(&d, "expires_on")?
                    .map(|s| parse_date("expires_on", &s).map_err(corrupt))
                    .transpose()?,
            });
        }
        let mut financials: std::collections::HashMap<i64, Vec<Financials>> =
            std::collections::HashMap::new();
        for f in sqlx::query("SELECT enterprise_id, year, revenue_china_fen, revenue_world_fen FROM financials ORDER BY year")
            .fetch_all(&self.pool)
            .await?
        {
            financials.entry(f.try_get("enterprise_id")?).or_default().push(Financials {
                year: f.try_get::<i64, _>("year")? as i32,
                revenue_china: Yuan::from_fen(f.try_get("revenue_china_fen")?),
                revenue_world: f.try_get::<Option<i64>, _>("revenue_world_fen")?.map(Yuan::from_fen),
            });
        }
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                Ok(Enterprise {
                    uscc: Uscc::parse(&r.try_get::<String, _>("uscc")?).map_err(corrupt)?,
                    name: r.try_get("name")?,
                    region: RegionCode::parse(&r.try_get::<String, _>("region")?)
                        .map_err(corrupt)?,
                    division: Division::parse(&r.try_get::<i64, _>("division")?.to_string())
                        .map_err(corrupt)?,
                    registered_capital: Yuan::from_fen(r.try_get("registered_capital_fen")?),
                    employees: r.try_get::<i64, _>("employees")? as u32,
                    founded_on: date_col(r, "founded_on")?,
                    listing: r
                        .try_get::<String, _>("listing")?
                        .parse()
                        .map_err(corrupt)?,
                    designations: designations.remove(&id).unwrap_or_default(),
                    financials: financials.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }

    pub async fn all_products(&self) -> Result<Vec<ProductRecord>> {
        sqlx::query("SELECT p.*, e.uscc FROM products p JOIN enterprises e ON e.id = p.enterprise_id ORDER BY p.id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(product_from_row)
            .collect()
    }

    /// Every event with its enterprise code and product model.
    pub async fn all_events(&self) -> Result<Vec<(String, Option<String>, EventRecord)>> {
        sqlx::query(
            "SELECT q.id, q.enterprise_id, q.product_id, q.event_date, q.natural_key, q.data, e.uscc, p.model \
             FROM quality_events q JOIN enterprises e ON e.id = q.enterprise_id LEFT JOIN products p ON p.id = q.product_id ORDER BY q.id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("uscc")?, crate::get_opt_text(r, "model")?, event_from_row(r)?)))
        .collect()
    }
}
