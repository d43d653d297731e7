//! Settlement reconciliation (资金对账): the provider's money against the bank.
//!
//! Trade reconciliation (the [`crate::matcher`]) asks "did the provider see every order?".
//! Settlement reconciliation asks "did the provider's money reach our bank?":
//! - every payout (Stripe `po_…`, Alipay 提现, WeChat 提现/自动结算) arrives as a bank credit,
//!   one to one, several payouts in one credit (N:1) or one payout split over several (1:N);
//! - a payout is exactly the sum of what it settles (payments − refunds − fees − disputes);
//! - every balance rolls forward: opening + Σ movements = closing, per account and day.
//!
//! This module holds the normalized records the parsers produce (provider fund flows, payouts,
//! bank lines) and the pure matching over them. No I/O, like the rest of the core.
//!
//! Sign convention, as for statement lines: money into the account the record describes is
//! positive. A provider fund flow of a payout is negative (money leaves the provider balance);
//! the bank line that receives it is positive (money enters the bank account).

pub mod balance;
pub mod calendar;
mod engine;
pub mod matching;
pub mod subset;
#[cfg(test)]
mod tests;
pub mod tokens;
pub mod trades;

pub use balance::{
    check_bank_balances, check_flow_balances, check_statement_totals, DayBalance, StatementTotals,
};
pub use matching::{
    check_composition, check_payout_fee, class_name_zh, explain, explain_zh, match_payouts,
    scheduled_payout_fee,
};
pub use trades::{cross_check_trades, settled_amount, TradeCheckWindow, TradeFlowCheck};

use crate::domain::Provider;
use crate::money::Currency;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What a movement on a provider balance is, by its accounting meaning (Stripe's
/// `reporting_category`, Alipay's 业务类型, WeChat's 业务类型 / 业务名称).
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
pub enum FlowKind {
    /// A customer payment credited to the balance (在线支付, 交易, charge).
    Payment,
    /// A refund paid out of the balance (交易退款, 退款, refund).
    Refund,
    /// A fee the provider took (收费/服务费, 扣除交易手续费, fee, stripe_fee).
    Fee,
    /// Money sent from the balance to the bank (提现, 自动结算, payout).
    Payout,
    /// A payout that came back (payout_failure, payout_reversal, 提现退回).
    PayoutReversal,
    /// A dispute or chargeback taking money back (dispute).
    Dispute,
    /// A won dispute returning it (dispute_reversal).
    DisputeReversal,
    /// Transfers between the merchant's own accounts (转账, 充值, transfer, topup).
    Transfer,
    /// Anything else that moves the balance (adjustments, reserves, tax, 其他).
    Adjustment,
}

impl FlowKind {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

/// One movement on a provider account's balance: a row of Alipay's 账务明细, of WeChat's
/// 资金账单, or a Stripe balance transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FundFlow {
    pub provider: Provider,
    /// The provider account name from `paydesk.toml`.
    pub account: String,
    /// The movement's own id, unique in the account: Alipay 账务流水号, WeChat 资金流水单号,
    /// Stripe `txn_…`.
    pub flow_id: String,
    /// The business object that caused it: Alipay 业务流水号, WeChat 微信支付业务单号,
    /// Stripe `source` (`ch_…`, `re_…`, `po_…`, `dp_…`).
    pub source_id: Option<String>,
    /// The merchant's order (or refund) number when the row names one: Alipay 商户订单号,
    /// WeChat 业务凭证号, Stripe `payment_metadata[order_no]`.
    pub order_no: Option<String>,
    /// Stripe: the automatic payout that settled this movement (`automatic_payout_id`).
    pub payout_id: Option<String>,
    pub kind: FlowKind,
    /// When the provider booked it (记账时间, 发生时间, `created`).
    pub booked_at: DateTime<Utc>,
    pub currency: Currency,
    /// Gross amount in minor units, signed (+ into the balance).
    pub gross: i64,
    /// Fee in minor units taken with the movement (Stripe `fee`; 0 where fees are rows of
    /// their own, as on Alipay and WeChat).
    pub fee: i64,
    /// `gross - fee`: what the movement did to the balance.
    pub net: i64,
    /// The running balance after this movement, where the file states one (账户余额,
    /// 账户结余).
    pub balance_after: Option<i64>,
    /// The provider's words for the movement (业务类型/业务名称/备注, `description`).
    pub description: String,
    /// 1-based line of the file (or position in the API listing), for evidence and errors.
    pub line: u64,
}

/// Where a payout stands at the provider.
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
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum PayoutStatus {
    Pending,
    InTransit,
    Paid,
    Failed,
    Canceled,
}

/// Money the provider sent (or says it sent) to the merchant's bank account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Payout {
    pub provider: Provider,
    /// The provider account name from `paydesk.toml`.
    pub account: String,
    /// Stripe `po_…`; Alipay and WeChat: the 提现 row's business number (业务流水号 /
    /// 微信支付业务单号), else its flow id.
    pub payout_id: String,
    /// Amount sent to the bank, minor units, positive.
    pub amount: i64,
    pub currency: Currency,
    /// When the payout left the provider balance.
    pub created_at: DateTime<Utc>,
    /// The day the provider expects it in the bank (Stripe `arrival_date`); for Alipay and
    /// WeChat the day of the 提现 row.
    pub arrival_date: NaiveDate,
    /// What the bank shows of it (Stripe `trace_id`; the 提现 flow number), if known.
    pub trace_id: Option<String>,
    /// Stripe automatic payouts can be itemized; manual payouts and Alipay/WeChat
    /// withdrawals cannot (their composition check is skipped and says so).
    pub automatic: bool,
    pub status: PayoutStatus,
}

/// One line of a bank statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BankLine {
    /// Booking date (camt `BookgDt`, MT940 entry date, 交易日期).
    pub booking_date: NaiveDate,
    /// Value date where the statement gives one (camt `ValDt`, MT940 `:61:` value date).
    pub value_date: Option<NaiveDate>,
    /// Signed minor units: + credit (money in), − debit.
    pub amount: i64,
    pub currency: Currency,
    /// Who paid (camt `Dbtr/Nm`, 对方户名), if stated.
    pub counterparty: Option<String>,
    /// Every reference the bank gives for the line (EndToEndId, AcctSvcrRef, MT940 customer
    /// and bank references, 流水号), in the statement's order, without duplicates.
    pub references: Vec<String>,
    /// Free text (RmtInf/Ustrd, `:86:`, 摘要 + 用途/附言), joined by " / ".
    pub text: String,
    /// 1-based line (MT940/CSV) or entry number (camt, XLSX row) in the file.
    pub line: u64,
}

impl BankLine {
    /// Whether `needle` (a payout id or trace id) appears in the line's references or text.
    /// Case-insensitive; ids shorter than 6 characters never match (too easy to hit by
    /// chance in free text).
    pub fn mentions(&self, needle: &str) -> bool {
        let needle = needle.trim();
        if needle.chars().count() < 6 {
            return false;
        }
        let n = needle.to_lowercase();
        self.references
            .iter()
            .any(|r| r.to_lowercase().contains(&n))
            || self.text.to_lowercase().contains(&n)
    }
}

/// A balance a statement states: opening or closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatedBalance {
    pub date: NaiveDate,
    /// Signed minor units (a debit balance is negative).
    pub amount: i64,
}

/// A parsed bank statement: what one file says about one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BankStatement {
    /// The account as the file names it (IBAN, account number), if it does.
    pub account_id: Option<String>,
    /// The statement's own id (camt `Stmt/Id`, MT940 `:20:`/`:28C:`), if any.
    pub statement_id: Option<String>,
    pub currency: Currency,
    pub opening: Option<StatedBalance>,
    pub closing: Option<StatedBalance>,
    pub lines: Vec<BankLine>,
}

impl BankStatement {
    /// opening + Σ lines − closing, when both balances are stated: `Some(0)` when the file
    /// is consistent, the size of the gap otherwise (saturated: a hostile file's sums do not
    /// overflow).
    pub fn roll_forward_gap(&self) -> Option<i64> {
        let (open, close) = (self.opening?, self.closing?);
        let moved: i128 = self.lines.iter().map(|l| i128::from(l.amount)).sum();
        let gap = i128::from(open.amount) + moved - i128::from(close.amount);
        Some(i64::try_from(gap).unwrap_or(if gap < 0 { i64::MIN } else { i64::MAX }))
    }
}
