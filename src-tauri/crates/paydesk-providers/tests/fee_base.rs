//! Fees are checked on the amount the provider charges them on: a WeChat trade bill in the
//! real layout with a 免充值代金券 order (fixtures/fee_base/README.md says where it comes from).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use paydesk_core::discrepancy::OutcomeClass;
use paydesk_core::domain::{LineKind, Order, OrderStatus, Provider, StatementLine};
use paydesk_core::matcher::{match_day, FeeRule, MatchInput, MatchResult, MatchSettings};
use paydesk_core::money::Currency;
use paydesk_providers::statement::*;
use std::path::PathBuf;

const COUPON_ORDER: &str = "autotest_20190219181930_76386";

fn bill(edit: impl Fn(String) -> String) -> Vec<StatementLine> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fixtures/fee_base/wechat_coupon_20190219_ALL.csv");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let ctx = ParseContext::new(
        "wechat-main",
        Provider::Wechat,
        "wechat_coupon_20190219_ALL.csv",
    );
    parse_statement(
        edit(text).as_bytes(),
        &StatementFormat::WechatTradeBill,
        &ctx,
    )
    .unwrap()
    .lines
}

fn coupon_line(lines: &[StatementLine]) -> StatementLine {
    lines
        .iter()
        .find(|l| l.merchant_order_no.as_deref() == Some(COUPON_ORDER))
        .expect("the coupon row")
        .clone()
}

/// Matches the coupon line alone against an order of 100.00 under a 0.60% fee schedule.
fn match_coupon(line: StatementLine) -> (MatchInput, MatchSettings, MatchResult) {
    let order = Order {
        order_no: COUPON_ORDER.into(),
        provider: Provider::Wechat,
        provider_txn_id: None,
        amount: 10_000,
        currency: Currency::CNY,
        status: OrderStatus::Paid,
        created_at: line.provider_time,
        paid_at: Some(line.provider_time),
        customer_ref: None,
    };
    let input = MatchInput {
        lines: vec![line],
        orders: vec![order],
        ..MatchInput::default()
    };
    let settings = MatchSettings {
        fee_rules: vec![FeeRule {
            currency: Currency::CNY,
            rate_ppm: 6_000,
            fixed_minor: 0,
        }],
        ..MatchSettings::default()
    };
    let result = match_day(&input, &settings);
    (input, settings, result)
}

#[test]
fn coupon_row_parses_with_order_amount_as_gross_and_settlement_as_fee_base() {
    let l = coupon_line(&bill(|t| t));
    assert_eq!(l.kind, LineKind::Payment);
    assert_eq!(l.gross, 10_000, "gross is 订单金额");
    assert_eq!(l.fee_milli, 54_000);
    assert_eq!(l.net, 9_000 - 54, "net is 应结订单金额 − 手续费");
    assert_eq!(l.fee_base, Some(9_000), "fee base is 应结订单金额");
    assert_eq!(l.fee_base_minor(), 9_000);
}

#[test]
fn coupon_order_with_fee_on_settlement_amount_is_a_match() {
    let (input, settings, result) = match_coupon(coupon_line(&bill(|t| t)));
    assert_eq!(result.outcomes.len(), 1);
    assert_eq!(result.outcomes[0].class, OutcomeClass::Matched);
    let c = MatchResult::comparison(&result.outcomes[0], &input, &settings).expect("compared");
    assert_eq!(c.provider_amount_label, "订单金额");
    assert_eq!(c.provider_amount, 10_000);
    assert_eq!(c.local_amount, Some(10_000));
    let fee = c.fee.as_ref().expect("fee checked");
    assert_eq!(fee.base_label, "应结订单金额");
    assert_eq!(fee.base, 9_000);
    assert_eq!(fee.expected_milli, 54_000);
    assert_eq!(
        c.describe(),
        "matched on 订单金额 100.00; fee 0.54 on 应结订单金额 90.00 at 0.60%"
    );
    assert_eq!(
        c.describe_zh(),
        "按 订单金额 100.00 匹配；手续费 0.54，按 应结订单金额 90.00 × 0.60%"
    );
}

#[test]
fn wrong_fee_on_settlement_amount_is_a_fee_variance_naming_the_base() {
    // 0.60 charged: right for 订单金额 100.00, wrong for 应结订单金额 90.00 (expected 0.54).
    let lines = bill(|t| {
        t.replace("`0.54000,`0.60%,`100.00", "`0.60000,`0.60%,`100.00")
            .replace("`0.57,`100.11", "`0.63,`100.11")
    });
    let (input, settings, result) = match_coupon(coupon_line(&lines));
    assert_eq!(result.outcomes[0].class, OutcomeClass::FeeVariance);
    let d = MatchResult::discrepancy(&result.outcomes[0], &input, &settings);
    assert_eq!(d.difference, 6, "0.60 charged − 0.54 expected");
    assert!(
        d.explanation
            .starts_with("fee 0.60 charged on 应结订单金额 90.00 at 0.60% (expected 0.54) differs by 0.06 (tolerance 0.01); matched on 订单金额 100.00"),
        "{}",
        d.explanation
    );
}

#[test]
fn coupon_order_with_a_different_order_amount_is_an_amount_mismatch_on_order_amount() {
    let (mut input, settings, _) = match_coupon(coupon_line(&bill(|t| t)));
    input.orders[0].amount = 9_000; // our order says 90.00: the customer's order was 100.00
    let result = match_day(&input, &settings);
    assert_eq!(result.outcomes[0].class, OutcomeClass::AmountMismatch);
    let d = MatchResult::discrepancy(&result.outcomes[0], &input, &settings);
    assert_eq!(d.difference, 1_000);
    assert!(
        d.explanation.contains("订单金额 100.00"),
        "{}",
        d.explanation
    );
}

#[test]
fn rows_without_coupons_keep_the_gross_as_fee_base() {
    let lines = bill(|t| t);
    let plain = lines
        .iter()
        .find(|l| l.merchant_order_no.as_deref() == Some("autotest_20190219114635_74639"))
        .unwrap();
    assert_eq!(plain.fee_base, None);
    assert_eq!(plain.fee_base_minor(), plain.gross);
    // A 充值代金券 (recharge coupon) leaves 应结订单金额 = 订单金额: no separate base.
    let recharge = lines
        .iter()
        .find(|l| l.merchant_order_no.as_deref() == Some("autotest_20190219185337_56967"))
        .unwrap();
    assert_eq!(recharge.fee_base, None);
}

#[test]
fn coupon_line_survives_a_write_parse_round_trip() {
    let lines = bill(|t| t);
    let mut out = Vec::new();
    write_wechat_bill(&lines, &mut out).unwrap();
    let ctx = ParseContext::new(
        "wechat-main",
        Provider::Wechat,
        "wechat_coupon_20190219_ALL.csv",
    );
    let again = parse_statement(&out, &StatementFormat::WechatTradeBill, &ctx).unwrap();
    assert_eq!(coupon_line(&again.lines), coupon_line(&lines));
}
