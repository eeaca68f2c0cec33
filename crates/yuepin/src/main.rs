//! The `yuepin` command: runs the server (`serve`, `demo`), manages the database (`migrate`),
//! accounts (`admin`), the audit chain (`audit verify`, `audit checkpoint`), imports and exports, and benchmarks.

mod cmd;
mod config;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "yuepin",
    version,
    about = "粤品通 Yuepin — Guangdong manufacturing quality platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server and API.
    Serve(config::ServerArgs),
    /// Run the server on SQLite with deterministic synthetic demo data (no set-up needed).
    Demo(cmd::demo::DemoArgs),
    /// Apply pending database migrations and exit.
    Migrate(config::DbArgs),
    /// Accounts and API tokens.
    #[command(subcommand)]
    Admin(cmd::admin::AdminCommand),
    /// The hash-chained audit log and its signed checkpoints.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Import enterprises, products or quality events from CSV or XLSX (all-or-nothing).
    Import(cmd::import::ImportArgs),
    /// Export enterprises, products or quality events to CSV or XLSX.
    Export(cmd::import::ExportArgs),
    /// Benchmarks with documented workloads (see docs/benchmarks.md).
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
    /// 粤品通 product quality credit codes: keys, issuing, labels, verification, revocation.
    #[command(subcommand)]
    Codes(cmd::codes::Command),
    /// The policy engine: check, match (免申即享), what-if.
    #[command(subcommand)]
    Policy(cmd::policy::Command),
    /// 12315 complaint analytics: ingest, aggregate, detect surges, warnings.
    #[command(subcommand)]
    Complaints(cmd::complaints::Command),
    /// Shared testing resources: labs, instruments, bookings, orders.
    #[command(subcommand)]
    Labs(cmd::labs::Command),
    /// Quality credit: banks, grades, consents, the Merkle log.
    #[command(subcommand)]
    Credit(cmd::credit::Command),
    /// Product hospital: hospitals, experts, cases, the holiday calendar.
    #[command(subcommand)]
    Hospital(cmd::hospital::Command),
}

/// Log lines go to standard error, filtered by `RUST_LOG` (default `info,sqlx=warn`).
fn init_logging(format: config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        config::LogFormat::Text => builder.init(),
        // One object per line; the request span's fields (request id, route, status, latency)
        // are in "span", the event's own fields flattened into the object.
        config::LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logging(match &cli.command {
        Command::Serve(args) => args.resolve()?.log_format,
        _ => config::LogFormat::from_env()?,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => cmd::serve::run(args).await,
            Command::Demo(args) => cmd::demo::run(args).await,
            Command::Migrate(args) => {
                let store = args.resolve()?.connect_without_migrating().await?;
                let applied = store.migrate().await?;
                println!(
                    "{} migration(s) applied on {}: {:?}",
                    applied.len(),
                    store.backend_name(),
                    applied
                );
                Ok(())
            }
            Command::Admin(c) => cmd::admin::run_admin(c).await,
            Command::Audit(c) => cmd::audit::run(c).await,
            Command::Import(a) => cmd::import::run_import(a).await,
            Command::Export(a) => cmd::import::run_export(a).await,
            Command::Bench(c) => cmd::bench::run(c).await,
            Command::Codes(c) => cmd::codes::run(c).await,
            Command::Policy(c) => cmd::policy::run(c).await,
            Command::Complaints(c) => cmd::complaints::run(c).await,
            Command::Labs(c) => cmd::labs::run(c).await,
            Command::Credit(c) => cmd::credit::run(c).await,
            Command::Hospital(c) => cmd::hospital::run(c).await,
        }
    })
}
