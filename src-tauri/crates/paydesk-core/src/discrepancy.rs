//! Outcome classes and their plain-words descriptions.
//!
//! 长款/短款 mean opposite things in different shops, so every class carries a description
//! that says which side has what, in Chinese and English.

use crate::names::{self, Case};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use strum::VariantArray;

/// The outcome of one statement line, order or refund in a reconciliation run.
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
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum OutcomeClass {
    Matched,
    /// 长款: the provider has money we have no order for.
    ProviderOnly,
    /// 短款: we think an order was paid; the provider's statement does not show it.
    OrderOnly,
    AmountMismatch,
    CurrencyMismatch,
    StatusMismatch,
    DuplicatePayment,
    RefundOnlyAtProvider,
    RefundOnlyLocal,
    RefundAmountMismatch,
    FeeVariance,
    /// The provider booked a dispute, chargeback or correction: someone must look at it.
    ProviderAdjustment,
    /// Paid shortly before the day ended; expected in the next day's statement.
    TimingDifference,
}

impl OutcomeClass {
    pub const ALL: [OutcomeClass; 13] = names::array(OutcomeClass::VARIANTS);

    /// Every class a reviewer sees as a discrepancy (all but `Matched`).
    pub fn discrepancy_classes() -> impl Iterator<Item = OutcomeClass> {
        Self::ALL.into_iter().filter(|c| c.is_discrepancy())
    }

    pub fn is_discrepancy(&self) -> bool {
        !matches!(self, OutcomeClass::Matched)
    }

    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// Short label in English.
    pub fn label_en(&self) -> &'static str {
        match self {
            OutcomeClass::Matched => "Matched",
            OutcomeClass::ProviderOnly => "Provider only (long)",
            OutcomeClass::OrderOnly => "Order only (short)",
            OutcomeClass::AmountMismatch => "Amount mismatch",
            OutcomeClass::CurrencyMismatch => "Currency mismatch",
            OutcomeClass::StatusMismatch => "Status mismatch",
            OutcomeClass::DuplicatePayment => "Duplicate payment",
            OutcomeClass::RefundOnlyAtProvider => "Refund only at provider",
            OutcomeClass::RefundOnlyLocal => "Refund only in our records",
            OutcomeClass::RefundAmountMismatch => "Refund amount mismatch",
            OutcomeClass::FeeVariance => "Fee variance",
            OutcomeClass::ProviderAdjustment => "Provider adjustment",
            OutcomeClass::TimingDifference => "Timing difference (next day)",
        }
    }

    /// Short label in Chinese.
    pub fn label_zh(&self) -> &'static str {
        match self {
            OutcomeClass::Matched => "已匹配",
            OutcomeClass::ProviderOnly => "长款（渠道有、我方无）",
            OutcomeClass::OrderOnly => "短款（我方有、渠道无）",
            OutcomeClass::AmountMismatch => "金额不符",
            OutcomeClass::CurrencyMismatch => "币种不符",
            OutcomeClass::StatusMismatch => "状态不符",
            OutcomeClass::DuplicatePayment => "重复支付",
            OutcomeClass::RefundOnlyAtProvider => "仅渠道有退款",
            OutcomeClass::RefundOnlyLocal => "仅我方有退款",
            OutcomeClass::RefundAmountMismatch => "退款金额不符",
            OutcomeClass::FeeVariance => "手续费差异",
            OutcomeClass::ProviderAdjustment => "渠道调账",
            OutcomeClass::TimingDifference => "跨日时间差",
        }
    }

    /// Which side has what, in plain English.
    pub fn description_en(&self) -> &'static str {
        match self {
            OutcomeClass::Matched => "The provider's line and our record agree.",
            OutcomeClass::ProviderOnly => "The provider received money, but we have no order for it.",
            OutcomeClass::OrderOnly => "We recorded the order as paid, but the provider's statement does not show the payment.",
            OutcomeClass::AmountMismatch => "Both sides have the payment, but the amounts differ.",
            OutcomeClass::CurrencyMismatch => "Both sides have the payment, but in different currencies.",
            OutcomeClass::StatusMismatch => "The provider shows the payment, but our order is not in a paid state (pending or closed).",
            OutcomeClass::DuplicatePayment => "The provider shows more than one payment for the same order.",
            OutcomeClass::RefundOnlyAtProvider => "The provider refunded money, but we have no record of that refund.",
            OutcomeClass::RefundOnlyLocal => "We recorded a refund, but the provider's statement does not show it.",
            OutcomeClass::RefundAmountMismatch => "Both sides have the refund, but the amounts differ.",
            OutcomeClass::FeeVariance => "The provider charged a fee that differs from the agreed fee schedule.",
            OutcomeClass::ProviderAdjustment => "The provider booked a dispute, chargeback or correction against this account.",
            OutcomeClass::TimingDifference => "Paid shortly before midnight; expected in the next day's statement and closed automatically when it appears.",
        }
    }

    /// Which side has what, in plain Chinese.
    pub fn description_zh(&self) -> &'static str {
        match self {
            OutcomeClass::Matched => "渠道账单与我方记录一致。",
            OutcomeClass::ProviderOnly => "渠道已收款，但我方没有对应订单。",
            OutcomeClass::OrderOnly => "我方订单记为已支付，但渠道账单中没有这笔收款。",
            OutcomeClass::AmountMismatch => "双方都有这笔支付，但金额不同。",
            OutcomeClass::CurrencyMismatch => "双方都有这笔支付，但币种不同。",
            OutcomeClass::StatusMismatch => {
                "渠道显示已支付，但我方订单不是已支付状态（待支付或已关闭）。"
            }
            OutcomeClass::DuplicatePayment => "渠道对同一订单有多笔支付。",
            OutcomeClass::RefundOnlyAtProvider => "渠道已退款，但我方没有这笔退款记录。",
            OutcomeClass::RefundOnlyLocal => "我方记有退款，但渠道账单中没有这笔退款。",
            OutcomeClass::RefundAmountMismatch => "双方都有这笔退款，但金额不同。",
            OutcomeClass::FeeVariance => "渠道收取的手续费与约定费率不符。",
            OutcomeClass::ProviderAdjustment => "渠道记了一笔争议、拒付或调账。",
            OutcomeClass::TimingDifference => {
                "临近午夜支付，预计出现在次日账单中，出现后自动关闭。"
            }
        }
    }
}

impl FromStr for OutcomeClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s, Case::Sensitive, &[])
            .ok_or_else(|| format!("unknown discrepancy class {s:?}"))
    }
}

/// Which rule tied a line to a record, so a reviewer can ask "why was this matched?".
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
    strum::VariantArray,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[strum(
    parse_err_ty = String,
    parse_err_fn = unknown_match_rule
)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum MatchRule {
    /// Nothing on the other side was found.
    NoCounterpart,
    MerchantOrderNo,
    ProviderTxnId,
    MerchantRefundNo,
    ProviderRefundId,
    /// Stripe: the line's PaymentIntent id (`pi_...`) is the order's provider_txn_id.
    PaymentIntentId,
    /// The line's charge or PaymentIntent id is the order's customer_ref.
    CustomerRef,
    /// A refund line without a usable refund number (Alipay uses the trade's out_trade_no):
    /// the local refund of the same order, amount and day.
    OrderAmountDay,
    /// Fee and payout lines move the balance; no order is expected for them.
    BalanceMovement,
    /// Order paid within the timing window before midnight, line expected next day.
    DateWindow,
}

impl MatchRule {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

/// `MatchRule`'s `FromStr` (derived, exact: the words Paydesk stores) fails with this.
fn unknown_match_rule(s: &str) -> String {
    format!("unknown match rule {s:?}")
}

/// Review state of a discrepancy.
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
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ReviewState {
    Open,
    Investigating,
    Resolved,
}

impl ReviewState {
    /// The state's name as the app and the reports show it.
    pub fn label_en(&self) -> &'static str {
        match self {
            ReviewState::Open => "Open",
            ReviewState::Investigating => "Investigating",
            ReviewState::Resolved => "Resolved",
        }
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            ReviewState::Open => "待处理",
            ReviewState::Investigating => "调查中",
            ReviewState::Resolved => "已解决",
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

impl FromStr for ReviewState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s, Case::Insensitive, &[]).ok_or_else(|| {
            format!(
                "unknown review state {:?} (expected {})",
                s.trim().to_ascii_lowercase(),
                names::listed::<ReviewState>(" or ")
            )
        })
    }
}

/// How a resolved discrepancy was settled.
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
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ResolutionKind {
    /// Our records were corrected to agree with the provider.
    CorrectedLocally,
    /// The provider corrected its side (or a refund/adjustment was issued).
    CorrectedAtProvider,
    /// The difference is real and accepted (written off).
    WrittenOff,
    /// Not a real difference (e.g. test order).
    NotAnIssue,
    /// Closed by Paydesk itself, e.g. a timing difference matched the next day.
    AutoMatched,
}

impl ResolutionKind {
    /// The resolution's name as the app and the reports show it.
    pub fn label_en(&self) -> &'static str {
        match self {
            ResolutionKind::CorrectedLocally => "Corrected in our records",
            ResolutionKind::CorrectedAtProvider => "Corrected at the provider",
            ResolutionKind::WrittenOff => "Written off",
            ResolutionKind::NotAnIssue => "Not an issue",
            ResolutionKind::AutoMatched => "Matched automatically",
        }
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            ResolutionKind::CorrectedLocally => "已更正本地记录",
            ResolutionKind::CorrectedAtProvider => "渠道已更正",
            ResolutionKind::WrittenOff => "已核销",
            ResolutionKind::NotAnIssue => "非问题",
            ResolutionKind::AutoMatched => "自动匹配",
        }
    }

    pub const ALL: [ResolutionKind; 5] = names::array(ResolutionKind::VARIANTS);

    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

impl FromStr for ResolutionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s, Case::Insensitive, &[]).ok_or_else(|| {
            format!(
                "unknown resolution {s:?} (expected one of: {})",
                names::listed::<ResolutionKind>(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        names::assert_round_trip::<OutcomeClass>(|s| s.parse().ok());
        names::assert_round_trip::<MatchRule>(|s| s.parse().ok());
        names::assert_round_trip::<ReviewState>(|s| s.parse().ok());
        names::assert_round_trip::<ResolutionKind>(|s| s.parse().ok());
        assert_eq!(OutcomeClass::ALL.as_slice(), OutcomeClass::VARIANTS);
        assert_eq!(ResolutionKind::ALL.as_slice(), ResolutionKind::VARIANTS);
        for c in OutcomeClass::ALL {
            assert_eq!(c.to_string(), c.as_str());
            assert_eq!(serde_json::to_value(c).ok(), Some(c.as_str().into()));
        }
        for r in MatchRule::VARIANTS {
            assert_eq!(serde_json::to_value(r).ok(), Some(r.as_str().into()));
        }
        for r in ReviewState::VARIANTS {
            assert_eq!(serde_json::to_value(r).ok(), Some(r.as_str().into()));
        }
        for r in ResolutionKind::ALL {
            assert_eq!(serde_json::to_value(r).ok(), Some(r.as_str().into()));
        }
    }

    #[test]
    fn parsing_keeps_its_strictness_and_messages() {
        // Classes: blanks trimmed, case kept.
        assert_eq!(
            " fee_variance ".parse::<OutcomeClass>(),
            Ok(OutcomeClass::FeeVariance)
        );
        assert_eq!(
            "Fee_Variance".parse::<OutcomeClass>(),
            Err("unknown discrepancy class \"Fee_Variance\"".into())
        );
        // Match rules: exact.
        assert_eq!(
            " date_window".parse::<MatchRule>(),
            Err("unknown match rule \" date_window\"".into())
        );
        assert_eq!(" Open ".parse::<ReviewState>(), Ok(ReviewState::Open));
        assert_eq!(
            "Done".parse::<ReviewState>(),
            Err("unknown review state \"done\" (expected open, investigating or resolved)".into())
        );
        assert_eq!(
            "Written_Off ".parse::<ResolutionKind>(),
            Ok(ResolutionKind::WrittenOff)
        );
        assert_eq!(
            "x".parse::<ResolutionKind>(),
            Err("unknown resolution \"x\" (expected one of: corrected_locally, corrected_at_provider, written_off, not_an_issue, auto_matched)".into())
        );
    }
}
