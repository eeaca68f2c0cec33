//! `yuepin policy …`: eligibility checks with reasons and clauses (`check`), the proactive
//! match over all enterprises that stores outcomes, makes offers and notifies (`match`, 免申即享),
//! what-if runs with overridden parameters (`what-if`, 政策沙盘), and the end-to-end benchmark
//! (`bench`: facts read from the store, every measure, explanations; single-check latency
//! through the API router). Everything goes through `yuepin_policy_service` as the operator
//! (`Caller::cli`); this file parses flags and prints.

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Subcommand, ValueEnum};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use yuepin_domain::{parse_date, Caller, Yuan};
use yuepin_policy::{Evaluation, Facts, Outcome, OutcomeKind, SubjectKind};
use yuepin_policy_service::{CheckRequest, FactScope, PolicyService, BATCH};
use yuepin_store::{Actor, Store};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Json,
    Text,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Subject {
    Enterprise,
    Merger,
    Person,
    Standard,
    InstrumentPurchase,
}

impl Subject {
    fn kind(self) -> SubjectKind {
        match self {
            Subject::Enterprise => SubjectKind::Enterprise,
            Subject::Merger => SubjectKind::Merger,
            Subject::Person => SubjectKind::Person,
            Subject::Standard => SubjectKind::Standard,
            Subject::InstrumentPurchase => SubjectKind::InstrumentPurchase,
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Lists the loaded policy packs (the built-in one and those of `--policy-pack` or the
    /// configuration's `policy_packs`, each validated first) with their period and status today.
    Packs {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Checks eligibility with reasons and clauses: an enterprise from the platform's data
    /// (`--enterprise USCC`, optionally with `--facts` merged over it), or request facts from a
    /// JSON file (`--facts FILE --subject merger|person|standard|instrument_purchase|enterprise`).
    Check {
        #[command(flatten)]
        db: crate::config::DbArgs,
        #[arg(long)]
        enterprise: Option<String>,
        /// JSON object of facts (see docs/policy.md for the vocabulary).
        #[arg(long)]
        facts: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "enterprise")]
        subject: Subject,
        /// One measure (M16); default every measure with a rule for the subject.
        #[arg(long)]
        measure: Option<String>,
        /// Evaluation date (default today).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Matches every enterprise as of a date, stores the outcomes, makes offers and notifies
    /// each enterprise in the app (免申即享).
    Match {
        #[command(flatten)]
        db: crate::config::DbArgs,
        #[arg(long)]
        as_of: Option<String>,
        /// Parameter override name=value (a what-if run that is stored).
        #[arg(long = "set")]
        set: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// 政策沙盘: the difference in eligible enterprises and money when parameters change, over
    /// the store's enterprises or over subjects from a JSON file (an array of fact objects).
    WhatIf {
        #[command(flatten)]
        db: crate::config::DbArgs,
        /// Parameter override name=value, e.g. m16_combined_china=15亿元 (repeatable).
        #[arg(long = "set", required = true)]
        set: Vec<String>,
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        facts: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "enterprise")]
        subject: Subject,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Benchmark: a full match of N enterprises × every measure with explanations, reading facts
    /// from a SQLite store (seeded with yuepin-demo enterprises once), and single checks through
    /// the API router.
    Bench {
        #[arg(long, default_value_t = 1_000_000)]
        enterprises: usize,
        #[arg(long, default_value = "target/bench-policy")]
        work_dir: PathBuf,
        #[arg(long, default_value = "2025-06-30")]
        as_of: String,
        #[arg(long, default_value_t = 10_000)]
        checks: usize,
    },
}

fn as_of(s: Option<&str>) -> Result<NaiveDate> {
    match s {
        Some(s) => Ok(parse_date("as_of", s)?),
        None => Ok(yuepin_domain::china_today()),
    }
}

fn overrides(set: &[String]) -> Result<BTreeMap<String, String>> {
    set.iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .with_context(|| format!("--set {kv:?}: expected name=value"))
        })
        .collect()
}

fn service(store: Store) -> PolicyService {
    PolicyService::new(store)
}

/// The service on the configured database with the configured policy packs.
async fn configured_service(db: &crate::config::DbArgs) -> Result<PolicyService> {
    let settings = db.resolve()?;
    let set = settings.policy_set()?;
    Ok(PolicyService::with_set(settings.connect().await?, set))
}

/// The service for the commands that read nothing stored (checks and what-ifs of request
/// facts), with the configured policy packs: over an in-memory database, never touched.
async fn storeless_service(db: &crate::config::DbArgs) -> Result<PolicyService> {
    Ok(PolicyService::with_set(
        Store::connect_without_migrating("sqlite::memory:").await?,
        db.resolve()?.policy_set()?,
    ))
}

fn read_json(path: &PathBuf) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))
}

/// The readable form: outcome per measure, then every failed condition or missing fact with
/// its clause.
pub fn text_report(evals: &[Evaluation]) -> String {
    let mut out = String::new();
    for e in evals {
        out.push_str(&format!(
            "{} {} — {} ({})\n",
            e.measure, e.title.zh, e.outcome_label.zh, e.outcome_label.en
        ));
        match &e.outcome {
            Outcome::Eligible => {
                for b in &e.benefits {
                    out.push_str(&format!(
                        "  + {}{}\n",
                        b.label.zh,
                        b.amount
                            .as_ref()
                            .map(|a| format!(" ({a})"))
                            .unwrap_or_default()
                    ));
                }
            }
            Outcome::NotEligible { failed } => {
                for c in failed {
                    out.push_str(&format!(
                        "  ✗ {}: {} {} {} — 条款“{}”\n",
                        c.label.zh,
                        c.value.clone().unwrap_or_else(|| "—".into()),
                        c.op,
                        c.threshold.clone().unwrap_or_default(),
                        c.clause.quote
                    ));
                }
            }
            Outcome::Undetermined { missing } => {
                for m in missing {
                    out.push_str(&format!(
                        "  ? 缺少 {} ({}) — 条款“{}”\n",
                        m.label.zh, m.fact, m.clause.quote
                    ));
                }
            }
            Outcome::NotInForce { reason, in_force } => {
                out.push_str(&format!(
                    "  ! {} ({} — {})\n",
                    reason.zh, in_force.from, in_force.until
                ));
            }
            Outcome::Conflict { conflicts } => {
                for c in conflicts {
                    out.push_str(&format!("  ! {} {}\n", c.reason.zh, c.with.join(", ")));
                }
            }
        }
    }
    out
}

pub async fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Packs { db } => {
            let set = db.resolve()?.policy_set()?;
            let today = yuepin_domain::china_today();
            for (i, p) in set.packs().iter().enumerate() {
                let status = yuepin_policy::status::pack_status(&set, i, today)
                    .map(|s| s.label().en)
                    .unwrap_or_default();
                println!(
                    "{} {} ({}){}: {} – {}; today ({today}): {status}; {} measures; version {}; from {}",
                    p.id,
                    p.number,
                    p.title.en,
                    if p.example { " [EXAMPLE, not a real policy]" } else { "" },
                    p.in_force.from,
                    p.in_force.until,
                    set.measures()
                        .iter()
                        .filter(|m| set.packs().get(m.pack).map(|q| &q.id) == Some(&p.id))
                        .count(),
                    p.version,
                    p.file
                );
            }
            Ok(())
        }
        Command::Check {
            db,
            enterprise,
            facts,
            subject,
            measure,
            as_of: date,
            format,
        } => {
            let date = as_of(date.as_deref())?;
            let extra = facts.as_ref().map(read_json).transpose()?;
            let (label, evals) = match enterprise {
                Some(code) => {
                    let svc = configured_service(&db).await?;
                    let checked = svc
                        .check(
                            &Caller::cli("policy-check"),
                            CheckRequest {
                                subject: SubjectKind::Enterprise,
                                facts: match extra {
                                    Some(Value::Object(o)) => o,
                                    _ => Default::default(),
                                },
                                as_of: date,
                                measure,
                                enterprise: Some(code.trim().to_string()),
                            },
                        )
                        .await?;
                    let (uscc, name) = checked.enterprise.unwrap_or_default();
                    (format!("{uscc} {name}"), checked.evaluations)
                }
                None => {
                    let Some(v) = extra else {
                        bail!("give --enterprise USCC or --facts FILE");
                    };
                    let f = Facts::from_json(subject.kind(), v)?;
                    (
                        subject.kind().to_string(),
                        storeless_service(&db)
                            .await?
                            .evaluate(&f, date, measure.as_deref())?,
                    )
                }
            };
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &json!({"subject": label, "as_of": date, "evaluations": evals})
                    )?
                ),
                Format::Text => {
                    println!("{label} · {date}");
                    print!("{}", text_report(&evals));
                }
            }
            Ok(())
        }
        Command::Match {
            db,
            as_of: date,
            set,
            format,
        } => {
            let svc = configured_service(&db).await?;
            let date = as_of(date.as_deref())?;
            let report = svc
                .run_match(&Caller::cli("policy-match"), date, &overrides(&set)?)
                .await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                Format::Text => {
                    println!(
                        "match run #{} as of {}: {} enterprises × {} measures = {} evaluations; {} eligible, {} undetermined; {} offers; {} enterprises notified",
                        report.run_id,
                        report.as_of,
                        report.enterprises,
                        report.measures,
                        report.evaluations,
                        report.eligible,
                        report.undetermined,
                        report.offers,
                        report.notified
                    );
                    for (measure, counts) in &report.counts {
                        let parts: Vec<String> =
                            counts.iter().map(|(o, n)| format!("{o} {n}")).collect();
                        println!("  {measure}: {}", parts.join(", "));
                    }
                    println!(
                        "time: load facts {:.3} s, evaluate {:.3} s, store {:.3} s",
                        report.load_secs, report.eval_secs, report.store_secs
                    );
                }
            }
            Ok(())
        }
        Command::WhatIf {
            db,
            set,
            as_of: date,
            facts,
            subject,
            format,
        } => {
            let date = as_of(date.as_deref())?;
            let o = overrides(&set)?;
            let caller = Caller::cli("policy-what-if");
            let report = match facts {
                Some(path) => {
                    let list = match read_json(&path)? {
                        Value::Array(a) => a,
                        other => vec![other],
                    };
                    let subjects = list
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let label = v
                                .get("_label")
                                .and_then(Value::as_str)
                                .map(str::to_string)
                                .unwrap_or_else(|| format!("#{i}"));
                            let mut v = v;
                            if let Some(obj) = v.as_object_mut() {
                                obj.remove("_label");
                            }
                            Ok((label, Facts::from_json(subject.kind(), v)?))
                        })
                        .collect::<Result<Vec<_>>>()?;
                    storeless_service(&db).await?.what_if_subjects(
                        &caller,
                        &o,
                        subject.kind(),
                        date,
                        &subjects,
                    )?
                }
                None => {
                    let svc = configured_service(&db).await?;
                    svc.what_if_enterprises(&caller, &o, date).await?
                }
            };
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                Format::Text => {
                    println!(
                        "what-if as of {} over {} {} subjects with {:?}",
                        report.as_of, report.subjects, report.subject, report.overrides
                    );
                    println!(
                        "eligible: {} → {} ({:+}); money: {}{}",
                        report.eligible_before,
                        report.eligible_after,
                        report.eligible_after - report.eligible_before,
                        if report.amount_delta_fen >= 0 {
                            "+"
                        } else {
                            ""
                        },
                        Yuan::from_fen(report.amount_delta_fen).to_zh()
                    );
                    for mm in report.measures.iter().filter(|x| {
                        x.newly_eligible + x.no_longer_eligible > 0
                            || x.amount_after_fen != x.amount_before_fen
                    }) {
                        println!(
                            "  {} {}: {} → {} (+{} −{}), money {} → {}",
                            mm.measure,
                            mm.title_zh,
                            mm.eligible_before,
                            mm.eligible_after,
                            mm.newly_eligible,
                            mm.no_longer_eligible,
                            Yuan::from_fen(mm.amount_before_fen).to_zh(),
                            Yuan::from_fen(mm.amount_after_fen).to_zh()
                        );
                    }
                    for e in &report.newly_eligible {
                        println!("  + {} {} {}", e.measure, e.subject, e.name);
                    }
                    for e in &report.no_longer_eligible {
                        println!("  - {} {} {}", e.measure, e.subject, e.name);
                    }
                }
            }
            Ok(())
        }
        Command::Bench {
            enterprises,
            work_dir,
            as_of: date,
            checks,
        } => bench(enterprises, work_dir, parse_date("as_of", &date)?, checks).await,
    }
}

/// Adds this module's demo data: a match run as of the demo data's date (clamped to the
/// policy's validity, so the offers are live), with offers and notifications.
pub async fn seed_demo(store: &Store, _data_dir: &std::path::Path) -> Result<()> {
    // Today's state: after the lapse of 粤市监〔2023〕74号 the run records NotInForce and makes
    // no offers. `yuepin demo --as-of DATE` runs the platform as of a day in force instead.
    let svc = service(store.clone());
    let today = svc.today();
    svc.run_match(&Caller::cli("demo"), today, &BTreeMap::new())
        .await?;
    Ok(())
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, 100 ticks/s).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

async fn bench(n: usize, work_dir: PathBuf, date: NaiveDate, checks: usize) -> Result<()> {
    std::fs::create_dir_all(&work_dir)?;
    let db = work_dir.join(format!("policy-{n}.db"));
    let url = format!("sqlite://{}", db.display());
    let store = Store::connect(&url).await?;
    let have = yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .enterprise_count()
        .await? as usize;
    if have < n {
        eprintln!("seeding {n} synthetic enterprises into {} …", db.display());
        let t = Instant::now();
        let mut chunk = Vec::with_capacity(50_000);
        let mut done = 0usize;
        for e in yuepin_demo::enterprises(2023, n) {
            chunk.push(e);
            if chunk.len() == 50_000 {
                yuepin_enterprises_service::EnterprisesService::new(store.clone())
                    .import_enterprises(Actor::cli("bench"), &chunk, "bench-policy", |_| {})
                    .await?;
                done += chunk.len();
                chunk.clear();
                eprint!("\r  {done}");
            }
        }
        if !chunk.is_empty() {
            yuepin_enterprises_service::EnterprisesService::new(store.clone())
                .import_enterprises(Actor::cli("bench"), &chunk, "bench-policy", |_| {})
                .await?;
        }
        eprintln!("\n  seeded in {:.1} s", t.elapsed().as_secs_f64());
    }
    let svc = service(store.clone());
    let caller = Caller::cli("bench");
    let set = svc.set();
    let cols: Vec<usize> = set
        .measures()
        .iter()
        .enumerate()
        .filter(|(_, x)| x.rule(SubjectKind::Enterprise).is_some())
        .map(|(i, _)| i)
        .collect();
    // Full match: facts streamed from the store in batches, every enterprise measure, with the
    // explanation handles (failed / undetermined condition nodes) for every cell.
    let snap = svc.engine().snapshot(date);
    let mut eval = 0f64;
    let (mut rows, mut evals, mut reasons_total) = (0u64, 0u64, 0u64);
    let mut counts = [0u64; 6];
    let mut reasons = Vec::new();
    let cpu0 = cpu_seconds();
    let wall = Instant::now();
    // The loader streams batches from the store on its own task while this one evaluates.
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let loader_svc = svc.clone();
    let loader = tokio::spawn(async move {
        let mut after = 0i64;
        let mut load = 0f64;
        loop {
            let t = Instant::now();
            let batch = loader_svc
                .facts(
                    &caller,
                    date,
                    FactScope::After {
                        after,
                        limit: BATCH,
                    },
                )
                .await?;
            load += t.elapsed().as_secs_f64();
            let Some(last) = batch.last() else { break };
            after = last.id;
            if tx.send(batch).await.is_err() {
                break;
            }
        }
        anyhow::Ok(load)
    });
    while let Some(batch) = rx.recv().await {
        let t = Instant::now();
        for ef in &batch {
            let row = svc.index().row(ef);
            rows += 1;
            for &c in &cols {
                let k = snap.outcome_with_reasons(c, &row, &mut reasons);
                counts[k as usize] += 1;
                reasons_total += reasons.len() as u64;
                evals += 1;
            }
        }
        eval += t.elapsed().as_secs_f64();
    }
    let load = loader.await??;
    let total = wall.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!("full match as of {date}: {rows} enterprises × {} measures = {evals} rule evaluations (with explanations: {reasons_total} reason nodes)", cols.len());
    println!(
        "  outcomes: eligible {}, not eligible {}, undetermined {}, not in force {}",
        counts[OutcomeKind::Eligible as usize],
        counts[OutcomeKind::NotEligible as usize],
        counts[OutcomeKind::Undetermined as usize],
        counts[OutcomeKind::NotInForce as usize]
    );
    println!(
        "  wall {total:.3} s → {:.2} M rule evaluations/s; process CPU {cpu:.3} s → {:.2} M rule evaluations per CPU-second (per core)",
        evals as f64 / total / 1e6,
        evals as f64 / cpu.max(1e-9) / 1e6
    );
    println!(
        "  split (wall, overlapped): fact loading {load:.3} s ({:.0} k enterprises/s), row building + evaluation {eval:.3} s ({:.1} M evals/s)",
        rows as f64 / load / 1e3,
        evals as f64 / eval / 1e6
    );
    // Single check through the API router (merger facts, M16, explained, JSON).
    let body = json!({"subject": "merger", "as_of": date.to_string(), "measure": "M16",
        "facts": {"parties_revenue_china": ["15亿元", "6亿元"], "parties_revenue_world": ["80亿元", "30亿元"], "involves_manufacturing": true}})
    .to_string();
    let mut lat =
        super::bench::api_post_latencies(&store, "/api/v1/policy/check", &body, checks, 200)
            .await?;
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "single check through the API router ({checks} requests after 200 warm-up): p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        pct(0.50),
        pct(0.99),
        lat.last().copied().unwrap_or(0.0)
    );
    Ok(())
}
