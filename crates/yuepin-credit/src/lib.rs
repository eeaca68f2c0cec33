//! Quality credit for Guangdong's manufacturers (粤市监〔2023〕74号 measures 6, 18, 19 and
//! 24): the pure parts of the credit capability.
//!
//! - [`merkle`]: the RFC 6962 / RFC 9162 Merkle tree of the credit log (tree heads, inclusion
//!   and consistency proofs and their verification), shared with the audit chain
//!   (`yuepin-tlog`);
//! - [`checkpoint`]: the log's signed checkpoints in the C2SP `tlog-checkpoint` text form
//!   (`yuepin-tlog`'s, under the origin `yuepin.credit`);
//! - [`consent`]: the consent a bank fetches under, its status state machine and fetch rules;
//! - [`artefact`]: the consent artefact the platform signs (COSE_Sign1, Ed25519) and the JWK
//!   banks verify it with;
//! - [`rating`]: the dated, versioned rating model and the explainable grade.
//!
//! No files, network, database or clock: "now" and "today" are arguments.

pub mod artefact;
pub mod checkpoint;
pub mod consent;
pub use yuepin_tlog::merkle;
pub mod rating;

pub use artefact::{jwk, sign_json, verify_json, Artefact, ArtefactError};
pub use checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint, ORIGIN};
pub use consent::{
    BankRef, Categories, Consent, ConsentId, DataCategory, DateRange, Event, FetchRefused,
    IllegalTransition, Purpose, State, Status, Terms, TermsError, TermsRequest,
};
pub use merkle::{Hash, ProofError};
pub use rating::{grade, Contribution, Fact, Factor, Grade, Grading, Model, ModelError};
