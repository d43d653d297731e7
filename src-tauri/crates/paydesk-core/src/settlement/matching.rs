//! Payouts against bank lines, payout composition and balance roll-forward.
//!
//! Inputs are slices; links and findings refer to them by index, so the caller (the service)
//! maps indices back to stored ids. Output order is deterministic.

use super::{BankLine, FundFlow, Payout};
use crate::domain::Provider;
use crate::money::Currency;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

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
    /// Business days (Mon–Fri) a bank line may be booked before / after a payout's
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
pub fn match_payouts(
    payouts: &[Payout],
    bank: &[BankLine],
    prior: &PriorDecisions,
    settings: &SettleSettings,
) -> SettleResult {
    let _ = (payouts, bank, prior, settings);
    SettleResult::default()
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
pub fn check_composition(payout: &Payout, flows: &[&FundFlow]) -> Option<(Composition, Option<Finding>)> {
    let _ = (payout, flows);
    None
}
