//! Settlement reconciliation (资金对账) from the command line: `paydesk bank import`,
//! `paydesk fundflows import`, `paydesk settle`, `paydesk settlements list|show|accept|reject`.

use super::{parse_date, Session, WorkspaceArg};
use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use paydesk_core::Currency;
use paydesk_providers::bank::BankFormat;
use paydesk_service::settlement::{self, SettleReport};
use paydesk_store::settlement::LinkState;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum BankCommand {
    /// Import a bank statement (camt.053 XML, MT940, or a CSV/XLSX export read by the bank
    /// account's column mapping). All or nothing; importing the same file again changes nothing.
    Import {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// The `[[bank_accounts]]` name.
        #[arg(long)]
        bank: String,
        #[arg(long)]
        file: PathBuf,
        /// camt053, mt940 or table; detected from the content when not given.
        #[arg(long)]
        format: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum FundFlowCommand {
    /// Download a day's fund flows from the provider (Alipay 账务明细, WeChat Pay 资金账单,
    /// Stripe payouts and what each settles), verified like the trade statements.
    Download {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// The provider account (`[[accounts]]` name).
        #[arg(long)]
        account: String,
        #[arg(long)]
        date: String,
        #[arg(long)]
        json: bool,
    },
    /// Import a provider fund-flow file: Alipay 账务明细, WeChat Pay 资金账单, a Stripe
    /// itemized payout report or a saved Stripe API page.
    Import {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// The provider account (`[[accounts]]` name).
        #[arg(long)]
        account: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct SettleArgs {
    #[command(flatten)]
    ws: WorkspaceArg,
    /// The `[[bank_accounts]]` name.
    #[arg(long, conflicts_with = "account")]
    bank: Option<String>,
    /// A provider account: settles the bank account it pays into.
    #[arg(long)]
    account: Option<String>,
    /// The day to settle as of (YYYY-MM-DD): payouts whose window ended by then and not in
    /// the bank are not arrived.
    #[arg(long)]
    date: String,
    /// Show the result without saving it.
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum SettlementsCommand {
    /// A bank account's links (booked, suggested, accepted, rejected) and findings.
    List {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        bank: String,
        /// booked, suggested, accepted or rejected (every state when not given).
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One link: its payouts, bank lines, evidence and what each payout settles.
    Show {
        #[command(flatten)]
        ws: WorkspaceArg,
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Accept a suggestion: its payouts and bank lines are then explained.
    Accept {
        #[command(flatten)]
        ws: WorkspaceArg,
        id: i64,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Reject a suggestion: it is not suggested again.
    Reject {
        #[command(flatten)]
        ws: WorkspaceArg,
        id: i64,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Resolve a finding of the latest run (the resolution stands over re-runs).
    Resolve {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// The finding's id (`settlements list`).
        id: i64,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Reopen a resolved finding, or add a note to an open one.
    Reopen {
        #[command(flatten)]
        ws: WorkspaceArg,
        id: i64,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The daily settlement report (gross, refunds, fees, disputes, net, paid out, arrived,
    /// differences) per provider account and day, as CSV or XLSX.
    Report {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        bank: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// csv or xlsx.
        #[arg(long)]
        format: String,
        #[arg(long)]
        out: PathBuf,
        /// en or zh.
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Follow an order to its payout and bank line.
    Follow {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// Merchant order number or provider transaction id.
        order: String,
        #[arg(long)]
        json: bool,
    },
}

fn json_out<T: serde::Serialize>(v: &T) -> Result<()> {
    out!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn money(minor: i64, c: Currency) -> String {
    format!("{} {}", c.format_minor(minor), c.code())
}

pub async fn bank(command: BankCommand) -> Result<()> {
    match command {
        BankCommand::Import {
            ws,
            bank,
            file,
            format,
            json,
        } => {
            let format = match format.as_deref().map(str::trim) {
                None | Some("") => None,
                Some("camt053") | Some("camt.053") | Some("camt") => Some(BankFormat::Camt053),
                Some("mt940") => Some(BankFormat::Mt940),
                Some("table") | Some("csv") | Some("xlsx") => Some(BankFormat::Table),
                Some(other) => {
                    return Err(anyhow!("--format {other:?} is not camt053, mt940 or table"))
                }
            };
            let Session { w, actor } = Session::open(&ws).await?;
            let r = settlement::import_bank(&w, &actor, &bank, &file, format).await?;
            if json {
                return json_out(&r);
            }
            if r.already_imported {
                out!(
                    "{}: already imported into {}; nothing changed",
                    r.file,
                    r.bank_account
                );
            } else {
                out!(
                    "{}: {} statement(s), {} line(s) imported into {} ({}; {} already known from an earlier file)",
                    r.file, r.statements, r.lines, r.bank_account, r.format, r.already_known_lines
                );
            }
            for g in &r.roll_forward_gaps {
                out!("warning: {g}");
            }
            Ok(())
        }
    }
}

pub async fn fundflows(command: FundFlowCommand) -> Result<()> {
    match command {
        FundFlowCommand::Download {
            ws,
            account,
            date,
            json,
        } => {
            let date = parse_date(&date)?;
            let Session { w, actor } = Session::open(&ws).await?;
            let r = settlement::download::download_fund_flows(&w, &actor, &account, date.0).await?;
            if json {
                return json_out(&r);
            }
            out!(
                "{} {}: {} movement(s) ({} new), {} payout(s)",
                r.account,
                date,
                r.flows,
                r.new_flows,
                r.payouts
            );
            Ok(())
        }
        FundFlowCommand::Import {
            ws,
            account,
            file,
            json,
        } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let r = settlement::import_fund_flows(&w, &actor, &account, &file).await?;
            if json {
                return json_out(&r);
            }
            out!(
                "{}: {} movement(s) of {} ({} new), {} payout(s)",
                r.file,
                r.flows,
                r.account,
                r.new_flows,
                r.payouts
            );
            Ok(())
        }
    }
}

pub async fn settle(args: SettleArgs) -> Result<()> {
    let date = parse_date(&args.date)?;
    let Session { w, actor } = Session::open(&args.ws).await?;
    let bank = match (&args.bank, &args.account) {
        (Some(b), _) => b.clone(),
        (None, Some(a)) => w
            .config
            .bank_accounts
            .iter()
            .find(|b| b.accounts.iter().any(|x| x == a.trim()))
            .map(|b| b.name.clone())
            .ok_or_else(|| {
                anyhow!("account {a:?} pays into no [[bank_accounts]] of paydesk.toml")
            })?,
        (None, None) => return Err(anyhow!("give --bank NAME or --account NAME")),
    };
    let report = settlement::settle(&w, &actor, &bank, date.0, args.dry_run).await?;
    if args.json {
        return json_out(&report);
    }
    print_report(&report);
    Ok(())
}

fn print_report(r: &SettleReport) {
    out!(
        "{} as of {}{}: {} payout(s), {} bank line(s); {} booked link(s), {} suggestion(s), {} finding(s)",
        r.bank_account,
        r.as_of,
        if r.dry_run { " (dry run)" } else { "" },
        r.payouts.len(),
        r.bank_lines,
        r.links.len(),
        r.suggestions.len(),
        r.findings.len()
    );
    for (state, n) in &r.arrivals {
        out!("  payouts {state}: {n}");
    }
    for s in &r.suggestions {
        out!(
            "  suggestion {} ({}, confidence {}): payouts {} = bank {}; {}",
            s.id.map(|i| i.to_string()).unwrap_or_else(|| "-".into()),
            s.rule,
            s.confidence,
            money(s.payout_total, s.currency),
            money(s.bank_total, s.currency),
            s.evidence.join("; ")
        );
    }
    for f in &r.findings {
        out!("  {} {} ({}): {}", f.date, f.class, f.class_zh, f.detail);
    }
    for t in &r.trade_checks {
        out!(
            "  trade bills {} {}..{} ({} day(s) stored) against fund flows: {} agree, {} pending, {} differ",
            t.account,
            t.from,
            t.to,
            t.trade_days,
            t.matched,
            t.pending,
            t.findings
        );
    }
    out!(
        "  subset searches: {} (worst {} steps, {} ambiguous, {} ran out of steps)",
        r.search.searches,
        r.search.worst_steps,
        r.search.ambiguous,
        r.search.exhausted
    );
}

pub async fn settlements(command: SettlementsCommand) -> Result<()> {
    match command {
        SettlementsCommand::List {
            ws,
            bank,
            state,
            json,
        } => {
            let states: Vec<LinkState> = match state.as_deref() {
                None => Vec::new(),
                Some(s) => vec![s.trim().parse().map_err(|_| {
                    anyhow!("--state {s:?} is not booked, suggested, accepted or rejected")
                })?],
            };
            let Session { w, actor } = Session::open(&ws).await?;
            let links = settlement::list_links(&w, &actor, &bank, &states).await?;
            let findings = settlement::list_findings(&w, &actor, &bank).await?;
            if json {
                return json_out(&serde_json::json!({"links": links, "findings": findings}));
            }
            for l in &links {
                out!(
                    "{:>6}  {:<9}  {:<15} {:>3}%  payouts {} = bank {}  (payouts {:?}, bank lines {:?})",
                    l.id,
                    l.state.as_str(),
                    l.rule.to_string(),
                    l.confidence,
                    money(l.payout_total, l.currency),
                    money(l.bank_total, l.currency),
                    l.payout_ids,
                    l.bank_line_ids
                );
            }
            for f in &findings {
                let state = f.review.as_ref().map_or("open", |r| r.state.as_str());
                out!("{:>6}  {} {} [{state}]: {}", f.id, f.day, f.class, f.detail);
            }
            Ok(())
        }
        SettlementsCommand::Show { ws, id, json } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let d = settlement::show_link(&w, &actor, id).await?;
            if json {
                return json_out(&d);
            }
            let l = &d.link;
            out!(
                "link {} ({}, {}, confidence {}): payouts {} = bank {}",
                l.id,
                l.state.as_str(),
                l.rule,
                l.confidence,
                money(l.payout_total, l.currency),
                money(l.bank_total, l.currency)
            );
            for e in &l.evidence {
                out!("  evidence: {e}");
            }
            for (p, flows) in d.payouts.iter().zip(&d.settled) {
                out!(
                    "  payout {} {} {} expected {} ({} movement(s))",
                    p.payout.account,
                    p.payout.payout_id,
                    money(p.payout.amount, p.payout.currency),
                    p.payout.arrival_date,
                    flows.len()
                );
            }
            for b in &d.bank_lines {
                out!(
                    "  bank line {} {} {} {} {}",
                    b.id,
                    b.line.booking_date,
                    money(b.line.amount, b.line.currency),
                    b.line.counterparty.as_deref().unwrap_or(""),
                    b.line.text
                );
            }
            Ok(())
        }
        SettlementsCommand::Accept { ws, id, note, json } => decide(ws, id, true, note, json).await,
        SettlementsCommand::Reject { ws, id, note, json } => {
            decide(ws, id, false, note, json).await
        }
        SettlementsCommand::Resolve { ws, id, note, json } => {
            review_finding(ws, id, true, note, json).await
        }
        SettlementsCommand::Reopen { ws, id, note, json } => {
            review_finding(ws, id, false, note, json).await
        }
        SettlementsCommand::Report {
            ws,
            bank,
            from,
            to,
            format,
            out,
            lang,
        } => {
            let (from, to) = (parse_date(&from)?, parse_date(&to)?);
            let lang = match lang.trim() {
                "en" => paydesk_service::review::report::Lang::En,
                "zh" => paydesk_service::review::report::Lang::Zh,
                other => return Err(anyhow!("--lang {other:?} is not en or zh")),
            };
            let Session { w, actor } = Session::open(&ws).await?;
            let rows = settlement::report::export(
                &w,
                &actor,
                &bank,
                from.0,
                to.0,
                format.trim(),
                lang,
                &out,
            )
            .await?;
            out!("{} day row(s) written to {}", rows, out.display());
            Ok(())
        }
        SettlementsCommand::Follow { ws, order, json } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let f = settlement::follow_order(&w, &actor, &order).await?;
            if json {
                return json_out(&f);
            }
            out!("order {}", f.order_no);
            for m in &f.flows {
                out!(
                    "  movement {} {} {} {} {}",
                    m.account,
                    m.flow_id,
                    m.kind,
                    money(m.net, m.currency),
                    m.payout_id.as_deref().unwrap_or("")
                );
            }
            for p in &f.payouts {
                out!(
                    "  payout {} {} expected {}",
                    p.payout.payout_id,
                    money(p.payout.amount, p.payout.currency),
                    p.payout.arrival_date
                );
            }
            for b in &f.bank_lines {
                out!(
                    "  bank line {} {} {}",
                    b.line.booking_date,
                    money(b.line.amount, b.line.currency),
                    b.line.text
                );
            }
            if f.bank_lines.is_empty() {
                out!("  not in the bank yet (or not settled)");
            }
            Ok(())
        }
    }
}

async fn review_finding(
    ws: WorkspaceArg,
    id: i64,
    resolved: bool,
    note: Option<String>,
    json: bool,
) -> Result<()> {
    let Session { w, actor } = Session::open(&ws).await?;
    let f = settlement::review_finding(&w, &actor, id, resolved, note.as_deref()).await?;
    if json {
        return json_out(&f);
    }
    out!(
        "settlement finding {} ({}, {}) {}",
        f.id,
        f.class,
        f.day,
        if resolved { "resolved" } else { "open" }
    );
    Ok(())
}

async fn decide(
    ws: WorkspaceArg,
    id: i64,
    accept: bool,
    note: Option<String>,
    json: bool,
) -> Result<()> {
    let Session { w, actor } = Session::open(&ws).await?;
    let l = settlement::decide(&w, &actor, id, accept, note.as_deref()).await?;
    if json {
        return json_out(&l);
    }
    out!(
        "settlement link {} {}: payouts {} = bank {}",
        l.id,
        l.state.as_str(),
        money(l.payout_total, l.currency),
        money(l.bank_total, l.currency)
    );
    Ok(())
}
