//! Trade bills against fund flows (交易账单 ↔ 资金流水): the cross-check that ties the trade
//! reconciliation to the money.
//!
//! Every payment and refund a trade bill lists must have moved the provider balance, by the
//! amount the merchant actually settles, and every payment or refund movement on the balance
//! must be in a trade bill. The keys, per provider (providers.md §1.5, §2.6, §3.3):
//! - Alipay: 账务明细 业务流水号 = 业务明细 支付宝交易号, for payments and their refunds
//!   (several partial refunds share it); the balance moves by 商家实收, the service fee is a
//!   row of its own. The trade bill holds only API-created trades, so a 收款码 payment is a
//!   movement without a trade line, which only this check finds.
//! - WeChat Pay: 资金账单 微信支付业务单号 = 微信订单号 for 交易; for 退款 the 微信退款单号 or
//!   the 微信订单号 (both seen, so both are tried). The balance moves by 应结订单金额 (免充值
//!   coupons never reach it) and by 退款金额; 扣除交易手续费 rows are separate.
//! - Stripe: the balance transaction's `source` = the charge `ch_…` (or the refund `re_…`);
//!   its gross is the line's gross, in the settlement currency.
//!
//! A trade line's settled amount is therefore `net + fee` (the provider's net plus the fee
//! it took, rounded to minor units), compared with the movement's gross.
//!
//! Either side may not be there yet (tomorrow's fund flows, a trade bill not downloaded), so a
//! missing counterpart is only reported when the other side covers the item's time ± the
//! grace; otherwise the item is counted as pending.

use super::engine::money;
use super::matching::{Finding, SettleClass};
use super::{FlowKind, FundFlow};
use crate::domain::{LineKind, StatementLine};
use crate::matcher::FastMap;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Half-open UTC spans `[start, end)`.
pub type Spans = Vec<(DateTime<Utc>, DateTime<Utc>)>;

/// Which items the check reports on and what each side covers.
#[derive(Debug, Clone)]
pub struct TradeCheckWindow {
    /// Items booked in `[from, to)` are reported; the others are only counterparts.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The days whose trade bill is stored.
    pub trade_days: Spans,
    /// The days whose fund flows are stored.
    pub flow_days: Spans,
    /// How far apart the two sides may book one payment (a payment at 23:59:59 booked on the
    /// balance after midnight).
    pub grace: Duration,
    /// The account's zone: a finding's day is the item's local day.
    pub timezone: chrono_tz::Tz,
}

/// The outcome of the cross-check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradeFlowCheck {
    /// Trade lines (payments and refunds, in the window) whose movement was found, amount
    /// equal.
    pub matched: u64,
    /// Items in the window whose counterpart cannot be looked for yet (the other side's day
    /// is not stored).
    pub pending: u64,
    /// One `TradeFlowMismatch` finding per trade line or movement that does not agree.
    pub findings: Vec<Finding>,
}

/// What a trade line settled on the balance: the provider's net plus the fee it took.
pub fn settled_amount(line: &StatementLine) -> i64 {
    line.net.saturating_add(line.fee_minor())
}

fn flow_kind(kind: LineKind) -> Option<FlowKind> {
    match kind {
        LineKind::Payment => Some(FlowKind::Payment),
        LineKind::Refund => Some(FlowKind::Refund),
        _ => None,
    }
}

fn covered(spans: &Spans, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    // Both ends inside a stored day; a gap between two stored days is not possible for the
    // short grace the check uses.
    let inside = |t: DateTime<Utc>| spans.iter().any(|(s, e)| *s <= t && t < *e);
    inside(from) && inside(to)
}

fn word(kind: LineKind) -> &'static str {
    if kind == LineKind::Refund {
        "refund"
    } else {
        "payment"
    }
}

fn describe_trade(l: &StatementLine) -> String {
    let mut s = format!("{} {}", word(l.kind), l.provider_txn_id);
    if let Some(r) = &l.provider_refund_id {
        s.push_str(&format!(" (refund {r})"));
    }
    match (&l.merchant_order_no, &l.merchant_refund_no) {
        (Some(o), Some(r)) => s.push_str(&format!(" of order {o}, refund no. {r}")),
        (Some(o), None) => s.push_str(&format!(" of order {o}")),
        (None, Some(r)) => s.push_str(&format!(", refund no. {r}")),
        (None, None) => {}
    }
    s
}

fn describe_flow(f: &FundFlow) -> String {
    let mut s = format!("{} movement {}", f.kind, f.flow_id);
    if let Some(src) = &f.source_id {
        s.push_str(&format!(" for {src}"));
    }
    if let Some(o) = &f.order_no {
        s.push_str(&format!(" (order {o})"));
    }
    s
}

/// The provider ids a trade line's movement may be filed under: a refund's own id first.
fn keys(l: &StatementLine) -> [Option<&str>; 2] {
    let refund = if l.kind == LineKind::Refund {
        l.provider_refund_id.as_deref()
    } else {
        None
    };
    [refund, Some(l.provider_txn_id.as_str())]
}

/// Indices by key: each key's first index in a map, the rest chained in `next`.
struct Chains<'a> {
    head: FastMap<&'a str, usize>,
    next: Vec<usize>,
}

impl<'a> Chains<'a> {
    const END: usize = usize::MAX;

    fn with_capacity(n: usize) -> Self {
        let mut head = FastMap::default();
        head.reserve(n);
        Chains {
            head,
            next: Vec::with_capacity(n),
        }
    }

    /// Adds index `i` (indices must be pushed in increasing order, each at most once).
    fn push(&mut self, key: &'a str, i: usize) {
        if self.next.len() <= i {
            self.next.resize(i + 1, Self::END);
        }
        if let Some(first) = self.head.get_mut(key) {
            self.next[i] = *first;
            *first = i;
        } else {
            self.head.insert(key, i);
        }
    }

    fn get(&self, key: &str) -> impl Iterator<Item = usize> + '_ {
        let mut at = self.head.get(key).copied().unwrap_or(Self::END);
        std::iter::from_fn(move || {
            if at == Self::END {
                return None;
            }
            let i = at;
            at = self.next.get(i).copied().unwrap_or(Self::END);
            Some(i)
        })
    }
}

/// Cross-check one provider account's trade lines with its fund flows.
///
/// Pairs are made in three passes, each on what the earlier ones left, so an exact pair is
/// never taken by a near one: (1) same key, kind, currency and amount, nearest in time;
/// (2) same key and kind, any amount: a mismatch naming both; (3) the merchant's order (or
/// refund) number and the same amount, for movements that name only that (a refund under its
/// refund number or its order's). The key of a
/// payment is its provider transaction id; of a refund its provider refund id, else the
/// transaction id. Runs in O(T + F) expected time.
pub fn cross_check_trades(
    trades: &[StatementLine],
    flows: &[FundFlow],
    window: &TradeCheckWindow,
) -> TradeFlowCheck {
    let trades: Vec<&StatementLine> = trades
        .iter()
        .filter(|l| flow_kind(l.kind).is_some() && settled_amount(l) != 0)
        .collect();
    let flows: Vec<&FundFlow> = flows
        .iter()
        .filter(|f| matches!(f.kind, FlowKind::Payment | FlowKind::Refund) && f.gross != 0)
        .collect();
    // Movements by source id and by merchant number, as chains through `next_*` (one
    // allocation per index, not one per key).
    let mut by_source = Chains::with_capacity(flows.len());
    let mut by_order = Chains::with_capacity(flows.len());
    for (i, f) in flows.iter().enumerate() {
        if let Some(s) = f.source_id.as_deref() {
            by_source.push(s, i);
        }
        if let Some(o) = f.order_no.as_deref() {
            by_order.push(o, i);
        }
    }
    let mut flow_taken = vec![false; flows.len()];
    let mut pair: Vec<Option<usize>> = vec![None; trades.len()];
    let nearest = |l: &StatementLine, cands: &mut dyn Iterator<Item = usize>| {
        cands.min_by_key(|&i| {
            let gap = (flows[i].booked_at - l.provider_time)
                .num_milliseconds()
                .abs();
            (gap, i)
        })
    };
    // Pass 1 and 2: by provider ids.
    for exact in [true, false] {
        for (t, l) in trades.iter().enumerate() {
            if pair[t].is_some() {
                continue;
            }
            let kind = flow_kind(l.kind);
            let settled = settled_amount(l);
            let mut cands = keys(l)
                .into_iter()
                .flatten()
                .flat_map(|k| by_source.get(k))
                .filter(|&i| {
                    !flow_taken[i]
                        && Some(flows[i].kind) == kind
                        && (!exact
                            || (flows[i].gross == settled && flows[i].currency == l.currency))
                });
            if let Some(i) = nearest(l, &mut cands) {
                flow_taken[i] = true;
                pair[t] = Some(i);
            }
        }
    }
    // Pass 3: by the merchant's number, same amount only.
    for (t, l) in trades.iter().enumerate() {
        if pair[t].is_some() {
            continue;
        }
        // A refund movement may name the refund number (WeChat 业务凭证号) or the order's
        // (Alipay 商户订单号).
        let numbers = if l.kind == LineKind::Refund {
            [
                l.merchant_refund_no.as_deref(),
                l.merchant_order_no.as_deref(),
            ]
        } else {
            [l.merchant_order_no.as_deref(), None]
        };
        let kind = flow_kind(l.kind);
        let settled = settled_amount(l);
        let mut cands = numbers
            .into_iter()
            .flatten()
            .flat_map(|n| by_order.get(n))
            .filter(|&i| {
                !flow_taken[i]
                    && Some(flows[i].kind) == kind
                    && flows[i].gross == settled
                    && flows[i].currency == l.currency
            });
        if let Some(i) = nearest(l, &mut cands) {
            flow_taken[i] = true;
            pair[t] = Some(i);
        }
    }

    let in_window = |t: DateTime<Utc>| window.from <= t && t < window.to;
    let day = |t: DateTime<Utc>| -> NaiveDate { t.with_timezone(&window.timezone).date_naive() };
    let mut out = TradeFlowCheck::default();
    for (t, l) in trades.iter().enumerate() {
        let settled = settled_amount(l);
        let at = l.provider_time;
        match pair[t] {
            Some(i) => {
                let f = flows[i];
                if !in_window(at) && !in_window(f.booked_at) {
                    continue;
                }
                if f.gross == settled && f.currency == l.currency {
                    out.matched += 1;
                    continue;
                }
                let difference = if f.currency == l.currency {
                    format!(
                        " (difference {})",
                        money(l.currency, f.gross.saturating_sub(settled))
                    )
                } else {
                    String::new()
                };
                out.findings.push(Finding {
                    class: SettleClass::TradeFlowMismatch,
                    payouts: vec![],
                    bank_lines: vec![],
                    date: day(at),
                    currency: l.currency,
                    expected: Some(settled),
                    actual: (f.currency == l.currency).then_some(f.gross),
                    detail: format!(
                        "{} settles {} in the trade bill ({} line {}) but its balance movement {} is {}{difference}",
                        describe_trade(l),
                        money(l.currency, settled),
                        l.source.file,
                        l.source.line,
                        f.flow_id,
                        money(f.currency, f.gross),
                    ),
                });
            }
            None if !in_window(at) => {}
            None if !covered(&window.flow_days, at - window.grace, at + window.grace) => {
                out.pending += 1;
            }
            None => out.findings.push(Finding {
                class: SettleClass::TradeFlowMismatch,
                payouts: vec![],
                bank_lines: vec![],
                date: day(at),
                currency: l.currency,
                expected: Some(settled),
                actual: None,
                detail: format!(
                    "{} of {} is in the trade bill ({} line {}) but did not move the balance: no fund flow names it",
                    describe_trade(l),
                    money(l.currency, settled),
                    l.source.file,
                    l.source.line,
                ),
            }),
        }
    }
    for (i, f) in flows.iter().enumerate() {
        let at = f.booked_at;
        if flow_taken[i] || !in_window(at) {
            continue;
        }
        if !covered(&window.trade_days, at - window.grace, at + window.grace) {
            out.pending += 1;
            continue;
        }
        out.findings.push(Finding {
            class: SettleClass::TradeFlowMismatch,
            payouts: vec![],
            bank_lines: vec![],
            date: day(at),
            currency: f.currency,
            expected: None,
            actual: Some(f.gross),
            detail: format!(
                "{} of {} (fund flows line {}) is in no trade bill: the provider has money the orders do not explain",
                describe_flow(f),
                money(f.currency, f.gross),
                f.line,
            ),
        });
    }
    out.findings
        .sort_by(|a, b| (a.date, &a.detail).cmp(&(b.date, &b.detail)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Provider, SourceRef};
    use crate::money::Currency;
    use chrono::TimeZone;

    const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    /// Beijing "2026-11-22 10:00:00" → UTC.
    fn t(s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("time");
        TZ.from_local_datetime(&naive)
            .single()
            .expect("unambiguous")
            .with_timezone(&Utc)
    }

    fn day(d: &str) -> (DateTime<Utc>, DateTime<Utc>) {
        let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("day");
        crate::domain::BillDate(d).utc_bounds(TZ)
    }

    /// A WeChat-like trade line: `settled` reaches the balance, the fee (in fen) is taken
    /// from it, `gross` is what the order was worth.
    fn trade(
        txn: &str,
        kind: LineKind,
        gross: i64,
        settled: i64,
        fee: i64,
        at: &str,
    ) -> StatementLine {
        StatementLine {
            payment_intent_id: None,
            presentment: None,
            provider: Provider::Wechat,
            account: "wechat-main".into(),
            provider_txn_id: txn.into(),
            merchant_order_no: Some(format!("O-{txn}").into()),
            kind,
            gross,
            fee_milli: fee * 1000,
            net: settled - fee,
            currency: Currency::CNY,
            provider_time: t(at),
            provider_refund_id: None,
            merchant_refund_no: None,
            provider_status: "SUCCESS".into(),
            source: SourceRef {
                file: "trade.csv".into(),
                line: 7,
            },
            fee_base: None,
        }
    }

    fn flow(id: &str, source: &str, kind: FlowKind, gross: i64, at: &str) -> FundFlow {
        FundFlow {
            provider: Provider::Wechat,
            account: "wechat-main".into(),
            flow_id: id.into(),
            source_id: Some(source.into()),
            order_no: None,
            payout_id: None,
            kind,
            booked_at: t(at),
            currency: Currency::CNY,
            gross,
            fee: 0,
            net: gross,
            balance_after: None,
            description: String::new(),
            line: 3,
        }
    }

    /// Reports on 2026-11-22; both sides stored for 21..=23.
    fn window() -> TradeCheckWindow {
        TradeCheckWindow {
            from: day("2026-11-22").0,
            to: day("2026-11-22").1,
            trade_days: vec![day("2026-11-21"), day("2026-11-22"), day("2026-11-23")],
            flow_days: vec![day("2026-11-21"), day("2026-11-22"), day("2026-11-23")],
            grace: Duration::hours(1),
            timezone: TZ,
        }
    }

    #[test]
    fn a_coupon_payment_matches_its_settled_amount_and_fee_rows_are_not_trades() {
        // 100.00 order, 10.00 免充值 coupon: 90.00 reaches the balance, 0.54 fee on a row
        // of its own.
        let trades = [trade(
            "4200A",
            LineKind::Payment,
            10_000,
            9_000,
            54,
            "2026-11-22 10:00:00",
        )];
        let flows = [
            flow(
                "F1",
                "4200A",
                FlowKind::Payment,
                9_000,
                "2026-11-22 10:00:01",
            ),
            flow("F2", "4200A", FlowKind::Fee, -54, "2026-11-22 10:00:01"),
        ];
        let check = cross_check_trades(&trades, &flows, &window());
        assert_eq!(check.findings, vec![]);
        assert_eq!((check.matched, check.pending), (1, 0));
    }

    #[test]
    fn a_payment_that_did_not_move_the_balance_is_a_finding_naming_its_line() {
        let trades = [trade(
            "4200B",
            LineKind::Payment,
            990,
            990,
            6,
            "2026-11-22 12:00:00",
        )];
        let check = cross_check_trades(&trades, &[], &window());
        assert_eq!(check.findings.len(), 1);
        let f = &check.findings[0];
        assert_eq!(f.class, SettleClass::TradeFlowMismatch);
        assert_eq!((f.expected, f.actual), (Some(990), None));
        assert_eq!(f.date, NaiveDate::from_ymd_opt(2026, 11, 22).expect("day"));
        assert!(
            f.detail.contains("payment 4200B of order O-4200B"),
            "{}",
            f.detail
        );
        assert!(f.detail.contains("trade.csv line 7"), "{}", f.detail);
        assert!(f.detail.contains("9.90 CNY"), "{}", f.detail);
    }

    #[test]
    fn a_movement_in_no_trade_bill_is_a_finding() {
        // A 收款码 payment: on the balance, not in the API trade bill.
        let flows = [flow(
            "F9",
            "2026112222001",
            FlowKind::Payment,
            5_000,
            "2026-11-22 15:30:00",
        )];
        let check = cross_check_trades(&[], &flows, &window());
        assert_eq!(check.findings.len(), 1);
        let f = &check.findings[0];
        assert_eq!((f.expected, f.actual), (None, Some(5_000)));
        assert!(
            f.detail.contains("payment movement F9 for 2026112222001"),
            "{}",
            f.detail
        );
        assert!(f.detail.contains("in no trade bill"), "{}", f.detail);
    }

    #[test]
    fn an_amount_difference_names_both_sides_and_the_difference() {
        let trades = [trade(
            "4200C",
            LineKind::Payment,
            2_000,
            2_000,
            12,
            "2026-11-22 09:00:00",
        )];
        let flows = [flow(
            "F3",
            "4200C",
            FlowKind::Payment,
            1_800,
            "2026-11-22 09:00:00",
        )];
        let check = cross_check_trades(&trades, &flows, &window());
        assert_eq!(check.findings.len(), 1);
        let f = &check.findings[0];
        assert_eq!((f.expected, f.actual), (Some(2_000), Some(1_800)));
        assert!(
            f.detail.contains("movement F3 is 18.00 CNY"),
            "{}",
            f.detail
        );
        assert!(f.detail.contains("difference -2.00 CNY"), "{}", f.detail);
        assert_eq!(check.matched, 0);
    }

    #[test]
    fn partial_refunds_sharing_a_trade_id_pair_by_amount_not_by_order() {
        // Alipay files both refunds under the 支付宝交易号; the movements come in the
        // opposite order of the trade lines.
        let mut r1 = trade(
            "2088T",
            LineKind::Refund,
            -300,
            -300,
            0,
            "2026-11-22 11:00:00",
        );
        let mut r2 = trade(
            "2088T",
            LineKind::Refund,
            -500,
            -500,
            0,
            "2026-11-22 11:00:00",
        );
        r1.merchant_refund_no = Some("R1".into());
        r2.merchant_refund_no = Some("R2".into());
        let flows = [
            flow("F5", "2088T", FlowKind::Refund, -500, "2026-11-22 11:00:00"),
            flow("F4", "2088T", FlowKind::Refund, -300, "2026-11-22 11:00:00"),
        ];
        let check = cross_check_trades(&[r1, r2], &flows, &window());
        assert_eq!(check.findings, vec![]);
        assert_eq!(check.matched, 2);
    }

    #[test]
    fn a_wechat_refund_is_found_under_its_refund_id_or_its_transaction_id() {
        let mut r = trade(
            "4200D",
            LineKind::Refund,
            -1_000,
            -800,
            0,
            "2026-11-22 13:00:00",
        );
        r.provider_refund_id = Some("5030R".into());
        for source in ["5030R", "4200D"] {
            let flows = [flow(
                "F6",
                source,
                FlowKind::Refund,
                -800,
                "2026-11-22 13:00:02",
            )];
            let check = cross_check_trades(std::slice::from_ref(&r), &flows, &window());
            assert_eq!(check.findings, vec![], "filed under {source}");
            assert_eq!(check.matched, 1);
        }
        // A payment movement of the same id is not the refund.
        let flows = [flow(
            "F7",
            "4200D",
            FlowKind::Payment,
            -800,
            "2026-11-22 13:00:02",
        )];
        let check = cross_check_trades(&[r], &flows, &window());
        assert_eq!(check.findings.len(), 2);
    }

    #[test]
    fn a_movement_naming_only_the_merchant_number_pairs_by_equal_amount() {
        let mut r = trade(
            "4200E",
            LineKind::Refund,
            -700,
            -700,
            0,
            "2026-11-22 14:00:00",
        );
        r.merchant_refund_no = Some("RF-1".into());
        let mut f = flow(
            "F8",
            "unrelated",
            FlowKind::Refund,
            -700,
            "2026-11-22 14:00:00",
        );
        f.order_no = Some("RF-1".into());
        let check = cross_check_trades(std::slice::from_ref(&r), &[f.clone()], &window());
        assert_eq!((check.findings.len(), check.matched), (0, 1));
        f.gross = -600;
        f.net = -600;
        let check = cross_check_trades(std::slice::from_ref(&r), &[f.clone()], &window());
        assert_eq!(check.findings.len(), 2, "a different amount is not a pair");
        // Alipay names a refund movement by the order's number.
        f.gross = -700;
        f.net = -700;
        f.order_no = Some("O-4200E".into());
        let check = cross_check_trades(&[r], &[f], &window());
        assert_eq!((check.findings.len(), check.matched), (0, 1));
    }

    #[test]
    fn a_payment_either_side_of_midnight_pairs_across_days() {
        let trades = [trade(
            "4200F",
            LineKind::Payment,
            100,
            100,
            0,
            "2026-11-22 23:59:59",
        )];
        let flows = [flow(
            "F10",
            "4200F",
            FlowKind::Payment,
            100,
            "2026-11-23 00:00:02",
        )];
        let check = cross_check_trades(&trades, &flows, &window());
        assert_eq!((check.findings.len(), check.matched), (0, 1));
    }

    #[test]
    fn a_counterpart_whose_day_is_not_stored_is_pending_not_missing() {
        let mut w = window();
        w.flow_days = vec![day("2026-11-22")];
        w.trade_days = vec![day("2026-11-22")];
        // Near midnight: the next day's flows are not stored, nor the previous day's bill.
        let trades = [trade(
            "4200G",
            LineKind::Payment,
            100,
            100,
            0,
            "2026-11-22 23:30:00",
        )];
        let flows = [flow(
            "F11",
            "4200H",
            FlowKind::Payment,
            100,
            "2026-11-22 00:10:00",
        )];
        let check = cross_check_trades(&trades, &flows, &w);
        assert_eq!(check.findings, vec![]);
        assert_eq!(check.pending, 2);
        // Outside the reported day: neither reported nor pending.
        let trades = [trade(
            "4200I",
            LineKind::Payment,
            100,
            100,
            0,
            "2026-11-21 12:00:00",
        )];
        let check = cross_check_trades(&trades, &[], &window());
        assert_eq!((check.findings.len(), check.pending), (0, 0));
    }

    proptest::proptest! {
        /// Any day of payments and partial refunds (several refunds sharing a trade id, equal
        /// amounts, times either side of midnight) whose movements are those the providers
        /// make, in any order, agrees; one movement taken away or changed is exactly one or
        /// two findings, never a wrong pair.
        #[test]
        fn the_movements_of_a_day_always_agree_and_one_change_is_found(
            items in proptest::collection::vec((0u8..3, 1i64..5_000, 0i64..86_400, 0i64..120), 1..40),
            rotate in 0usize..40,
            damage in 0usize..40,
        ) {
            let base = day("2026-11-22").0;
            let mut trades = Vec::new();
            let mut flows = Vec::new();
            for (n, (refunds, amount, second, lag)) in items.iter().enumerate() {
                let txn = format!("T{}", n / 2); // two payments may share an id: several refunds do
                let at = base + Duration::seconds(*second);
                let mut p = trade(&txn, LineKind::Payment, *amount, *amount, 0, "2026-11-22 00:00:00");
                p.provider_time = at;
                p.provider_txn_id = format!("P{n}").as_str().into();
                trades.push(p);
                let mut f = flow(&format!("F{n}"), &format!("P{n}"), FlowKind::Payment, *amount, "2026-11-22 00:00:00");
                f.booked_at = at + Duration::seconds(*lag);
                flows.push(f);
                for r in 0..*refunds {
                    let part = -(amount / 3 + i64::from(r));
                    let mut l = trade(&txn, LineKind::Refund, part, part, 0, "2026-11-22 00:00:00");
                    l.provider_time = at;
                    trades.push(l);
                    let mut g = flow(&format!("R{n}-{r}"), &txn, FlowKind::Refund, part, "2026-11-22 00:00:00");
                    g.booked_at = at + Duration::seconds(*lag);
                    flows.push(g);
                }
            }
            let k = rotate % flows.len();
            flows.rotate_left(k);
            let check = cross_check_trades(&trades, &flows, &window());
            proptest::prop_assert_eq!(check.findings.clone(), vec![]);
            proptest::prop_assert_eq!(check.matched as usize, trades.iter().filter(|l| settled_amount(l) != 0).count());

            let hit = damage % flows.len();
            let mut changed = flows.clone();
            changed[hit].gross += 1;
            changed[hit].net += 1;
            let check = cross_check_trades(&trades, &changed, &window());
            proptest::prop_assert!(
                (1..=2).contains(&check.findings.len()),
                "{:?}", check.findings
            );
            // A zero movement moved nothing: nothing is looked for.
            let expected_missing = usize::from(flows[hit].gross != 0);
            let mut removed = flows.clone();
            removed.remove(hit);
            let check = cross_check_trades(&trades, &removed, &window());
            proptest::prop_assert_eq!(check.findings.len(), expected_missing);
            proptest::prop_assert!(check.findings.iter().all(|f| f.actual.is_none()));
        }
    }

    #[test]
    fn a_revoked_payment_that_settled_nothing_is_not_looked_for() {
        let trades = [trade(
            "4200J",
            LineKind::Payment,
            0,
            0,
            0,
            "2026-11-22 10:00:00",
        )];
        let check = cross_check_trades(&trades, &[], &window());
        assert_eq!((check.findings.len(), check.matched), (0, 0));
    }
}
