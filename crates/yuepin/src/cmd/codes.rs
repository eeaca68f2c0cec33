//! `yuepin codes …`: signing keys (init, rotate, withdraw, export), batch issue with QR images
//! and an A4 label sheet, offline verification, status changes (revoke, suspend, reinstate,
//! recall) and benchmarks. Private keys stay in `{data_dir}/keys/` (mode 0600).

use crate::config::{DbArgs, Resolved, ServerArgs};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use rand::SeedableRng;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;
use yuepin_code::{Resolver, SignedKeySet, StatusList, Verdict};
use yuepin_codes_service::{
    parse_status_action, status_name, CodesService, KeyAction, KeyFiles, SeriesChoice, StatusTarget,
};
use yuepin_domain::{china_today as today, Caller};
use yuepin_store::Store;

#[derive(Subcommand)]
pub enum Command {
    /// Signing keys: init, rotate, withdraw, list, export the signed key set.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Issue signed codes for a product: CSV of URIs, optional QR images and A4 label sheet.
    Issue(IssueArgs),
    /// Verify a code URI offline against a key set (and optionally a cached status list).
    Verify(VerifyArgs),
    /// Write the signed status list LIST_ID (for offline verifiers).
    StatusList {
        list_id: i64,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Revoke, suspend, reinstate or recall one code, a lot, a product or an enterprise's codes.
    Status(StatusArgs),
    /// Show counts of issued codes by status.
    Show {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Benchmarks: issue to CSV, offline verification.
    Bench(BenchArgs),
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create the root key and the first signing key (no-op when they exist).
    Init {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Retire the active signing key (its codes keep verifying) and create a new one.
    Rotate {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Withdraw a key: codes it signed stop verifying.
    Withdraw {
        kid: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List keys (public metadata only).
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Write the root-signed key set (and the root public key) for offline verification.
    Export {
        #[arg(long)]
        out: PathBuf,
        /// Also write the root public key document here.
        #[arg(long)]
        root_out: Option<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Args)]
pub struct IssueArgs {
    /// Product id (as shown by the API / enterprise page).
    #[arg(long)]
    product: i64,
    #[arg(long)]
    lot: Option<String>,
    #[arg(long)]
    count: usize,
    /// CSV output: uri,serial,status_index,issued_on,kid.
    #[arg(long)]
    out: PathBuf,
    /// Write one SVG and one PNG QR image per code into this directory.
    #[arg(long)]
    qr_dir: Option<PathBuf>,
    /// Write a label sheet PDF: each label has the QR, 粤品通, the product, the producer, lot
    /// and serial in Chinese and the URI.
    #[arg(long)]
    pdf: Option<PathBuf>,
    /// Layout of the label sheet: a4 (3 × 4 labels a page) or roll (one 60 × 40 mm label a page).
    #[arg(long, default_value = "a4", value_parser = ["a4", "roll"])]
    label_layout: String,
    /// Issue from this approved series (default: the newest approved series of the product and lot with room).
    #[arg(long)]
    series: Option<i64>,
    /// As the operator, grant a new series for this issue with this reason (audited).
    #[arg(long)]
    grant: Option<String>,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Args)]
pub struct VerifyArgs {
    uri: String,
    /// Key set: the signed document from /.well-known/yuepin/keys.json (or `keys export`).
    #[arg(long)]
    keys: PathBuf,
    /// Root public key document (/.well-known/yuepin/root.json); checks the key set's signature.
    #[arg(long)]
    root: Option<PathBuf>,
    /// Cached status list token (from /status/{list_id} or `codes status-list`).
    #[arg(long)]
    status: Option<PathBuf>,
}

#[derive(Args)]
pub struct StatusArgs {
    /// revoke, suspend, reinstate or recall
    action: String,
    #[arg(long)]
    reason: String,
    /// One code, by its full URI.
    #[arg(long)]
    uri: Option<String>,
    /// A product (with --lot: one lot of it).
    #[arg(long)]
    product: Option<i64>,
    #[arg(long)]
    lot: Option<String>,
    /// Every code of this enterprise (USCC).
    #[arg(long)]
    enterprise: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
pub struct BenchArgs {
    /// issue (signed codes to CSV) or verify (offline verification)
    what: String,
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    /// Worker threads for signing/verifying (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// CSV output for `issue` (default: a temporary file).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

/// The key ring files of a data directory, issued on the public URL.
fn key_files(data_dir: &Path, public_url: &str) -> KeyFiles {
    KeyFiles::new(keys_dir(data_dir), public_url)
}

/// The codes service of a resolved configuration.
async fn service(s: &Resolved) -> Result<CodesService> {
    let store = s.connect().await?;
    Ok(CodesService::new(
        store,
        keys_dir(&s.data_dir),
        &s.public_url,
    ))
}

/// Records a key event in the audit log when the database is configured and reachable (the
/// keys themselves live in files and work without one).
async fn audit_key_event(s: &Resolved, action: KeyAction, kid: &str, detail: serde_json::Value) {
    if let Ok(codes) = service(s).await {
        if let Err(e) = codes
            .audit_key_event(&Caller::cli("codes-keys"), action, kid, detail)
            .await
        {
            eprintln!("warning: audit entry not written: {e}");
        }
    }
}

pub async fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Keys(k) => run_keys(k).await,
        Command::Issue(a) => run_issue(a).await,
        Command::Verify(a) => run_verify(a),
        Command::StatusList {
            list_id,
            out,
            server,
        } => {
            let codes = service(&server.resolve()?).await?;
            let token = codes.signed_status_list(list_id).await?;
            std::fs::write(&out, token).with_context(|| format!("writing {}", out.display()))?;
            println!("status list {list_id} written to {}", out.display());
            Ok(())
        }
        Command::Status(a) => run_status(a).await,
        Command::Show { db } => {
            let s = db.resolve()?;
            let codes = service(&s).await?;
            let c = codes.status_counts(&Caller::cli("codes-show")).await?;
            println!(
                "valid {} · suspended {} · revoked {} · recalled {} ({})",
                c.valid,
                c.suspended,
                c.revoked,
                c.recalled,
                codes.store().backend_name()
            );
            Ok(())
        }
        Command::Bench(a) => run_bench(a),
    }
}

async fn run_keys(cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::Init { server } => {
            let s = server.resolve()?;
            let files = key_files(&s.data_dir, &s.public_url);
            let (ring, created) = files.open()?;
            if created {
                let kid = ring.active()?.kid().to_string();
                audit_key_event(
                    &s,
                    KeyAction::Create,
                    &kid,
                    serde_json::json!({"status": "active"}),
                )
                .await;
                println!(
                    "created key ring in {} (active key {kid})",
                    files.dir().display()
                );
            } else {
                println!(
                    "key ring in {} already exists (version {})",
                    files.dir().display(),
                    ring.version()
                );
            }
            Ok(())
        }
        KeysCommand::Rotate { server } => {
            let s = server.resolve()?;
            let (new, old) = key_files(&s.data_dir, &s.public_url).rotate()?;
            audit_key_event(&s, KeyAction::Rotate, new.as_str(), serde_json::json!({"active": new.as_str(), "retired": old.as_ref().map(|k| k.as_str())})).await;
            println!(
                "new active key {new}; retired {}",
                old.map(|k| k.to_string()).unwrap_or_else(|| "none".into())
            );
            Ok(())
        }
        KeysCommand::Withdraw {
            kid,
            reason,
            server,
        } => {
            let s = server.resolve()?;
            let new = key_files(&s.data_dir, &s.public_url).withdraw(&kid, &reason)?;
            audit_key_event(&s, KeyAction::Withdraw, &kid, serde_json::json!({"reason": reason, "new_active": new.as_ref().map(|k| k.as_str())})).await;
            println!("withdrew key {kid}; codes it signed no longer verify");
            if let Some(n) = new {
                println!("it was the active key: new active key {n}");
            }
            Ok(())
        }
        KeysCommand::List { server } => {
            let s = server.resolve()?;
            let (ring, _) = key_files(&s.data_dir, &s.public_url).open()?;
            println!("issuer {} · version {}", ring.issuer(), ring.version());
            for r in ring.records() {
                println!(
                    "{:<3} {:<9} not_before {} created {} retired {} withdrawn {}",
                    r.kid.as_str(),
                    format!("{:?}", r.status).to_lowercase(),
                    r.not_before,
                    r.created_on,
                    r.retired_on
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "—".into()),
                    r.withdrawn_on
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "—".into()),
                );
            }
            Ok(())
        }
        KeysCommand::Export {
            out,
            root_out,
            server,
        } => {
            let s = server.resolve()?;
            let (ring, _) = key_files(&s.data_dir, &s.public_url).open()?;
            std::fs::write(&out, ring.signed_key_set()?.to_json())
                .with_context(|| format!("writing {}", out.display()))?;
            if let Some(r) = root_out {
                std::fs::write(&r, serde_json::to_string_pretty(&ring.root_document())?)
                    .with_context(|| format!("writing {}", r.display()))?;
            }
            println!(
                "signed key set (public keys only) written to {}",
                out.display()
            );
            Ok(())
        }
    }
}

async fn run_issue(a: IssueArgs) -> Result<()> {
    if a.count == 0 {
        bail!("--count must be at least 1");
    }
    let codes = service(&a.server.resolve()?).await?;
    let caller = Caller::cli("codes-issue");
    let lot = a.lot.as_deref().map(str::trim).filter(|l| !l.is_empty());
    let choice = match (a.series, &a.grant) {
        (Some(id), _) => SeriesChoice::Id(id),
        (None, Some(reason)) => SeriesChoice::Grant {
            reason: reason.clone(),
        },
        (None, None) => SeriesChoice::NewestWithRoom,
    };
    let series = codes
        .series_for_issue(&caller, a.product, lot, a.count, choice)
        .await?;
    let started = Instant::now();
    let mut rng = rand::rngs::StdRng::from_entropy();
    let issued = codes
        .issue(
            &caller,
            series.id,
            a.count,
            yuepin_code::LIST_CAPACITY as usize,
            &mut rng,
        )
        .await?;
    let file =
        std::fs::File::create(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    yuepin_code::write_csv(&issued.codes, std::io::BufWriter::new(file))?;
    println!(
        "issued {} codes of series #{} (key {}) in {:.2?} → {}",
        issued.codes.len(),
        series.id,
        issued.kid,
        started.elapsed(),
        a.out.display()
    );
    if let Some(dir) = &a.qr_dir {
        std::fs::create_dir_all(dir)?;
        for c in &issued.codes {
            let name = c.serial.as_str();
            std::fs::write(
                dir.join(format!("{name}.svg")),
                yuepin_code::qr::qr_svg(&c.uri, 8)?,
            )?;
            std::fs::write(
                dir.join(format!("{name}.png")),
                yuepin_code::qr::qr_png(&c.uri, 8)?,
            )?;
        }
        println!("QR images (SVG + PNG) in {}", dir.display());
    }
    if let Some(pdf) = &a.pdf {
        let layout = yuepin_codes_service::LabelLayout::parse(&a.label_layout)
            .context("--label-layout: a4 or roll")?;
        let labels = codes.issued_labels(&issued).await?;
        let title = format!("粤品通标签 · {}", issued.product.product.name);
        std::fs::write(
            pdf,
            yuepin_codes_service::label_sheet(&labels, layout, &title)?,
        )
        .with_context(|| format!("writing {}", pdf.display()))?;
        println!("Label sheet ({}) in {}", layout.as_str(), pdf.display());
    }
    Ok(())
}

fn run_verify(a: VerifyArgs) -> Result<()> {
    let keys_text =
        std::fs::read(&a.keys).with_context(|| format!("reading {}", a.keys.display()))?;
    let key_set = match &a.root {
        Some(root) => {
            let doc: yuepin_code::RootKeyDocument = serde_json::from_slice(
                &std::fs::read(root).with_context(|| format!("reading {}", root.display()))?,
            )
            .context("root key document")?;
            SignedKeySet::from_json_verified(&keys_text, &doc.verifying_key()?)?
        }
        None => {
            let doc: SignedKeySet =
                serde_json::from_slice(&keys_text).context("not a signed key set document")?;
            eprintln!("note: key set accepted without checking its root signature (pass --root)");
            doc.key_set
        }
    };
    let status = match &a.status {
        Some(p) => {
            let token =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Some(StatusList::from_signed_token(token.trim(), &key_set)?)
        }
        None => None,
    };
    let checked =
        yuepin_code::verify_detailed(a.uri.trim(), &key_set, status.as_ref(), chrono::Utc::now());
    let (word, ok) = match &checked.verdict {
        Verdict::Valid => ("valid: genuine and valid".to_string(), true),
        Verdict::Revoked { .. } => ("revoked".into(), false),
        Verdict::Suspended => ("suspended".into(), false),
        Verdict::Recalled => ("recalled".into(), false),
        Verdict::SignatureInvalid => ("signature-invalid".into(), false),
        Verdict::UnknownKey => ("unknown-key".into(), false),
        Verdict::KeyWithdrawn => ("key-withdrawn".into(), false),
        Verdict::Malformed(r) => (format!("malformed: {r}"), false),
        Verdict::StatusStale { age } => (
            format!(
                "status-stale: signature valid, status list {} s old",
                age.num_seconds()
            ),
            false,
        ),
        Verdict::StatusUnknown => (
            "signature-valid: status unknown (no status list for this code given)".into(),
            a.status.is_none(),
        ),
    };
    println!("{word}");
    if let Some(d) = &checked.details {
        println!(
            "kid {} · issued {} · status index {}",
            d.kid,
            d.claims.issued_on,
            d.claims.status.global_index()
        );
    }
    if ok {
        Ok(())
    } else {
        std::process::exit(2)
    }
}

async fn run_status(a: StatusArgs) -> Result<()> {
    let Some(status) = parse_status_action(&a.action) else {
        bail!(
            "action {:?}: use revoke, suspend, reinstate or recall",
            a.action
        );
    };
    if a.reason.trim().is_empty() {
        bail!("--reason is required");
    }
    let target = match (&a.uri, a.product, &a.lot, &a.enterprise) {
        (Some(uri), None, None, None) => StatusTarget::Code {
            code_id: None,
            uri: Some(uri.clone()),
        },
        (None, Some(p), Some(lot), None) => StatusTarget::Lot {
            product_id: Some(p),
            lot: Some(lot.clone()),
        },
        (None, Some(p), None, None) => StatusTarget::Product {
            product_id: Some(p),
        },
        (None, None, None, Some(uscc)) => StatusTarget::Enterprise {
            uscc: Some(uscc.clone()),
        },
        _ => bail!("give exactly one of --uri, --product [--lot], --enterprise"),
    };
    let codes = service(&a.db.resolve()?).await?;
    let out = codes
        .change_status(&Caller::cli("codes-status"), target, status, &a.reason)
        .await?;
    println!("{} code(s) changed to {}", out.changed, a.action);
    Ok(())
}

fn run_bench(a: BenchArgs) -> Result<()> {
    let pool = rayon_pool(a.threads)?;
    let key =
        yuepin_code::PrivateKey::generate(yuepin_code::Kid::parse("A")?, &mut rand::rngs::OsRng);
    let spec = yuepin_code::BatchSpec {
        resolver: Resolver::parse("q.yuepin.gd.gov.cn")?,
        subject: yuepin_code::Subject::Gtin(yuepin_domain::Gtin::parse("06901234567892")?),
        lot: Some(yuepin_code::Lot::parse("20261126GZ01")?),
        issued_on: today(),
    };
    let threads = pool.current_num_threads();
    match a.what.as_str() {
        "issue" => {
            let mut allocator = yuepin_code::IndexAllocator::new(0)?;
            let mut rng = rand::rngs::StdRng::from_entropy();
            let path = a
                .out
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("yuepin-bench-issue.csv"));
            let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
            let count = a.count.min(yuepin_code::LIST_CAPACITY as usize);
            let started = Instant::now();
            pool.install(|| {
                yuepin_code::issue_batch(&spec, &key, count, &mut allocator, &mut rng, file)
            })?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "issue: {count} signed codes to CSV {} in {secs:.3} s = {:.0} codes/s ({threads} threads)",
                path.display(),
                count as f64 / secs
            );
        }
        "verify" => {
            let mut allocator = yuepin_code::IndexAllocator::new(0)?;
            let mut rng = rand::rngs::StdRng::from_entropy();
            let count = a.count.min(yuepin_code::LIST_CAPACITY as usize);
            let codes = yuepin_code::issue_many(&spec, &key, count, &mut allocator, &mut rng)?;
            let key_set = yuepin_code::KeySet::new(
                "bench",
                1,
                vec![key.public(yuepin_code::KeyStatus::Active, today())],
            )?;
            let mut list = StatusList::new(0, chrono::Utc::now(), 3600)?;
            for c in codes.iter().step_by(100) {
                list.set(c.status, yuepin_code::CodeStatus::Revoked)?;
            }
            let now = chrono::Utc::now();
            let started = Instant::now();
            let valid: usize = pool.install(|| {
                use rayon::prelude::*;
                codes
                    .par_iter()
                    .filter(|c| {
                        yuepin_code::verify(&c.uri, &key_set, Some(&list), now) == Verdict::Valid
                    })
                    .count()
            });
            let secs = started.elapsed().as_secs_f64();
            println!(
                "verify: {count} codes in {secs:.3} s = {:.0} codes/s on {threads} thread(s) = {:.0} codes/s per thread ({valid} valid, {} revoked)",
                count as f64 / secs,
                count as f64 / secs / threads as f64,
                count - valid
            );
        }
        other => bail!("bench {other:?}: use issue or verify"),
    }
    std::io::stdout().flush()?;
    Ok(())
}

fn rayon_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    Ok(b.build()?)
}

/// Demo: an approved series of 200 codes, none issued yet, for the first product of the
/// enterprise the demo enterprise account belongs to, so that signing in as `enterprise` one
/// can issue codes and download labels on `/codes/series/{id}`.
pub async fn seed_showcase_series(
    store: &Store,
    data_dir: &Path,
    public_url: &str,
    uscc: &str,
) -> Result<()> {
    let codes = CodesService::new(store.clone(), keys_dir(data_dir), public_url);
    let caller = Caller::cli("demo");
    let products = yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .products(&caller, uscc)
        .await?;
    if let Some(product) = products.first() {
        let series = codes
            .grant_series(
                &caller,
                product.id,
                Some("202612DEMO"),
                200,
                "演示：待签发的码段",
            )
            .await?;
        println!(
            "Demo enterprise {uscc} has code series #{} (200 codes of {}) to issue at /codes/series/{}",
            series.id, product.product.name, series.id
        );
    }
    Ok(())
}

/// Demo: codes for a few demo products (one revoked, one suspended, one recalled) issued for
/// `public_url`, the address the demo serves on; scan URLs printed. On an existing demo
/// database whose codes were issued for another address (another `--listen` port), codes for
/// this address are added, so that the printed links always open on the server in use.
pub async fn seed_demo(store: &Store, data_dir: &Path, public_url: &str) -> Result<()> {
    let codes = CodesService::new(store.clone(), keys_dir(data_dir), public_url);
    let caller = Caller::cli("demo");
    let mut urls = codes.demo_links(&caller).await?;
    if urls.is_empty() {
        urls = codes.seed_demo(&caller).await?;
    }
    println!("\nDemo scan URLs (open them while the demo server runs):");
    for (status, url) in &urls {
        println!("  {:<9} {url}", status_name(*status));
    }
    Ok(())
}
