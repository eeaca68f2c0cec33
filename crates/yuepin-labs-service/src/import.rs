//! Bulk loads and operator views for the CLI (administrators only): a whole catalogue in one
//! transaction, booking history as multi-row inserts, planner statistics after a bulk load,
//! table counts, and looking up an account to act on.

use crate::catalogue::{insert_lab, write_instrument, write_service};
use crate::records::{dt_text, HistoryBooking, ImportedLab, LabSeed};
use crate::{LabsResult, LabsService};
use sqlx::Row;
use yuepin_domain::Caller;
use yuepin_labs::LabId;
use yuepin_store::{dialect::values_sql, now_text, Actor, Change, UserRecord};

/// Rows per multi-row INSERT of history: 12 binds each, far below both backends' limits.
const HISTORY_CHUNK: usize = 200;

/// The tables this capability owns, for `yuepin labs status`.
pub const TABLES: [&str; 6] = [
    "labs",
    "lab_instruments",
    "lab_services",
    "lab_bookings",
    "lab_orders",
    "lab_reports",
];

impl LabsService {
    /// Creates labs with their instruments and services in one transaction (ids inside the
    /// values are ignored; each instrument and service gets its lab's id).
    pub async fn import_catalogue(
        &self,
        caller: &Caller,
        seeds: &[LabSeed],
    ) -> LabsResult<Vec<ImportedLab>> {
        caller.require_administrator()?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let mut out = Vec::with_capacity(seeds.len());
        for seed in seeds {
            let id = insert_lab(&mut w, &seed.code, &seed.lab).await?;
            let lab = LabId(id as u64);
            let mut imported = ImportedLab {
                id,
                instruments: Vec::with_capacity(seed.instruments.len()),
                services: Vec::with_capacity(seed.services.len()),
            };
            for (inst, requires_approval) in &seed.instruments {
                let mut inst = inst.clone();
                inst.lab = lab;
                imported
                    .instruments
                    .push(write_instrument(&mut w, id, None, &inst, *requires_approval).await?);
            }
            for svc in &seed.services {
                let mut svc = svc.clone();
                svc.lab = lab;
                imported
                    .services
                    .push(write_service(&mut w, id, None, &svc).await?);
            }
            out.push(imported);
        }
        w.record(
            Change::new("import", "labs", "catalogue")
                .after(serde_json::json!({"labs": seeds.len()})),
        );
        self.store.commit(w).await?;
        Ok(out)
    }

    /// Loads bookings that already happened (or are settled) as history, bypassing the rules:
    /// demo usage, benchmark load. `group` marks them (`group_key`). Overlaps are still
    /// refused by the database. Returns the number of rows.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_history(
        &self,
        caller: &Caller,
        group: &str,
        rows: &[HistoryBooking],
    ) -> LabsResult<usize> {
        caller.require_administrator()?;
        let dialect = self.store.dialect();
        let now = now_text();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        for chunk in rows.chunks(HISTORY_CHUNK) {
            let sql = format!(
                "INSERT INTO lab_bookings (instrument_id, enterprise_id, group_key, start_min, end_min, starts_at, ends_at, state, self_operated, price_fen, created_at, updated_at) VALUES {}",
                values_sql(dialect, chunk.len(), 12)
            );
            let mut q = sqlx::query(&sql);
            for b in chunk {
                let (s, e) = b.range.as_minutes();
                q = q
                    .bind(b.instrument_id)
                    .bind(b.enterprise_id)
                    .bind(group)
                    .bind(s)
                    .bind(e)
                    .bind(dt_text(b.range.start()))
                    .bind(dt_text(b.range.end()))
                    .bind(b.state.name())
                    .bind(0i64)
                    .bind(b.price.fen())
                    .bind(now.clone())
                    .bind(now.clone());
            }
            q.execute(&mut *w.tx)
                .await
                .map_err(|e| crate::store::overlap_or(dialect, e))?;
        }
        w.record(
            Change::new("import", "lab_booking", group)
                .after(serde_json::json!({"rows": rows.len()})),
        );
        self.store.commit(w).await?;
        Ok(rows.len())
    }

    /// After a bulk load: what autovacuum would do shortly after (PostgreSQL's `ANALYZE`), so
    /// measured plans have statistics. Nothing on SQLite.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn refresh_statistics(&self, caller: &Caller) -> LabsResult<()> {
        caller.require_administrator()?;
        for sql in self.store.dialect().after_bulk_load_sql() {
            sqlx::query(sql).execute(self.store.pool()).await?;
        }
        Ok(())
    }

    /// Row counts of the capability's tables.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn table_counts(&self, caller: &Caller) -> LabsResult<Vec<(&'static str, i64)>> {
        caller.require_administrator()?;
        let mut out = Vec::with_capacity(TABLES.len());
        for t in TABLES {
            let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {t}"))
                .fetch_one(self.store.pool())
                .await?
                .try_get(0)?;
            out.push((t, n));
        }
        Ok(out)
    }

    /// The account with this user name, for the operator to act on (binding, demo seeding).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn account(&self, caller: &Caller, username: &str) -> LabsResult<Option<UserRecord>> {
        caller.require_administrator()?;
        // MERGE: accounts (store core)
        Ok(self.store.user_by_username(username).await?)
    }
}
