//! Settings from flags, then environment (`YUEPIN_*`), then a TOML config file, then defaults.

use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use yuepin_policy::PolicySet;
use yuepin_store::Store;

#[derive(Args, Debug, Clone, Default)]
pub struct DbArgs {
    /// Database URL: sqlite://PATH (default: DATA_DIR/yuepin.db) or postgres://USER@HOST/DB.
    #[arg(long, env = "YUEPIN_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory for the SQLite database, signing keys and generated files.
    #[arg(long, env = "YUEPIN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML config file with any of: listen, database_url, data_dir, public_url, secure_cookies,
    /// log_format, metrics_token, trusted_proxies, require_totp, audit_checkpoint_minutes,
    /// policy_packs.
    #[arg(long, env = "YUEPIN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Policy packs loaded beside the built-in 粤市监〔2023〕74号 (successor policies as data): a
    /// YAML file or a directory of them, repeatable (replaces the file's `policy_packs`).
    #[arg(
        long = "policy-pack",
        env = "YUEPIN_POLICY_PACKS",
        value_delimiter = ','
    )]
    pub policy_packs: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ServerArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "YUEPIN_LISTEN")]
    pub listen: Option<String>,
    /// Public base URL (links, printed codes), e.g. https://yuepin.example.gov.cn
    #[arg(long, env = "YUEPIN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Mark cookies Secure (set when TLS terminates in front of the server).
    #[arg(long, env = "YUEPIN_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Log lines on standard error: human-readable text or one JSON object per line.
    #[arg(long, env = "YUEPIN_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Bearer token that opens /metrics from other hosts (loopback needs none).
    #[arg(long, env = "YUEPIN_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Proxies (IP addresses or CIDR ranges, comma-separated) whose X-Forwarded-For names the
    /// client; without any, the connection's peer is the client.
    #[arg(long, env = "YUEPIN_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// Require a TOTP second factor of regulator and bank accounts (default true).
    #[arg(long, env = "YUEPIN_REQUIRE_TOTP")]
    pub require_totp: Option<bool>,
    /// Sign an audit checkpoint (the witness copy) at start and then every N minutes, into
    /// DATA_DIR/audit-checkpoints/ (`latest.txt` and one file per chain size); 0: never.
    /// Default 60. Ship the directory off the server (a witness, a cron copy).
    #[arg(long, env = "YUEPIN_AUDIT_CHECKPOINT_MINUTES")]
    pub audit_checkpoint_minutes: Option<u64>,
    /// The audit checkpoint key file (default DATA_DIR/audit-keys/audit-A1.key).
    #[arg(long = "audit-key", env = "YUEPIN_AUDIT_KEY")]
    pub audit_key: Option<PathBuf>,
}

/// How log lines are written.
#[derive(clap::ValueEnum, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON object per line (the span's fields, e.g. the request id, included).
    Json,
}

impl LogFormat {
    /// The format for commands without server settings: `YUEPIN_LOG_FORMAT`, else text.
    pub fn from_env() -> Result<LogFormat> {
        match std::env::var("YUEPIN_LOG_FORMAT") {
            Ok(v) if !v.is_empty() => <LogFormat as clap::ValueEnum>::from_str(&v, true)
                .map_err(|_| anyhow::anyhow!("YUEPIN_LOG_FORMAT must be text or json, not {v:?}")),
            _ => Ok(LogFormat::Text),
        }
    }
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    secure_cookies: Option<bool>,
    log_format: Option<LogFormat>,
    metrics_token: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    require_totp: Option<bool>,
    audit_checkpoint_minutes: Option<u64>,
    /// Relative paths are read from the config file's directory.
    policy_packs: Option<Vec<PathBuf>>,
}

fn read_file(path: Option<&Path>) -> Result<FileConfig> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading config {}", p.display()))?;
            let mut file: FileConfig =
                toml::from_str(&text).with_context(|| format!("parsing config {}", p.display()))?;
            if let (Some(packs), Some(dir)) = (file.policy_packs.as_mut(), p.parent()) {
                for pack in packs.iter_mut().filter(|pack| pack.is_relative()) {
                    *pack = dir.join(&*pack);
                }
            }
            Ok(file)
        }
        None => Ok(FileConfig::default()),
    }
}

/// Fully resolved settings.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub listen: String,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub secure_cookies: bool,
    pub log_format: LogFormat,
    pub metrics_token: Option<String>,
    pub trusted_proxies: yuepin_web::client_addr::TrustedProxies,
    /// Regulator and bank accounts must enrol TOTP.
    pub require_totp: bool,
    /// Policy pack files or directories beside the built-in pack, in load order.
    pub policy_packs: Vec<PathBuf>,
    /// Minutes between the server's signed audit checkpoints; 0: none.
    pub audit_checkpoint_minutes: u64,
    /// The audit checkpoint key file, when not the default under the data directory.
    pub audit_key: Option<PathBuf>,
}

impl Resolved {
    pub async fn connect(&self) -> Result<Store> {
        self.prepare()?;
        Store::connect(&self.database_url)
            .await
            .with_context(|| format!("connecting to {}", redact(&self.database_url)))
    }
    pub async fn connect_without_migrating(&self) -> Result<Store> {
        self.prepare()?;
        Store::connect_without_migrating(&self.database_url)
            .await
            .with_context(|| format!("connecting to {}", redact(&self.database_url)))
    }
    /// The built-in pack and the configured ones, each validated (a bad file is refused with
    /// its path, line and field, and nothing starts). A directory contributes its `*.yaml` /
    /// `*.yml` files in name order.
    pub fn policy_set(&self) -> Result<PolicySet> {
        let mut set = PolicySet::builtin();
        for path in &self.policy_packs {
            let files = if path.is_dir() {
                let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                    .with_context(|| format!("reading policy pack directory {}", path.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
                    })
                    .collect();
                files.sort();
                files
            } else {
                vec![path.clone()]
            };
            for file in files {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading policy pack {}", file.display()))?;
                set.load_str(&file.display().to_string(), &text)
                    .context("policy pack refused; no pack was loaded")?;
            }
        }
        Ok(set)
    }
    fn prepare(&self) -> Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data directory {}", self.data_dir.display()))
    }
}

/// Hides a password in a database URL for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl DbArgs {
    pub fn resolve(&self) -> Result<Resolved> {
        ServerArgs {
            db: self.clone(),
            ..Default::default()
        }
        .resolve()
    }
}

impl ServerArgs {
    pub fn resolve(&self) -> Result<Resolved> {
        let file = read_file(self.db.config.as_deref())?;
        let data_dir = self
            .db
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("yuepin-data"));
        let database_url = self
            .db
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("yuepin.db").display()));
        let listen = self
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url = self
            .public_url
            .clone()
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        let proxies = self
            .trusted_proxies
            .clone()
            .or(file.trusted_proxies)
            .unwrap_or_default();
        let trusted_proxies =
            yuepin_web::client_addr::TrustedProxies::parse(&proxies).context("trusted_proxies")?;
        let policy_packs = if self.db.policy_packs.is_empty() {
            file.policy_packs.unwrap_or_default()
        } else {
            self.db.policy_packs.clone()
        };
        Ok(Resolved {
            policy_packs,
            trusted_proxies,
            listen,
            database_url,
            data_dir,
            public_url,
            secure_cookies: self.secure_cookies.or(file.secure_cookies).unwrap_or(false),
            require_totp: self.require_totp.or(file.require_totp).unwrap_or(true),
            audit_checkpoint_minutes: self
                .audit_checkpoint_minutes
                .or(file.audit_checkpoint_minutes)
                .unwrap_or(60),
            audit_key: self.audit_key.clone(),
            log_format: self.log_format.or(file.log_format).unwrap_or_default(),
            metrics_token: self
                .metrics_token
                .clone()
                .or(file.metrics_token)
                .filter(|t| !t.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_and_metrics_token_come_from_flags_then_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("yuepin.toml");
        std::fs::write(
            &path,
            "log_format = \"json\"\nmetrics_token = \"from-file\"\n",
        )
        .unwrap();
        let mut args = ServerArgs {
            db: DbArgs {
                config: Some(path),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = args.resolve().unwrap();
        assert_eq!(r.log_format, LogFormat::Json);
        assert_eq!(r.metrics_token.as_deref(), Some("from-file"));
        args.log_format = Some(LogFormat::Text);
        args.metrics_token = Some("from-flag".into());
        let r = args.resolve().unwrap();
        assert_eq!(r.log_format, LogFormat::Text);
        assert_eq!(r.metrics_token.as_deref(), Some("from-flag"));
        let r = ServerArgs::default().resolve().unwrap();
        assert_eq!((r.log_format, r.metrics_token), (LogFormat::Text, None));
    }

    #[test]
    fn policy_packs_come_from_the_file_relative_to_it_or_from_flags() {
        let dir = tempfile::tempdir().unwrap();
        let packs = dir.path().join("packs");
        std::fs::create_dir(&packs).unwrap();
        std::fs::write(packs.join("a.yaml"), yuepin_policy::EXAMPLE_SECOND_PACK).unwrap();
        std::fs::write(packs.join("notes.txt"), "not a pack").unwrap();
        let path = dir.path().join("yuepin.toml");
        std::fs::write(&path, "policy_packs = [\"packs\"]\n").unwrap();
        let mut args = ServerArgs {
            db: DbArgs {
                config: Some(path),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = args.resolve().unwrap();
        assert_eq!(r.policy_packs, vec![packs.clone()]);
        let set = r.policy_set().unwrap();
        let ids: Vec<&str> = set.packs().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["gd-2023-74", "example-2026-continuation"]);

        // A bad pack is refused whole, naming the file and the line.
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "pack:\n  id: [unclosed\n").unwrap();
        args.db.policy_packs = vec![bad.clone()];
        let e = format!("{:#}", args.resolve().unwrap().policy_set().unwrap_err());
        assert!(e.contains(&format!("{}:", bad.display())), "{e}");
        assert!(e.contains("no pack was loaded"), "{e}");
        assert_eq!(
            ServerArgs::default()
                .resolve()
                .unwrap()
                .policy_set()
                .unwrap()
                .packs()
                .len(),
            1
        );
    }

    #[test]
    fn trusted_proxies_come_from_flags_then_the_file_and_must_parse() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("yuepin.toml");
        std::fs::write(&path, "trusted_proxies = [\"10.0.0.0/8\"]\n").unwrap();
        let mut args = ServerArgs {
            db: DbArgs {
                config: Some(path),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = args.resolve().unwrap();
        assert!(r.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        args.trusted_proxies = Some(vec!["192.0.2.0/24".into()]);
        let r = args.resolve().unwrap();
        assert!(!r.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(r.trusted_proxies.contains("192.0.2.9".parse().unwrap()));
        args.trusted_proxies = Some(vec!["not-an-address".into()]);
        let e = format!("{:#}", args.resolve().unwrap_err());
        assert!(e.contains("not-an-address"), "{e}");
        assert!(ServerArgs::default()
            .resolve()
            .unwrap()
            .trusted_proxies
            .is_empty());
    }
}
