//! The witness copy of a log: a signed checkpoint kept outside the platform's database, with
//! (optionally) the entry hashes it covers, and the check of a log's current entries against it.
//!
//! ```text
//! yuepin.audit
//! 380
//! <base64 root>
//! timestamp 2026-12-02T05:48:49Z
//!
//! — yuepin.audit <base64 key id || signature>
//!
//! entries 380
//! <hex of entry 1's 32-byte hash>
//! …
//! ```
//!
//! The first part is the C2SP signed note; a witness that keeps only that part can still tell
//! a rewrite (the prefix's root differs) or dropped entries, but not where. With the entry
//! hashes (which must hash to the signed root, so they are covered by the signature), the check
//! names the first entry that differs. Entries are 32-byte digests (the audit chain's row
//! hashes); their Merkle leaves are `leaf_hash(entry)`.

use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::merkle::{leaf_hash, root, Hash};
use ed25519_dalek::VerifyingKey;

/// A parsed and verified witness copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessCopy {
    pub checkpoint: Checkpoint,
    /// The entry hashes, when the copy keeps them (then exactly `checkpoint.size` of them).
    pub entries: Option<Vec<Hash>>,
}

/// Why a witness copy is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The entries section is malformed (the line named, 1-based within the section).
    #[error("malformed entries section at line {0}")]
    Entries(usize),
    /// The kept entries do not hash to the signed root or are not `size` many: the copy
    /// itself was altered.
    #[error("the kept entries do not match the signed checkpoint")]
    EntriesMismatch,
}

/// What a log's current entries say against a kept checkpoint of `size` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The first `size` entries are the ones checkpointed; `newer` entries came after.
    Consistent { size: u64, newer: u64 },
    /// The entries differ from the checkpointed ones; `first` is the 1-based number of the
    /// first that differs (`None` when the copy keeps no entry hashes: somewhere in 1..=size).
    Rewritten { first: Option<u64>, size: u64 },
    /// Only `present` of the `size` checkpointed entries remain (the ones kept are unchanged,
    /// as far as the copy can tell); entries `present + 1..=size` were dropped.
    Dropped { present: u64, size: u64 },
}

/// The Merkle root of entries (leaves `leaf_hash(entry)`).
pub fn entries_root(entries: &[Hash]) -> Hash {
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(&e.0)).collect();
    root(&leaves)
}

/// The witness copy's text: the signed note, then the entry hashes.
pub fn to_text(signed: &SignedCheckpoint, entries: &[Hash]) -> String {
    let mut out = signed.to_text();
    out.reserve(entries.len() * 65 + 32);
    out.push_str(&format!("\nentries {}\n", entries.len()));
    for e in entries {
        out.push_str(&e.to_hex());
        out.push('\n');
    }
    out
}

impl WitnessCopy {
    /// Parses a copy (the note alone or the note with its entries) of the log `origin`,
    /// verifies the note's signature with `key` and the entries against the signed root.
    pub fn open(text: &str, origin: &str, key: &VerifyingKey) -> Result<Self, WitnessError> {
        // The note is the body, a blank line and the signature lines, up to the next blank line.
        let body_end = text
            .find("\n\n")
            .ok_or(CheckpointError::Malformed("blank line"))?;
        let (note, rest) = match text[body_end + 2..].find("\n\n") {
            Some(i) => {
                let end = body_end + 2 + i + 1;
                (&text[..end], Some(&text[end + 1..]))
            }
            None => (text, None),
        };
        let checkpoint = SignedCheckpoint::open(note, origin, key)?;
        let entries = match rest {
            None => None,
            Some(section) => Some(parse_entries(section)?),
        };
        if let Some(e) = &entries {
            if e.len() as u64 != checkpoint.size || entries_root(e) != checkpoint.root {
                return Err(WitnessError::EntriesMismatch);
            }
        }
        Ok(Self {
            checkpoint,
            entries,
        })
    }

    /// Checks the log's current entries (in order, from the first) against this copy.
    pub fn check(&self, current: &[Hash]) -> Finding {
        let size = self.checkpoint.size;
        let have = current.len() as u64;
        match &self.entries {
            Some(kept) => {
                if let Some(i) = kept.iter().zip(current).position(|(a, b)| a != b) {
                    return Finding::Rewritten {
                        first: Some(i as u64 + 1),
                        size,
                    };
                }
            }
            None if have >= size
                && entries_root(&current[..size as usize]) != self.checkpoint.root =>
            {
                return Finding::Rewritten { first: None, size };
            }
            None => {}
        }
        if have < size {
            Finding::Dropped {
                present: have,
                size,
            }
        } else {
            Finding::Consistent {
                size,
                newer: have - size,
            }
        }
    }
}

fn parse_entries(section: &str) -> Result<Vec<Hash>, WitnessError> {
    let mut lines = section.lines();
    let n: usize = lines
        .next()
        .and_then(|l| l.strip_prefix("entries "))
        .and_then(|n| n.parse().ok())
        .ok_or(WitnessError::Entries(1))?;
    let mut out = Vec::with_capacity(n.min(1 << 24));
    for (i, line) in lines.enumerate() {
        out.push(Hash::from_hex(line).ok_or(WitnessError::Entries(i + 2))?);
    }
    if out.len() != n {
        return Err(WitnessError::Entries(out.len() + 2));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use ed25519_dalek::{Signer, SigningKey};

    const ORIGIN: &str = "yuepin.audit";

    fn entries(n: u8) -> Vec<Hash> {
        (0..n).map(|i| Hash([i; 32])).collect()
    }

    fn copy(key: &SigningKey, e: &[Hash], keep: bool) -> String {
        let cp = Checkpoint::new(
            ORIGIN,
            e.len() as u64,
            entries_root(e),
            DateTime::UNIX_EPOCH,
        );
        let signed = cp.sign_with(&key.verifying_key(), |m| key.sign(m).to_bytes());
        if keep {
            to_text(&signed, e)
        } else {
            signed.to_text()
        }
    }

    #[test]
    fn names_the_first_rewritten_entry_and_dropped_ones() {
        let k = SigningKey::from_bytes(&[7; 32]);
        let vk = k.verifying_key();
        let e = entries(10);
        let w = WitnessCopy::open(&copy(&k, &e, true), ORIGIN, &vk).unwrap();
        assert_eq!(w.check(&e), Finding::Consistent { size: 10, newer: 0 });
        let mut more = e.clone();
        more.push(Hash([99; 32]));
        assert_eq!(w.check(&more), Finding::Consistent { size: 10, newer: 1 });
        // Entry 4 changed and every later one recomputed.
        let mut re = e.clone();
        for h in &mut re[3..] {
            h.0[0] ^= 0xff;
        }
        assert_eq!(
            w.check(&re),
            Finding::Rewritten {
                first: Some(4),
                size: 10
            }
        );
        assert_eq!(
            w.check(&e[..9]),
            Finding::Dropped {
                present: 9,
                size: 10
            }
        );
        // The note alone detects both, naming no entry.
        let note = WitnessCopy::open(&copy(&k, &e, false), ORIGIN, &vk).unwrap();
        assert_eq!(note.entries, None);
        assert_eq!(
            note.check(&re),
            Finding::Rewritten {
                first: None,
                size: 10
            }
        );
        assert_eq!(
            note.check(&e[..9]),
            Finding::Dropped {
                present: 9,
                size: 10
            }
        );
        assert_eq!(
            note.check(&more),
            Finding::Consistent { size: 10, newer: 1 }
        );
    }

    #[test]
    fn an_altered_copy_or_another_key_is_refused() {
        let k = SigningKey::from_bytes(&[7; 32]);
        let vk = k.verifying_key();
        let e = entries(5);
        let text = copy(&k, &e, true);
        let altered = text.replacen(&e[2].to_hex(), &Hash([42; 32]).to_hex(), 1);
        assert_eq!(
            WitnessCopy::open(&altered, ORIGIN, &vk),
            Err(WitnessError::EntriesMismatch)
        );
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(matches!(
            WitnessCopy::open(&text, ORIGIN, &other),
            Err(WitnessError::Checkpoint(CheckpointError::NoSignature(_)))
        ));
        assert!(matches!(
            WitnessCopy::open(&text, "yuepin.credit", &vk),
            Err(WitnessError::Checkpoint(_))
        ));
        let cut = text.replacen("entries 5", "entries 6", 1);
        assert_eq!(
            WitnessCopy::open(&cut, ORIGIN, &vk),
            Err(WitnessError::Entries(7))
        );
    }
}
