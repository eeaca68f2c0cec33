//! The hash-chained audit log. Each row's hash covers its content and the previous row's hash;
//! the single-row `audit_head` holds the latest (seq, hash) so that deleting the tail is detected
//! too. Appending updates the head first, which serialises concurrent writers on both backends.

use crate::{Actor, Change, Result, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    pub hash: String,
}

/// What `yuepin audit verify` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    Intact {
        rows: i64,
        head: String,
    },
    /// The first row whose content no longer matches its hash.
    Altered {
        seq: i64,
    },
    /// A row whose predecessor link is broken: rows were deleted before it, or it was inserted.
    Broken {
        seq: i64,
        expected_prev: String,
    },
    /// Rows were removed from the end (the head points past the last row).
    Truncated {
        last_seq: i64,
        head_seq: i64,
    },
}

/// The fields a row's hash covers, in order.
struct HashedFields<'a> {
    seq: i64,
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    entity: &'a str,
    entity_id: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
    prev: &'a str,
}

impl HashedFields<'_> {
    fn hash(&self) -> String {
        let mut h = Sha256::new();
        let seq = self.seq.to_string();
        for part in [
            seq.as_str(),
            self.at,
            self.actor,
            self.action,
            self.entity,
            self.entity_id,
            self.before.unwrap_or("\u{0}"),
            self.after.unwrap_or("\u{0}"),
            self.prev,
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        hex::encode(h.finalize())
    }
}

/// One audit row ready to insert, with its hash computed.
pub(crate) struct ChainedRow<'a> {
    seq: i64,
    actor: &'a str,
    change: &'a Change,
    before: Option<String>,
    after: Option<String>,
    prev: String,
    hash: String,
}

/// Links `changes` onto the chain whose head is (`last_seq`, `prev`): the pure half of
/// appending, shared by the sqlx and the native SQLite writers.
fn chain<'a>(
    actor: &'a Actor,
    changes: &'a [Change],
    last_seq: i64,
    mut prev: String,
    at: &str,
) -> Vec<ChainedRow<'a>> {
    let mut seq = last_seq;
    changes
        .iter()
        .map(|c| {
            seq += 1;
            let before = c.before.as_ref().map(|v| v.to_string());
            let after = c.after.as_ref().map(|v| v.to_string());
            let hash = HashedFields {
                seq,
                at,
                actor: &actor.0,
                action: &c.action,
                entity: &c.entity,
                entity_id: &c.entity_id,
                before: before.as_deref(),
                after: after.as_deref(),
                prev: &prev,
            }
            .hash();
            ChainedRow {
                seq,
                actor: &actor.0,
                change: c,
                before,
                after,
                prev: std::mem::replace(&mut prev, hash.clone()),
                hash,
            }
        })
        .collect()
}

const HEAD_SQL: &str = "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash";
const INSERT_SQL: &str = "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, before_json, after_json, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
const SET_HEAD_SQL: &str = "UPDATE audit_head SET hash = $1 WHERE id = 1";

pub(crate) async fn append(
    conn: &mut AnyConnection,
    actor: &Actor,
    changes: &[Change],
) -> Result<()> {
    let n = changes.len() as i64;
    let head = sqlx::query(HEAD_SQL).bind(n).fetch_one(&mut *conn).await?;
    let last_seq: i64 = head.try_get("seq")?;
    let at = crate::now_text();
    let rows = chain(actor, changes, last_seq - n, head.try_get("hash")?, &at);
    for r in &rows {
        sqlx::query(INSERT_SQL)
            .bind(r.seq)
            .bind(&at)
            .bind(r.actor)
            .bind(&r.change.action)
            .bind(&r.change.entity)
            .bind(&r.change.entity_id)
            .bind(r.before.as_deref())
            .bind(r.after.as_deref())
            .bind(&r.prev)
            .bind(&r.hash)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(last) = rows.last() {
        sqlx::query(SET_HEAD_SQL)
            .bind(&last.hash)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// [`append`] on a native SQLite transaction (the bulk paths in `native_sqlite`).
pub fn append_native(conn: &rusqlite::Connection, actor: &Actor, changes: &[Change]) -> Result<()> {
    use crate::native_sqlite::native;
    let n = changes.len() as i64;
    let (last_seq, prev): (i64, String) = conn
        .query_row(HEAD_SQL, [n], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(native)?;
    let at = crate::now_text();
    let rows = chain(actor, changes, last_seq - n, prev, &at);
    for r in &rows {
        conn.execute(
            INSERT_SQL,
            rusqlite::params![
                r.seq,
                at,
                r.actor,
                r.change.action,
                r.change.entity,
                r.change.entity_id,
                r.before,
                r.after,
                r.prev,
                r.hash
            ],
        )
        .map_err(native)?;
    }
    if let Some(last) = rows.last() {
        conn.execute(SET_HEAD_SQL, [&last.hash]).map_err(native)?;
    }
    Ok(())
}

fn entry(r: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
        before: parse(r.try_get("before_json")?),
        after: parse(r.try_get("after_json")?),
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

impl Store {
    /// Newest first; `entity` filters to one kind of thing, `entity_id` to one of them.
    pub async fn audit_list(
        &self,
        entity: Option<&str>,
        entity_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM audit_log WHERE ($1 = '' OR entity = $1) AND ($2 = '' OR entity_id = $2) ORDER BY seq DESC LIMIT $3",
        )
        .bind(entity.unwrap_or(""))
        .bind(entity_id.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry).collect()
    }

    /// The chain's size, the one a checkpoint of it would sign: its last sequence number
    /// (rows are numbered from 1 without gaps while the chain is intact), read off the primary
    /// key rather than counted.
    pub async fn audit_len(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Walks the whole chain in order and reports the first inconsistency.
    pub async fn audit_verify(&self) -> Result<Verification> {
        Ok(self.audit_walk(false).await?.0)
    }

    /// Walks the chain; with `collect`, also returns every row's hash in order (the entries of
    /// the audit checkpoints' Merkle tree, `audit_checkpoint.rs`).
    pub(crate) async fn audit_walk(&self, collect: bool) -> Result<(Verification, Vec<[u8; 32]>)> {
        let mut hashes = Vec::new();
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;
        let mut prev = GENESIS.to_string();
        let mut expected_seq = 1i64;
        let mut after_seq = 0i64;
        let mut count = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor, action, entity, entity_id, before_json, after_json, prev_hash, hash \
                 FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000",
            )
            .bind(after_seq)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let seq: i64 = r.try_get("seq")?;
                let stored_prev: String = r.try_get("prev_hash")?;
                if seq != expected_seq || stored_prev != prev {
                    return Ok((
                        Verification::Broken {
                            seq,
                            expected_prev: prev,
                        },
                        hashes,
                    ));
                }
                let before: Option<String> = r.try_get("before_json")?;
                let after: Option<String> = r.try_get("after_json")?;
                let (at, actor, action, entity, entity_id): (
                    String,
                    String,
                    String,
                    String,
                    String,
                ) = (
                    r.try_get("at")?,
                    r.try_get("actor")?,
                    r.try_get("action")?,
                    r.try_get("entity")?,
                    r.try_get("entity_id")?,
                );
                let computed = HashedFields {
                    seq,
                    at: &at,
                    actor: &actor,
                    action: &action,
                    entity: &entity,
                    entity_id: &entity_id,
                    before: before.as_deref(),
                    after: after.as_deref(),
                    prev: &stored_prev,
                }
                .hash();
                if computed != r.try_get::<String, _>("hash")? {
                    return Ok((Verification::Altered { seq }, hashes));
                }
                if collect {
                    let mut raw = [0u8; 32];
                    hex::decode_to_slice(&computed, &mut raw)
                        .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
                    hashes.push(raw);
                }
                prev = computed;
                expected_seq += 1;
                after_seq = seq;
                count += 1;
            }
        }
        if head_seq != after_seq || head_hash != prev {
            return Ok((
                Verification::Truncated {
                    last_seq: after_seq,
                    head_seq,
                },
                hashes,
            ));
        }
        Ok((
            Verification::Intact {
                rows: count,
                head: prev,
            },
            hashes,
        ))
    }
}
