//! `yuepin admin …` (accounts, tokens).

use crate::config::DbArgs;
use anyhow::{Context, Result};
use clap::Subcommand;
use std::io::BufRead;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an account; the first regulator is created this way.
    CreateUser {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        /// regulator, enterprise, bank, lab or expert.
        #[arg(long, default_value = "regulator")]
        role: String,
        #[arg(long, default_value = "")]
        display_name: String,
        /// For enterprise users: the enterprise's 统一社会信用代码.
        #[arg(long)]
        enterprise: Option<String>,
        /// Read the password from standard input (first line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create an API token for an account (printed once).
    CreateToken {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until it expires (1 to 365).
        #[arg(long, default_value_t = yuepin_enterprises_service::credentials::TOKEN_DEFAULT_DAYS)]
        days: i64,
    },
    /// List an account's API tokens: id, name, created, expires, state.
    ListTokens {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
    },
    /// Revoke an API token by its id (from list-tokens).
    RevokeToken {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        id: i64,
    },
    /// Disable an account: its sessions end and its API tokens are revoked.
    DisableUser {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
    },
    /// Re-enable a disabled account (its old sessions and tokens stay ended).
    EnableUser {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
    },
    /// Remove an account's TOTP second factor and recovery codes (a lost phone): its
    /// sessions end, its tokens are revoked, and a regulator or bank account enrols again at
    /// its next sign-in.
    ResetTotp {
        #[command(flatten)]
        db: DbArgs,
        /// The account's username.
        username: String,
    },
    /// Reset a password to a temporary one (printed once) that must be changed at the next
    /// sign-in; the account's sessions end and its tokens are revoked.
    ResetPassword {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
    },
}

fn read_password(from_stdin: bool) -> Result<String> {
    if from_stdin || !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    eprint!("Password (echoed): ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn run_admin(cmd: AdminCommand) -> Result<()> {
    match cmd {
        AdminCommand::CreateUser {
            db,
            username,
            role,
            display_name,
            enterprise,
            password_stdin,
        } => {
            let settings = db.resolve()?;
            let store = settings.connect().await?;
            let password = read_password(password_stdin)?;
            let id = yuepin_enterprises_service::EnterprisesService::new(store)
                .create_account(
                    &yuepin_domain::Caller::cli("admin"),
                    yuepin_enterprises_service::NewAccount {
                        username: username.clone(),
                        display_name,
                        password,
                        role: role.clone(),
                        enterprise_uscc: enterprise,
                    },
                )
                .await
                .context("creating the account")?;
            println!("created {role} account {username:?} (id {id})");
            Ok(())
        }
        AdminCommand::CreateToken {
            db,
            username,
            name,
            days,
        } => {
            let svc = service(&db).await?;
            let user = svc
                .store()
                .user_by_username(&username)
                .await?
                .with_context(|| format!("no account {username:?}"))?;
            let issued = svc
                .issue_token(&operator(), user.id, &name, Some(days))
                .await
                .context("creating the token")?;
            eprintln!(
                "token #{} for {username:?}, expires {}",
                issued.record.id, issued.record.expires_at
            );
            println!("{}", issued.token);
            Ok(())
        }
        AdminCommand::ListTokens { db, username } => {
            let tokens = service(&db)
                .await?
                .tokens_of(&operator(), &username)
                .await
                .context("listing tokens")?;
            let now = yuepin_store::now_text();
            for t in tokens {
                let state = if t.revoked {
                    "revoked"
                } else if t.expires_at <= now {
                    "expired"
                } else {
                    "live"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    t.id, t.name, t.created_at, t.expires_at
                );
            }
            Ok(())
        }
        AdminCommand::RevokeToken { db, id } => {
            let t = service(&db)
                .await?
                .revoke_token(&operator(), id)
                .await
                .context("revoking the token")?;
            println!("revoked token #{} ({})", t.id, t.name);
            Ok(())
        }
        AdminCommand::DisableUser { db, username } => {
            service(&db)
                .await?
                .disable_user(&operator(), &username)
                .await
                .context("disabling the account")?;
            println!("disabled {username:?}: its sessions ended and its tokens were revoked");
            Ok(())
        }
        AdminCommand::EnableUser { db, username } => {
            service(&db)
                .await?
                .enable_user(&operator(), &username)
                .await
                .context("enabling the account")?;
            println!("enabled {username:?}");
            Ok(())
        }
        AdminCommand::ResetTotp { db, username } => {
            service(&db)
                .await?
                .reset_totp(&operator(), &username)
                .await
                .context("resetting the second factor")?;
            println!(
                "reset the second factor of {username:?}: its sessions ended and its tokens were revoked; it enrols again at its next sign-in"
            );
            Ok(())
        }
        AdminCommand::ResetPassword { db, username } => {
            let temporary = service(&db)
                .await?
                .reset_password(&operator(), &username)
                .await
                .context("resetting the password")?;
            println!("temporary password for {username:?} (must be changed at the next sign-in): {temporary}");
            Ok(())
        }
    }
}

fn operator() -> yuepin_domain::Caller {
    yuepin_domain::Caller::cli("admin")
}

async fn service(db: &DbArgs) -> Result<yuepin_enterprises_service::EnterprisesService> {
    Ok(yuepin_enterprises_service::EnterprisesService::new(
        db.resolve()?.connect().await?,
    ))
}
