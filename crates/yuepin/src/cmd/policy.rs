//! `yuepin policy …` subcommands (filled in by its issue).

use anyhow::Result;
use clap::Subcommand;
use yuepin_store::Store;

#[derive(Subcommand)]
pub enum Command {
    /// Show what this module has stored.
    Status {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
}

pub async fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Status { db } => {
            let store = db.resolve()?.connect().await?;
            println!("{} on {}", module_path!(), store.backend_name());
            Ok(())
        }
    }
}

/// Adds this module's demo data to a freshly seeded demo store.
pub async fn seed_demo(_store: &Store, _data_dir: &std::path::Path) -> Result<()> {
    Ok(())
}
