//! The signed consent artefact: the consent's terms as JSON inside a tagged COSE_Sign1
//! (RFC 9052, EdDSA/Ed25519, embedded payload), so the bank verifies offline with the
//! platform's published key (a JWK, [`jwk`]) what the enterprise allowed.
//!
//! Protected header: `{1: -8 (EdDSA), 3: "application/json", 4: kid}`. The payload is the
//! [`Artefact`] serialised by `serde_json` in its field order (one byte form per consent).
//! Times are China time with their offset (`2026-12-02T13:48:49+08:00`).

use crate::consent::{BankRef, Consent, ConsentId, DataCategory, Purpose};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use coset::{
    iana, CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable,
};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use yuepin_code::PrivateKey;
use yuepin_domain::Uscc;

/// The artefact's format version.
pub const ARTEFACT_VERSION: &str = "yuepin.credit.consent/1";

/// What the platform signs for a consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Artefact {
    pub ver: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub consent_id: ConsentId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub enterprise: Uscc,
    pub enterprise_name: String,
    pub bank: BankRef,
    pub purpose: Purpose,
    pub categories: Vec<DataCategory>,
    pub data_from: NaiveDate,
    pub data_to: NaiveDate,
    pub max_fetches: u32,
    pub min_interval_minutes: u32,
    pub retention_days: u32,
    /// RFC 3339 with the +08:00 offset.
    pub granted_at: String,
    pub expires_at: String,
}

/// Why an artefact does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArtefactError {
    #[error("not base64url")]
    Encoding,
    #[error("not a tagged COSE_Sign1")]
    Cose,
    /// The header is not EdDSA, or names another key.
    #[error("unexpected header: {0}")]
    Header(&'static str),
    #[error("bad signature")]
    BadSignature,
    #[error("the payload is not an artefact")]
    Payload,
}

fn china(t: NaiveDateTime) -> String {
    // UTC+8 is a valid offset.
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    offset
        .from_local_datetime(&t)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        .unwrap_or_default()
}

impl Artefact {
    /// The artefact of a consent.
    pub fn of(consent: &Consent, enterprise_name: &str) -> Self {
        let t = &consent.terms;
        Self {
            ver: ARTEFACT_VERSION.to_string(),
            consent_id: consent.id.clone(),
            enterprise: consent.enterprise.clone(),
            enterprise_name: enterprise_name.to_string(),
            bank: consent.bank.clone(),
            purpose: t.purpose,
            categories: t.categories.iter().collect(),
            data_from: t.data_range.from(),
            data_to: t.data_range.to(),
            max_fetches: t.max_fetches,
            min_interval_minutes: t.min_interval_minutes,
            retention_days: t.retention_days,
            granted_at: china(t.granted_at),
            expires_at: china(t.expires_at),
        }
    }

    /// The payload bytes.
    pub fn payload(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Signs it: the base64url (no padding) of the tagged COSE_Sign1.
    pub fn sign(&self, key: &PrivateKey) -> String {
        sign_json(&self.payload(), key)
    }

    /// Verifies a signed artefact with the key published under `kid`.
    pub fn verify(signed: &str, kid: &str, key: &VerifyingKey) -> Result<Self, ArtefactError> {
        let payload = verify_json(signed, kid, key)?;
        serde_json::from_slice(&payload).map_err(|_| ArtefactError::Payload)
    }
}

/// Signs JSON bytes as a tagged COSE_Sign1 (EdDSA, content type `application/json`, the
/// key's kid), base64url without padding. Consent artefacts and credit reports use it.
pub fn sign_json(payload: &[u8], key: &PrivateKey) -> String {
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .content_type("application/json".to_string())
        .key_id(key.kid().as_str().as_bytes().to_vec())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload.to_vec())
        .create_signature(&[], |tbs| key.sign_message(tbs).to_vec())
        .build();
    B64.encode(sign1.to_tagged_vec().unwrap_or_default())
}

/// Verifies what [`sign_json`] made with the key published under `kid`; returns the payload.
pub fn verify_json(signed: &str, kid: &str, key: &VerifyingKey) -> Result<Vec<u8>, ArtefactError> {
    let bytes = B64
        .decode(signed.trim())
        .map_err(|_| ArtefactError::Encoding)?;
    let sign1 = CoseSign1::from_tagged_slice(&bytes).map_err(|_| ArtefactError::Cose)?;
    let h = &sign1.protected.header;
    if h.alg
        != Some(coset::RegisteredLabelWithPrivate::Assigned(
            iana::Algorithm::EdDSA,
        ))
    {
        return Err(ArtefactError::Header("alg"));
    }
    if h.key_id != kid.as_bytes() {
        return Err(ArtefactError::Header("kid"));
    }
    sign1
        .verify_signature(&[], |sig, tbs| {
            let sig: [u8; 64] = sig.try_into().map_err(|_| ())?;
            key.verify(tbs, &Signature::from_bytes(&sig))
                .map_err(|_| ())
        })
        .map_err(|()| ArtefactError::BadSignature)?;
    sign1.payload.ok_or(ArtefactError::Payload)
}

/// The public key as a JWK (RFC 8037: `kty` OKP, `crv` Ed25519), as published for banks.
pub fn jwk(kid: &str, key: &VerifyingKey) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": kid,
        "x": B64.encode(key.as_bytes()),
    })
}

/// The base64url COSE_Sign1 without the tag, for tools that want the bare structure.
pub fn untagged(signed: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(signed.trim()).ok()?;
    CoseSign1::from_tagged_slice(&bytes).ok()?.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{Categories, DateRange, Terms, TermsRequest};
    use rand::SeedableRng;
    use yuepin_code::Kid;

    fn key(seed: u64) -> PrivateKey {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        PrivateKey::generate(Kid::parse("C1").unwrap(), &mut rng)
    }

    fn consent() -> Consent {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let now =
            NaiveDateTime::parse_from_str("2026-12-02 13:48:49", "%Y-%m-%d %H:%M:%S").unwrap();
        let terms = Terms::grant(
            &TermsRequest {
                purpose: Purpose::IpPledgeLoan,
                categories: Categories::parse(["grade", "lab_reports"]).unwrap(),
                data_range: DateRange::new(d("2024-01-01"), d("2026-12-01")).unwrap(),
                max_fetches: 3,
                min_interval_minutes: 0,
                retention_days: 180,
                valid_days: 90,
            },
            now,
        )
        .unwrap();
        Consent::new(
            ConsentId::from_random([3; 16]),
            Uscc::assemble("91", "440300", "00000009").unwrap(),
            BankRef {
                org_id: 4,
                name: "广州某银行".into(),
            },
            terms,
        )
    }

    #[test]
    fn signs_and_verifies() {
        let k = key(9);
        let a = Artefact::of(&consent(), "测试企业有限公司");
        assert_eq!(a.granted_at, "2026-12-02T13:48:49+08:00");
        let s = a.sign(&k);
        assert_eq!(s, a.sign(&k), "deterministic");
        let back = Artefact::verify(&s, "C1", &k.verifying_key()).unwrap();
        assert_eq!(back, a);
        assert_eq!(
            Artefact::verify(&s, "C2", &k.verifying_key()),
            Err(ArtefactError::Header("kid"))
        );
        assert_eq!(
            Artefact::verify(&s, "C1", &key(10).verifying_key()),
            Err(ArtefactError::BadSignature)
        );
        // One flipped payload byte breaks the signature.
        let mut raw = B64.decode(&s).unwrap();
        let at = raw.len() - 80;
        raw[at] ^= 1;
        assert!(Artefact::verify(&B64.encode(raw), "C1", &k.verifying_key()).is_err());
        let j = jwk("C1", &k.verifying_key());
        assert_eq!(j["crv"], "Ed25519");
    }
}
