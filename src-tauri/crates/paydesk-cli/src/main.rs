//! `paydesk`: the headless face of Paydesk (cron, CI, scripts). Each command parses its
//! arguments, calls one service, and prints the result: a table for people, or one JSON
//! document on stdout with `--json`. Messages and progress go to stderr.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// `println!` for command output. A reader that went away (`paydesk … --json | head`) ends
/// the process quietly instead of a panic; any other write error is reported.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::output_failed(e);
        }
    }};
}

mod cmd;

/// Ends the process after stdout could not be written.
fn output_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write the output: {e}");
    std::process::exit(2);
}

#[derive(Parser)]
#[command(
    name = "paydesk",
    version,
    about = "Reconcile Alipay, WeChat Pay and Stripe statements against your orders"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a workspace (paydesk.toml, app database; with --demo an order mirror and sandbox accounts).
    #[cfg_attr(
        not(feature = "demo"),
        command(about = "Create a workspace (paydesk.toml, app database)")
    )]
    Init(cmd::init::InitArgs),
    /// Create a demo workspace in a new folder (or reuse one the demo created; any other folder is refused), reconcile two demo days for every provider against the built-in sandbox, print the summary and write reports.
    #[cfg(feature = "demo")]
    Demo(cmd::demo::DemoArgs),
    /// Reconcile one account (or every account of a provider) for one day.
    Reconcile(cmd::reconcile::ReconcileArgs),
    /// Review discrepancies.
    Discrepancies {
        #[command(subcommand)]
        command: cmd::review::DiscrepancyCommand,
    },
    /// Export a run's (or a day's) discrepancy report as CSV or XLSX.
    Report(cmd::review::ReportArgs),
    /// List reconciliation runs.
    Runs(cmd::reconcile::RunsArgs),
    /// Generate an order mirror and matching provider statements, deterministically.
    #[cfg(feature = "demo")]
    Generate(cmd::demo::GenerateArgs),
    /// The built-in provider sandbox.
    #[cfg(feature = "demo")]
    Sandbox {
        #[command(subcommand)]
        command: cmd::demo::SandboxCommand,
    },
    /// Users and roles (admin).
    Users {
        #[command(subcommand)]
        command: cmd::users::UserCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: cmd::audit::AuditCommand,
    },
    /// Provider keys in the encrypted vault (list, import, generate, test, activate, retire).
    Keys {
        #[command(subcommand)]
        command: cmd::keys::KeysCommand,
    },
    /// The key vault itself (init, rotate-master).
    Vault {
        #[command(subcommand)]
        command: cmd::keys::VaultCommand,
    },
    /// Find orders: payment, earlier refunds, refundable amount.
    Orders {
        #[command(subcommand)]
        command: cmd::refunds::OrdersCommand,
    },
    /// Request, approve, reject or show one refund.
    Refund {
        #[command(subcommand)]
        command: cmd::refunds::RefundCommand,
    },
    /// List refunds; resume unfinished ones after a restart.
    Refunds {
        #[command(subcommand)]
        command: cmd::refunds::RefundsCommand,
    },
    /// Bank statements (资金对账): import camt.053, MT940 or a CSV/XLSX export.
    Bank {
        #[command(subcommand)]
        command: cmd::settle::BankCommand,
    },
    /// Provider fund flows (账务明细, 资金账单, Stripe payouts): import a file.
    Fundflows {
        #[command(subcommand)]
        command: cmd::settle::FundFlowCommand,
    },
    /// Settle a bank account as of a day: payouts against bank lines, composition, balances.
    Settle(cmd::settle::SettleArgs),
    /// Review settlement links and suggestions; follow an order to its bank line.
    Settlements {
        #[command(subcommand)]
        command: cmd::settle::SettlementsCommand,
    },
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => cmd::init::init(args).await,
        #[cfg(feature = "demo")]
        Command::Demo(args) => cmd::demo::demo(args).await,
        Command::Reconcile(args) => cmd::reconcile::reconcile(args).await,
        Command::Discrepancies { command } => cmd::review::discrepancies(command).await,
        Command::Report(args) => cmd::review::report(args).await,
        Command::Runs(args) => cmd::reconcile::runs(args).await,
        #[cfg(feature = "demo")]
        Command::Generate(args) => cmd::demo::generate(args).await,
        #[cfg(feature = "demo")]
        Command::Sandbox { command } => cmd::demo::sandbox(command).await,
        Command::Users { command } => cmd::users::users(command).await,
        Command::Audit { command } => cmd::audit::audit(command).await,
        Command::Keys { command } => cmd::keys::keys_cmd(command).await,
        Command::Vault { command } => cmd::keys::vault_cmd(command).await,
        Command::Orders { command } => cmd::refunds::orders(command).await,
        Command::Refund { command } => cmd::refunds::refund(command).await,
        Command::Refunds { command } => cmd::refunds::refunds(command).await,
        Command::Bank { command } => cmd::settle::bank(command).await,
        Command::Fundflows { command } => cmd::settle::fundflows(command).await,
        Command::Settle(args) => cmd::settle::settle(args).await,
        Command::Settlements { command } => cmd::settle::settlements(command).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // Every pool the command opens is closed before the process exits (see paydesk-store's
    // `connect_pool`: a short-lived process keeps no pool maintenance running).
    paydesk_store::track_pools();
    let result = run(cli).await;
    paydesk_store::close_tracked_pools(std::time::Duration::from_secs(5)).await;
    if std::env::var_os("PAYDESK_PEAK_MEMORY").is_some() {
        report_peak_memory();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

/// The log filter: `PAYDESK_LOG`, else `RUST_LOG`, else warnings (sqlx: errors only).
/// `PAYDESK_LOG` wins when both are set.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let given = ["PAYDESK_LOG", "RUST_LOG"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|v| !v.trim().is_empty());
    given
        .and_then(|v| tracing_subscriber::EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("warn,sqlx=error"))
}

/// For the benchmark: the process's peak resident memory, from /proc (Linux).
fn report_peak_memory() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
        let kb: String = line.chars().filter(|c| c.is_ascii_digit()).collect();
        eprintln!("peak_rss_kb={kb}");
    }
}

/// The error and its causes on one line. Many errors already include their cause in their
/// own message; a cause already said is not repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string().replace('\n', " ");
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
