//! The credit log as use cases: signed checkpoints (any signed-in caller, so banks and
//! witnesses can keep them), inclusion proofs for a caller's own entries (a bank's entries
//! are its consents' changes and its fetches; an enterprise's are its consents and grades),
//! consistency proofs between sizes, and the administrator's full verification (every leaf
//! rehashed, no gaps, head size, every stored checkpoint's root and signature).

use crate::error::{CreditError, CreditResult};
use crate::records::{ConsistencyProof, InclusionProof, LogEntry, LogProblem, LogVerification};
use crate::{require_signed_in, store, CreditService};
use yuepin_credit::checkpoint;
use yuepin_credit::merkle::{self, Hash};
use yuepin_domain::{Caller, Denied, Role};
use yuepin_store::{Actor, Change};

fn hexes(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(Hash::to_hex).collect()
}

impl CreditService {
    /// The signed checkpoint of the log's current size (made and stored on first request).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn checkpoint(&self, caller: &Caller) -> CreditResult<String> {
        require_signed_in(caller)?;
        let size = {
            let mut conn = self.store.pool().acquire().await?;
            store::log_size_on(&mut conn).await?
        };
        self.checkpoint_of(size).await
    }

    /// The stored checkpoint of `size`, signing one when `size` is the current size.
    async fn checkpoint_of(&self, size: u64) -> CreditResult<String> {
        let mut conn = self.store.pool().acquire().await?;
        if let Some(note) = store::checkpoint_on(&mut conn, size).await? {
            return Ok(note);
        }
        if store::log_size_on(&mut conn).await? != size {
            return Err(CreditError::missing("checkpoint", size));
        }
        let leaves = store::leaves_on(&mut conn, size).await?;
        drop(conn);
        let root = merkle::root(&leaves);
        let key = self.keys.key()?;
        let note = checkpoint::sign(
            &checkpoint::credit_checkpoint(size, root, chrono::Utc::now()),
            &key,
        )
        .to_text();
        let mut w = self.store.begin_write(Actor::system()).await?;
        store::insert_checkpoint(w.conn(), size, &root, &note).await?;
        w.record(
            Change::new("checkpoint", "credit_log", size)
                .after(serde_json::json!({"size": size, "root": root.to_hex()})),
        );
        self.store.commit(w).await?;
        let mut conn = self.store.pool().acquire().await?;
        // A concurrent request may have stored its own first: everyone gets the stored one.
        store::checkpoint_on(&mut conn, size)
            .await?
            .ok_or_else(|| CreditError::missing("checkpoint", size))
    }

    /// Who may see entry `bank_id`/`enterprise_id`: the bank, the enterprise, administrators.
    async fn may_see_entry(
        &self,
        caller: &Caller,
        bank_id: Option<i64>,
        enterprise_id: Option<i64>,
    ) -> CreditResult<bool> {
        Ok(match caller.role() {
            _ if caller.is_administrator() => true,
            Some(Role::Bank) => {
                bank_id.is_some() && bank_id == Some(self.staff_bank(caller).await?)
            }
            Some(Role::Enterprise) => {
                enterprise_id.is_some() && enterprise_id == caller.enterprise_id()
            }
            None => return Err(Denied::SignInRequired.into()),
            Some(_) => false,
        })
    }

    /// The caller's own log entries (a bank's or an enterprise's), in log order.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn my_log_entries(&self, caller: &Caller) -> CreditResult<Vec<LogEntry>> {
        let (by, id) = match caller.role() {
            Some(Role::Bank) => ("bank_id", self.staff_bank(caller).await?),
            Some(Role::Enterprise) => (
                "enterprise_id",
                caller.enterprise_id().ok_or(CreditError::NoEnterprise)?,
            ),
            None if !caller.is_administrator() => return Err(Denied::SignInRequired.into()),
            _ => {
                return Err(Denied::Role {
                    needs: vec![Role::Bank, Role::Enterprise],
                }
                .into())
            }
        };
        let mut conn = self.store.pool().acquire().await?;
        Ok(store::log_entries_by(&mut conn, by, id).await?)
    }

    /// The inclusion proof of entry `index` in the tree of `tree_size` (the current size when
    /// `None`), with that size's signed checkpoint. Only for the caller's own entries; others'
    /// look missing.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn inclusion_proof(
        &self,
        caller: &Caller,
        index: u64,
        tree_size: Option<u64>,
    ) -> CreditResult<InclusionProof> {
        require_signed_in(caller)?;
        let mut conn = self.store.pool().acquire().await?;
        let (entry, bank_id, enterprise_id) = store::log_entry_on(&mut conn, index)
            .await?
            .ok_or_else(|| CreditError::missing("log entry", index))?;
        drop(conn);
        if !self.may_see_entry(caller, bank_id, enterprise_id).await? {
            return Err(CreditError::missing("log entry", index));
        }
        let mut conn = self.store.pool().acquire().await?;
        let size = match tree_size {
            Some(s) => s,
            None => store::log_size_on(&mut conn).await?,
        };
        drop(conn);
        let checkpoint = self.checkpoint_of(size).await?;
        let mut conn = self.store.pool().acquire().await?;
        let leaves = store::leaves_on(&mut conn, size).await?;
        let proof = merkle::inclusion_proof(index, &leaves)?;
        Ok(InclusionProof {
            entry,
            tree_size: size,
            proof: hexes(&proof),
            checkpoint,
        })
    }

    /// The consistency proof from size `first` to `second` (the current size when `None`),
    /// with the signed checkpoint of `second`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn consistency_proof(
        &self,
        caller: &Caller,
        first: u64,
        second: Option<u64>,
    ) -> CreditResult<ConsistencyProof> {
        require_signed_in(caller)?;
        let mut conn = self.store.pool().acquire().await?;
        let second = match second {
            Some(s) => s,
            None => store::log_size_on(&mut conn).await?,
        };
        drop(conn);
        let checkpoint = self.checkpoint_of(second).await?;
        let mut conn = self.store.pool().acquire().await?;
        let leaves = store::leaves_on(&mut conn, second).await?;
        let proof = merkle::consistency_proof(first, &leaves)?;
        Ok(ConsistencyProof {
            first,
            second,
            proof: hexes(&proof),
            checkpoint,
        })
    }

    /// Checks the whole stored log (administrators only): the first problem found, if any.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn verify_log(&self, caller: &Caller) -> CreditResult<LogVerification> {
        caller.require_administrator()?;
        let mut conn = self.store.pool().acquire().await?;
        let head = store::log_size_on(&mut conn).await?;
        let rows = store::all_entries_on(&mut conn).await?;
        let checkpoints = store::checkpoints_on(&mut conn).await?;
        drop(conn);
        let n_checkpoints = checkpoints.len() as u64;
        let done = |problem| {
            Ok(LogVerification {
                size: head,
                checkpoints: n_checkpoints,
                problem: Some(problem),
            })
        };
        let mut leaves = Vec::with_capacity(rows.len());
        for (i, (idx, entry, stored)) in rows.iter().enumerate() {
            if *idx != i as i64 {
                return done(LogProblem::Gap { index: i as u64 });
            }
            let h = merkle::leaf_hash(entry.as_bytes());
            if h.to_hex() != *stored {
                return done(LogProblem::LeafMismatch { index: i as u64 });
            }
            leaves.push(h);
        }
        if leaves.len() as u64 != head {
            return done(LogProblem::Size {
                head,
                rows: leaves.len() as u64,
            });
        }
        let key = self.keys.key()?.verifying_key();
        for (size, root, note) in checkpoints {
            let ok = size <= head
                && checkpoint::open(&note, &key).is_ok_and(|c| {
                    c.size == size
                        && c.root.to_hex() == root
                        && c.root == merkle::root(&leaves[..size as usize])
                });
            if !ok {
                return done(LogProblem::Checkpoint { size });
            }
        }
        Ok(LogVerification {
            size: head,
            checkpoints: n_checkpoints,
            problem: None,
        })
    }
}
