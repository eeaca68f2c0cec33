//! `yuepin credit …`: bank organisations and their staff, an enterprise's grade with each
//! factor's contribution, its consents, and the Merkle log (verify, the current signed
//! checkpoint, the published key). The credit signing key lives in `{data_dir}/credit-keys/`
//! (mode 0600).

use anyhow::{bail, Result};
use clap::Subcommand;
use std::path::Path;
use yuepin_credit_service::{CreditService, LogProblem};
use yuepin_domain::Caller;

#[derive(Subcommand)]
pub enum Command {
    /// Registers a bank organisation.
    AddBank {
        #[command(flatten)]
        db: crate::config::DbArgs,
        /// 2–20 of A-Z 0-9 -, e.g. ICBC-GD.
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
    },
    /// Lists the bank organisations.
    Banks {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Binds a `bank` account to a bank (by bank code).
    BindStaff {
        #[command(flatten)]
        db: crate::config::DbArgs,
        #[arg(long)]
        username: String,
        #[arg(long)]
        bank: String,
    },
    /// Grades an enterprise now (stored when it changed) and prints each factor's share.
    Grade {
        #[command(flatten)]
        db: crate::config::DbArgs,
        #[arg(long)]
        uscc: String,
        /// Print the grade as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lists an enterprise's consents with their status and uses.
    Consents {
        #[command(flatten)]
        db: crate::config::DbArgs,
        #[arg(long)]
        uscc: String,
    },
    /// The Merkle log of consents, fetches and grade changes.
    #[command(subcommand)]
    Log(LogCommand),
}

#[derive(Subcommand)]
pub enum LogCommand {
    /// Rehashes every entry and checks every stored checkpoint; fails on the first problem.
    Verify {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Prints the signed checkpoint of the current size (C2SP note).
    Checkpoint {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Prints the published credit key set (JWKS).
    Keys {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
}

/// The credit service of a data directory.
pub fn service(store: yuepin_store::Store, data_dir: &Path) -> CreditService {
    CreditService::new(store, data_dir.join("credit-keys"))
}

async fn open(db: &crate::config::DbArgs) -> Result<CreditService> {
    let s = db.resolve()?;
    Ok(service(s.connect().await?, &s.data_dir))
}

/// Words a log problem for the operator.
pub fn describe(problem: &LogProblem) -> String {
    match problem {
        LogProblem::Gap { index } => {
            format!("credit log entry {index} is missing or out of place (deleted or reordered)")
        }
        LogProblem::LeafMismatch { index } => {
            format!("credit log entry {index} was altered (its leaf hash no longer matches)")
        }
        LogProblem::Size { head, rows } => {
            format!("credit log truncated: the head records {head} entries, {rows} remain")
        }
        LogProblem::Checkpoint { size } => format!(
            "the signed checkpoint of size {size} does not match the stored entries (altered or reordered)"
        ),
    }
}

pub async fn run(cmd: Command) -> Result<()> {
    let cli = |what: &str| Caller::cli(what);
    match cmd {
        Command::AddBank { db, code, name } => {
            let b = open(&db)
                .await?
                .create_bank(&cli("credit-add-bank"), &code, &name)
                .await?;
            println!("bank #{} {} {}", b.id, b.code, b.name);
        }
        Command::Banks { db } => {
            for b in open(&db).await?.banks(&cli("credit-banks")).await? {
                println!("{}\t{}\t{}", b.id, b.code, b.name);
            }
        }
        Command::BindStaff { db, username, bank } => {
            let credit = open(&db).await?;
            let caller = cli("credit-bind-staff");
            let Some(b) = credit
                .banks(&caller)
                .await?
                .into_iter()
                .find(|b| b.code == bank)
            else {
                bail!("no bank with code {bank}");
            };
            credit.bind_bank_staff(&caller, b.id, &username).await?;
            println!("{username} now works for {} ({})", b.name, b.code);
        }
        Command::Grade { db, uscc, json } => {
            let g = open(&db).await?.grade(&cli("credit-grade"), &uscc).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&g)?);
            } else {
                let r = &g.grading;
                println!(
                    "{uscc}: grade {} score {:.1} (model {} {}, as of {})",
                    r.grade, r.score, r.model, r.model_version, r.as_of
                );
                for c in &r.contributions {
                    let records: Vec<&str> = c.records.iter().map(|x| x.record.as_str()).collect();
                    println!(
                        "  {:<20} {:>+7.2}{}  {}",
                        format!("{:?}", c.factor),
                        c.points,
                        if c.capped { " (capped)" } else { "" },
                        records.join(", ")
                    );
                }
            }
        }
        Command::Consents { db, uscc } => {
            for c in open(&db)
                .await?
                .enterprise_consents(&cli("credit-consents"), &uscc)
                .await?
            {
                println!(
                    "{}\t{}\t{}\t{:?}\t{}/{}\texpires {}",
                    c.id,
                    c.bank.name,
                    c.status.code(),
                    c.terms.purpose,
                    c.fetches_used,
                    c.terms.max_fetches,
                    c.terms.expires_at
                );
            }
        }
        Command::Log(LogCommand::Verify { db }) => {
            let v = open(&db)
                .await?
                .verify_log(&cli("credit-log-verify"))
                .await?;
            match v.problem {
                None => println!(
                    "credit log intact: {} entries, {} checkpoints verified",
                    v.size, v.checkpoints
                ),
                Some(p) => bail!(describe(&p)),
            }
        }
        Command::Log(LogCommand::Checkpoint { db }) => {
            print!(
                "{}",
                open(&db)
                    .await?
                    .checkpoint(&cli("credit-checkpoint"))
                    .await?
            );
        }
        Command::Log(LogCommand::Keys { db }) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&open(&db).await?.published_keys()?)?
            );
        }
    }
    Ok(())
}

/// Demo data: two fictitious bank branches, the demo `bank` account working for the first, so
/// the demo enterprise has a bank to grant a consent to and the bank sees what it is given.
pub async fn seed_demo(store: &yuepin_store::Store, data_dir: &Path) -> Result<()> {
    let svc = service(store.clone(), data_dir);
    let caller = Caller::cli("demo");
    let first = svc
        .create_bank(&caller, "DEMO-BANK-GD", "演示银行广东省分行(虚构)")
        .await?;
    svc.create_bank(&caller, "DEMO-RCB-DG", "演示农商银行东莞分行(虚构)")
        .await?;
    svc.bind_bank_staff(&caller, first.id, "bank").await?;
    // The demo enterprise has granted the demo bank one consent, so that both dashboards and
    // a bank's report fetch have something to show; granted as the enterprise's own user, on
    // the server's date, like any grant.
    if let Some(u) = store.user_by_username("enterprise").await? {
        let owner = Caller::user(u.id, &u.username, u.role, u.enterprise_id, None);
        let today = yuepin_domain::china_today();
        let terms = yuepin_credit::TermsRequest {
            purpose: yuepin_credit::Purpose::parse("quality_loan")?,
            categories: yuepin_credit::Categories::parse(["grade", "inspections", "lab_reports"])?,
            data_range: yuepin_credit::DateRange::new(
                today - chrono::Duration::days(3 * 365),
                today - chrono::Duration::days(1),
            )?,
            max_fetches: 5,
            min_interval_minutes: 0,
            retention_days: 90,
            valid_days: 30,
        };
        svc.grant_consent(&owner, first.id, &terms).await?;
    }
    Ok(())
}
