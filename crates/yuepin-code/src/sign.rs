//! The detached COSE_Sign1 (RFC 9052, EdDSA/Ed25519) carried in `?s=`.
//!
//! Protected header: `{4: kid, "c": h'DDDD IIIIIIII'}` — a 6-byte claims string: issue day as
//! big-endian u16 days since 1970-01-01, then the big-endian u32 global status index
//! ([`StatusRef::global_index`]). Packed rather than a CBOR array to save the 2 bytes that keep
//! the longest code within QR version 10-M. The payload is nil
//! in the structure; the verifier reconstructs it as the UTF-8 bytes of the URI without `?s=`.
//! `alg` is omitted on purpose (the key set fixes EdDSA per kid), saving the bytes that keep the
//! longest code within QR version 10-M.

use crate::error::ParseError;
use crate::keys::PrivateKey;
use crate::status::StatusRef;
use crate::uri::CodeUri;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use chrono::NaiveDate;
use coset::cbor::value::Value;
use coset::{
    iana, CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, Label,
    RegisteredLabelWithPrivate,
};

/// Text label of the claims array in the protected header.
pub const CLAIMS_LABEL: &str = "c";

/// Longest accepted `s` value; a real one is about 114 characters.
const MAX_SIGNATURE_B64: usize = 256;

/// What the signature states about a code besides its URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeClaims {
    pub issued_on: NaiveDate,
    pub status: StatusRef,
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Days since 1970-01-01, clamped to the u16 range (1970..=2149).
pub fn day_number(date: NaiveDate) -> u16 {
    u16::try_from((date - epoch()).num_days().max(0)).unwrap_or(u16::MAX)
}

/// Length of the packed claims byte string.
pub const CLAIMS_LEN: usize = 6;

fn pack_claims(claims: &CodeClaims) -> [u8; CLAIMS_LEN] {
    let mut packed = [0u8; CLAIMS_LEN];
    packed[..2].copy_from_slice(&day_number(claims.issued_on).to_be_bytes());
    packed[2..].copy_from_slice(&claims.status.global_index().to_be_bytes());
    packed
}

fn date_from_day_number(days: u16) -> Option<NaiveDate> {
    epoch().checked_add_signed(chrono::TimeDelta::try_days(i64::from(days))?)
}

/// The protected header and the bytes to be signed for a code.
fn protected_header(kid: &str, claims: &CodeClaims) -> coset::Header {
    HeaderBuilder::new()
        .key_id(kid.as_bytes().to_vec())
        .text_value(
            CLAIMS_LABEL.to_string(),
            Value::Bytes(pack_claims(claims).to_vec()),
        )
        .build()
}

/// Signs `code` with `claims`; returns the base64url `s` value.
pub fn sign_code(code: &CodeUri, claims: &CodeClaims, key: &PrivateKey) -> String {
    let payload = code.unsigned();
    sign_payload(payload.as_bytes(), claims, key)
}

pub(crate) fn sign_payload(payload: &[u8], claims: &CodeClaims, key: &PrivateKey) -> String {
    let sign1 = CoseSign1Builder::new()
        .protected(protected_header(key.kid().as_str(), claims))
        .create_detached_signature(payload, &[], |tbs| key.sign(tbs).to_vec())
        .build();
    // Serializing a structure we just built from integers and byte strings cannot fail.
    B64.encode(sign1.to_vec().unwrap_or_default())
}

/// A decoded `s` value, not yet checked against any key.
#[derive(Debug, Clone)]
pub struct DecodedSignature {
    pub kid: String,
    pub claims: CodeClaims,
    pub signature: [u8; 64],
    sign1: CoseSign1,
}

impl DecodedSignature {
    /// The exact bytes the signature must cover (RFC 9052 Sig_structure, detached payload).
    pub fn to_be_signed(&self, code: &CodeUri) -> Vec<u8> {
        self.sign1
            .tbs_detached_data(code.unsigned().as_bytes(), &[])
    }
}

fn malformed(reason: impl Into<String>) -> ParseError {
    ParseError::new("signature", reason)
}

/// Decodes and structurally checks the base64url COSE_Sign1 from `?s=`.
pub fn decode_signature(signature_b64: &str) -> Result<DecodedSignature, ParseError> {
    if signature_b64.len() > MAX_SIGNATURE_B64 {
        return Err(malformed("longer than 256 characters"));
    }
    let bytes = B64
        .decode(signature_b64)
        .map_err(|e| malformed(format!("not base64url without padding: {e}")))?;
    let sign1 =
        CoseSign1::from_slice(&bytes).map_err(|e| malformed(format!("not a COSE_Sign1: {e}")))?;
    // One encoding per code: a lenient decoder also takes `undefined` for the nil payload or
    // non-minimal lengths, which would give one signed code several printed forms (and make
    // "a changed byte never verifies" false). The canonical form is what `sign_code` writes.
    let canonical = sign1
        .clone()
        .to_vec()
        .map_err(|e| malformed(format!("not a COSE_Sign1: {e}")))?;
    if canonical != bytes {
        return Err(malformed("not in the canonical COSE_Sign1 encoding"));
    }
    if sign1.payload.is_some() {
        return Err(malformed("payload must be detached (nil)"));
    }
    if !sign1.unprotected.is_empty() {
        return Err(malformed("unprotected header must be empty"));
    }
    let header = &sign1.protected.header;
    if let Some(alg) = &header.alg {
        if *alg != RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA) {
            return Err(malformed("alg must be EdDSA when present"));
        }
    }
    let kid =
        String::from_utf8(header.key_id.clone()).map_err(|_| malformed("kid is not UTF-8"))?;
    if kid.is_empty() {
        return Err(malformed("kid missing"));
    }
    let claims_value = header
        .rest
        .iter()
        .find(|(label, _)| *label == Label::Text(CLAIMS_LABEL.to_string()))
        .map(|(_, value)| value)
        .ok_or_else(|| malformed("claims \"c\" missing from protected header"))?;
    let packed: [u8; CLAIMS_LEN] = match claims_value {
        Value::Bytes(bytes) => bytes
            .as_slice()
            .try_into()
            .map_err(|_| malformed("claims must be 6 bytes"))?,
        _ => return Err(malformed("claims must be a byte string")),
    };
    let day = u16::from_be_bytes([packed[0], packed[1]]);
    let index = u32::from_be_bytes([packed[2], packed[3], packed[4], packed[5]]);
    let issued_on = date_from_day_number(day).ok_or_else(|| malformed("issue day out of range"))?;
    let status = StatusRef::from_global_index(index).map_err(|e| malformed(e.to_string()))?;
    let signature: [u8; 64] = sign1
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| malformed("Ed25519 signature must be 64 bytes"))?;
    Ok(DecodedSignature {
        kid,
        claims: CodeClaims { issued_on, status },
        signature,
        sign1,
    })
}
