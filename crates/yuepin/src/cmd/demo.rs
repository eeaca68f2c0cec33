//! `yuepin demo`: a self-contained platform on SQLite with deterministic synthetic data and one
//! account per role, for trying Yuepin with no set-up. Seeds only an empty database.

use crate::config::{Resolved, ServerArgs};
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use yuepin_store::{Actor, Store};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Directory for the demo database and keys.
    #[arg(long, default_value = "yuepin-demo")]
    pub data_dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Public base URL printed into the demo codes (default: http:// + --listen).
    #[arg(long, env = "YUEPIN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Number of synthetic enterprises.
    #[arg(long, default_value_t = 2000)]
    pub enterprises: usize,
    #[arg(long, default_value_t = 2023)]
    pub seed: u64,
    /// Seed the database and exit without serving.
    #[arg(long)]
    pub seed_only: bool,
    /// Run the whole platform as of this day (training, demos), e.g. 2025-03-01: the match
    /// and its offers are made as of it and every page names it in a banner. Default: today
    /// in China, so a lapsed policy shows as lapsed.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Successor policy packs to load beside the built-in one (a YAML file or a directory of
    /// them, repeatable), e.g. docs/examples/example-2026-continuation.yaml.
    #[arg(long = "policy-pack")]
    pub policy_packs: Vec<PathBuf>,
}

/// The demo accounts: (username, password, role, display name).
pub const DEMO_ACCOUNTS: [(&str, &str, &str, &str); 5] = [
    (
        "regulator",
        "demo-regulator-2023",
        "regulator",
        "省市场监管局 演示账号",
    ),
    (
        "enterprise",
        "demo-enterprise-2023",
        "enterprise",
        "企业演示账号",
    ),
    ("bank", "demo-bank-2023", "bank", "银行演示账号"),
    ("lab", "demo-lab-2023", "lab", "检验机构演示账号"),
    ("expert", "demo-expert-2023", "expert", "质量专家演示账号"),
];

/// Fills an empty store with the synthetic data set and the demo accounts. Returns the code of
/// the enterprise the demo enterprise account belongs to.
pub async fn seed(store: &Store, n: usize, seed: u64) -> Result<String> {
    let data = yuepin_demo::generate(seed, n);
    let actor = Actor::cli("demo");
    let tag = format!("demo-seed-{seed}-{n}");
    let registry = yuepin_enterprises_service::EnterprisesService::new(store.clone());
    registry
        .import_enterprises(actor.clone(), &data.enterprises, &tag, |_| {})
        .await?;
    registry
        .import_products(actor.clone(), &data.products, &tag, |_| {})
        .await?
        .map_err(|m| anyhow::anyhow!("demo products reference unknown rows: {}", m.len()))?;
    let events: Vec<_> = data
        .events
        .into_iter()
        .map(|r| (r.event, r.product_model))
        .collect();
    registry
        .import_events(actor.clone(), &events, &tag, |_| {})
        .await?
        .map_err(|m| anyhow::anyhow!("demo events reference unknown rows: {}", m.len()))?;
    // The enterprise account belongs to a well-documented enterprise: the one with most events.
    let showcase = events
        .iter()
        .fold(
            std::collections::HashMap::<&str, usize>::new(),
            |mut m, (e, _)| {
                *m.entry(e.enterprise.as_str()).or_default() += 1;
                m
            },
        )
        .into_iter()
        .max_by_key(|(code, count)| (*count, std::cmp::Reverse(*code)))
        .map(|(code, _)| code.to_string())
        .context("demo data has no events")?;
    for (user, password, role, name) in DEMO_ACCOUNTS {
        let enterprise = (role == "enterprise").then(|| showcase.clone());
        registry
            .create_account(
                &yuepin_domain::Caller::cli("demo"),
                yuepin_enterprises_service::NewAccount {
                    username: user.into(),
                    display_name: name.into(),
                    password: password.into(),
                    role: role.into(),
                    enterprise_uscc: enterprise,
                },
            )
            .await
            .with_context(|| format!("creating demo account {user}"))?;
    }
    // One name change filed by the demo enterprise waits for review, so that the regulator's
    // review page (/enterprises/identity-changes) has a request to decide.
    if let Some(u) = store.user_by_username("enterprise").await? {
        let owner = yuepin_domain::Caller::user(u.id, &u.username, u.role, u.enterprise_id, None);
        let mut renamed = registry.enterprise(&owner, &showcase).await?.enterprise;
        renamed.name = match renamed.name.strip_suffix("有限公司") {
            Some(stem) if !stem.ends_with("科技") => format!("{stem}科技有限公司"),
            _ => format!("{}（集团）", renamed.name),
        };
        registry
            .update_enterprise_with_reason(
                &owner,
                &showcase,
                renamed,
                "2026年11月营业执照变更(演示)",
            )
            .await
            .context("filing the demo name change")?;
        // And a group standard it declares it led, which stays 待核实 until a regulator
        // confirms it on /policy/declared (M8 pays only for confirmed ones).
        let led = yuepin_domain::QualityEventKind::Standard {
            code: yuepin_domain::StandardCode::parse("T/GDEMO 017-2026")?,
            level: yuepin_domain::StandardLevel::Group,
            role: yuepin_domain::StandardRole::Lead,
        };
        let declared = yuepin_enterprises_service::NewEvent {
            date: yuepin_domain::china_today() - chrono::Duration::days(20),
            product_id: None,
            kind: led,
        };
        registry
            .file_event(&owner, &showcase, declared)
            .await
            .context("filing the demo declared standard")?;
    }
    Ok(showcase)
}

/// Each capability module adds its demo data on top of the base data set.
pub async fn seed_modules(
    store: &Store,
    data_dir: &std::path::Path,
    public_url: &str,
) -> Result<()> {
    super::codes::seed_demo(store, data_dir, public_url)
        .await
        .context("seeding codes")?;
    super::policy::seed_demo(store, data_dir)
        .await
        .context("seeding policy")?;
    super::complaints::seed_demo(store, data_dir)
        .await
        .context("seeding complaints")?;
    super::labs::seed_demo(store, data_dir)
        .await
        .context("seeding labs")?;
    super::credit::seed_demo(store, data_dir)
        .await
        .context("seeding credit")?;
    super::hospital::seed_demo(store, data_dir)
        .await
        .context("seeding the product hospital")?;
    Ok(())
}

pub async fn run(args: DemoArgs) -> Result<()> {
    let as_of = args
        .as_of
        .as_deref()
        .map(|s| yuepin_domain::parse_date("--as-of", s))
        .transpose()?;
    let settings: Resolved = ServerArgs {
        db: crate::config::DbArgs {
            data_dir: Some(args.data_dir.clone()),
            database_url: None,
            config: None,
            policy_packs: args.policy_packs.clone(),
        },
        listen: Some(args.listen.clone()),
        public_url: args.public_url.clone(),
        ..Default::default()
    }
    .resolve()?;
    let store = settings.connect().await?;
    if yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .enterprise_count()
        .await?
        == 0
    {
        println!(
            "Seeding {} synthetic enterprises (seed {}) into {} …",
            args.enterprises, args.seed, settings.database_url
        );
        let showcase = seed(&store, args.enterprises, args.seed).await?;
        seed_modules(&store, &args.data_dir, &settings.public_url).await?;
        super::codes::seed_showcase_series(&store, &args.data_dir, &settings.public_url, &showcase)
            .await
            .context("seeding the demo enterprise's code series")?;
        println!("Demo enterprise account belongs to {showcase}");
    } else {
        println!(
            "Using the existing demo database in {}",
            args.data_dir.display()
        );
        super::codes::seed_demo(&store, &args.data_dir, &settings.public_url)
            .await
            .context("demo codes for this address")?;
    }
    println!("\nDemo accounts (username / password / role):");
    for (user, password, role, _) in DEMO_ACCOUNTS {
        println!("  {user:<11} {password:<22} {role}");
    }
    if let Some(day) = as_of {
        let report =
            yuepin_policy_service::PolicyService::with_set(store.clone(), settings.policy_set()?)
                .with_today(day)
                .run_match(
                    &yuepin_domain::Caller::cli("demo"),
                    day,
                    &std::collections::BTreeMap::new(),
                )
                .await?;
        println!(
            "Running as of {day} (training/demo): match run #{} made {} offers",
            report.run_id, report.offers
        );
    }
    if args.seed_only {
        return Ok(());
    }
    drop(store);
    super::serve::serve(&settings, true, as_of).await
}
