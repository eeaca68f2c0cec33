//! The platform's credit signing key: one Ed25519 key in its own directory
//! (`{data_dir}/credit-keys/credit-{kid}.key`, mode 0600), written and read by the code crate's
//! key-file functions (`yuepin_code::keys_fs`), the same format and checks as the codes' key
//! ring. It signs consent artefacts, credit reports and log checkpoints; banks verify them
//! with its JWK ([`CreditKeys::jwks`]). Created on first use; a replica that loses the race
//! to create it reads the winner's file.

use crate::error::{CreditError, CreditResult};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use yuepin_code::keys_fs::{read_private_key, write_private_key};
use yuepin_code::{Kid, PrivateKey};

/// The key id of the credit key (rotation would add `C2`, keeping `C1` published).
pub const CREDIT_KID: &str = "C1";

/// The key directory and the loaded key.
#[derive(Debug, Clone)]
pub struct CreditKeys {
    dir: PathBuf,
    loaded: Arc<Mutex<Option<Arc<PrivateKey>>>>,
}

fn key_error(e: impl std::fmt::Display) -> CreditError {
    CreditError::Key(e.to_string())
}

impl CreditKeys {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            loaded: Arc::default(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self) -> PathBuf {
        self.dir.join(format!("credit-{CREDIT_KID}.key"))
    }

    /// The signing key, read or created on first use.
    pub fn key(&self) -> CreditResult<Arc<PrivateKey>> {
        let mut guard = self
            .loaded
            .lock()
            .map_err(|_| CreditError::Key("poisoned".into()))?;
        if let Some(k) = guard.as_ref() {
            return Ok(k.clone());
        }
        let path = self.path();
        let key = if path.is_file() {
            read_private_key(&path).map_err(key_error)?
        } else {
            std::fs::create_dir_all(&self.dir).map_err(key_error)?;
            let kid = Kid::parse(CREDIT_KID).map_err(key_error)?;
            let key = PrivateKey::generate(kid, &mut rand::rngs::OsRng);
            match write_private_key(&path, &key) {
                Ok(()) => key,
                // Another process created it first: use theirs.
                Err(_) if path.is_file() => read_private_key(&path).map_err(key_error)?,
                Err(e) => return Err(key_error(e)),
            }
        };
        let key = Arc::new(key);
        *guard = Some(key.clone());
        Ok(key)
    }

    /// The published key set: `{"keys": [JWK]}`.
    pub fn jwks(&self) -> CreditResult<serde_json::Value> {
        let key = self.key()?;
        Ok(serde_json::json!({
            "keys": [yuepin_credit::jwk(key.kid().as_str(), &key.verifying_key())]
        }))
    }
}
