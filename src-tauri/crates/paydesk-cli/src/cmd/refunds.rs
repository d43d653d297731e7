//! `paydesk orders ...`, `paydesk refund ...`, `paydesk refunds ...`: find orders, request,
//! approve, reject, show, list and resume refunds. Each command calls one service in
//! `paydesk_service::refunds`; `--json` prints one JSON document on stdout.

use super::{Session, WorkspaceArg};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use paydesk_core::money::Money;
use paydesk_core::{Currency, OrderStatus, Provider};
use paydesk_service::refunds::{self as svc, AmountTextError, RefundInput};
use paydesk_store::{RefundRecord, RefundState};

#[derive(Subcommand)]
pub enum OrdersCommand {
    /// Orders paid in the last --days days, newest first.
    List {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        provider: Option<String>,
        /// pending, paid, closed, partially_refunded, refunded
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long)]
        json: bool,
    },
    /// One order (by merchant order no, provider transaction id or customer reference) with
    /// its payment, every earlier refund and the refundable amount.
    Show {
        #[command(flatten)]
        ws: WorkspaceArg,
        no: String,
        /// Also ask the provider about the payment and each known refund.
        #[arg(long)]
        query_provider: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum RefundCommand {
    /// Request a refund; within your limits it is sent to the provider at once, over them it
    /// waits for approval.
    Create {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// Merchant order no (or provider transaction id / unique customer reference).
        #[arg(long)]
        order: String,
        /// Amount in major units of the order's currency, e.g. 12.34.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// Currency of --amount; default the order's. A different one is refused.
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        reason: String,
        /// Refund through this account (default: the provider's first account with an endpoint).
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Approve a refund awaiting approval (not your own) and send it.
    Approve {
        #[command(flatten)]
        ws: WorkspaceArg,
        id: i64,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Reject a refund awaiting approval (not your own).
    Reject {
        #[command(flatten)]
        ws: WorkspaceArg,
        id: i64,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One refund with its history.
    Show {
        #[command(flatten)]
        ws: WorkspaceArg,
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum RefundsCommand {
    /// Refunds, newest first.
    List {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// requested, awaiting_approval, sending, processing, succeeded, failed,
        /// needs_attention, rejected (repeatable)
        #[arg(long = "state")]
        states: Vec<String>,
        #[arg(long, default_value_t = 200)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Drive every unfinished refund (requested, sending, processing) to a final state.
    Resume {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        json: bool,
    },
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    out!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn amount_text(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).to_string()
}

fn refund_row(r: &RefundRecord) {
    out!(
        "{:>5}  {:<26} {:<10} {:<24} {:>14}  {:<17} {:<10} {}",
        r.id,
        r.refund_no,
        r.provider.as_str(),
        r.order_no,
        amount_text(r.amount, r.currency),
        r.state.as_str(),
        r.requested_by,
        r.provider_refund_id.as_deref().unwrap_or("-")
    );
}

fn refund_header() {
    out!(
        "{:>5}  {:<26} {:<10} {:<24} {:>14}  {:<17} {:<10} provider refund id",
        "id",
        "refund no",
        "provider",
        "order",
        "amount",
        "state",
        "by"
    );
}

/// Prints the refund and says what happens next; a failed refund is an error.
fn report(r: &RefundRecord, json: bool) -> Result<()> {
    if json {
        print_json(r)?;
    } else {
        refund_header();
        refund_row(r);
    }
    match r.state {
        RefundState::Failed => Err(anyhow!(
            "refund {} ({}) failed: {}",
            r.id,
            r.refund_no,
            r.failure_reason.as_deref().unwrap_or("no reason given")
        )),
        RefundState::AwaitingApproval => {
            eprintln!(
                "refund {} awaits approval ({}): another user with refund.approve runs `paydesk refund approve {}`",
                r.id,
                r.approval_reason.as_deref().unwrap_or("over the limit"),
                r.id
            );
            Ok(())
        }
        RefundState::Requested | RefundState::Sending | RefundState::Processing => {
            eprintln!(
                "refund {} is {} (last: {}); `paydesk refunds resume` finishes it",
                r.id,
                r.state,
                r.last_error.as_deref().unwrap_or("no answer yet")
            );
            Ok(())
        }
        RefundState::NeedsAttention => {
            eprintln!(
                "refund {} needs attention at the provider: {}",
                r.id,
                r.provider_status.as_deref().unwrap_or("-")
            );
            Ok(())
        }
        _ => Ok(()),
    }
}

pub async fn orders(command: OrdersCommand) -> Result<()> {
    match command {
        OrdersCommand::List {
            ws,
            provider,
            status,
            days,
            json,
        } => {
            let provider = provider
                .map(|p| p.parse::<Provider>())
                .transpose()
                .map_err(|e| anyhow!("--provider: {e}"))?;
            let status = status
                .map(|s| s.parse::<OrderStatus>())
                .transpose()
                .map_err(|e| anyhow!("--status: {e}"))?;
            let Session { w, actor } = Session::open(&ws).await?;
            let orders = svc::list_orders(&w, &actor, provider, status, days).await?;
            if json {
                return print_json(&orders);
            }
            out!(
                "{:<24} {:<8} {:>14}  {:<19} {:<20} customer",
                "order",
                "provider",
                "amount",
                "status",
                "paid at"
            );
            for o in orders {
                out!(
                    "{:<24} {:<8} {:>14}  {:<19} {:<20} {}",
                    o.order_no,
                    o.provider.as_str(),
                    amount_text(o.amount, o.currency),
                    o.status.as_str(),
                    o.paid_at
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_else(|| "-".into()),
                    o.customer_ref.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
        OrdersCommand::Show {
            ws,
            no,
            query_provider,
            json,
        } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let d = svc::order_detail(&w, &actor, &no, query_provider).await?;
            if json {
                return print_json(&d);
            }
            let c = d.currency;
            let o = &d.order;
            out!("order       {} ({})", o.order_no, o.provider);
            out!(
                "payment     {} {}  txn {}  paid {}",
                amount_text(o.amount, c),
                o.status.as_str(),
                o.provider_txn_id.as_deref().unwrap_or("-"),
                o.paid_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "-".into())
            );
            out!("customer    {}", o.customer_ref.as_deref().unwrap_or("-"));
            out!("account     {}", d.account.as_deref().unwrap_or("-"));
            out!(
                "refunded outside Paydesk {}",
                amount_text(d.refunded_outside_paydesk, c)
            );
            out!(
                "refunded by Paydesk      {}",
                amount_text(d.refunded_by_paydesk, c)
            );
            out!("in flight                {}", amount_text(d.in_flight, c));
            out!("refundable               {}", amount_text(d.refundable, c));
            if !d.mirror_refunds.is_empty() {
                out!("\nrefunds in the order mirror:");
                for r in &d.mirror_refunds {
                    out!(
                        "  {:<26} {:>14}  {}  {}",
                        r.refund_no,
                        amount_text(r.amount, r.currency),
                        r.refunded_at.format("%Y-%m-%d %H:%M:%S"),
                        r.provider_refund_id.as_deref().unwrap_or("-")
                    );
                }
            }
            if !d.paydesk_refunds.is_empty() {
                out!("\nPaydesk refunds:");
                refund_header();
                for r in &d.paydesk_refunds {
                    refund_row(r);
                }
            }
            if let Some(p) = &d.provider_payment {
                out!(
                    "\nprovider payment: {} {} {}",
                    p.state.as_deref().unwrap_or("-"),
                    p.provider_status.as_deref().unwrap_or(""),
                    p.error.as_deref().unwrap_or("")
                );
            }
            for r in &d.provider_refunds {
                out!(
                    "provider refund {}: {} {} {} {}",
                    r.refund_no,
                    r.state,
                    r.amount.map(|a| amount_text(a, c)).unwrap_or_default(),
                    r.provider_refund_id.as_deref().unwrap_or(""),
                    r.error.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

pub async fn refund(command: RefundCommand) -> Result<()> {
    match command {
        RefundCommand::Create {
            ws,
            order,
            amount,
            currency,
            reason,
            account,
            json,
        } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let money = svc::refund_amount(&w, &actor, &order, &amount, currency.as_deref())
                .await
                .map_err(|e| match e {
                    AmountTextError::Currency(e) => anyhow!("--currency: {e}"),
                    AmountTextError::Amount(e) => {
                        anyhow!("--amount {amount:?}: {e} (give e.g. 12.34)")
                    }
                    AmountTextError::Order(e) => e.into(),
                })?;
            let rec = svc::request_refund(
                &w,
                &actor,
                &RefundInput {
                    order,
                    amount: money,
                    reason,
                    account,
                },
            )
            .await?;
            let rec = if rec.state == RefundState::Requested {
                svc::execute_refund(&w, &actor, rec.id).await?
            } else {
                rec
            };
            report(&rec, json)
        }
        RefundCommand::Approve { ws, id, note, json } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let rec = svc::decide_refund(&w, &actor, id, true, note.as_deref()).await?;
            let rec = svc::execute_refund(&w, &actor, rec.id).await?;
            report(&rec, json)
        }
        RefundCommand::Reject { ws, id, note, json } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let rec = svc::decide_refund(&w, &actor, id, false, note.as_deref()).await?;
            report(&rec, json)
        }
        RefundCommand::Show { ws, id, json } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let d = svc::refund_detail(&w, &actor, id).await?;
            if json {
                return print_json(&d);
            }
            let r = &d.refund;
            refund_header();
            refund_row(r);
            out!("reason: {}", r.reason);
            if let Some(a) = &r.approval_reason {
                out!("approval needed: {a}");
            }
            if let Some(by) = &r.decided_by {
                out!(
                    "decided by {by}: {}",
                    r.decision_note.as_deref().unwrap_or("-")
                );
            }
            if let Some(f) = &r.failure_reason {
                out!("failure: {f}");
            }
            out!("\nhistory:");
            for e in &d.events {
                out!(
                    "  {}  {:<10} {:>17} -> {:<17} {}",
                    e.at.format("%Y-%m-%d %H:%M:%S%.3f"),
                    e.actor,
                    e.from_state.map(|s| s.as_str()).unwrap_or("-"),
                    e.to_state.as_str(),
                    e.note.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

pub async fn refunds(command: RefundsCommand) -> Result<()> {
    match command {
        RefundsCommand::List {
            ws,
            states,
            limit,
            json,
        } => {
            let states = states
                .iter()
                .map(|s| s.parse::<RefundState>())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| anyhow!("--state: {e}"))?;
            let Session { w, actor } = Session::open(&ws).await?;
            let list = svc::list_refunds(&w, &actor, &states, limit).await?;
            if json {
                return print_json(&list);
            }
            refund_header();
            for r in &list {
                refund_row(r);
            }
            Ok(())
        }
        RefundsCommand::Resume { ws, json } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let done = svc::resume_refunds(&w, &actor).await?;
            if json {
                return print_json(&done);
            }
            eprintln!("resumed {} refunds", done.len());
            refund_header();
            for r in &done {
                refund_row(r);
            }
            let open = done.iter().filter(|r| r.state.is_unfinished()).count();
            if open > 0 {
                return Err(anyhow!(
                    "{open} refunds are still unfinished (provider gave no final answer); run `paydesk refunds resume` again later"
                ));
            }
            Ok(())
        }
    }
}
