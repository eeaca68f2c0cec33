//! `yuepin complaints …`: import 12315 complaint files, run surge detection, maintain the
//! classification lexicon and report its accuracy, list warnings, generate synthetic data, and
//! benchmark ingest / aggregation / detection. `seed_demo` loads the demo complaint set. Every
//! use case goes through `ComplaintsService` as the CLI operator; this file parses flags and
//! prints.

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use yuepin_complaints::{
    evaluate_sets, evaluation_table, generate, Category, Complaint, DetectorConfig, Dim,
    GeneratorParams, LabelledSetParams, Level, Method, Outbreak, PooledOverrides, Shape,
    TextEncoding, TimeGrain,
};
use yuepin_complaints_service::{
    check_term, term_target, AlarmFilter, ComplaintFilter, ComplaintsService, ExportFormat,
    ExportLang, ImportOptions, ImportProgress, WarningStatus,
};
use yuepin_domain::{Caller, Division, RegionCode};
use yuepin_store::Store;

/// The service on the configured database.
async fn service(db: crate::config::DbArgs) -> Result<ComplaintsService> {
    Ok(ComplaintsService::new(db.resolve()?.connect().await?))
}

#[derive(Subcommand)]
pub enum Command {
    /// Show what this module has stored.
    Status {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Import complaints from CSV, JSON Lines or XLSX (UTF-8 or GBK). All or nothing: any bad
    /// row is reported with its row and field and nothing is written.
    Import {
        file: PathBuf,
        /// auto (default), utf8 or gbk.
        #[arg(long, default_value = "auto")]
        encoding: String,
        /// csv, jsonl or xlsx (default: from the file extension).
        #[arg(long)]
        format: Option<String>,
        /// Hide the progress bar.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Recompute surge alarms (the pooled ratio scan: each series against the other cities,
    /// calibrated p, BH across series, roll-up) over the stored complaints; significant alarms
    /// become drafts.
    Detect {
        /// Last day of the analysis (default: the last day with complaints).
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Days at the end reported and tested (default 28).
        #[arg(long, default_value_t = 28)]
        report_days: i64,
        /// Do not create draft warnings.
        #[arg(long)]
        no_drafts: bool,
        #[command(flatten)]
        tuning: Tuning,
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Score a detector configuration on the generator's labelled sets (outbreaks injected at
    /// known places): sensitivity, median delay and false alarms per 1,000 series-days, per
    /// method (raw and BH-significant) and combined, as a Markdown table.
    Evaluate {
        /// Seeds of the labelled sets, comma-separated.
        #[arg(long, default_value = "101,202,303", value_delimiter = ',')]
        seeds: Vec<u64>,
        /// Outbreak shapes drawn per outbreak: flat, ramp, spike, bell (comma-separated).
        #[arg(long, default_value = "spike,bell")]
        shapes: String,
        /// Small sets (240 days, ~1 500 a day, 10 outbreaks): seconds instead of minutes, for
        /// a quick look; report figures from the standard sets.
        #[arg(long)]
        small: bool,
        /// Also write the table to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Stored alarms: `alarms export`.
    Alarms {
        #[command(subcommand)]
        command: AlarmsCommand,
    },
    /// The earlier spelling of `alarms export`, kept for scripts.
    #[command(hide = true)]
    AlarmsExport(AlarmsExportArgs),
    /// Classification accuracy on the shipped labelled set and on regulator-corrected complaints.
    Accuracy {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Add a lexicon term pointing at a category (key or 中文名) or a division (13–43).
    LexiconAdd {
        term: String,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        division: Option<String>,
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// List warnings (all statuses).
    Warnings {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Write a deterministic synthetic complaint file (CSV) for benchmarks.
    Generate {
        #[arg(long)]
        out: PathBuf,
        /// Number of days (from --start).
        #[arg(long, default_value_t = 1461)]
        days: usize,
        /// Mean complaints per day.
        #[arg(long, default_value_t = 6845.0)]
        mean_daily: f64,
        #[arg(long, default_value = "2022-11-25")]
        start: NaiveDate,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Include fake complainant personal data.
        #[arg(long)]
        personal_data: bool,
    },
    /// Time group-bys over the stored complaints (cube load + counts), to compare with DuckDB.
    BenchAggregate {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
}

/// `yuepin complaints alarms …`.
#[derive(Subcommand)]
pub enum AlarmsCommand {
    /// Write the stored alarms matching the filters (newest period first, at most 100,000) as
    /// CSV (UTF-8 with BOM), XLSX or JSON Lines. CSV and XLSX carry Chinese headers and values
    /// (`--lang en` for English); JSON Lines the API's machine keys.
    Export(AlarmsExportArgs),
}

/// The filters and output of an alarm export.
#[derive(clap::Args, Debug)]
pub struct AlarmsExportArgs {
    /// csv, xlsx or jsonl.
    #[arg(long)]
    pub format: String,
    #[arg(long)]
    pub out: PathBuf,
    /// zh (default) or en: headers and values of CSV and XLSX.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// pooled_scan, ears_c1, ears_c2, ears_c3, farrington_flexible or cusum.
    #[arg(long)]
    pub method: Option<String>,
    /// city, division or category.
    #[arg(long)]
    pub level: Option<String>,
    /// City name or any GB/T 2260 code of it.
    #[arg(long)]
    pub city: Option<String>,
    /// Manufacturing division (two digits).
    #[arg(long)]
    pub division: Option<String>,
    /// Periods starting on or after this day.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Periods starting on or before this day.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Only BH-significant alarms.
    #[arg(long)]
    pub significant_only: bool,
    #[command(flatten)]
    pub db: crate::config::DbArgs,
}

/// The detector configuration of `detect` and `evaluate`: a JSON file, then flags for the
/// pooled scan's main parameters, then `--set` for any parameter of any method.
#[derive(clap::Args, Debug, Clone)]
pub struct Tuning {
    /// Detector configuration (JSON, `DetectorConfig`; missing keys take defaults, unknown
    /// keys are refused). Not `--config`: that is the platform's TOML file on every command.
    #[arg(long, value_name = "FILE.json")]
    detector_config: Option<PathBuf>,
    /// Pooled scan: false-alarm bound per series-day (overrides the file).
    #[arg(long)]
    alpha: Option<f64>,
    /// Pooled scan: minimum complaints in a window for it to count.
    #[arg(long)]
    min_count: Option<f64>,
    /// Pooled scan: window lengths in days, comma-separated (e.g. 1,3,7).
    #[arg(long, value_delimiter = ',')]
    windows: Option<Vec<usize>>,
    /// Pooled scan: baseline days.
    #[arg(long)]
    baseline: Option<usize>,
    /// Pooled scan: guard days between baseline and window.
    #[arg(long)]
    guard: Option<usize>,
    /// Any parameter of any method, `section.key=value`, applied last (repeatable), e.g.
    /// `--set farrington.enabled=true --set farrington.b=4 --set ears_c2.weekday_adjust=true`.
    /// Sections: pooled, ears_c1, ears_c2, ears_c3, farrington, cusum; top-level keys: fdr,
    /// weekday_adjust, levels.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    settings: Vec<String>,
}

impl Tuning {
    fn config(&self) -> Result<DetectorConfig> {
        let base = match &self.detector_config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                DetectorConfig::from_json(&text).with_context(|| path.display().to_string())?
            }
            None => DetectorConfig::default(),
        };
        let o = PooledOverrides {
            alpha: self.alpha,
            min_count: self.min_count,
            windows: self.windows.clone(),
            baseline: self.baseline,
            guard: self.guard,
        };
        Ok(base.with_pooled(&o)?.with_settings(&self.settings)?)
    }
}

/// The operating point of a configuration in one line (the pooled scan's main parameters
/// and which other methods run).
fn describe_config(c: &DetectorConfig) -> String {
    let mut parts = Vec::new();
    if c.pooled.enabled {
        let q = &c.pooled;
        parts.push(format!(
            "pooled ratio scan, alpha {} per series-day, windows {:?} days, minimum count {}, baseline {} days, guard {} days",
            q.alpha, q.scan_days, q.min_count, q.window, q.guard
        ));
    }
    let ears = |name: &str, e: &yuepin_complaints::EarsConfig| {
        let alpha = e.alpha.map_or("R default".to_string(), |a| a.to_string());
        format!(
            "{name} (baseline {} days, alpha {alpha}, minimum count {}{})",
            e.window,
            e.min_count,
            if e.weekday_adjust {
                ", weekday-adjusted"
            } else {
                ""
            }
        )
    };
    let f = &c.farrington;
    let u = &c.cusum;
    for (on, text) in [
        (c.ears_c1.enabled, ears("EARS C1", &c.ears_c1)),
        (c.ears_c2.enabled, ears("EARS C2", &c.ears_c2)),
        (c.ears_c3.enabled, ears("EARS C3", &c.ears_c3)),
        (
            f.enabled,
            format!(
                "Farrington-flexible (b {} years, w {} weeks, alpha {}, minimum count {})",
                f.b, f.window, f.alpha, f.min_count
            ),
        ),
        (
            u.enabled,
            format!(
                "CUSUM (baseline {} days, shift {}, h {}, minimum count {}{})",
                u.window,
                u.shift,
                u.h,
                u.min_count,
                if u.weekday_adjust {
                    ", weekday-adjusted"
                } else {
                    ""
                }
            ),
        ),
    ] {
        if on {
            parts.push(text);
        }
    }
    let default = if c == &DetectorConfig::default() {
        " (the default)"
    } else {
        ""
    };
    format!("{}; BH FDR {}{default}", parts.join("; "), c.fdr)
}

fn parse_encoding(s: &str) -> Result<TextEncoding> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "auto" => TextEncoding::Auto,
        "utf8" | "utf-8" => TextEncoding::Utf8,
        "gbk" | "gb2312" | "gb18030" => TextEncoding::Gbk,
        other => bail!("unknown encoding {other:?}: use auto, utf8 or gbk"),
    })
}

/// `alarms export`: the filters parsed, the file written.
async fn export_alarms(args: AlarmsExportArgs) -> Result<()> {
    let AlarmsExportArgs {
        format,
        out,
        lang,
        method,
        level,
        city,
        division,
        from,
        to,
        significant_only,
        db,
    } = args;
    let format = ExportFormat::parse(&format)
        .map_err(|_| anyhow::anyhow!("unknown format {format:?}: use csv, xlsx or jsonl"))?;
    let lang = ExportLang::parse(&lang)
        .map_err(|_| anyhow::anyhow!("unknown language {lang:?}: use zh or en"))?;
    let filter = AlarmFilter {
        method: method
            .map(|m| {
                Method::parse(m.trim()).with_context(|| {
                    format!("unknown method {m:?}: use pooled_scan, ears_c1, ears_c2, ears_c3, farrington_flexible or cusum")
                })
            })
            .transpose()?,
        level: level
            .map(|l| {
                Level::parse(l.trim())
                    .with_context(|| format!("unknown level {l:?}: use city, division or category"))
            })
            .transpose()?,
        city: city.map(|c| RegionCode::parse(c.trim())).transpose()?,
        division: division.map(|d| Division::parse(d.trim())).transpose()?,
        from,
        to,
        significant_only,
    };
    let svc = service(db).await?;
    let e = svc
        .export_alarms(
            &Caller::cli("complaints-alarms-export"),
            &filter,
            format,
            lang,
        )
        .await?;
    std::fs::write(&out, &e.bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} alarms to {}", e.rows, out.display());
    if e.total > e.rows as i64 {
        println!(
            "{} alarms match; narrow the filters to export the rest",
            e.total
        );
    }
    Ok(())
}

pub async fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Status { db } => {
            let svc = service(db).await?;
            let caller = Caller::cli("complaints-status");
            let span = svc.span(&caller).await?;
            let (_, total) = svc
                .search(&caller, &ComplaintFilter::default(), 1, 0)
                .await?;
            println!("complaints on {}: {total}", svc.store().backend_name());
            if let Some((a, b)) = span {
                println!("  from {a} to {b}");
            }
            if let Some(r) = svc.last_detect_run(&caller).await? {
                println!(
                    "  last detection run #{} as of {} at {}: {} alarms, {} significant",
                    r.id, r.as_of, r.ran_at, r.series_alarms, r.significant
                );
                match &r.config {
                    Some(c) => println!("  configuration: {}", describe_config(c)),
                    None => println!("  configuration: not recorded (run before it was stored)"),
                }
            }
            Ok(())
        }
        Command::Import {
            file,
            encoding,
            format,
            quiet,
            db,
        } => {
            let svc = service(db).await?;
            let mut opts = match format.as_deref() {
                Some(f) => ImportOptions::for_format(f),
                None => ImportOptions::for_path(&file),
            }
            .with_context(|| {
                format!(
                    "unknown file type of {}: use --format csv|jsonl|xlsx",
                    file.display()
                )
            })?;
            opts.encoding = parse_encoding(&encoding)?;
            import(&svc, &file, opts, quiet).await
        }
        Command::Detect {
            as_of,
            report_days,
            no_drafts,
            tuning,
            db,
        } => {
            let config = tuning.config()?;
            let svc = service(db).await?;
            let caller = Caller::cli("complaints-detect");
            let mut opts = match svc.detect_options(&caller, as_of).await {
                Err(yuepin_complaints_service::ComplaintsError::NoComplaints) => {
                    bail!("no complaints stored: import some first")
                }
                other => other?,
            };
            opts.report_days = report_days;
            opts.draft_warnings = !no_drafts;
            opts.config = config;
            println!("configuration: {}", describe_config(&opts.config));
            let r = svc.detect(&caller, &opts).await?;
            println!(
                "detection run #{} as of {} over {} complaints since {}: {} alarms, {} significant (BH 5 %), {} new draft warnings",
                r.run_id, r.as_of, r.complaints, r.from, r.alarms, r.significant, r.drafts_created
            );
            println!(
                "timings: read {} ms, detect {} ms, write {} ms, total {} ms",
                r.read_millis,
                r.detect_millis,
                r.write_millis,
                r.read_millis + r.detect_millis + r.write_millis
            );
            Ok(())
        }
        Command::Evaluate {
            seeds,
            shapes,
            small,
            out,
            tuning,
        } => {
            let config = tuning.config()?;
            let shape_list = shapes
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    Shape::parse(s).with_context(|| {
                        format!("unknown shape {s:?}: use flat, ramp, spike or bell")
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if seeds.is_empty() || shape_list.is_empty() {
                bail!("give at least one seed and one shape");
            }
            let sets: Vec<LabelledSetParams> = seeds
                .iter()
                .map(|&seed| {
                    if small {
                        LabelledSetParams::small(seed, shape_list.clone())
                    } else {
                        LabelledSetParams::standard(seed, shape_list.clone())
                    }
                })
                .collect();
            let params = config.to_params();
            let started = std::time::Instant::now();
            let rows = tokio::task::spawn_blocking(move || {
                evaluate_sets(sets, &params, |seed, n| {
                    eprintln!("seed {seed}: {n} complaints");
                })
            })
            .await?;
            let size = if small { "small" } else { "standard" };
            let table = format!(
                "Configuration: {}\n\nLabelled sets: {size}, seeds {}, shapes {shapes}; {:.1} s.\n\n{}",
                describe_config(&config),
                seeds
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                started.elapsed().as_secs_f64(),
                evaluation_table(&rows)
            );
            print!("{table}");
            if let Some(path) = out {
                std::fs::write(&path, &table)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Alarms {
            command: AlarmsCommand::Export(args),
        }
        | Command::AlarmsExport(args) => export_alarms(args).await,
        Command::Accuracy { db } => {
            let a = service(db)
                .await?
                .classifier_accuracy(&Caller::cli("complaints-accuracy"))
                .await?;
            println!(
                "shipped labelled set: {} texts, category {:.1} %, division {:.1} %",
                a.labelled_set,
                a.labelled_category * 100.0,
                a.labelled_division * 100.0
            );
            println!(
                "regulator-corrected complaints: {} texts, category {:.1} %, division {:.1} %",
                a.corrected,
                a.corrected_category * 100.0,
                a.corrected_division * 100.0
            );
            Ok(())
        }
        Command::LexiconAdd {
            term,
            category,
            division,
            db,
        } => {
            let target = match term_target(category.as_deref(), division.as_deref()) {
                Err(yuepin_complaints_service::ComplaintsError::Invalid { .. }) => {
                    bail!("give exactly one of --category or --division")
                }
                other => other?,
            };
            if check_term(&term).is_err() {
                bail!("a term is 1–20 characters");
            }
            let term = term.trim();
            service(db)
                .await?
                .set_lexicon_term(&Caller::cli("complaints-lexicon"), term, Some(target))
                .await?;
            println!("lexicon: {term} → {target:?}");
            Ok(())
        }
        Command::Warnings { db } => {
            let svc = service(db).await?;
            for w in svc.warnings(&Caller::cli("complaints-warnings")).await? {
                println!(
                    "#{:<5} {:<9} {:<5} {} (q = {:.2e})",
                    w.id,
                    w.status.as_str(),
                    w.severity.as_str(),
                    w.title,
                    w.evidence.q_value
                );
            }
            Ok(())
        }
        Command::Generate {
            out,
            days,
            mean_daily,
            start,
            seed,
            personal_data,
        } => {
            let mut params = GeneratorParams::new(start, days, mean_daily);
            params.personal_data = personal_data;
            params.random_outbreaks = 20;
            params.outbreaks_from_day = days.saturating_sub(180);
            let g = generate(seed, params);
            let t = std::time::Instant::now();
            let n = write_csv(&out, g.complaints(), |_| None)?;
            println!(
                "wrote {n} complaints to {} in {:.1} s ({} injected outbreaks)",
                out.display(),
                t.elapsed().as_secs_f64(),
                g.outbreaks.len()
            );
            Ok(())
        }
        Command::BenchAggregate { db } => {
            let svc = service(db).await?;
            let caller = Caller::cli("complaints-bench");
            let Some((from, to)) = svc.span(&caller).await? else {
                bail!("no complaints stored");
            };
            let t = std::time::Instant::now();
            let cube = svc.cube(&caller, from, to).await?;
            let load = t.elapsed().as_secs_f64();
            println!(
                "cube load from {}: {} rows in {load:.2} s",
                svc.store().backend_name(),
                cube.len()
            );
            for (name, grain, dims) in [
                (
                    "month x city x division",
                    TimeGrain::Month,
                    vec![Dim::City, Dim::Division],
                ),
                (
                    "day x city x division",
                    TimeGrain::Day,
                    vec![Dim::City, Dim::Division],
                ),
                (
                    "week x city x category",
                    TimeGrain::IsoWeek,
                    vec![Dim::City, Dim::Category],
                ),
                ("month x problem", TimeGrain::Month, vec![Dim::Problem]),
            ] {
                let t = std::time::Instant::now();
                let cells = cube.counts(grain, &dims);
                println!(
                    "aggregate {name}: {} cells in {:.4} s",
                    cells.len(),
                    t.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
    }
}

async fn import(
    svc: &ComplaintsService,
    file: &Path,
    opts: ImportOptions,
    quiet: bool,
) -> Result<()> {
    let total = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let progress = Arc::new(ImportProgress::default());
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b.set_message("importing");
        b
    };
    let ticker = {
        let (bar, progress) = (bar.clone(), progress.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.bytes.load(Ordering::Relaxed));
                bar.set_message(format!("{} rows", progress.rows.load(Ordering::Relaxed)));
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    };
    let result = svc
        .import(&Caller::cli("complaints-import"), file, opts, progress)
        .await;
    ticker.abort();
    bar.finish_and_clear();
    let r = result?;
    if !r.committed {
        for e in &r.errors {
            eprintln!("row {}, field {}: {}", e.row, e.field, e.reason);
        }
        if r.error_count as usize > r.errors.len() {
            eprintln!("… {} more errors", r.error_count as usize - r.errors.len());
        }
        bail!(
            "{} bad rows in {}: nothing was imported (fix the rows and run again)",
            r.error_count,
            file.display()
        );
    }
    let secs = (r.millis as f64 / 1000.0).max(1e-3);
    println!(
        "imported {} rows from {} ({} new, {} updated, {} classified, {} linked to enterprises) in {:.1} s = {:.0} rows/s",
        r.rows,
        file.display(),
        r.inserted,
        r.updated,
        r.classified,
        r.linked,
        secs,
        r.rows as f64 / secs
    );
    let started = std::time::Instant::now();
    svc.store().checkpoint().await?;
    println!(
        "write-ahead log checkpointed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Writes complaints as the documented CSV; `enterprise` may attach (USCC, name).
fn write_csv(
    path: &Path,
    complaints: impl Iterator<Item = Complaint>,
    mut enterprise: impl FnMut(&Complaint) -> Option<(String, String)>,
) -> Result<u64> {
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    writeln!(
        w,
        "id,received_at,channel,kind,region,enterprise_uscc,enterprise_name,category,division,problem,amount,text,complainant_name,complainant_phone,complainant_id_number,complainant_address"
    )?;
    let mut n = 0u64;
    let mut line = String::with_capacity(512);
    for c in complaints {
        line.clear();
        let ent = enterprise(&c);
        let fields: [String; 16] = [
            c.id.to_string(),
            c.received_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            c.channel.as_str().into(),
            c.kind.as_str().into(),
            c.region.to_string(),
            ent.as_ref()
                .map(|e| e.0.clone())
                .or(c.enterprise_uscc.as_ref().map(|u| u.to_string()))
                .unwrap_or_default(),
            ent.as_ref()
                .map(|e| e.1.clone())
                .or(c.enterprise_name.clone())
                .unwrap_or_default(),
            c.category.map(|k| k.info().key.clone()).unwrap_or_default(),
            c.division.map(|d| d.code().to_string()).unwrap_or_default(),
            c.problem.as_str().into(),
            c.amount.map(|a| a.to_string()).unwrap_or_default(),
            c.text.clone(),
            c.complainant.name.clone().unwrap_or_default(),
            c.complainant.phone.clone().unwrap_or_default(),
            c.complainant.id_number.clone().unwrap_or_default(),
            c.complainant.address.clone().unwrap_or_default(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            csv_field(&mut line, f);
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

/// Demo: two years of synthetic complaints (~50 k, with injected outbreaks) linked to demo
/// enterprises of the matching division, imported through the real import path; then a
/// detection run, leaving draft warnings and one published warning.
pub async fn seed_demo(store: &Store, data_dir: &Path) -> Result<()> {
    let svc = ComplaintsService::new(store.clone());
    let caller = Caller::cli("demo");
    let end = NaiveDate::from_ymd_opt(2026, 11, 22).context("date")?;
    let start = end - chrono::Duration::days(729);
    let mut params = GeneratorParams::new(start, 730, 70.0);
    params.personal_data = true;
    let outbreak = |city: &str, cat: &str, from: i64, len: i64, extra: f64| -> Result<Outbreak> {
        Ok(Outbreak {
            start: end - chrono::Duration::days(from),
            end: end - chrono::Duration::days(from - len + 1),
            region: RegionCode::parse(city)?,
            category: Category::parse(cat)?,
            extra_per_day: extra,
        })
    };
    params.outbreaks = vec![
        outbreak("深圳", "e_bike", 12, 12, 4.0)?,
        outbreak("东莞", "air_conditioner", 9, 9, 3.0)?,
        outbreak("广州", "cosmetics", 20, 10, 3.0)?,
    ];
    let g = generate(20_231_012, params);
    // Demo enterprises by division (deterministic order).
    let mut by_div: std::collections::HashMap<i64, Vec<(String, String, String)>> =
        Default::default();
    for e in svc.enterprise_keys(&caller).await? {
        by_div
            .entry(e.division)
            .or_default()
            .push((e.uscc, e.name, e.city));
    }
    let outbreaks = g.outbreaks.clone();
    let mut k = 0u64;
    let path = data_dir.join("demo-complaints.csv");
    write_csv(&path, g.complaints(), |c| {
        k = k
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let cat = c.category?;
        let list = by_div.get(&i64::from(cat.division().code()))?;
        if list.is_empty() {
            return None;
        }
        let day = c.received_at.date();
        let in_outbreak = outbreaks.iter().any(|o| {
            o.category == cat
                && o.region.city().code == c.region.city().code
                && o.start <= day
                && day <= o.end
        });
        if in_outbreak && (k >> 33) % 10 < 7 {
            // One enterprise of the city (or any) leads the surge.
            let city = &c.region.city().code;
            let e = list.iter().find(|e| &e.2 == city).unwrap_or(&list[0]);
            return Some((e.0.clone(), e.1.clone()));
        }
        if (k >> 33) % 10 < 6 {
            let e = &list[((k >> 40) as usize) % list.len()];
            return Some((e.0.clone(), e.1.clone()));
        }
        None
    })?;
    let opts = ImportOptions::for_path(&path).context("csv")?;
    let r = svc
        .import(&caller, &path, opts, Arc::new(ImportProgress::default()))
        .await?;
    if !r.committed {
        bail!("demo complaints did not import: {:?}", r.errors.first());
    }
    let _ = std::fs::remove_file(&path);
    let mut opts = svc.detect_options(&caller, Some(end)).await?;
    opts.report_days = 21;
    svc.detect(&caller, &opts).await?;
    // Publish the warning of the strongest series (comment window closed for the demo).
    let drafts = svc.warnings(&caller).await?;
    let lead = drafts
        .iter()
        .filter(|w| w.status == WarningStatus::Draft)
        .min_by(|a, b| a.evidence.q_value.total_cmp(&b.evidence.q_value));
    if let Some(w) = lead {
        svc.approve_warning(&caller, w.id, Some(0)).await?;
        svc.publish_warning(&caller, w.id).await?;
    }
    Ok(())
}
