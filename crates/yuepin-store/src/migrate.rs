//! Applies the embedded migrations in order, each in its own transaction, recording applied
//! versions in `schema_migrations`. Safe to run from several replicas at once on PostgreSQL
//! (an advisory lock serialises them) and idempotent everywhere.

use crate::{Result, Store};
use sqlx::Row;

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

impl Store {
    /// Runs pending migrations; returns the names of those applied now.
    pub async fn migrate(&self) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        let is_pg = self.dialect.name() == "postgres";
        // The lock comes first: concurrent `CREATE TABLE IF NOT EXISTS` on a fresh PostgreSQL
        // database fails in one of the sessions (duplicate key in `pg_type`).
        if is_pg {
            sqlx::query("SELECT pg_advisory_lock(727274)")
                .execute(&mut *conn)
                .await?;
        }
        let result = async {
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
            )
            .execute(&mut *conn)
            .await?;
            let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>(0))
                .collect::<Result<_, _>>()?;
            let mut done = Vec::new();
            for (version, name, sqlite, postgres) in MIGRATIONS {
                if applied.contains(version) {
                    continue;
                }
                let sql = self.dialect.migration_sql(sqlite, postgres);
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                )
                .bind(*version)
                .bind(*name)
                .bind(crate::now_text())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                done.push(name.to_string());
            }
            Ok(done)
        }
        .await;
        if is_pg {
            sqlx::query("SELECT pg_advisory_unlock(727274)")
                .execute(&mut *conn)
                .await?;
        }
        result
    }

    /// Names of all migrations this binary knows.
    pub fn known_migrations() -> Vec<&'static str> {
        MIGRATIONS.iter().map(|m| m.1).collect()
    }
}
