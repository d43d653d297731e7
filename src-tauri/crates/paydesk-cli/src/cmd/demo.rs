//! `paydesk demo`, `paydesk generate` and `paydesk sandbox serve`: the demo, the data
//! generator and the built-in provider sandbox. Only with the `demo` feature.

use super::reconcile::print_run;
use super::{parse_date, StderrProgress, WorkspaceArg};
use anyhow::{anyhow, Context, Result};
use clap::{Args, Subcommand};
use paydesk_core::Provider;
use std::path::PathBuf;

#[derive(Args)]
pub struct DemoArgs {
    /// A new (missing or empty) folder, or a workspace the demo created; never a real one.
    #[arg(long, env = "PAYDESK_WORKSPACE", default_value = "demo-workspace")]
    workspace: PathBuf,
    /// The second demo day (default: yesterday in Asia/Shanghai).
    #[arg(long)]
    date: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct GenerateArgs {
    #[arg(long)]
    orders: u64,
    #[arg(long)]
    date: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// "none", "realistic", "demo" or e.g. "provider_only=0.5%,order_only=0.2%".
    #[arg(long, default_value = "realistic")]
    mix: String,
    /// Providers to generate for (comma-separated).
    #[arg(long, default_value = "alipay,wechat,stripe")]
    providers: String,
    #[arg(long)]
    out: PathBuf,
}

#[derive(Subcommand)]
pub enum SandboxCommand {
    /// Serve the sandbox on 127.0.0.1 until interrupted.
    Serve {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Days of demo history to serve, ending yesterday.
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
}

pub async fn demo(args: DemoArgs) -> Result<()> {
    let DemoArgs {
        workspace,
        date,
        json,
    } = args;
    let date = match date {
        Some(d) => parse_date(&d)?,
        None => paydesk_service::sandbox::history::default_demo_date(),
    };
    let progress = StderrProgress::new(json);
    let summary = paydesk_service::demo::run_demo(&workspace, date, &progress).await?;
    if json {
        out!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        for r in &summary.runs {
            print_run(r);
        }
        out!();
        out!("Discrepancies by class over the demo days:");
        for (class, n) in &summary.class_totals {
            out!("  {:<26} {n}", class);
        }
        out!("Reports: {}", summary.reports.join(", "));
        for s in &summary.settlements {
            out!();
            out!(
                "Settlement of {} ({}): {} payouts, {} bank lines, {} links, {} suggestions",
                s.bank_account,
                s.bank_file,
                s.payouts,
                s.bank_lines,
                s.links,
                s.suggestions
            );
            for (state, n) in &s.arrivals {
                out!("  payouts {:<18} {n}", state);
            }
            for (class, n) in &s.counts {
                out!("  {:<26} {n}", class);
            }
        }
    }
    Ok(())
}

pub async fn generate(args: GenerateArgs) -> Result<()> {
    let GenerateArgs {
        orders,
        date,
        seed,
        mix,
        providers,
        out,
    } = args;
    let date = parse_date(&date)?;
    let mix =
        paydesk_service::sandbox::generate::Mix::parse(&mix).map_err(|e| anyhow!("--mix: {e}"))?;
    let mut accounts = Vec::new();
    for p in providers
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let provider: Provider = p.parse().map_err(|e: String| anyhow!("--providers: {e}"))?;
        accounts.push(paydesk_service::sandbox::generate::GenAccount::new(
            &format!("{provider}-main"),
            provider,
        ));
    }
    let written = paydesk_service::sandbox::files::generate_to_dir(
        &paydesk_service::sandbox::generate::GenerateParams {
            orders,
            date,
            seed,
            mix,
            accounts,
        },
        &out,
    )
    .await?;
    for f in written {
        out!("{}", f.display());
    }
    Ok(())
}

pub async fn sandbox(command: SandboxCommand) -> Result<()> {
    match command {
        SandboxCommand::Serve { ws, port, days } => {
            let handle = paydesk_service::sandbox::serve(&ws.workspace, port, days).await?;
            // The one line scripts wait for: the address to put in `endpoint = "sandbox:URL"`.
            out!("{}", handle.base_url);
            eprintln!("sandbox listening on {} (Ctrl-C to stop)", handle.base_url);
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
            handle.shutdown().await;
            Ok(())
        }
    }
}
