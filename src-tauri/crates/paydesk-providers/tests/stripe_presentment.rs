//! Stripe report: the PaymentIntent id and the customer-facing (presentment) amount of a charge
//! settled in another currency (issue 14, point 5).

use paydesk_core::domain::Provider;
use paydesk_core::money::{Currency, Money};
use paydesk_providers::statement::*;
use std::path::Path;

const FIXTURE: &str = "stripe_ids/balance_change_from_activity_itemized_2026-11-22.csv";

fn parse(bytes: &[u8], opts: &ParseOptions) -> Result<ParsedStatement, StatementError> {
    let ctx = ParseContext::new("stripe-main", Provider::Stripe, "r.csv");
    parse_statement_with(bytes, &StatementFormat::StripeBalanceReport, &ctx, opts)
}

fn fixture() -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fixtures")
        .join(FIXTURE);
    std::fs::read(p).expect("fixture")
}

#[test]
fn presentment_and_payment_intent_are_read() {
    let opts = ParseOptions {
        stripe_order_column: "payment_metadata[shop_order]".into(),
        ..ParseOptions::default()
    };
    let p = parse(&fixture(), &opts).expect("parse");
    let kwd = Currency::parse("KWD").expect("KWD");
    let by_order = |no: &str| {
        p.lines
            .iter()
            .find(|l| l.merchant_order_no.as_deref() == Some(no))
            .unwrap_or_else(|| panic!("no line for {no}"))
    };
    // Same currency: no presentment kept.
    assert_eq!(by_order("SO-10041").presentment, None);
    let jpy = by_order("SO-10043");
    assert_eq!((jpy.gross, jpy.currency), (2010, Currency::USD));
    assert_eq!(jpy.presentment, Some(Money::new(3000, Currency::JPY)));
    assert_eq!(
        jpy.payment_intent_id.as_deref(),
        Some("pi_3QxB2cD3eF4gH5iJ2mN8bV7c")
    );
    assert_eq!(
        by_order("SO-10045").presentment,
        Some(Money::new(12345, kwd))
    );
    // The row without metadata still carries its PaymentIntent.
    let pi_only = p.lines.iter().find(|l| l.gross == 120000).expect("line");
    assert_eq!(pi_only.merchant_order_no, None);
    assert_eq!(
        pi_only.payment_intent_id.as_deref(),
        Some("pi_3QxA9kL8mN7oP6qR1pO9nM8l")
    );
}

#[test]
fn reports_without_customer_facing_columns_parse() {
    let csv =
        "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id\n\
               txn_1,2026-11-22 01:00:00,usd,25.00,1.03,23.97,charge,ch_1\n";
    let p = parse(csv.as_bytes(), &ParseOptions::default()).expect("parse");
    assert_eq!(p.lines[0].presentment, None);
    assert_eq!(p.lines[0].payment_intent_id, None);
}

#[test]
fn a_bad_customer_facing_amount_is_an_error_naming_the_column() {
    let csv = "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,customer_facing_amount,customer_facing_currency\n\
               txn_1,2026-11-22 01:00:00,usd,20.10,0.88,19.22,charge,ch_1,30.5,jpy\n";
    let e = parse(csv.as_bytes(), &ParseOptions::default()).expect_err("JPY has no decimals");
    assert!(e.to_string().contains("customer_facing_amount"), "{e}");
}
