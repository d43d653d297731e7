//! The matcher: one provider account, one day.
//!
//! Invariant: every statement line, every order the merchant expects to have been paid that
//! day, every local refund booked that day and every item carried over from the day before
//! ends in exactly one [`Outcome`]. Outcomes refer to their inputs by index, so matching a
//! million lines allocates no strings; [`MatchResult::discrepancy`] builds the full record
//! (both sides, difference, evidence, rule) only for what a reviewer will see.

use crate::discrepancy::{MatchRule, OutcomeClass};
use crate::domain::{LineKind, LocalRefund, Order, SourceRef, StatementLine};
use crate::money::Currency;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The matcher's indexes hash a million short ids a day: foldhash is several times faster
/// than std's SipHash on them, and its per-process random seed keeps it unpredictable.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// See [`FastMap`].
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
type HashMap<K, V> = FastMap<K, V>;

/// Order number → position in `orders`, storing only the position (4 bytes a slot where a
/// map of `&str` keys needs 24: 40 MB less for a million orders). A hit compares the number
/// with the order's own, which an [`crate::Id`] holds inline in the order: one memory access,
/// as for a `&str` key.
pub struct OrderNumbers<'a> {
    orders: &'a [Order],
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl<'a> OrderNumbers<'a> {
    /// The first order of each number (numbers are unique in a mirror; if not, the first).
    pub fn new(orders: &'a [Order]) -> Self {
        use std::hash::BuildHasher;
        let hasher = foldhash::fast::RandomState::default();
        let mut table = hashbrown::HashTable::with_capacity(orders.len());
        let no = |i: u32| orders[i as usize].order_no.as_str();
        for (i, order) in orders.iter().enumerate() {
            let key = order.order_no.as_str();
            let hash = hasher.hash_one(key);
            if let hashbrown::hash_table::Entry::Vacant(slot) =
                table.entry(hash, |&j| no(j) == key, |&j| hasher.hash_one(no(j)))
            {
                slot.insert(i as u32);
            }
        }
        OrderNumbers {
            orders,
            table,
            hasher,
        }
    }

    /// The position of the (first) order numbered `number`.
    pub fn get(&self, number: &str) -> Option<u32> {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(number);
        self.table
            .find(hash, |&j| self.orders[j as usize].order_no == number)
            .copied()
    }

    pub fn contains(&self, number: &str) -> bool {
        self.get(number).is_some()
    }
}

fn map_with_capacity<K, V>(n: usize) -> FastMap<K, V> {
    FastMap::with_capacity_and_hasher(n, Default::default())
}

mod comparison;
pub use comparison::{amount_label, fee_base_label, Comparison, FeeCheck};

/// An expected fee: `rate_ppm` parts per million of the gross, plus a fixed amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeRule {
    pub currency: Currency,
    /// 0.6% = 6_000 ppm.
    pub rate_ppm: i64,
    /// Fixed part in minor units (Stripe's 30 cents).
    pub fixed_minor: i64,
}

impl FeeRule {
    /// Expected fee in thousandths of a minor unit for a gross amount.
    pub fn expected_fee_milli(&self, gross_minor: i64) -> i64 {
        // gross * ppm / 1e6 minor = gross * ppm / 1e3 milli-minor; i128 avoids overflow.
        let variable = (i128::from(gross_minor) * i128::from(self.rate_ppm)) / 1000;
        let variable = i64::try_from(variable).unwrap_or(i64::MAX);
        variable.saturating_add(self.fixed_minor.saturating_mul(1000))
    }
}

/// Matching settings for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchSettings {
    /// Amount difference (minor units) still considered equal. Default 0.
    pub amount_tolerance_minor: i64,
    /// An order paid this close to the end of the day with no line yet is a timing
    /// difference, expected the next day, not 短款.
    pub timing_window: Duration,
    pub fee_rules: Vec<FeeRule>,
    /// Fee difference (minor units) tolerated before a fee variance is raised.
    pub fee_tolerance_minor: i64,
}

impl Default for MatchSettings {
    fn default() -> Self {
        MatchSettings {
            amount_tolerance_minor: 0,
            timing_window: Duration::minutes(30),
            fee_rules: Vec::new(),
            fee_tolerance_minor: 1,
        }
    }
}

/// Outcomes in which a statement line accounted for a local item (an order's payment, or one
/// of our refunds): that item is settled and is never expected again on a later day, even when
/// a later day's window holds it (a midnight crossing).
pub const SETTLING_CLASSES: [OutcomeClass; 7] = [
    OutcomeClass::Matched,
    OutcomeClass::AmountMismatch,
    OutcomeClass::CurrencyMismatch,
    OutcomeClass::StatusMismatch,
    OutcomeClass::FeeVariance,
    OutcomeClass::DuplicatePayment,
    OutcomeClass::RefundAmountMismatch,
];

/// Everything the matcher needs for one account and day.
#[derive(Debug, Clone, Default)]
pub struct MatchInput {
    pub lines: Vec<StatementLine>,
    /// Orders of this account paid in the window, plus any order a line refers to.
    pub orders: Vec<Order>,
    /// Local refunds booked in the window, plus any a refund line refers to.
    pub refunds: Vec<LocalRefund>,
    /// Order numbers carried over (timing differences) from the previous day's run.
    pub carried_orders: HashSet<String>,
    /// Refund numbers carried over from the previous day's run.
    pub carried_refunds: HashSet<String>,
    /// Order numbers whose payment a statement line of an earlier day already accounted for
    /// (the previous day's run): never expected again, so never 短款 today.
    pub settled_orders: HashSet<String>,
    /// Refund numbers a statement line of an earlier day already accounted for.
    pub settled_refunds: HashSet<String>,
    /// The day's UTC bounds [start, end) in the provider's timezone.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// One result: which inputs it covers, which class, which rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub class: OutcomeClass,
    pub rule: MatchRule,
    pub line: Option<u32>,
    pub order: Option<u32>,
    pub refund: Option<u32>,
    /// This outcome settles an item carried over from the previous day.
    pub closes_carry_over: bool,
}

/// The matcher's output.
#[derive(Debug, Clone, Default)]
pub struct MatchResult {
    pub outcomes: Vec<Outcome>,
}

/// A discrepancy as a reviewer sees it: both sides, the difference, the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscrepancyDraft {
    /// Stable identity within (account, date): re-runs find the same key.
    pub key: String,
    pub class: OutcomeClass,
    pub rule: MatchRule,
    pub order_no: Option<String>,
    pub provider_txn_id: Option<String>,
    pub refund_no: Option<String>,
    pub currency: Currency,
    /// What the provider says (minor units), if it has the item.
    pub provider_amount: Option<i64>,
    /// What we say (minor units), if we have the item.
    pub local_amount: Option<i64>,
    /// provider − local (minor units); for fee variance, charged fee − expected fee.
    pub difference: i64,
    pub provider_currency: Option<Currency>,
    pub local_currency: Option<Currency>,
    pub provider_time: Option<DateTime<Utc>>,
    pub local_time: Option<DateTime<Utc>>,
    pub evidence: Option<SourceRef>,
    /// Plain-words explanation of why this outcome was reached.
    pub explanation: String,
    /// The same in Chinese (the UI and the reports pick by language).
    #[serde(default)]
    pub explanation_zh: String,
}

impl DiscrepancyDraft {
    /// The money in question: the difference, or for a zero-difference discrepancy (currency
    /// or status mismatch) the amount on whichever side has one.
    pub fn amount_at_stake(&self) -> i64 {
        amount_at_stake(self.difference, self.provider_amount, self.local_amount)
    }

    /// Whether the two sides are in different currencies: the difference is then not a
    /// number (it is stored as 0) and is shown as "not comparable".
    pub fn is_comparable(&self) -> bool {
        comparable(self.provider_currency, self.local_currency)
    }
}

/// The money in question for a discrepancy (minor units of its `currency`): the difference,
/// or for a zero-difference discrepancy (currency or status mismatch) the amount on whichever
/// side has one. What the review table sorts and filters by "amount" and the dashboard sums as
/// "at stake".
pub fn amount_at_stake(difference: i64, provider: Option<i64>, local: Option<i64>) -> i64 {
    if difference != 0 {
        difference.saturating_abs()
    } else {
        provider.or(local).unwrap_or(0).saturating_abs()
    }
}

/// False when both sides have a currency and they differ.
pub fn comparable(provider: Option<Currency>, local: Option<Currency>) -> bool {
    match (provider, local) {
        (Some(p), Some(l)) => p == l,
        _ => true,
    }
}

/// The key of a local item (an order, or one of our refunds): how an item carried over from
/// an earlier day is named, and a discrepancy without a statement line.
pub fn local_key(order: Option<&Order>, refund: Option<&LocalRefund>) -> Option<String> {
    match (order, refund) {
        (Some(o), _) => Some(format!("order:{}", o.order_no)),
        (None, Some(r)) => Some(format!("refund:{}", r.refund_no)),
        (None, None) => None,
    }
}

/// A discrepancy's key. It names the item, not the class: a re-run that reclassifies an item
/// (say an amount mismatch corrected into a match) still finds the reviewer's notes by key.
pub fn discrepancy_key(
    class: OutcomeClass,
    line: Option<&StatementLine>,
    order: Option<&Order>,
    refund: Option<&LocalRefund>,
) -> String {
    match line {
        // A refund line is named by the refund, not by the payment transaction it shares.
        Some(l) if l.kind == LineKind::Refund => format!(
            "line:refund:{}",
            l.merchant_refund_no
                .as_deref()
                .or(l.provider_refund_id.as_deref())
                .unwrap_or(&l.provider_txn_id)
        ),
        Some(l) => format!("line:{}:{}", l.kind.as_str(), l.provider_txn_id),
        None => local_key(order, refund).unwrap_or_else(|| format!("outcome:{}", class.as_str())),
    }
}

/// Each line's place (1-based, in file order) among the lines whose
/// [`discrepancy_key`] is the same: a dispute and its reversal on one charge, or two
/// adjustments of one payment, share the key of the charge. Counted over all lines, matched
/// or not, so a re-run of the same file gives every line the same ordinal.
///
/// Computed for the lines `of` only (the discrepancies of a run: a few among a million
/// lines), by line index: the other lines are only counted, through a set that holds just
/// the keys of interest.
pub fn line_key_ordinals_of(
    lines: &[StatementLine],
    of: impl IntoIterator<Item = u32>,
) -> FastMap<u32, u32> {
    let key = line_key;
    let wanted: FastSet<u32> = of
        .into_iter()
        .filter(|&i| (i as usize) < lines.len())
        .collect();
    let mut counts: HashMap<(LineKind, &str), u32> = map_with_capacity(wanted.len());
    for &i in &wanted {
        counts.insert(key(&lines[i as usize]), 0);
    }
    let mut out = map_with_capacity(wanted.len());
    for (i, l) in lines.iter().enumerate() {
        if let Some(n) = counts.get_mut(&key(l)) {
            *n += 1;
            if wanted.contains(&(i as u32)) {
                out.insert(i as u32, *n);
            }
        }
    }
    out
}

/// The key a discrepancy of a line is named by, without its formatting: (kind, id) stands for
/// the key `line:<kind>:<id>` that [`discrepancy_key`] formats (a refund line's id is its
/// refund's). Lines that share it are numbered in file order.
pub fn line_key(l: &StatementLine) -> (LineKind, &str) {
    let id = match l.kind {
        LineKind::Refund => l
            .merchant_refund_no
            .as_deref()
            .or(l.provider_refund_id.as_deref())
            .unwrap_or(&l.provider_txn_id),
        _ => &l.provider_txn_id,
    };
    (l.kind, id)
}

/// A line's own key: the first line of a key keeps it unchanged (so existing reviewers'
/// notes are still found); the n-th line with the same key gets `#n`.
pub fn with_ordinal(key: String, ordinal: u32) -> String {
    if ordinal <= 1 {
        key
    } else {
        format!("{key}#{ordinal}")
    }
}

/// Keeps, for `key`, the item whose number sorts first (`number(i)`), so that an index does
/// not depend on the order of the input.
fn index_first<'a>(
    map: &mut HashMap<&'a str, u32>,
    key: &'a str,
    i: u32,
    number: impl Fn(u32) -> &'a str,
) {
    map.entry(key)
        .and_modify(|held| {
            if number(i) < number(*held) {
                *held = i;
            }
        })
        .or_insert(i);
}

/// Matches one account's day.
///
/// The result does not depend on the order of `input.orders` and `input.refunds` (callers
/// need not sort a million of them): where two items share an id the one with the smaller
/// number wins, and unmatched items are reported in number order.
pub fn match_day(input: &MatchInput, settings: &MatchSettings) -> MatchResult {
    let order_no = |i: u32| input.orders[i as usize].order_no.as_str();
    let refund_no = |i: u32| input.refunds[i as usize].refund_no.as_str();
    let orders_by_no = OrderNumbers::new(&input.orders);
    // Only payment lines whose order number finds no order look further, by their charge /
    // transaction id and PaymentIntent id (usually a few lines): the indexes by transaction
    // id and customer reference hold just the orders those ids can find, instead of a
    // million entries each.
    let fallback_ids: FastSet<&str> = input
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Payment)
        .filter(|l| {
            l.merchant_order_no
                .as_deref()
                .filter(|n| !n.is_empty())
                .is_none_or(|no| orders_by_no.get(no).is_none())
        })
        .flat_map(|l| {
            std::iter::once(l.provider_txn_id.as_str()).chain(l.payment_intent_id.as_deref())
        })
        .filter(|id| !id.is_empty())
        .collect();
    let mut orders_by_txn: HashMap<&str, u32> = map_with_capacity(fallback_ids.len());
    let mut orders_by_ref: HashMap<&str, u32> = map_with_capacity(0);
    if !fallback_ids.is_empty() {
        for (i, order) in input.orders.iter().enumerate() {
            let i = i as u32;
            if let Some(txn) = order.provider_txn_id.as_deref() {
                if fallback_ids.contains(txn) {
                    index_first(&mut orders_by_txn, txn, i, order_no);
                }
            }
            if let Some(r) = order.customer_ref.as_deref() {
                if fallback_ids.contains(r) {
                    index_first(&mut orders_by_ref, r, i, order_no);
                }
            }
        }
    }
    let mut refunds_by_no: HashMap<&str, u32> = map_with_capacity(input.refunds.len());
    let mut refunds_by_provider_id: HashMap<&str, u32> = map_with_capacity(0);
    let mut refunds_by_order: HashMap<&str, Vec<u32>> = map_with_capacity(input.refunds.len());
    for (i, refund) in input.refunds.iter().enumerate() {
        let i = i as u32;
        index_first(&mut refunds_by_no, refund.refund_no.as_str(), i, refund_no);
        if let Some(id) = refund
            .provider_refund_id
            .as_deref()
            .filter(|t| !t.is_empty())
        {
            index_first(&mut refunds_by_provider_id, id, i, refund_no);
        }
        refunds_by_order
            .entry(refund.order_no.as_str())
            .or_default()
            .push(i);
    }
    for candidates in refunds_by_order.values_mut().filter(|v| v.len() > 1) {
        candidates.sort_by(|&a, &b| refund_no(a).cmp(refund_no(b)).then(a.cmp(&b)));
    }

    // Deterministic order: by provider time, then by position in the file. A statement
    // usually comes in that order (checked in place); otherwise the keys are copied out once,
    // so sorting a million lines compares plain integers.
    let line_key = |l: &StatementLine| (l.provider_time, l.source.line);
    let line_order: Vec<u32> = if input
        .lines
        .windows(2)
        .all(|w| line_key(&w[0]) <= line_key(&w[1]))
    {
        (0..input.lines.len() as u32).collect()
    } else {
        let mut keyed: Vec<(i64, u32, u64, u32)> = input
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let t = l.provider_time;
                (
                    t.timestamp(),
                    t.timestamp_subsec_nanos(),
                    l.source.line,
                    i as u32,
                )
            })
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|k| k.3).collect()
    };

    let mut order_taken = vec![false; input.orders.len()];
    let mut refund_taken = vec![false; input.refunds.len()];
    let mut outcomes = Vec::with_capacity(input.lines.len() + input.orders.len() / 16);

    for &li in &line_order {
        let line = &input.lines[li as usize];
        let outcome = match line.kind {
            LineKind::Payment => match_payment(
                li,
                line,
                input,
                settings,
                &orders_by_no,
                &orders_by_txn,
                &orders_by_ref,
                &mut order_taken,
            ),
            LineKind::Refund => match_refund(
                li,
                line,
                input,
                &refunds_by_no,
                &refunds_by_provider_id,
                &refunds_by_order,
                &mut refund_taken,
            ),
            LineKind::Fee | LineKind::Payout => Outcome {
                class: OutcomeClass::Matched,
                rule: MatchRule::BalanceMovement,
                line: Some(li),
                order: None,
                refund: None,
                closes_carry_over: false,
            },
            LineKind::Adjustment => {
                let order = line
                    .merchant_order_no
                    .as_deref()
                    .and_then(|no| orders_by_no.get(no));
                Outcome {
                    class: OutcomeClass::ProviderAdjustment,
                    rule: if order.is_some() {
                        MatchRule::MerchantOrderNo
                    } else {
                        MatchRule::NoCounterpart
                    },
                    line: Some(li),
                    order,
                    refund: None,
                    closes_carry_over: false,
                }
            }
        };
        outcomes.push(outcome);
    }

    // Orders nobody matched: expected today (短款 or timing difference) or carried from
    // yesterday and still missing (短款 now: the grace day is over).
    let mut unmatched: Vec<u32> = (0..input.orders.len() as u32)
        .filter(|&i| !order_taken[i as usize])
        .collect();
    unmatched.sort_unstable_by(|&a, &b| order_no(a).cmp(order_no(b)).then(a.cmp(&b)));
    for oi in unmatched {
        let oi = oi as usize;
        let order = &input.orders[oi];
        if !order.status.counts_as_paid() {
            continue;
        }
        let carried = input.carried_orders.contains(order.order_no.as_str());
        // Midnight crossing: an earlier day's statement already had it.
        if !carried && input.settled_orders.contains(order.order_no.as_str()) {
            continue;
        }
        let paid_at = order.paid_at.unwrap_or(order.created_at);
        let in_window = input
            .window
            .is_none_or(|(start, end)| paid_at >= start && paid_at < end);
        if carried {
            outcomes.push(unmatched_order(
                oi,
                OutcomeClass::OrderOnly,
                MatchRule::NoCounterpart,
                true,
            ));
        } else if in_window {
            let near_midnight = input
                .window
                .is_some_and(|(_, end)| paid_at >= end - settings.timing_window);
            if near_midnight {
                outcomes.push(unmatched_order(
                    oi,
                    OutcomeClass::TimingDifference,
                    MatchRule::DateWindow,
                    false,
                ));
            } else {
                outcomes.push(unmatched_order(
                    oi,
                    OutcomeClass::OrderOnly,
                    MatchRule::NoCounterpart,
                    false,
                ));
            }
        }
    }

    let mut unmatched: Vec<u32> = (0..input.refunds.len() as u32)
        .filter(|&i| !refund_taken[i as usize])
        .collect();
    unmatched.sort_unstable_by(|&a, &b| refund_no(a).cmp(refund_no(b)).then(a.cmp(&b)));
    for ri in unmatched {
        let ri = ri as usize;
        let refund = &input.refunds[ri];
        let carried = input.carried_refunds.contains(refund.refund_no.as_str());
        if !carried && input.settled_refunds.contains(refund.refund_no.as_str()) {
            continue;
        }
        let in_window = input
            .window
            .is_none_or(|(start, end)| refund.refunded_at >= start && refund.refunded_at < end);
        let near_midnight = input
            .window
            .is_some_and(|(_, end)| refund.refunded_at >= end - settings.timing_window);
        let (class, rule) = if !carried && in_window && near_midnight {
            (OutcomeClass::TimingDifference, MatchRule::DateWindow)
        } else {
            (OutcomeClass::RefundOnlyLocal, MatchRule::NoCounterpart)
        };
        if carried || in_window {
            outcomes.push(Outcome {
                class,
                rule,
                line: None,
                order: None,
                refund: Some(ri as u32),
                closes_carry_over: carried,
            });
        }
    }

    MatchResult { outcomes }
}

fn unmatched_order(oi: usize, class: OutcomeClass, rule: MatchRule, carried: bool) -> Outcome {
    Outcome {
        class,
        rule,
        line: None,
        order: Some(oi as u32),
        refund: None,
        closes_carry_over: carried,
    }
}

#[allow(clippy::too_many_arguments)]
fn match_payment(
    li: u32,
    line: &StatementLine,
    input: &MatchInput,
    settings: &MatchSettings,
    orders_by_no: &OrderNumbers<'_>,
    orders_by_txn: &HashMap<&str, u32>,
    orders_by_ref: &HashMap<&str, u32>,
    order_taken: &mut [bool],
) -> Outcome {
    // The documented order: merchant order number (Stripe metadata) → charge / transaction id
    // → PaymentIntent id, each in the order's provider_txn_id → either id in its customer_ref.
    let pi = line.payment_intent_id.as_deref().filter(|p| !p.is_empty());
    let txn = Some(line.provider_txn_id.as_str()).filter(|t| !t.is_empty());
    let in_map = |map: &HashMap<&str, u32>, id: Option<&str>| id.and_then(|k| map.get(k).copied());
    // Tried in this order, each only when the ones before found nothing.
    let by_order_no = || {
        line.merchant_order_no
            .as_deref()
            .filter(|n| !n.is_empty())
            .and_then(|no| orders_by_no.get(no))
    };
    let (found, rule) = [
        (
            &by_order_no as &dyn Fn() -> Option<u32>,
            MatchRule::MerchantOrderNo,
        ),
        (&|| in_map(orders_by_txn, txn), MatchRule::ProviderTxnId),
        (&|| in_map(orders_by_txn, pi), MatchRule::PaymentIntentId),
        (
            &|| in_map(orders_by_ref, txn).or_else(|| in_map(orders_by_ref, pi)),
            MatchRule::CustomerRef,
        ),
    ]
    .into_iter()
    .find_map(|(lookup, rule)| lookup().map(|oi| (Some(oi), rule)))
    .unwrap_or((None, MatchRule::NoCounterpart));
    if is_revoked(line) {
        return revoked_payment(li, found, rule, input, order_taken);
    }
    let Some(oi) = found else {
        return Outcome {
            class: OutcomeClass::ProviderOnly,
            rule,
            line: Some(li),
            order: None,
            refund: None,
            closes_carry_over: false,
        };
    };
    let order = &input.orders[oi as usize];
    let closes_carry_over = input.carried_orders.contains(order.order_no.as_str());
    let other_txn_recorded = order.provider_txn_id.as_deref().is_some_and(|t| {
        !t.is_empty() && t != line.provider_txn_id && Some(t) != line.payment_intent_id.as_deref()
    });
    // A charge presented in the order's currency and settled in another is compared on what
    // the customer was charged.
    let (amount, currency) = line_amount_for(line, order.currency);
    let class = if order_taken[oi as usize] || other_txn_recorded {
        OutcomeClass::DuplicatePayment
    } else if order.currency != currency {
        OutcomeClass::CurrencyMismatch
    } else if !order.status.counts_as_paid() {
        OutcomeClass::StatusMismatch
    } else if (i128::from(amount) - i128::from(order.amount)).abs()
        > i128::from(settings.amount_tolerance_minor)
    {
        OutcomeClass::AmountMismatch
    } else if fee_variance(line, settings).is_some() {
        OutcomeClass::FeeVariance
    } else {
        OutcomeClass::Matched
    };
    // A duplicate does not consume the order: the first payment already did.
    if class != OutcomeClass::DuplicatePayment {
        order_taken[oi as usize] = true;
    }
    Outcome {
        class,
        rule,
        line: Some(li),
        order: Some(oi),
        refund: None,
        closes_carry_over: closes_carry_over && class != OutcomeClass::DuplicatePayment,
    }
}

/// WeChat Pay's 交易状态 `REVOKED` (撤销): a revoked micropay order, no money moved.
pub fn is_revoked(line: &StatementLine) -> bool {
    line.kind == LineKind::Payment
        && line.provider == crate::domain::Provider::Wechat
        && line.provider_status == "REVOKED"
}

/// A revoked payment is no discrepancy, unless the mirror says its order is paid: then the
/// order is a status mismatch (and is taken, so it is not also 短款). An order already taken
/// (by its payment line) or not paid stays out of this outcome.
fn revoked_payment(
    li: u32,
    found: Option<u32>,
    rule: MatchRule,
    input: &MatchInput,
    order_taken: &mut [bool],
) -> Outcome {
    let paid = found.filter(|&oi| {
        !order_taken[oi as usize] && input.orders[oi as usize].status.counts_as_paid()
    });
    if let Some(oi) = paid {
        order_taken[oi as usize] = true;
    }
    Outcome {
        class: if paid.is_some() {
            OutcomeClass::StatusMismatch
        } else {
            OutcomeClass::Matched
        },
        rule,
        line: Some(li),
        order: paid,
        refund: None,
        closes_carry_over: false,
    }
}

/// The line's amount and currency to compare with a local item in `local`: the presentment
/// (customer-facing) amount when the line was settled in another currency and presented in
/// `local`, else the settlement gross.
fn line_amount_for(line: &StatementLine, local: Currency) -> (i64, Currency) {
    match line.presentment {
        Some(p) if line.currency != local && p.currency == local => (p.minor, p.currency),
        _ => (line.gross, line.currency),
    }
}

/// Charged fee − expected fee, in thousandths of a minor unit, when beyond tolerance.
/// The fee is checked on the amount the provider charges it on ([`StatementLine::fee_base_minor`]).
fn fee_variance(line: &StatementLine, settings: &MatchSettings) -> Option<i64> {
    let check = comparison::fee_check(line, settings)?;
    check.is_variance().then(|| check.difference_milli())
}

fn match_refund(
    li: u32,
    line: &StatementLine,
    input: &MatchInput,
    refunds_by_no: &HashMap<&str, u32>,
    refunds_by_provider_id: &HashMap<&str, u32>,
    refunds_by_order: &HashMap<&str, Vec<u32>>,
    refund_taken: &mut [bool],
) -> Outcome {
    let by_no = line
        .merchant_refund_no
        .as_deref()
        .filter(|n| !n.is_empty())
        .and_then(|no| refunds_by_no.get(no).copied());
    let (found, rule) = match by_no {
        Some(ri) => (Some(ri), MatchRule::MerchantRefundNo),
        None => match line
            .provider_refund_id
            .as_deref()
            .and_then(|id| refunds_by_provider_id.get(id).copied())
        {
            Some(ri) => (Some(ri), MatchRule::ProviderRefundId),
            None => match refund_by_order_amount_day(line, input, refunds_by_order, refund_taken) {
                Some(ri) => (Some(ri), MatchRule::OrderAmountDay),
                None => (None, MatchRule::NoCounterpart),
            },
        },
    };
    let Some(ri) = found.filter(|ri| !refund_taken[*ri as usize]) else {
        return Outcome {
            class: OutcomeClass::RefundOnlyAtProvider,
            rule: MatchRule::NoCounterpart,
            line: Some(li),
            order: None,
            refund: None,
            closes_carry_over: false,
        };
    };
    refund_taken[ri as usize] = true;
    let refund = &input.refunds[ri as usize];
    let (amount, currency) = line_amount_for(line, refund.currency);
    let class =
        if refund.currency != currency || i128::from(amount).abs() != i128::from(refund.amount) {
            OutcomeClass::RefundAmountMismatch
        } else {
            OutcomeClass::Matched
        };
    Outcome {
        class,
        rule,
        line: Some(li),
        order: None,
        refund: Some(ri),
        closes_carry_over: input.carried_refunds.contains(refund.refund_no.as_str()),
    }
}

/// A refund line without a usable refund number: Alipay writes the trade's out_trade_no (or
/// nothing) when the refund was requested without an out_request_no. The local refund of the
/// same order, currency and amount, booked the same day (or carried over), not yet taken.
fn refund_by_order_amount_day(
    line: &StatementLine,
    input: &MatchInput,
    refunds_by_order: &HashMap<&str, Vec<u32>>,
    refund_taken: &[bool],
) -> Option<u32> {
    let order_no = line
        .merchant_order_no
        .as_deref()
        .filter(|n| !n.is_empty())?;
    let number = line.merchant_refund_no.as_deref().unwrap_or("");
    if !number.is_empty() && number != order_no {
        return None;
    }
    refunds_by_order.get(order_no)?.iter().copied().find(|&ri| {
        let r = &input.refunds[ri as usize];
        let (amount, currency) = line_amount_for(line, r.currency);
        let same_day = match input.window {
            Some((start, end)) => r.refunded_at >= start && r.refunded_at < end,
            None => r.refunded_at.date_naive() == line.provider_time.date_naive(),
        } || input.carried_refunds.contains(r.refund_no.as_str());
        !refund_taken[ri as usize]
            && currency == r.currency
            && i128::from(amount).abs() == i128::from(r.amount)
            && same_day
    })
}

impl MatchResult {
    /// Counts per class.
    pub fn counts(&self) -> HashMap<OutcomeClass, u64> {
        let mut counts = HashMap::default();
        for o in &self.outcomes {
            *counts.entry(o.class).or_insert(0) += 1;
        }
        counts
    }

    /// Builds the reviewer's record for a discrepancy outcome.
    pub fn discrepancy(
        outcome: &Outcome,
        input: &MatchInput,
        settings: &MatchSettings,
    ) -> DiscrepancyDraft {
        let line = outcome.line.map(|i| &input.lines[i as usize]);
        let order = outcome.order.map(|i| &input.orders[i as usize]);
        let refund = outcome.refund.map(|i| &input.refunds[i as usize]);

        let order_no = order
            .map(|o| o.order_no.clone())
            .or_else(|| refund.map(|r| r.order_no.clone()))
            .or_else(|| line.and_then(|l| l.merchant_order_no.clone()));
        let provider_txn_id = line
            .map(|l| l.provider_txn_id.clone())
            .or_else(|| order.and_then(|o| o.provider_txn_id.clone()));
        let refund_no = refund
            .map(|r| r.refund_no.clone())
            .or_else(|| line.and_then(|l| l.merchant_refund_no.clone()))
            .or_else(|| line.and_then(|l| l.provider_refund_id.clone()));

        let is_refund_side = refund.is_some() || line.is_some_and(|l| l.kind == LineKind::Refund);
        let provider_amount = line.map(|l| {
            if l.kind == LineKind::Refund {
                l.gross.saturating_abs()
            } else {
                l.gross
            }
        });
        // An adjustment (dispute, chargeback) is not a copy of the order: the order is context,
        // and the difference is the adjustment itself.
        let is_adjustment = line.is_some_and(|l| l.kind == LineKind::Adjustment);
        let local_amount = if is_adjustment {
            None
        } else if is_refund_side {
            refund.map(|r| r.amount)
        } else {
            order.map(|o| o.amount)
        };
        let local_currency = refund
            .map(|r| r.currency)
            .or_else(|| order.map(|o| o.currency));
        // A charge presented in our currency and settled in another: the provider's side is
        // what the customer was charged.
        let presented = line
            .zip(local_currency)
            .map(|(l, c)| (l, line_amount_for(l, c)))
            .filter(|(l, (_, c))| *c != l.currency);
        let provider_amount = match presented {
            Some((l, (a, _))) if l.kind == LineKind::Refund => Some(a.saturating_abs()),
            Some((_, (a, _))) => Some(a),
            None => provider_amount,
        };
        let provider_currency = match presented {
            Some((_, (_, c))) => Some(c),
            None => line.map(|l| l.currency),
        };
        let currency = provider_currency
            .or(local_currency)
            .unwrap_or(crate::money::Currency::CNY);

        let difference = if outcome.class == OutcomeClass::FeeVariance {
            line.and_then(|l| fee_variance(l, settings))
                .map(crate::money::milli_to_minor_rounded)
                .unwrap_or(0)
        } else if provider_currency.is_some()
            && local_currency.is_some()
            && provider_currency != local_currency
        {
            0
        } else {
            // Both sides are i64 amounts; a difference beyond i64 (only from absurd statement
            // amounts) is held at the bound rather than wrapped to the other sign.
            provider_amount
                .unwrap_or(0)
                .saturating_sub(local_amount.unwrap_or(0))
        };

        // The key names the item, not the class: a re-run that reclassifies an item (say an
        // amount mismatch corrected into a match) still finds the reviewer's notes by key.
        let key = discrepancy_key(outcome.class, line, order, refund);

        let explanation = explain(
            outcome, line, order, refund, settings, currency, difference, false,
        );
        let explanation_zh = explain(
            outcome, line, order, refund, settings, currency, difference, true,
        );

        DiscrepancyDraft {
            key,
            class: outcome.class,
            rule: outcome.rule,
            order_no: order_no.map(|s| s.to_string()),
            provider_txn_id: provider_txn_id.map(|s| s.to_string()),
            refund_no: refund_no.map(|s| s.to_string()),
            currency,
            provider_amount,
            local_amount,
            difference,
            provider_currency,
            local_currency,
            provider_time: line.map(|l| l.provider_time),
            local_time: refund
                .map(|r| r.refunded_at)
                .or_else(|| order.map(|o| o.paid_at.unwrap_or(o.created_at))),
            evidence: line.map(|l| l.source.clone()),
            explanation,
            explanation_zh,
        }
    }

    /// All discrepancy drafts, in outcome order.
    pub fn discrepancies<'a>(
        &'a self,
        input: &'a MatchInput,
        settings: &'a MatchSettings,
    ) -> impl Iterator<Item = DiscrepancyDraft> + 'a {
        let ordinals = line_key_ordinals_of(
            &input.lines,
            self.outcomes
                .iter()
                .filter(|o| o.class.is_discrepancy())
                .filter_map(|o| o.line),
        );
        self.outcomes
            .iter()
            .filter(|o| o.class.is_discrepancy())
            .map(move |o| {
                let mut d = MatchResult::discrepancy(o, input, settings);
                if let Some(n) = o.line.and_then(|i| ordinals.get(&i)) {
                    d.key = with_ordinal(d.key, *n);
                }
                d
            })
    }
}

/// The plain-words explanation of an outcome, in English or (`zh`) in Chinese. One function
/// for both, so the two always say the same thing.
#[allow(clippy::too_many_arguments)]
fn explain(
    outcome: &Outcome,
    line: Option<&StatementLine>,
    order: Option<&Order>,
    refund: Option<&LocalRefund>,
    settings: &MatchSettings,
    currency: Currency,
    difference: i64,
    zh: bool,
) -> String {
    let w = |en: &'static str, cn: &'static str| if zh { cn } else { en };
    let by = match outcome.rule {
        MatchRule::MerchantOrderNo => w("matched by merchant order number", "按商户订单号匹配"),
        MatchRule::ProviderTxnId => w(
            "matched by provider transaction id (the line had no usable order number)",
            "按渠道交易号匹配（该行没有可用的商户订单号）",
        ),
        MatchRule::MerchantRefundNo => w("matched by merchant refund number", "按商户退款单号匹配"),
        MatchRule::ProviderRefundId => w("matched by provider refund id", "按渠道退款单号匹配"),
        MatchRule::PaymentIntentId => w(
            "matched by PaymentIntent id (the line had no usable order number or charge id)",
            "按 PaymentIntent 编号匹配（该行没有可用的商户订单号或 charge 编号）",
        ),
        MatchRule::CustomerRef => w(
            "matched by the order's customer reference",
            "按订单的客户标识匹配",
        ),
        MatchRule::OrderAmountDay => w(
            "matched by order, amount and day (the line had no usable refund number)",
            "按订单、金额和日期匹配（该行没有可用的退款单号）",
        ),
        MatchRule::BalanceMovement => w(
            "balance movement, no order expected",
            "余额变动，无对应订单",
        ),
        MatchRule::DateWindow => w(
            "paid inside the timing window before the day ended",
            "在日终前的时间窗口内支付",
        ),
        MatchRule::NoCounterpart => w(
            "no counterpart found by order number, transaction id or refund number",
            "按订单号、交易号和退款单号均未找到对应记录",
        ),
    };
    let fmt = |m: i64| currency.format_minor(m);
    let q = |s: Option<&str>| s.unwrap_or("?").to_string();
    let order_status = |o: Option<&Order>| match o.map(|o| o.status) {
        Some(s) if zh => match s {
            crate::domain::OrderStatus::Pending => "待支付",
            crate::domain::OrderStatus::Paid => "已支付",
            crate::domain::OrderStatus::Closed => "已关闭",
            crate::domain::OrderStatus::PartiallyRefunded => "部分退款",
            crate::domain::OrderStatus::Refunded => "已退款",
        },
        Some(s) => s.as_str(),
        None => "?",
    };
    let detail = match outcome.class {
        OutcomeClass::Matched => String::new(),
        OutcomeClass::ProviderOnly => {
            let txn = q(line.map(|l| l.provider_txn_id.as_str()));
            let amount = line.map(|l| fmt(l.gross)).unwrap_or_default();
            if zh {
                format!("渠道流水 {txn}（{amount}）在我方没有订单")
            } else {
                format!("provider line {txn} for {amount} has no order")
            }
        }
        OutcomeClass::OrderOnly => {
            let no = q(order.map(|o| o.order_no.as_str()));
            let amount = order.map(|o| fmt(o.amount)).unwrap_or_default();
            let at = order
                .and_then(|o| o.paid_at)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            match (zh, outcome.closes_carry_over) {
                (false, carried) => format!(
                    "order {no} paid {amount} at {at} is not in the statement{}",
                    if carried {
                        " (carried over from the previous day and still missing)"
                    } else {
                        ""
                    }
                ),
                (true, carried) => format!(
                    "订单 {no} 于 {at} 支付 {amount}，账单中没有{}",
                    if carried {
                        "（由前一日结转，仍未出现）"
                    } else {
                        ""
                    }
                ),
            }
        }
        OutcomeClass::AmountMismatch | OutcomeClass::RefundAmountMismatch => {
            let compared = line.map(|l| {
                let c =
                    comparison::compare(outcome.rule, l, order, refund.map(|r| r.amount), settings);
                let ours = c.local_amount.map(fmt).unwrap_or_default();
                if zh {
                    format!(
                        "：渠道 {} {}，我方 {ours}",
                        c.provider_amount_label,
                        fmt(c.provider_amount)
                    )
                } else {
                    format!(
                        ": {} {} vs ours {ours}",
                        c.provider_amount_label,
                        fmt(c.provider_amount)
                    )
                }
            });
            if zh {
                format!(
                    "金额相差 {}（渠道 − 我方）{}",
                    fmt(difference),
                    compared.unwrap_or_default()
                )
            } else {
                format!(
                    "amounts differ by {} (provider − ours){}",
                    fmt(difference),
                    compared.unwrap_or_default()
                )
            }
        }
        OutcomeClass::CurrencyMismatch => {
            let theirs = line.map(|l| l.currency.code()).unwrap_or("?");
            let ours = order.map(|o| o.currency.code()).unwrap_or("?");
            if zh {
                format!("渠道币种为 {theirs}，订单币种为 {ours}")
            } else {
                format!("provider currency {theirs} but order currency {ours}")
            }
        }
        OutcomeClass::StatusMismatch if line.is_some_and(is_revoked) => {
            let status = order_status(order);
            if zh {
                format!("渠道已撤销这笔支付，资金未发生变动，但订单状态为{status}")
            } else {
                format!(
                    "the provider revoked (撤销) this payment, no money moved, but the order is {status}"
                )
            }
        }
        OutcomeClass::StatusMismatch => {
            let status = order_status(order);
            if zh {
                format!("渠道显示已支付，但订单状态为{status}")
            } else {
                format!("provider shows the payment but the order is {status}")
            }
        }
        OutcomeClass::DuplicatePayment => {
            let no = q(order.map(|o| o.order_no.as_str()));
            let first = order.and_then(|o| o.provider_txn_id.as_deref());
            match (zh, first) {
                (false, f) => format!(
                    "order {no} was already paid by {}; this is another payment",
                    f.unwrap_or("an earlier line in this statement")
                ),
                (true, Some(f)) => format!("订单 {no} 已由 {f} 支付，这是又一笔支付"),
                (true, None) => format!("订单 {no} 已由本账单中较早的一行支付，这是又一笔支付"),
            }
        }
        OutcomeClass::RefundOnlyAtProvider => {
            let id = q(line.and_then(|l| {
                l.merchant_refund_no
                    .as_deref()
                    .or(l.provider_refund_id.as_deref())
            }));
            if zh {
                format!("渠道退款 {id} 在我方没有退款记录")
            } else {
                format!("provider refund {id} has no refund record here")
            }
        }
        OutcomeClass::RefundOnlyLocal => {
            let no = q(refund.map(|r| r.refund_no.as_str()));
            let amount = refund.map(|r| fmt(r.amount)).unwrap_or_default();
            if zh {
                format!("退款 {no}（{amount}）不在账单中")
            } else {
                format!("refund {no} of {amount} is not in the statement")
            }
        }
        OutcomeClass::FeeVariance => {
            let c = line.map(|l| comparison::compare(outcome.rule, l, order, None, settings));
            let described = c.as_ref().and_then(|c| {
                if zh {
                    Some((c.describe_fee_variance_zh()?, c.describe_zh()))
                } else {
                    Some((c.describe_fee_variance()?, c.describe()))
                }
            });
            match described {
                Some((fee, matched)) => format!("{fee}{}{matched}", w("; ", "；")),
                None => {
                    let charged = line.map(|l| fmt(l.fee_minor())).unwrap_or_default();
                    let tolerance = fmt(settings.fee_tolerance_minor);
                    if zh {
                        format!(
                            "实收手续费 {charged} 与费率表相差 {}（容差 {tolerance}）",
                            fmt(difference)
                        )
                    } else {
                        format!(
                            "fee charged {charged} differs from the schedule by {} (tolerance {tolerance})",
                            fmt(difference)
                        )
                    }
                }
            }
        }
        OutcomeClass::ProviderAdjustment => {
            let amount = line.map(|l| fmt(l.gross)).unwrap_or_default();
            let status = line.map(|l| l.provider_status.as_str()).unwrap_or("");
            if zh {
                format!("渠道调账 {amount}（{status}）")
            } else {
                format!("provider booked {amount} ({status})")
            }
        }
        OutcomeClass::TimingDifference => {
            let minutes = settings.timing_window.num_minutes();
            if zh {
                format!("预计出现在次日账单中（时间窗口 {minutes} 分钟）")
            } else {
                format!("expected in the next day's statement (timing window {minutes} min)")
            }
        }
    };
    let sep = w("; ", "；");
    let by = match settlement_note(line, order, refund, zh) {
        Some(note) => format!("{by}{sep}{note}"),
        None => by.to_string(),
    };
    if detail.is_empty() {
        by
    } else {
        format!("{detail}{sep}{by}")
    }
}

fn settlement_note(
    line: Option<&StatementLine>,
    order: Option<&Order>,
    refund: Option<&LocalRefund>,
    zh: bool,
) -> Option<String> {
    let line = line?;
    let local = refund
        .map(|r| r.currency)
        .or_else(|| order.map(|o| o.currency))?;
    let (amount, currency) = line_amount_for(line, local);
    if currency == line.currency {
        return None;
    }
    let ten = |e: u8| 10i128.checked_pow(u32::from(e));
    // rate = (gross / 10^es) / (amount / 10^ep), to 6 decimals, rounded half up.
    let num = i128::from(line.gross).abs() * ten(currency.exponent())? * 1_000_000;
    let den = i128::from(amount).abs() * ten(line.currency.exponent())?;
    let rate = if den == 0 {
        "?".to_string()
    } else {
        let r = (2 * num + den) / (2 * den);
        format!("{}.{:06}", r / 1_000_000, r % 1_000_000)
    };
    let (pc, pa) = (currency.code(), currency.format_minor(amount));
    let (sc, sa) = (line.currency.code(), line.currency.format_minor(line.gross));
    Some(if zh {
        format!("以 {pc} {pa} 支付，按 {sc} {sa} 结算，折算汇率 1 {pc} = {rate} {sc}")
    } else {
        format!(
            "presented {pc} {pa}, settled as {sc} {sa} at an implied rate of 1 {pc} = {rate} {sc}"
        )
    })
}

#[cfg(test)]
mod tests;
