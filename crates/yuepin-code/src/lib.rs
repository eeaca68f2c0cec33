//! 粤品通 product quality credit code (粤市监〔2023〕74号 quality-traceability measures): signed GS1
//! Digital Link URIs, key sets with rotation, IETF-style status lists, offline verification,
//! batch issuance and QR images (label sheets are laid out by `yuepin-codes-service` on the
//! platform's PDF module).
//!
//! Pure library: no database, network or clock. The only file access is in [`keys_fs`].

pub mod error;
pub mod issue;
pub mod keyring;
pub mod keys;
pub mod keys_fs;
pub mod qr;
pub mod sign;
pub mod status;
pub mod uri;
pub mod verify;

pub use error::{CodeError, ParseError};
pub use issue::{issue_batch, issue_many, issue_one, write_csv, BatchSpec, IssuedCode, CSV_HEADER};
pub use keyring::{KeyRecord, KeyRing, RootKeyDocument};
pub use keys::{KeySet, KeyStatus, Kid, PrivateKey, PublicKey, SignedKeySet};
pub use sign::{decode_signature, sign_code, CodeClaims, DecodedSignature};
pub use status::{
    CodeStatus, IndexAllocator, RevocationDetail, StatusList, StatusListObject, StatusRef,
    LIST_CAPACITY,
};
pub use uri::{CodeUri, Lot, ProductId, Resolver, Serial, SignedUri, Subject};
pub use verify::{verify, verify_detailed, CodeDetails, Verdict, Verification};
