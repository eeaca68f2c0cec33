//! `yuepin import` and `yuepin export`: files in the documented column sets (docs/import.md).
//! Imports validate every row first and write in one transaction: a bad file changes nothing.

use crate::config::DbArgs;
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use yuepin_enterprises_service::{
    EnterprisesService, ImportSummary, MissingReference, IMPORT_BATCH,
};
use yuepin_import::{EventRecord, HeaderLanguage, ImportOptions, Rows, TextEncoding};
use yuepin_store::{Actor, Store};

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum Dataset {
    Enterprises,
    Products,
    Events,
}

#[derive(Args)]
pub struct ImportArgs {
    pub dataset: Dataset,
    pub file: PathBuf,
    /// Text encoding of a CSV file: auto (UTF-8 if valid, else GBK/GB18030), utf-8 or gbk.
    #[arg(long, default_value = "auto")]
    pub encoding: String,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

#[derive(Args)]
pub struct ExportArgs {
    pub dataset: Dataset,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    #[arg(long)]
    pub out: PathBuf,
    /// Header language: zh (default) or en.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    #[command(flatten)]
    pub db: DbArgs,
}

fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

impl Dataset {
    /// The `dataset` label of `yuepin_import_rows_total`.
    fn metric_label(self) -> &'static str {
        match self {
            Dataset::Enterprises => "enterprises",
            Dataset::Products => "products",
            Dataset::Events => "events",
        }
    }
}

fn print_summary(dataset: Dataset, s: &ImportSummary) {
    println!(
        "imported {:?}: {} rows ({} new, {} updated)",
        dataset, s.rows, s.inserted, s.updated
    );
}

fn missing_error(missing: Vec<MissingReference>) -> anyhow::Error {
    let mut msg = format!("{} 行引用了不存在的数据，未导入任何数据 ({} rows reference unknown data; nothing imported):\n", missing.len(), missing.len());
    for m in missing.iter().take(200) {
        msg.push_str(&format!(
            "  data row {}: column {}: {} 不存在 (not found: import it first)\n",
            m.index + 1,
            m.field,
            m.value
        ));
    }
    anyhow::anyhow!(msg)
}

fn row_errors_message(file: &std::path::Path, errors: &[yuepin_import::RowError]) -> String {
    let mut msg = format!(
        "{}: {} 处错误，未导入任何数据 ({} errors; nothing imported):\n",
        file.display(),
        errors.len(),
        errors.len()
    );
    for e in errors.iter().take(500) {
        msg.push_str(&format!("  {e}\n"));
    }
    if errors.len() > 500 {
        msg.push_str(&format!("  … and {} more\n", errors.len() - 500));
    }
    msg
}

/// Reads a file and hashes it (the hash identifies the import in the audit log).
fn read_with_options(file: &PathBuf, encoding: &str) -> Result<(Vec<u8>, String, ImportOptions)> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let options = ImportOptions {
        format: yuepin_import::Format::from_file_name(&file.to_string_lossy()),
        encoding: TextEncoding::from_label(encoding)
            .with_context(|| format!("unknown encoding {encoding:?}"))?,
    };
    Ok((bytes, sha, options))
}

/// Imports enterprises while the file is still being parsed: a parser thread validates rows and
/// streams batches into one open write transaction. Any bad row stops the writing, every error
/// is still collected, and the transaction is dropped (rolled back): nothing lands.
async fn import_enterprises_streaming(
    store: &Store,
    file: &PathBuf,
    encoding: &str,
    actor: Actor,
) -> Result<ImportSummary> {
    let (bytes, sha, options) = read_with_options(file, encoding)?;
    let bar = progress_bar(bytes.len() as u64, "importing");
    let bar2 = bar.clone();
    let rows = Rows::<yuepin_domain::Enterprise>::open(std::io::Cursor::new(bytes), options)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        .on_progress(move |done, _total| bar2.set_position(done));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<yuepin_domain::Enterprise>>(8);
    let parser = std::thread::spawn(move || {
        let mut errors = Vec::new();
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        for row in rows {
            match row {
                Ok(e) if errors.is_empty() => {
                    batch.push(e);
                    if batch.len() == IMPORT_BATCH
                        && tx.blocking_send(std::mem::take(&mut batch)).is_err()
                    {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() && !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        errors
    });
    let mut import = EnterprisesService::new(store.clone())
        .begin_enterprise_import(actor)
        .await?;
    let mut write_error = None;
    while let Some(batch) = rx.recv().await {
        if write_error.is_none() {
            write_error = import.write(batch).await.err();
        }
    }
    let errors = parser
        .join()
        .map_err(|_| anyhow::anyhow!("the parser thread panicked"))?;
    bar.finish_and_clear();
    if !errors.is_empty() {
        drop(import);
        bail!(row_errors_message(file, &errors));
    }
    if let Some(e) = write_error {
        return Err(e).context("writing the import (nothing was written)");
    }
    let summary = import.finish(&sha).await?;
    Ok(summary)
}

/// Parses and validates the whole file (with a progress bar), or fails listing every bad row.
pub fn parse_file<T: yuepin_import::Record>(
    file: &PathBuf,
    encoding: &str,
) -> Result<(Vec<T>, String)> {
    let (bytes, sha, options) = read_with_options(file, encoding)?;
    let bar = progress_bar(bytes.len() as u64, "validating");
    let bar2 = bar.clone();
    let rows = Rows::<T>::open(std::io::Cursor::new(bytes), options)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        .on_progress(move |done, _total| bar2.set_position(done));
    let result = yuepin_import::validate_all(rows);
    bar.finish_and_clear();
    match result {
        Ok(rows) => Ok((rows, sha)),
        Err(errors) => bail!(row_errors_message(file, &errors)),
    }
}

/// Imports a parsed dataset (shared by `import` and `demo`).
pub async fn import_into(
    store: &Store,
    dataset: Dataset,
    file: &PathBuf,
    encoding: &str,
    actor: Actor,
) -> Result<ImportSummary> {
    let bar = |n: usize, what: &str| {
        let b = ProgressBar::new(n as u64);
        b.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_message(what.to_string());
        b
    };
    let registry = EnterprisesService::new(store.clone());
    let summary = match dataset {
        Dataset::Enterprises => import_enterprises_streaming(store, file, encoding, actor).await,
        Dataset::Products => {
            let (rows, sha) = parse_file::<yuepin_domain::Product>(file, encoding)?;
            let b = bar(rows.len(), "writing");
            let s = registry
                .import_products(actor, &rows, &sha, |n| b.inc(n as u64))
                .await?;
            b.finish_and_clear();
            s.map_err(missing_error)
        }
        Dataset::Events => {
            let (rows, sha) = parse_file::<EventRecord>(file, encoding)?;
            let pairs: Vec<_> = rows
                .into_iter()
                .map(|r| (r.event, r.product_model))
                .collect();
            let b = bar(pairs.len(), "writing");
            let s = registry
                .import_events(actor, &pairs, &sha, |n| b.inc(n as u64))
                .await?;
            b.finish_and_clear();
            s.map_err(missing_error)
        }
    }?;
    yuepin_metrics::import_rows(dataset.metric_label(), summary.rows as u64);
    Ok(summary)
}

pub async fn run_import(args: ImportArgs) -> Result<()> {
    let store = args.db.resolve()?.connect().await?;
    let summary = import_into(
        &store,
        args.dataset,
        &args.file,
        &args.encoding,
        Actor::cli("import"),
    )
    .await?;
    print_summary(args.dataset, &summary);
    // Bulk imports commit without copying their write-ahead log into the database file.
    store.checkpoint().await?;
    Ok(())
}

pub async fn run_export(args: ExportArgs) -> Result<()> {
    let store = args.db.resolve()?.connect().await?;
    // Written beside the target and renamed into place only when every row was written, so a
    // refused export (a cell too long for a workbook, say) leaves no file, not a 0-byte one.
    let tmp = args.out.with_file_name(format!(
        ".{}.{}.tmp",
        args.out
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = export_to(&args, &store, &tmp).await;
    let count = match result {
        Ok(count) => count,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "exported {count} {:?} rows to {}",
        args.dataset,
        args.out.display()
    );
    Ok(())
}

async fn export_to(args: &ExportArgs, store: &Store, path: &std::path::Path) -> Result<usize> {
    let lang = if args.lang == "en" {
        HeaderLanguage::English
    } else {
        HeaderLanguage::Chinese
    };
    let out =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let out = std::io::BufWriter::new(out);
    let registry = EnterprisesService::new(store.clone());
    let count = match args.dataset {
        Dataset::Enterprises => write(out, &registry.all_enterprises().await?, args.format, lang)?,
        Dataset::Products => {
            let rows: Vec<_> = registry
                .all_products()
                .await?
                .into_iter()
                .map(|p| p.product)
                .collect();
            write(out, &rows, args.format, lang)?
        }
        Dataset::Events => {
            let rows: Vec<EventRecord> = registry
                .all_events()
                .await?
                .into_iter()
                .map(|(uscc, model, ev)| -> Result<EventRecord> {
                    Ok(EventRecord {
                        event: yuepin_domain::QualityEvent {
                            enterprise: yuepin_domain::Uscc::parse(&uscc)?,
                            product_id: None,
                            date: ev.date,
                            kind: ev.kind,
                        },
                        product_model: model,
                    })
                })
                .collect::<Result<_>>()?;
            write(out, &rows, args.format, lang)?
        }
    };
    Ok(count)
}

fn write<T: yuepin_import::Export, W: std::io::Write>(
    out: W,
    rows: &[T],
    format: ExportFormat,
    lang: HeaderLanguage,
) -> Result<usize> {
    let mut out = match format {
        ExportFormat::Csv => yuepin_import::export_csv(out, rows, lang)?,
        ExportFormat::Xlsx => yuepin_import::export_xlsx(out, rows, lang)?,
    };
    out.flush()?;
    Ok(rows.len())
}
