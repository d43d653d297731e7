//! What a match compared: the statement's amount against ours, and the fee against the
//! account's schedule on the amount the provider charges it on (README "Fee base").

use super::{FeeRule, MatchInput, MatchResult, MatchSettings, Outcome};
use crate::discrepancy::MatchRule;
use crate::domain::{LineKind, Order, Provider, StatementLine};
use crate::money::{format_scaled, Currency};
use serde::{Deserialize, Serialize};

/// The amounts a line was compared on, and by which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub rule: MatchRule,
    pub currency: Currency,
    /// The name of the statement's amount in the provider's file (WeChat 订单金额).
    pub provider_amount_label: String,
    /// The statement's amount (minor units; a refund's as a positive number).
    pub provider_amount: i64,
    /// Our order's (or refund's) amount, when a local item was found.
    pub local_amount: Option<i64>,
    /// The fee check, when the account has a fee schedule for the line's currency.
    pub fee: Option<FeeCheck>,
}

/// A fee compared with the account's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeCheck {
    /// The fee the provider charged, thousandths of a minor unit.
    pub charged_milli: i64,
    /// The name of the amount the fee is charged on (WeChat 应结订单金额).
    pub base_label: String,
    /// That amount, minor units.
    pub base: i64,
    pub rate_ppm: i64,
    pub fixed_minor: i64,
    /// What the schedule expects on the base, thousandths of a minor unit.
    pub expected_milli: i64,
    pub tolerance_minor: i64,
}

impl FeeCheck {
    /// Charged − expected, thousandths of a minor unit.
    pub fn difference_milli(&self) -> i64 {
        self.charged_milli.saturating_sub(self.expected_milli)
    }

    /// Beyond the tolerance: a fee variance.
    pub fn is_variance(&self) -> bool {
        self.difference_milli().abs() > self.tolerance_minor.saturating_mul(1000)
    }

    /// "0.60%" or "2.90% + 0.30".
    fn schedule(&self, currency: Currency) -> String {
        let rate = rate_percent(self.rate_ppm);
        if self.fixed_minor == 0 {
            rate
        } else {
            format!("{rate} + {}", currency.format_minor(self.fixed_minor))
        }
    }
}

/// The name of the amount compared with ours, as the provider's file calls it.
pub fn amount_label(provider: Provider, kind: LineKind) -> &'static str {
    match (provider, kind) {
        (Provider::Wechat, LineKind::Refund) => "申请退款金额",
        (Provider::Wechat | Provider::Alipay, _) => "订单金额",
        (Provider::Stripe, _) => "gross",
        (Provider::Manual, _) => "amount",
    }
}

/// The name of the amount the provider charges its fee on.
pub fn fee_base_label(provider: Provider) -> &'static str {
    match provider {
        Provider::Wechat => "应结订单金额",
        Provider::Alipay => "订单金额",
        Provider::Stripe => "gross",
        Provider::Manual => "amount",
    }
}

/// The fee check of a line under the account's settings (`None` without a schedule for the
/// line's currency).
pub(super) fn fee_check(line: &StatementLine, settings: &MatchSettings) -> Option<FeeCheck> {
    let rule: &FeeRule = settings
        .fee_rules
        .iter()
        .find(|r| r.currency == line.currency)?;
    let base = line.fee_base_minor();
    Some(FeeCheck {
        charged_milli: line.fee_milli,
        base_label: fee_base_label(line.provider).to_string(),
        base,
        rate_ppm: rule.rate_ppm,
        fixed_minor: rule.fixed_minor,
        expected_milli: rule.expected_fee_milli(base),
        tolerance_minor: settings.fee_tolerance_minor,
    })
}

/// The comparison behind an outcome between a line and an order (payments) or a refund.
pub(super) fn compare(
    rule: MatchRule,
    line: &StatementLine,
    order: Option<&Order>,
    local_refund_amount: Option<i64>,
    settings: &MatchSettings,
) -> Comparison {
    let is_refund = line.kind == LineKind::Refund;
    Comparison {
        rule,
        currency: line.currency,
        provider_amount_label: amount_label(line.provider, line.kind).to_string(),
        provider_amount: if is_refund {
            line.gross.saturating_abs()
        } else {
            line.gross
        },
        local_amount: if is_refund {
            local_refund_amount
        } else {
            order.map(|o| o.amount)
        },
        fee: if line.kind == LineKind::Payment {
            fee_check(line, settings)
        } else {
            None
        },
    }
}

impl Comparison {
    fn fmt(&self, minor: i64) -> String {
        self.currency.format_minor(minor)
    }

    fn fmt_milli(&self, milli: i64) -> String {
        if milli % 1000 == 0 {
            self.fmt(milli / 1000)
        } else {
            format_scaled(milli, u32::from(self.currency.exponent()) + 3)
        }
    }

    /// "matched on 订单金额 100.00; fee 0.54 on 应结订单金额 90.00 at 0.60%".
    pub fn describe(&self) -> String {
        let mut s = format!(
            "matched on {} {}",
            self.provider_amount_label,
            self.fmt(self.provider_amount)
        );
        if let Some(f) = &self.fee {
            s.push_str(&format!(
                "; fee {} on {} {} at {}",
                self.fmt_milli(f.charged_milli),
                f.base_label,
                self.fmt(f.base),
                f.schedule(self.currency)
            ));
        }
        s
    }

    /// The same in Chinese: "按 订单金额 100.00 匹配；手续费 0.54，按 应结订单金额 90.00 × 0.60%".
    pub fn describe_zh(&self) -> String {
        let mut s = format!(
            "按 {} {} 匹配",
            self.provider_amount_label,
            self.fmt(self.provider_amount)
        );
        if let Some(f) = &self.fee {
            s.push_str(&format!(
                "；手续费 {}，按 {} {} × {}",
                self.fmt_milli(f.charged_milli),
                f.base_label,
                self.fmt(f.base),
                f.schedule(self.currency)
            ));
        }
        s
    }

    /// The fee variance in words: "fee 0.60 charged on 应结订单金额 90.00 at 0.60% (expected
    /// 0.54) differs by 0.06 (tolerance 0.01)".
    pub fn describe_fee_variance(&self) -> Option<String> {
        let f = self.fee.as_ref()?;
        Some(format!(
            "fee {} charged on {} {} at {} (expected {}) differs by {} (tolerance {})",
            self.fmt_milli(f.charged_milli),
            f.base_label,
            self.fmt(f.base),
            f.schedule(self.currency),
            self.fmt_milli(f.expected_milli),
            self.fmt_milli(f.difference_milli()),
            self.fmt(f.tolerance_minor)
        ))
    }

    /// The same in Chinese: "手续费 0.60（按 应结订单金额 90.00 × 0.60%）与应收 0.54 相差 0.06
    /// （容差 0.01）".
    pub fn describe_fee_variance_zh(&self) -> Option<String> {
        let f = self.fee.as_ref()?;
        Some(format!(
            "手续费 {}（按 {} {} × {}）与应收 {} 相差 {}（容差 {}）",
            self.fmt_milli(f.charged_milli),
            f.base_label,
            self.fmt(f.base),
            f.schedule(self.currency),
            self.fmt_milli(f.expected_milli),
            self.fmt_milli(f.difference_milli()),
            self.fmt(f.tolerance_minor)
        ))
    }
}

impl MatchResult {
    /// What an outcome with a statement line compared (`None` for an outcome without a line).
    /// For a matched line this says which amounts agreed: the JSON report and the detail pane
    /// show it.
    pub fn comparison(
        outcome: &Outcome,
        input: &MatchInput,
        settings: &MatchSettings,
    ) -> Option<Comparison> {
        let line = input.lines.get(outcome.line? as usize)?;
        let order = outcome.order.and_then(|i| input.orders.get(i as usize));
        let refund = outcome.refund.and_then(|i| input.refunds.get(i as usize));
        Some(compare(
            outcome.rule,
            line,
            order,
            refund.map(|r| r.amount),
            settings,
        ))
    }
}

/// Parts per million as a percentage with at least two decimals: 6_000 → "0.60%".
fn rate_percent(ppm: i64) -> String {
    let s = format_scaled(ppm, 4);
    let (int, frac) = s.split_once('.').unwrap_or((s.as_str(), ""));
    let mut frac = frac.trim_end_matches('0').to_string();
    while frac.len() < 2 {
        frac.push('0');
    }
    format!("{int}.{frac}%")
}

#[cfg(test)]
mod tests {
    use super::rate_percent;
    use crate::discrepancy::OutcomeClass;
    use crate::domain::{LineKind, Order, OrderStatus, Provider, SourceRef, StatementLine};
    use crate::matcher::{match_day, FeeRule, MatchInput, MatchResult, MatchSettings};
    use crate::money::Currency;
    use chrono::{TimeZone, Utc};

    fn input(fee_base: Option<i64>, fee_milli: i64) -> (MatchInput, MatchSettings) {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap();
        let line = StatementLine {
            provider: Provider::Wechat,
            account: "wechat-main".into(),
            provider_txn_id: "4200000001".into(),
            merchant_order_no: Some("SO-1".into()),
            kind: LineKind::Payment,
            gross: 10_000,
            fee_milli,
            net: 9_000 - fee_milli / 1000,
            currency: Currency::CNY,
            provider_time: at,
            provider_refund_id: None,
            merchant_refund_no: None,
            provider_status: "SUCCESS".into(),
            source: SourceRef {
                file: "bill.csv".into(),
                line: 2,
            },
            payment_intent_id: None,
            presentment: None,
            fee_base,
        };
        let order = Order {
            order_no: "SO-1".into(),
            provider: Provider::Wechat,
            provider_txn_id: None,
            amount: 10_000,
            currency: Currency::CNY,
            status: OrderStatus::Paid,
            created_at: at,
            paid_at: Some(at),
            customer_ref: None,
        };
        let settings = MatchSettings {
            fee_rules: vec![FeeRule {
                currency: Currency::CNY,
                rate_ppm: 6_000,
                fixed_minor: 0,
            }],
            ..MatchSettings::default()
        };
        let input = MatchInput {
            lines: vec![line],
            orders: vec![order],
            ..MatchInput::default()
        };
        (input, settings)
    }

    #[test]
    fn fee_is_checked_on_the_fee_base_not_the_gross() {
        let (i, s) = input(Some(9_000), 54_000);
        assert_eq!(match_day(&i, &s).outcomes[0].class, OutcomeClass::Matched);
        // The same fee on a line without a separate base is checked on the gross (0.60).
        let (i, s) = input(None, 54_000);
        let r = match_day(&i, &s);
        assert_eq!(r.outcomes[0].class, OutcomeClass::FeeVariance);
        let d = MatchResult::discrepancy(&r.outcomes[0], &i, &s);
        assert_eq!(d.difference, -6);
        assert!(
            d.explanation.starts_with(
                "fee 0.54 charged on 应结订单金额 100.00 at 0.60% (expected 0.60) differs by -0.06"
            ),
            "{}",
            d.explanation
        );
    }

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(rate_percent(6_000), "0.60%");
        assert_eq!(rate_percent(29_000), "2.90%");
        assert_eq!(rate_percent(3_800), "0.38%");
        assert_eq!(rate_percent(1_250), "0.125%");
        assert_eq!(rate_percent(0), "0.00%");
    }
}
