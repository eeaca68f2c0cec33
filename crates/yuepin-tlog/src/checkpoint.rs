//! Signed checkpoints of a log (the credit log, the audit chain), in the C2SP `tlog-checkpoint`
//! text form inside a C2SP `signed-note`:
//!
//! ```text
//! yuepin.credit
//! 42
//! <base64 of the 32-byte root hash>
//! timestamp 2026-12-02T05:48:49Z
//!
//! — yuepin.credit <base64 of key id (4 bytes) || Ed25519 signature (64 bytes)>
//! ```
//!
//! The origin names the log (`yuepin.credit`, `yuepin.audit`) and is also the key's name.
//!
//! The first three lines are the origin, the tree size and the tree head; the fourth is an
//! extension line with the time the platform signed it (UTC). The signature covers the body
//! (every line up to and including the last body newline). The key id is the first four bytes
//! of `SHA-256(name || "\n" || 0x01 || public key)`, as the signed-note spec defines it for
//! Ed25519, so a witness that knows our public key finds our line among cosignatures.

use crate::merkle::Hash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// What a checkpoint states: the log's size and head at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// When the platform signed it (whole seconds, UTC).
    pub timestamp: DateTime<Utc>,
}

/// A checkpoint with the platform's signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub key_name: String,
    pub key_id: [u8; 4],
    pub signature: [u8; 64],
}

/// Why a checkpoint text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text does not have the checkpoint's shape (the part named).
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    /// No signature line by the expected key (name and key id).
    #[error("no signature by {0}")]
    NoSignature(String),
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
}

/// The signed-note key id of an Ed25519 key under `name`.
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n\x01");
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

impl Checkpoint {
    /// A checkpoint of the log named `origin`; the time is cut to whole seconds.
    pub fn new(origin: &str, size: u64, root: Hash, timestamp: DateTime<Utc>) -> Self {
        let timestamp =
            DateTime::from_timestamp(timestamp.timestamp(), 0).unwrap_or(DateTime::UNIX_EPOCH);
        Self {
            origin: origin.to_string(),
            size,
            root,
            timestamp,
        }
    }

    /// The note body the signature covers.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\ntimestamp {}\n",
            self.origin,
            self.size,
            B64.encode(self.root.0),
            self.timestamp.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }

    /// Signs the body with the log's key, whose public half is `vk` and whose signing function
    /// is `sign` (Ed25519 over the message; the note's key name is the origin).
    pub fn sign_with(
        &self,
        vk: &VerifyingKey,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> SignedCheckpoint {
        SignedCheckpoint {
            checkpoint: self.clone(),
            key_name: self.origin.clone(),
            key_id: key_id(&self.origin, vk),
            signature: sign(self.body().as_bytes()),
        }
    }

    fn parse_body(body: &str) -> Result<Self, CheckpointError> {
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|s| !s.is_empty())
            .ok_or(CheckpointError::Malformed("origin"))?;
        let size: u64 = lines
            .next()
            .and_then(|s| {
                // Decimal without leading zeros or signs.
                (s == "0" || (!s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())))
                    .then(|| s.parse().ok())
                    .flatten()
            })
            .ok_or(CheckpointError::Malformed("size"))?;
        let root = lines
            .next()
            .and_then(|s| B64.decode(s).ok())
            .and_then(|b| Hash::from_slice(&b))
            .ok_or(CheckpointError::Malformed("root"))?;
        let timestamp = lines
            .next()
            .and_then(|s| s.strip_prefix("timestamp "))
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or(CheckpointError::Malformed("timestamp"))?;
        // The body ends with a newline, so the split leaves one empty piece and nothing else.
        if lines.next() != Some("") || lines.next().is_some() {
            return Err(CheckpointError::Malformed("extension lines"));
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
            timestamp,
        })
    }
}

impl SignedCheckpoint {
    /// The note text: body, blank line, signature line.
    pub fn to_text(&self) -> String {
        let mut sig = Vec::with_capacity(68);
        sig.extend_from_slice(&self.key_id);
        sig.extend_from_slice(&self.signature);
        format!(
            "{}\n\u{2014} {} {}\n",
            self.checkpoint.body(),
            self.key_name,
            B64.encode(sig)
        )
    }

    /// Parses a note and picks the signature line of `key_name` with `key`'s key id (other
    /// lines, such as witnesses' cosignatures, are ignored). Does not verify: see
    /// [`SignedCheckpoint::verify`].
    pub fn parse(text: &str, key_name: &str, key: &VerifyingKey) -> Result<Self, CheckpointError> {
        let (body, sigs) = text
            .split_once("\n\n")
            .ok_or(CheckpointError::Malformed("blank line"))?;
        let body = format!("{body}\n");
        let checkpoint = Checkpoint::parse_body(&body)?;
        let want = key_id(key_name, key);
        for line in sigs.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(CheckpointError::Malformed("signature line"));
            };
            let Some((name, b64)) = rest.split_once(' ') else {
                return Err(CheckpointError::Malformed("signature line"));
            };
            let raw = B64
                .decode(b64)
                .map_err(|_| CheckpointError::Malformed("signature"))?;
            if name != key_name || raw.len() != 68 || raw[..4] != want {
                continue;
            }
            let mut signature = [0u8; 64];
            signature.copy_from_slice(&raw[4..]);
            return Ok(Self {
                checkpoint,
                key_name: name.to_string(),
                key_id: want,
                signature,
            });
        }
        Err(CheckpointError::NoSignature(key_name.to_string()))
    }

    /// Checks the signature with the platform's published log key.
    pub fn verify(&self, key: &VerifyingKey) -> Result<&Checkpoint, CheckpointError> {
        if self.key_id != key_id(&self.key_name, key) {
            return Err(CheckpointError::NoSignature(self.key_name.clone()));
        }
        key.verify(
            self.checkpoint.body().as_bytes(),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| CheckpointError::BadSignature)?;
        Ok(&self.checkpoint)
    }

    /// Parses and verifies in one step, for a log named `origin` (a note of another log, even
    /// one signed by the same key, is refused as `Malformed("origin")`).
    pub fn open(
        text: &str,
        origin: &str,
        key: &VerifyingKey,
    ) -> Result<Checkpoint, CheckpointError> {
        let signed = Self::parse(text, origin, key)?;
        if signed.checkpoint.origin != origin {
            return Err(CheckpointError::Malformed("origin"));
        }
        signed.verify(key)?;
        Ok(signed.checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root};
    use ed25519_dalek::{Signer, SigningKey};

    const ORIGIN: &str = "yuepin.credit";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    trait Sign {
        fn sign_cp(&self, cp: &Checkpoint) -> SignedCheckpoint;
    }
    impl Sign for SigningKey {
        fn sign_cp(&self, cp: &Checkpoint) -> SignedCheckpoint {
            cp.sign_with(&self.verifying_key(), |m| self.sign(m).to_bytes())
        }
    }

    fn sample() -> Checkpoint {
        let leaves: Vec<_> = (0..5u8).map(|i| leaf_hash(&[i])).collect();
        let t = DateTime::parse_from_rfc3339("2026-12-02T05:48:49.700Z")
            .unwrap()
            .with_timezone(&Utc);
        Checkpoint::new(ORIGIN, 5, root(&leaves), t)
    }

    #[test]
    fn round_trips_and_verifies() {
        let k = key(1);
        let signed = k.sign_cp(&sample());
        let text = signed.to_text();
        assert!(text.starts_with("yuepin.credit\n5\n"));
        assert!(text.contains("\ntimestamp 2026-12-02T05:48:49Z\n\n\u{2014} yuepin.credit "));
        let opened = SignedCheckpoint::open(&text, ORIGIN, &k.verifying_key()).unwrap();
        assert_eq!(opened, sample());
    }

    #[test]
    fn altered_text_or_other_key_fails() {
        let k = key(1);
        let text = k.sign_cp(&sample()).to_text();
        let vk = k.verifying_key();
        let altered = text.replacen("\n5\n", "\n6\n", 1);
        assert_eq!(
            SignedCheckpoint::open(&altered, ORIGIN, &vk),
            Err(CheckpointError::BadSignature)
        );
        let other = key(2).verifying_key();
        assert!(matches!(
            SignedCheckpoint::open(&text, ORIGIN, &other),
            Err(CheckpointError::NoSignature(_))
        ));
        let garbage = text.replacen("timestamp", "time", 1);
        assert_eq!(
            SignedCheckpoint::open(&garbage, ORIGIN, &vk),
            Err(CheckpointError::Malformed("timestamp"))
        );
    }

    #[test]
    fn cosignature_lines_are_skipped() {
        let k = key(1);
        let w = key(3);
        let mut text = k.sign_cp(&sample()).to_text();
        // A witness's line before ours.
        let witness = Checkpoint {
            origin: "witness.example".into(),
            ..sample()
        };
        let witness = w.sign_cp(&witness);
        let wline = witness.to_text();
        let wline = wline.lines().last().unwrap();
        let at = text.find("\n\n").unwrap() + 2;
        text.insert_str(at, &format!("{wline}\n"));
        assert!(SignedCheckpoint::open(&text, ORIGIN, &k.verifying_key()).is_ok());
    }
}
