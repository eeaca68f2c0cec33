//! Signing keys with key ids, the published key set (JWKS-like, with rotation status) and its
//! detached root signature. Private key material has no `Debug`, `Serialize` or `Display`.

use crate::error::{CodeError, ParseError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use chrono::NaiveDate;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A key id: 1..=2 of `A-Z a-z 0-9 - _`. Short on purpose: it is carried in every code URI and
/// each character costs QR capacity (see docs/yuepin-code.md, "QR budget").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Kid(String);

yuepin_domain::openapi_string!(
    Kid,
    "Key id: 1–2 of A-Z a-z 0-9 - _",
    "A1",
    pattern = "^[A-Za-z0-9_-]{1,2}$"
);

impl Kid {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        if input.is_empty() || input.len() > 2 {
            return Err(ParseError::new(
                "kid",
                format!("must be 1 to 2 characters, got {}", input.len()),
            ));
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ParseError::new(
                "kid",
                "only letters, digits, '-' and '_' are allowed",
            ));
        }
        Ok(Self(input.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for Kid {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<Kid> for String {
    fn from(kid: Kid) -> Self {
        kid.0
    }
}

/// An Ed25519 private key with its key id (code-signing, status-list or root key).
///
/// Deliberately neither `Debug` (manual, kid only), `Clone`, `Serialize` nor `Display`:
/// the only way out of memory is [`crate::keys_fs::write_private_key`]. Zeroized on drop.
pub struct PrivateKey {
    kid: Kid,
    signing: SigningKey,
    /// The same key in AWS-LC, which signs: its Ed25519 (s2n-bignum assembly) runs 2× faster
    /// than ed25519-dalek here, and Ed25519 is deterministic, so the signatures are identical
    /// (see the test `both_implementations_sign_alike`).
    signer: aws_lc_rs::signature::Ed25519KeyPair,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("kid", &self.kid)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl PrivateKey {
    /// A new random key; `rng` must be a cryptographically secure generator.
    pub fn generate(kid: Kid, rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let key = Self::from_seed(kid, &seed);
        zeroize::Zeroize::zeroize(&mut seed);
        key
    }

    /// Rebuilds a key from its 32-byte Ed25519 seed (used by the key-file loader).
    pub fn from_seed(kid: Kid, seed: &[u8; 32]) -> Self {
        let signer = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(seed)
            // A 32-byte seed is always a valid Ed25519 private key.
            .unwrap_or_else(|_| unreachable!("a 32-byte Ed25519 seed was rejected"));
        Self {
            kid,
            signing: SigningKey::from_bytes(seed),
            signer,
        }
    }

    pub fn kid(&self) -> &Kid {
        &self.kid
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public half as it appears in a key set.
    pub fn public(&self, status: KeyStatus, not_before: NaiveDate) -> PublicKey {
        PublicKey {
            kid: self.kid.clone(),
            key: self.verifying_key(),
            status,
            not_before,
        }
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.signer.sign(message).as_ref());
        out
    }

    /// Signs arbitrary bytes (Ed25519, deterministic). For other signed artefacts of the
    /// platform that keep their keys the same way (the credit log's checkpoints and consent
    /// artefacts); code signatures go through [`crate::sign_code`].
    pub fn sign_message(&self, message: &[u8]) -> [u8; 64] {
        self.sign(message)
    }

    pub(crate) fn seed_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }
}

/// Rotation status of a published key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Signs new codes.
    Active,
    /// Signs nothing new; codes it signed keep verifying.
    Retired,
    /// Compromised or revoked: codes it signed no longer verify.
    Withdrawn,
}

/// A public key in the key set (JWK-like: `kty` OKP, `crv` Ed25519, `alg` EdDSA, `x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: Kid,
    pub key: VerifyingKey,
    pub status: KeyStatus,
    /// Codes claiming an issue date before this are rejected.
    pub not_before: NaiveDate,
}

#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct PublicKeyWire {
    kid: Kid,
    kty: String,
    crv: String,
    alg: String,
    x: String,
    status: KeyStatus,
    not_before: NaiveDate,
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PublicKeyWire {
            kid: self.kid.clone(),
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            alg: "EdDSA".into(),
            x: B64.encode(self.key.as_bytes()),
            status: self.status,
            not_before: self.not_before,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let wire = PublicKeyWire::deserialize(deserializer)?;
        if wire.kty != "OKP" || wire.crv != "Ed25519" || wire.alg != "EdDSA" {
            return Err(D::Error::custom(format!(
                "key {}: only kty OKP / crv Ed25519 / alg EdDSA is supported",
                wire.kid
            )));
        }
        let raw = B64
            .decode(&wire.x)
            .map_err(|e| D::Error::custom(format!("key {}: x is not base64url: {e}", wire.kid)))?;
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|_| D::Error::custom(format!("key {}: x must be 32 bytes", wire.kid)))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| {
            D::Error::custom(format!("key {}: x is not an Ed25519 point", wire.kid))
        })?;
        Ok(Self {
            kid: wire.kid,
            key,
            status: wire.status,
            not_before: wire.not_before,
        })
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PublicKey {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <PublicKeyWire as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PublicKey {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <PublicKeyWire as utoipa::ToSchema>::schemas(schemas);
    }
}

/// The published set of verification keys. Its canonical bytes are its compact JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeySet {
    pub issuer: String,
    /// Increases with every change so verifiers can keep the newest.
    pub version: u64,
    pub keys: Vec<PublicKey>,
}

impl KeySet {
    /// Builds a key set, rejecting duplicate key ids.
    pub fn new(
        issuer: impl Into<String>,
        version: u64,
        mut keys: Vec<PublicKey>,
    ) -> Result<Self, CodeError> {
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        if let Some(pair) = keys.windows(2).find(|pair| pair[0].kid == pair[1].kid) {
            return Err(CodeError::KeySet(format!("duplicate kid {}", pair[0].kid)));
        }
        Ok(Self {
            issuer: issuer.into(),
            version,
            keys,
        })
    }

    pub fn find(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|key| key.kid.as_str() == kid)
    }

    /// Compact JSON with keys sorted by kid: the bytes the root signature covers.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut sorted = self.clone();
        sorted.keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        // Serializing plain structs of strings and numbers cannot fail.
        serde_json::to_vec(&sorted).unwrap_or_default()
    }

    /// Signs the canonical bytes with the root key, giving the publishable document.
    pub fn sign(&self, root: &PrivateKey) -> SignedKeySet {
        SignedKeySet {
            key_set: self.clone(),
            root_kid: root.kid().clone(),
            signature: B64.encode(root.sign(&self.canonical_bytes())),
        }
    }
}

/// The published key-set document: key set plus a detached Ed25519 root signature over
/// [`KeySet::canonical_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignedKeySet {
    pub key_set: KeySet,
    pub root_kid: Kid,
    /// base64url (no padding) Ed25519 signature.
    pub signature: String,
}

impl SignedKeySet {
    /// Parses the JSON document and checks the root signature; only then is the key set usable.
    pub fn from_json_verified(json: &[u8], root: &VerifyingKey) -> Result<KeySet, CodeError> {
        let document: Self = serde_json::from_slice(json)
            .map_err(|e| CodeError::KeySet(format!("not a signed key set document: {e}")))?;
        document.verify(root)
    }

    pub fn verify(&self, root: &VerifyingKey) -> Result<KeySet, CodeError> {
        let failure = || CodeError::KeySetSignature {
            root_kid: self.root_kid.to_string(),
        };
        let raw = B64.decode(&self.signature).map_err(|_| failure())?;
        let bytes: [u8; 64] = raw.try_into().map_err(|_| failure())?;
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        root.verify_strict(&self.key_set.canonical_bytes(), &signature)
            .map_err(|_| failure())?;
        Ok(self.key_set.clone())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod signer_tests {
    use super::{Kid, PrivateKey};
    use ed25519_dalek::{Signer as _, Verifier as _};
    use proptest::prelude::*;

    proptest! {
        /// AWS-LC signs; the signature must be byte-for-byte what ed25519-dalek (RFC 8032)
        /// gives, and verify with dalek.
        #[test]
        fn both_implementations_sign_alike(seed in any::<[u8; 32]>(), message in proptest::collection::vec(any::<u8>(), 0..300)) {
            let key = PrivateKey::from_seed(Kid::parse("T").unwrap(), &seed);
            let ours = key.sign(&message);
            let dalek = key.signing.sign(&message);
            prop_assert_eq!(ours, dalek.to_bytes());
            prop_assert!(key.verifying_key().verify(&message, &dalek).is_ok());
        }
    }
}
