//! Signed checkpoints of the audit chain (issue 17 item 5): the chain's row hashes are the
//! entries of an RFC 9162 Merkle tree, and a checkpoint (`yuepin.audit`, tree size, root,
//! time, key id, Ed25519 signature: the C2SP note of `yuepin-tlog`, the same mechanism as the
//! credit log's) is signed with a key that is not in the database. Its witness copy (the note
//! plus the row hashes) is kept outside; checking the database against it names the first row
//! a rewrite touched, and rows dropped since, even when the writer recomputed every later hash
//! and the head (which `audit_verify` alone cannot see).
//!
//! The key and the files are the caller's (`yuepin audit checkpoint`, `yuepin serve`): the
//! store signs through a function and never sees the private key.

use crate::audit::Verification;
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use yuepin_tlog::witness::{self, entries_root, Finding, WitnessCopy};
use yuepin_tlog::{Checkpoint, Hash, VerifyingKey};

/// The origin line (and key name) of the audit chain's checkpoints.
pub const AUDIT_ORIGIN: &str = "yuepin.audit";

/// A checkpoint made: what it states and the witness copy's text.
#[derive(Debug, Clone)]
pub struct MadeCheckpoint {
    pub checkpoint: Checkpoint,
    /// The note and the row hashes (write it where the database's writers cannot).
    pub text: String,
}

/// The database's chain against a kept checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointCheck {
    /// The chain is not even self-consistent (what `audit_verify` found).
    Chain(Verification),
    /// The chain is self-consistent; what it says against the checkpoint. `rows` is the
    /// chain's length now.
    Witness {
        finding: Finding,
        rows: i64,
        checkpoint: Checkpoint,
    },
}

impl Store {
    /// The hashes of every row after a full walk of the chain, or what is wrong with it.
    async fn audit_entries(&self) -> Result<std::result::Result<Vec<Hash>, Verification>> {
        let (v, raw) = self.audit_walk(true).await?;
        Ok(match v {
            Verification::Intact { .. } => Ok(raw.into_iter().map(Hash).collect()),
            other => Err(other),
        })
    }

    /// Signs a checkpoint of the whole chain at `now` with the key whose public half is `vk`
    /// and whose signing function is `sign`; refused (`Err(problem)`) when the chain is not
    /// intact, so a checkpoint never vouches for a broken chain.
    pub async fn audit_checkpoint(
        &self,
        vk: &VerifyingKey,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<MadeCheckpoint, Verification>> {
        let entries = match self.audit_entries().await? {
            Ok(e) => e,
            Err(problem) => return Ok(Err(problem)),
        };
        let checkpoint = Checkpoint::new(
            AUDIT_ORIGIN,
            entries.len() as u64,
            entries_root(&entries),
            now,
        );
        let signed = checkpoint.sign_with(vk, sign);
        Ok(Ok(MadeCheckpoint {
            text: witness::to_text(&signed, &entries),
            checkpoint,
        }))
    }

    /// Checks the chain against a kept checkpoint (parsed and its signature verified by
    /// [`WitnessCopy::open`] with [`AUDIT_ORIGIN`]).
    pub async fn audit_check_witness(&self, copy: &WitnessCopy) -> Result<CheckpointCheck> {
        let entries = match self.audit_entries().await? {
            Ok(e) => e,
            Err(problem) => return Ok(CheckpointCheck::Chain(problem)),
        };
        Ok(CheckpointCheck::Witness {
            finding: copy.check(&entries),
            rows: entries.len() as i64,
            checkpoint: copy.checkpoint.clone(),
        })
    }
}
