//! TOTP secrets sealed under a key that is not in the database (issue 17 item 3; ASVS 11.x,
//! 13.3.x): a database reader or a backup no longer holds what computes an account's codes.
//! AES-256-GCM from `aws-lc-rs` (already the codes' cryptography, FIPS-validated), a fresh
//! 96-bit random nonce per seal, and the account's id as associated data, so a sealed secret
//! copied into another account's row does not open.
//!
//! The key is 32 random bytes, hex, in a file (`{data_dir}/totp-keys/totp.key` unless
//! configured; mode 0600 in a 0700 directory), created on first use; every replica must be
//! given the same file. Stored form: `v1:` + base64url(nonce ‖ ciphertext ‖ tag). A value
//! without the prefix is a base32 secret stored before sealing existed; it still opens, and
//! [`crate::EnterprisesService::seal_plain_totp_secrets`] (run by `yuepin serve` at start)
//! seals every such row.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use std::path::Path;

const PREFIX: &str = "v1:";

/// Why a stored secret did not open.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealed secret is malformed")]
    Malformed,
    #[error(
        "sealed secret does not open under this key (another key file, or another account's row)"
    )]
    WrongKey,
    #[error("TOTP key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
}

/// The sealing key.
pub struct SecretBox {
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let key = UnboundKey::new(&AES_256_GCM, bytes).expect("a 32-byte AES-256 key");
        Self {
            key: LessSafeKey::new(key),
        }
    }

    /// Reads the key file, or creates it (and its directory) with 32 random bytes.
    pub fn open_or_create(path: &Path) -> Result<Self, SealError> {
        let fail = |reason: String| SealError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt as _;
                    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
                }
            }
            let bytes: [u8; 32] = yuepin_store::passwords::random_bytes(32)
                .try_into()
                .map_err(|_| fail("no randomness".into()))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            match options.open(path) {
                Ok(mut file) => {
                    use std::io::Write as _;
                    file.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(|e| fail(e.to_string()))?;
                }
                // Another replica or process created it first: read theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(fail(e.to_string())),
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)
                .map_err(|e| fail(e.to_string()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(fail(format!(
                    "readable by group or others (mode {:o}); chmod 600",
                    mode & 0o777
                )));
            }
        }
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| fail("not 32 bytes of hex".into()))?;
        Ok(Self::from_bytes(&bytes))
    }

    /// Seals `secret` for the account `user_id`.
    pub fn seal(&self, user_id: i64, secret: &str) -> String {
        let nonce_bytes: [u8; NONCE_LEN] = yuepin_store::passwords::random_bytes(NONCE_LEN)
            .try_into()
            .expect("NONCE_LEN random bytes");
        let mut sealed = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(user_id.to_be_bytes()),
                &mut sealed,
            )
            .expect("AES-GCM seals any length under 64 GiB");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", B64.encode(out))
    }

    /// The secret of a stored value: sealed values are opened, values stored before sealing
    /// are returned as they are.
    pub fn open(&self, user_id: i64, stored: &str) -> Result<String, SealError> {
        let Some(body) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let raw = B64.decode(body).map_err(|_| SealError::Malformed)?;
        if raw.len() < NONCE_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Malformed)?;
        let mut rest = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(user_id.to_be_bytes()), &mut rest)
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Malformed)
    }

    /// Whether a stored value is sealed (else it was stored before sealing).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_for_their_account_and_key() {
        let k = SecretBox::from_bytes(&[7; 32]);
        let s = k.seal(5, "JBSWY3DPEHPK3PXP");
        assert!(SecretBox::is_sealed(&s) && !s.contains("JBSWY3DP"), "{s}");
        assert_ne!(s, k.seal(5, "JBSWY3DPEHPK3PXP"), "a fresh nonce each time");
        assert_eq!(k.open(5, &s).unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(matches!(k.open(6, &s), Err(SealError::WrongKey)));
        let other = SecretBox::from_bytes(&[8; 32]);
        assert!(matches!(other.open(5, &s), Err(SealError::WrongKey)));
        assert!(matches!(k.open(5, "v1:!!"), Err(SealError::Malformed)));
        // Stored before sealing: returned as it is.
        assert_eq!(k.open(5, "JBSWY3DPEHPK3PXP").unwrap(), "JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn the_key_file_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("totp-keys").join("totp.key");
        let a = SecretBox::open_or_create(&path).unwrap();
        let sealed = a.seal(1, "ABC");
        let b = SecretBox::open_or_create(&path).unwrap();
        assert_eq!(b.open(1, &sealed).unwrap(), "ABC");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(SecretBox::open_or_create(&path).is_err());
        }
    }
}
