//! Single reads and audited writes of enterprises, products and quality events. Writes take
//! the caller's [`WriteTx`], so other capabilities can add an event inside their own
//! transaction (a lab report becomes an inspection in the quality file).

use super::import::*;
use super::rows::*;
use crate::records::*;
use crate::EnterprisesService;
use chrono::NaiveDate;
use sqlx::any::AnyRow;
use sqlx::Row;
use yuepin_domain::{Enterprise, Product, QualityEventKind};
use yuepin_store::{Change, Result, StoreError, WriteTx};

impl EnterprisesService {
    async fn enterprise_from_row(&self, r: &AnyRow) -> Result<EnterpriseRecord> {
        let mut conn = self.store.pool().acquire().await?;
        load_enterprise(&mut conn, r).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enterprise_by_uscc(&self, uscc: &str) -> Result<EnterpriseRecord> {
        let mut conn = self.store.pool().acquire().await?;
        enterprise_by_uscc_on(&mut conn, uscc).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enterprise_by_id(&self, id: i64) -> Result<EnterpriseRecord> {
        let row = sqlx::query(&format!(
            "SELECT {ENTERPRISE_COLS} FROM enterprises WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("enterprise #{id}")))?;
        self.enterprise_from_row(&row).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enterprise_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM enterprises")
            .fetch_one(self.store.pool())
            .await?
            .try_get(0)?)
    }

    /// Creates or updates one enterprise (keyed by USCC) with its designations and financials;
    /// records the before/after in the audit log. Returns the id.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_enterprise(&self, w: &mut WriteTx, e: &Enterprise) -> Result<i64> {
        let before = match enterprise_by_uscc_on(&mut w.tx, e.uscc.as_str()).await {
            Ok(r) => Some(r.enterprise),
            Err(StoreError::NotFound(_)) => None,
            Err(err) => return Err(err),
        };
        let ids = upsert_enterprises(&mut w.tx, std::slice::from_ref(e), &self.store).await?;
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
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_enterprises(
        &self,
        actor: yuepin_store::Actor,
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
    /// stepped per row); on PostgreSQL by `COPY` into a staging table, moved set-based into the
    /// registry at `finish`; elsewhere (in-memory SQLite) through the pool in multi-row
    /// statements.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn begin_enterprise_import(
        &self,
        actor: yuepin_store::Actor,
    ) -> Result<EnterpriseImport> {
        let sink = match self.store.sqlite_file().map(|p| p.to_path_buf()) {
            Some(file) => {
                let (tx, rx) = std::sync::mpsc::sync_channel(4);
                let setup = self.store.dialect().connection_setup();
                let writer = tokio::task::spawn_blocking(move || {
                    native_enterprise_writer(&file, setup, actor, rx)
                });
                ImportSink::Native {
                    tx,
                    writer: Some(writer),
                }
            }
            None if self.store.dialect().bulk_load() == yuepin_store::BulkLoad::PostgresCopy => {
                ImportSink::Copy(Box::new(
                    super::copy::CopyImport::begin(&self.store, actor).await?,
                ))
            }
            None => ImportSink::Pool(Box::new(self.store.begin_write(actor).await?)),
        };
        Ok(EnterpriseImport {
            service: self.clone(),
            sink,
            summary: ImportSummary::default(),
        })
    }

    /// Writes one batch of an import inside the caller's transaction, counting new and updated
    /// rows. Callers stream batches in while they are still parsing, then either
    /// [`Store::finish_enterprise_import`] or drop the transaction (nothing is written).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_enterprise_batch(
        &self,
        w: &mut WriteTx,
        chunk: &[Enterprise],
        summary: &mut ImportSummary,
    ) -> Result<()> {
        let existing = count_existing(&mut w.tx, chunk, &self.store).await?;
        summary.rows += chunk.len();
        summary.updated += existing;
        summary.inserted += chunk.len() - existing;
        upsert_enterprises(&mut w.tx, chunk, &self.store).await?;
        Ok(())
    }

    /// Records the import in the audit log and commits it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn finish_enterprise_import(
        &self,
        mut w: WriteTx,
        file_sha256: &str,
        summary: &ImportSummary,
    ) -> Result<()> {
        w.record(Change::new("import", "enterprise", format!("file:{file_sha256}")).after(summary));
        self.store.commit(w).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
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

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_product(&self, w: &mut WriteTx, id: i64) -> Result<()> {
        let before = product_on(&mut w.tx, id).await?;
        sqlx::query("DELETE FROM products WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.record(Change::new("delete", "product", id).before(before.product));
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn product(&self, id: i64) -> Result<ProductRecord> {
        let mut conn = self.store.pool().acquire().await?;
        product_on(&mut conn, id).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn products_of(&self, enterprise_id: i64) -> Result<Vec<ProductRecord>> {
        sqlx::query(
            "SELECT p.*, e.uscc FROM products p JOIN enterprises e ON e.id = p.enterprise_id WHERE p.enterprise_id = $1 ORDER BY p.id",
        )
        .bind(enterprise_id)
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(product_from_row)
        .collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn product_by_model(&self, enterprise_id: i64, model: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query("SELECT id FROM products WHERE enterprise_id = $1 AND model = $2")
                .bind(enterprise_id)
                .bind(model)
                .fetch_optional(self.store.pool())
                .await?
                .map(|r| r.try_get(0))
                .transpose()?,
        )
    }

    /// Creates or updates a quality event keyed by (enterprise, natural key).
    #[tracing::instrument(level = "debug", skip_all)]
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

    #[tracing::instrument(level = "debug", skip_all)]
    /// Marks a quality event as declared by the enterprise itself (待核实): rules that decide
    /// money do not read it until a responsible unit confirms it.
    pub async fn mark_event_declared(&self, w: &mut WriteTx, id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE quality_events SET provenance = 'declared', confirmed_by = NULL, confirmed_at = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.record(Change::new("declare", "quality_event", id));
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn events_of(&self, enterprise_id: i64) -> Result<Vec<EventRecord>> {
        sqlx::query(
            "SELECT id, enterprise_id, product_id, event_date, natural_key, data FROM quality_events WHERE enterprise_id = $1 ORDER BY event_date DESC, id DESC",
        )
        .bind(enterprise_id)
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(event_from_row)
        .collect()
    }

    /// The enterprise's quality credit file as of `today`.
    #[tracing::instrument(level = "debug", skip_all)]
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
