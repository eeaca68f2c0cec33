//! The only file I/O of the library: private key files, created with mode 0600 and refused when
//! group/other can read them. Format (text): a magic line, `kid=…`, `seed=<base64url 32 bytes>`.

use crate::error::CodeError;
use crate::keys::{Kid, PrivateKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use std::fs::OpenOptions;
use std::io::{Read as _, Write as _};
use std::path::Path;
use zeroize::Zeroize as _;

const MAGIC: &str = "yuepin-code ed25519 private key v1";

fn file_error(path: &Path, reason: impl Into<String>) -> CodeError {
    CodeError::KeyFile {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Writes a new key file with mode 0600; refuses to overwrite an existing file.
pub fn write_private_key(path: &Path, key: &PrivateKey) -> Result<(), CodeError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| file_error(path, format!("cannot create: {e}")))?;
    #[cfg(unix)]
    {
        // The umask cannot widen 0600, but set it explicitly in case the file system ignored mode.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| file_error(path, format!("cannot set mode 0600: {e}")))?;
    }
    let mut seed = key.seed_bytes();
    let mut text = format!("{MAGIC}\nkid={}\nseed={}\n", key.kid(), B64.encode(seed));
    seed.zeroize();
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    text.zeroize();
    written.map_err(|e| file_error(path, format!("cannot write: {e}")))
}

/// Reads a key file, refusing it unless only the owner may read it (mode 0600 or 0400).
pub fn read_private_key(path: &Path) -> Result<PrivateKey, CodeError> {
    let file = OpenOptions::new()
        .read(true)
        .open(path)
        .map_err(|e| file_error(path, format!("cannot open: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = file
            .metadata()
            .map_err(|e| file_error(path, format!("cannot stat: {e}")))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(file_error(
                path,
                format!(
                    "mode {:o} lets group/other access the key; must be 0600",
                    mode & 0o777
                ),
            ));
        }
    }
    let mut text = String::new();
    file.take(4096)
        .read_to_string(&mut text)
        .map_err(|e| file_error(path, format!("cannot read: {e}")))?;
    let parsed = parse_key_text(path, &text);
    text.zeroize();
    parsed
}

fn parse_key_text(path: &Path, text: &str) -> Result<PrivateKey, CodeError> {
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return Err(file_error(path, "first line is not the key-file magic"));
    }
    let kid = lines
        .next()
        .and_then(|line| line.strip_prefix("kid="))
        .ok_or_else(|| file_error(path, "line 2 must be kid=…"))?;
    let kid = Kid::parse(kid).map_err(|e| file_error(path, e.to_string()))?;
    let seed_b64 = lines
        .next()
        .and_then(|line| line.strip_prefix("seed="))
        .ok_or_else(|| file_error(path, "line 3 must be seed=…"))?;
    let mut raw = B64
        .decode(seed_b64)
        .map_err(|_| file_error(path, "seed is not base64url"))?;
    let seed: Result<[u8; 32], _> = raw.as_slice().try_into();
    raw.zeroize();
    let mut seed = seed.map_err(|_| file_error(path, "seed must be 32 bytes"))?;
    let key = PrivateKey::from_seed(kid, &seed);
    seed.zeroize();
    Ok(key)
}
