//! The credit log's signed checkpoints: the shared C2SP checkpoint of `yuepin-tlog` under the
//! origin `yuepin.credit`, signed with the credit key (`yuepin_code::PrivateKey`).

pub use yuepin_tlog::checkpoint::*;

use crate::merkle::Hash;
use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use yuepin_code::PrivateKey;

/// The log's origin line and the name of its signing key.
pub const ORIGIN: &str = "yuepin.credit";

/// The credit log's checkpoint of `size` leaves with head `root` at `timestamp`.
pub fn credit_checkpoint(size: u64, root: Hash, timestamp: DateTime<Utc>) -> Checkpoint {
    Checkpoint::new(ORIGIN, size, root, timestamp)
}

/// Signs a checkpoint with a platform key (the credit key, the audit key).
pub fn sign(checkpoint: &Checkpoint, key: &PrivateKey) -> SignedCheckpoint {
    checkpoint.sign_with(&key.verifying_key(), |m| key.sign_message(m))
}

/// Parses and verifies a credit-log checkpoint.
pub fn open(text: &str, key: &VerifyingKey) -> Result<Checkpoint, CheckpointError> {
    SignedCheckpoint::open(text, ORIGIN, key)
}
