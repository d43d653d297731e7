//! `paydesk reconcile` and `paydesk runs`: the daily job from the command line.

use super::{parse_date, Session, StderrProgress, WorkspaceArg};
use anyhow::{anyhow, Result};
use clap::Args;
use paydesk_core::{BillDate, OutcomeClass, Provider};
use paydesk_service::context::progress::{Progress, Stage};
use paydesk_service::reconcile::batch::{self, Batch, BatchObserver, OnFailure};
use paydesk_service::reconcile::{DryRun, RunReport};
use std::path::PathBuf;

#[derive(Args)]
pub struct ReconcileArgs {
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
}

#[derive(Args)]
pub struct RunsArgs {
    #[command(flatten)]
    ws: WorkspaceArg,
    #[arg(long)]
    account: Option<String>,
    #[arg(long)]
    json: bool,
}

/// The batch's progress on stderr: which account starts, then its stages.
struct StderrBatch {
    progress: StderrProgress,
    json: bool,
    date: BillDate,
}

impl BatchObserver for StderrBatch {
    fn account_started(&self, account: &str) {
        if !self.json {
            eprintln!("reconciling {account} {}", self.date);
        }
    }

    fn stage(&self, _account: &str, stage: Stage, done: u64, total: Option<u64>) {
        self.progress.update(stage, done, total);
    }
}

pub async fn reconcile(args: ReconcileArgs) -> Result<()> {
    let ReconcileArgs {
        ws,
        account,
        provider,
        date,
        statement,
        dry_run,
        json,
    } = args;
    let date = parse_date(&date)?;
    let Session { w, actor } = Session::open(&ws).await?;
    let accounts: Vec<String> = match (account, provider) {
        (Some(a), _) => vec![a],
        (None, Some(p)) => {
            let p: Provider = p.parse().map_err(|e: String| anyhow!(e))?;
            let names = batch::accounts_of(&w.config, Some(p));
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
    let observer = StderrBatch {
        progress: StderrProgress::new(json),
        json,
        date,
    };
    let request = Batch {
        accounts,
        date,
        statement,
        dry_run: if dry_run { DryRun::Yes } else { DryRun::No },
        // The first failure ends the command (exit code 2, one line naming the account).
        on_failure: OnFailure::Stop,
    };
    let never = Default::default();
    let reports = match batch::run_batch(&w, &actor, request, &never, &observer).await {
        Ok(outcome) => outcome.reports,
        Err(f) => return Err(anyhow::Error::new(f.error).context(format!("{} {date}", f.account))),
    };
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

pub async fn runs(args: RunsArgs) -> Result<()> {
    let RunsArgs { ws, account, json } = args;
    let Session { w, actor } = Session::open(&ws).await?;
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

pub fn print_run(r: &RunReport) {
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
