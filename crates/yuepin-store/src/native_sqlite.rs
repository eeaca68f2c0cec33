//! Bulk paths on SQLite through `rusqlite`, beside the sqlx pool: reading all enterprises' policy
//! facts, importing enterprise and complaint files. sqlx's SQLite driver turns every value into
//! an `AnyValue` and hands rows over a channel from its worker thread, which costs 5–10 µs per
//! row; rusqlite steps a prepared statement on the calling (blocking) thread for ≈ 1–2 µs. Each
//! call opens its own connection to the same database file with the pool's pragmas, so it sees
//! committed data and takes SQLite's write lock like any other writer (`BEGIN IMMEDIATE`).

use crate::{Result, StoreError};
use std::path::{Path, PathBuf};

/// The database file behind a `sqlite:` URL, or `None` for in-memory databases (which only
/// the pool's own connections can see).
pub fn file_of(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Opens a connection with the same pragmas as the pool's connections.
pub fn open(path: &Path, setup: &[&str]) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).map_err(native)?;
    for stmt in setup {
        // Pragmas that report their new value (journal_mode) return a row: read and drop it.
        conn.query_row(stmt, [], |_| Ok(()))
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(()),
                other => Err(other),
            })
            .map_err(native)?;
    }
    Ok(conn)
}

/// A connection for one bulk write: as [`open`], with a 512 MiB page cache so that the indexes
/// a large import touches stay in memory until the commit (freed when the connection closes),
/// no automatic checkpoint at its commit (the caller runs [`crate::Store::checkpoint`] when
/// the import is done, so the gigabytes a big import adds to the WAL are copied once, outside
/// the import), and statement journals in memory. Each single-row upsert opens a statement journal; once
/// one outgrows 64 KiB SQLite moves it to a temporary file for the rest of the transaction,
/// after which every row costs a few `pwrite`s (measured: 2.7 per row, 25× slower).
pub fn open_for_bulk(path: &Path, setup: &[&str]) -> Result<rusqlite::Connection> {
    let conn = open(path, setup)?;
    conn.pragma_update(None, "cache_size", -524_288)
        .map_err(native)?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(native)?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(native)?;
    Ok(conn)
}

/// Maps a rusqlite error into the store's error type.
pub fn native(e: rusqlite::Error) -> StoreError {
    StoreError::Native(e.to_string())
}

/// Runs `work` on a blocking thread with its own connection to the store's file.
pub async fn with_connection<T: Send + 'static>(
    path: PathBuf,
    setup: &'static [&'static str],
    work: impl FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(move || {
        let mut conn = open(&path, setup)?;
        work(&mut conn)
    })
    .await
    .map_err(|e| StoreError::Native(format!("blocking task failed: {e}")))?
}

/// Hands `msg` to a native writer thread from async code. The channel is bounded, so a send can
/// block: it runs on a blocking thread. `false` when the writer has stopped.
pub async fn send_to_writer<T: Send + 'static>(
    tx: &std::sync::mpsc::SyncSender<T>,
    msg: T,
) -> bool {
    let tx = tx.clone();
    matches!(
        tokio::task::spawn_blocking(move || tx.send(msg)).await,
        Ok(Ok(()))
    )
}

#[cfg(test)]
mod tests {
    use super::file_of;
    use std::path::PathBuf;

    #[test]
    fn file_urls_map_to_paths_and_memory_urls_do_not() {
        assert_eq!(
            file_of("sqlite:///tmp/a.db?mode=rwc"),
            Some(PathBuf::from("/tmp/a.db"))
        );
        assert_eq!(
            file_of("sqlite://data/y.db"),
            Some(PathBuf::from("data/y.db"))
        );
        assert_eq!(file_of("sqlite::memory:"), None);
        assert_eq!(file_of("sqlite://file?mode=memory"), None);
        assert_eq!(file_of("postgres://x"), None);
    }
}
