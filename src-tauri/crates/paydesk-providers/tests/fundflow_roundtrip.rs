//! Writers and parsers agree: flows written in a provider's layout parse back to the same
//! flows (Alipay ZIP and CSV, WeChat bill, Stripe itemized CSV and API pages).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, NaiveDate, Utc};
use paydesk_core::domain::Provider;
use paydesk_core::money::Currency;
use paydesk_core::settlement::{FlowKind, FundFlow, Payout, PayoutStatus};
use paydesk_providers::fundflow::*;
use proptest::prelude::*;

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    // 2015-01-01 .. 2030-01-01, whole seconds (the files carry seconds).
    (1_420_070_400i64..1_893_456_000).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_,-]{0,23}"
}

fn remark() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("退票".to_string()),
        Just("服务费[2012122923922029]".to_string()),
        Just("a, b \"c\"".to_string()),
        "[a-z0-9][a-z0-9 ]{0,8}[a-z0-9]",
    ]
}

/// A provider's words for each kind (the parsers map them back to the kind).
fn words(provider: Provider, kind: FlowKind) -> Vec<&'static str> {
    use FlowKind::*;
    match (provider, kind) {
        (Provider::Alipay, Payment) => vec!["在线支付", "交易", "交易付款", "交易收款"],
        (Provider::Alipay, Refund) => vec!["交易退款", "退款"],
        (Provider::Alipay, Fee) => vec!["收费", "服务费", "交易服务费", "手续费"],
        (Provider::Alipay, Payout) => vec!["提现"],
        (Provider::Alipay, PayoutReversal) => vec!["提现退回", "提现失败"],
        (Provider::Alipay, Transfer) => vec!["转账", "充值"],
        (Provider::Wechat, Payment) => vec!["交易"],
        (Provider::Wechat, Refund) => vec!["退款"],
        (Provider::Wechat, Fee) => vec!["扣除手续费", "扣除交易手续费", "手续费"],
        (Provider::Wechat, Payout) => vec!["提现"],
        (Provider::Wechat, PayoutReversal) => vec!["提现退票"],
        (Provider::Wechat, Transfer) => vec!["充值", "转账"],
        _ => vec!["其他", "保证金", "营销补贴"],
    }
}

const CN_KINDS: [FlowKind; 7] = [
    FlowKind::Payment,
    FlowKind::Refund,
    FlowKind::Fee,
    FlowKind::Payout,
    FlowKind::PayoutReversal,
    FlowKind::Transfer,
    FlowKind::Adjustment,
];

/// An Alipay or WeChat row as its parser gives it (CNY, no fee, `word [/ remark]`).
fn cn_flow(provider: Provider) -> impl Strategy<Value = FundFlow> {
    (
        (0..CN_KINDS.len(), any::<prop::sample::Index>(), remark()),
        id(),
        proptest::option::of(id()),
        proptest::option::of(id()),
        time(),
        (1i64..10_000_000_000, any::<bool>()),
        proptest::option::of(-10_000_000_000i64..10_000_000_000),
    )
        .prop_map(
            move |((k, w, remark), flow_id, source, order, t, (amount, negative), balance)| {
                let kind = CN_KINDS[k];
                let ws = words(provider, kind);
                let gross = if negative { -amount } else { amount };
                let word = ws[w.index(ws.len())];
                FundFlow {
                    provider,
                    account: "acct".into(),
                    flow_id,
                    source_id: source,
                    order_no: order,
                    payout_id: None,
                    kind,
                    booked_at: t,
                    currency: Currency::CNY,
                    gross,
                    fee: 0,
                    net: gross,
                    balance_after: balance,
                    description: if remark.is_empty() {
                        word.to_string()
                    } else {
                        format!("{word} / {remark}")
                    },
                    line: 0,
                }
            },
        )
}

fn numbered(mut flows: Vec<FundFlow>, first_line: u64) -> Vec<FundFlow> {
    for (i, f) in flows.iter_mut().enumerate() {
        f.line = first_line + i as u64;
    }
    flows
}

const ALL_KINDS: [FlowKind; 9] = [
    FlowKind::Payment,
    FlowKind::Refund,
    FlowKind::Fee,
    FlowKind::Payout,
    FlowKind::PayoutReversal,
    FlowKind::Dispute,
    FlowKind::DisputeReversal,
    FlowKind::Transfer,
    FlowKind::Adjustment,
];

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::USD),
        Just(Currency::JPY),
        Just(Currency::parse("KWD").unwrap()),
        Just(Currency::parse("EUR").unwrap()),
    ]
}

/// A Stripe balance transaction; `with_payout` gives some an automatic payout id.
fn stripe_flow(with_payout: bool) -> impl Strategy<Value = FundFlow> {
    (
        (0..ALL_KINDS.len(), currency(), time()),
        (
            "txn_[A-Za-z0-9]{8,24}",
            proptest::option::of("(ch|re|po|dp)_[A-Za-z0-9]{6,20}"),
        ),
        proptest::option::of("[A-Z]-[0-9]{1,6}"),
        proptest::option::of("po_[A-Za-z0-9]{4}"),
        (-1_000_000_000i64..1_000_000_000, 0i64..1_000_000),
        prop_oneof![
            Just(String::new()),
            "[A-Za-z][A-Za-z0-9 ,()]{0,30}[A-Za-z0-9)]",
        ],
    )
        .prop_map(
            move |((k, currency, t), (flow_id, source), order, payout, (gross, fee), text)| {
                let kind = ALL_KINDS[k];
                // An empty description parses back as the category the writer puts.
                let description = if text.is_empty() {
                    match kind {
                        FlowKind::Payment => "charge",
                        FlowKind::Refund if gross > 0 => "refund_failure",
                        FlowKind::Refund => "refund",
                        FlowKind::Fee => "fee",
                        FlowKind::Payout => "payout",
                        FlowKind::PayoutReversal => "payout_reversal",
                        FlowKind::Dispute => "dispute",
                        FlowKind::DisputeReversal => "dispute_reversal",
                        FlowKind::Transfer => "topup",
                        FlowKind::Adjustment => "risk_reserved_funds",
                    }
                    .to_string()
                } else {
                    text
                };
                FundFlow {
                    provider: Provider::Stripe,
                    account: "acct".into(),
                    flow_id,
                    source_id: source,
                    order_no: order,
                    payout_id: if with_payout { payout } else { None },
                    kind,
                    booked_at: t,
                    currency,
                    gross,
                    fee,
                    net: gross - fee,
                    balance_after: None,
                    description,
                    line: 0,
                }
            },
        )
}

fn payout() -> impl Strategy<Value = Payout> {
    (
        "po_[A-Za-z0-9]{6,24}",
        (1i64..10_000_000_000, currency(), time()),
        (
            0i64..20_000,
            proptest::option::of("[A-Z0-9]{6,16}"),
            any::<bool>(),
        ),
        prop::sample::select(vec![
            PayoutStatus::Pending,
            PayoutStatus::InTransit,
            PayoutStatus::Paid,
            PayoutStatus::Failed,
            PayoutStatus::Canceled,
        ]),
    )
        .prop_map(
            |(payout_id, (amount, currency, created_at), (days, trace_id, automatic), status)| {
                Payout {
                    provider: Provider::Stripe,
                    account: "acct".into(),
                    payout_id,
                    amount,
                    currency,
                    created_at,
                    arrival_date: NaiveDate::from_ymd_opt(2015, 1, 1).unwrap()
                        + chrono::Days::new(days as u64),
                    trace_id,
                    automatic,
                    status,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn alipay_zip_and_csv(flows in prop::collection::vec(cn_flow(Provider::Alipay), 0..20)) {
        let date = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let zip = write_alipay_accountlog_zip("2088021109625633", date, &flows).unwrap();
        let p = parse_fund_flows(&zip, "x.zip", Provider::Alipay, "acct").unwrap();
        let expected = numbered(flows.clone(), 6);
        prop_assert_eq!(&p.flows, &expected);
        prop_assert!(p.summary_checked);
        prop_assert_eq!(p.account_label.as_deref(), Some("20880211096256330156"));
        prop_assert_eq!(p.payouts, payouts_from_flows(&expected));
        let mut csv = Vec::new();
        write_alipay_accountlog_csv("2088021109625633", date, &flows, &mut csv).unwrap();
        let p = parse_fund_flows(&csv, "x.csv", Provider::Alipay, "acct").unwrap();
        prop_assert_eq!(p.flows, expected);
    }

    #[test]
    fn wechat_bill(flows in prop::collection::vec(cn_flow(Provider::Wechat), 0..20)) {
        let text = write_wechat_fundflow_bill(&flows).unwrap();
        let p = parse_fund_flows(text.as_bytes(), "f.csv", Provider::Wechat, "acct").unwrap();
        prop_assert!(p.summary_checked);
        prop_assert_eq!(p.flows, numbered(flows, 2));
    }

    #[test]
    fn stripe_itemized(flows in prop::collection::vec(stripe_flow(true), 0..20)) {
        let text = write_stripe_payout_itemized(&flows).unwrap();
        let p = parse_fund_flows(text.as_bytes(), "r.csv", Provider::Stripe, "acct").unwrap();
        prop_assert_eq!(&p.flows, &numbered(flows.clone(), 2));
        // One payout per automatic payout id, worth what it settles.
        let mut ids: Vec<&str> = flows.iter().filter_map(|f| f.payout_id.as_deref()).collect();
        ids.sort_unstable();
        ids.dedup();
        prop_assert_eq!(p.payouts.len(), ids.len());
        for po in &p.payouts {
            prop_assert!(po.automatic);
            let own: Vec<i64> = flows.iter()
                .filter(|f| f.payout_id.as_deref() == Some(po.payout_id.as_str())
                    && f.kind == FlowKind::Payout && f.source_id.as_deref() == Some(po.payout_id.as_str()))
                .map(|f| -f.net).collect();
            if own.is_empty() {
                let settled: i64 = flows.iter()
                    .filter(|f| f.payout_id.as_deref() == Some(po.payout_id.as_str()))
                    .map(|f| f.net).sum();
                prop_assert_eq!(po.amount, settled);
            } else {
                prop_assert_eq!(Some(&po.amount), own.last());
            }
        }
    }

    #[test]
    fn stripe_balance_transactions_page(flows in prop::collection::vec(stripe_flow(false), 0..20), more in any::<bool>()) {
        let json = write_stripe_balance_transactions_page(&flows, more);
        let (parsed, has_more) = parse_stripe_balance_transactions(json.as_bytes(), "acct").unwrap();
        prop_assert_eq!(has_more, more);
        prop_assert_eq!(parsed, numbered(flows, 1));
    }

    #[test]
    fn stripe_payouts_page(payouts in prop::collection::vec(payout(), 0..20), more in any::<bool>()) {
        let json = write_stripe_payouts_page(&payouts, more);
        let (parsed, has_more) = parse_stripe_payouts(json.as_bytes(), "acct").unwrap();
        prop_assert_eq!(has_more, more);
        prop_assert_eq!(parsed, payouts);
    }
}

#[test]
fn itemized_effective_date_comes_from_the_payouts_given() {
    let t = DateTime::from_timestamp(1_764_000_000, 0).unwrap();
    let flow = FundFlow {
        provider: Provider::Stripe,
        account: "acct".into(),
        flow_id: "txn_1".into(),
        source_id: Some("ch_1".into()),
        order_no: None,
        payout_id: Some("po_1".into()),
        kind: FlowKind::Payment,
        booked_at: t,
        currency: Currency::USD,
        gross: 1000,
        fee: 59,
        net: 941,
        balance_after: None,
        description: "charge".into(),
        line: 2,
    };
    let day = NaiveDate::from_ymd_opt(2025, 11, 28).unwrap();
    let payout = Payout {
        provider: Provider::Stripe,
        account: "acct".into(),
        payout_id: "po_1".into(),
        amount: 941,
        currency: Currency::USD,
        created_at: t,
        arrival_date: day,
        trace_id: None,
        automatic: true,
        status: PayoutStatus::Paid,
    };
    let text = write_stripe_payout_itemized_with(std::slice::from_ref(&flow), &[payout]).unwrap();
    let p = parse_fund_flows(text.as_bytes(), "r.csv", Provider::Stripe, "acct").unwrap();
    assert_eq!(p.payouts[0].arrival_date, day);
    // Without it: midnight after the last movement (2025-11-24 16:00 UTC → the 25th).
    let text = write_stripe_payout_itemized(&[flow]).unwrap();
    let p = parse_fund_flows(text.as_bytes(), "r.csv", Provider::Stripe, "acct").unwrap();
    assert_eq!(
        p.payouts[0].arrival_date,
        NaiveDate::from_ymd_opt(2025, 11, 25).unwrap()
    );
}

#[test]
fn writers_refuse_what_the_layout_cannot_hold() {
    let t = DateTime::from_timestamp(1_764_000_000, 0).unwrap();
    let mut f = FundFlow {
        provider: Provider::Alipay,
        account: "a".into(),
        flow_id: "1".into(),
        source_id: None,
        order_no: None,
        payout_id: None,
        kind: FlowKind::Dispute,
        booked_at: t,
        currency: Currency::CNY,
        gross: -100,
        fee: 0,
        net: -100,
        balance_after: None,
        description: String::new(),
        line: 1,
    };
    let date = NaiveDate::from_ymd_opt(2025, 11, 24).unwrap();
    let e = write_alipay_accountlog_zip("2088021109625633", date, std::slice::from_ref(&f))
        .unwrap_err();
    assert!(e.reason.contains("no dispute rows"), "{e}");
    assert!(write_wechat_fundflow_bill(std::slice::from_ref(&f)).is_err());
    f.kind = FlowKind::Payment;
    f.fee = 3;
    assert!(write_wechat_fundflow_bill(std::slice::from_ref(&f)).is_err());
    f.fee = 0;
    f.gross = 0;
    f.net = 0;
    assert!(
        write_alipay_accountlog_zip("2088021109625633", date, std::slice::from_ref(&f)).is_err()
    );
    f.gross = 5;
    assert!(
        write_stripe_payout_itemized(&[f]).is_err(),
        "net ≠ gross − fee"
    );
}
