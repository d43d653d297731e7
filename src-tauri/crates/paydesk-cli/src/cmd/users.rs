//! `paydesk users ...`: users and roles (admin).

use super::{secret_input, Session, WorkspaceArg};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use paydesk_core::Role;

#[derive(Subcommand)]
pub enum UserCommand {
    List {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        json: bool,
    },
    /// Create a user; the password is read from PAYDESK_NEW_PASSWORD or prompted.
    Add {
        #[command(flatten)]
        ws: WorkspaceArg,
        username: String,
        #[arg(long)]
        name: Option<String>,
        /// Comma-separated: finance, support, approver, admin.
        #[arg(long)]
        roles: String,
    },
    /// Replace a user's roles.
    Roles {
        #[command(flatten)]
        ws: WorkspaceArg,
        username: String,
        #[arg(long)]
        roles: String,
    },
    /// Disable a user (ends their sessions).
    Disable {
        #[command(flatten)]
        ws: WorkspaceArg,
        username: String,
    },
    Enable {
        #[command(flatten)]
        ws: WorkspaceArg,
        username: String,
    },
    /// Set a user's password (from PAYDESK_NEW_PASSWORD or a prompt).
    Passwd {
        #[command(flatten)]
        ws: WorkspaceArg,
        username: String,
    },
}

fn parse_roles(text: &str) -> Result<std::collections::BTreeSet<Role>> {
    let mut roles = std::collections::BTreeSet::new();
    for r in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        roles.insert(r.parse::<Role>().map_err(|e| anyhow!("--roles: {e}"))?);
    }
    if roles.is_empty() {
        return Err(anyhow!(
            "--roles: give at least one of finance, support, approver, admin"
        ));
    }
    Ok(roles)
}

pub async fn users(command: UserCommand) -> Result<()> {
    use paydesk_service::context::auth;
    match command {
        UserCommand::List { ws, json } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let users = auth::list_users(&w.db, &actor).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                for u in users {
                    out!(
                        "{:<16} {:<32} {:<28} {}",
                        u.username,
                        u.display_name,
                        u.roles
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        if u.disabled { "disabled" } else { "active" }
                    );
                }
            }
        }
        UserCommand::Add {
            ws,
            username,
            name,
            roles,
        } => {
            let roles = parse_roles(&roles)?;
            let Session { w, actor } = Session::open(&ws).await?;
            let password = secret_input(
                "PAYDESK_NEW_PASSWORD",
                &format!("Password for {username}: "),
            )?;
            let u = auth::create_user(
                &w.db,
                &actor,
                &username,
                name.as_deref().unwrap_or(&username),
                &password,
                roles,
            )
            .await?;
            eprintln!("created {}", u.username);
        }
        UserCommand::Roles {
            ws,
            username,
            roles,
        } => {
            let roles = parse_roles(&roles)?;
            let Session { w, actor } = Session::open(&ws).await?;
            auth::set_roles(&w.db, &actor, &username, roles).await?;
        }
        UserCommand::Disable { ws, username } => {
            let Session { w, actor } = Session::open(&ws).await?;
            auth::set_disabled(&w.db, &actor, &username, true).await?;
        }
        UserCommand::Enable { ws, username } => {
            let Session { w, actor } = Session::open(&ws).await?;
            auth::set_disabled(&w.db, &actor, &username, false).await?;
        }
        UserCommand::Passwd { ws, username } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let password = secret_input(
                "PAYDESK_NEW_PASSWORD",
                &format!("New password for {username}: "),
            )?;
            auth::reset_password(&w.db, &actor, &username, &password).await?;
        }
    }
    Ok(())
}
