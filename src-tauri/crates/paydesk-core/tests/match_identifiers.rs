//! Issue 14 points 5 and 6: Stripe identifiers and presentment currencies, and Alipay refunds
//! without a refund request number, through `match_day`.

use chrono::{DateTime, TimeZone, Utc};
use paydesk_core::{
    match_day, BillDate, Currency, LineKind, LocalRefund, MatchInput, MatchResult, MatchRule,
    MatchSettings, Money, Order, OutcomeClass, Provider, SourceRef, StatementLine,
};
use paydesk_core::{OrderStatus, RefundOrigin};

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, h, 0, 0)
        .single()
        .expect("time")
}

fn window() -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some(
        BillDate::parse("2026-11-22")
            .expect("date")
            .utc_bounds(chrono_tz::UTC),
    )
}

fn stripe_line(ch: &str, pi: Option<&str>, order: Option<&str>, usd: i64) -> StatementLine {
    let mut l = base_line(Provider::Stripe, "stripe-main", "charge");
    l.provider_txn_id = ch.into();
    l.merchant_order_no = order.map(Into::into);
    l.gross = usd;
    l.net = usd;
    l.currency = Currency::USD;
    l.payment_intent_id = pi.map(Into::into);
    l
}

/// A line built through serde, so fields other work adds with `#[serde(default)]` need no
/// mention here.
fn base_line(provider: Provider, account: &str, status: &str) -> StatementLine {
    serde_json::from_value(serde_json::json!({
        "provider": provider,
        "account": account,
        "provider_txn_id": "",
        "merchant_order_no": null,
        "kind": LineKind::Payment,
        "gross": 0,
        "fee_milli": 0,
        "net": 0,
        "currency": Currency::USD,
        "provider_time": at(10),
        "provider_refund_id": null,
        "merchant_refund_no": null,
        "provider_status": status,
        "source": SourceRef { file: "statement.csv".into(), line: 2 },
    }))
    .expect("line")
}

fn order(no: &str, amount: i64, currency: Currency) -> Order {
    Order {
        order_no: no.into(),
        provider: Provider::Stripe,
        provider_txn_id: None,
        amount,
        currency,
        status: OrderStatus::Paid,
        created_at: at(9),
        paid_at: Some(at(9)),
        customer_ref: None,
    }
}

fn run(lines: Vec<StatementLine>, orders: Vec<Order>) -> (MatchResult, MatchInput) {
    let input = MatchInput {
        lines,
        orders,
        window: window(),
        ..MatchInput::default()
    };
    (match_day(&input, &MatchSettings::default()), input)
}

fn only(result: &MatchResult) -> (OutcomeClass, MatchRule) {
    assert_eq!(result.outcomes.len(), 1, "{:?}", result.outcomes);
    (result.outcomes[0].class, result.outcomes[0].rule)
}

#[test]
fn charge_id_then_payment_intent_then_customer_ref() {
    // The order stores the charge id.
    let mut o = order("SO-1", 2500, Currency::USD);
    o.provider_txn_id = Some("ch_1".into());
    let (r, _) = run(vec![stripe_line("ch_1", Some("pi_1"), None, 2500)], vec![o]);
    assert_eq!(only(&r), (OutcomeClass::Matched, MatchRule::ProviderTxnId));

    // The order stores the PaymentIntent id (most modern shops).
    let mut o = order("SO-2", 2500, Currency::USD);
    o.provider_txn_id = Some("pi_2".into());
    let (r, _) = run(vec![stripe_line("ch_2", Some("pi_2"), None, 2500)], vec![o]);
    assert_eq!(
        only(&r),
        (OutcomeClass::Matched, MatchRule::PaymentIntentId)
    );

    // A metadata order number that names no order falls back to the ids too.
    let mut o = order("SO-3", 2500, Currency::USD);
    o.provider_txn_id = Some("pi_3".into());
    let (r, _) = run(
        vec![stripe_line("ch_3", Some("pi_3"), Some("unknown"), 2500)],
        vec![o],
    );
    assert_eq!(
        only(&r),
        (OutcomeClass::Matched, MatchRule::PaymentIntentId)
    );

    // Only the customer reference names the PaymentIntent.
    let mut o = order("SO-4", 2500, Currency::USD);
    o.customer_ref = Some("pi_4".into());
    let (r, _) = run(vec![stripe_line("ch_4", Some("pi_4"), None, 2500)], vec![o]);
    assert_eq!(only(&r), (OutcomeClass::Matched, MatchRule::CustomerRef));

    // The metadata order number still comes first.
    let mut o = order("SO-5", 2500, Currency::USD);
    o.provider_txn_id = Some("pi_5".into());
    let (r, _) = run(
        vec![stripe_line("ch_5", Some("pi_5"), Some("SO-5"), 2500)],
        vec![o],
    );
    assert_eq!(
        only(&r),
        (OutcomeClass::Matched, MatchRule::MerchantOrderNo)
    );
}

#[test]
fn presentment_currency_matches_on_the_customer_facing_amount() {
    let kwd = Currency::parse("KWD").expect("KWD");
    // JPY 3000 settled as USD 20.10; KWD 12.345 settled as USD 40.12.
    let mut jpy = stripe_line("ch_j", None, Some("SO-J"), 2010);
    jpy.presentment = Some(Money::new(3000, Currency::JPY));
    let mut kw = stripe_line("ch_k", None, Some("SO-K"), 4012);
    kw.presentment = Some(Money::new(12345, kwd));
    let (r, _) = run(
        vec![jpy, kw],
        vec![
            order("SO-J", 3000, Currency::JPY),
            order("SO-K", 12345, kwd),
        ],
    );
    assert!(
        r.outcomes.iter().all(|o| o.class == OutcomeClass::Matched),
        "{:?}",
        r.outcomes
    );
    assert_eq!(r.outcomes.len(), 2);
}

#[test]
fn presentment_amount_mismatch_shows_settlement_and_rate() {
    let mut jpy = stripe_line("ch_j", None, Some("SO-J"), 2010);
    jpy.presentment = Some(Money::new(3100, Currency::JPY));
    let (r, input) = run(vec![jpy], vec![order("SO-J", 3000, Currency::JPY)]);
    assert_eq!(
        only(&r),
        (OutcomeClass::AmountMismatch, MatchRule::MerchantOrderNo)
    );
    let d = MatchResult::discrepancy(&r.outcomes[0], &input, &MatchSettings::default());
    assert_eq!(d.difference, 100);
    assert_eq!(d.currency, Currency::JPY);
    assert_eq!(d.provider_amount, Some(3100));
    assert_eq!(d.local_amount, Some(3000));
    assert!(d.explanation.contains("USD 20.10"), "{}", d.explanation);
    // 20.10 / 3100 = 0.006483870...
    assert!(d.explanation.contains("0.006484"), "{}", d.explanation);
}

#[test]
fn settlement_currency_without_presentment_is_still_a_currency_mismatch() {
    let (r, _) = run(
        vec![stripe_line("ch_j", None, Some("SO-J"), 2010)],
        vec![order("SO-J", 3000, Currency::JPY)],
    );
    assert_eq!(
        only(&r),
        (OutcomeClass::CurrencyMismatch, MatchRule::MerchantOrderNo)
    );
}

fn alipay_refund_line(refund_no: Option<&str>, yuan_fen: i64) -> StatementLine {
    let mut l = base_line(Provider::Alipay, "alipay-main", "退款");
    l.provider_txn_id = "2026112222001".into();
    l.merchant_order_no = Some("SO-100".into());
    l.kind = LineKind::Refund;
    l.gross = -yuan_fen;
    l.net = -yuan_fen;
    l.currency = Currency::CNY;
    l.provider_time = at(12);
    l.merchant_refund_no = refund_no.map(Into::into);
    l
}

fn local_refund(no: &str, amount: i64, when: DateTime<Utc>) -> LocalRefund {
    LocalRefund {
        refund_no: no.into(),
        order_no: "SO-100".into(),
        provider: Provider::Alipay,
        amount,
        currency: Currency::CNY,
        refunded_at: when,
        provider_refund_id: None,
        origin: RefundOrigin::Mirror,
    }
}

fn run_refunds(line: StatementLine, refunds: Vec<LocalRefund>) -> MatchResult {
    let input = MatchInput {
        lines: vec![line],
        refunds,
        window: window(),
        ..MatchInput::default()
    };
    match_day(&input, &MatchSettings::default())
}

#[test]
fn alipay_refund_without_request_number_matches_by_order_amount_day() {
    for no in [None, Some(""), Some("SO-100")] {
        let r = run_refunds(
            alipay_refund_line(no, 500),
            vec![local_refund("RF-9", 500, at(11))],
        );
        assert_eq!(
            only(&r),
            (OutcomeClass::Matched, MatchRule::OrderAmountDay),
            "{no:?}"
        );
    }
}

#[test]
fn alipay_refund_fallback_needs_amount_and_day() {
    // Another amount: not the same refund.
    let r = run_refunds(
        alipay_refund_line(None, 500),
        vec![local_refund("RF-9", 400, at(11))],
    );
    let mut c: Vec<_> = r.outcomes.iter().map(|o| o.class).collect();
    c.sort();
    assert_eq!(
        c,
        vec![
            OutcomeClass::RefundOnlyAtProvider,
            OutcomeClass::RefundOnlyLocal
        ]
    );
    // Another day (two days earlier, not carried over): not matched.
    let r = run_refunds(
        alipay_refund_line(None, 500),
        vec![local_refund("RF-9", 500, at(0) - chrono::Duration::days(2))],
    );
    assert_eq!(only(&r).0, OutcomeClass::RefundOnlyAtProvider);
}
