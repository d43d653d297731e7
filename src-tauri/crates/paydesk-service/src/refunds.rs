//! Refunds: find an order and what is refundable, request a refund within limits (or send it
//! for approval), approve or reject, and execute it at the provider so that whatever
//! crashes, times out or happens twice, one request produces at most one refund.
//!
//! # Guarantees
//! - The amount is admitted against the order's refund ledger in the database (one
//!   conditional UPDATE in a write transaction): concurrent consoles cannot together exceed
//!   `paid - refunded outside Paydesk - Paydesk refunds in flight or done`.
//! - The refund intent, with its idempotency key `refund_no` (Alipay `out_request_no`, WeChat
//!   `out_refund_no`, Stripe `Idempotency-Key` and `metadata[refund_id]`), is committed before
//!   any provider call, and the state `sending` plus an attempt mark are committed before each
//!   create call.
//! - An unknown outcome (timeout, connection reset, 5xx, retryable code, unverifiable answer)
//!   is never a failure: the refund stays `sending`, is queried, and is re-sent with the SAME
//!   `refund_no` only when the provider says it does not exist.
//! - `paydesk refunds resume` drives every unfinished refund (requested, sending, processing)
//!   to a final state after a restart.
//!
//! # States
//! The lifecycle (states, events, the transition table) is [`paydesk_core::refund`]:
//! `requested → [awaiting_approval → requested | rejected] → sending → processing →
//! succeeded | failed | needs_attention`. Every transition goes through
//! [`paydesk_core::refund::transition`], is recorded with time and actor (`refund_events`) and
//! audited.

use crate::connect::{ProviderConn, SandboxHistory};
use crate::context::auth::{audit, require};
use crate::context::config::{Account, Endpoint, RefundSettings};
use crate::context::workspace::Workspace;
use crate::ServiceError;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use paydesk_core::money::Money;
use paydesk_core::{Actor, Currency, LocalRefund, Order, Permission, Provider, Role};
use paydesk_providers::adapter::{
    ProviderAdapter, RefundQuery, RefundRequest as ProviderRefundRequest,
    RefundState as ProviderRefundState, RefundStatus,
};
use paydesk_providers::error::{ErrorKind, ProviderError};
use paydesk_store::{
    DailyCap, NewRefund, RefundAdmission, RefundEvent, RefundLedger, RefundRecord, RefundState,
    RefundUpdate,
};
use serde::Serialize;
use serde_json::json;
use std::collections::HashSet;
use std::time::Instant;

/// Env var naming a test-only crash point: `after_intent`, `before_send`, `after_send`,
/// `before_record`. The process aborts there (as a SIGKILL would stop it). Read only when
/// built with the `crash-hooks` feature (paydesk-cli's tests); without it the hook is not
/// compiled in.
pub const CRASH_ENV: &str = "PAYDESK_TEST_CRASH_AT";
/// For `after_send`: milliseconds to wait for the answer before aborting (default 300).
pub const CRASH_DELAY_ENV: &str = "PAYDESK_TEST_CRASH_DELAY_MS";

#[cfg(feature = "crash-hooks")]
fn crash_armed(name: &str) -> bool {
    std::env::var(CRASH_ENV).is_ok_and(|v| v == name)
}

#[cfg(feature = "crash-hooks")]
fn crash_point(name: &str) {
    if crash_armed(name) {
        eprintln!("{CRASH_ENV}={name}: aborting the process here (test hook)");
        std::process::abort();
    }
}

/// Without the `crash-hooks` feature: nothing.
#[cfg(not(feature = "crash-hooks"))]
#[inline(always)]
fn crash_point(_name: &str) {}

#[cfg(feature = "crash-hooks")]
fn crash_delay() -> std::time::Duration {
    std::time::Duration::from_millis(
        std::env::var(CRASH_DELAY_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300),
    )
}

fn bad(msg: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(msg.into())
}

fn money(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).to_string()
}

// ------------------------------------------------------------------ finding orders

/// A refund as the provider reports it (on request, by query).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProviderRefundView {
    pub refund_no: String,
    /// "succeeded", "processing", "failed", "needs_attention", "pending", or "not_found".
    pub state: String,
    pub provider_status: String,
    pub provider_refund_id: Option<String>,
    pub amount: Option<i64>,
    /// Set when the query itself failed.
    pub error: Option<String>,
}

/// The payment as the provider reports it (on request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProviderPaymentView {
    pub state: Option<String>,
    pub provider_status: Option<String>,
    pub amount: Option<i64>,
    pub error: Option<String>,
}

/// An order with its payment, every earlier refund and what is still refundable.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OrderDetail {
    pub order: Order,
    /// The account refunds of this order go through, if one can.
    pub account: Option<String>,
    /// What the order was paid (0 when it is not paid), minor units.
    pub paid: i64,
    pub currency: Currency,
    /// Refunds the order mirror records (including Paydesk's once the merchant recorded them).
    pub mirror_refunds: Vec<LocalRefund>,
    /// Paydesk's own refund records of the order.
    pub paydesk_refunds: Vec<RefundRecord>,
    /// Mirror refunds Paydesk did not make.
    pub refunded_outside_paydesk: i64,
    /// Paydesk refunds that succeeded.
    pub refunded_by_paydesk: i64,
    /// Paydesk refunds requested, awaiting approval, in flight or needing attention.
    pub in_flight: i64,
    /// paid − refunded outside Paydesk − Paydesk's refunds (done or in flight).
    pub refundable: i64,
    /// Only with `query_provider`.
    pub provider_payment: Option<ProviderPaymentView>,
    pub provider_refunds: Vec<ProviderRefundView>,
}

/// Orders whose number, provider transaction id or customer reference matches `text`.
pub async fn find_orders(
    w: &Workspace,
    actor: &Actor,
    text: &str,
    limit: u32,
) -> Result<Vec<Order>, ServiceError> {
    require(&w.db, actor, Permission::OrderView, "orders").await?;
    Ok(w.mirror.search_orders(text, limit).await?)
}

/// Orders paid in the last `days` days (newest first), optionally of one provider / status.
pub async fn list_orders(
    w: &Workspace,
    actor: &Actor,
    provider: Option<Provider>,
    status: Option<paydesk_core::OrderStatus>,
    days: u32,
) -> Result<Vec<Order>, ServiceError> {
    require(&w.db, actor, Permission::OrderView, "orders").await?;
    let end = Utc::now() + ChronoDuration::days(1);
    let start = end - ChronoDuration::days(i64::from(days.max(1)) + 1);
    let providers: Vec<Provider> = match provider {
        Some(p) => vec![p],
        None => vec![Provider::Alipay, Provider::Wechat, Provider::Stripe],
    };
    let mut out = Vec::new();
    for p in providers {
        out.extend(w.mirror.orders_paid_between(p, start, end).await?);
    }
    if let Some(s) = status {
        out.retain(|o| o.status == s);
    }
    out.sort_by(|a, b| b.paid_at.cmp(&a.paid_at).then(a.order_no.cmp(&b.order_no)));
    Ok(out)
}

/// The one order `key` names: its merchant order number, else its provider transaction id,
/// else a customer reference that only one order has.
async fn resolve_order(w: &Workspace, key: &str) -> Result<Order, ServiceError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(bad(
            "give an order: its merchant order number, provider transaction id or customer reference",
        ));
    }
    let found = w.mirror.search_orders(key, 50).await?;
    let picks: [fn(&Order, &str) -> bool; 3] = [
        |o: &Order, k: &str| o.order_no == k,
        |o: &Order, k: &str| o.provider_txn_id.as_deref() == Some(k),
        |o: &Order, k: &str| o.customer_ref.as_deref() == Some(k),
    ];
    for pick in picks {
        let hits: Vec<&Order> = found.iter().filter(|o| pick(o, key)).collect();
        match hits.as_slice() {
            [one] => return Ok((*one).clone()),
            [] => continue,
            many => {
                return Err(bad(format!(
                    "{key:?} names {} orders ({}); give the merchant order number",
                    many.len(),
                    many.iter()
                        .map(|o| o.order_no.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        }
    }
    Err(ServiceError::NotFound(format!(
        "no order {key:?} in the order mirror (searched order numbers, provider transaction ids and customer references)"
    )))
}

/// Refunds the mirror records for the order (refunds come after the order was created).
async fn mirror_refunds_of(w: &Workspace, order: &Order) -> Result<Vec<LocalRefund>, ServiceError> {
    let start = order
        .created_at
        .min(order.paid_at.unwrap_or(order.created_at))
        - ChronoDuration::days(1);
    let end = Utc::now() + ChronoDuration::days(2);
    let mut refunds = w.mirror.refunds_between(order.provider, start, end).await?;
    refunds.retain(|r| r.order_no == order.order_no);
    Ok(refunds)
}

/// The account refunds of `order` go through: the account the order belongs to (README,
/// "Account scoping"); `account`, if given, must be it. With one account of the provider:
/// `account` if given, else the provider's first account with an API endpoint.
async fn refund_account<'a>(
    w: &'a Workspace,
    order: &Order,
    account: Option<&str>,
) -> Result<&'a Account, ServiceError> {
    let provider = order.provider;
    let siblings = w.config.accounts_of(provider);
    if siblings.len() > 1 {
        let mut owners = Vec::new();
        for a in siblings {
            let scope = crate::context::workspace::account_scope(&w.config, &w.mirror, a).await?;
            let found = w
                .mirror
                .orders_by_numbers(scope, std::slice::from_ref(&order.order_no.to_string()))
                .await?;
            if !found.is_empty() {
                owners.push(a);
            }
        }
        let owner = match owners.as_slice() {
            [one] => *one,
            [] => {
                return Err(bad(format!(
                    "order {} belongs to none of the {provider} accounts in the order mirror; \
                     set its account (or the accounts' mirror_filter) so Paydesk knows which \
                     merchant account to refund through",
                    order.order_no
                )))
            }
            many => {
                return Err(bad(format!(
                    "order {} belongs to more than one {provider} account ({}); make the \
                     accounts' mirror filters exclusive",
                    order.order_no,
                    many.iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        if let Some(name) = account {
            if name != owner.name {
                return Err(bad(format!(
                    "order {} belongs to account {}; it cannot be refunded through {name}",
                    order.order_no, owner.name
                )));
            }
        }
        if owner.endpoint == Endpoint::FileOnly {
            return Err(bad(format!(
                "account {} has no endpoint in {}: refunds need `endpoint` set to the provider's URL (or \"sandbox\")",
                owner.name,
                w.dir.join(crate::context::config::CONFIG_FILE).display()
            )));
        }
        return Ok(owner);
    }
    if let Some(name) = account {
        let a = w.config.account(name).map_err(bad)?;
        if a.provider != provider {
            return Err(bad(format!(
                "account {name} is a {} account but the order was paid with {provider}",
                a.provider
            )));
        }
        return Ok(a);
    }
    w.config
        .accounts_of(provider)
        .into_iter()
        .find(|a| a.endpoint != Endpoint::FileOnly)
        .ok_or_else(|| {
            bad(format!(
                "no {provider} account with an endpoint in {}: refunds need `endpoint` set to the provider's URL (or \"sandbox\")",
                w.dir.join(crate::context::config::CONFIG_FILE).display()
            ))
        })
}

struct Amounts {
    paid: i64,
    external: i64,
    by_paydesk: i64,
    in_flight: i64,
}

/// The order's paid amount and its refunds, summed in checked arithmetic: refunds that add up
/// past the largest amount Paydesk counts are an error naming the order, never a wrapped
/// (negative) sum that would make room for more refunds.
fn amounts(
    order: &Order,
    mirror: &[LocalRefund],
    ours: &[RefundRecord],
) -> Result<Amounts, String> {
    let our_nos: HashSet<&str> = ours.iter().map(|r| r.refund_no.as_str()).collect();
    let sum = |what: &str, amounts: &mut dyn Iterator<Item = i64>| {
        let mut total = Some(0i64);
        for a in amounts {
            total = total.and_then(|t| t.checked_add(a));
        }
        total.ok_or_else(|| {
            format!(
                "the {what} of order {} add up to more than {} (the largest amount Paydesk \
                     counts); check the order's refunds in the order mirror",
                order.order_no,
                money(i64::MAX, order.currency)
            )
        })
    };
    Ok(Amounts {
        paid: if order.status.counts_as_paid() {
            order.amount
        } else {
            0
        },
        external: sum(
            "refunds recorded in the order mirror",
            &mut mirror
                .iter()
                .filter(|r| !our_nos.contains(r.refund_no.as_str()))
                .map(|r| r.amount),
        )?,
        by_paydesk: sum(
            "succeeded Paydesk refunds",
            &mut ours
                .iter()
                .filter(|r| r.state == RefundState::Succeeded)
                .map(|r| r.amount),
        )?,
        in_flight: sum(
            "Paydesk refunds in flight",
            &mut ours
                .iter()
                .filter(|r| r.state.holds_reservation() && r.state != RefundState::Succeeded)
                .map(|r| r.amount),
        )?,
    })
}

/// The order, its payment and every earlier refund; with `query_provider`, also what the
/// provider reports for the payment and for each refund number known.
pub async fn order_detail(
    w: &Workspace,
    actor: &Actor,
    key: &str,
    query_provider: bool,
) -> Result<OrderDetail, ServiceError> {
    require(&w.db, actor, Permission::OrderView, &format!("order {key}")).await?;
    let order = resolve_order(w, key).await?;
    let mirror_refunds = mirror_refunds_of(w, &order).await?;
    let paydesk_refunds =
        w.db.refunds_of_order(order.provider, &order.order_no)
            .await?;
    let a = amounts(&order, &mirror_refunds, &paydesk_refunds).map_err(bad)?;
    let account = refund_account(w, &order, None).await.ok();
    let mut provider_payment = None;
    let mut provider_refunds = Vec::new();
    if query_provider {
        if let Some(acc) = account {
            let settings = w.config.refunds;
            let conn = provider_conn(w, actor, acc).await?;
            let adapter = conn.adapter.as_ref();
            provider_payment = Some(
                match timed(
                    settings,
                    order.provider,
                    adapter.query_payment(&order.order_no),
                )
                .await
                {
                    Ok(p) => ProviderPaymentView {
                        state: Some(format!("{:?}", p.state).to_lowercase()),
                        provider_status: Some(p.provider_status),
                        amount: p.amount,
                        error: None,
                    },
                    Err(e) => ProviderPaymentView {
                        state: None,
                        provider_status: None,
                        amount: None,
                        error: Some(e.to_string()),
                    },
                },
            );
            let mut nos: Vec<(paydesk_core::Id, Option<paydesk_core::Id>)> = mirror_refunds
                .iter()
                .map(|r| (r.refund_no.clone(), r.provider_refund_id.clone()))
                .collect();
            for r in &paydesk_refunds {
                if !nos.iter().any(|(n, _)| *n == r.refund_no) {
                    nos.push((
                        r.refund_no.as_str().into(),
                        r.provider_refund_id.clone().map(Into::into),
                    ));
                }
            }
            for (no, pid) in nos {
                let q = RefundQuery {
                    order_no: order.order_no.to_string(),
                    refund_no: no.to_string(),
                    provider_refund_id: pid.map(|s| s.to_string()),
                    provider_payment_id: order.provider_txn_id.as_ref().map(|s| s.to_string()),
                };
                provider_refunds.push(
                    match timed(settings, order.provider, adapter.query_refund(&q)).await {
                        Ok(s) => ProviderRefundView {
                            refund_no: no.to_string(),
                            state: s.state.as_str().to_string(),
                            provider_status: s.provider_status,
                            provider_refund_id: s.provider_refund_id,
                            amount: s.amount,
                            error: None,
                        },
                        Err(e) if e.is_not_found() => ProviderRefundView {
                            refund_no: no.to_string(),
                            state: "not_found".into(),
                            provider_status: String::new(),
                            provider_refund_id: None,
                            amount: None,
                            error: None,
                        },
                        Err(e) => ProviderRefundView {
                            refund_no: no.to_string(),
                            state: "unknown".into(),
                            provider_status: String::new(),
                            provider_refund_id: None,
                            amount: None,
                            error: Some(e.to_string()),
                        },
                    },
                );
            }
            conn.close().await;
        }
    }
    let refundable = paydesk_core::refund::refundable(&paydesk_core::refund::RefundAmounts {
        paid: a.paid,
        refunded_outside: a.external,
        refunded_by_paydesk: a.by_paydesk,
        in_flight: a.in_flight,
    })
    .ok_or_else(|| {
        bad(format!(
            "the refund amounts of order {} are out of range",
            order.order_no
        ))
    })?;
    Ok(OrderDetail {
        currency: order.currency,
        account: account.map(|a| a.name.clone()),
        paid: a.paid,
        refunded_outside_paydesk: a.external,
        refunded_by_paydesk: a.by_paydesk,
        in_flight: a.in_flight,
        refundable,
        order,
        mirror_refunds,
        paydesk_refunds,
        provider_payment,
        provider_refunds,
    })
}

// ------------------------------------------------------------------ requesting

/// What a support agent asks for.
#[derive(Debug, Clone)]
pub struct RefundInput {
    /// Merchant order number (or provider transaction id / unique customer reference).
    pub order: String,
    pub amount: Money,
    pub reason: String,
    /// The account to refund through (default: the provider's first account with an endpoint).
    pub account: Option<String>,
}

/// A new refund number: `RF` + UTC time + 8 random characters (≤ 64 chars of [0-9A-Z], valid
/// as Alipay out_request_no, WeChat out_refund_no and a Stripe Idempotency-Key).
fn new_refund_no() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..8)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect();
    format!("RF{}{tail}", Utc::now().format("%Y%m%d%H%M%S"))
}

/// The requester's per-refund limit (None: unlimited) and daily cap, from their roles.
fn limits_of(
    actor: &Actor,
    s: &RefundSettings,
    currency: Currency,
) -> (Option<(i64, &'static str)>, Option<u32>) {
    if actor.roles.contains(&Role::Admin) {
        let limit = s
            .admin_limit_2dp
            .map(|l| (RefundSettings::limit_in(l, currency), "admin"));
        return (limit, None);
    }
    (
        Some((
            RefundSettings::limit_in(s.support_limit_2dp, currency),
            "support",
        )),
        Some(s.daily_count),
    )
}

/// Checks and admits a refund request. Within the requester's limits it is `requested`
/// (execute it with [`execute_refund`]); over them it is `awaiting_approval`.
pub async fn request_refund(
    w: &Workspace,
    actor: &Actor,
    input: &RefundInput,
) -> Result<RefundRecord, ServiceError> {
    let target = format!("order {}", input.order.trim());
    require(&w.db, actor, Permission::RefundRequest, &target).await?;
    // Audits the refusal; `as_error` picks the error's code (bad_input, unless named).
    let audit_target = target.as_str();
    let refused_as = move |reason: String, as_error: fn(String) -> ServiceError| async move {
        audit(
            &w.db,
            &actor.username,
            "refund.request",
            audit_target,
            "refused",
            json!({"reason": reason}),
        )
        .await?;
        Err::<RefundRecord, ServiceError>(as_error(reason))
    };
    let refused = |reason: String| refused_as(reason, ServiceError::BadInput);
    let reason = input.reason.trim();
    if reason.is_empty() {
        return refused("give a reason for the refund (--reason TEXT)".into()).await;
    }
    if reason.chars().count() > 80 {
        return refused(format!(
            "the reason is {} characters long; providers accept at most 80",
            reason.chars().count()
        ))
        .await;
    }
    if input.amount.minor <= 0 {
        return refused(format!(
            "the refund amount must be positive; got {}",
            input.amount
        ))
        .await;
    }
    let order = resolve_order(w, &input.order).await?;
    if input.amount.currency != order.currency {
        return refused(format!(
            "order {} was paid in {}; a refund in {} is not possible",
            order.order_no, order.currency, input.amount.currency
        ))
        .await;
    }
    if !order.status.counts_as_paid() {
        return refused(format!(
            "order {} is {}; only paid orders can be refunded",
            order.order_no,
            order.status.as_str()
        ))
        .await;
    }
    let account = refund_account(w, &order, input.account.as_deref()).await?;
    if order.provider == Provider::Stripe && order.provider_txn_id.is_none() {
        return refused(format!(
            "order {} has no Stripe charge or PaymentIntent id in the order mirror; a Stripe refund needs one",
            order.order_no
        ))
        .await;
    }
    let mirror_refunds = mirror_refunds_of(w, &order).await?;
    let ours =
        w.db.refunds_of_order(order.provider, &order.order_no)
            .await?;
    let a = match amounts(&order, &mirror_refunds, &ours) {
        Ok(a) => a,
        Err(reason) => return refused(reason).await,
    };

    let settings = w.config.refunds;
    let (limit, daily) = limits_of(actor, &settings, order.currency);
    let approval_reason = match limit {
        Some((l, role)) if input.amount.minor > l => Some(format!(
            "{} is over the {role} limit of {} per refund",
            input.amount,
            money(l, order.currency)
        )),
        _ => None,
    };
    let tz = w.config.timezone;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let since = paydesk_core::BillDate(today).utc_bounds(tz).0;
    let new = NewRefund {
        refund_no: new_refund_no(),
        provider: order.provider,
        account: account.name.clone(),
        order_no: order.order_no.to_string(),
        provider_txn_id: order.provider_txn_id.as_ref().map(|s| s.to_string()),
        paid: a.paid,
        amount: input.amount.minor,
        currency: order.currency,
        reason: reason.to_string(),
        requested_by: actor.username.clone(),
        refunded_external: a.external,
        approval_reason,
        daily_cap: daily.map(|max| DailyCap { since, max }),
    };
    match w.db.create_refund(&new).await? {
        RefundAdmission::Created(rec) => {
            audit(
                &w.db,
                &actor.username,
                "refund.request",
                &format!("refund {}", rec.refund_no),
                "ok",
                json!({
                    "refund_id": rec.id, "order_no": rec.order_no, "amount": rec.amount,
                    "currency": rec.currency.code(), "state": rec.state.as_str(),
                    "reason": rec.reason, "approval_reason": rec.approval_reason,
                }),
            )
            .await?;
            Ok(*rec)
        }
        RefundAdmission::ExceedsRefundable { ledger } => {
            refused_as(
                exceeds_message(&order, input.amount.minor, &ledger),
                ServiceError::RefundExceedsRefundable,
            )
            .await
        }
        RefundAdmission::CurrencyMismatch { ledger } => {
            refused(format!(
                "order {}'s refund ledger is in {} but the refund is in {}",
                order.order_no, ledger.currency, order.currency
            ))
            .await
        }
    }
}

fn exceeds_message(order: &Order, amount: i64, l: &RefundLedger) -> String {
    let c = l.currency;
    format!(
        "refund of {} exceeds the refundable amount of {} for order {} (paid {}, refunded outside Paydesk {}, Paydesk refunds done or in flight {}); request at most {}",
        money(amount, c),
        money(l.refundable().max(0), c),
        order.order_no,
        money(l.paid, c),
        money(l.refunded_external, c),
        money(l.reserved, c),
        money(l.refundable().max(0), c),
    )
}

async fn refund_by_id(w: &Workspace, id: i64) -> Result<RefundRecord, ServiceError> {
    w.db.refund(id).await?.ok_or_else(|| {
        ServiceError::NotFound(format!(
            "no refund with id {id} (list them with `paydesk refunds list`)"
        ))
    })
}

/// Approves (`approve = true`) or rejects a refund awaiting approval. The requester can do
/// neither to their own refund.
pub async fn decide_refund(
    w: &Workspace,
    actor: &Actor,
    id: i64,
    approve: bool,
    note: Option<&str>,
) -> Result<RefundRecord, ServiceError> {
    let action = if approve {
        "refund.approve"
    } else {
        "refund.reject"
    };
    let target = format!("refund {id}");
    require(&w.db, actor, Permission::RefundApprove, &target).await?;
    let rec = refund_by_id(w, id).await?;
    if rec.requested_by == actor.username {
        let reason = format!(
            "{} requested refund {id} and cannot {} it; another user with the permission refund.approve must",
            actor.username,
            if approve { "approve" } else { "reject" }
        );
        audit(
            &w.db,
            &actor.username,
            action,
            &target,
            "denied",
            json!({"reason": reason}),
        )
        .await?;
        return Err(ServiceError::BadInput(reason));
    }
    let event = if approve {
        paydesk_core::refund::Event::Approve
    } else {
        paydesk_core::refund::Event::Reject
    };
    if paydesk_core::refund::transition(rec.state, event).is_err() {
        return Err(ServiceError::Conflict(format!(
            "refund {id} is {}, not awaiting approval",
            rec.state
        )));
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let updated = w
        .db
        .transition_refund(
            id,
            event,
            &actor.username,
            Some(note.unwrap_or(if approve { "approved" } else { "rejected" })),
            &RefundUpdate {
                decided_by: Some(actor.username.clone()),
                decision_note: note.map(str::to_string),
                ..Default::default()
            },
        )
        .await?
        .ok_or_else(|| {
            ServiceError::Busy(format!(
                "refund {id} changed while deciding; look at it again with `paydesk refund show {id}`"
            ))
        })?;
    audit(
        &w.db,
        &actor.username,
        action,
        &target,
        "ok",
        json!({"refund_no": updated.refund_no, "amount": updated.amount,
               "currency": updated.currency.code(), "note": note}),
    )
    .await?;
    Ok(updated)
}

/// A refund and its history.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefundDetail {
    pub refund: RefundRecord,
    pub events: Vec<RefundEvent>,
}

pub async fn refund_detail(
    w: &Workspace,
    actor: &Actor,
    id: i64,
) -> Result<RefundDetail, ServiceError> {
    require(&w.db, actor, Permission::OrderView, &format!("refund {id}")).await?;
    let refund = refund_by_id(w, id).await?;
    let events = w.db.refund_events(id).await?;
    Ok(RefundDetail { refund, events })
}

pub async fn list_refunds(
    w: &Workspace,
    actor: &Actor,
    states: &[RefundState],
    limit: u32,
) -> Result<Vec<RefundRecord>, ServiceError> {
    require(&w.db, actor, Permission::OrderView, "refunds").await?;
    Ok(w.db.refunds_in_states(states, limit).await?)
}

// ------------------------------------------------------------------ executing

/// The provider connection for refund calls (an in-process sandbox, for `endpoint =
/// "sandbox"`, is the demo only: its provider-side state ends with the process).
async fn provider_conn(
    w: &Workspace,
    actor: &Actor,
    account: &Account,
) -> Result<ProviderConn, ServiceError> {
    crate::connect::open(w, actor, account, SandboxHistory::Recent(7)).await
}

/// Runs a provider call with the configured timeout; no answer in time is a transport
/// timeout (outcome unknown).
async fn timed<T>(
    s: RefundSettings,
    provider: Provider,
    fut: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    match tokio::time::timeout(s.call_timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(ProviderError::new(
            provider,
            "refund call",
            ErrorKind::Transport {
                timeout: true,
                detail: format!("no answer within {} ms", s.call_timeout.as_millis()),
            },
        )),
    }
}

/// What one provider call told us.
enum Answer {
    /// A definite state.
    Known(RefundStatus),
    /// The provider says the refund does not exist (query only).
    NotFound,
    /// The provider definitely refused the create call; nothing was refunded.
    Refused(String),
    /// No usable answer: the refund may or may not exist.
    Unknown(String),
}

/// Errors after which the refund may or may not exist at the provider.
fn unknown_outcome(e: &ProviderError) -> bool {
    if e.outcome_unknown() {
        return true;
    }
    match &e.kind {
        ErrorKind::Verification { .. } | ErrorKind::Protocol { .. } => true,
        // The same refund number was sent with other parameters: the earlier attempt's
        // outcome is unknown (Alipay), or Stripe's idempotency layer compared parameters.
        ErrorKind::Rejected { code, .. } => matches!(
            code.as_str(),
            "ACQ.DISCORDANT_REPEAT_REQUEST"
                | "idempotency_error"
                | "20000"
                | "aop.ACQ.SYSTEM_ERROR"
        ),
        _ => false,
    }
}

fn provider_request(r: &RefundRecord) -> ProviderRefundRequest {
    ProviderRefundRequest {
        order_no: r.order_no.clone(),
        refund_no: r.refund_no.clone(),
        amount: r.amount,
        order_total: r.order_total,
        currency: r.currency,
        reason: Some(r.reason.clone()),
        provider_payment_id: r.provider_txn_id.clone(),
    }
}

fn provider_query(r: &RefundRecord) -> RefundQuery {
    RefundQuery {
        order_no: r.order_no.clone(),
        refund_no: r.refund_no.clone(),
        provider_refund_id: r.provider_refund_id.clone(),
        provider_payment_id: r.provider_txn_id.clone(),
    }
}

async fn create_call(s: RefundSettings, adapter: &dyn ProviderAdapter, r: &RefundRecord) -> Answer {
    let req = provider_request(r);
    let call = timed(s, r.provider, adapter.create_refund(&req));
    #[cfg(feature = "crash-hooks")]
    let result = if crash_armed("after_send") {
        // Test hook: the request goes out; the process dies before it reads the answer.
        tokio::pin!(call);
        let _ = tokio::time::timeout(crash_delay(), &mut call).await;
        crash_point("after_send");
        call.await
    } else {
        call.await
    };
    #[cfg(not(feature = "crash-hooks"))]
    let result = call.await;
    match result {
        Ok(st) => Answer::Known(st),
        Err(e) if unknown_outcome(&e) => Answer::Unknown(e.to_string()),
        Err(e) => Answer::Refused(e.to_string()),
    }
}

async fn query_call(s: RefundSettings, adapter: &dyn ProviderAdapter, r: &RefundRecord) -> Answer {
    match timed(s, r.provider, adapter.query_refund(&provider_query(r))).await {
        Ok(st) => Answer::Known(st),
        Err(e) if e.is_not_found() => Answer::NotFound,
        Err(e) => Answer::Unknown(e.to_string()),
    }
}

/// Drives refund `id` until it is final, needs attention, or `execute_for` has passed (then
/// it stays `sending`/`processing` for `paydesk refunds resume`). Safe to run concurrently
/// with another executor of the same refund: every call carries the same refund number.
pub async fn execute_refund(
    w: &Workspace,
    actor: &Actor,
    id: i64,
) -> Result<RefundRecord, ServiceError> {
    let rec = refund_by_id(w, id).await?;
    if !rec.state.is_unfinished() {
        return Ok(rec);
    }
    let account = w.config.account(&rec.account).map_err(|e| {
        bad(format!(
            "refund {id} was requested through account {}, which is no longer configured: {e}",
            rec.account
        ))
    })?;
    let conn = provider_conn(w, actor, account).await?;
    let result = drive(w, actor, id, conn.adapter.as_ref()).await;
    conn.close().await;
    result
}

async fn drive(
    w: &Workspace,
    actor: &Actor,
    id: i64,
    adapter: &dyn ProviderAdapter,
) -> Result<RefundRecord, ServiceError> {
    let s = w.config.refunds;
    let deadline = Instant::now() + s.execute_for;
    let mut backoff = s.retry_backoff;
    let who = actor.username.as_str();
    loop {
        let rec = refund_by_id(w, id).await?;
        let answer = match rec.state {
            RefundState::Requested => {
                w.db.transition_refund(
                    id,
                    paydesk_core::refund::Event::Send,
                    who,
                    Some(&format!("sending to {} as {}", rec.provider, rec.refund_no)),
                    &RefundUpdate::default(),
                )
                .await?;
                audit(
                    &w.db,
                    who,
                    "refund.send",
                    &format!("refund {}", rec.refund_no),
                    "ok",
                    json!({"refund_id": id, "provider": rec.provider.as_str(),
                           "account": rec.account, "amount": rec.amount,
                           "currency": rec.currency.code()}),
                )
                .await?;
                crash_point("after_intent");
                continue;
            }
            RefundState::Sending => {
                // A previous attempt (maybe by a process that died) may have reached the
                // provider: ask first, and re-send the same refund number only if it has none.
                let first = if rec.attempts > 0 {
                    w.db.record_refund_attempt(id, who, None).await?;
                    query_call(s, adapter, &rec).await
                } else {
                    Answer::NotFound
                };
                match first {
                    Answer::NotFound => {
                        // The attempt mark is committed before the call goes out.
                        w.db.record_refund_attempt(id, who, None).await?;
                        crash_point("before_send");
                        create_call(s, adapter, &rec).await
                    }
                    other => other,
                }
            }
            RefundState::Processing => {
                w.db.record_refund_attempt(id, who, None).await?;
                match query_call(s, adapter, &rec).await {
                    // Accepted without moving money (Alipay fund_change=N) and unknown to the
                    // query: the documented remedy is the same request with the same number.
                    Answer::NotFound => create_call(s, adapter, &rec).await,
                    other => other,
                }
            }
            _ => return Ok(rec),
        };
        crash_point("before_record");
        let keep_going = record_answer(w, actor, &rec, answer).await?;
        let now = refund_by_id(w, id).await?;
        if !keep_going || !now.state.is_unfinished() {
            return Ok(now);
        }
        if Instant::now() + backoff > deadline {
            audit(
                &w.db,
                who,
                "refund.execute",
                &format!("refund {}", now.refund_no),
                "unfinished",
                json!({"refund_id": id, "state": now.state.as_str(),
                       "last_error": now.last_error}),
            )
            .await?;
            return Ok(now);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(s.max_backoff);
    }
}

/// Records a provider answer. Returns whether to keep driving the refund.
async fn record_answer(
    w: &Workspace,
    actor: &Actor,
    rec: &RefundRecord,
    answer: Answer,
) -> Result<bool, ServiceError> {
    use paydesk_core::refund::{self as lifecycle, Event, Reported};
    let who = actor.username.as_str();
    let id = rec.id;
    let (event, update, note) = match answer {
        Answer::Unknown(e) => {
            w.db.record_refund_attempt(id, who, Some(&format!("outcome unknown: {e}")))
                .await?;
            return Ok(true);
        }
        Answer::NotFound => {
            // Only a query answers NotFound and the caller turns it into a create.
            return Ok(true);
        }
        Answer::Refused(e) => (
            Event::ProviderRefused,
            RefundUpdate {
                failure_reason: Some(e.clone()),
                clear_error: true,
                ..Default::default()
            },
            format!("refused by the provider: {e}"),
        ),
        Answer::Known(st) => {
            let mut update = RefundUpdate {
                provider_refund_id: st.provider_refund_id.clone(),
                provider_status: Some(st.provider_status.clone()),
                failure_reason: st.failure_reason.clone(),
                clear_error: true,
                ..Default::default()
            };
            let amount_disagrees = lifecycle::amount_disagrees(st.amount, rec.amount);
            let reported = match st.state {
                ProviderRefundState::Pending => Reported::Pending,
                ProviderRefundState::Processing => Reported::Processing,
                ProviderRefundState::Succeeded => Reported::Succeeded,
                ProviderRefundState::Failed => Reported::Failed,
                ProviderRefundState::NeedsAttention => Reported::NeedsAttention,
            };
            let event = lifecycle::settle(reported, st.amount, rec.amount);
            // Succeeded, processing or needing attention: the provider holds the refund.
            if event != Event::ProviderFailed {
                update.refunded_at = Some(Utc::now());
            }
            let note = if amount_disagrees {
                format!(
                    "{} reports {} refunded for {} but Paydesk requested {}",
                    rec.provider,
                    money(st.amount.unwrap_or_default(), rec.currency),
                    rec.refund_no,
                    money(rec.amount, rec.currency)
                )
            } else {
                format!("{} answered {}", rec.provider, st.provider_status)
            };
            if lifecycle::transition(rec.state, event).is_ok_and(|t| t.is_stay()) {
                // Still processing: an attempt, not a transition.
                w.db.record_refund_attempt(id, who, None).await?;
                return Ok(true);
            }
            (event, update, note)
        }
    };
    // The store applies the event to the state its transaction reads (sending or
    // processing); any other state (another executor got there first) writes nothing.
    let done =
        w.db.transition_refund(id, event, who, Some(&note), &update)
            .await?;
    let Some(done) = done else {
        // Another executor recorded the outcome first; the caller re-reads it.
        return Ok(true);
    };
    audit(
        &w.db,
        who,
        "refund.execute",
        &format!("refund {}", done.refund_no),
        done.state.as_str(),
        json!({"refund_id": id, "provider_refund_id": done.provider_refund_id,
               "provider_status": done.provider_status, "amount": done.amount,
               "currency": done.currency.code(), "note": note}),
    )
    .await?;
    Ok(done.state.is_unfinished())
}

/// `paydesk refunds resume`: drives every unfinished refund (requested, sending, processing)
/// forward. Returns them as they ended up.
pub async fn resume_refunds(
    w: &Workspace,
    actor: &Actor,
) -> Result<Vec<RefundRecord>, ServiceError> {
    if !actor.can(Permission::RefundApprove) {
        require(&w.db, actor, Permission::RefundRequest, "refunds").await?;
    }
    let pending =
        w.db.refunds_in_states(
            &[
                RefundState::Requested,
                RefundState::Sending,
                RefundState::Processing,
            ],
            10_000,
        )
        .await?;
    let mut out = Vec::new();
    for r in pending.into_iter().rev() {
        out.push(execute_refund(w, actor, r.id).await?);
    }
    Ok(out)
}

/// Refunds Paydesk executed in [start, end) (for reconciliation).
pub async fn executed_refunds_between(
    w: &Workspace,
    provider: Provider,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<LocalRefund>, ServiceError> {
    Ok(w.db.paydesk_refunds_between(provider, start, end).await?)
}

/// Why a refund amount as typed is not money.
#[derive(Debug)]
pub enum AmountTextError {
    /// The currency named is not one Paydesk knows.
    Currency(paydesk_core::money::MoneyError),
    /// The amount is not a decimal in the currency's units ("12.34").
    Amount(paydesk_core::money::MoneyError),
    /// The order (read for its currency) could not be read.
    Order(ServiceError),
}

/// A refund amount as a person typed it, as money: in the currency they named, else in the
/// order's. The CLI and the desktop app word the errors for their own fields.
pub async fn refund_amount(
    w: &Workspace,
    actor: &Actor,
    order: &str,
    amount: &str,
    currency: Option<&str>,
) -> Result<Money, AmountTextError> {
    let currency = match currency {
        Some(c) => Currency::parse(c).map_err(AmountTextError::Currency)?,
        None => {
            order_detail(w, actor, order, false)
                .await
                .map_err(AmountTextError::Order)?
                .currency
        }
    };
    Money::parse(amount, currency).map_err(AmountTextError::Amount)
}
