//! Status lists: 2 bits per code (0 valid, 1 suspended, 2 revoked, 3 recalled), encoded like the
//! IETF Token Status List (`bits`, `lst` = base64url of zlib-deflated bytes, LSB-first), signed as a
//! compact JWT (`typ` `statuslist+jwt`, EdDSA) so offline verifiers can trust a cached copy.
//! Also the random (non-sequential) allocation of list positions to new codes.

use crate::error::{CodeError, ParseError};
use crate::keys::{KeySet, KeyStatus, PrivateKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use rand::{Rng as _, RngCore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};

/// Entries per list (the brief's minimum, 2^17). Fixed so one integer addresses list and position.
pub const LIST_CAPACITY: u32 = 131_072;
/// Number of addressable lists: global index = list_id × capacity + position < 2^32.
pub const MAX_LISTS: u32 = 32_768;
const BITS_PER_ENTRY: u8 = 2;
const LIST_BYTES: usize = (LIST_CAPACITY as usize) / 4;
/// Upper bound on an inflated list, so a hostile token cannot exhaust memory.
const MAX_INFLATED: u64 = LIST_BYTES as u64;

/// Where a code's status lives: list id and position within that list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusRef {
    list_id: u32,
    position: u32,
}

impl StatusRef {
    pub fn new(list_id: u32, position: u32) -> Result<Self, ParseError> {
        if list_id >= MAX_LISTS {
            return Err(ParseError::new(
                "status.list_id",
                format!("must be < {MAX_LISTS}, got {list_id}"),
            ));
        }
        if position >= LIST_CAPACITY {
            return Err(ParseError::new(
                "status.position",
                format!("must be < {LIST_CAPACITY}, got {position}"),
            ));
        }
        Ok(Self { list_id, position })
    }

    pub fn from_global_index(index: u32) -> Result<Self, ParseError> {
        Self::new(index / LIST_CAPACITY, index % LIST_CAPACITY)
    }

    /// The single integer signed into the code: `list_id * LIST_CAPACITY + position`.
    pub fn global_index(&self) -> u32 {
        self.list_id * LIST_CAPACITY + self.position
    }
    pub fn list_id(&self) -> u32 {
        self.list_id
    }
    pub fn position(&self) -> u32 {
        self.position
    }
}

/// A code's status (the 2-bit value in the list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CodeStatus {
    Valid = 0,
    Suspended = 1,
    Revoked = 2,
    Recalled = 3,
}

impl CodeStatus {
    fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            0 => Self::Valid,
            1 => Self::Suspended,
            2 => Self::Revoked,
            _ => Self::Recalled,
        }
    }
}

/// Optional detail for a revoked code, kept beside the bits (not in the IETF token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevocationDetail {
    pub reason: Option<String>,
    pub since: Option<NaiveDate>,
}

/// One status list of [`LIST_CAPACITY`] entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    list_id: u32,
    issued_at: DateTime<Utc>,
    ttl_seconds: u64,
    bytes: Vec<u8>,
    details: BTreeMap<u32, RevocationDetail>,
}

impl StatusList {
    /// A list with every entry valid.
    pub fn new(
        list_id: u32,
        issued_at: DateTime<Utc>,
        ttl_seconds: u64,
    ) -> Result<Self, ParseError> {
        StatusRef::new(list_id, 0)?;
        Ok(Self {
            list_id,
            issued_at,
            ttl_seconds,
            bytes: vec![0; LIST_BYTES],
            details: BTreeMap::new(),
        })
    }

    pub fn list_id(&self) -> u32 {
        self.list_id
    }
    pub fn issued_at(&self) -> DateTime<Utc> {
        self.issued_at
    }
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }
    /// Marks a new snapshot time (call before signing a fresh token).
    pub fn reissue(&mut self, issued_at: DateTime<Utc>, ttl_seconds: u64) {
        self.issued_at = issued_at;
        self.ttl_seconds = ttl_seconds;
    }

    fn check(&self, status: StatusRef) -> Result<usize, CodeError> {
        if status.list_id != self.list_id {
            return Err(CodeError::StatusList {
                list_id: self.list_id,
                reason: format!("code belongs to list {}", status.list_id),
            });
        }
        Ok(status.position as usize)
    }

    pub fn set(&mut self, status_ref: StatusRef, status: CodeStatus) -> Result<(), CodeError> {
        let position = self.check(status_ref)?;
        let shift = (position % 4) * 2;
        let byte = &mut self.bytes[position / 4];
        *byte = (*byte & !(3 << shift)) | ((status as u8) << shift);
        if status != CodeStatus::Revoked {
            self.details.remove(&status_ref.position);
        }
        Ok(())
    }

    /// Revokes with an optional reason and date (returned in the verdict).
    pub fn revoke(
        &mut self,
        status_ref: StatusRef,
        detail: RevocationDetail,
    ) -> Result<(), CodeError> {
        self.set(status_ref, CodeStatus::Revoked)?;
        self.details.insert(status_ref.position, detail);
        Ok(())
    }

    pub fn get(&self, status_ref: StatusRef) -> Result<CodeStatus, CodeError> {
        let position = self.check(status_ref)?;
        Ok(CodeStatus::from_bits(
            self.bytes[position / 4] >> ((position % 4) * 2),
        ))
    }

    pub fn revocation_detail(&self, status_ref: StatusRef) -> Option<&RevocationDetail> {
        (status_ref.list_id == self.list_id)
            .then(|| self.details.get(&status_ref.position))
            .flatten()
    }

    /// Seconds since issue at `now`, and whether that exceeds the time-to-live.
    pub fn age_seconds(&self, now: DateTime<Utc>) -> i64 {
        (now - self.issued_at).num_seconds()
    }
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        self.age_seconds(now) > i64::try_from(self.ttl_seconds).unwrap_or(i64::MAX)
    }

    /// The IETF `status_list` object: `{"bits": 2, "lst": base64url(zlib(bytes))}`.
    pub fn encode(&self) -> StatusListObject {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(&self.bytes);
        let compressed = encoder.finish().unwrap_or_default();
        StatusListObject {
            bits: BITS_PER_ENTRY,
            lst: B64.encode(compressed),
        }
    }

    fn decode_bytes(list_id: u32, object: &StatusListObject) -> Result<Vec<u8>, CodeError> {
        let fail = |reason: &str| CodeError::StatusList {
            list_id,
            reason: reason.to_string(),
        };
        if object.bits != BITS_PER_ENTRY {
            return Err(fail("bits must be 2"));
        }
        let compressed = B64
            .decode(&object.lst)
            .map_err(|_| fail("lst is not base64url"))?;
        let mut bytes = Vec::with_capacity(LIST_BYTES);
        ZlibDecoder::new(compressed.as_slice())
            .take(MAX_INFLATED + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| fail("lst is not zlib data"))?;
        if bytes.len() != LIST_BYTES {
            return Err(fail(
                "lst must inflate to exactly 32768 bytes (131072 entries)",
            ));
        }
        Ok(bytes)
    }

    /// Signs the list as a status-list JWT with `key` (which must be in the verifiers' key set).
    pub fn to_signed_token(&self, subject_uri: &str, key: &PrivateKey) -> String {
        let header = TokenHeader {
            alg: "EdDSA".into(),
            kid: key.kid().to_string(),
            typ: "statuslist+jwt".into(),
        };
        let claims = TokenClaims {
            sub: subject_uri.to_string(),
            list_id: self.list_id,
            iat: self.issued_at.timestamp(),
            ttl: self.ttl_seconds,
            status_list: self.encode(),
        };
        let signing_input = format!(
            "{}.{}",
            B64.encode(serde_json::to_vec(&header).unwrap_or_default()),
            B64.encode(serde_json::to_vec(&claims).unwrap_or_default())
        );
        let signature = key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", B64.encode(signature))
    }

    /// Verifies a status-list JWT against the key set (key must not be withdrawn) and decodes it.
    pub fn from_signed_token(token: &str, keys: &KeySet) -> Result<Self, CodeError> {
        let fail = |reason: String| CodeError::StatusToken(reason);
        let mut parts = token.split('.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fail("must have three dot-separated parts".into()));
        };
        let header: TokenHeader = B64
            .decode(header_b64)
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .ok_or_else(|| fail("header is not base64url JSON".into()))?;
        if header.alg != "EdDSA" || header.typ != "statuslist+jwt" {
            return Err(fail(
                "header must have alg EdDSA and typ statuslist+jwt".into(),
            ));
        }
        let key = keys
            .find(&header.kid)
            .ok_or_else(|| fail(format!("unknown kid {}", header.kid)))?;
        if key.status == KeyStatus::Withdrawn {
            return Err(fail(format!("kid {} is withdrawn", header.kid)));
        }
        let signature: [u8; 64] = B64
            .decode(signature_b64)
            .ok()
            .and_then(|raw| raw.try_into().ok())
            .ok_or_else(|| fail("signature is not 64 base64url bytes".into()))?;
        let signing_input_len = header_b64.len() + 1 + claims_b64.len();
        let signing_input = token.get(..signing_input_len).unwrap_or_default();
        key.key
            .verify_strict(
                signing_input.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&signature),
            )
            .map_err(|_| fail("signature does not verify".into()))?;
        let claims: TokenClaims = B64
            .decode(claims_b64)
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .ok_or_else(|| fail("claims are not base64url JSON of a status list".into()))?;
        StatusRef::new(claims.list_id, 0).map_err(|e| fail(e.to_string()))?;
        let issued_at = DateTime::from_timestamp(claims.iat, 0)
            .ok_or_else(|| fail("iat out of range".into()))?;
        let bytes = Self::decode_bytes(claims.list_id, &claims.status_list)?;
        Ok(Self {
            list_id: claims.list_id,
            issued_at,
            ttl_seconds: claims.ttl,
            bytes,
            details: BTreeMap::new(),
        })
    }
}

/// The IETF Token Status List `status_list` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusListObject {
    pub bits: u8,
    pub lst: String,
}

#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct TokenHeader {
    alg: String,
    kid: String,
    typ: String,
}

#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct TokenClaims {
    sub: String,
    list_id: u32,
    iat: i64,
    ttl: u64,
    status_list: StatusListObject,
}

/// Hands out the unused positions of one list in random order, so indices leak no issue sequence.
#[derive(Debug, Clone)]
pub struct IndexAllocator {
    list_id: u32,
    /// Remaining free positions; the next one is drawn at random from it (swap-remove).
    free: Vec<u32>,
}

impl IndexAllocator {
    /// A fresh list: every position free.
    pub fn new(list_id: u32) -> Result<Self, ParseError> {
        Self::resume(list_id, std::iter::empty())
    }

    /// Continues a list whose `used` positions were already handed out (e.g. loaded from the store).
    pub fn resume(list_id: u32, used: impl IntoIterator<Item = u32>) -> Result<Self, ParseError> {
        StatusRef::new(list_id, 0)?;
        let mut taken = vec![false; LIST_CAPACITY as usize];
        for position in used {
            if let Some(slot) = taken.get_mut(position as usize) {
                *slot = true;
            }
        }
        let free = (0..LIST_CAPACITY).filter(|p| !taken[*p as usize]).collect();
        Ok(Self { list_id, free })
    }

    pub fn list_id(&self) -> u32 {
        self.list_id
    }
    pub fn remaining(&self) -> usize {
        self.free.len()
    }

    /// A random free position, or `ListFull`.
    pub fn allocate(&mut self, rng: &mut dyn RngCore) -> Result<StatusRef, CodeError> {
        if self.free.is_empty() {
            return Err(CodeError::ListFull {
                list_id: self.list_id,
                capacity: LIST_CAPACITY,
            });
        }
        let pick = rng.gen_range(0..self.free.len());
        let position = self.free.swap_remove(pick);
        Ok(StatusRef {
            list_id: self.list_id,
            position,
        })
    }
}
