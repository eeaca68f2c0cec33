//! The transparency-log parts the platform's two tamper-evident logs share (issue 17 item 5:
//! "the credit issue's Merkle log and this one should be the same mechanism"):
//!
//! - [`merkle`]: the RFC 6962 / RFC 9162 Merkle tree (tree heads, inclusion and consistency
//!   proofs and their verification);
//! - [`checkpoint`]: signed checkpoints in the C2SP `tlog-checkpoint` text form inside a C2SP
//!   `signed-note`, for any origin (`yuepin.credit`, `yuepin.audit`);
//! - [`witness`]: the witness copy kept outside the database (the signed note plus the entry
//!   hashes) and the check of a log's current entries against it.
//!
//! The credit log (`yuepin-credit`, `yuepin-credit-service`) and the store's audit chain
//! (`yuepin-store/src/audit_checkpoint.rs`, `yuepin audit checkpoint`) both use them. Pure: no
//! files, database or clock; the signer is a function so the key type stays the caller's.

pub mod checkpoint;
pub mod merkle;
pub mod witness;

pub use ed25519_dalek::VerifyingKey;

pub use checkpoint::{key_id, Checkpoint, CheckpointError, SignedCheckpoint};
pub use merkle::{Hash, ProofError};
pub use witness::{Finding, WitnessCopy, WitnessError};
