//! Offline verification of a code URI against a key set and an optional cached status list.
//! No database, no network, no clock: `now` is an argument.

use crate::keys::{KeySet, KeyStatus};
use crate::sign::{decode_signature, CodeClaims};
use crate::status::{CodeStatus, StatusList};
use crate::uri::{CodeUri, SignedUri};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ed25519_dalek::Signature;

/// The outcome of checking one code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signature good, key usable, status list fresh and says valid.
    Valid,
    Revoked {
        reason: Option<String>,
        since: Option<NaiveDate>,
    },
    Suspended,
    Recalled,
    /// The signature does not cover this URI and claims (tampering), or the issue date
    /// precedes the key's `not_before`.
    SignatureInvalid,
    /// The kid is not in the key set.
    UnknownKey,
    /// The signing key was withdrawn: its codes no longer verify.
    KeyWithdrawn,
    /// Not a code URI of this scheme; the reason says which part.
    Malformed(String),
    /// The status list is older than its time-to-live; the code was valid or suspended in it.
    StatusStale {
        age: TimeDelta,
    },
    /// Signature good but no status list for this code was given.
    StatusUnknown,
}

/// What a successfully decoded code says about itself (present once the signature was checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeDetails {
    pub code: CodeUri,
    pub kid: String,
    pub claims: CodeClaims,
}

/// A verdict plus, when the signature verified, the decoded code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub verdict: Verdict,
    pub details: Option<CodeDetails>,
}

/// Checks a complete code URI. See [`verify_detailed`] for the decoded fields.
pub fn verify(
    uri: &str,
    keys: &KeySet,
    status: Option<&StatusList>,
    now: DateTime<Utc>,
) -> Verdict {
    verify_detailed(uri, keys, status, now).verdict
}

/// Checks a complete code URI and returns the decoded code when its signature verified.
///
/// A stale list still reports Revoked/Recalled, because those are final and a newer list cannot
/// undo them; Valid/Suspended from a stale list become `StatusStale`.
pub fn verify_detailed(
    uri: &str,
    keys: &KeySet,
    status: Option<&StatusList>,
    now: DateTime<Utc>,
) -> Verification {
    let unverified = |verdict| Verification {
        verdict,
        details: None,
    };
    let parsed = match SignedUri::parse(uri) {
        Ok(parsed) => parsed,
        Err(error) => return unverified(Verdict::Malformed(error.to_string())),
    };
    let decoded = match decode_signature(&parsed.signature_b64) {
        Ok(decoded) => decoded,
        Err(error) => return unverified(Verdict::Malformed(error.to_string())),
    };
    let Some(key) = keys.find(&decoded.kid) else {
        return unverified(Verdict::UnknownKey);
    };
    if key.status == KeyStatus::Withdrawn {
        return unverified(Verdict::KeyWithdrawn);
    }
    let to_be_signed = decoded.to_be_signed(&parsed.code);
    if key
        .key
        .verify_strict(&to_be_signed, &Signature::from_bytes(&decoded.signature))
        .is_err()
        || decoded.claims.issued_on < key.not_before
    {
        return unverified(Verdict::SignatureInvalid);
    }
    let details = CodeDetails {
        code: parsed.code,
        kid: decoded.kid,
        claims: decoded.claims,
    };
    let verdict = status_verdict(&decoded.claims, status, now);
    Verification {
        verdict,
        details: Some(details),
    }
}

fn status_verdict(claims: &CodeClaims, list: Option<&StatusList>, now: DateTime<Utc>) -> Verdict {
    let Some(list) = list.filter(|list| list.list_id() == claims.status.list_id()) else {
        return Verdict::StatusUnknown;
    };
    let Ok(status) = list.get(claims.status) else {
        return Verdict::StatusUnknown;
    };
    match status {
        CodeStatus::Revoked => {
            let detail = list.revocation_detail(claims.status);
            Verdict::Revoked {
                reason: detail.and_then(|d| d.reason.clone()),
                since: detail.and_then(|d| d.since),
            }
        }
        CodeStatus::Recalled => Verdict::Recalled,
        _ if list.is_stale(now) => Verdict::StatusStale {
            age: TimeDelta::seconds(list.age_seconds(now)),
        },
        CodeStatus::Suspended => Verdict::Suspended,
        CodeStatus::Valid => Verdict::Valid,
    }
}
