//! Yuepin's storage: one `Store` over a SQL pool, with the backend-specific parts behind the
//! [`Dialect`] trait — SQLite (embedded, the default) and PostgreSQL (scale-out), chosen by the
//! database URL's scheme. Each backend has its own migrations, kept in lockstep by `build.rs`.
//!
//! Every writing transaction goes through [`Store::write`], which appends to the hash-chained
//! audit log in the same transaction, so no write can land without its audit row.

pub mod audit;
pub mod audit_checkpoint;
pub mod credentials;
pub mod dialect;
pub mod migrate;
pub mod native_sqlite;
pub mod passwords;
pub mod second_factor;
pub mod users;

pub use credentials::TokenRecord;
pub use dialect::{BulkLoad, Dialect};
pub use second_factor::{ChallengeRow, TotpRow};
pub use users::{SessionInfo, UserRecord};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row, Transaction};
use std::time::Duration;

/// Everything that can go wrong in the store, for the web layer to map onto HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid data in the database: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Native(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The handle every part of the platform uses. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: &'static dyn Dialect,
    url: String,
    /// The SQLite file, for the bulk paths that bypass the pool (`native_sqlite`).
    sqlite_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.dialect.name())
            .finish()
    }
}

/// Who is writing, recorded in the audit log ("user:3:alice", "cli:import", "system").
#[derive(Debug, Clone)]
pub struct Actor(pub String);

impl From<&yuepin_domain::Caller> for Actor {
    fn from(c: &yuepin_domain::Caller) -> Self {
        Actor(c.actor.clone())
    }
}

impl Actor {
    pub fn system() -> Self {
        Actor("system".into())
    }
    pub fn cli(what: &str) -> Self {
        Actor(format!("cli:{what}"))
    }
}

/// One audit entry to append: what changed and how.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Change {
    pub fn new(action: &str, entity: &str, entity_id: impl ToString) -> Self {
        Self {
            action: action.into(),
            entity: entity.into(),
            entity_id: entity_id.to_string(),
            before: None,
            after: None,
        }
    }
    pub fn before(mut self, v: impl serde::Serialize) -> Self {
        self.before = serde_json::to_value(v).ok();
        self
    }
    pub fn after(mut self, v: impl serde::Serialize) -> Self {
        self.after = serde_json::to_value(v).ok();
        self
    }
}

/// A writing transaction that must record what it changed before it commits.
pub struct WriteTx {
    pub tx: Transaction<'static, sqlx::Any>,
    actor: Actor,
    changes: Vec<Change>,
}

impl WriteTx {
    pub fn record(&mut self, change: Change) {
        self.changes.push(change);
    }
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// Current time as stored: RFC 3339 UTC with milliseconds (sorts as text).
pub fn now_text() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl Store {
    /// Connects by URL scheme (`sqlite://`, `postgres://`/`postgresql://`) and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::connect_without_migrating(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn connect_without_migrating(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = dialect::for_url(url)?;
        let setup = dialect.connection_setup();
        let pool = AnyPoolOptions::new()
            .max_connections(dialect.max_connections())
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    for stmt in setup {
                        sqlx::query(stmt).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(&dialect.normalize_url(url))
            .await?;
        Ok(Self {
            pool,
            dialect,
            url: url.to_string(),
            sqlite_file: if dialect.name() == "sqlite" {
                native_sqlite::file_of(url)
            } else {
                None
            },
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    pub fn backend_name(&self) -> &'static str {
        self.dialect.name()
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The SQLite database file, for the native bulk paths (`native_sqlite`); `None` on
    /// PostgreSQL and for in-memory databases.
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        self.sqlite_file.as_deref()
    }

    /// Starts a writing transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`)
    /// so that a read-then-write transaction never fails to upgrade under concurrency.
    pub async fn begin_write(&self, actor: Actor) -> Result<WriteTx> {
        let tx = self.pool.begin_with(self.dialect.begin_write_sql()).await?;
        Ok(WriteTx {
            tx,
            actor,
            changes: Vec::new(),
        })
    }

    /// Appends the recorded changes to the audit chain and commits.
    pub async fn commit(&self, mut w: WriteTx) -> Result<()> {
        if w.changes.is_empty() {
            return Err(StoreError::Corrupt(
                "a writing transaction must record at least one change".into(),
            ));
        }
        audit::append(&mut w.tx, &w.actor, &w.changes).await?;
        w.tx.commit().await?;
        Ok(())
    }

    /// Copies the write-ahead log into the database file and truncates it (SQLite; nothing to do
    /// on PostgreSQL). Bulk imports leave this to their caller: see `native_sqlite::open_for_bulk`.
    pub async fn checkpoint(&self) -> Result<()> {
        if let Some(path) = self.sqlite_file.clone() {
            native_sqlite::with_connection(path, self.dialect.connection_setup(), |conn| {
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                    .map_err(native_sqlite::native)
            })
            .await?;
        }
        Ok(())
    }

    /// Liveness of the database, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Wraps a value read back from the database that no longer parses.
pub fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub fn get_opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}
