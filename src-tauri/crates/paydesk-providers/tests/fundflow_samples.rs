//! The fund-flow fixtures (fixtures/fundflow/, provenance in its README) parse to exactly
//! the values they state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

use chrono::{NaiveDate, TimeZone, Utc};
use paydesk_core::domain::Provider;
use paydesk_core::money::Currency;
use paydesk_core::settlement::{FlowKind, FundFlow, Payout, PayoutStatus};
use paydesk_providers::fundflow::*;
use std::path::PathBuf;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../fixtures/fundflow")
            .join(rel),
    )
    .unwrap()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// (flow_id, source_id, order_no, kind, booked_at UTC, gross, balance_after, description)
type Row<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    FlowKind,
    chrono::DateTime<Utc>,
    i64,
    Option<i64>,
    &'a str,
);

fn check_rows(flows: &[FundFlow], provider: Provider, rows: &[Row], first_line: u64) {
    assert_eq!(flows.len(), rows.len());
    for (i, (f, r)) in flows.iter().zip(rows).enumerate() {
        assert_eq!(f.provider, provider);
        assert_eq!(f.account, "main");
        assert_eq!(f.flow_id, r.0, "row {i}");
        assert_eq!(f.source_id.as_deref(), r.1, "row {i}");
        assert_eq!(f.order_no.as_deref(), r.2, "row {i}");
        assert_eq!(f.kind, r.3, "row {i}");
        assert_eq!(f.booked_at, r.4, "row {i}");
        assert_eq!(f.currency, Currency::CNY);
        assert_eq!((f.gross, f.fee, f.net), (r.5, 0, r.5), "row {i}");
        assert_eq!(f.balance_after, r.6, "row {i}");
        assert_eq!(f.description, r.7, "row {i}");
        assert_eq!(f.payout_id, None);
        assert_eq!(f.line, first_line + i as u64);
    }
}

fn alipay_rows() -> Vec<Row<'static>> {
    use FlowKind::*;
    // Beijing time minus 8 hours.
    vec![
        (
            "54634120775361",
            Some("20121229108765430001"),
            None,
            Payout,
            utc(2012, 12, 29, 14, 15, 30),
            -1_000_000,
            Some(412_639),
            "提现 / 提现到银行卡",
        ),
        (
            "54633781250321",
            Some("2012122948927762"),
            Some("3226533"),
            Refund,
            utc(2012, 12, 29, 13, 30, 11),
            -39_300,
            Some(1_412_639),
            "交易退款 / 退票",
        ),
        (
            "54632446537372",
            Some("2012122923922029"),
            Some("3226563"),
            Fee,
            utc(2012, 12, 29, 13, 2, 6),
            -1_364,
            Some(1_451_939),
            "收费 / 服务费[2012122923922029]",
        ),
        (
            "54632446537371",
            Some("2012122923922029"),
            Some("3226563"),
            Payment,
            utc(2012, 12, 29, 13, 2, 6),
            227_400,
            Some(1_453_303),
            "在线支付",
        ),
        (
            "54629090595412",
            Some("2012122948927762"),
            Some("3226533"),
            Fee,
            utc(2012, 12, 29, 12, 31, 32),
            -236,
            Some(1_225_903),
            "收费 / 服务费[2012122948927762]",
        ),
        (
            "54629090595411",
            Some("2012122948927762"),
            Some("3226533"),
            Payment,
            utc(2012, 12, 29, 12, 31, 32),
            39_300,
            Some(1_226_139),
            "在线支付",
        ),
        (
            "54628332402592",
            Some("2012122926087002"),
            Some("3226491"),
            Fee,
            utc(2012, 12, 29, 12, 24, 45),
            -667,
            Some(1_186_839),
            "收费 / 服务费[2012122926087002]",
        ),
        (
            "54628332402591",
            Some("2012122926087002"),
            Some("3226491"),
            Payment,
            utc(2012, 12, 29, 12, 24, 45),
            111_100,
            Some(1_187_506),
            "在线支付",
        ),
    ]
}

#[test]
fn alipay_account_log_csv() {
    let name = "20888011365400330156_20121229_账务明细.csv";
    let p = parse_fund_flows(
        &fixture(&format!("alipay/{name}")),
        name,
        Provider::Alipay,
        "main",
    )
    .unwrap();
    assert_eq!(p.layout, FundFlowLayout::AlipayAccountLog);
    assert_eq!(p.account_label.as_deref(), Some("20888011365400330156"));
    assert!(p.summary_checked);
    check_rows(&p.flows, Provider::Alipay, &alipay_rows(), 6);
    // The balance column rolls: each row's balance is the next (older) row's plus its gross.
    for w in p.flows.windows(2) {
        assert_eq!(
            w[1].balance_after.unwrap() + w[0].gross,
            w[0].balance_after.unwrap()
        );
    }
    assert_eq!(
        p.payouts,
        vec![Payout {
            provider: Provider::Alipay,
            account: "main".into(),
            payout_id: "20121229108765430001".into(),
            amount: 1_000_000,
            currency: Currency::CNY,
            created_at: utc(2012, 12, 29, 14, 15, 30),
            arrival_date: NaiveDate::from_ymd_opt(2012, 12, 29).unwrap(),
            trace_id: Some("54634120775361".into()),
            automatic: false,
            status: PayoutStatus::Paid,
        }]
    );
}

#[test]
fn alipay_account_log_zip_gives_the_same_rows() {
    let name = "20888011365400330156_20121229.csv.zip";
    let p = parse_fund_flows(
        &fixture(&format!("alipay/{name}")),
        name,
        Provider::Alipay,
        "main",
    )
    .unwrap();
    check_rows(&p.flows, Provider::Alipay, &alipay_rows(), 6);
    assert!(p.summary_checked);
    assert_eq!(p.payouts.len(), 1);
    // An error inside the archive names the archive, the entry and the line; the 汇总
    // entry is ignored whatever the order.
    let csv = fixture("alipay/20888011365400330156_20121229_账务明细.csv");
    let gbk = |s: &str| encoding_rs::GBK.encode(s).0.into_owned();
    let edited = encoding_rs::GBK
        .decode(&csv)
        .0
        .replace("#收入合计：3笔", "#收入合计：4笔");
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (n, body) in [
        ("x_账务明细(汇总).csv", gbk("#汇总")),
        ("x_账务明细.csv", gbk(&edited)),
    ] {
        w.start_file(n, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, &body).unwrap();
    }
    let zip = w.finish().unwrap().into_inner();
    let e = parse_fund_flows(&zip, "a.zip", Provider::Alipay, "main").unwrap_err();
    assert_eq!(
        (e.file.as_str(), e.line),
        ("a.zip:x_账务明细.csv", Some(16))
    );
    assert!(e.reason.contains("#收入合计 states 4 rows"), "{e}");
}

#[test]
fn wechat_fund_flow_bill_plain_and_gzip() {
    use FlowKind::*;
    let rows: Vec<Row> = vec![
        (
            "4200000921202102011530278806",
            Some("4200000921202102011530278806"),
            Some("S20210201093001418822"),
            Payment,
            utc(2021, 2, 1, 1, 30, 12),
            24,
            Some(24),
            "交易",
        ),
        (
            "4200000921202102010010213548",
            Some("4200000921202102011530278806"),
            Some("S20210201093001418822"),
            Fee,
            utc(2021, 2, 1, 1, 30, 12),
            -1,
            Some(23),
            "扣除交易手续费 / 手续费",
        ),
        (
            "4200000920202101197964319284",
            Some("50300806962021020105978994968"),
            Some("S20210201135356381941"),
            Refund,
            utc(2021, 2, 1, 5, 54, 1),
            -1,
            Some(22),
            "退款 / 退款总金额0.01元;含手续费0.00元",
        ),
        (
            "4200000846202101197461830397",
            Some("50300907032021020105978998710"),
            Some("S20210201140044552846"),
            Refund,
            utc(2021, 2, 1, 6, 0, 45),
            -1,
            Some(21),
            "退款 / 退款总金额0.01元;含手续费0.00元",
        ),
        (
            "1601959334202102011705000001",
            Some("1601959334202102011705000001"),
            None,
            Payout,
            utc(2021, 2, 1, 9, 5, 0),
            -20,
            Some(1),
            "提现 / 提现至银行卡",
        ),
    ];
    for name in [
        "1601959334_20210201_BASIC_fundflow.csv",
        "1601959334_20210201_BASIC_fundflow.csv.gz",
    ] {
        let p = parse_fund_flows(
            &fixture(&format!("wechat/{name}")),
            name,
            Provider::Wechat,
            "main",
        )
        .unwrap();
        assert_eq!(p.layout, FundFlowLayout::WechatFundFlow);
        assert!(p.summary_checked);
        assert_eq!(p.account_label, None);
        check_rows(&p.flows, Provider::Wechat, &rows, 2);
        assert_eq!(p.payouts.len(), 1);
        let po = &p.payouts[0];
        assert_eq!(
            (po.payout_id.as_str(), po.amount, po.status),
            ("1601959334202102011705000001", 20, PayoutStatus::Paid)
        );
        assert_eq!(
            po.arrival_date,
            NaiveDate::from_ymd_opt(2021, 2, 1).unwrap()
        );
    }
}

#[test]
fn stripe_payout_reconciliation_itemized() {
    let name = "payout_reconciliation_itemized_5_2026-11-25.csv";
    let p = parse_fund_flows(
        &fixture(&format!("stripe/{name}")),
        name,
        Provider::Stripe,
        "main",
    )
    .unwrap();
    assert_eq!(p.layout, FundFlowLayout::StripeItemized);
    assert!(!p.summary_checked);
    let po1 = "po_1QaZ9f2eZvKYlo2C0x7rT3mW";
    let po2 = "po_1QbF3g2eZvKYlo2C7yK8mN9p";
    let usd = Currency::USD;
    let jpy = Currency::JPY;
    // (flow, source, order, payout, kind, time, currency, gross, fee, net, description)
    let expect: Vec<(
        &str,
        Option<&str>,
        Option<&str>,
        &str,
        FlowKind,
        chrono::DateTime<Utc>,
        Currency,
        i64,
        i64,
        i64,
        &str,
    )> = vec![
        (
            "txn_3QaA1b2eZvKYlo2C1aB2cD3e",
            Some("ch_3QaA1b2eZvKYlo2C1k3l4m5n"),
            Some("A-1001"),
            po1,
            FlowKind::Payment,
            utc(2026, 11, 21, 9, 14, 2),
            usd,
            2500,
            103,
            2397,
            "Order A-1001",
        ),
        (
            "txn_3QaB7c2eZvKYlo2C0fG5hJ6k",
            Some("ch_3QaB7c2eZvKYlo2C0t7u8v9w"),
            Some("A-1002"),
            po1,
            FlowKind::Payment,
            utc(2026, 11, 21, 15, 40, 19),
            usd,
            12000,
            378,
            11622,
            "Order A-1002, gift wrap",
        ),
        (
            "txn_3QaC2d2eZvKYlo2C1lM4nP5q",
            Some("re_3QaC2d2eZvKYlo2C1r6s7t8u"),
            Some("A-1002"),
            po1,
            FlowKind::Refund,
            utc(2026, 11, 22, 10, 2, 45),
            usd,
            -1000,
            0,
            -1000,
            "REFUND FOR CHARGE (Order A-1002)",
        ),
        (
            "txn_1QaD5e2eZvKYlo2C9rS8tU7v",
            Some("dp_1QaD5e2eZvKYlo2C4w5x6y7z"),
            Some("A-1001"),
            po1,
            FlowKind::Dispute,
            utc(2026, 11, 22, 23, 59, 58),
            usd,
            -2500,
            1500,
            -4000,
            "Chargeback withdrawal for ch_3QaA1b2eZvKYlo2C1k3l4m5n",
        ),
        (
            "txn_1QaE8f2eZvKYlo2C3wX2yZ1a",
            None,
            None,
            po1,
            FlowKind::Fee,
            utc(2026, 11, 23, 4, 0, 11),
            usd,
            -200,
            0,
            -200,
            "Radar for Fraud Teams (Nov 21 - Nov 22)",
        ),
        (
            "txn_3QbG4h2eZvKYlo2C2bC3dE4f",
            Some("ch_3QbG4h2eZvKYlo2C2g5h6i7j"),
            Some("J-77"),
            po2,
            FlowKind::Payment,
            utc(2026, 11, 22, 2, 11, 9),
            jpy,
            3000,
            108,
            2892,
            "Order J-77",
        ),
        (
            "txn_3QbH5i2eZvKYlo2C0gH1iJ2k",
            Some("re_3QbH5i2eZvKYlo2C0o1p2q3r"),
            Some("J-77"),
            po2,
            FlowKind::Refund,
            utc(2026, 11, 23, 8, 30, 0),
            jpy,
            -500,
            0,
            -500,
            "refund",
        ),
    ];
    assert_eq!(p.flows.len(), expect.len());
    for (i, (f, e)) in p.flows.iter().zip(&expect).enumerate() {
        assert_eq!(f.provider, Provider::Stripe);
        assert_eq!(
            (
                f.flow_id.as_str(),
                f.source_id.as_deref(),
                f.order_no.as_deref(),
                f.payout_id.as_deref(),
                f.kind,
                f.booked_at,
                f.currency,
                f.gross,
                f.fee,
                f.net,
                f.description.as_str()
            ),
            (e.0, e.1, e.2, Some(e.3), e.4, e.5, e.6, e.7, e.8, e.9, e.10),
            "row {i}"
        );
        assert_eq!(f.balance_after, None);
        assert_eq!(f.line, i as u64 + 2);
    }
    let payout = |id: &str, amount, currency, day| Payout {
        provider: Provider::Stripe,
        account: "main".into(),
        payout_id: id.to_string(),
        amount,
        currency,
        created_at: utc(2026, 11, day, 0, 0, 0),
        arrival_date: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
        trace_id: None,
        automatic: true,
        status: PayoutStatus::Paid,
    };
    assert_eq!(
        p.payouts,
        vec![payout(po1, 8819, usd, 24), payout(po2, 2392, jpy, 25)]
    );
}

/// The trade statements' `balance_change_from_activity.itemized.3` sample reads as fund
/// flows too: no automatic payout, so no payouts; order numbers from `payment_metadata[order_id]`.
#[test]
fn stripe_balance_change_from_activity_sample() {
    let bytes = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "../../../fixtures/samples/stripe/balance_change_from_activity_itemized_2026-11-22.csv",
    ))
    .unwrap();
    let p = parse_fund_flows(&bytes, "b.csv", Provider::Stripe, "main").unwrap();
    assert_eq!(p.layout, FundFlowLayout::StripeItemized);
    assert!(p.payouts.is_empty());
    let first = &p.flows[0];
    assert_eq!(
        (
            first.flow_id.as_str(),
            first.kind,
            first.gross,
            first.fee,
            first.net,
            first.order_no.as_deref()
        ),
        (
            "txn_3QxA1bC2dE3fG4hI0aB1cD2e",
            FlowKind::Payment,
            2500,
            103,
            2397,
            Some("SO-10041")
        )
    );
    assert_eq!(first.booked_at, utc(2026, 11, 22, 1, 14, 9));
    assert_eq!(first.description, "Order SO-10041, 2 items");
    assert!(p
        .flows
        .iter()
        .all(|f| f.payout_id.is_none() && f.net == f.gross - f.fee));
}
