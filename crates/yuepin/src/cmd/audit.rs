//! `yuepin audit …`: verify the hash chain (alone, or against a kept signed checkpoint), write
//! a signed checkpoint (the witness copy), print the checkpoint key, show the newest rows.
//!
//! The checkpoint key is an Ed25519 key file outside the database: `--key`, env
//! `YUEPIN_AUDIT_KEY`, default `{data_dir}/audit-keys/audit-A1.key` (mode 0600, the codes' key
//! file format), created by the first `audit checkpoint`. A database writer who rewrites the
//! chain and its head cannot sign a checkpoint for the result, and the kept copy names the
//! first row the rewrite touched.

use crate::config::DbArgs;
use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use yuepin_code::keys_fs::{read_private_key, write_private_key};
use yuepin_code::{Kid, PrivateKey};
use yuepin_store::audit::Verification;
use yuepin_store::audit_checkpoint::{CheckpointCheck, AUDIT_ORIGIN};
use yuepin_tlog::{key_id, Finding, VerifyingKey, WitnessCopy};

/// The key id (in the key file) of the audit checkpoint key.
pub const AUDIT_KID: &str = "A1";

#[derive(Args, Debug, Clone, Default)]
pub struct KeyArgs {
    /// The checkpoint signing key file (default DATA_DIR/audit-keys/audit-A1.key).
    #[arg(long = "key", env = "YUEPIN_AUDIT_KEY")]
    pub key: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and report the first altered, inserted or deleted row; with
    /// --checkpoint, also check the chain against a kept signed checkpoint and name the first
    /// row a rewrite touched, or the rows dropped since.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
        /// A checkpoint file written by `yuepin audit checkpoint` (the witness copy).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The checkpoint key's public half as `yuepin audit key` prints it (instead of
        /// reading the key file), for a witness that holds only the public key.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Sign a checkpoint of the whole chain (size, Merkle root, time, key id, signature) and
    /// write it with the row hashes to --out (default: standard output). Keep it outside the
    /// database's reach.
    Checkpoint {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the checkpoint key's public half (C2SP verifier key: name+keyid+key), created if
    /// missing.
    Key {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Print the newest entries.
    Tail {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

/// The key file: `--key`, else `{data_dir}/audit-keys/audit-A1.key`.
pub fn key_path(key: &KeyArgs, data_dir: &Path) -> PathBuf {
    key.key.clone().unwrap_or_else(|| {
        data_dir
            .join("audit-keys")
            .join(format!("audit-{AUDIT_KID}.key"))
    })
}

/// Reads the checkpoint key, creating it (and its directory, mode 0700) when missing.
pub fn load_or_create_key(path: &Path) -> Result<PrivateKey> {
    if path.is_file() {
        return read_private_key(path).map_err(|e| anyhow!("{e}"));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    let key = PrivateKey::generate(Kid::parse(AUDIT_KID)?, &mut rand::rngs::OsRng);
    match write_private_key(path, &key) {
        Ok(()) => Ok(key),
        // Another process created it first: use theirs.
        Err(_) if path.is_file() => read_private_key(path).map_err(|e| anyhow!("{e}")),
        Err(e) => Err(anyhow!("{e}")),
    }
}

/// The C2SP verifier key: `yuepin.audit+<hex key id>+<base64(0x01 || public key)>`.
pub fn verifier_key(vk: &VerifyingKey) -> String {
    let mut raw = vec![1u8];
    raw.extend_from_slice(vk.as_bytes());
    format!(
        "{AUDIT_ORIGIN}+{}+{}",
        hex::encode(key_id(AUDIT_ORIGIN, vk)),
        B64.encode(raw)
    )
}

fn parse_verifier_key(s: &str) -> Result<VerifyingKey> {
    let bad = || {
        anyhow!(
            "--public-key must be {AUDIT_ORIGIN}+<key id>+<key> as `yuepin audit key` prints it"
        )
    };
    let mut parts = s.trim().splitn(3, '+');
    let (name, id, key) = (
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
    );
    let raw = B64.decode(key).map_err(|_| bad())?;
    if name != AUDIT_ORIGIN || raw.len() != 33 || raw[0] != 1 {
        return Err(bad());
    }
    let vk =
        VerifyingKey::from_bytes(raw[1..].try_into().map_err(|_| bad())?).map_err(|_| bad())?;
    if hex::encode(key_id(AUDIT_ORIGIN, &vk)) != id {
        bail!("--public-key: the key id does not match the key");
    }
    Ok(vk)
}

/// Writes a checkpoint of `store`'s chain with `key` to `out` (atomically: a temporary file
/// renamed into place, so a witness never reads half a file). Returns the size and root.
pub async fn write_checkpoint(
    store: &yuepin_store::Store,
    key: &PrivateKey,
    out: Option<&Path>,
) -> Result<yuepin_tlog::Checkpoint> {
    let made = store
        .audit_checkpoint(
            &key.verifying_key(),
            |m| key.sign_message(m),
            chrono::Utc::now(),
        )
        .await?
        .map_err(|problem| anyhow!("no checkpoint signed: {}", describe(&problem)))?;
    match out {
        Some(path) => {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, &made.text)
                .with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        }
        None => print!("{}", made.text),
    }
    Ok(made.checkpoint)
}

fn describe(v: &Verification) -> String {
    match v {
        Verification::Intact { rows, .. } => format!("audit log intact: {rows} rows"),
        Verification::Altered { seq } => {
            format!("audit row {seq} was altered (its hash no longer matches)")
        }
        Verification::Broken { seq, .. } => format!(
            "audit chain broken at row {seq}: a row before it was deleted or it was inserted"
        ),
        Verification::Truncated { last_seq, head_seq } => {
            format!("audit log truncated: last row {last_seq}, but the head records {head_seq}")
        }
    }
}

pub async fn run(cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::Verify {
            db,
            key,
            checkpoint,
            public_key,
        } => {
            let resolved = db.resolve()?;
            let store = resolved.connect().await?;
            // Read the checkpoint before the database, so a bad file fails fast.
            let copy = match &checkpoint {
                None => None,
                Some(path) => {
                    let vk = match &public_key {
                        Some(p) => parse_verifier_key(p)?,
                        None => {
                            let path = key_path(&key, &resolved.data_dir);
                            read_private_key(&path)
                                .map_err(|e| anyhow!("reading the checkpoint key: {e}"))?
                                .verifying_key()
                        }
                    };
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Some(WitnessCopy::open(&text, AUDIT_ORIGIN, &vk).map_err(|e| {
                        anyhow!("the checkpoint {} is not valid: {e}", path.display())
                    })?)
                }
            };
            let started = std::time::Instant::now();
            match &copy {
                None => match store.audit_verify().await? {
                    Verification::Intact { rows, head } => {
                        println!("audit log intact: {rows} rows, head {head}")
                    }
                    problem => bail!(describe(&problem)),
                },
                Some(copy) => match store.audit_check_witness(copy).await? {
                    CheckpointCheck::Chain(problem) => bail!(describe(&problem)),
                    CheckpointCheck::Witness {
                        finding,
                        rows,
                        checkpoint: cp,
                    } => {
                        let signed = cp.timestamp.format("%Y-%m-%dT%H:%M:%SZ");
                        match finding {
                            Finding::Consistent { size, newer } => println!(
                                "audit log intact: {rows} rows; the first {size} are the ones the checkpoint signed at {signed} covers, {newer} written since"
                            ),
                            Finding::Rewritten {
                                first: Some(n),
                                size,
                            } => bail!(
                                "audit log rewritten: row {n} differs from the checkpoint of {size} rows signed at {signed} (rows {n} to {} no longer match it; later hashes and the head were recomputed)",
                                size.min(rows as u64)
                            ),
                            Finding::Rewritten { first: None, size } => bail!(
                                "audit log rewritten: rows 1 to {size} no longer match the checkpoint signed at {signed} (it keeps no row hashes, so the row cannot be named)"
                            ),
                            Finding::Dropped { present, size } => bail!(
                                "audit log truncated: the checkpoint signed at {signed} covers {size} rows, the database has {present}; rows {} to {size} were dropped",
                                present + 1
                            ),
                        }
                    }
                },
            }
            eprintln!(
                "audit chain checked in {:.2} s",
                started.elapsed().as_secs_f64()
            );
            // The credit capability's Merkle log is checked with the chain.
            let credit = crate::cmd::credit::service(store.clone(), &resolved.data_dir);
            let v = credit
                .verify_log(&yuepin_domain::Caller::cli("audit-verify"))
                .await?;
            match v.problem {
                None => println!(
                    "credit log intact: {} entries, {} checkpoints verified",
                    v.size, v.checkpoints
                ),
                Some(p) => bail!(crate::cmd::credit::describe(&p)),
            }
            Ok(())
        }
        AuditCommand::Checkpoint { db, key, out } => {
            let resolved = db.resolve()?;
            let store = resolved.connect().await?;
            let private = load_or_create_key(&key_path(&key, &resolved.data_dir))?;
            let cp = write_checkpoint(&store, &private, out.as_deref()).await?;
            eprintln!(
                "signed checkpoint of {} rows, root {}, key {}",
                cp.size,
                cp.root,
                verifier_key(&private.verifying_key())
            );
            Ok(())
        }
        AuditCommand::Key { db, key } => {
            let resolved = db.resolve()?;
            let private = load_or_create_key(&key_path(&key, &resolved.data_dir))?;
            println!("{}", verifier_key(&private.verifying_key()));
            Ok(())
        }
        AuditCommand::Tail { db, limit } => {
            let store = db.resolve()?.connect().await?;
            for e in store.audit_list(None, None, limit).await? {
                println!(
                    "{} {} {} {} {}:{}",
                    e.seq, e.at, e.actor, e.action, e.entity, e.entity_id
                );
            }
            Ok(())
        }
    }
}
