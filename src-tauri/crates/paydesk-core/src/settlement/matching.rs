//! Payouts against bank lines, payout composition and balance roll-forward.
//!
//! Inputs are slices; links and findings refer to them by index, so the caller (the service)
//! maps indices back to stored ids. Output order is deterministic.

use super::calendar::BusinessCalendar;
use super::engine::{money, Matcher};
use super::{BankLine, FlowKind, FundFlow, Payout};
use crate::domain::Provider;
use crate::money::{format_scaled_wide, Currency};
use crate::names;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use strum::VariantArray;

/// How a link between payouts and bank lines was found.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum LinkRule {
    /// The bank line names the payout (payout id, trace id, 提现 flow number).
    Reference,
    /// One payout and one bank credit, same amount, inside the arrival window, and neither
    /// has another candidate.
    AmountDate,
    /// N:1: several payouts whose sum is one bank credit (found by a bounded subset search).
    GroupedPayouts,
    /// 1:N: one payout paid as several bank credits.
    SplitPayout,
    /// A reviewer linked them by hand or accepted a suggestion.
    Reviewer,
}

/// Payouts and bank lines that explain each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Indices into the payouts slice, ascending.
    pub payouts: Vec<usize>,
    /// Indices into the bank lines slice, ascending.
    pub bank_lines: Vec<usize>,
    pub rule: LinkRule,
    /// 0..=100. Links at or above [`SettleSettings::auto_confidence`] are booked; the others
    /// are suggestions for a reviewer.
    pub confidence: u8,
    /// Plain-words reasons, one per fact ("bank line 12 names po_123", "same amount 1,234.00",
    /// "2 business days after the expected arrival").
    pub evidence: Vec<String>,
}

/// What does not agree, in the settlement's own classes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SettleClass {
    /// 未到账: the payout's arrival window has passed and no bank line explains it.
    PayoutNotArrived,
    /// 银行长款: a bank credit from a provider (or unexplained) that no payout explains.
    BankCreditWithoutPayout,
    /// 到账金额不符: linked by reference, but the bank amount differs from the payout.
    PayoutAmountMismatch,
    /// 提现构成不符: a payout is not the sum of the balance movements it settles.
    CompositionMismatch,
    /// 余额不连续: opening + movements ≠ closing, for a provider account or a bank account.
    BalanceBreak,
    /// 提现手续费不符: the fee charged at payout differs from the account's schedule.
    PayoutFeeDiffers,
    /// 交易与资金流水不符: a trade bill's payment or refund did not move the provider
    /// balance by what it settles, or a balance movement is in no trade bill.
    TradeFlowMismatch,
}

impl SettleClass {
    pub const ALL: [SettleClass; 7] = names::array(SettleClass::VARIANTS);

    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// Short label in English.
    pub fn label_en(&self) -> &'static str {
        match self {
            SettleClass::PayoutNotArrived => "Payout not arrived",
            SettleClass::BankCreditWithoutPayout => "Bank credit without payout",
            SettleClass::PayoutAmountMismatch => "Payout amount mismatch",
            SettleClass::CompositionMismatch => "Payout composition mismatch",
            SettleClass::BalanceBreak => "Balance break",
            SettleClass::PayoutFeeDiffers => "Payout fee differs",
            SettleClass::TradeFlowMismatch => "Trade and fund flow differ",
        }
    }

    /// Short label in Chinese.
    pub fn label_zh(&self) -> &'static str {
        match self {
            SettleClass::PayoutNotArrived => "未到账",
            SettleClass::BankCreditWithoutPayout => "银行长款",
            SettleClass::PayoutAmountMismatch => "到账金额不符",
            SettleClass::CompositionMismatch => "提现构成不符",
            SettleClass::BalanceBreak => "余额不连续",
            SettleClass::PayoutFeeDiffers => "提现手续费不符",
            SettleClass::TradeFlowMismatch => "交易与资金流水不符",
        }
    }

    /// Which side has what, in plain English.
    pub fn description_en(&self) -> &'static str {
        match self {
            SettleClass::PayoutNotArrived => "The provider paid this money out, but no bank credit shows it and the days it was expected have passed.",
            SettleClass::BankCreditWithoutPayout => "The bank received money that no payout from a provider explains.",
            SettleClass::PayoutAmountMismatch => "The bank line names the payout, but the amount that arrived differs from the amount paid out.",
            SettleClass::CompositionMismatch => "The payout is not the sum of the payments, refunds, fees and disputes it settles.",
            SettleClass::BalanceBreak => "The opening balance plus the movements does not equal the closing balance.",
            SettleClass::PayoutFeeDiffers => "The fee charged for the payout differs from the agreed fee schedule.",
            SettleClass::TradeFlowMismatch => "A payment or refund in the trade bill did not move the provider balance by what it settles, or the balance moved for a payment or refund that no trade bill lists (such as a QR-code payment made outside the API).",
        }
    }

    /// Which side has what, in plain Chinese.
    pub fn description_zh(&self) -> &'static str {
        match self {
            SettleClass::PayoutNotArrived => {
                "渠道已提现，但银行流水中没有这笔入账，且已超过预计到账时间。"
            }
            SettleClass::BankCreditWithoutPayout => "银行收到一笔款项，但没有任何渠道提现能对应。",
            SettleClass::PayoutAmountMismatch => {
                "银行流水注明了这笔提现，但到账金额与提现金额不同。"
            }
            SettleClass::CompositionMismatch => {
                "提现金额不等于其结算的收款、退款、手续费和争议之和。"
            }
            SettleClass::BalanceBreak => "期初余额加本期发生额不等于期末余额。",
            SettleClass::PayoutFeeDiffers => "提现时收取的手续费与约定费率不符。",
            SettleClass::TradeFlowMismatch => {
                "交易账单中的收款或退款没有按结算金额计入渠道余额，或渠道余额有一笔收款或退款在交易账单中找不到（例如未经接口的收款码收款）。"
            }
        }
    }
}

/// The class's short Chinese name (未到账, 银行长款, …).
pub fn class_name_zh(class: SettleClass) -> &'static str {
    class.label_zh()
}

/// One plain English sentence saying what the class means.
pub fn explain(class: SettleClass) -> &'static str {
    class.description_en()
}

/// One plain Chinese sentence saying what the class means.
pub fn explain_zh(class: SettleClass) -> &'static str {
    class.description_zh()
}

/// One thing that does not agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub class: SettleClass,
    pub payouts: Vec<usize>,
    pub bank_lines: Vec<usize>,
    /// The day it concerns (payout arrival date, bank booking date, balance day).
    pub date: NaiveDate,
    pub currency: Currency,
    /// What should be there (minor units), when the class has one.
    pub expected: Option<i64>,
    /// What is there.
    pub actual: Option<i64>,
    /// Plain words naming the amounts and ids involved.
    pub detail: String,
}

/// Where a payout stands against the bank.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Arrival {
    /// A booked link explains it.
    Arrived,
    /// Only a suggestion explains it so far.
    Suggested,
    /// Not in the bank yet, still inside its window (在途).
    InTransit,
    /// Window passed, nothing explains it (未到账).
    NotArrived,
    /// Failed or canceled at the provider: nothing is expected in the bank.
    NotExpected,
}

/// A provider's fee for a payout: `fixed + amount × rate_bp / 10,000`, rounded half up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutFeeSchedule {
    pub fixed: i64,
    pub rate_bp: i64,
}

/// Knobs of the settlement match.
#[derive(Debug, Clone)]
pub struct SettleSettings {
    /// Business days (of `calendar`) a bank line may be booked before / after a payout's
    /// `arrival_date` and still be its arrival.
    pub days_before: u32,
    pub days_after: u32,
    /// The day the match runs for; payouts whose window ends before it are not arrived.
    pub today: NaiveDate,
    /// Largest number of payouts (N:1) or bank lines (1:N) in one grouped suggestion.
    pub max_group: usize,
    /// At most this many candidates enter one subset search (nearest dates first).
    pub max_candidates: usize,
    /// Step budget of one subset search; a search that runs out suggests nothing.
    pub max_steps: u64,
    /// Links at or above this confidence are booked without review.
    pub auto_confidence: u8,
    /// Counterparty names (substrings, case-insensitive) that identify each provider's
    /// settlement entity on a bank line.
    pub counterparties: Vec<(Provider, String)>,
    /// The bank's business days (its public holidays and worked weekend days).
    pub calendar: BusinessCalendar,
}

impl SettleSettings {
    pub fn new(today: NaiveDate) -> SettleSettings {
        SettleSettings {
            days_before: 1,
            days_after: 3,
            today,
            max_group: 5,
            max_candidates: 24,
            max_steps: 200_000,
            auto_confidence: 90,
            counterparties: Vec::new(),
            calendar: BusinessCalendar::default(),
        }
    }
}

/// How hard the subset searches worked: reported by the benchmark and the run summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchStats {
    pub searches: u64,
    pub total_steps: u64,
    pub worst_steps: u64,
    /// Searches that ran out of steps (they suggest nothing).
    pub exhausted: u64,
    /// Searches where more than one subset fitted (they suggest nothing).
    pub ambiguous: u64,
}

/// Links a reviewer made or accepted earlier, and suggestions they rejected: both stand
/// over a re-run.
#[derive(Debug, Clone, Default)]
pub struct PriorDecisions {
    /// (payout indices, bank line indices) of accepted links.
    pub accepted: Vec<(Vec<usize>, Vec<usize>)>,
    /// (payout indices, bank line indices) of rejected suggestions: never suggested again.
    pub rejected: Vec<(Vec<usize>, Vec<usize>)>,
}

/// The outcome of one settlement match.
#[derive(Debug, Clone, Default)]
pub struct SettleResult {
    /// Booked links (auto or accepted earlier).
    pub links: Vec<Link>,
    /// Suggestions waiting for a reviewer.
    pub suggestions: Vec<Link>,
    pub findings: Vec<Finding>,
    /// One per payout, same order as the input.
    pub arrivals: Vec<Arrival>,
    pub search: SearchStats,
}

/// Match payouts to bank lines. Only bank credits (amount > 0) are candidates; debits are
/// ignored here (balance continuity covers them).
///
/// In order, each step using only what the earlier ones left, so no payout and no bank line
/// is in two links or suggestions:
/// 1. links a reviewer accepted earlier (rule `Reviewer`, confidence 100);
/// 2. references: credits naming payouts (ids or trace ids, see [`BankLine::mentions`]; the
///    lookup hashes the lines' tokens, see `tokens`), one link per group of lines and payouts
///    naming each other, booked at 100, with a `PayoutAmountMismatch` finding when the sums
///    differ;
/// 3. 1:1 by equal amount and a booking date inside the payout's business-day window, only
///    when neither side has another candidate of that amount (85, +10 for the provider's
///    counterparty, −5 per business day beyond the first; booked at `auto_confidence`);
/// 4. grouped suggestions by a bounded subset search, N:1 then 1:N, only when exactly one
///    subset fits and no other suggestion wants the same items; never booked;
/// 5. arrivals, and findings for payouts whose window passed and credits nothing explains.
///
/// Failed and canceled payouts take part in no automatic step. A (payouts, bank lines) pair
/// a reviewer rejected is never produced again, as a link or a suggestion. Runs in
/// O((P + B) log(P + B)) plus the bounded searches.
pub fn match_payouts(
    payouts: &[Payout],
    bank: &[BankLine],
    prior: &PriorDecisions,
    settings: &SettleSettings,
) -> SettleResult {
    let mut m = Matcher::new(payouts, bank, prior, settings);
    m.book_accepted(prior);
    m.by_reference();
    m.by_amount_and_date();
    m.grouped_payouts();
    m.split_payouts();
    m.finish()
}

/// What a payout settles, summed by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Composition {
    pub items: u64,
    pub payments: i64,
    pub refunds: i64,
    pub fees: i64,
    pub disputes: i64,
    pub other: i64,
    /// Σ net of the items: what the payout should be.
    pub total: i64,
}

/// Check a payout against the balance movements it settles (`flows` whose `payout_id` is
/// the payout's). The payout's own movement (kind Payout, `source_id` = the payout id) is
/// left out whether or not the listing includes it. `None` when the payout cannot be
/// itemized (manual payouts, Alipay/WeChat withdrawals).
///
/// Each movement's gross goes to its kind and its fee to `fees` (Stripe charges carry their
/// fee inline), so payments + refunds + fees + disputes + other = total = Σ net. Movements in
/// another currency than the payout's are not summed and make a finding of their own kind.
pub fn check_composition(
    payout: &Payout,
    flows: &[&FundFlow],
) -> Option<(Composition, Option<Finding>)> {
    if !payout.automatic || payout.provider != Provider::Stripe {
        return None;
    }
    #[derive(Default)]
    struct Sums {
        payments: i128,
        refunds: i128,
        fees: i128,
        disputes: i128,
        other: i128,
    }
    let mut sums = Sums::default();
    let mut items = 0u64;
    let mut foreign: Vec<&str> = Vec::new();
    for f in flows {
        if f.kind == FlowKind::Payout && f.source_id.as_deref() == Some(payout.payout_id.as_str()) {
            continue;
        }
        if f.currency != payout.currency {
            foreign.push(f.flow_id.as_str());
            continue;
        }
        items += 1;
        let (gross, fee) = (i128::from(f.gross), i128::from(f.fee));
        let bucket = match f.kind {
            FlowKind::Fee => {
                sums.fees += i128::from(f.net);
                continue;
            }
            FlowKind::Payment => &mut sums.payments,
            FlowKind::Refund => &mut sums.refunds,
            FlowKind::Dispute | FlowKind::DisputeReversal => &mut sums.disputes,
            _ => &mut sums.other,
        };
        *bucket += gross;
        sums.fees -= fee;
        // A row whose net is not gross − fee still counts by its net in the total.
        sums.other += i128::from(f.net) - (gross - fee);
    }
    let total = sums.payments + sums.refunds + sums.fees + sums.disputes + sums.other;
    let clamp = |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
    let composition = Composition {
        items,
        payments: clamp(sums.payments),
        refunds: clamp(sums.refunds),
        fees: clamp(sums.fees),
        disputes: clamp(sums.disputes),
        other: clamp(sums.other),
        total: clamp(total),
    };
    let c = payout.currency;
    let mut problems = Vec::new();
    if total != i128::from(payout.amount) {
        let wide = |v: i128| {
            format!(
                "{} {}",
                format_scaled_wide(v, u32::from(c.exponent())),
                c.code()
            )
        };
        let counted = if items == 1 {
            "1 item".to_string()
        } else {
            format!("{items} items")
        };
        problems.push(format!(
            "payout {} is {} but its {counted} sum to {} (difference {})",
            payout.payout_id,
            money(c, payout.amount),
            wide(total),
            wide(i128::from(payout.amount) - total),
        ));
    }
    if !foreign.is_empty() {
        problems.push(format!(
            "{} not in {} and not summed: {}",
            if foreign.len() == 1 {
                "1 item is".to_string()
            } else {
                format!("{} items are", foreign.len())
            },
            c.code(),
            foreign.join(", ")
        ));
    }
    let finding = (!problems.is_empty()).then(|| Finding {
        class: SettleClass::CompositionMismatch,
        payouts: vec![],
        bank_lines: vec![],
        date: payout.arrival_date,
        currency: c,
        expected: Some(composition.total),
        actual: Some(payout.amount),
        detail: problems.join("; "),
    });
    Some((composition, finding))
}

/// The fee a schedule asks for a payout of `amount`: `fixed + amount × rate_bp / 10,000`,
/// rounded half up, in integers.
pub fn scheduled_payout_fee(amount: i64, schedule: &PayoutFeeSchedule) -> i64 {
    let variable = (i128::from(amount) * i128::from(schedule.rate_bp) + 5_000).div_euclid(10_000);
    let fee = i128::from(schedule.fixed) + variable;
    i64::try_from(fee).unwrap_or(if fee < 0 { i64::MIN } else { i64::MAX })
}

/// Compare the fee charged for a payout (−Σ net of the `Fee` movements whose `source_id` is
/// the payout id, in the payout's currency) with its schedule. The finding's `payouts` is
/// empty: the caller knows which payout it passed.
pub fn check_payout_fee(
    payout: &Payout,
    fee_flows: &[&FundFlow],
    schedule: &PayoutFeeSchedule,
) -> Option<Finding> {
    let (charged, count) = fee_flows
        .iter()
        .filter(|f| {
            f.kind == FlowKind::Fee
                && f.currency == payout.currency
                && f.source_id.as_deref() == Some(payout.payout_id.as_str())
        })
        .fold((0i128, 0usize), |(sum, n), f| {
            (sum - i128::from(f.net), n + 1)
        });
    let expected = scheduled_payout_fee(payout.amount, schedule);
    if charged == i128::from(expected) {
        return None;
    }
    let c = payout.currency;
    let wide = |v: i128| {
        format!(
            "{} {}",
            format_scaled_wide(v, u32::from(c.exponent())),
            c.code()
        )
    };
    Some(Finding {
        class: SettleClass::PayoutFeeDiffers,
        payouts: vec![],
        bank_lines: vec![],
        date: payout.arrival_date,
        currency: c,
        expected: Some(expected),
        actual: i64::try_from(charged).ok(),
        detail: format!(
            "payout {} of {} was charged {} in {} fee {}; the schedule ({} fixed + {} bp) says {}",
            payout.payout_id,
            money(c, payout.amount),
            wide(charged),
            count,
            if count == 1 { "movement" } else { "movements" },
            money(c, schedule.fixed),
            schedule.rate_bp,
            money(c, expected)
        ),
    })
}
