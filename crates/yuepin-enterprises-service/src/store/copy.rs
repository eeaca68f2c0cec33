//! The PostgreSQL enterprise import: rows stream by `COPY` into the unlogged staging table
//! `enterprises_staging` on a connection of their own while the file is parsed, then one
//! audited write transaction moves them set-based into the indexed tables.
//!
//! Why this shape: sqlx's `Any` driver binds every value separately, and multi-row upserts of
//! 500 rows ran at ~2,400 rows/s into 2 M enterprises (each row written twice: the upsert, then
//! its grams). `COPY` reaches the server at several hundred thousand rows/s; from there every
//! table gets one set-based statement, each row is written once, and no per-row speculative
//! insertion (`ON CONFLICT`) is paid for rows that are new.
//!
//! All-or-nothing holds as before: the staging rows are only an import in flight (keyed by
//! `import_key`, invisible to every reader of the registry); the registry tables change only in
//! the audited transaction, which either commits with its audit entry or leaves nothing. A
//! failed or dropped import deletes its staging rows (a `COPY` that never finished left none).

use super::rows::name_grams;
use crate::records::ImportSummary;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::Row;
use yuepin_domain::Enterprise;
use yuepin_store::{now_text, Actor, Change, Result, Store, StoreError};

const STAGING_COLS: &str =
    "import_key, seq, uscc, name, region, city, division, registered_capital_fen, employees, \
founded_on, listing, grams, d_kinds, d_awarded, d_expires, f_years, f_china, f_world";

/// An import's open `COPY` into the staging table.
pub(crate) struct CopyImport {
    pool: sqlx::PgPool,
    copy: Option<sqlx::postgres::PgCopyIn<sqlx::pool::PoolConnection<sqlx::Postgres>>>,
    key: String,
    seq: i64,
    actor: Actor,
    buf: Vec<u8>,
}

/// Appends one COPY text-format field (escaping as the format requires).
fn field(out: &mut Vec<u8>, s: &str) {
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

/// An array literal of values that need no quoting (designation codes, ISO dates, integers;
/// `None` is the unquoted NULL element).
fn array<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = Option<std::borrow::Cow<'a, str>>>) {
    out.push(b'{');
    for (i, v) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match v {
            Some(v) => out.extend_from_slice(v.as_bytes()),
            None => out.extend_from_slice(b"NULL"),
        }
    }
    out.push(b'}');
}

/// The staging rows of `rows`, COPY text format.
fn encode(out: &mut Vec<u8>, key: &str, seq: &mut i64, rows: &[Enterprise]) {
    use std::borrow::Cow;
    for e in rows {
        *seq += 1;
        let ints = [
            i64::from(e.division.code()),
            e.registered_capital.fen(),
            i64::from(e.employees),
        ];
        out.extend_from_slice(key.as_bytes());
        out.push(b'\t');
        out.extend_from_slice(seq.to_string().as_bytes());
        for s in [
            e.uscc.as_str(),
            e.name.as_str(),
            e.region.as_str(),
            e.region.city().code.as_str(),
        ] {
            out.push(b'\t');
            field(out, s);
        }
        for i in ints {
            out.push(b'\t');
            out.extend_from_slice(i.to_string().as_bytes());
        }
        for s in [
            e.founded_on.to_string().as_str(),
            e.listing.as_str(),
            name_grams(&e.name).as_str(),
        ] {
            out.push(b'\t');
            field(out, s);
        }
        let d = &e.designations;
        out.push(b'\t');
        array(out, d.iter().map(|d| Some(Cow::Borrowed(d.kind.code()))));
        out.push(b'\t');
        array(
            out,
            d.iter().map(|d| Some(Cow::Owned(d.awarded_on.to_string()))),
        );
        out.push(b'\t');
        array(
            out,
            d.iter()
                .map(|d| d.expires_on.map(|x| Cow::Owned(x.to_string()))),
        );
        let f = &e.financials;
        out.push(b'\t');
        array(out, f.iter().map(|f| Some(Cow::Owned(f.year.to_string()))));
        out.push(b'\t');
        array(
            out,
            f.iter()
                .map(|f| Some(Cow::Owned(f.revenue_china.fen().to_string()))),
        );
        out.push(b'\t');
        array(
            out,
            f.iter()
                .map(|f| f.revenue_world.map(|y| Cow::Owned(y.fen().to_string()))),
        );
        out.push(b'\n');
    }
}

impl CopyImport {
    /// Opens a connection of its own and starts the `COPY` (nothing is visible until `finish`).
    pub(crate) async fn begin(store: &Store, actor: Actor) -> Result<CopyImport> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(store.url())
            .await?;
        // Unique per import: a clock reading, this process and a random-enough counter.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let key = format!(
            "{}-{}-{}",
            now_text(),
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let copy = pool
            .copy_in_raw(&format!(
                "COPY enterprises_staging ({STAGING_COLS}) FROM STDIN"
            ))
            .await?;
        Ok(CopyImport {
            pool,
            copy: Some(copy),
            key,
            seq: 0,
            actor,
            buf: Vec::new(),
        })
    }

    /// Streams a batch to the server.
    pub(crate) async fn write(
        &mut self,
        rows: &[Enterprise],
        summary: &mut ImportSummary,
    ) -> Result<()> {
        let Some(copy) = self.copy.as_mut() else {
            return Err(StoreError::Conflict("the import's COPY has ended".into()));
        };
        self.buf.clear();
        encode(&mut self.buf, &self.key, &mut self.seq, rows);
        copy.send(self.buf.as_slice()).await?;
        summary.rows += rows.len();
        Ok(())
    }

    /// Ends the COPY, then moves the staged rows into the registry in one audited transaction.
    pub(crate) async fn finish(
        mut self,
        store: &Store,
        file_sha256: &str,
        summary: &mut ImportSummary,
    ) -> Result<()> {
        let result = self.finish_inner(store, file_sha256, summary).await;
        if result.is_err() {
            self.discard().await;
        } else {
            self.pool.close().await;
        }
        result
    }

    async fn finish_inner(
        &mut self,
        store: &Store,
        file_sha256: &str,
        summary: &mut ImportSummary,
    ) -> Result<()> {
        if let Some(copy) = self.copy.take() {
            copy.finish().await?;
        }
        // The staging table's statistics describe a previous import (or nothing): without
        // these the planner guesses its size and may pick nested loops over 2 M rows.
        // (Only the join and filter columns: statistics of the arrays cost more than they tell.)
        sqlx::query("ANALYZE enterprises_staging (import_key, uscc)")
            .execute(&self.pool)
            .await?;
        let key = self.key.as_str();
        let now = now_text();
        let mut w = store.begin_write(self.actor.clone()).await?;
        // The joins of staging and registry hash a whole import: in memory, not in 32 batches
        // spilled to disk at the default 4 MB (this transaction only).
        sqlx::query("SET LOCAL work_mem = '64MB'")
            .execute(&mut *w.tx)
            .await?;
        // Other writers of enterprises wait until this import commits (readers do not): so the
        // ids above the highest one read here are exactly the rows this import inserts, and
        // their designations and financials need no conflict handling.
        sqlx::query("LOCK TABLE enterprises IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *w.tx)
            .await?;
        let max_before: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM enterprises")
            .fetch_one(&mut *w.tx)
            .await?
            .try_get(0)?;
        // A first load (the registry no more than a quarter of the import) builds the
        // secondary indexes and checks the foreign keys once, after the rows are in, instead
        // of maintaining them row by row; see `FirstLoad`.
        let first_load =
            if summary.rows >= FIRST_LOAD_MIN_ROWS && max_before * 4 <= summary.rows as i64 {
                Some(FirstLoad::prepare(&mut w.tx).await?)
            } else {
                None
            };
        let updated = sqlx::query(
            "UPDATE enterprises e SET name = s.name, region = s.region, city = s.city, division = s.division, \
             registered_capital_fen = s.registered_capital_fen, employees = s.employees, founded_on = s.founded_on, \
             listing = s.listing, updated_at = $2, grams = string_to_array(s.grams, ' ') \
             FROM enterprises_staging s WHERE s.import_key = $1 AND e.uscc = s.uscc",
        )
        .bind(key)
        .bind(&now)
        .execute(&mut *w.tx)
        .await?
        .rows_affected() as usize;
        // In file order, so ids follow the file as they do on SQLite. A USCC repeated within
        // the import fails here on the unique index (the parser already refuses repeats).
        let inserted = sqlx::query(
            "INSERT INTO enterprises (uscc, name, region, city, division, registered_capital_fen, employees, founded_on, listing, updated_at, grams) \
             SELECT s.uscc, s.name, s.region, s.city, s.division, s.registered_capital_fen, s.employees, s.founded_on, s.listing, $2, \
             string_to_array(s.grams, ' ') FROM enterprises_staging s WHERE s.import_key = $1 \
             AND NOT EXISTS (SELECT 1 FROM enterprises e WHERE e.uscc = s.uscc) ORDER BY s.seq",
        )
        .bind(key)
        .bind(&now)
        .execute(&mut *w.tx)
        .await?
        .rows_affected() as usize;
        if updated + inserted != summary.rows {
            return Err(StoreError::Conflict(format!(
                "{} staged rows, {updated} updated and {inserted} inserted: a USCC repeated in one import",
                summary.rows
            )));
        }
        // Designations and financials: plain inserts for the new enterprises (e.id above the
        // old maximum), upserts for the stored ones, as the other paths do.
        let designations = "INSERT INTO designations (enterprise_id, kind, awarded_on, expires_on, city) \
             SELECT e.id, d.kind, d.awarded_on, d.expires_on, e.city FROM enterprises_staging s \
             JOIN enterprises e ON e.uscc = s.uscc \
             CROSS JOIN LATERAL unnest(s.d_kinds, s.d_awarded, s.d_expires) AS d(kind, awarded_on, expires_on) \
             WHERE s.import_key = $1 AND cardinality(s.d_kinds) > 0";
        let financials =
            "INSERT INTO financials (enterprise_id, year, revenue_china_fen, revenue_world_fen) \
             SELECT e.id, f.year, f.china, f.world FROM enterprises_staging s \
             JOIN enterprises e ON e.uscc = s.uscc \
             CROSS JOIN LATERAL unnest(s.f_years, s.f_china, s.f_world) AS f(year, china, world) \
             WHERE s.import_key = $1 AND cardinality(s.f_years) > 0";
        for (sql, upsert) in [
            (
                designations,
                "ON CONFLICT (enterprise_id, kind, awarded_on) DO UPDATE SET expires_on = excluded.expires_on, city = excluded.city",
            ),
            (
                financials,
                "ON CONFLICT (enterprise_id, year) DO UPDATE SET revenue_china_fen = excluded.revenue_china_fen, revenue_world_fen = excluded.revenue_world_fen",
            ),
        ] {
            // Upserts first: they need the unique indexes, which a first load then drops.
            if updated > 0 {
                sqlx::query(&format!("{sql} AND e.id <= $2 {upsert}"))
                    .bind(key)
                    .bind(max_before)
                    .execute(&mut *w.tx)
                    .await?;
            }
        }
        let mut first_load = first_load;
        if let Some(f) = first_load.as_mut() {
            f.drop_child_keys(&mut w.tx).await?;
        }
        for sql in [designations, financials] {
            if inserted > 0 {
                sqlx::query(&format!("{sql} AND e.id > $2"))
                    .bind(key)
                    .bind(max_before)
                    .execute(&mut *w.tx)
                    .await?;
            }
        }
        if let Some(first_load) = first_load {
            first_load.restore(&mut w.tx).await?;
        }
        sqlx::query("DELETE FROM enterprises_staging WHERE import_key = $1")
            .bind(key)
            .execute(&mut *w.tx)
            .await?;
        summary.inserted = inserted;
        summary.updated = updated;
        w.record(
            Change::new("import", "enterprise", format!("file:{file_sha256}")).after(&*summary),
        );
        store.commit(w).await?;
        // An import that grows the registry by a tenth or more changes what the planner should
        // expect (autovacuum would analyze a little later, the searches in between planned on
        // the old figures: a fresh load had none at all and its code-prefix searches took
        // 56 ms instead of 1 ms). The same threshold as autovacuum's default.
        if summary.rows as i64 * 10 >= max_before {
            sqlx::query("ANALYZE enterprises, designations, financials")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Abandons the import: ends an unfinished COPY (its rows never land) and deletes the
    /// staging rows of a finished one.
    pub(crate) async fn discard(mut self) {
        if let Some(copy) = self.copy.take() {
            let _ = copy.abort("import abandoned").await;
        }
        let _ = sqlx::query("DELETE FROM enterprises_staging WHERE import_key = $1")
            .bind(&self.key)
            .execute(&self.pool)
            .await;
        self.pool.close().await;
    }
}

/// Imports of fewer rows than this always maintain the indexes row by row.
const FIRST_LOAD_MIN_ROWS: usize = 1_000;

/// The secondary indexes of the registry's tables and the foreign keys of designations and
/// financials, dropped for a first load and rebuilt from their own definitions (read from
/// the catalogue, so the migrations stay their one source) before it commits.
///
/// Why: inserting 2 M enterprises with their 1.1 M designations and 8.8 M financial years
/// maintained a GIN index and six B-trees and ran a foreign-key check per child row (the checks
/// alone were 60 % of the time spent on financials). Building each index once from sorted
/// input and checking each foreign key with one anti-join is several times cheaper. The price:
/// dropping an index or a foreign key locks its table against readers until the import
/// commits, which is why only a first load (an almost empty registry) does it. The keys of
/// enterprises stay (the move finds stored rows by them); those of designations and financials
/// go once the stored enterprises' rows are upserted, and come back validated by their builds.
struct FirstLoad {
    indexes: Vec<String>,
    foreign_keys: Vec<(String, String, String)>,
    /// Primary and unique keys of designations and financials (table, name, definition),
    /// dropped once the stored enterprises' rows are upserted.
    child_keys: Vec<(String, String, String)>,
}

impl FirstLoad {
    async fn prepare(conn: &mut sqlx::AnyConnection) -> Result<FirstLoad> {
        const TABLES: &str =
            "('enterprises'::regclass, 'designations'::regclass, 'financials'::regclass)";
        let indexes = sqlx::query(&format!(
            "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i \
             WHERE i.indrelid IN {TABLES} AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) \
             ORDER BY 1"
        ))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get::<String, _>("name")?, r.try_get::<String, _>("def")?)))
        .collect::<Result<Vec<_>>>()?;
        let foreign_keys = sqlx::query(&format!(
            "SELECT c.conrelid::regclass::text AS tbl, c.conname::text AS name, pg_get_constraintdef(c.oid) AS def \
             FROM pg_constraint c WHERE c.contype = 'f' AND c.confrelid = 'enterprises'::regclass \
             AND c.conrelid IN {TABLES} ORDER BY 1, 2"
        ))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("tbl")?,
                r.try_get::<String, _>("name")?,
                r.try_get::<String, _>("def")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
        for (table, name, _) in &foreign_keys {
            sqlx::query(&format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\""))
                .execute(&mut *conn)
                .await?;
        }
        for (name, _) in &indexes {
            sqlx::query(&format!("DROP INDEX {name}"))
                .execute(&mut *conn)
                .await?;
        }
        Ok(FirstLoad {
            indexes: indexes.into_iter().map(|(_, def)| def).collect(),
            foreign_keys,
            child_keys: Vec::new(),
        })
    }

    /// Drops the primary and unique keys of designations and financials: maintained row by
    /// row they cost 3–4 times the insert itself (17 s of 22 s for 4.4 M financial years).
    async fn drop_child_keys(&mut self, conn: &mut sqlx::AnyConnection) -> Result<()> {
        self.child_keys = sqlx::query(
            "SELECT c.conrelid::regclass::text AS tbl, c.conname::text AS name, pg_get_constraintdef(c.oid) AS def \
             FROM pg_constraint c WHERE c.contype IN ('p', 'u') \
             AND c.conrelid IN ('designations'::regclass, 'financials'::regclass) ORDER BY 1, 2",
        )
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("tbl")?,
                r.try_get::<String, _>("name")?,
                r.try_get::<String, _>("def")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
        for (table, name, _) in &self.child_keys {
            sqlx::query(&format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\""))
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    async fn restore(self, conn: &mut sqlx::AnyConnection) -> Result<()> {
        // Index builds sort in memory up to this much (this transaction only).
        sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
            .execute(&mut *conn)
            .await?;
        for (table, name, def) in &self.child_keys {
            sqlx::query(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def}"
            ))
            .execute(&mut *conn)
            .await?;
        }
        for def in &self.indexes {
            sqlx::query(def).execute(&mut *conn).await?;
        }
        for (table, name, def) in &self.foreign_keys {
            sqlx::query(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def}"
            ))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}
