//! Fund-flow files (资金对账): parsers and writers of what moved on a provider balance.
//!
//! - Alipay 账务明细 (`bill_type=signcustomer`): the ZIP or its bare GBK CSV ([`alipay`]);
//! - WeChat Pay 资金账单 (`/v3/bill/fundflowbill`, BASIC / OPERATION / FEES) ([`wechat`]);
//! - Stripe: the Reporting API `payout_reconciliation.itemized` /
//!   `balance_change_from_activity.itemized` CSV, and the API's `GET /v1/payouts` and
//!   `GET /v1/balance_transactions` list pages ([`stripe`]).
//!
//! Every parser gives [`FundFlow`]s (money into the balance positive, see
//! `paydesk_core::settlement`) and reads a file fully or refuses it: errors name the file,
//! the line and the problem ([`FundFlowError`], the same shape as statement errors). The
//! text handling (GBK or UTF-8 lines, backtick cells, header lookup by name, ZIP entries with
//! GBK names) is the trade statements' own (`statement::text`, `statement::zipio`).
//!
//! Balance continuity is the core's check: the parsers report the 账户余额 / 账户结余 each row
//! states and do not compare rows with each other.

pub mod alipay;
pub mod stripe;
pub mod wechat;

pub use alipay::{write_alipay_accountlog_csv, write_alipay_accountlog_zip};
pub use stripe::{
    parse_stripe_balance_transactions, parse_stripe_payouts,
    write_stripe_balance_transactions_page, write_stripe_payout_itemized,
    write_stripe_payout_itemized_with, write_stripe_payouts_page,
};
pub use wechat::write_wechat_fundflow_bill;

use crate::statement::text::{self, err};
use crate::statement::{InputLimits, StatementError};
use chrono::{DateTime, Utc};
use paydesk_core::domain::Provider;
use paydesk_core::settlement::{FlowKind, FundFlow, Payout, PayoutStatus};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read};

/// Why a fund-flow file or page could not be read: file, line, column and reason
/// (`fund.csv line 7, column 收入金额（+元）: amount "1,23" has misplaced thousands separators`).
pub type FundFlowError = StatementError;

/// The layouts [`parse_fund_flows`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundFlowLayout {
    /// Alipay 账务明细: the ZIP of `bill_type=signcustomer`, or its CSV.
    AlipayAccountLog,
    /// WeChat Pay 资金账单 (plain or gzip).
    WechatFundFlow,
    /// Stripe `payout_reconciliation.itemized` / `balance_change_from_activity.itemized` CSV.
    StripeItemized,
    /// A saved `GET /v1/balance_transactions` list page.
    StripeBalanceTransactionsJson,
    /// A saved `GET /v1/payouts` list page.
    StripePayoutsJson,
}

impl FundFlowLayout {
    /// The provider whose files have this layout.
    pub fn provider(self) -> Provider {
        match self {
            FundFlowLayout::AlipayAccountLog => Provider::Alipay,
            FundFlowLayout::WechatFundFlow => Provider::Wechat,
            _ => Provider::Stripe,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            FundFlowLayout::AlipayAccountLog => "an Alipay 账务明细 (account log)",
            FundFlowLayout::WechatFundFlow => "a WeChat Pay 资金账单 (fund-flow bill)",
            FundFlowLayout::StripeItemized => "a Stripe itemized report",
            FundFlowLayout::StripeBalanceTransactionsJson => {
                "a Stripe balance-transactions list page"
            }
            FundFlowLayout::StripePayoutsJson => "a Stripe payouts list page",
        }
    }
}

/// Everything one fund-flow file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFundFlows {
    pub layout: FundFlowLayout,
    /// Every row, in file order.
    pub flows: Vec<FundFlow>,
    /// Alipay/WeChat: one per 提现 row ([`payouts_from_flows`]); Stripe itemized report: one
    /// per `automatic_payout_id`; a payouts page: its payouts.
    pub payouts: Vec<Payout>,
    /// The file's own account, where it names one (Alipay `#账号：[...]`, as written).
    pub account_label: Option<String>,
    /// Whether the file stated totals and they agreed with the rows (Alipay
    /// `#收入合计`/`#支出合计`, WeChat's summary line). A file whose totals disagree is refused.
    pub summary_checked: bool,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const GZIP_MAGIC: &[u8] = b"\x1f\x8b";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses one fund-flow file of `provider`'s account `account`, recognising its layout.
/// All or nothing: every row, or the first problem (naming `file_name`, the line and what
/// is wrong). A file of another provider's layout is refused.
pub fn parse_fund_flows(
    bytes: &[u8],
    file_name: &str,
    provider: Provider,
    account: &str,
) -> Result<ParsedFundFlows, FundFlowError> {
    let layout = detect_fund_flow_layout(bytes, file_name)?.ok_or_else(|| {
        err(
            file_name,
            None,
            None,
            "not a fund-flow file: expected an Alipay 账务明细 (ZIP or CSV), a WeChat Pay 资金账单, \
             a Stripe itemized report or a Stripe payouts / balance-transactions page",
        )
    })?;
    if layout.provider() != provider {
        return Err(err(
            file_name,
            None,
            None,
            format!(
                "the file is {} but the account {account:?} is a {} account",
                layout.describe(),
                provider.as_str()
            ),
        ));
    }
    let limits = InputLimits::default();
    match layout {
        FundFlowLayout::AlipayAccountLog => {
            let (rd, file): (Box<dyn BufRead + '_>, String) = if bytes.starts_with(ZIP_MAGIC) {
                let (entry, name, _) = crate::statement::zipio::open_named_entry(
                    bytes,
                    file_name,
                    &limits,
                    "账务明细",
                    "账务明细 (account log)",
                )?;
                (entry, format!("{file_name}:{name}"))
            } else {
                (plain(bytes, limits), file_name.to_string())
            };
            let p = alipay::parse(rd, &file, account)?;
            let payouts = payouts_from_flows(&p.flows);
            Ok(ParsedFundFlows {
                layout,
                flows: p.flows,
                payouts,
                account_label: p.account_label,
                summary_checked: p.summary_checked,
            })
        }
        FundFlowLayout::WechatFundFlow => {
            let rd = if bytes.starts_with(GZIP_MAGIC) {
                gunzip(bytes, limits)
            } else {
                plain(bytes, limits)
            };
            let flows = wechat::parse(rd, file_name, account)?;
            let payouts = payouts_from_flows(&flows);
            Ok(ParsedFundFlows {
                layout,
                flows,
                payouts,
                account_label: None,
                summary_checked: true,
            })
        }
        FundFlowLayout::StripeItemized => {
            let (flows, payouts) =
                stripe::parse_itemized(plain(bytes, limits), file_name, account)?;
            Ok(ParsedFundFlows {
                layout,
                flows,
                payouts,
                account_label: None,
                summary_checked: false,
            })
        }
        FundFlowLayout::StripeBalanceTransactionsJson => {
            let (flows, _) = stripe::balance_transactions_page(bytes, file_name, account)?;
            Ok(ParsedFundFlows {
                layout,
                flows,
                payouts: Vec::new(),
                account_label: None,
                summary_checked: false,
            })
        }
        FundFlowLayout::StripePayoutsJson => {
            let (payouts, _) = stripe::payouts_page(bytes, file_name, account)?;
            Ok(ParsedFundFlows {
                layout,
                flows: Vec::new(),
                payouts,
                account_label: None,
                summary_checked: false,
            })
        }
    }
}

/// The input as lines, held to the statement size limit.
fn plain(bytes: &[u8], limits: InputLimits) -> Box<dyn BufRead + '_> {
    Box::new(crate::statement::limits::LimitedReader::new(
        bytes, limits, None, "the file",
    ))
}

/// A gzip stream (WeChat `tar_type=GZIP`) decompressed as it is read, held to the size and
/// ratio limits like the trade bills.
fn gunzip(bytes: &[u8], limits: InputLimits) -> Box<dyn BufRead + '_> {
    let compressed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = crate::statement::limits::CountingReader {
        inner: bytes,
        count: compressed.clone(),
    };
    Box::new(std::io::BufReader::with_capacity(
        64 * 1024,
        crate::statement::limits::LimitedReader::new(
            flate2::read::MultiGzDecoder::new(counted),
            limits,
            Some(compressed),
            "the gzip stream",
        ),
    ))
}

/// Recognises a fund-flow file by its content: `Ok(None)` when it is no layout of ours, an
/// error for a damaged ZIP or a provider file of the wrong kind (an Alipay 业务明细 trade
/// bill, which `statement` reads).
pub fn detect_fund_flow_layout(
    bytes: &[u8],
    file_name: &str,
) -> Result<Option<FundFlowLayout>, FundFlowError> {
    if bytes.starts_with(ZIP_MAGIC) {
        let (_, entry, _) = crate::statement::zipio::open_named_entry(
            bytes,
            file_name,
            &InputLimits::NONE,
            "账务明细",
            "账务明细 (account log)",
        )?;
        if !entry.contains("账务明细") {
            return Err(err(
                file_name,
                None,
                None,
                format!(
                    "the ZIP holds {entry:?}, not an Alipay 账务明细 (account log, \
                     bill_type=signcustomer) entry"
                ),
            ));
        }
        return Ok(Some(FundFlowLayout::AlipayAccountLog));
    }
    if bytes.starts_with(GZIP_MAGIC) {
        let mut head = Vec::new();
        // A damaged stream still gives its first bytes; recognising needs only those.
        let _ = flate2::read::MultiGzDecoder::new(bytes)
            .take(64 * 1024)
            .read_to_end(&mut head);
        if head.starts_with(GZIP_MAGIC) || head.starts_with(ZIP_MAGIC) || head.is_empty() {
            return Ok(None);
        }
        return Ok(match detect_fund_flow_layout(&head, file_name)? {
            Some(FundFlowLayout::WechatFundFlow) => Some(FundFlowLayout::WechatFundFlow),
            _ => None,
        });
    }
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        return Ok(stripe::json_layout(trimmed));
    }
    let first_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let first = body.get(..first_end).unwrap_or(body);
    let first_text = match std::str::from_utf8(first) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => match encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(first)
        {
            Some(s) => s,
            None => return Ok(None),
        },
    };
    let first_text = first_text.trim();
    if first_text.starts_with("#支付宝账务明细") {
        return Ok(Some(FundFlowLayout::AlipayAccountLog));
    }
    if first_text.starts_with("#支付宝") {
        return Err(err(
            file_name,
            Some(1),
            None,
            format!(
                "{first_text:?}: this is an Alipay bill of another kind (the 业务明细 trade bill \
                 is a trade statement); the fund flows are in the 账务明细 (bill_type=signcustomer)"
            ),
        ));
    }
    let rec = text::Record::from_text(first_text.to_string(), 1);
    let names: Vec<String> = (0..rec.len())
        .map(|i| text::norm_name(rec.get(i)))
        .collect();
    let has = |n: &str| names.iter().any(|x| *x == text::norm_name(n));
    if has("账务流水号") {
        return Ok(Some(FundFlowLayout::AlipayAccountLog));
    }
    if has("记账时间") && has("资金流水单号") {
        return Ok(Some(FundFlowLayout::WechatFundFlow));
    }
    if has("balance_transaction_id") && has("reporting_category") {
        return Ok(Some(FundFlowLayout::StripeItemized));
    }
    Ok(None)
}

/// One Payout per 提现 row (Alipay, WeChat): the withdrawals a bank statement should show.
///
/// - `payout_id` = the row's business number (业务流水号 / 微信支付业务单号), else its flow id;
/// - `amount` = −net (the row takes the money off the balance, so it is negative there);
/// - `trace_id` = the flow id (账务流水号 / 资金流水单号): the one number of the movement
///   itself, what a bank's 附言 may carry besides the business number;
/// - `created_at` = the booking time; `arrival_date` = the booking day in the provider's
///   zone (Beijing time for Alipay and WeChat): the day the 提现 left the balance;
/// - `automatic` = false (withdrawals are not itemized), `status` = Paid, or Failed when a
///   PayoutReversal row (提现退回 / 提现失败 / 提现退票) names the same business number or flow id.
///
/// Meant for Alipay and WeChat flows; Stripe payouts come from the API or the itemized report.
pub fn payouts_from_flows(flows: &[FundFlow]) -> Vec<Payout> {
    let reversed: std::collections::HashSet<&str> = flows
        .iter()
        .filter(|f| f.kind == FlowKind::PayoutReversal)
        .filter_map(|f| f.source_id.as_deref())
        .collect();
    flows
        .iter()
        .filter(|f| f.kind == FlowKind::Payout)
        .map(|f| {
            let payout_id = f.source_id.clone().unwrap_or_else(|| f.flow_id.clone());
            let failed =
                reversed.contains(payout_id.as_str()) || reversed.contains(f.flow_id.as_str());
            Payout {
                provider: f.provider,
                account: f.account.clone(),
                payout_id,
                amount: f.net.saturating_neg(),
                currency: f.currency,
                created_at: f.booked_at,
                arrival_date: local_day(f.booked_at, f.provider),
                trace_id: Some(f.flow_id.clone()),
                automatic: false,
                status: if failed {
                    PayoutStatus::Failed
                } else {
                    PayoutStatus::Paid
                },
            }
        })
        .collect()
}

/// The day of an instant in the provider's own zone.
fn local_day(t: DateTime<Utc>, provider: Provider) -> chrono::NaiveDate {
    t.with_timezone(&provider.default_timezone()).date_naive()
}

/// Splits a flow's description into the provider's type word and the remark the parsers
/// joined it with (`"在线支付 / 备注"`), for the writers.
pub(crate) fn split_description(description: &str) -> (&str, &str) {
    match description.split_once(" / ") {
        Some((t, r)) => (t, r),
        None => (description, ""),
    }
}

/// `type` or `type / remark`: the words a row gives for itself.
pub(crate) fn join_description(kind_word: &str, remark: &str) -> String {
    if remark.is_empty() {
        kind_word.to_string()
    } else if kind_word.is_empty() {
        remark.to_string()
    } else {
        format!("{kind_word} / {remark}")
    }
}
