//! A key ring on disk: the root key, the code-signing keys and their public metadata in one
//! directory (`root.key`, `code-{kid}.key` with mode 0600, `keyring.json` without secrets).
//! Rotation retires the active key (its codes keep verifying) and creates a new one; withdrawal
//! marks a key withdrawn (its codes stop verifying) and deletes its private file.

use crate::error::CodeError;
use crate::keys::{KeySet, KeyStatus, Kid, PrivateKey, PublicKey, SignedKeySet};
use crate::keys_fs::{read_private_key, write_private_key};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use chrono::NaiveDate;
use ed25519_dalek::VerifyingKey;
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const META_FILE: &str = "keyring.json";
const ROOT_FILE: &str = "root.key";
const ROOT_KID: &str = "R";
const KID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Public metadata of one code-signing key (no secret material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyRecord {
    pub kid: Kid,
    pub status: KeyStatus,
    /// Codes dated before this do not verify with this key.
    pub not_before: NaiveDate,
    pub created_on: NaiveDate,
    #[serde(default)]
    pub retired_on: Option<NaiveDate>,
    #[serde(default)]
    pub withdrawn_on: Option<NaiveDate>,
    #[serde(default)]
    pub withdraw_reason: Option<String>,
    /// base64url Ed25519 public key.
    pub x: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct RingMeta {
    issuer: String,
    version: u64,
    root_kid: Kid,
    root_x: String,
    keys: Vec<KeyRecord>,
}

/// The published root public key (`/.well-known/yuepin/root.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RootKeyDocument {
    pub issuer: String,
    pub kid: Kid,
    pub kty: String,
    pub crv: String,
    pub alg: String,
    pub x: String,
}

impl RootKeyDocument {
    /// The verifying key, for [`SignedKeySet::from_json_verified`].
    pub fn verifying_key(&self) -> Result<VerifyingKey, CodeError> {
        let raw = B64
            .decode(&self.x)
            .map_err(|_| CodeError::KeySet("root x is not base64url".into()))?;
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|_| CodeError::KeySet("root x must be 32 bytes".into()))?;
        VerifyingKey::from_bytes(&bytes)
            .map_err(|_| CodeError::KeySet("root x is not an Ed25519 point".into()))
    }
}

/// The loaded key ring: metadata, root key and the active signing key.
pub struct KeyRing {
    dir: PathBuf,
    meta: RingMeta,
    root: PrivateKey,
    active: Option<PrivateKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("dir", &self.dir)
            .field("version", &self.meta.version)
            .field("keys", &self.meta.keys.len())
            .finish()
    }
}

fn file_error(path: &Path, reason: impl Into<String>) -> CodeError {
    CodeError::KeyFile {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

fn code_key_path(dir: &Path, kid: &Kid) -> PathBuf {
    dir.join(format!("code-{kid}.key"))
}

impl KeyRing {
    /// Path of the metadata file (its modification time tells servers to reload).
    pub fn meta_path(dir: &Path) -> PathBuf {
        dir.join(META_FILE)
    }

    pub fn exists(dir: &Path) -> bool {
        Self::meta_path(dir).is_file()
    }

    /// Opens an existing ring, or creates one (root key and a first active key `A`).
    /// Returns the ring and whether it was created.
    pub fn open_or_init(
        dir: &Path,
        issuer: &str,
        today: NaiveDate,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(Self, bool), CodeError> {
        if Self::exists(dir) {
            return Ok((Self::open(dir)?, false));
        }
        std::fs::create_dir_all(dir).map_err(|e| file_error(dir, format!("cannot create: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| file_error(dir, format!("cannot set mode 0700: {e}")))?;
        }
        let root_kid = Kid::parse(ROOT_KID)?;
        let root_path = dir.join(ROOT_FILE);
        let root = if root_path.exists() {
            read_private_key(&root_path)?
        } else {
            let root = PrivateKey::generate(root_kid.clone(), rng);
            write_private_key(&root_path, &root)?;
            root
        };
        let mut ring = Self {
            dir: dir.to_path_buf(),
            meta: RingMeta {
                issuer: issuer.to_string(),
                version: 0,
                root_kid: root.kid().clone(),
                root_x: B64.encode(root.verifying_key().as_bytes()),
                keys: Vec::new(),
            },
            root,
            active: None,
        };
        ring.add_active_key(today, rng)?;
        Ok((ring, true))
    }

    /// Opens an existing ring (fails when it does not exist or a key file is unsafe).
    pub fn open(dir: &Path) -> Result<Self, CodeError> {
        let path = Self::meta_path(dir);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| file_error(&path, format!("cannot read: {e}")))?;
        let meta: RingMeta = serde_json::from_str(&text)
            .map_err(|e| file_error(&path, format!("not a key ring: {e}")))?;
        let root = read_private_key(&dir.join(ROOT_FILE))?;
        if B64.encode(root.verifying_key().as_bytes()) != meta.root_x {
            return Err(file_error(&path, "root.key does not match root_x"));
        }
        let active = match meta.keys.iter().find(|k| k.status == KeyStatus::Active) {
            Some(record) => {
                let key = read_private_key(&code_key_path(dir, &record.kid))?;
                if B64.encode(key.verifying_key().as_bytes()) != record.x {
                    return Err(file_error(
                        &path,
                        format!("key file of {} does not match its public key", record.kid),
                    ));
                }
                Some(key)
            }
            None => None,
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            meta,
            root,
            active,
        })
    }

    fn next_kid(&self) -> Result<Kid, CodeError> {
        let used = |kid: &str| self.meta.keys.iter().any(|k| k.kid.as_str() == kid);
        let singles = KID_ALPHABET.iter().map(|c| (*c as char).to_string());
        let pairs = KID_ALPHABET.iter().flat_map(|a| {
            KID_ALPHABET
                .iter()
                .map(move |b| format!("{}{}", *a as char, *b as char))
        });
        singles
            .chain(pairs)
            .find(|kid| kid != ROOT_KID && !used(kid))
            .map(|kid| Kid::parse(&kid))
            .transpose()?
            .ok_or_else(|| CodeError::KeySet("all key ids are used".into()))
    }

    fn add_active_key(
        &mut self,
        today: NaiveDate,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Kid, CodeError> {
        let kid = self.next_kid()?;
        let key = PrivateKey::generate(kid.clone(), rng);
        write_private_key(&code_key_path(&self.dir, &kid), &key)?;
        self.meta.keys.push(KeyRecord {
            kid: kid.clone(),
            status: KeyStatus::Active,
            not_before: today,
            created_on: today,
            retired_on: None,
            withdrawn_on: None,
            withdraw_reason: None,
            x: B64.encode(key.verifying_key().as_bytes()),
        });
        self.active = Some(key);
        self.save()?;
        Ok(kid)
    }

    fn save(&mut self) -> Result<(), CodeError> {
        self.meta.version += 1;
        let path = Self::meta_path(&self.dir);
        let tmp = self.dir.join(format!("{META_FILE}.tmp"));
        let text = serde_json::to_string_pretty(&self.meta)
            .map_err(|e| file_error(&path, e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| file_error(&tmp, format!("cannot write: {e}")))?;
        std::fs::rename(&tmp, &path).map_err(|e| file_error(&path, format!("cannot replace: {e}")))
    }

    /// Retires the active key (its codes keep verifying) and creates a new active key.
    pub fn rotate(
        &mut self,
        today: NaiveDate,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(Kid, Option<Kid>), CodeError> {
        let mut retired = None;
        for record in &mut self.meta.keys {
            if record.status == KeyStatus::Active {
                record.status = KeyStatus::Retired;
                record.retired_on = Some(today);
                retired = Some(record.kid.clone());
            }
        }
        self.active = None;
        let kid = self.add_active_key(today, rng)?;
        Ok((kid, retired))
    }

    /// Withdraws a key: its codes stop verifying and its private file is deleted. Withdrawing
    /// the active key also creates a new active key (returned).
    pub fn withdraw(
        &mut self,
        kid: &str,
        reason: &str,
        today: NaiveDate,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Option<Kid>, CodeError> {
        let record = self
            .meta
            .keys
            .iter_mut()
            .find(|k| k.kid.as_str() == kid)
            .ok_or_else(|| CodeError::KeySet(format!("no key {kid}")))?;
        if record.status == KeyStatus::Withdrawn {
            return Err(CodeError::KeySet(format!("key {kid} is already withdrawn")));
        }
        let was_active = record.status == KeyStatus::Active;
        record.status = KeyStatus::Withdrawn;
        record.withdrawn_on = Some(today);
        record.withdraw_reason = Some(reason.chars().take(200).collect());
        let kid = record.kid.clone();
        let path = code_key_path(&self.dir, &kid);
        if path.exists() {
            std::fs::remove_file(&path)
                .map_err(|e| file_error(&path, format!("cannot delete: {e}")))?;
        }
        if was_active {
            self.active = None;
            return self.add_active_key(today, rng).map(Some);
        }
        self.save()?;
        Ok(None)
    }

    pub fn issuer(&self) -> &str {
        &self.meta.issuer
    }
    pub fn version(&self) -> u64 {
        self.meta.version
    }
    pub fn records(&self) -> &[KeyRecord] {
        &self.meta.keys
    }

    /// The key that signs new codes and status lists.
    pub fn active(&self) -> Result<&PrivateKey, CodeError> {
        self.active
            .as_ref()
            .ok_or_else(|| CodeError::KeySet("no active signing key".into()))
    }

    /// The verification key set (all keys, with their status).
    pub fn key_set(&self) -> Result<KeySet, CodeError> {
        let keys = self
            .meta
            .keys
            .iter()
            .map(|record| {
                let raw = B64
                    .decode(&record.x)
                    .map_err(|_| CodeError::KeySet(format!("key {}: bad x", record.kid)))?;
                let bytes: [u8; 32] = raw
                    .try_into()
                    .map_err(|_| CodeError::KeySet(format!("key {}: bad x", record.kid)))?;
                let key = VerifyingKey::from_bytes(&bytes)
                    .map_err(|_| CodeError::KeySet(format!("key {}: bad x", record.kid)))?;
                Ok(PublicKey {
                    kid: record.kid.clone(),
                    key,
                    status: record.status,
                    not_before: record.not_before,
                })
            })
            .collect::<Result<Vec<_>, CodeError>>()?;
        KeySet::new(self.meta.issuer.clone(), self.meta.version, keys)
    }

    /// The key set signed by the root key (the published document).
    pub fn signed_key_set(&self) -> Result<SignedKeySet, CodeError> {
        Ok(self.key_set()?.sign(&self.root))
    }

    pub fn root_document(&self) -> RootKeyDocument {
        RootKeyDocument {
            issuer: self.meta.issuer.clone(),
            kid: self.meta.root_kid.clone(),
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            alg: "EdDSA".into(),
            x: self.meta.root_x.clone(),
        }
    }
}
