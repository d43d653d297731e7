//! `paydesk`: the headless face of Paydesk (cron, CI, scripts). Each command parses its
//! arguments, calls one service, and prints the result: a table for people, or one JSON
//! document on stdout with `--json`. Messages and progress go to stderr.

use anyhow::{anyhow, Context, Result};
use clap::{Args, Parser, Subcommand};
use paydesk_core::{
    Actor, BillDate, DiscrepancyFilter, OutcomeClass, Provider, ReviewChange, ReviewState, Role,
};
use paydesk_service::context::progress::{Progress, Stage};
use paydesk_service::context::workspace::Workspace;
use paydesk_service::reconcile::{DryRun, RunReport};
use std::path::PathBuf;
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

mod key_cmds;
mod refund_cmds;

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

#[derive(Args, Clone)]
struct WorkspaceArg {
    /// Workspace folder (holds paydesk.toml).
    #[arg(long, env = "PAYDESK_WORKSPACE", default_value = "paydesk-workspace")]
    workspace: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Create a workspace (paydesk.toml, app database; with --demo an order mirror and sandbox accounts).
    Init {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        demo: bool,
    },
    /// Create a demo workspace if needed, reconcile two demo days for every provider against the built-in sandbox, print the summary and write reports.
    Demo {
        #[arg(long, env = "PAYDESK_WORKSPACE", default_value = "demo-workspace")]
        workspace: PathBuf,
        /// The second demo day (default: yesterday in Asia/Shanghai).
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Reconcile one account (or every account of a provider) for one day.
    Reconcile {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long, conflicts_with = "provider")]
        account: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        date: String,
        /// Import this statement file instead of downloading it.
        #[arg(long)]
        statement: Option<PathBuf>,
        /// Show the outcomes without saving anything.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Review discrepancies.
    Discrepancies {
        #[command(subcommand)]
        command: DiscrepancyCommand,
    },
    /// Export a run's (or a day's) discrepancy report as CSV or XLSX.
    Report {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long, conflicts_with = "date")]
        run: Option<i64>,
        #[arg(long)]
        date: Option<String>,
        #[arg(long, value_parser = ["csv", "xlsx"])]
        format: String,
        #[arg(long)]
        out: PathBuf,
        /// Report language: en or zh.
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// List reconciliation runs.
    Runs {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Generate an order mirror and matching provider statements, deterministically.
    Generate {
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
    },
    /// The built-in provider sandbox.
    Sandbox {
        #[command(subcommand)]
        command: SandboxCommand,
    },
    /// Users and roles (admin).
    Users {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Provider keys in the encrypted vault (list, import, generate, test, activate, retire).
    Keys {
        #[command(subcommand)]
        command: key_cmds::KeysCommand,
    },
    /// The key vault itself (init, rotate-master).
    Vault {
        #[command(subcommand)]
        command: key_cmds::VaultCommand,
    },
    /// Find orders: payment, earlier refunds, refundable amount.
    Orders {
        #[command(subcommand)]
        command: refund_cmds::OrdersCommand,
    },
    /// Request, approve, reject or show one refund.
    Refund {
        #[command(subcommand)]
        command: refund_cmds::RefundCommand,
    },
    /// List refunds; resume unfinished ones after a restart.
    Refunds {
        #[command(subcommand)]
        command: refund_cmds::RefundsCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
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

#[derive(Subcommand)]
enum AuditCommand {
    /// List entries, oldest first.
    List {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        actor: Option<String>,
        /// An action, or a prefix ending in '.', e.g. "refund.".
        #[arg(long)]
        action: Option<String>,
        #[arg(long)]
        target: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Check the hash chain; exits non-zero and says where when it is broken.
    Verify {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        json: bool,
    },
    /// Export entries as CSV or JSON for auditors.
    Export {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long, value_parser = ["csv", "json"])]
        format: String,
        #[arg(long)]
        out: PathBuf,
    },
}

/// A secret from an environment variable, or typed at a prompt when a person is there.
fn secret_input(var: &str, prompt: &str) -> Result<String> {
    use std::io::IsTerminal;
    if let Ok(v) = std::env::var(var) {
        return Ok(v);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt).context("reading the password");
    }
    Err(anyhow!("set {var} (no terminal to prompt on)"))
}

fn plain_input(var: &str, prompt: &str) -> Result<String> {
    use std::io::{IsTerminal, Write};
    if let Ok(v) = std::env::var(var) {
        return Ok(v);
    }
    if std::io::stdin().is_terminal() {
        eprint!("{prompt}");
        std::io::stderr().flush().ok();
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the username")?;
        return Ok(line.trim().to_string());
    }
    Err(anyhow!("set {var} (no terminal to prompt on)"))
}

/// Logs in with PAYDESK_USER / PAYDESK_PASSWORD (or prompts) and returns the acting user.
async fn login(w: &Workspace) -> Result<Actor> {
    let user = plain_input("PAYDESK_USER", "Paydesk user: ")?;
    let password = secret_input("PAYDESK_PASSWORD", "Password: ")?;
    let session =
        paydesk_service::context::auth::login(&w.db, &user, &password, chrono::Utc::now()).await?;
    Ok(session.actor)
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

#[derive(Subcommand)]
enum SandboxCommand {
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

#[derive(Args, Clone, Default)]
struct FilterArgs {
    #[arg(long)]
    account: Option<String>,
    #[arg(long)]
    provider: Option<String>,
    /// A day, or the first day of a range with --to.
    #[arg(long)]
    date: Option<String>,
    #[arg(long)]
    to: Option<String>,
    /// Class (repeatable), e.g. order_only.
    #[arg(long = "class")]
    classes: Vec<String>,
    /// Review state (repeatable): open, investigating, resolved.
    #[arg(long = "state")]
    states: Vec<String>,
    #[arg(long)]
    assignee: Option<String>,
    #[arg(long)]
    run: Option<i64>,
    /// Substring of an order no, transaction id or refund no.
    #[arg(long)]
    text: Option<String>,
}

#[derive(Subcommand)]
enum DiscrepancyCommand {
    /// List discrepancies matching a filter.
    List {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Show one discrepancy with its history.
    Show {
        #[command(flatten)]
        ws: WorkspaceArg,
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Resolve, annotate or assign one discrepancy.
    Resolve {
        #[command(flatten)]
        ws: WorkspaceArg,
        id: i64,
        /// corrected_locally, corrected_at_provider, written_off, not_an_issue
        #[arg(long)]
        resolution: Option<String>,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        assign: Option<String>,
        /// Set the state to investigating instead of resolving.
        #[arg(long)]
        investigating: bool,
    },
    /// Apply one change to every discrepancy matching a filter (says how many first).
    Bulk {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long)]
        resolution: Option<String>,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        assign: Option<String>,
        /// Really apply (without it, only the count is printed).
        #[arg(long)]
        yes: bool,
    },
    /// Export discrepancies to XLSX for review in a spreadsheet.
    Export {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Re-import a reviewed XLSX: valid rows applied in one transaction, rejected rows listed.
    Import {
        #[command(flatten)]
        ws: WorkspaceArg,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// Progress on stderr, one line per stage change.
struct StderrProgress {
    quiet: bool,
    last: std::sync::Mutex<Option<Stage>>,
}

impl Progress for StderrProgress {
    fn update(&self, stage: Stage, done: u64, total: Option<u64>) {
        if self.quiet {
            return;
        }
        let mut last = match self.last.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        };
        let finished = total.is_some_and(|t| t == done);
        if *last != Some(stage) || finished {
            match total {
                Some(t) if finished => eprintln!("  {:<8} done ({t})", stage.as_str()),
                _ => eprintln!("  {:<8} ...", stage.as_str()),
            }
            *last = Some(stage);
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PAYDESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = run(cli).await;
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

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { ws, demo } => {
            let w = paydesk_service::context::workspace::init(&ws.workspace, demo).await?;
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
        Command::Demo {
            workspace,
            date,
            json,
        } => {
            let date = match date {
                Some(d) => parse_date(&d)?,
                None => paydesk_service::sandbox::history::default_demo_date(),
            };
            let progress = StderrProgress {
                quiet: json,
                last: Default::default(),
            };
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
            }
            Ok(())
        }
        Command::Reconcile {
            ws,
            account,
            provider,
            date,
            statement,
            dry_run,
            json,
        } => {
            let date = parse_date(&date)?;
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let accounts: Vec<String> = match (account, provider) {
                (Some(a), _) => vec![a],
                (None, Some(p)) => {
                    let p: Provider = p.parse().map_err(|e: String| anyhow!(e))?;
                    let names: Vec<String> = w
                        .config
                        .accounts_of(p)
                        .iter()
                        .map(|a| a.name.clone())
                        .collect();
                    if names.is_empty() {
                        return Err(anyhow!(
                            "no {p} account in {}",
                            ws.workspace.join("paydesk.toml").display()
                        ));
                    }
                    names
                }
                (None, None) => {
                    return Err(anyhow!(
                        "give --account NAME or --provider alipay|wechat|stripe"
                    ))
                }
            };
            if statement.is_some() && accounts.len() > 1 {
                return Err(anyhow!(
                    "--statement imports one file: name the account with --account"
                ));
            }
            let progress = StderrProgress {
                quiet: json,
                last: Default::default(),
            };
            let mut reports = Vec::new();
            for account in accounts {
                if !json {
                    eprintln!("reconciling {account} {date}");
                }
                let report = paydesk_service::reconcile::reconcile_account(
                    &w,
                    &account,
                    date,
                    statement.clone(),
                    if dry_run { DryRun::Yes } else { DryRun::No },
                    &actor,
                    &progress,
                )
                .await
                .with_context(|| format!("{account} {date}"))?;
                reports.push(report);
            }
            if json {
                if reports.len() == 1 {
                    out!("{}", serde_json::to_string_pretty(&reports[0])?);
                } else {
                    out!("{}", serde_json::to_string_pretty(&reports)?);
                }
            } else {
                for r in &reports {
                    print_run(r);
                }
            }
            Ok(())
        }
        Command::Discrepancies { command } => discrepancies(command).await,
        Command::Users { command } => users(command).await,
        Command::Audit { command } => audit(command).await,
        Command::Keys { command } => key_cmds::keys_cmd(command).await,
        Command::Vault { command } => key_cmds::vault_cmd(command).await,
        Command::Orders { command } => refund_cmds::orders(command).await,
        Command::Refund { command } => refund_cmds::refund(command).await,
        Command::Refunds { command } => refund_cmds::refunds(command).await,
        Command::Report {
            ws,
            run,
            date,
            format,
            out,
            lang,
        } => {
            let w = Workspace::open(&ws.workspace).await?;
            let filter = match (run, date) {
                (Some(run), _) => DiscrepancyFilter {
                    run_id: Some(run),
                    ..Default::default()
                },
                (None, Some(d)) => {
                    let d = parse_date(&d)?;
                    DiscrepancyFilter {
                        date_from: Some(d),
                        date_to: Some(d),
                        ..Default::default()
                    }
                }
                (None, None) => return Err(anyhow!("give --run ID or --date YYYY-MM-DD")),
            };
            let actor = login(&w).await?;
            let n =
                paydesk_service::review::export_report(&w, &actor, &filter, &format, &out, &lang)
                    .await?;
            eprintln!("wrote {n} discrepancies to {}", out.display());
            Ok(())
        }
        Command::Runs { ws, account, json } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let runs = paydesk_service::reconcile::runs(&w, &actor, account.as_deref()).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                out!(
                    "{:>5}  {:<14} {:<10}  {:<20} {:<10} {:>8}  statement",
                    "run",
                    "account",
                    "date",
                    "finished",
                    "by",
                    "issues"
                );
                for r in runs {
                    let issues: u64 = r
                        .counts
                        .iter()
                        .filter(|(c, _)| c.is_discrepancy())
                        .map(|(_, n)| *n)
                        .sum();
                    out!(
                        "{:>5}  {:<14} {:<10}  {:<20} {:<10} {:>8}  {}",
                        r.id,
                        r.account,
                        r.bill_date.to_string(),
                        r.finished_at.format("%Y-%m-%d %H:%M:%S"),
                        r.started_by,
                        issues,
                        &r.statement_sha256[..r.statement_sha256.len().min(12)]
                    );
                }
            }
            Ok(())
        }
        Command::Generate {
            orders,
            date,
            seed,
            mix,
            providers,
            out,
        } => {
            let date = parse_date(&date)?;
            let mix = paydesk_service::sandbox::generate::Mix::parse(&mix)
                .map_err(|e| anyhow!("--mix: {e}"))?;
            let mut accounts = Vec::new();
            for p in providers
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let provider: Provider =
                    p.parse().map_err(|e: String| anyhow!("--providers: {e}"))?;
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
        Command::Sandbox {
            command: SandboxCommand::Serve { ws, port, days },
        } => {
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

fn parse_date(s: &str) -> Result<BillDate> {
    BillDate::parse(s).map_err(|e| anyhow!("--date: {e}"))
}

fn filter_from(args: &FilterArgs) -> Result<DiscrepancyFilter> {
    let mut f = DiscrepancyFilter {
        account: args.account.clone(),
        assignee: args.assignee.clone(),
        run_id: args.run,
        text: args.text.clone(),
        ..Default::default()
    };
    if let Some(p) = &args.provider {
        f.provider = Some(p.parse().map_err(|e: String| anyhow!("--provider: {e}"))?);
    }
    if let Some(d) = &args.date {
        let d = parse_date(d)?;
        f.date_from = Some(d);
        f.date_to = Some(d);
    }
    if let Some(t) = &args.to {
        f.date_to = Some(BillDate::parse(t).map_err(|e| anyhow!("--to: {e}"))?);
    }
    for c in &args.classes {
        f.classes.push(
            c.parse::<OutcomeClass>()
                .map_err(|e| anyhow!("--class: {e}"))?,
        );
    }
    for s in &args.states {
        f.states.push(
            s.parse::<ReviewState>()
                .map_err(|e| anyhow!("--state: {e}"))?,
        );
    }
    Ok(f)
}

fn change_from(
    resolution: Option<String>,
    note: Option<String>,
    assign: Option<String>,
    investigating: bool,
) -> Result<ReviewChange> {
    let mut change = ReviewChange {
        note,
        assignee: assign.map(|a| if a.is_empty() { None } else { Some(a) }),
        ..Default::default()
    };
    if let Some(r) = resolution {
        change.resolution = Some(
            r.parse()
                .map_err(|e: String| anyhow!("--resolution: {e}"))?,
        );
        change.state = Some(ReviewState::Resolved);
    } else if investigating {
        change.state = Some(ReviewState::Investigating);
    }
    if change.is_empty() {
        return Err(anyhow!(
            "nothing to change: give --resolution, --note, --assign or --investigating"
        ));
    }
    change.validate().map_err(|e| anyhow!(e))?;
    Ok(change)
}

async fn discrepancies(command: DiscrepancyCommand) -> Result<()> {
    match command {
        DiscrepancyCommand::List {
            ws,
            filter,
            limit,
            json,
        } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let f = filter_from(&filter)?;
            let page = paydesk_service::review::list(
                &w,
                &actor,
                &f,
                paydesk_store::DiscrepancySort::DateDesc,
                limit,
                0,
            )
            .await?;
            let (total, rows) = (page.total, page.discrepancies);
            if json {
                out!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"total": total, "discrepancies": rows})
                    )?
                );
            } else {
                out!(
                    "{:>6}  {:<12} {:<10} {:<24} {:<14} {:<26} {:>12}",
                    "id",
                    "account",
                    "date",
                    "class",
                    "state",
                    "order no",
                    "difference"
                );
                for d in &rows {
                    out!(
                        "{:>6}  {:<12} {:<10} {:<24} {:<14} {:<26} {:>12}",
                        d.id,
                        d.account,
                        d.bill_date.to_string(),
                        d.class.as_str(),
                        d.state.as_str(),
                        d.order_no.as_deref().unwrap_or("-"),
                        format!("{} {}", d.currency.format_minor(d.difference), d.currency)
                    );
                }
                eprintln!("{} of {total} shown", rows.len());
            }
            Ok(())
        }
        DiscrepancyCommand::Show { ws, id, json } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let (d, history) = paydesk_service::review::show(&w, &actor, id).await?;
            if json {
                out!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"discrepancy": d, "history": history})
                    )?
                );
            } else {
                out!(
                    "#{} {} — {}",
                    d.id,
                    d.class.label_en(),
                    d.class.description_en()
                );
                out!("  {}", d.class.description_zh());
                out!(
                    "  account {} ({}), day {}",
                    d.account,
                    d.provider,
                    d.bill_date
                );
                let amt = |a: Option<i64>| {
                    a.map(|v| d.currency.format_minor(v))
                        .unwrap_or_else(|| "-".into())
                };
                out!(
                    "  order {}  txn {}  refund {}",
                    d.order_no.as_deref().unwrap_or("-"),
                    d.provider_txn_id.as_deref().unwrap_or("-"),
                    d.refund_no.as_deref().unwrap_or("-")
                );
                out!(
                    "  provider {}  ours {}  difference {} {}",
                    amt(d.provider_amount),
                    amt(d.local_amount),
                    d.currency.format_minor(d.difference),
                    d.currency
                );
                out!("  why: {} (rule {})", d.explanation, d.rule.as_str());
                if let (Some(f), Some(l)) = (&d.evidence_file, d.evidence_line) {
                    out!("  evidence: {f} line {l}");
                }
                out!(
                    "  state {}{}  assignee {}  due {}",
                    d.state.as_str(),
                    d.resolution
                        .map(|r| format!(" ({})", r.as_str()))
                        .unwrap_or_default(),
                    d.assignee.as_deref().unwrap_or("-"),
                    d.due_at.format("%Y-%m-%d")
                );
                if let Some(n) = &d.note {
                    out!("  note: {n}");
                }
                for h in history {
                    out!(
                        "  {} {} {}: {} → {}",
                        h.at.format("%Y-%m-%d %H:%M"),
                        h.actor,
                        h.field,
                        h.old_value.unwrap_or_default(),
                        h.new_value.unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        DiscrepancyCommand::Resolve {
            ws,
            id,
            resolution,
            note,
            assign,
            investigating,
        } => {
            let change = change_from(resolution, note, assign, investigating)?;
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let d = paydesk_service::review::update(&w, &actor, id, &change).await?;
            eprintln!(
                "#{} is now {}{}",
                d.id,
                d.state.as_str(),
                d.resolution
                    .map(|r| format!(" ({})", r.as_str()))
                    .unwrap_or_default()
            );
            Ok(())
        }
        DiscrepancyCommand::Bulk {
            ws,
            filter,
            resolution,
            note,
            assign,
            yes,
        } => {
            let change = change_from(resolution, note, assign, false)?;
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let f = filter_from(&filter)?;
            let n = paydesk_service::review::count(&w, &actor, &f).await?;
            if !yes {
                out!("{n} discrepancies match; run again with --yes to apply the change to all of them");
                return Ok(());
            }
            let touched = paydesk_service::review::bulk_update(&w, &actor, &f, &change).await?;
            out!("{touched} discrepancies changed");
            Ok(())
        }
        DiscrepancyCommand::Export {
            ws,
            filter,
            out,
            lang,
        } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let f = filter_from(&filter)?;
            let n =
                paydesk_service::review::export_report(&w, &actor, &f, "xlsx", &out, &lang).await?;
            eprintln!("wrote {n} discrepancies to {}", out.display());
            Ok(())
        }
        DiscrepancyCommand::Import { ws, file, json } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let outcome = paydesk_service::review::import_review(&w, &actor, &file).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&outcome)?);
            } else {
                out!(
                    "{} rows applied, {} rejected",
                    outcome.applied,
                    outcome.rejected.len()
                );
                for r in &outcome.rejected {
                    out!("  row {}: {}", r.row, r.reason);
                }
            }
            Ok(())
        }
    }
}

fn print_run(r: &RunReport) {
    out!();
    out!(
        "{} ({}) {}  run {}  statement {} [{} lines{}]",
        r.account,
        r.provider,
        r.date,
        r.run_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "dry-run".into()),
        r.statement.file,
        r.statement.lines,
        if r.statement.unchanged {
            ", unchanged"
        } else {
            ""
        }
    );
    for (class, n) in &r.counts {
        if *n > 0 {
            let label = class
                .parse::<OutcomeClass>()
                .map(|c| c.label_en())
                .unwrap_or("?");
            out!("  {:<34} {n}", label);
        }
    }
    for d in r.discrepancies.iter().take(50) {
        let difference = paydesk_core::Currency::parse(&d.currency)
            .map(|c| c.format_minor(d.difference))
            .unwrap_or_else(|_| d.difference.to_string());
        out!(
            "    - {:<24} order {:<22} diff {:>10} {}  {}",
            d.class.as_str(),
            d.order_no.as_deref().unwrap_or("-"),
            difference,
            d.currency,
            d.explanation
        );
    }
    if r.discrepancies.len() > 50 {
        out!("    ... {} more", r.discrepancies.len() - 50);
    }
    if !r.carry_overs_closed.is_empty() {
        out!(
            "  closed carry-overs from the previous day: {}",
            r.carry_overs_closed.join(", ")
        );
    }
}

async fn users(command: UserCommand) -> Result<()> {
    use paydesk_service::context::auth;
    match command {
        UserCommand::List { ws, json } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
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
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
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
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            auth::set_roles(&w.db, &actor, &username, roles).await?;
        }
        UserCommand::Disable { ws, username } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            auth::set_disabled(&w.db, &actor, &username, true).await?;
        }
        UserCommand::Enable { ws, username } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            auth::set_disabled(&w.db, &actor, &username, false).await?;
        }
        UserCommand::Passwd { ws, username } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let password = secret_input(
                "PAYDESK_NEW_PASSWORD",
                &format!("New password for {username}: "),
            )?;
            auth::reset_password(&w.db, &actor, &username, &password).await?;
        }
    }
    Ok(())
}

async fn audit(command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::List {
            ws,
            actor: who,
            action,
            target,
            limit,
            json,
        } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let filter = paydesk_store::AuditFilter {
                actor: who,
                action,
                target,
                ..Default::default()
            };
            let entries =
                paydesk_service::context::audit::entries(&w, &actor, &filter, limit, 0).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                for e in entries {
                    out!(
                        "{:>6} {} {:<12} {:<24} {:<8} {}  {}",
                        e.seq,
                        e.at.format("%Y-%m-%d %H:%M:%S"),
                        e.actor,
                        e.action,
                        e.outcome,
                        e.target,
                        e.details
                    );
                }
            }
            Ok(())
        }
        AuditCommand::Verify { ws, json } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let v = paydesk_service::context::audit::verify(&w, &actor).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                out!(
                    "{} entries, head #{} {}",
                    v.entries,
                    v.head_seq,
                    v.head_hash
                );
                for p in &v.problems {
                    out!("  entry {}: {}", p.seq, p.reason);
                }
            }
            if v.intact() {
                eprintln!("audit log intact");
                Ok(())
            } else {
                Err(anyhow!(
                    "audit log broken at entry {}: {}",
                    v.problems[0].seq,
                    v.problems[0].reason
                ))
            }
        }
        AuditCommand::Export { ws, format, out } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            let filter = paydesk_store::AuditFilter::default();
            if format == "csv" {
                let n =
                    paydesk_service::context::audit::export_csv(&w, &actor, &filter, &out).await?;
                eprintln!("wrote {n} entries to {}", out.display());
            } else {
                let entries =
                    paydesk_service::context::audit::entries(&w, &actor, &filter, u32::MAX, 0)
                        .await?;
                std::fs::write(&out, serde_json::to_vec_pretty(&entries)?)
                    .with_context(|| format!("writing {}", out.display()))?;
                eprintln!("wrote {} entries to {}", entries.len(), out.display());
            }
            Ok(())
        }
    }
}
