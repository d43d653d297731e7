//! The provider balance behind the transactions the sandbox holds: fund flows (资金流水) with
//! running balances, and the daily payouts that empty it.
//!
//! Derived on every request from the statement lines and the refunds executed here, so the
//! fund flows always agree with the trade bills and ids never change between requests:
//! - Alipay and WeChat move the balance by what a trade settles (商家实收, 应结订单金额,
//!   −退款金额: `net + fee` of the line) and book the fee as a row of its own (收费 /
//!   扣除交易手续费); Stripe by the line's gross with the fee on the transaction (`fee`,
//!   `net = gross − fee`), each currency in a balance of its own;
//! - Alipay and WeChat: one 提现 a day at 09:00 Beijing time of everything booked before that
//!   day (T+1); Alipay then charges its withdrawal fee ([`ALIPAY_WITHDRAWAL_FEE_BP`]) as a
//!   服务费 row naming the 提现, which the next 提现 pays for;
//! - Stripe: one automatic payout a day at 02:00 UTC of everything created before that day,
//!   arriving the next business day; the balance transactions it settles carry its id;
//! - a day whose pending net is not positive pays nothing out; its flows wait for the next.
//!
//! The running balance starts at [`OPENING_BALANCE`]. Two knobs plant settlement findings for
//! demos and tests: a payout that holds money back ([`Quirk::HoldBack`]: it pays less than the
//! flows it settles) and a withdrawal charged more than the fee schedule ([`Quirk::ExtraFee`]).

use crate::state::{refund_line, Inner};
use chrono::{DateTime, NaiveDate, Utc};
use paydesk_core::settlement::calendar::add_business_days;
use paydesk_core::settlement::matching::{scheduled_payout_fee, PayoutFeeSchedule};
use paydesk_core::settlement::{settled_amount, FlowKind, FundFlow, Payout, PayoutStatus};
use paydesk_core::{Currency, LineKind, Provider, StatementLine};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The balance each provider account holds before the first transaction (minor units): the
/// merchant's float, so early refunds do not take it below zero.
pub const OPENING_BALANCE: i64 = 500_000;

/// Alipay's fee per 提现 in the sandbox: 0.10 % of the amount, rounded half up (the
/// `payout_fee = { rate = "0.10%" }` of an Alipay account in `paydesk.toml`).
pub const ALIPAY_WITHDRAWAL_FEE_BP: i64 = 10;

/// Local hour of the daily payout (Beijing for Alipay/WeChat, UTC for Stripe).
const PAYOUT_HOUR_CN: u32 = 9;
const PAYOUT_HOUR_STRIPE: u32 = 2;

/// A planted difference in the payouts of one provider-local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Quirk {
    /// The payout created that day pays `minor` less than the flows it settles (a reserve
    /// kept back without a balance transaction of its own): a composition mismatch on Stripe.
    HoldBack { minor: i64 },
    /// The withdrawal fee of the 提现 made that day is `minor` more than the schedule (Alipay).
    ExtraFee { minor: i64 },
    /// A customer paid `minor` that day at 15:00 local time through a channel the trade bill
    /// does not list (an Alipay 收款码 payment; the 业务明细 holds only API-created trades):
    /// a balance movement in no trade bill.
    UnbilledPayment { minor: i64 },
}

/// A provider account's balance history: every movement in booking order and its payouts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxLedger {
    pub flows: Vec<FundFlow>,
    pub payouts: Vec<Payout>,
}

impl SandboxLedger {
    /// The flows booked on `date` in the provider's own zone (Beijing, or UTC for Stripe).
    pub fn flows_on(&self, provider: Provider, date: NaiveDate) -> Vec<FundFlow> {
        let tz = provider.default_timezone();
        self.flows
            .iter()
            .filter(|f| f.booked_at.with_timezone(&tz).date_naive() == date)
            .cloned()
            .collect()
    }

    /// The flows an automatic payout settles (and its own movement), as
    /// `GET /v1/balance_transactions?payout=` lists them.
    pub fn settled_by(&self, payout_id: &str) -> Vec<FundFlow> {
        self.flows
            .iter()
            .filter(|f| f.payout_id.as_deref() == Some(payout_id))
            .cloned()
            .collect()
    }
}

/// `n` decimal digits derived from `seed`: stable ids in the providers' all-digit shapes.
fn digits(seed: &str, n: usize) -> String {
    let d = Sha256::digest(seed.as_bytes());
    let mut out = String::with_capacity(n);
    for b in d.iter().cycle() {
        if out.len() >= n {
            break;
        }
        out.push(char::from(b'0' + b % 10));
    }
    out
}

fn hex_id(prefix: &str, seed: &str) -> String {
    format!(
        "{prefix}{}",
        &hex::encode(Sha256::digest(seed.as_bytes()))[..24]
    )
}

/// The Stripe balance transaction id of a line (the trade listing uses the same).
pub(crate) fn stripe_txn_id(l: &StatementLine) -> String {
    hex_id(
        "txn_",
        &format!(
            "{}|{}|{}",
            l.kind.as_str(),
            l.provider_txn_id,
            l.provider_refund_id.as_deref().unwrap_or("")
        ),
    )
}

fn is_dispute(l: &StatementLine) -> bool {
    l.kind == LineKind::Adjustment && l.provider_status == "dispute"
}

/// One flow of a line, before balances and payouts are known.
#[allow(clippy::too_many_arguments)]
fn flow(
    provider: Provider,
    account: &str,
    flow_id: String,
    source_id: Option<String>,
    order_no: Option<String>,
    kind: FlowKind,
    at: DateTime<Utc>,
    currency: Currency,
    gross: i64,
    fee: i64,
    description: String,
) -> FundFlow {
    FundFlow {
        provider,
        account: account.to_string(),
        flow_id,
        source_id,
        order_no,
        payout_id: None,
        kind,
        booked_at: at,
        currency,
        gross,
        fee,
        net: gross - fee,
        balance_after: None,
        description,
        line: 0,
    }
}

/// The currency an account's balance is kept in: the one most of its lines are in (ties:
/// the first by code).
fn settlement_currency(lines: &[StatementLine]) -> Currency {
    let mut counts: Vec<(Currency, usize)> = Vec::new();
    for l in lines {
        match counts.iter_mut().find(|(c, _)| *c == l.currency) {
            Some((_, n)) => *n += 1,
            None => counts.push((l.currency, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.code().cmp(b.0.code())));
    counts.first().map_or(Currency::CNY, |(c, _)| *c)
}

/// The sandbox's fixed rates: parts per million of a US dollar one major unit is worth.
fn usd_ppm(c: Currency) -> i128 {
    match c.code() {
        "USD" => 1_000_000,
        "EUR" => 1_080_000,
        "GBP" => 1_270_000,
        "JPY" => 6_700,
        "CNY" => 138_000,
        "HKD" => 128_000,
        _ => 1_000_000,
    }
}

/// `minor` units of `from` in minor units of `to` at the sandbox's rates, rounded half away
/// from zero, in integers.
fn convert(minor: i64, from: Currency, to: Currency) -> i64 {
    if from == to {
        return minor;
    }
    let num = i128::from(minor) * usd_ppm(from) * 10_i128.pow(u32::from(to.exponent()));
    let den = usd_ppm(to) * 10_i128.pow(u32::from(from.exponent()));
    let q = (2 * num.abs() + den) / (2 * den);
    let v = if num < 0 { -q } else { q };
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// The movements one statement line makes on the balance.
fn line_flows(
    provider: Provider,
    account: &str,
    l: &StatementLine,
    settles_in: Currency,
) -> Vec<FundFlow> {
    let order = l.merchant_order_no.as_ref().map(|o| o.to_string());
    let txn = l.provider_txn_id.to_string();
    let refund_id = l.provider_refund_id.as_ref().map(|r| r.to_string());
    let refund_no = l.merchant_refund_no.as_ref().map(|r| r.to_string());
    // A balance holds one currency: a charge in another is converted when it is booked.
    let (gross, fee) = (
        convert(l.gross, l.currency, settles_in),
        convert(l.fee_minor(), l.currency, settles_in),
    );
    let at = l.provider_time;
    let cur = settles_in;
    let seed = format!(
        "{}|{}|{}",
        l.kind.as_str(),
        txn,
        refund_id.as_deref().unwrap_or("")
    );
    match provider {
        Provider::Stripe => {
            let (kind, source) = match l.kind {
                LineKind::Payment => (FlowKind::Payment, Some(txn.clone())),
                LineKind::Refund => (
                    FlowKind::Refund,
                    refund_id.clone().or_else(|| Some(txn.clone())),
                ),
                _ if is_dispute(l) => (
                    FlowKind::Dispute,
                    Some(format!("dp_{}", &stripe_txn_id(l)[4..])),
                ),
                LineKind::Fee => (FlowKind::Fee, None),
                _ => (FlowKind::Adjustment, None),
            };
            let category = match kind {
                FlowKind::Payment => "charge",
                FlowKind::Refund => "refund",
                FlowKind::Dispute => "dispute",
                FlowKind::Fee => "fee",
                _ => "other_adjustment",
            };
            vec![flow(
                provider,
                account,
                stripe_txn_id(l),
                source,
                order.clone(),
                kind,
                at,
                cur,
                gross,
                fee,
                format!("{category} {}", order.as_deref().unwrap_or(""))
                    .trim()
                    .to_string(),
            )]
        }
        Provider::Alipay | Provider::Wechat => {
            let cn = provider == Provider::Alipay;
            let day = at
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%Y%m%d")
                .to_string();
            let id = |what: &str| {
                if cn {
                    format!("{day}{}", digits(&format!("{what}|{seed}"), 14))
                } else {
                    format!("4{day}{}", digits(&format!("{what}|{seed}"), 19))
                }
            };
            let (kind, word) = match l.kind {
                LineKind::Payment => (FlowKind::Payment, if cn { "在线支付" } else { "交易" }),
                LineKind::Refund => (FlowKind::Refund, if cn { "交易退款" } else { "退款" }),
                LineKind::Fee => (
                    FlowKind::Fee,
                    if cn {
                        "收费"
                    } else {
                        "扣除交易手续费"
                    },
                ),
                _ => (FlowKind::Adjustment, "其他"),
            };
            // WeChat names the refund by its own ids; Alipay by the trade.
            let (source, voucher) = match (provider, l.kind) {
                (Provider::Wechat, LineKind::Refund) => (
                    refund_id.clone().or(Some(txn.clone())),
                    refund_no.or(order.clone()),
                ),
                _ => (Some(txn.clone()), order.clone()),
            };
            // The balance moves by what the trade settles (商家实收, 应结订单金额, 退款金额):
            // an Alipay-funded discount is in it, a WeChat 免充值 coupon never is.
            let settled = convert(settled_amount(l), l.currency, settles_in);
            let mut out = vec![flow(
                provider,
                account,
                id("row"),
                source.clone(),
                voucher.clone(),
                kind,
                at,
                cur,
                settled,
                0,
                word.to_string(),
            )];
            if fee != 0 && l.kind != LineKind::Fee {
                out.push(flow(
                    provider,
                    account,
                    id("fee"),
                    source,
                    voucher,
                    FlowKind::Fee,
                    at,
                    cur,
                    -fee,
                    0,
                    (if cn {
                        "收费"
                    } else {
                        "扣除交易手续费"
                    })
                    .to_string(),
                ));
            }
            out
        }
        Provider::Manual => Vec::new(),
    }
}

/// The ledger of `provider`'s lines whose account `owns` accepts, named `account`.
pub(crate) fn ledger(
    inner: &Inner,
    provider: Provider,
    account: &str,
    owns: &dyn Fn(&str) -> bool,
) -> SandboxLedger {
    let mut lines: Vec<StatementLine> = inner
        .lines
        .iter()
        .filter(|l| l.provider == provider && owns(&l.account))
        // Payouts are derived below, never loaded.
        .filter(|l| l.kind != LineKind::Payout)
        .cloned()
        .collect();
    for r in inner.refunds.iter().filter(|r| r.provider == provider) {
        let p = inner
            .payments
            .iter()
            .find(|p| p.provider == provider && p.order_no == r.order_no);
        if p.is_some_and(|p| owns(&p.account)) {
            lines.push(refund_line(r, p));
        }
    }
    let key = |l: &StatementLine| {
        (
            l.provider_time,
            l.kind.as_str(),
            l.provider_txn_id.to_string(),
            l.provider_refund_id.as_ref().map(|r| r.to_string()),
        )
    };
    lines.sort_by_cached_key(key);
    let quirks: Vec<(NaiveDate, Quirk)> = inner
        .quirks
        .iter()
        .filter(|(p, _, _)| *p == provider)
        .map(|(_, d, q)| (*d, *q))
        .collect();
    let settles_in = settlement_currency(&lines);
    if provider != Provider::Stripe {
        // One CNY balance: a foreign-currency trade is converted when it is booked.
        let mut movements: Vec<FundFlow> = lines
            .iter()
            .flat_map(|l| line_flows(provider, account, l, settles_in))
            .collect();
        movements.extend(unbilled_payments(provider, account, settles_in, &quirks));
        movements.sort_by_key(|f| f.booked_at);
        return with_payouts(provider, account, movements, &quirks);
    }
    // Stripe: a balance transaction in EUR is in the EUR balance (a line of the trade report
    // and its fund flow are the same object), and each balance pays out on its own. The
    // account's main currency takes the quirks.
    let mut currencies: Vec<Currency> = lines.iter().map(|l| l.currency).collect();
    currencies.sort_by_key(|c| (*c != settles_in, c.code().to_string()));
    currencies.dedup();
    let mut out = SandboxLedger::default();
    for c in currencies {
        let movements: Vec<FundFlow> = lines
            .iter()
            .filter(|l| l.currency == c)
            .flat_map(|l| line_flows(provider, account, l, c))
            .collect();
        let own_quirks: &[(NaiveDate, Quirk)] = if c == settles_in { &quirks } else { &[] };
        let part = with_payouts(provider, account, movements, own_quirks);
        out.flows.extend(part.flows);
        out.payouts.extend(part.payouts);
    }
    out.flows.sort_by_key(|f| f.booked_at);
    for (i, f) in out.flows.iter_mut().enumerate() {
        f.line = i as u64 + 1;
    }
    out.payouts
        .sort_by(|a, b| (a.created_at, &a.payout_id).cmp(&(b.created_at, &b.payout_id)));
    out
}

/// The [`Quirk::UnbilledPayment`] movements of an Alipay or WeChat account.
fn unbilled_payments(
    provider: Provider,
    account: &str,
    currency: Currency,
    quirks: &[(NaiveDate, Quirk)],
) -> Vec<FundFlow> {
    let tz = provider.default_timezone();
    quirks
        .iter()
        .filter_map(|(day, q)| match q {
            Quirk::UnbilledPayment { minor } => Some((*day, *minor)),
            _ => None,
        })
        .map(|(day, minor)| {
            let at = paydesk_core::BillDate(day).utc_bounds(tz).0 + chrono::Duration::hours(15);
            let stamp = day.format("%Y%m%d").to_string();
            let seed = format!("unbilled|{account}|{day}|{minor}");
            let (flow_id, business) = if provider == Provider::Alipay {
                (
                    format!("{stamp}{}", digits(&format!("row|{seed}"), 14)),
                    format!("{stamp}2200{}", digits(&format!("txn|{seed}"), 20)),
                )
            } else {
                (
                    format!("4{stamp}{}", digits(&format!("row|{seed}"), 19)),
                    format!(
                        "4200{}{stamp}{}",
                        digits(&format!("mch|{seed}"), 6),
                        digits(&format!("txn|{seed}"), 10)
                    ),
                )
            };
            flow(
                provider,
                account,
                flow_id,
                Some(business),
                None,
                FlowKind::Payment,
                at,
                currency,
                minor,
                0,
                if provider == Provider::Alipay {
                    "在线支付 / 收款码收款"
                } else {
                    "交易"
                }
                .to_string(),
            )
        })
        .collect()
}

/// Adds the daily payouts (and Alipay's withdrawal fees) to `movements` (in booking order),
/// then the running balances.
fn with_payouts(
    provider: Provider,
    account: &str,
    mut movements: Vec<FundFlow>,
    quirks: &[(NaiveDate, Quirk)],
) -> SandboxLedger {
    let tz = provider.default_timezone();
    let local_day = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    let day_start = |d: NaiveDate| paydesk_core::BillDate(d).utc_bounds(tz).0;
    let (Some(first), Some(last)) = (movements.first(), movements.last()) else {
        return SandboxLedger::default();
    };
    let currency = first.currency;
    let (first_day, last_day) = (local_day(first.booked_at), local_day(last.booked_at));
    let hour = if provider == Provider::Stripe {
        PAYOUT_HOUR_STRIPE
    } else {
        PAYOUT_HOUR_CN
    };
    let quirk = |d: NaiveDate, pick: fn(&Quirk) -> Option<i64>| -> i64 {
        quirks
            .iter()
            .filter(|(q, _)| *q == d)
            .filter_map(|(_, k)| pick(k))
            .sum()
    };

    // Payout rows and withdrawal fees, booked at the payout's time.
    let mut extra: Vec<FundFlow> = Vec::new();
    let mut payouts: Vec<Payout> = Vec::new();
    // Unsettled movements (index into `movements`) and fee rows (index into `extra`).
    let mut pending: Vec<(bool, usize)> = Vec::new();
    let mut pending_net = 0i64;
    let mut next = 0usize;
    let mut day = first_day;
    // Each day's payout settles what was booked before the day began.
    while day <= last_day.succ_opt().unwrap_or(last_day) {
        let start = day_start(day);
        while let Some(f) = movements.get(next).filter(|f| f.booked_at < start) {
            pending_net += f.net;
            pending.push((false, next));
            next += 1;
        }
        if day > first_day && pending_net > 0 {
            let at = start + chrono::Duration::hours(i64::from(hour));
            let held = quirk(day, |k| match k {
                Quirk::HoldBack { minor } => Some(*minor),
                _ => None,
            });
            let amount = pending_net - held;
            let seed = format!("{account}|{day}|{}", currency.code());
            let stamp = day.format("%Y%m%d").to_string();
            if provider == Provider::Stripe {
                let po = hex_id("po_", &seed);
                for (is_extra, i) in &pending {
                    let f = if *is_extra {
                        extra.get_mut(*i)
                    } else {
                        movements.get_mut(*i)
                    };
                    if let Some(f) = f {
                        f.payout_id = Some(po.clone());
                    }
                }
                let mut own = flow(
                    provider,
                    account,
                    hex_id("txn_", &format!("payout|{seed}")),
                    Some(po.clone()),
                    None,
                    FlowKind::Payout,
                    at,
                    currency,
                    -amount,
                    0,
                    "STRIPE PAYOUT".to_string(),
                );
                own.payout_id = Some(po.clone());
                extra.push(own);
                let arrival = add_business_days(day, 1);
                let today = Utc::now().date_naive();
                payouts.push(Payout {
                    provider,
                    account: account.to_string(),
                    payout_id: po,
                    amount,
                    currency,
                    created_at: at,
                    arrival_date: arrival,
                    trace_id: Some(digits(&format!("trace|{seed}"), 15)),
                    automatic: true,
                    status: if arrival <= today {
                        PayoutStatus::Paid
                    } else {
                        PayoutStatus::InTransit
                    },
                });
                pending.clear();
                pending_net = 0;
            } else {
                let cn = provider == Provider::Alipay;
                let (flow_id, business) = if cn {
                    (
                        format!("{stamp}{}", digits(&format!("tx|{seed}"), 14)),
                        format!("{stamp}2000{}", digits(&format!("txb|{seed}"), 12)),
                    )
                } else {
                    (
                        format!("4{stamp}{}", digits(&format!("tx|{seed}"), 19)),
                        format!("1{stamp}{}", digits(&format!("txb|{seed}"), 17)),
                    )
                };
                extra.push(flow(
                    provider,
                    account,
                    flow_id,
                    Some(business.clone()),
                    None,
                    FlowKind::Payout,
                    at,
                    currency,
                    -amount,
                    0,
                    "提现".to_string(),
                ));
                pending.clear();
                pending_net = held;
                if cn {
                    let fee = scheduled_payout_fee(
                        amount,
                        &PayoutFeeSchedule {
                            fixed: 0,
                            rate_bp: ALIPAY_WITHDRAWAL_FEE_BP,
                        },
                    ) + quirk(day, |k| match k {
                        Quirk::ExtraFee { minor } => Some(*minor),
                        _ => None,
                    });
                    if fee != 0 {
                        // Taken from the balance after the 提现: the next one pays for it.
                        pending_net -= fee;
                        pending.push((true, extra.len()));
                        extra.push(flow(
                            provider,
                            account,
                            format!("{stamp}{}", digits(&format!("txfee|{seed}"), 14)),
                            Some(business),
                            None,
                            FlowKind::Fee,
                            at,
                            currency,
                            -fee,
                            0,
                            "服务费 / 提现手续费".to_string(),
                        ));
                    }
                }
            }
        }
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    // Booking order; at one instant the customers' movements come before the payout rows.
    let mut flows = movements;
    flows.extend(extra);
    flows.sort_by_key(|f| f.booked_at);
    let mut balance = OPENING_BALANCE;
    for (i, f) in flows.iter_mut().enumerate() {
        balance += f.net;
        // Stripe states no running balance on a balance transaction.
        if provider != Provider::Stripe {
            f.balance_after = Some(balance);
        }
        f.line = i as u64 + 1;
    }
    if provider != Provider::Stripe {
        payouts = paydesk_providers::fundflow::payouts_from_flows(&flows);
    }
    SandboxLedger { flows, payouts }
}

/// Quirks by (provider, local day).
pub(crate) type Quirks = Vec<(Provider, NaiveDate, Quirk)>;

/// Payouts sorted newest first, as Stripe lists them.
pub(crate) fn newest_first(mut payouts: Vec<Payout>) -> Vec<Payout> {
    payouts.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then(b.payout_id.cmp(&a.payout_id))
    });
    payouts
}

/// Flows sorted newest first, as Stripe lists balance transactions.
pub(crate) fn flows_newest_first(mut flows: Vec<FundFlow>) -> Vec<FundFlow> {
    flows.sort_by(|a, b| {
        b.booked_at
            .cmp(&a.booked_at)
            .then(b.flow_id.cmp(&a.flow_id))
    });
    flows
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use paydesk_core::SourceRef;

    fn line(
        kind: LineKind,
        txn: &str,
        gross: i64,
        fee_milli: i64,
        at: DateTime<Utc>,
    ) -> StatementLine {
        StatementLine {
            payment_intent_id: None,
            presentment: None,
            provider: Provider::Alipay,
            account: "a".into(),
            provider_txn_id: txn.into(),
            merchant_order_no: Some(format!("O-{txn}").as_str().into()),
            kind,
            gross,
            fee_milli,
            net: gross - fee_milli / 1000,
            currency: Currency::CNY,
            provider_time: at,
            provider_refund_id: None,
            merchant_refund_no: None,
            provider_status: "x".into(),
            source: SourceRef {
                file: "t".into(),
                line: 1,
            },
            fee_base: None,
        }
    }

    fn inner(provider: Provider, lines: Vec<StatementLine>) -> Inner {
        let mut i = Inner::default();
        for mut l in lines {
            l.provider = provider;
            if provider == Provider::Stripe {
                l.currency = Currency::USD;
            }
            i.lines.push(l);
        }
        i
    }

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        // Beijing 10:00 on day d is 02:00 UTC.
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn alipay_fees_are_rows_and_the_next_day_withdraws_the_net() {
        let i = inner(
            Provider::Alipay,
            vec![
                line(LineKind::Payment, "T1", 10_000, 60_000, t(2, 2)),
                line(LineKind::Refund, "T1", -2_000, 0, t(2, 5)),
            ],
        );
        let l = ledger(&i, Provider::Alipay, "a", &|_| true);
        let kinds: Vec<FlowKind> = l.flows.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                FlowKind::Payment,
                FlowKind::Fee,
                FlowKind::Refund,
                FlowKind::Payout,
                FlowKind::Fee
            ]
        );
        // 100.00 − 0.60 − 20.00 = 79.40 withdrawn on the 3rd at 09:00 Beijing.
        assert_eq!(l.payouts.len(), 1);
        assert_eq!(l.payouts[0].amount, 7_940);
        assert_eq!(
            l.payouts[0].arrival_date,
            NaiveDate::from_ymd_opt(2026, 3, 3).unwrap_or_default()
        );
        // The withdrawal fee (0.10 % of 79.40 = 0.08) names the 提现.
        let fee = &l.flows[4];
        assert_eq!(fee.gross, -8);
        assert_eq!(
            fee.source_id.as_deref(),
            Some(l.payouts[0].payout_id.as_str())
        );
        // Running balances: opening + each net.
        let mut b = OPENING_BALANCE;
        for f in &l.flows {
            b += f.net;
            assert_eq!(f.balance_after, Some(b));
        }
        assert_eq!(b, OPENING_BALANCE - 8);
    }

    #[test]
    fn stripe_payout_settles_the_previous_day_and_carries_the_fee_inline() {
        let i = inner(
            Provider::Stripe,
            vec![
                line(LineKind::Payment, "ch_1", 10_000, 320_000, t(2, 10)),
                line(LineKind::Payment, "ch_2", 5_000, 175_000, t(3, 10)),
            ],
        );
        let l = ledger(&i, Provider::Stripe, "s", &|_| true);
        assert_eq!(l.payouts.len(), 2);
        let first = &l.payouts[0];
        assert_eq!(first.amount, 10_000 - 320);
        assert!(first.automatic);
        let settled = l.settled_by(&first.payout_id);
        // The charge and the payout's own transaction.
        assert_eq!(settled.len(), 2);
        let charge = settled.iter().find(|f| f.kind == FlowKind::Payment);
        assert_eq!(
            charge.map(|f| (f.gross, f.fee, f.net)),
            Some((10_000, 320, 9_680))
        );
        assert!(l.flows.iter().all(|f| f.balance_after.is_none()));
    }

    #[test]
    fn a_stripe_charge_in_another_currency_is_kept_and_paid_out_in_it() {
        assert_eq!(
            convert(
                10_000,
                Currency::parse("EUR").unwrap_or(Currency::CNY),
                Currency::USD
            ),
            10_800
        );
        assert_eq!(convert(-1_000, Currency::JPY, Currency::USD), -670);
        assert_eq!(convert(1, Currency::USD, Currency::JPY), 1);
        let eur_code = Currency::parse("EUR").unwrap_or(Currency::CNY);
        let mut eur = line(LineKind::Payment, "ch_e", 10_000, 0, t(2, 11));
        eur.currency = eur_code;
        let mut i = inner(
            Provider::Stripe,
            vec![
                line(LineKind::Payment, "ch_1", 5_000, 0, t(2, 10)),
                line(LineKind::Payment, "ch_2", 5_000, 0, t(2, 12)),
            ],
        );
        eur.provider = Provider::Stripe;
        i.lines.push(eur);
        let l = ledger(&i, Provider::Stripe, "s", &|_| true);
        let charge = l
            .flows
            .iter()
            .find(|f| f.source_id.as_deref() == Some("ch_e"));
        assert_eq!(
            charge.map(|f| (f.currency, f.gross)),
            Some((eur_code, 10_000))
        );
        let mut paid: Vec<(&str, i64)> = l
            .payouts
            .iter()
            .map(|p| (p.currency.code(), p.amount))
            .collect();
        paid.sort_unstable();
        assert_eq!(paid, vec![("EUR", 10_000), ("USD", 10_000)]);
        assert_ne!(l.payouts[0].payout_id, l.payouts[1].payout_id);
        // Lines are numbered once over both balances, in booking order.
        let numbers: Vec<u64> = l.flows.iter().map(|f| f.line).collect();
        assert_eq!(numbers, (1..=l.flows.len() as u64).collect::<Vec<_>>());
    }

    #[test]
    fn alipay_converts_a_foreign_trade_into_its_cny_balance() {
        let mut usd = line(LineKind::Payment, "2088U", 1_000, 0, t(2, 11));
        usd.currency = Currency::USD;
        let mut i = inner(
            Provider::Alipay,
            vec![line(LineKind::Payment, "2088C", 5_000, 0, t(2, 10))],
        );
        usd.provider = Provider::Alipay;
        i.lines.push(usd);
        let l = ledger(&i, Provider::Alipay, "a", &|_| true);
        assert!(l.flows.iter().all(|f| f.currency == Currency::CNY));
        let moved = l
            .flows
            .iter()
            .find(|f| f.source_id.as_deref() == Some("2088U"));
        assert_eq!(
            moved.map(|f| f.gross),
            Some(convert(1_000, Currency::USD, Currency::CNY))
        );
    }

    #[test]
    fn a_hold_back_pays_less_than_it_settles_and_a_negative_day_waits() {
        let mut i = inner(
            Provider::Stripe,
            vec![
                line(LineKind::Refund, "ch_0", -3_000, 0, t(2, 10)),
                line(LineKind::Payment, "ch_1", 10_000, 0, t(3, 10)),
            ],
        );
        let d4 = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap_or_default();
        i.quirks
            .push((Provider::Stripe, d4, Quirk::HoldBack { minor: 500 }));
        let l = ledger(&i, Provider::Stripe, "s", &|_| true);
        // The 2nd is negative: nothing paid on the 3rd; the 4th pays both days, less 5.00.
        assert_eq!(l.payouts.len(), 1);
        assert_eq!(l.payouts[0].amount, 7_000 - 500);
        let settled: i64 = l
            .settled_by(&l.payouts[0].payout_id)
            .iter()
            .filter(|f| f.kind != FlowKind::Payout)
            .map(|f| f.net)
            .sum();
        assert_eq!(settled, 7_000);
    }
}
