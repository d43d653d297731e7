//! `paydesk init`: a new workspace and its first admin.

use super::{plain_input, secret_input, WorkspaceArg};
use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    ws: WorkspaceArg,
    // With an order mirror, sandbox accounts and the demo users.
    #[cfg(feature = "demo")]
    #[arg(long)]
    demo: bool,
}

pub async fn init(args: InitArgs) -> Result<()> {
    #[cfg(feature = "demo")]
    let demo = args.demo;
    #[cfg(not(feature = "demo"))]
    let demo = false;
    // The demo workspace only on a new folder or one the demo created, never a real one.
    let w = if demo {
        paydesk_service::context::workspace::open_or_create_demo(&args.ws.workspace).await?
    } else {
        paydesk_service::context::workspace::init(&args.ws.workspace, false).await?
    };
    if demo {
        paydesk_service::context::auth::ensure_demo_users(&w.db).await?;
    } else if w.db.user_count().await? == 0 {
        let user = plain_input("PAYDESK_USER", "First admin's username: ")?;
        let password = secret_input("PAYDESK_PASSWORD", "First admin's password: ")?;
        paydesk_service::context::auth::bootstrap_admin(&w.db, &user, &password).await?;
        eprintln!("created admin {user}");
    }
    eprintln!(
        "workspace ready: {} (accounts: {})",
        w.dir.display(),
        w.config.account_names().join(", ")
    );
    Ok(())
}
