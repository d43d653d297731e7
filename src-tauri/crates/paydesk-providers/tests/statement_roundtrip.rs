//! parse(write(lines)) == lines for every field each format carries (proptest).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use paydesk_core::domain::{BillDate, LineKind, Provider, SourceRef, StatementLine};
use paydesk_core::money::Currency;
use paydesk_providers::statement::*;
use proptest::prelude::*;

const AMOUNT: i64 = 10_000_000_000_000;

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9_.-]{0,24}"
}

/// Ids with characters that need CSV quoting (comma, quote) and non-ASCII text.
fn rich_id() -> impl Strategy<Value = String> {
    prop_oneof![id(), "[A-Za-z0-9][A-Za-z0-9 ,\"订单号-]{0,12}[A-Za-z0-9]"]
}

fn whole_second_time() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..4_102_444_800i64).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..4_102_444_800i64, 0u32..1_000_000_000)
        .prop_map(|(s, n)| Utc.timestamp_opt(s, n).unwrap())
}

#[allow(clippy::too_many_arguments)]
fn line(
    provider: Provider,
    kind: LineKind,
    txn: String,
    order: Option<String>,
    gross: i64,
    fee_milli: i64,
    net: i64,
    currency: Currency,
    time: DateTime<Utc>,
    refund_id: Option<String>,
    refund_no: Option<String>,
    status: &str,
) -> StatementLine {
    StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider,
        account: "acct".into(),
        provider_txn_id: txn.into(),
        merchant_order_no: order.map(Into::into),
        kind,
        gross,
        fee_milli,
        net,
        currency,
        provider_time: time,
        provider_refund_id: refund_id.map(Into::into),
        merchant_refund_no: refund_no.map(Into::into),
        provider_status: status.into(),
        source: SourceRef {
            file: "f".into(),
            line: 0,
        },
        fee_base: None,
    }
}

fn alipay_line() -> impl Strategy<Value = StatementLine> {
    (
        any::<bool>(),
        id(),
        proptest::option::of(id()),
        0..AMOUNT,
        -1_000_000_000i64..1_000_000_000,
        -AMOUNT..AMOUNT,
        whole_second_time(),
        proptest::option::of(id()),
    )
        .prop_map(|(refund, txn, order, amount, fee, net, time, refund_no)| {
            let (kind, gross, status) = if refund {
                (LineKind::Refund, -amount, "退款")
            } else {
                (LineKind::Payment, amount, "交易")
            };
            line(
                Provider::Alipay,
                kind,
                txn,
                order,
                gross,
                fee,
                net,
                Currency::CNY,
                time,
                None,
                refund_no,
                status,
            )
        })
}

fn wechat_line(currency: Currency) -> impl Strategy<Value = StatementLine> {
    (
        any::<bool>(),
        id(),
        proptest::option::of(id()),
        0..AMOUNT,
        0..AMOUNT,
        -1_000_000_000i64..1_000_000_000,
        whole_second_time(),
        proptest::option::of("R[A-Za-z0-9]{1,20}"),
        proptest::option::of("N[A-Za-z0-9]{1,20}"),
    )
        .prop_map(move |(refund, txn, order, a, b, fee, time, rid, rno)| {
            let fee_minor = paydesk_core::money::milli_to_minor_rounded(fee);
            if refund {
                // WeChat writes refunds as positive 退款金额: net + fee ≤ 0.
                line(
                    Provider::Wechat,
                    LineKind::Refund,
                    txn,
                    order,
                    -a,
                    fee,
                    -b - fee_minor,
                    currency,
                    time,
                    rid,
                    rno,
                    "REFUND",
                )
            } else {
                line(
                    Provider::Wechat,
                    LineKind::Payment,
                    txn,
                    order,
                    a,
                    fee,
                    b - fee_minor,
                    currency,
                    time,
                    None,
                    None,
                    "SUCCESS",
                )
            }
        })
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::CNY),
        Just(Currency::USD),
        Just(Currency::JPY),
        Just(Currency::parse("KWD").unwrap())
    ]
}

fn stripe_line() -> impl Strategy<Value = StatementLine> {
    (
        0usize..7,
        rich_id(),
        proptest::option::of(rich_id()),
        -AMOUNT..AMOUNT,
        -1_000_000_000i64..1_000_000_000,
        -AMOUNT..AMOUNT,
        currency(),
        whole_second_time(),
        proptest::option::of(id()),
        proptest::option::of(rich_id()),
    )
        .prop_map(|(k, txn, order, gross, fee, net, cur, time, rid, rno)| {
            let (kind, status) = [
                (LineKind::Payment, "charge"),
                (LineKind::Refund, "refund"),
                (LineKind::Fee, "fee"),
                (LineKind::Payout, "payout"),
                (LineKind::Adjustment, "dispute"),
                (LineKind::Adjustment, "other_adjustment"),
                (LineKind::Adjustment, "refund_failure"),
            ][k];
            let (gross, rid) = if kind == LineKind::Refund {
                (-gross.abs(), rid)
            } else {
                (gross, None)
            };
            line(
                Provider::Stripe,
                kind,
                txn,
                order,
                gross,
                fee,
                net,
                cur,
                time,
                rid,
                rno,
                status,
            )
        })
}

fn normalized_line() -> impl Strategy<Value = StatementLine> {
    (
        (
            0usize..4,
            0usize..5,
            rich_id(),
            proptest::option::of(rich_id()),
        ),
        (
            -AMOUNT..AMOUNT,
            -1_000_000_000i64..1_000_000_000,
            -AMOUNT..AMOUNT,
            currency(),
            any_time(),
        ),
        (
            proptest::option::of(rich_id()),
            proptest::option::of(rich_id()),
            proptest::option::of(rich_id()),
            rich_id(),
        ),
    )
        .prop_map(
            |((p, k, txn, order), (gross, fee, net, cur, time), (rid, rno, status, account))| {
                let kind = [
                    LineKind::Payment,
                    LineKind::Refund,
                    LineKind::Fee,
                    LineKind::Adjustment,
                    LineKind::Payout,
                ][k];
                let gross = if kind == LineKind::Refund {
                    -gross.abs()
                } else {
                    gross
                };
                let mut l = line(
                    Provider::ALL[p],
                    kind,
                    txn,
                    order,
                    gross,
                    fee,
                    net,
                    cur,
                    time,
                    rid,
                    rno,
                    "",
                );
                l.provider_status = status.unwrap_or_default().into();
                l.account = account.into();
                l
            },
        )
}

/// Sets the fields a parse fills from the context and the file position.
fn expected(
    mut lines: Vec<StatementLine>,
    first_line: u64,
    file: &str,
    account: Option<&str>,
) -> Vec<StatementLine> {
    for (i, l) in lines.iter_mut().enumerate() {
        l.source = SourceRef {
            file: file.into(),
            line: first_line + i as u64,
        };
        if let Some(a) = account {
            l.account = a.into();
        }
    }
    lines
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn alipay_zip_round_trip(lines in proptest::collection::vec(alipay_line(), 0..30)) {
        let date = BillDate::parse("2024-05-01").unwrap();
        let zip = write_alipay_bill_zip(&lines, "2088021109625633", date).unwrap();
        let ctx = ParseContext::new("acct", Provider::Alipay, "b.zip");
        let p = parse_statement(&zip, &StatementFormat::AlipayTradeBill, &ctx).unwrap();
        prop_assert_eq!(p.lines, expected(lines.clone(), 6, "b.zip", None));
        // The bare CSV too.
        let mut csv = Vec::new();
        write_alipay_bill_csv(&lines, "2088021109625633", date, &mut csv).unwrap();
        prop_assert_eq!(detect_format(&csv), Some(StatementFormat::AlipayTradeBill));
        let p = parse_statement(&csv, &StatementFormat::AlipayTradeBill, &ctx).unwrap();
        prop_assert_eq!(p.lines, expected(lines, 6, "b.zip", None));
    }

    #[test]
    fn wechat_round_trip(lines in currency().prop_flat_map(|c| proptest::collection::vec(wechat_line(c), 0..30))) {
        // 应结订单金额 (net + fee) is the fee base when it differs from 订单金额 (gross).
        let lines: Vec<StatementLine> = lines
            .into_iter()
            .map(|mut l| {
                let settle = l.net + paydesk_core::money::milli_to_minor_rounded(l.fee_milli);
                if l.kind == LineKind::Payment && settle != l.gross {
                    l.fee_base = Some(settle);
                }
                l
            })
            .collect();
        let mut out = Vec::new();
        write_wechat_bill(&lines, &mut out).unwrap();
        let ctx = ParseContext::new("acct", Provider::Wechat, "w.csv");
        prop_assert_eq!(detect_format(&out), Some(StatementFormat::WechatTradeBill));
        let p = parse_statement(&out, &StatementFormat::WechatTradeBill, &ctx).unwrap();
        prop_assert_eq!(p.summary.map(|s| s.total_count), Some(lines.len() as u64));
        prop_assert_eq!(p.lines, expected(lines, 2, "w.csv", None));
    }

    #[test]
    fn stripe_round_trip(lines in proptest::collection::vec(stripe_line(), 0..30)) {
        let mut out = Vec::new();
        write_stripe_report(&lines, &mut out).unwrap();
        let ctx = ParseContext::new("acct", Provider::Stripe, "s.csv");
        prop_assert_eq!(detect_format(&out), Some(StatementFormat::StripeBalanceReport));
        let p = parse_statement(&out, &StatementFormat::StripeBalanceReport, &ctx).unwrap();
        // Quoted ids never span lines, so row i is on line i + 2.
        prop_assert_eq!(p.lines, expected(lines, 2, "s.csv", None));
    }

    #[test]
    fn normalized_round_trip(lines in proptest::collection::vec(normalized_line(), 0..30)) {
        let mut out = Vec::new();
        write_normalized(&lines, &mut out).unwrap();
        let ctx = ParseContext::new("ctx-acct", Provider::Manual, "n.csv");
        prop_assert_eq!(detect_format(&out), Some(StatementFormat::Normalized));
        let p = parse_statement(&out, &StatementFormat::Normalized, &ctx).unwrap();
        prop_assert_eq!(p.lines, expected(lines, 2, "n.csv", None));
    }
}

#[test]
fn writers_reject_what_the_format_cannot_hold() {
    let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let fee = line(
        Provider::Alipay,
        LineKind::Fee,
        "T".into(),
        None,
        0,
        0,
        0,
        Currency::CNY,
        t,
        None,
        None,
        "",
    );
    let date = BillDate::parse("2024-01-01").unwrap();
    let e =
        write_alipay_bill_zip(std::slice::from_ref(&fee), "2088021109625633", date).unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.reason.contains("fee"), "{e}");
    let usd = line(
        Provider::Alipay,
        LineKind::Payment,
        "T".into(),
        None,
        1,
        0,
        1,
        Currency::USD,
        t,
        None,
        None,
        "",
    );
    assert!(write_alipay_bill_zip(std::slice::from_ref(&usd), "p", date).is_err());
    let mut emoji = usd.clone();
    emoji.currency = Currency::CNY;
    emoji.merchant_order_no = Some("🙂".into());
    assert!(write_alipay_bill_zip(&[emoji], "p", date)
        .unwrap_err()
        .reason
        .contains("GBK"));
    let mut mixed = vec![usd.clone(), usd];
    mixed[1].currency = Currency::CNY;
    assert!(write_wechat_bill(&mixed, Vec::new()).is_err());
}
