//! `paydesk discrepancies ...` and `paydesk report`: reviewing discrepancies, reports.

use super::{parse_date, Session, WorkspaceArg};
use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use paydesk_core::{BillDate, DiscrepancyFilter, OutcomeClass, ReviewChange, ReviewState};
use std::path::PathBuf;

#[derive(Args, Clone, Default)]
pub struct FilterArgs {
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
pub enum DiscrepancyCommand {
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

pub async fn discrepancies(command: DiscrepancyCommand) -> Result<()> {
    match command {
        DiscrepancyCommand::List {
            ws,
            filter,
            limit,
            json,
        } => {
            let Session { w, actor } = Session::open(&ws).await?;
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
            let Session { w, actor } = Session::open(&ws).await?;
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
            let Session { w, actor } = Session::open(&ws).await?;
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
            let Session { w, actor } = Session::open(&ws).await?;
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
            let Session { w, actor } = Session::open(&ws).await?;
            let f = filter_from(&filter)?;
            let n =
                paydesk_service::review::export_report(&w, &actor, &f, "xlsx", &out, &lang).await?;
            eprintln!("wrote {n} discrepancies to {}", out.display());
            Ok(())
        }
        DiscrepancyCommand::Import { ws, file, json } => {
            let Session { w, actor } = Session::open(&ws).await?;
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

#[derive(Args)]
pub struct ReportArgs {
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
}

pub async fn report(args: ReportArgs) -> Result<()> {
    let ReportArgs {
        ws,
        run,
        date,
        format,
        out,
        lang,
    } = args;
    let w = Session::workspace(&ws).await?;
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
    let Session { w, actor } = Session::login(w).await?;
    let n =
        paydesk_service::review::export_report(&w, &actor, &filter, &format, &out, &lang).await?;
    eprintln!("wrote {n} discrepancies to {}", out.display());
    Ok(())
}
