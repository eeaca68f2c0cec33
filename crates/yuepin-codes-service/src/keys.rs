//! The signing keys of a data directory (`{data_dir}/keys`, private files mode 0600) and the
//! server's loaded copy of them. [`KeyFiles`] is what the operator's key commands use (init,
//! rotate, withdraw, export); they need no database. [`KeyCache`] is the service's view: the
//! ring with its published documents, re-read when `keyring.json` changes on disk, which is how
//! a rotation made with the CLI reaches running servers (every replica checks the file's
//! modification time at most once a second).

use crate::error::{CodesError, Result};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};
use yuepin_code::{KeyRing, KeySet, Kid, ParseError, Resolver};

/// A key ring directory and the issuer (resolver base URL) new rings are created for.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    dir: PathBuf,
    public_url: String,
    /// Kept as a result so that a server with an unusable public URL still starts; the codes
    /// use cases then fail with [`CodesError::PublicUrl`].
    resolver: std::result::Result<Resolver, ParseError>,
}

impl KeyFiles {
    pub fn new(dir: PathBuf, public_url: &str) -> Self {
        Self {
            dir,
            public_url: public_url.to_string(),
            resolver: Resolver::from_base_url(public_url),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The resolver the codes are issued on (the public URL's host and path).
    pub fn resolver(&self) -> Result<&Resolver> {
        self.resolver.as_ref().map_err(|e| CodesError::PublicUrl {
            url: self.public_url.clone(),
            source: e.clone(),
        })
    }

    /// Opens the ring, creating the root key and the first signing key when there is none.
    /// Returns whether it was created.
    pub fn open(&self) -> Result<(KeyRing, bool)> {
        let issuer = self.resolver()?.base_url();
        KeyRing::open_or_init(
            &self.dir,
            &issuer,
            yuepin_domain::china_today(),
            &mut rand::rngs::OsRng,
        )
        .map_err(CodesError::KeyRing)
    }

    /// Retires the active key (its codes keep verifying) and creates a new one: (new, retired).
    pub fn rotate(&self) -> Result<(Kid, Option<Kid>)> {
        let (mut ring, _) = self.open()?;
        ring.rotate(yuepin_domain::china_today(), &mut rand::rngs::OsRng)
            .map_err(CodesError::KeyRing)
    }

    /// Withdraws a key (its codes stop verifying); the new active key when it was the active one.
    pub fn withdraw(&self, kid: &str, reason: &str) -> Result<Option<Kid>> {
        let (mut ring, _) = self.open()?;
        ring.withdraw(
            kid,
            reason,
            yuepin_domain::china_today(),
            &mut rand::rngs::OsRng,
        )
        .map_err(CodesError::KeyRing)
    }

    fn meta_mtime(&self) -> Option<SystemTime> {
        std::fs::metadata(KeyRing::meta_path(&self.dir))
            .and_then(|m| m.modified())
            .ok()
    }
}

/// The loaded key ring with its published documents.
#[derive(Debug)]
pub struct Loaded {
    mtime: Option<SystemTime>,
    checked: Instant,
    pub ring: Arc<KeyRing>,
    pub key_set: Arc<KeySet>,
    /// `/.well-known/yuepin/keys.json`: the key set signed by the root key.
    pub signed_json: Arc<String>,
    /// `/.well-known/yuepin/root.json`: the root public key document.
    pub root_json: Arc<String>,
}

/// The service's loaded ring (see the module comment for when it is re-read).
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    ring: RwLock<Option<Arc<Loaded>>>,
    /// One loader at a time, so that concurrent first requests create the ring once.
    init_lock: Mutex<()>,
}

impl KeyCache {
    /// The ring, created on first use; re-read when `keyring.json` changed. The flag says
    /// whether it was (re)read from disk, so callers can drop what they cached for the old one.
    pub(crate) fn loaded(&self, files: &KeyFiles) -> Result<(Arc<Loaded>, bool)> {
        if let Ok(guard) = self.ring.read() {
            if let Some(l) = guard.as_ref() {
                if l.checked.elapsed() < Duration::from_secs(1) {
                    return Ok((l.clone(), false));
                }
            }
        }
        let _init = self.init_lock.lock().map_err(|_| CodesError::Poisoned)?;
        let mtime = files.meta_mtime();
        if let Ok(mut guard) = self.ring.write() {
            if let Some(l) = guard.as_ref() {
                if l.mtime.is_some() && l.mtime == mtime {
                    let fresh = Arc::new(Loaded {
                        mtime,
                        checked: Instant::now(),
                        ring: l.ring.clone(),
                        key_set: l.key_set.clone(),
                        signed_json: l.signed_json.clone(),
                        root_json: l.root_json.clone(),
                    });
                    *guard = Some(fresh.clone());
                    return Ok((fresh, false));
                }
            }
        }
        let (ring, _created) = files.open()?;
        let key_set = ring.key_set()?;
        let signed = ring.signed_key_set()?;
        let root_json = serde_json::to_string_pretty(&ring.root_document()).unwrap_or_default();
        let loaded = Arc::new(Loaded {
            mtime: files.meta_mtime(),
            checked: Instant::now(),
            ring: Arc::new(ring),
            key_set: Arc::new(key_set),
            signed_json: Arc::new(signed.to_json()),
            root_json: Arc::new(root_json),
        });
        if let Ok(mut guard) = self.ring.write() {
            *guard = Some(loaded.clone());
        }
        Ok((loaded, true))
    }
}
